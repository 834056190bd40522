"""The customer lists of issue 22 on a hand-built graph, over real HTTP and Neo4j: each new
CustomerFilter (unassigned, churnRisk, lifecycleStages, tierChangedSince + tierDirection) against
an independent Cypher query written here, atRiskCustomers by kind (membership and order), and
the win-back list (downgraded at one of the last two reviews, not moved up since).
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from neo4j import RoutingControl
from starlette.testclient import TestClient

from core.followups import last_reviews
from graph import migrate
from graph.queries.scope import ACCESS_EXPR, ScopeKind
from tests.conftest import wipe

N = 40
LEVELS = ["NONE", "LOW", "MEDIUM", "HIGH"]
STAGES = ["PROSPECT", "NEW", "GROWING", "MATURE", "DECLINING", "DORMANT", "CHURNED"]
RANK = {level: i for i, level in enumerate(LEVELS)}


def cid(i: int) -> str:
    return f"L{i:03d}"


# Tier changes per customer by i % 5 (and one more for i % 10 == 4): (direction, day).
CHANGES = {
    0: [("DOWN", "2026-09-30")],
    1: [("UP", "2026-06-30")],
    2: [("DOWN", "2026-03-31")],
    3: [("DOWN", "2026-06-30"), ("UP", "2026-09-30")],  # won back
    4: [],
}


def customers() -> list[dict]:
    rows = []
    for i in range(N):
        changes = list(CHANGES[i % 5]) + ([("DOWN", "2025-12-31")] if i % 10 == 4 else [])
        rows.append(
            {
                "id": cid(i),
                "rm": ["E1", "E2", None][i % 3],
                "home": "B-E1" if i % 3 == 2 and i % 2 == 0 else None,  # some without an RM
                "props": {
                    "customer_id": cid(i),
                    "name": f"客户{i}",
                    "tier": ["CORE", "KEY", "ORDINARY"][i % 3],
                    "churn_risk_level": LEVELS[i % 4],
                    "downgrade_risk_level": LEVELS[(i // 2) % 4],
                    "downgrade_risk_rank": RANK[LEVELS[(i // 2) % 4]],
                    "lifecycle_stage": STAGES[i % 7],
                    "aum": 100_000.0 + 7_919.0 * ((i * 13) % N),
                    "status": "ACTIVE",
                    "city": "上海",
                },
                "changes": [
                    {"direction": d, "day": dt.date.fromisoformat(day)} for d, day in changes
                ],
            }
        )
    return rows


WRITE = """
UNWIND ['E1', 'E2'] AS id
MERGE (b:Branch {branch_id: 'B-' + id})
MERGE (e:Employee {employee_id: id}) SET e.name = id
MERGE (e)-[:WORKS_AT]->(b)
WITH count(*) AS _
UNWIND $rows AS row
CREATE (c:Customer) SET c = row.props
WITH c, row
CALL (c, row) {
  MATCH (e:Employee {employee_id: row.rm}) MERGE (e)-[:MANAGES {since: date('2020-01-01')}]->(c)
}
CALL (c, row) {
  MATCH (b:Branch {branch_id: row.home}) MERGE (c)-[:HOME_BRANCH]->(b)
}
CALL (c, row) {
  UNWIND row.changes AS t
  CREATE (x:TierChange {change_id: row.id + ':' + toString(t.day), customer_id: row.id,
                        direction: t.direction, changed_at: t.day,
                        from_tier: 'KEY', to_tier: 'ORDINARY'})
  CREATE (x)-[:OF]->(c)
}
"""

LIST = """query($filter: CustomerFilter, $after: String) {
  customers(filter: $filter, first: 100, after: $after) {
    totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }"""
AT_RISK = """query($kind: AtRiskKind, $first: Int, $after: String) {
  atRiskCustomers(kind: $kind, first: $first, after: $after) {
    totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }"""
AT_RISK_DEFAULT = "{ atRiskCustomers(first: 100) { totalCount edges { node { id } } } }"
WIN_BACK = """query($asOf: Date, $first: Int, $after: String) {
  winBackCustomers(asOf: $asOf, first: $first, after: $after) {
    totalCount edges { node { id aum } } pageInfo { hasNextPage endCursor } } }"""


@pytest.fixture(scope="module")
def lists(settings, driver):
    from c360.app import create_app

    wipe(driver, settings.neo4j_database)
    migrate.apply(driver, database=settings.neo4j_database)
    driver.execute_query(
        WRITE,
        rows=customers(),
        database_=settings.neo4j_database,
        routing_control=RoutingControl.WRITE,
    )
    relaxed = settings.model_copy(
        update={"rate_limit_per_second": 1000.0, "rate_limit_burst": 5000}
    )
    with TestClient(create_app(relaxed)) as client:
        yield client


@pytest.fixture
def ask(lists, auth_header):
    def post(query: str, role: str = "admin", claims: dict | None = None, **variables) -> dict:
        resp = lists.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers=auth_header(role, **(claims or {})),
        )
        assert resp.status_code == 200, resp.text
        return resp.json()

    return post


@pytest.fixture
def oracle(driver, settings):
    def ids(query: str, **params) -> set[str]:
        records = driver.execute_query(
            query,
            params,
            database_=settings.neo4j_database,
            routing_control=RoutingControl.READ,
        ).records
        return {r["id"] for r in records}

    return ids


def _pages(ask, query: str, field: str, **variables) -> tuple[list[str], int]:
    ids, after = [], None
    while True:
        body = ask(query, after=after, **variables)
        assert "errors" not in body, body
        page = body["data"][field]
        ids += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return ids, page["totalCount"]
        after = page["pageInfo"]["endCursor"]


# Each filter value and the Cypher that says, independently, which customers it selects.
FILTER_CASES = [
    ({"unassigned": True}, "MATCH (c:Customer) WHERE NOT EXISTS { (:Employee)-[:MANAGES]->(c) }"),
    ({"unassigned": False}, "MATCH (c:Customer) WHERE EXISTS { (:Employee)-[:MANAGES]->(c) }"),
    *[
        (
            {"churnRisk": list(levels)},
            f"MATCH (c:Customer) WHERE c.churn_risk_level IN {list(levels)!r}",
        )  # fmt: skip
        for levels in (["HIGH"], ["HIGH", "MEDIUM"], ["NONE"])
    ],
    *[
        (
            {"lifecycleStages": list(stages)},
            f"MATCH (c:Customer) WHERE c.lifecycle_stage IN {list(stages)!r}",
        )  # fmt: skip
        for stages in (["DORMANT"], ["DECLINING", "CHURNED"])
    ],
    *[
        (
            {"tierChangedSince": since, "tierDirection": direction},
            "MATCH (t:TierChange)-[:OF]->(c:Customer) WHERE t.changed_at >= date($since) "
            "AND ($direction IS NULL OR t.direction = $direction)",
        )
        for since, direction in itertools.product(
            ["2026-06-30", "2026-07-01", "2025-01-01"], ["UP", "DOWN", None]
        )
    ],
    (
        {"tierDirection": "DOWN"},
        "MATCH (t:TierChange {direction: 'DOWN'})-[:OF]->(c:Customer)",
    ),
    (
        {"unassigned": True, "churnRisk": ["HIGH", "LOW"], "tierDirection": "UP"},
        "MATCH (t:TierChange {direction: 'UP'})-[:OF]->(c:Customer) "
        "WHERE NOT EXISTS { (:Employee)-[:MANAGES]->(c) } AND c.churn_risk_level IN ['HIGH', 'LOW']",
    ),
]


@pytest.mark.parametrize(("flt", "cypher"), FILTER_CASES, ids=[str(f) for f, _ in FILTER_CASES])
def test_each_filter_selects_what_an_independent_query_selects(ask, oracle, flt, cypher):
    params = {"since": flt.get("tierChangedSince"), "direction": flt.get("tierDirection")}
    want = oracle(cypher + " RETURN DISTINCT c.customer_id AS id", **params)
    got, total = _pages(ask, LIST, "customers", filter=flt)
    assert set(got) == want and len(got) == total == len(want)
    assert 0 < len(want) < N  # the case tells customers apart


def test_a_filter_stays_within_the_rms_book(ask, oracle):
    want = oracle(
        "MATCH (:Employee {employee_id: 'E1'})-[:MANAGES]->(c:Customer) "
        "WHERE c.churn_risk_level = 'HIGH' RETURN c.customer_id AS id"
    )
    body = ask(LIST, "relationship_manager", {"employee_id": "E1"}, filter={"churnRisk": ["HIGH"]})
    assert {e["node"]["id"] for e in body["data"]["customers"]["edges"]} == want
    body = ask(LIST, "relationship_manager", {"employee_id": "E1"}, filter={"unassigned": True})
    assert body["data"]["customers"]["totalCount"] == 0


def test_a_branch_managers_unassigned_customers_are_those_the_branch_scope_admits(ask, oracle):
    """Whatever graph/queries/scope.py admits to a branch manager (its own staff's customers,
    and once it does, the customers whose home branch it is), ``unassigned`` lists those of them
    without an RM: compared with a scan of every customer through the fragment itself."""
    want = oracle(
        f"MATCH (c:Customer) WITH c, {ACCESS_EXPR[ScopeKind.BRANCH]} AS access "
        "WHERE access = 'direct' AND NOT EXISTS { (:Employee)-[:MANAGES]->(c) } "
        "RETURN c.customer_id AS id",
        branch_id="B-E1",
    )
    body = ask(LIST, "branch_manager", {"branch_id": "B-E1"}, filter={"unassigned": True})
    assert "errors" not in body, body
    got = {e["node"]["id"] for e in body["data"]["customers"]["edges"]}
    assert got == want and body["data"]["customers"]["totalCount"] == len(want)


def _expected_at_risk(kind: str) -> list[str]:
    rows = []
    for row in customers():
        p = row["props"]
        down, churn = RANK[p["downgrade_risk_level"]], RANK[p["churn_risk_level"]]
        rank = {"DOWNGRADE": down, "CHURN": churn, "ANY": max(down, churn)}[kind]
        if rank > 0:
            rows.append((rank, p["customer_id"]))
    return [c for _, c in sorted(rows, reverse=True)]


@pytest.mark.parametrize("kind", ["DOWNGRADE", "CHURN", "ANY"])
def test_at_risk_customers_by_kind(ask, kind):
    got, total = _pages(ask, AT_RISK, "atRiskCustomers", kind=kind, first=7)
    want = _expected_at_risk(kind)
    assert got == want and total == len(want)


def test_at_risk_without_a_kind_is_todays_downgrade_list(ask):
    body = ask(AT_RISK_DEFAULT)
    assert [e["node"]["id"] for e in body["data"]["atRiskCustomers"]["edges"]] == (
        _expected_at_risk("DOWNGRADE")
    )


@pytest.mark.parametrize("role", ["channel_service", "customer"])
def test_churn_and_win_back_lists_are_refused_to_roles_that_do_not_see_them(ask, role):
    claims = {"customer_id": cid(0)} if role == "customer" else {}
    for query, variables, name in (
        (AT_RISK, {"kind": "CHURN"}, "atRiskCustomers"),
        (WIN_BACK, {}, "winBackCustomers"),
    ):
        body = ask(query, role, claims, **variables)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert name in body["errors"][0]["message"]


def test_the_last_two_reviews():
    assert last_reviews(dt.date(2026, 10, 31), 3) == (dt.date(2026, 6, 30), dt.date(2026, 9, 30))
    assert last_reviews(dt.date(2026, 9, 30), 3) == (dt.date(2026, 6, 30), dt.date(2026, 9, 30))
    assert last_reviews(dt.date(2026, 2, 1), 3) == (dt.date(2025, 9, 30), dt.date(2025, 12, 31))


def _expected_win_back(as_of: dt.date) -> list[str]:
    """Downgraded on or after the earlier of the last two quarter ends (worked out by hand for
    the dates below), not moved up after that downgrade; largest AUM first."""
    since = {
        dt.date(2026, 10, 31): dt.date(2026, 6, 30),
        dt.date(2026, 7, 15): dt.date(2026, 3, 31),
    }
    rows = []
    for row in customers():
        changes = [(c["day"], c["direction"]) for c in row["changes"] if c["day"] <= as_of]
        downs = [d for d, direction in changes if direction == "DOWN" and d >= since[as_of]]
        if downs and not any(d > min(downs) and direction == "UP" for d, direction in changes):
            rows.append((row["props"]["aum"], row["id"]))
    return [c for _, c in sorted(rows, reverse=True)]


@pytest.mark.parametrize("as_of", [dt.date(2026, 10, 31), dt.date(2026, 7, 15)])
def test_win_back_customers(ask, as_of):
    got, total = _pages(ask, WIN_BACK, "winBackCustomers", asOf=as_of.isoformat(), first=3)
    want = _expected_win_back(as_of)
    assert got == want and total == len(want) > 0
    # the customers won back (down, then up again) are not on it, the others of the window are
    won_back = {cid(i) for i in range(N) if i % 5 == 3}
    assert won_back.isdisjoint(got) == (as_of == dt.date(2026, 10, 31))
