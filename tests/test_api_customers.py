"""The customer-360 API over HTTP against the real graph: lists, search, network, households,
mutations, limits and the round trips per request (issue 5)."""

from __future__ import annotations

import datetime as dt

import pytest
from neo4j import RoutingControl
from starlette.testclient import TestClient

from tests.bank_graph import N, customer_id, load_bank
from tests.conftest import wipe

ADMIN = {"role": "admin"}
RM1 = {"role": "relationship_manager", "employee_id": "E1"}
BM1 = {"role": "branch_manager", "branch_id": "B1"}
CHANNEL = {"role": "channel_service"}


@pytest.fixture(scope="module")
def bank(settings, driver):
    wipe(driver, settings.neo4j_database)
    load_bank(driver, settings.neo4j_database)
    from scoring.config import load_config
    from scoring.job import run_scoring

    run_scoring(driver, database=settings.neo4j_database, cfg=load_config())
    from c360.app import create_app

    # These tests fire hundreds of requests as a few subjects; the limiter has its own tests.
    relaxed = settings.model_copy(
        update={"rate_limit_per_second": 1000.0, "rate_limit_burst": 5000}
    )
    with TestClient(create_app(relaxed)) as client:
        yield client


@pytest.fixture
def gql(bank, auth_header):
    def ask(query: str, variables: dict | None = None, who: dict = ADMIN) -> dict:
        who = dict(who)
        headers = auth_header(who.pop("role"), **who)
        resp = bank.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert resp.status_code == 200, resp.text
        return resp.json()

    return ask


def _db(driver, settings, query: str, **params):
    return driver.execute_query(
        query, params, database_=settings.neo4j_database, routing_control=RoutingControl.READ
    ).records


LIST = """query($first: Int, $after: String, $search: String, $order: CustomerOrder, $filter: CustomerFilter) {
  customers(first: $first, after: $after, search: $search, orderBy: $order, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id name aum accounts { id balance } household { id role } } }
  } }"""


def _walk(gql, who=ADMIN, **variables) -> list[str]:
    seen, after = [], None
    for _ in range(100):
        body = gql(LIST, {"first": 7, "after": after, **variables}, who)
        assert "errors" not in body, body
        page = body["data"]["customers"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize(
    "order",
    [
        None,
        {"field": "AUM", "direction": "DESC"},
        {"field": "NAME", "direction": "ASC"},
        {"field": "DOWNGRADE_RISK", "direction": "DESC"},
    ],
)
def test_pagination_walks_everything_once(gql, order):
    ids = _walk(gql, order=order)
    assert len(ids) == len(set(ids)) == N
    assert set(ids) == {customer_id(i) for i in range(N)}


def test_order_by_aum_is_ordered_and_total_is_right(gql, driver, settings):
    body = gql(LIST, {"first": 10, "order": {"field": "AUM", "direction": "DESC"}})
    page = body["data"]["customers"]
    assert page["totalCount"] == N
    aums = [e["node"]["aum"] for e in page["edges"]]
    assert aums == sorted(aums, reverse=True)
    top = _db(driver, settings, "MATCH (c:Customer) RETURN max(c.aum) AS m")[0]["m"]
    assert aums[0] == top


def test_rm_list_is_their_book_households_and_one_referral_hop(gql, driver, settings):
    ids = set(_walk(gql, RM1))
    expected = {
        r["id"]
        for r in _db(
            driver,
            settings,
            """
        MATCH (:Employee {employee_id: 'E1'})-[:MANAGES]->(m:Customer)
        OPTIONAL MATCH (m)-[:MEMBER_OF]->(:Household)<-[:MEMBER_OF]-(h:Customer)
        OPTIONAL MATCH (m)-[:REFERRED]-(r:Customer)
        UNWIND [m, h, r] AS c WITH c WHERE c IS NOT NULL RETURN DISTINCT c.customer_id AS id""",
        )
    }
    assert ids == expected
    assert customer_id(45) not in ids  # E2's customer, household of E2's customers


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("C1005", ["C1005"]),
        ("c1005", ["C1005"]),
        ("+86 138-0000-0007", ["C1007"]),
        ("138 0000 0007", ["C1007"]),
    ],
)
def test_search_by_id_and_phone(gql, term, expected):
    body = gql(LIST, {"search": term})
    assert [e["node"]["id"] for e in body["data"]["customers"]["edges"]] == expected


