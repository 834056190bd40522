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

BUILD = [
    ("branches", """UNWIND range(1, $branches) AS b
        CREATE (:Branch {branch_id: 'KB' + right('0000' + toString(b), 4), name: 'Branch ' + b})"""),
    ("employees", """UNWIND range(1, $rms) AS e
        MATCH (b:Branch {branch_id: 'KB' + right('0000' + toString(e % $branches + 1), 4)})
        CREATE (:Employee {employee_id: 'KE' + right('00000' + toString(e), 5),
                           title: 'Relationship Manager', branch_id: b.branch_id})-[:WORKS_AT]->(b)"""),
    ("customers", """UNWIND range(0, $n - 1) AS i
        CALL (i) {
          CREATE (:Customer {customer_id: 'K' + toString(i), name: 'Customer ' + i,
            birth_date: date('1960-01-01') + duration({days: i % 15000}),
            phone: '+86138' + right('00000000' + toString(i), 8),
            email: CASE WHEN i % 5 = 0 THEN null ELSE 'c' + i + '@example.com' END,
            address: 'Road ' + i, city: 'City ' + (i % 50),
            tier: CASE WHEN i % 100 = 0 THEN 'CORE' WHEN i % 10 = 0 THEN 'KEY' ELSE 'ORDINARY' END,
            previous_tier: CASE WHEN i % 97 = 0 THEN 'KEY' END,
            downgrade_risk_level: ['NONE', 'NONE', 'LOW', 'MEDIUM', 'HIGH'][i % 5],
            aum: toFloat(i % 2000000), onboarded_at: date('2015-01-01') + duration({days: i % 3000}),
            scored_at: datetime('2026-10-31T02:00:00Z')})
        } IN TRANSACTIONS OF 50000 ROWS"""),
    ("managers", """MATCH (c:Customer) WHERE toInteger(substring(c.customer_id, 1)) % 10 < 6
        CALL (c) {
          MATCH (e:Employee {employee_id: 'KE' + right('00000' +
                 toString(toInteger(substring(c.customer_id, 1)) % $rms + 1), 5)})
          CREATE (e)-[:MANAGES {since: date('2020-01-01')}]->(c)
        } IN TRANSACTIONS OF 50000 ROWS"""),
    ("accounts", """MATCH (c:Customer)
        WITH c, toInteger(substring(c.customer_id, 1)) AS i
        CALL (c, i) {
          UNWIND range(0, 1) AS k
          CREATE (c)-[:HOLDS {role: 'PRIMARY'}]->(:Account {account_id: c.customer_id + '-' + k,
            product_type: ['SAVINGS', 'TIME_DEPOSIT'][k], balance: toFloat(i % 100000),
            status: CASE WHEN i % 211 = 0 THEN 'CLOSED' ELSE 'OPEN' END,
            closed_at: CASE WHEN i % 211 = 0 THEN date('2025-01-01') + duration({days: i % 700}) END})
        } IN TRANSACTIONS OF 20000 ROWS"""),
    ("interactions", """MATCH (c:Customer)
        WITH c, toInteger(substring(c.customer_id, 1)) AS i
        CALL (c, i) {
          UNWIND range(0, 2) AS k
          WITH c, i, k, datetime('2024-11-01T00:00:00Z') + duration({hours: (i * 7 + k * 4111) % 17520}) AS at,
               CASE WHEN (i + k) % 10 = 0 THEN 'COMPLAINT' WHEN (i + k) % 10 < 4 THEN 'SURVEY'
                    ELSE 'SERVICE' END AS kind
          CREATE (c)-[:HAD]->(:Interaction {interaction_id: c.customer_id + '-i' + k, kind: kind,
            occurred_at: at, channel: 'APP',
            severity: CASE WHEN kind = 'COMPLAINT' AND i % 7 = 0 THEN 'MAJOR'
                           WHEN kind = 'COMPLAINT' THEN 'MINOR' END,
            first_response_at: CASE WHEN kind = 'COMPLAINT' THEN at + duration({hours: i % 30}) END,
            resolved_at: CASE WHEN kind = 'COMPLAINT' AND i % 9 <> 0
                              THEN at + duration({hours: 2 + i % 40}) END,
            satisfaction: CASE WHEN kind = 'SURVEY' THEN 1 + i % 5 END,
            nps: CASE WHEN kind = 'SURVEY' THEN i % 11 END})
        } IN TRANSACTIONS OF 20000 ROWS"""),
    ("tier changes", """MATCH (c:Customer) WHERE toInteger(substring(c.customer_id, 1)) % 50 = 0
        CALL (c) {
          WITH c, toInteger(substring(c.customer_id, 1)) AS i
          CREATE (:TierChange {change_id: c.customer_id + ':tc', customer_id: c.customer_id,
            from_tier: CASE WHEN i % 100 = 0 THEN 'KEY' ELSE 'CORE' END, to_tier: c.tier,
            direction: CASE WHEN i % 100 = 0 THEN 'UP' ELSE 'DOWN' END,
            changed_at: date('2025-03-31') + duration({months: 3 * (i % 6)})})-[:OF]->(c)
        } IN TRANSACTIONS OF 20000 ROWS"""),
]  # fmt: skip


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
    from graph.queries import loads as lq
    from resolvers import kpis as k

    settings = get_settings()
    db = settings.neo4j_database
    with create_sync_driver(settings) as driver:
        [count] = driver.execute_query("MATCH (c:Customer) RETURN count(c) AS n", database_=db)[0]
        if count["n"] != args.customers:
            log(f"building a graph of {args.customers:,} customers (found {count['n']:,})")
            lq.wipe(driver, db)
            migrate.apply(driver, database=db)
            params = {
                "n": args.customers,
                "branches": max(3, args.customers // 5000),
                "rms": max(10, args.customers // 500),
            }
            for name, query in BUILD:
                started = time.perf_counter()
                with driver.session(database=db) as session:
                    session.run(query, params).consume()
                log(f"  {name}: {time.perf_counter() - started:.0f} s")
        period = parse(args.period)
        now = dt.datetime.now(dt.UTC)
        [[branch], [rm]] = [
            driver.execute_query(q, database_=db)[0][0]
            for q in (
                "MATCH (b:Branch) RETURN b.branch_id ORDER BY b.branch_id LIMIT 1",
                "MATCH (e:Employee) RETURN e.employee_id ORDER BY e.employee_id LIMIT 1",
            )
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
