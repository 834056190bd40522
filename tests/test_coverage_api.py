"""Coverage over HTTP on a generated bank loaded by the real loader and scored by the real job:
the branch scope with home branches, ``branchCoverage``, ``unassignedCustomers`` and a branch
manager's assignments (issue 22).

What the API answers is compared with Cypher written here over the graph (home branches,
MANAGES, tiers): an oracle of its own, not the API's queries.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from neo4j import Driver, RoutingControl
from starlette.testclient import TestClient

from core.settings import Settings
from synthetic import GenerateOptions, generate_bank
from tests.etl_support import load, reset

pytestmark = pytest.mark.graph
TIER_RANK = {"CORE": 0, "KEY": 1, "ORDINARY": 2, None: 3}

UNASSIGNED = """query($first: Int, $after: String, $branchId: ID) {
  unassignedCustomers(first: $first, after: $after, branchId: $branchId) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id tier aum homeBranch { id } relationshipManager { id } } } } }"""
COVERAGE = """query($branchId: ID) { branchCoverage(branchId: $branchId) {
  branch { id name } customers withRelationshipManager withoutRelationshipManager
  tiers { tier customers withRelationshipManager withoutRelationshipManager }
  relationshipManagers { employee { id branchId } customers } } }"""
ASSIGN = """mutation($input: AssignRelationshipManagerInput!) {
  assignRelationshipManager(input: $input) { customerId relationshipManager { id } } }"""
BOOK = """query($search: String, $rm: ID) {
  customers(search: $search, first: 5, filter: {relationshipManagerId: $rm}) {
    edges { node { id relationshipManager { id } } } } }"""


def q(driver: Driver, settings: Settings, query: str, **params: object) -> list[dict]:
    records = driver.execute_query(
        query, params, database_=settings.neo4j_database, routing_control=RoutingControl.READ
    ).records
    return [r.data() for r in records]


@pytest.fixture(scope="module")
def api(driver: Driver, settings: Settings, tmp_path_factory: pytest.TempPathFactory):
    from c360.app import create_app
    from scoring.config import load_config
    from scoring.job import run_scoring

    out = tmp_path_factory.mktemp("coverage") / "bank"
    generate_bank(GenerateOptions(customers=800, seed=31, out=out))
    reset(driver, settings)
    load(driver, settings, Path(out))
    run_scoring(driver, database=settings.neo4j_database, cfg=load_config())
    relaxed = settings.model_copy(
        update={"rate_limit_per_second": 1000.0, "rate_limit_burst": 5000}
    )
    with TestClient(create_app(relaxed)) as client:
        yield client


@pytest.fixture
def gql(api, auth_header):
    def ask(query: str, who: dict, **variables) -> dict:
        claims = dict(who)
        headers = auth_header(claims.pop("role"), **claims)
        resp = api.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
        assert resp.status_code == 200, resp.text
        return resp.json()

    return ask


def bm(branch: str) -> dict:
    return {"role": "branch_manager", "branch_id": branch}


def unassigned_oracle(driver: Driver, settings: Settings, branch: str | None) -> list[dict]:
    return q(
        driver,
        settings,
        """MATCH (c:Customer)
        WHERE NOT EXISTS { (:Employee)-[:MANAGES]->(c) }
          AND ($branch IS NULL OR EXISTS { (c)-[:HOME_BRANCH]->(:Branch {branch_id: $branch}) })
        RETURN c.customer_id AS id, c.tier AS tier, coalesce(c.aum, 0.0) AS aum""",
        branch=branch,
    )


@pytest.fixture(scope="module")
def busiest(api, driver: Driver, settings: Settings) -> str:
    """The branch with the most unassigned CORE and KEY customers at home."""
    rows = q(
        driver,
        settings,
        """MATCH (b:Branch)<-[:HOME_BRANCH]-(c:Customer)
        WHERE c.tier IN ['CORE', 'KEY'] AND NOT EXISTS { (:Employee)-[:MANAGES]->(c) }
        RETURN b.branch_id AS branch, count(c) AS n ORDER BY n DESC, branch LIMIT 1""",
    )
    assert rows and rows[0]["n"] >= 3, rows
    return rows[0]["branch"]


def walk(gql, who: dict, first: int, branch: str | None = None) -> tuple[list[dict], int]:
    nodes, after, total = [], None, None
    while True:
        body = gql(UNASSIGNED, who, first=first, after=after, branchId=branch)
        assert "errors" not in body, body
        page = body["data"]["unassignedCustomers"]
        total = page["totalCount"]
        nodes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes, total
        after = page["pageInfo"]["endCursor"]


def test_unassigned_customers_of_a_branch_core_first_by_aum_paged_once_each(
    gql, driver, settings, busiest
):
    nodes, total = walk(gql, bm(busiest), first=7)
    expected = unassigned_oracle(driver, settings, busiest)
    assert total == len(expected) == len(nodes)
    assert sorted(n["id"] for n in nodes) == sorted(r["id"] for r in expected)
    keys = [(TIER_RANK[n["tier"]], -n["aum"], n["id"]) for n in nodes]
    assert keys == sorted(keys)
    assert nodes[0]["tier"] == "CORE"
    assert all(n["homeBranch"]["id"] == busiest and n["relationshipManager"] is None for n in nodes)
    # an admin: the whole bank, or one branch
    everywhere, total = walk(gql, {"role": "admin"}, first=100)
    assert total == len(unassigned_oracle(driver, settings, None)) == len(everywhere)
    assert [n["id"] for n in walk(gql, {"role": "admin"}, 50, busiest)[0]] == [
        n["id"] for n in nodes
    ]


def test_unassigned_customers_are_refused_to_others_and_for_another_branch(gql, busiest):
    other = gql(UNASSIGNED, bm(busiest), first=5, branchId="BR9999")
    assert [e["extensions"]["code"] for e in other["errors"]] == ["FORBIDDEN"]
    assert "branchId" in other["errors"][0]["message"]
    for who in ({"role": "relationship_manager", "employee_id": "E00002"}, {"role": "auditor"}):
        body = gql(UNASSIGNED, who, first=5)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], who


def coverage_oracle(driver: Driver, settings: Settings, branch: str) -> dict:
    rows = q(
        driver,
        settings,
        """MATCH (c:Customer)
        WHERE EXISTS { (c)-[:HOME_BRANCH]->(:Branch {branch_id: $b}) }
           OR EXISTS { (:Branch {branch_id: $b})<-[:WORKS_AT]-(:Employee)-[:MANAGES]->(c) }
        RETURN c.tier AS tier, count(*) AS n,
               sum(CASE WHEN EXISTS { (:Employee)-[:MANAGES]->(c) } THEN 1 ELSE 0 END) AS covered""",
        b=branch,
    )
    return {r["tier"]: (r["n"], r["covered"]) for r in rows}


def test_branch_coverage_counts_the_branch_scope_per_tier(gql, driver, settings, busiest):
    body = gql(COVERAGE, bm(busiest))
    assert "errors" not in body, body
    got = body["data"]["branchCoverage"]
    assert got["branch"]["id"] == busiest
    expected = coverage_oracle(driver, settings, busiest)
    assert {t["tier"]: (t["customers"], t["withRelationshipManager"]) for t in got["tiers"]} == (
        expected
    )
    assert [t["tier"] for t in got["tiers"]] == sorted(
        (t["tier"] for t in got["tiers"]), key=TIER_RANK.__getitem__
    )
    assert got["customers"] == got["withRelationshipManager"] + got["withoutRelationshipManager"]
    assert got["relationshipManagers"] and all(
        r["employee"]["branchId"] == busiest for r in got["relationshipManagers"]
    )
    # an auditor or an admin reads any branch; a branch manager only their own; an RM none
    assert gql(COVERAGE, {"role": "auditor"}, branchId=busiest)["data"]["branchCoverage"] == got
    other = gql(COVERAGE, bm("BR0001" if busiest != "BR0001" else "BR0002"), branchId=busiest)
    assert [e["extensions"]["code"] for e in other["errors"]] == ["FORBIDDEN"]
    rm = gql(COVERAGE, {"role": "relationship_manager", "employee_id": "E00002"}, branchId=busiest)
    assert [e["extensions"]["code"] for e in rm["errors"]] == ["FORBIDDEN"]
    missing = gql(COVERAGE, {"role": "admin"}, branchId="BR9999")
    assert [e["extensions"]["code"] for e in missing["errors"]] == ["NOT_FOUND"]


def _staff(driver, settings, branch: str, title: str) -> list[str]:
    return [
        r["id"]
        for r in q(
            driver,
            settings,
            """MATCH (:Branch {branch_id: $b})<-[:WORKS_AT]-(e:Employee {title: $t})
            RETURN e.employee_id AS id ORDER BY id""",
            b=branch,
            t=title,
        )
    ]


def test_a_branch_manager_assigns_an_rm_of_the_branch_to_an_unassigned_core_customer(
    gql, driver, settings, busiest
):
    first = walk(gql, bm(busiest), first=5)[0][0]
    assert first["tier"] == "CORE"
    customer = first["id"]
    rm = _staff(driver, settings, busiest, "Relationship Manager")[0]
    # not managed by the RM before (the RM may see them already: a household member of a
    # customer they manage)
    who = {"role": "relationship_manager", "employee_id": rm}
    assert gql(BOOK, who, search=customer, rm=rm)["data"]["customers"]["edges"] == []
    coverage_before = gql(COVERAGE, bm(busiest))["data"]["branchCoverage"]
    body = gql(
        ASSIGN, bm(busiest), input={"clientMutationId": "cov-1", "customerId": customer,
                                    "employeeId": rm},
    )  # fmt: skip
    assert "errors" not in body, body
    assert body["data"]["assignRelationshipManager"]["relationshipManager"]["id"] == rm
    after = gql(BOOK, who, search=customer, rm=rm)["data"]["customers"]["edges"]
    assert after == [{"node": {"id": customer, "relationshipManager": {"id": rm}}}]
    assert customer not in {n["id"] for n in walk(gql, bm(busiest), first=50)[0]}
    coverage_after = gql(COVERAGE, bm(busiest))["data"]["branchCoverage"]
    assert coverage_after["withoutRelationshipManager"] == (
        coverage_before["withoutRelationshipManager"] - 1
    )
    [core] = [t for t in coverage_after["tiers"] if t["tier"] == "CORE"]
    [core_before] = [t for t in coverage_before["tiers"] if t["tier"] == "CORE"]
    assert core["withRelationshipManager"] == core_before["withRelationshipManager"] + 1


def test_assignments_outside_the_branch_are_refused_naming_the_argument(
    gql, driver, settings, busiest
):
    mine = walk(gql, bm(busiest), first=5)[0][0]["id"]
    rm = _staff(driver, settings, busiest, "Relationship Manager")[0]
    [elsewhere] = q(
        driver,
        settings,
        """MATCH (b:Branch)<-[:HOME_BRANCH]-(c:Customer) WHERE b.branch_id <> $b
           AND NOT EXISTS { (:Employee)-[:MANAGES]->(c) }
           AND NOT EXISTS { (:Branch {branch_id: $b})<-[:WORKS_AT]-(:Employee)-[:MANAGES]->(c) }
        RETURN c.customer_id AS customer, b.branch_id AS branch ORDER BY customer LIMIT 1""",
        b=busiest,
    )
    other_rm = _staff(driver, settings, elsewhere["branch"], "Relationship Manager")[0]
    officer = _staff(driver, settings, busiest, "Service Officer")[0]
    cases = [
        ("another branch's customer", elsewhere["customer"], rm, "NOT_FOUND", "customerId"),
        ("another branch's RM", mine, other_rm, "NOT_FOUND", "employeeId"),
        ("not a relationship manager", mine, officer, "BAD_USER_INPUT", "employeeId"),
        ("no such employee", mine, "E99999", "NOT_FOUND", "employeeId"),
    ]
    messages = {}
    for n, (case, customer, employee, code, argument) in enumerate(cases):
        body = gql(
            ASSIGN, bm(busiest), input={"clientMutationId": f"cov-no-{n}", "customerId": customer,
                                        "employeeId": employee},
        )  # fmt: skip
        assert [e["extensions"]["code"] for e in body["errors"]] == [code], case
        assert body["errors"][0]["message"].startswith(argument), (case, body)
        messages[case] = body["errors"][0]["message"].replace(repr(employee), "<id>")
    # one answer for an unknown id and another branch's employee: a branch manager cannot probe
    # which employee ids exist elsewhere
    assert messages["another branch's RM"] == messages["no such employee"]
    managers = q(
        driver,
        settings,
        "MATCH (e:Employee)-[:MANAGES]->(c:Customer) WHERE c.customer_id IN $ids "
        "RETURN count(e) AS n",
        ids=[mine, elsewhere["customer"]],
    )
    assert managers == [{"n": 0}]  # nothing was written
    # the other branch's manager may assign their own RM to their own customer
    body = gql(
        ASSIGN, bm(elsewhere["branch"]), input={"clientMutationId": "cov-2",
                                                "customerId": elsewhere["customer"],
                                                "employeeId": other_rm},
    )  # fmt: skip
    assert "errors" not in body, body


def test_a_branch_manager_reads_an_unassigned_customer_at_home_in_the_branch(gql, busiest):
    customer = walk(gql, bm(busiest), first=5)[0][0]["id"]
    body = gql("query($id: ID!) { customer(id: $id) { id homeBranch { id name } } }",
               bm(busiest), id=customer)  # fmt: skip
    assert body["data"]["customer"]["homeBranch"]["id"] == busiest
    other = "BR0001" if busiest != "BR0001" else "BR0002"
    body = gql("query($id: ID!) { customer(id: $id) { id } }", bm(other), id=customer)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]


# -- the lists of a branch manager hold the branch's unassigned home customers -------------------

LIST = """query($first: Int, $after: String) { customers(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }"""
ALERTS = """query($first: Int, $after: String) { alerts(first: $first, after: $after) {
  pageInfo { hasNextPage endCursor } edges { node { customer { id } } } } }"""
HOME_UNASSIGNED = """MATCH (:Branch {branch_id: $b})<-[:HOME_BRANCH]-(c:Customer)
WHERE NOT EXISTS { (:Employee)-[:MANAGES]->(c) } RETURN c.customer_id AS id"""


def _every(gql, query: str, who: dict, field: str) -> tuple[list[str], int | None]:
    """The customer ids of every page of a list (with its totalCount, where it has one)."""
    ids: list[str] = []
    after = None
    while True:
        body = gql(query, who, first=100, after=after)
        assert "errors" not in body, body
        page = body["data"][field]
        ids += [e["node"].get("id") or e["node"]["customer"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return ids, page.get("totalCount")
        after = page["pageInfo"]["endCursor"]


def test_the_branch_managers_customer_list_holds_the_unassigned_home_customers(
    gql, busiest, driver: Driver, settings: Settings
):
    home_unassigned = {r["id"] for r in q(driver, settings, HOME_UNASSIGNED, b=busiest)}
    assert home_unassigned
    coverage = gql(COVERAGE, bm(busiest))["data"]["branchCoverage"]
    listed, total = _every(gql, LIST, bm(busiest), "customers")
    assert home_unassigned <= set(listed), len(home_unassigned - set(listed))
    assert total == len(listed) and total >= coverage["customers"]


def test_the_branch_managers_alerts_cover_the_unassigned_home_customers(
    gql, busiest, driver: Driver, settings: Settings
):
    home_unassigned = {r["id"] for r in q(driver, settings, HOME_UNASSIGNED, b=busiest)}
    every, _ = _every(gql, ALERTS, {"role": "admin"}, "alerts")
    expected = home_unassigned & set(every)
    assert expected, "no alert on an unassigned home customer in this bank"
    seen, _ = _every(gql, ALERTS, bm(busiest), "alerts")
    assert expected <= set(seen), len(expected - set(seen))