def test_search_by_name_uses_the_full_text_index(gql, driver, settings):
    body = gql(LIST, {"search": "王伟明", "first": 50})
    ids = {e["node"]["id"] for e in body["data"]["customers"]["edges"]}
    expected = {
        r["id"]
        for r in _db(
            driver,
            settings,
            "MATCH (c:Customer) WHERE c.name CONTAINS '王伟明' RETURN c.customer_id AS id",
        )
    }
    assert ids == expected and ids


def test_filters(gql, driver, settings):
    body = gql(LIST, {"first": 100, "filter": {"cities": ["杭州"], "relationshipManagerId": "E1"}})
    ids = {e["node"]["id"] for e in body["data"]["customers"]["edges"]}
    expected = {
        r["id"]
        for r in _db(
            driver,
            settings,
            """
        MATCH (:Employee {employee_id: 'E1'})-[:MANAGES]->(c:Customer {city: '杭州'})
        RETURN c.customer_id AS id""",
        )
    }
    assert ids == expected and ids


def test_round_trips_do_not_grow_with_the_page(gql):
    small = gql(LIST, {"first": 5})
    big = gql(LIST, {"first": 50})
    assert len(big["data"]["customers"]["edges"]) == 50
    assert big["extensions"]["roundTrips"] == small["extensions"]["roundTrips"] <= 2


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"first": 0}, "first must be between"),
        ({"first": 101}, "first must be between"),
        ({"after": "not-a-cursor"}, "cursor"),
        ({"search": "x" * 51}, "at most 50"),
    ],
)
def test_bad_inputs_are_bad_user_input(gql, variables, message):
    body = gql(LIST, variables)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in body["errors"][0]["message"]


PROFILE = """query($id: ID!) { customer(id: $id) {
  id name value { tier score components { name weight raw score } lifecycleStage }
  risk { downgrade { level floor projectedAum evaluationDate reasons } churn { level reasons } }
  recommendations { productCode reason }
  relationshipManager { id name } referredBy { id } referrals { id }
  household { id role aum tier }
  interactions(first: 2) { totalCount items { id kind channel occurredAt } pageInfo { hasNextPage endCursor } }
} }"""


def test_profile_has_value_risk_and_paginated_interactions(gql, driver, settings):
    body = gql(PROFILE, {"id": "C1000"})
    assert "errors" not in body, body
    c = body["data"]["customer"]
    stored = _db(driver, settings, "MATCH (c:Customer {customer_id: 'C1000'}) RETURN c {.*} AS c")[
        0
    ]["c"]
    assert c["value"]["tier"] == stored["tier"]
    assert c["value"]["score"] == stored["value_score"]
    assert [x["name"] for x in c["value"]["components"]] == [
        "aum",
        "activity",
        "product_depth",
        "tenure",
        "influence",
    ]
    assert c["risk"]["downgrade"]["level"] == stored["downgrade_risk_level"]
    assert c["relationshipManager"]["id"] == "E1"
    assert [r["id"] for r in c["referrals"]] == ["C1090"]
    assert c["household"]["id"] == "H1000" and c["household"]["role"] == "HEAD"
    assert c["interactions"]["totalCount"] == 3
    items = c["interactions"]["items"]
    assert len(items) == 2 and items[0]["occurredAt"] > items[1]["occurredAt"]
    nxt = gql(
        """query($id: ID!, $after: String) { customer(id: $id) {
        interactions(first: 2, after: $after) { items { id } pageInfo { hasNextPage } } } }""",
        {"id": "C1000", "after": c["interactions"]["pageInfo"]["endCursor"]},
    )
    rest = nxt["data"]["customer"]["interactions"]
    assert len(rest["items"]) == 1 and not rest["pageInfo"]["hasNextPage"]
    assert rest["items"][0]["id"] not in {i["id"] for i in items}


def test_channel_role_sees_no_internal_value_or_risk(gql):
    c = gql(PROFILE, {"id": "C1000"}, CHANNEL)["data"]["customer"]
    assert c["value"] is None and c["risk"] is None and c["interactions"] is None


def test_at_risk_customers_are_the_rms_book_ordered_with_reasons(gql, driver, settings):
    body = gql(
        """{ atRiskCustomers(first: 100) { totalCount edges { node { id
        risk { downgrade { level reasons } } } } } }""",
        who=RM1,
    )
    assert "errors" not in body, body
    nodes = [e["node"] for e in body["data"]["atRiskCustomers"]["edges"]]
    rank = {"HIGH": 3, "MEDIUM": 2, "LOW": 1}
    levels = [rank[n["risk"]["downgrade"]["level"]] for n in nodes]
    assert levels == sorted(levels, reverse=True) and nodes
    expected = {
        r["id"]
        for r in _db(
            driver,
            settings,
            """
        MATCH (:Employee {employee_id: 'E1'})-[:MANAGES]->(c:Customer)
        WHERE c.downgrade_risk_level IN ['HIGH', 'MEDIUM', 'LOW'] RETURN c.customer_id AS id""",
        )
    }
    assert {n["id"] for n in nodes} >= expected
    assert all(n["risk"]["downgrade"]["reasons"] for n in nodes if n["id"] in expected)


