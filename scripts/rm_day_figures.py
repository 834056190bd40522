"""The relationship manager's day on the demo bank (issue 22), through the API: churn risk and the
planted leavers it flags, follow-ups due and covered, the at-risk and win-back lists, alerts.

The graph must hold the demo bank, loaded and scored (``make demo``, or ``c360 generate
--customers 2000 --seed 42 --out B && c360 load B && c360 score``); ``--bank B`` is that folder
(its ground_truth/scenarios.csv names the planted DORMANT and DECLINER customers). Read only:
GraphQL to the app in this process with development tokens, as admin and as one RM. Assignments
(unassigned CORE and KEY customers, before and after): scripts/coverage_demo.py.

    PYTHONPATH=. python scripts/rm_day_figures.py --bank .c360/bank [--as-of 2026-10-31]
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from c360.app import create_app
from core.settings import get_settings
from scripts.coverage_demo import Api

ADMIN = {"role": "admin"}
COUNT = """query($filter: CustomerFilter) { customers(filter: $filter, first: 1) { totalCount } }"""
FLAGGED = """query($after: String) {
  customers(filter: {churnRisk: [MEDIUM, HIGH]}, first: 100, after: $after) {
    pageInfo { hasNextPage endCursor } nodes { id } } }"""
LISTS = """query($asOf: Date) {
  downgrade: atRiskCustomers(kind: DOWNGRADE, first: 1) { totalCount }
  churn: atRiskCustomers(kind: CHURN, first: 1) { totalCount }
  any: atRiskCustomers(kind: ANY, first: 1) { totalCount }
  winBack: winBackCustomers(first: 1, asOf: $asOf) { totalCount }
  due: followUpsDue(first: 1, asOf: $asOf) { totalCount }
  overdue: followUpsDue(first: 1, overdueOnly: true, asOf: $asOf) { totalCount }
  coverage: followUpCoverage(asOf: $asOf) {
    target tiers { tier intervalDays customers covered overdue share meetsTarget } } }"""
ALERTS = """query($after: String, $asOf: Date) {
  alerts(first: 100, after: $after, asOf: $asOf) {
    pageInfo { hasNextPage endCursor } nodes { kind } } }"""


def pages(api: Api, query: str, who: dict, field: str, **variables: Any) -> list[dict]:
    nodes: list[dict] = []
    after = None
    while True:
        page = api.ask(query, who, after=after, **variables)[field]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bank", type=Path, required=True, help="the generated bank's folder")
    parser.add_argument("--as-of", default=None, help="the day of the lists (default: today)")
    parser.add_argument("--employee", default="E00002", help="the RM whose day is shown")
    args = parser.parse_args()
    settings = get_settings()
    with TestClient(create_app(settings)) as client:
        api = Api(client, settings)
        total = api.ask(COUNT, ADMIN)["customers"]["totalCount"]
        levels = {
            level: api.ask(COUNT, ADMIN, filter={"churnRisk": [level]})["customers"]["totalCount"]
            for level in ("HIGH", "MEDIUM", "LOW", "NONE")
        }
        flagged = {n["id"] for n in pages(api, FLAGGED, ADMIN, "customers")}
        planted: dict[str, set[str]] = {}
        with (args.bank / "ground_truth" / "scenarios.csv").open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                planted.setdefault(row["scenario"], set()).add(f"C-{row['core_source_id']}")
        share = 100 * (levels["HIGH"] + levels["MEDIUM"]) / total
        print(f"customers {total:,}; churn risk {levels}; MEDIUM+HIGH {share:.1f} %")
        for scenario in ("DORMANT", "DECLINER"):
            ids = planted.get(scenario, set())
            print(f"planted {scenario}: {len(ids & flagged)} of {len(ids)} flagged MEDIUM or HIGH")
        rm = {"role": "relationship_manager", "employee_id": args.employee}
        for who, label in ((ADMIN, "admin"), (rm, f"RM {args.employee}")):
            lists = api.ask(LISTS, who, asOf=args.as_of)
            print(
                f"{label}: at risk downgrade {lists['downgrade']['totalCount']}, churn "
                f"{lists['churn']['totalCount']}, any {lists['any']['totalCount']}; win-back "
                f"{lists['winBack']['totalCount']}; follow-ups due {lists['due']['totalCount']} "
                f"(overdue {lists['overdue']['totalCount']})"
            )
            for t in lists["coverage"]["tiers"]:
                print(
                    f"  coverage {t['tier']} (every {t['intervalDays']} days): {t['covered']} of "
                    f"{t['customers']} = {t['share']} (target {lists['coverage']['target']})"
                )
            kinds = Counter(a["kind"] for a in pages(api, ALERTS, who, "alerts", asOf=args.as_of))
            print(f"  alerts {sum(kinds.values())}: {dict(sorted(kinds.items()))}")


if __name__ == "__main__":
    main()
