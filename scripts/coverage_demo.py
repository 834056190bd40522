"""Coverage on the demo bank (issue 22), through the API: the CORE and KEY customers without a
relationship manager, before and after the manager of each branch assigns them to the branch's
relationship managers (the one with the smallest book first).

The graph must hold the demo bank, loaded and scored (``make demo``, or ``c360 generate
--customers 2000 --seed 42 --out X && c360 load X && c360 score``). It writes: the assignments
are real, audited mutations. GraphQL over HTTP to the app in this process, with development
tokens (as ``c360 token`` issues them), against the graph of the environment's settings.

    PYTHONPATH=. python scripts/coverage_demo.py            # measure, assign, measure again
    PYTHONPATH=. python scripts/coverage_demo.py --dry-run  # measure only
"""

from __future__ import annotations

import argparse
import uuid
from collections import Counter
from typing import Any

from starlette.testclient import TestClient

from auth.policy import Role
from auth.tokens import DevTokenRequest, issue_dev_token
from c360.app import create_app
from core.settings import Settings, get_settings

UNASSIGNED = """query($after: String, $branchId: ID) {
  unassignedCustomers(first: 100, after: $after, branchId: $branchId) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id tier aum homeBranch { id } } } }"""
COVERAGE = """query($branchId: ID) { branchCoverage(branchId: $branchId) {
  branch { id name } customers withRelationshipManager withoutRelationshipManager
  tiers { tier customers withRelationshipManager withoutRelationshipManager }
  relationshipManagers { employee { id } customers } } }"""
ASSIGN = """mutation($input: AssignRelationshipManagerInput!) {
  assignRelationshipManager(input: $input) { customerId relationshipManager { id } } }"""
LISTED = ("CORE", "KEY")


class Api:
    def __init__(self, client: TestClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    def ask(self, query: str, who: dict[str, Any], **variables: Any) -> dict[str, Any]:
        claims = dict(who)
        token = issue_dev_token(
            self.settings, DevTokenRequest(role=Role(claims.pop("role")), **claims)
        )
        resp = self.client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        body = resp.json()
        if resp.status_code != 200 or body.get("errors"):
            raise SystemExit(f"{query.split('(')[0].strip()}: {resp.status_code} {body}")
        return body["data"]

    def unassigned(self, who: dict[str, Any], branch: str | None = None) -> list[dict[str, Any]]:
        nodes: list[dict[str, Any]] = []
        after = None
        while True:
            page = self.ask(UNASSIGNED, who, after=after, branchId=branch)["unassignedCustomers"]
            nodes += page["nodes"]
            if not page["pageInfo"]["hasNextPage"]:
                return nodes
            after = page["pageInfo"]["endCursor"]


ADMIN = {"role": "admin"}


def figures(api: Api) -> tuple[Counter[str], list[str], int]:
    """Unassigned customers per tier (whole bank), the branches they are at home in, and how
    many have no home branch (no branch manager can assign them)."""
    nodes = api.unassigned(ADMIN)
    tiers = Counter(n["tier"] or "UNSCORED" for n in nodes)
    branches = sorted({n["homeBranch"]["id"] for n in nodes if n["homeBranch"]})
    homeless = sum(1 for n in nodes if not n["homeBranch"] and n["tier"] in LISTED)
    return tiers, branches, homeless


def assign_branch(api: Api, branch: str) -> int:
    """The branch manager assigns every unassigned CORE and KEY customer of the branch to the
    branch's relationship manager with the smallest book; returns how many."""
    manager = {"role": "branch_manager", "branch_id": branch}
    coverage = api.ask(COVERAGE, manager)["branchCoverage"]
    books = {r["employee"]["id"]: r["customers"] for r in coverage["relationshipManagers"]}
    if not books:
        print(f"  {branch}: no relationship manager works here")
        return 0
    done = 0
    for node in api.unassigned(manager):
        if node["tier"] not in LISTED:
            continue  # CORE then KEY come first: the rest are ORDINARY or not scored
        rm = min(books, key=lambda e: (books[e], e))
        api.ask(
            ASSIGN,
            manager,
            input={
                "clientMutationId": str(uuid.uuid4()),
                "customerId": node["id"],
                "employeeId": rm,
            },
        )
        books[rm] += 1
        done += 1
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="measure only, assign nobody")
    args = parser.parse_args()
    settings = get_settings().model_copy(
        update={"rate_limit_per_second": 10_000.0, "rate_limit_burst": 100_000}
    )
    with TestClient(create_app(settings)) as client:
        api = Api(client, settings)
        before, branches, homeless = figures(api)
        print(
            f"before: unassigned CORE {before['CORE']}, KEY {before['KEY']} "
            f"(ORDINARY {before['ORDINARY']}); {len(branches)} branches; "
            f"CORE/KEY without a home branch: {homeless}"
        )
        if args.dry_run:
            return
        assigned = 0
        for branch in branches:
            n = assign_branch(api, branch)
            print(f"  {branch}: its manager assigned {n}")
            assigned += n
        after, _, homeless = figures(api)
        print(
            f"after {assigned} assignments: unassigned CORE {after['CORE']}, KEY {after['KEY']} "
            f"(ORDINARY {after['ORDINARY']}); CORE/KEY without a home branch: {homeless}"
        )


if __name__ == "__main__":
    main()