NETWORK = """query($id: ID!, $depth: Int!, $max: Int) { network(customerId: $id, depth: $depth, maxNodes: $max) {
  truncated nodes { id kind distance label restricted } edges { source target type role } } }"""


def test_network_depth_and_edges(gql):
    net = gql(NETWORK, {"id": "C1000", "depth": 2})["data"]["network"]
    ids = {n["id"] for n in net["nodes"]}
    assert {"C1000", "H1000", "C1001", "C1002", "C1090"} <= ids
    assert not net["truncated"]
    edges = {(e["source"], e["target"], e["type"]) for e in net["edges"]}
    assert ("C1001", "H1000", "HOUSEHOLD") in edges and ("C1000", "C1090", "REFERRAL") in edges
    deeper = gql(NETWORK, {"id": "C1000", "depth": 3})["data"]["network"]
    assert "C1092" in {n["id"] for n in deeper["nodes"]} and "C1092" not in ids


def test_network_truncates_at_the_node_cap(gql):
    net = gql(NETWORK, {"id": "C1010", "depth": 1, "max": 5})["data"]["network"]
    assert net["truncated"] is True and len(net["nodes"]) == 5
    assert net["nodes"][0]["id"] == "C1010"


def test_network_marks_customers_beyond_the_rm_scope_restricted(gql):
    net = gql(NETWORK, {"id": "C1000", "depth": 3}, RM1)["data"]["network"]
    by_id = {n["id"]: n for n in net["nodes"]}
    assert by_id["C1090"]["restricted"] is False  # one referral hop
    # C1091, two hops: beyond the RM's scope, under an opaque id, and not followed to C1092
    [beyond] = [by_id[e["target"]] for e in net["edges"] if e["source"] == "C1090"]
    assert beyond["restricted"] is True and beyond["id"] != "C1091"
    assert "*" in beyond["label"]
    assert not {"C1091", "C1092"} & set(by_id)


@pytest.mark.parametrize("depth", [0, 4])
def test_network_depth_is_bounded(gql, depth):
    body = gql(NETWORK, {"id": "C1000", "depth": depth})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_household_members_and_rollup(gql, driver, settings):
    body = gql(
        """{ household(id: "H1000") { id aum tier members { customerId role } } }""", who=RM1
    )
    h = body["data"]["household"]
    assert {m["customerId"]: m["role"] for m in h["members"]} == {
        "C1000": "HEAD",
        "C1001": "SPOUSE",
        "C1002": "CHILD",
    }
    stored = _db(
        driver, settings, "MATCH (h:Household {household_id: 'H1000'}) RETURN h.aum AS aum"
    )[0]["aum"]
    assert h["aum"] == stored and stored > 0
    outside = gql("""{ household(id: "H1045") { id } }""", who=RM1)
    assert outside["errors"][0]["extensions"]["code"] == "NOT_FOUND"


LOG = """mutation($input: LogInteractionInput!) { logInteraction(input: $input) {
  created clientMutationId interaction { id kind channel summary handledBy } } }"""


def test_log_interaction_is_idempotent_and_shows_in_the_timeline(gql, driver, settings):
    payload = {
        "clientMutationId": "visit-1",
        "customerId": "C1003",
        "channel": "VISIT",
        "summary": "年度回访，讨论理财到期安排",
    }
    first = gql(LOG, {"input": payload}, RM1)["data"]["logInteraction"]
    again = gql(LOG, {"input": payload}, RM1)["data"]["logInteraction"]
    assert first["created"] is True and again["created"] is False
    assert first["interaction"]["id"] == again["interaction"]["id"]
    assert first["interaction"]["handledBy"] == "E1" and first["interaction"]["kind"] == "FOLLOW_UP"
    count = _db(
        driver,
        settings,
        "MATCH (:Customer {customer_id: 'C1003'})-[:HAD]->(i:Interaction {client_mutation_id: 'visit-1'}) RETURN count(i) AS n",
    )[0]["n"]
    assert count == 1
    timeline = gql(
        """{ customer(id: "C1003") { interactions(first: 1) { items { id summary } } } }""", who=RM1
    )
    assert (
        timeline["data"]["customer"]["interactions"]["items"][0]["id"] == first["interaction"]["id"]
    )


