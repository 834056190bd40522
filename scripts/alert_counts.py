"""Alerts per kind for one caller, through the API (issue 22's figures).

Runs the app in-process against the configured graph (NEO4J_URI ...), asks ``alerts`` as the
given role page by page (100 a page) and prints the count and the amount per kind, the number of
customers, and the graph round trips of each page::

    NEO4J_URI=bolt://127.0.0.1:7687 python scripts/alert_counts.py --role relationship_manager \\
        --employee E00002 [--as-of 2026-10-31]
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict

from starlette.testclient import TestClient

from auth.policy import Role
from auth.tokens import DevTokenRequest, issue_dev_token
from c360.app import create_app
from core.settings import get_settings

QUERY = """query($after: String, $asOf: Date) { alerts(first: 100, after: $after, asOf: $asOf) {
  totalCount pageInfo { hasNextPage endCursor }
  nodes { kind amount currency customer { id } } } }"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", default="admin", choices=[r.value for r in Role])
    parser.add_argument("--employee", help="employee_id claim (relationship_manager)")
    parser.add_argument("--branch", help="branch_id claim (branch_manager)")
    parser.add_argument("--as-of", help="the as-of date (default today)")
    args = parser.parse_args()
    settings = get_settings()
    token = issue_dev_token(
        settings,
        DevTokenRequest(role=Role(args.role), employee_id=args.employee, branch_id=args.branch),
    )
    headers = {"Authorization": f"Bearer {token}"}
    counts: Counter[str] = Counter()
    amounts: dict[str, float] = defaultdict(float)
    customers: set[str] = set()
    trips: list[int] = []
    after = None
    with TestClient(create_app(settings)) as client:
        while True:
            variables = {"after": after, "asOf": args.as_of}
            body = client.post(
                "/graphql", json={"query": QUERY, "variables": variables}, headers=headers
            ).json()
            if body.get("errors"):
                raise SystemExit(f"the API answered: {body['errors']}")
            page = body["data"]["alerts"]
            trips.append(body.get("extensions", {}).get("roundTrips", 0))
            for alert in page["nodes"]:
                counts[alert["kind"]] += 1
                amounts[alert["kind"]] += alert["amount"] or 0.0
                customers.add(alert["customer"]["id"])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    who = args.role + (f" {args.employee}" if args.employee else "")
    print(f"{who}, as of {args.as_of or 'today'}: {page['totalCount']} alerts, "
          f"{len(customers)} customers, round trips per page {trips}")  # fmt: skip
    for kind, n in sorted(counts.items()):
        money = f"  amount {amounts[kind]:,.0f}" if amounts[kind] else ""
        print(f"  {kind:<24} {n:>5}{money}")


if __name__ == "__main__":
    main()
