"""``python -m bench.kpis --customers 1000000``: how long the KPI queries take on a bank-size graph.

The graph is made inside Neo4j by Cypher (customers with tiers, risks and AUM; two accounts each,
some closed; three interactions each over two years: complaints with their response and
resolution times, surveys with CSAT and NPS; tier changes; branches and RMs managing 60 % of the
customers), because the point is the query's cost, not the loader's (``make bench SIZE=bank``
measures that). It is kept between runs in ``--work`` (rebuilt when the size differs). Then each
KPI query of the API (graph/queries/kpis.py, with the API's parameters: resolvers/kpis.request)
runs once to warm up and ``--repeat`` times timed: a bank-wide quarter against the previous one,
a branch, an RM, the ranking of every branch and an 8-quarter trend. Figures are printed; the
target (issue 23) is a bank-wide quarter in at most 2 s."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def log(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--work", type=Path, default=Path(".c360/bench/kpis"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--period", default="2026Q3")
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
    from resolvers import kpis as k

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
        period = parse(args.period)
        now = dt.datetime.now(dt.UTC)
        [[branch], [rm]] = [
            driver.execute_query(q, database_=db)[0][0]
            for q in (bq.FIRST_BRANCH, bq.FIRST_EMPLOYEE)
        ]
        cases = [
            ("bank, quarter vs previous", k.KpiGroups.BANK, None, {"current": period, "previous": period.previous()}),
            ("one branch, quarter vs previous", k.KpiGroups.BRANCH, branch, {"current": period, "previous": period.previous()}),
            ("one RM, quarter vs previous", k.KpiGroups.RELATIONSHIP_MANAGER, rm, {"current": period, "previous": period.previous()}),
            ("ranking of every branch, quarter", k.KpiGroups.EVERY_BRANCH, None, {"current": period}),
            ("bank trend, 8 quarters", k.KpiGroups.BANK, None, {p.label: p for p in period.back(8)}),
        ]  # fmt: skip
        print(f"\nKPI queries on {args.customers:,} customers, {args.period}, "
              f"{args.repeat} timed runs after one warm-up (seconds)")  # fmt: skip
        print(f"{'query':40} {'median':>8} {'max':>8}")
        for label, groups, group_id, periods in cases:
            query, params = k.request(settings, groups, group_id, periods, now)
            times = []
            for run in range(args.repeat + 1):
                started = time.perf_counter()
                driver.execute_query(query, params, database_=db, routing_="r")
                if run:
                    times.append(time.perf_counter() - started)
            print(f"{label:40} {statistics.median(times):8.2f} {max(times):8.2f}", flush=True)
        print("target: a bank-wide quarter in at most 2 s (issue 23)")


if __name__ == "__main__":
    main()
