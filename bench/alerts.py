"""``python -m bench.alerts --customers 100000``: the cost of one page of ``alerts`` on a big graph.

The graph is bench/kpis.py's (made inside Neo4j by Cypher, kept in ``--work`` and rebuilt when
the size differs), its time deposits given a maturity date (one a day over a year). The migration
is applied on every run (so a new index is there). Then the page query of graph/queries/alerts.py
(``--first`` alerts, with the API's parameters: resolvers/alerts._params) runs once to warm up
and ``--repeat`` times timed, for an admin, one branch manager and one relationship manager;
PROFILE gives its database hits. Figures are printed. Runs its own Neo4j (port
``BENCH_NEO4J_PORT``, default 7698, stopped when this process ends).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.kpis import log
from graph.queries.bench import KPI_GRAPH

AS_OF = dt.date(2026, 10, 31)


def total_hits(plan: Any) -> int:
    return plan.get("dbHits", 0) + sum(total_hits(c) for c in plan.get("children", []))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--work", type=Path, default=Path(".c360/bench/alerts"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--first", type=int, default=20)
    args = ap.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    os.environ.pop("NEO4J_URI", None)
    os.environ.update(
        NEO4J_LOCAL_PORT=os.environ.get("BENCH_NEO4J_PORT", "7698"),
        NEO4J_DATA_DIR=str(work / "neo4j"),
        NEO4J_HEAP=os.environ.get("NEO4J_HEAP", "1g"),
        NEO4J_PAGECACHE=os.environ.get("NEO4J_PAGECACHE", "1g"),
        C360_HOME=str(work),
    )
    c360 = str(Path(sys.executable).parent / "c360")
    subprocess.run([c360, "neo4j", "start", "--stop-with", str(os.getpid())], check=True)

    from auth import enforce
    from auth.policy import Role
    from auth.principal import Principal
    from core.settings import get_settings
    from graph import migrate
    from graph.driver import create_sync_driver
    from graph.queries import alerts as qa
    from graph.queries import loads as lq
    from graph.queries.customers import parts_for
    from resolvers.alerts import _params

    settings = get_settings()
    db = settings.neo4j_database
    with create_sync_driver(settings) as driver:
        [count] = driver.execute_query(qa.BENCH_CUSTOMERS, database_=db)[0]
        if count["n"] != args.customers:
            log(f"building a graph of {args.customers:,} customers (found {count['n']:,})")
            lq.wipe(driver, db)
            migrate.apply(driver, database=db)
            params = {"n": args.customers, "branches": max(3, args.customers // 5000),
                      "rms": max(10, args.customers // 500)}  # fmt: skip
            for name, query in [*KPI_GRAPH, ("maturities", qa.BENCH_MATURITIES)]:
                started = time.perf_counter()
                with driver.session(database=db) as session:
                    session.run(query, params).consume()
                log(f"  {name}: {time.perf_counter() - started:.0f} s")
        migrate.apply(driver, database=db)
        rm = driver.execute_query(qa.BENCH_RM, database_=db).records[0]
        callers = {
            "admin": Principal(subject="bench", roles=frozenset({Role.ADMIN})),
            "branch manager": Principal(
                subject="bench", roles=frozenset({Role.BRANCH_MANAGER}), branch_id=rm["b"]
            ),
            "relationship manager": Principal(
                subject="bench", roles=frozenset({Role.RELATIONSHIP_MANAGER}), employee_id=rm["e"]
            ),
        }

        class Ctx:
            def __init__(self, principal: Principal) -> None:
                self.settings, self.principal = settings, principal

        print(f"\nalerts page (first={args.first}) on {args.customers:,} customers as of "
              f"{AS_OF}, {args.repeat} timed runs after one warm-up")  # fmt: skip
        print(f"{'caller':22} {'alerts':>8} {'median ms':>10} {'max ms':>8} {'db hits':>12}")
        now = dt.datetime.now(dt.UTC)
        for who, principal in callers.items():
            scope = enforce.row_scope(principal)
            params = {**_params(Ctx(principal), as_of=AS_OF, now=now, kinds=None),  # type: ignore[arg-type]
                      "limit": args.first, "after_due": None, "after_rank": None,
                      "after_id": None}  # fmt: skip
            text = qa.page_query(scope.kind, parts_for(["id", "name", "tier"]))
            times, total = [], 0
            with driver.session(database=db) as s:
                for run in range(args.repeat + 1):
                    started = time.perf_counter()
                    record = s.run(text, params).single()
                    assert record is not None  # an aggregate: always one row
                    total = record["total"]
                    if run:
                        times.append((time.perf_counter() - started) * 1000)
                profile = s.run("PROFILE " + text, params).consume().profile
            print(f"{who:22} {total:8,} {statistics.median(times):10.0f} {max(times):8.0f} "
                  f"{total_hits(profile):12,}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
