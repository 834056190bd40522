"""``python -m bench.kpis --customers 1000000``: how long the KPI queries take on a bank-size graph.

The graph is made inside Neo4j by Cypher (customers with tiers, risks and AUM; two accounts each,
some closed; three interactions each over two years: complaints with their response and
resolution times, surveys with CSAT and NPS; tier changes; branches and RMs managing 60 % of the
customers), because the point is the query's cost, not the loader's (``make bench SIZE=bank``
measures that). It is kept between runs in ``--work`` (rebuilt when the size differs). Then,
through the resolver the API uses (resolvers/kpis.count): each KPI read counted live
(``--live-repeat`` runs; ``--no-live`` skips them: minutes at a million), the snapshots
``c360 score`` writes after scoring (timed), and each read again from the snapshot (one warm-up,
``--repeat`` timed). The reads: a bank-wide quarter against the previous one, a branch, an RM,
the ranking of every branch and an 8-quarter trend. Figures are printed side by side; the target
(issue 23) is a bank-wide quarter in at most 2 s."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def log(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--work", type=Path, default=Path(".c360/bench/kpis"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--period", default="2026Q3")
    ap.add_argument("--live-repeat", type=int, default=1, help="timed live counts per query")
    ap.add_argument("--no-live", action="store_true", help="time the snapshot path only")
    args = ap.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    os.environ.pop("NEO4J_URI", None)
    os.environ.update(
        NEO4J_LOCAL_PORT=os.environ.get("BENCH_NEO4J_PORT", "7698"),
        NEO4J_DATA_DIR=str(work / "neo4j"),
        NEO4J_HEAP=os.environ.get("NEO4J_HEAP", "2g"),
        NEO4J_PAGECACHE=os.environ.get("NEO4J_PAGECACHE", "2g"),
        C360_HOME=str(work),
    )
    c360 = str(Path(sys.executable).parent / "c360")
    subprocess.run([c360, "neo4j", "start", "--stop-with", str(os.getpid())], check=True)

    from core.periods import parse
    from core.settings import get_settings
    from graph import migrate
    from graph.driver import create_sync_driver
    from graph.queries import bench as bq
    from graph.queries import loads as lq

    settings = get_settings()
    db = settings.neo4j_database
    with create_sync_driver(settings) as driver:
        [count] = driver.execute_query(bq.label_count("Customer"), database_=db)[0]
        if count["n"] != args.customers:
            log(f"building a graph of {args.customers:,} customers (found {count['n']:,})")
            lq.wipe(driver, db)
            migrate.apply(driver, database=db)
            params = {
                "n": args.customers,
                "branches": max(3, args.customers // 5000),
                "rms": max(10, args.customers // 500),
            }
            for name, query in bq.KPI_GRAPH:
                started = time.perf_counter()
                with driver.session(database=db) as session:
                    session.run(query, params).consume()
                log(f"  {name}: {time.perf_counter() - started:.0f} s")
        figures = measure(
            driver,
            settings,
            parse(args.period),
            repeat=args.repeat,
            live_repeat=0 if args.no_live else args.live_repeat,
        )
    print()
    print(table(figures, args.customers))


def measure(
    driver: Any, settings: Any, period: Any, *, repeat: int, live_repeat: int
) -> dict[str, Any]:
    """Each read counted live (``live_repeat`` runs, 0: none), the snapshots written, each read
    from the snapshot (median of ``repeat`` after a warm-up): seconds, for bench.run too."""
    from graph.queries import bench as bq
    from resolvers import kpis as k
    from scoring.kpi_snapshots import write_snapshots

    db = settings.neo4j_database
    [[branch], [rm]] = [
        driver.execute_query(q, database_=db)[0][0] for q in (bq.FIRST_BRANCH, bq.FIRST_EMPLOYEE)
    ]
    pair = {"current": period, "previous": period.previous()}
    cases = [
        ("bank, quarter vs previous", k.KpiGroups.BANK, None, pair),
        ("one branch, quarter vs previous", k.KpiGroups.BRANCH, branch, pair),
        ("one RM, quarter vs previous", k.KpiGroups.RELATIONSHIP_MANAGER, rm, pair),
        ("ranking of every branch, quarter", k.KpiGroups.EVERY_BRANCH, None, {"current": period}),
        ("bank trend, 8 quarters", k.KpiGroups.BANK, None, {p.label: p for p in period.back(8)}),
    ]  # fmt: skip
    reads: dict[str, dict[str, float]] = {label: {} for label, *_ in cases}
    if live_repeat:
        log("live counts (what a report costs without a snapshot)")
        for label, groups, group_id, periods in cases:
            times = asyncio.run(_timed(settings, groups, group_id, periods, True, live_repeat))
            reads[label]["live"] = statistics.median(times)
            log(f"  {label}: {reads[label]['live']:.2f} s")
    log("writing the snapshots (what c360 score adds after scoring)")
    summary = write_snapshots(
        driver, database=db, settings=settings, progress=lambda stage, n: log(f"  {stage}: {n:,}")
    )
    log(f"  {summary.snapshots:,} snapshots, {summary.periods} periods, {summary.seconds:.1f} s")
    for label, groups, group_id, periods in cases:
        times = asyncio.run(_timed(settings, groups, group_id, periods, False, repeat))
        reads[label] |= {"snapshot": statistics.median(times), "snapshot_max": max(times)}
    return {
        "period": period.label,
        "repeat": repeat,
        "live_repeat": live_repeat,
        "snapshot_seconds": round(summary.seconds, 1),
        "snapshots": summary.snapshots,
        "snapshot_periods": summary.periods,
        "reads": reads,
    }


def table(f: dict[str, Any], customers: int) -> str:
    """The figures as a markdown table, live and snapshot side by side."""
    lines = [
        f"KPI reads on {customers:,} customers, {f['period']} (seconds; live: "
        f"{f['live_repeat']} run(s), snapshot: median of {f['repeat']} after a warm-up)",
        "",
        "| read | live | snapshot | snapshot max | live / snapshot |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, r in f["reads"].items():
        live = r.get("live")
        ratio = f"{live / r['snapshot']:,.0f}x" if live is not None else "-"
        lines.append(
            f"| {label} | {'-' if live is None else f'{live:.2f}'} | {r['snapshot']:.3f} "
            f"| {r['snapshot_max']:.3f} | {ratio} |"
        )
    lines += [
        "",
        f"Snapshots written after scoring: {f['snapshot_seconds']} s ({f['snapshots']:,} nodes, "
        f"{f['snapshot_periods']} periods). Target (issue 23): a bank-wide quarter in at most 2 s.",
    ]
    return "\n".join(lines)


async def _timed(
    settings: Any,
    groups: Any,
    group_id: str | None,
    periods: dict[str, Any],
    live: bool,
    repeat: int,
) -> list[float]:
    """Seconds of each timed count (after one untimed warm-up when ``repeat`` > 1), through the
    resolver the API uses."""
    from graph.driver import create_async_driver
    from resolvers import kpis as k

    driver = create_async_driver(settings)
    try:
        reader = k.DriverReader(driver, settings)
        times = []
        for run in range(repeat + (1 if repeat > 1 else 0)):
            started = time.perf_counter()
            read = await k.count(reader, groups, group_id, periods, live=live)
            assert read.source is (k.KpiSource.LIVE if live else k.KpiSource.SNAPSHOT), read.source
            if repeat <= 1 or run:
                times.append(time.perf_counter() - started)
        return times
    finally:
        await driver.close()


if __name__ == "__main__":
    main()