@pytest.mark.parametrize(
    ("who", "customer", "code"),
    [
        (RM1, "C1045", "NOT_FOUND"),  # another RM's customer
        (RM1, "C1090", "NOT_FOUND"),  # a referral hop: readable, not writable
        # the customer role writes nothing (channel_service may log contacts since issue 21:
        # tests/test_service_desk.py)
        ({"role": "customer", "customer_id": "C1003"}, "C1003", "FORBIDDEN"),
    ],
)
def test_log_interaction_is_refused_outside_the_book(gql, who, customer, code):
    payload = {
        "clientMutationId": f"x-{customer}",
        "customerId": customer,
        "channel": "PHONE",
        "summary": "call",
    }
    body = gql(LOG, {"input": payload}, who)
    assert body["errors"][0]["extensions"]["code"] == code


def test_log_interaction_validates_input(gql):
    body = gql(
        LOG,
        {
            "input": {
                "clientMutationId": "v",
                "customerId": "C1003",
                "channel": "PHONE",
                "summary": "  ",
            }
        },
        RM1,
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = gql(
        LOG,
        {
            "input": {
                "clientMutationId": "v",
                "customerId": "C1003",
                "channel": "FAX",
                "summary": "x",
            }
        },
        RM1,
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_complaint_open_and_resolve_with_sla(gql):
    opened = gql(
        """mutation { openComplaint(input: {clientMutationId: "c-1", customerId: "C1004",
        channel: PHONE, severity: MAJOR, summary: "转账延迟"}) { created interaction { id kind severity slaStatus } } }""",
        who=RM1,
    )
    complaint = opened["data"]["openComplaint"]["interaction"]
    assert complaint["kind"] == "COMPLAINT" and complaint["slaStatus"] == "ON_TRACK"
    resolved = gql(
        """mutation($id: ID!) { resolveComplaint(input: {clientMutationId: "r-1", complaintId: $id,
        resolution: "已加急处理", category: "PAYMENT", causeType: "PROCESS"}) {
        interaction { id resolvedAt firstResponseAt slaStatus } } }""",
        {"id": complaint["id"]},
        RM1,
    )
    done = resolved["data"]["resolveComplaint"]["interaction"]
    assert done["slaStatus"] == "MET" and done["resolvedAt"]
    # resolving without an acknowledgement counts as the first response
    assert done["firstResponseAt"] == done["resolvedAt"]
    again = gql(
        """mutation($id: ID!) { resolveComplaint(input: {clientMutationId: "r-2", complaintId: $id,
        resolution: "again", category: "PAYMENT", causeType: "PROCESS"}) {
        interaction { resolvedAt } } }""",
        {"id": complaint["id"]},
        RM1,
    )  # a resolved complaint is not resolved again: refused, naming its state
    assert again["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "is RESOLVED" in again["errors"][0]["message"]


def test_an_old_open_complaint_shows_its_breach(gql):
    body = gql(
        """{ customer(id: "C1001") { interactions(kinds: [COMPLAINT]) { items { id slaStatus } } } }"""
    )
    items = body["data"]["customer"]["interactions"]["items"]
    assert items == [{"id": "I-COMPLAINT-1", "slaStatus": "RESOLUTION_BREACHED"}]


def test_assign_relationship_manager_by_branch_manager(gql, driver, settings):
    body = gql(
        """mutation { assignRelationshipManager(input: {clientMutationId: "a-1", customerId: "C1005",
        employeeId: "E3"}) { customerId relationshipManager { id } } }""",
        who=BM1,
    )
    assert body["data"]["assignRelationshipManager"]["relationshipManager"]["id"] == "E3"
    rms = _db(
        driver,
        settings,
        "MATCH (e:Employee)-[:MANAGES]->(:Customer {customer_id: 'C1005'}) RETURN collect(e.employee_id) AS ids",
    )[0]["ids"]
    assert rms == ["E3"]
    # An employee of another branch cannot be assigned by B1's manager.
    body = gql(
        """mutation { assignRelationshipManager(input: {clientMutationId: "a-2", customerId: "C1006",
        employeeId: "E2"}) { customerId } }""",
        who=BM1,
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    body = gql(
        """mutation { assignRelationshipManager(input: {clientMutationId: "a-3", customerId: "C1006",
        employeeId: "E3"}) { customerId } }""",
        who=RM1,
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_me_and_load_runs(gql):
    me = gql("{ me { subject roles employeeId scope } }", who=RM1)["data"]["me"]
    assert (
        me["roles"] == ["relationship_manager"]
        and me["employeeId"] == "E1"
        and me["scope"] == "book"
    )
    assert gql("{ loadRuns { id } }", who=RM1)["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "errors" not in gql("{ loadRuns { id status } }", who={"role": "data_engineer"})


def test_metrics_count_operations(bank, gql):
    gql("query ProfileForMetrics { me { subject } }")
    text = bank.get("/metrics").text
    assert 'c360_graphql_requests_total{operation="ProfileForMetrics",type="query"}' in text


def test_metrics_count_errors_by_the_code_the_caller_got(bank, gql):
    """Errors are counted under the code of the answer (counted as INTERNAL, every refusal
    would look like a bug on the dashboard)."""
    refused = gql("query RefusedForMetrics { loadRuns { id } }", who=RM1)
    invalid = gql("query InvalidForMetrics { me { noSuchField } }")
    codes = [answer["errors"][0]["extensions"]["code"] for answer in (refused, invalid)]
    assert codes == ["FORBIDDEN", "BAD_USER_INPUT"]
    text = bank.get("/metrics").text
    for operation, code in zip(("RefusedForMetrics", "InvalidForMetrics"), codes, strict=True):
        assert f'c360_graphql_errors_total{{code="{code}",operation="{operation}"}}' in text
    assert 'code="INTERNAL",operation="RefusedForMetrics"' not in text


def test_a_selection_fetches_its_parts_and_answers_alike(gql, driver, settings):
    """Profiles and lists fetch only the related parts a selection names (through fragments),
    and answer exactly as the full selection does; before scoring, ``aum`` alone is summed by
    the query and equals the sum over the accounts."""
    full = """query($id: ID!) { customer(id: $id) { id aum accounts { id balance }
      household { id role } relationshipManager { id } referredBy { id } referrals { id }
      sourceRecords { system sourceId } } }"""
    narrow = """query($id: ID!) { customer(id: $id) { ...Head ... on Customer { household { id role } } } }
      fragment Head on Customer { id aum referrals { id } }"""
    for cid in ("C1000", "C1001", "C1090"):
        whole = gql(full, {"id": cid})["data"]["customer"]
        part = gql(narrow, {"id": cid})["data"]["customer"]
        assert part == {k: whole[k] for k in ("id", "aum", "referrals", "household")}
    listed = gql("{ customers(first: 50) { edges { node { id aum } } } }")["data"]["customers"]
    wide = gql("{ customers(first: 50) { edges { node { id aum accounts { id } } } } }")
    assert [e["node"] for e in listed["edges"]] == [
        {"id": e["node"]["id"], "aum": e["node"]["aum"]} for e in wide["data"]["customers"]["edges"]
    ]
    stored = _db(driver, settings, "MATCH (c:Customer {customer_id: 'C1000'}) RETURN c.aum AS a")

    def write(query: str, **params):
        driver.execute_query(query, params, database_=settings.neo4j_database)

    write("MATCH (c:Customer {customer_id: 'C1000'}) REMOVE c.aum")
    try:
        alone = gql('{ customer(id: "C1000") { aum } }')["data"]["customer"]["aum"]
        with_accounts = gql('{ customer(id: "C1000") { aum accounts { id } } }')
        assert alone == with_accounts["data"]["customer"]["aum"] > 0
    finally:
        write("MATCH (c:Customer {customer_id: 'C1000'}) SET c.aum = $a", a=stored[0]["a"])


def test_value_and_risk_dates_match_the_graph(gql, driver, settings):
    body = gql("""{ customer(id: "C1000") { value { tierChangedAt scoredAt }
      risk { downgrade { evaluationDate } } } }""")
    c = body["data"]["customer"]
    stored = _db(
        driver,
        settings,
        """MATCH (c:Customer {customer_id: 'C1000'})
        RETURN c.scored_at AS scored, c.evaluation_date AS evaluation, c.tier_changed_at AS changed""",
    )[0]
    assert dt.datetime.fromisoformat(c["value"]["scoredAt"]) == stored["scored"].to_native()
    assert c["risk"]["downgrade"]["evaluationDate"] == stored["evaluation"].iso_format()[:10]
    changed = stored["changed"]
    assert c["value"]["tierChangedAt"] == (changed.iso_format()[:10] if changed else None)
