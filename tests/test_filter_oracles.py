"""Ordering, filtering and searching as oracles (issue 16, finding 8), generated from the schema.

A sort order, a filtered count or a search hit tells the caller about a field as surely as
showing it. For every role and every sort key, filter and search mode the customers list offers
(sort keys and filters read from the GraphQL schema, search modes from the classifier), the list
must refuse the argument when the role's view does not show the field it reads as stored, and
serve it otherwise; a customer reached by a referral hop must drop out of a list ordered,
filtered or searched by a field the hop view masks. Over real HTTP and Neo4j.
"""

from __future__ import annotations

import pytest
from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLList, get_nullable_type
from neo4j import RoutingControl
from starlette.testclient import TestClient
from strawberry.types.base import StrawberryObjectDefinition

from auth.masking import Mask
from auth.policy import FILTER_READS, LIST_READS, ROLES, SEARCH_READS, SORT_READS, VIEWS, Role
from graph.queries.search import SearchMode
from resolvers.search import classify
from schema import build_schema
from tests.policy_graph import CLAIMS, EXPECTED_ACCESS, load_policy_graph, raw_customer

STRAWBERRY_SCHEMA = build_schema()
SCHEMA = STRAWBERRY_SCHEMA._schema
SORT_TYPE = SCHEMA.get_type("CustomerSort")
FILTER_TYPE = SCHEMA.get_type("CustomerFilter")
FILTER_DEFINITION = STRAWBERRY_SCHEMA.get_type_by_name("CustomerFilter")
assert isinstance(SORT_TYPE, GraphQLEnumType)
assert isinstance(FILTER_TYPE, GraphQLInputObjectType)
assert isinstance(FILTER_DEFINITION, StrawberryObjectDefinition)
SORT_KEYS = list(SORT_TYPE.values)
FILTER_FIELDS = FILTER_TYPE.fields
# GraphQL name -> Python name of every CustomerFilter field, as strawberry names them.
FILTERS = {
    STRAWBERRY_SCHEMA.config.name_converter.get_graphql_name(f): f.python_name
    for f in FILTER_DEFINITION.fields
}
# One term of each kind the search argument tells apart (checked against the classifier below).
SEARCH_TERMS = {SearchMode.ID: "C000004", SearchMode.PHONE: "13700002222", SearchMode.NAME: "刘洋"}
SEARCHES = [mode for mode in SearchMode if mode is not SearchMode.ALL]

HOP = next(
    c for c, a in EXPECTED_ACCESS[ROLES[Role.RELATIONSHIP_MANAGER].scope].items() if a == "hop"
)
HOP_ROLES = [r for r in Role if "hop" in EXPECTED_ACCESS[ROLES[r].scope].values()]
# The hop customer gets values every filter can match and every sort can order by (a tier
# change for tierChangedSince and tierDirection).
HOP_SCORES = """
MATCH (c:Customer {customer_id: $id})
SET c.downgrade_risk_level = 'HIGH', c.downgrade_risk_rank = 3, c.value_score = 97.5,
    c.aum = 1234567.0, c.churn_risk_level = 'HIGH', c.lifecycle_stage = 'DECLINING'
CREATE (:TierChange {change_id: $id + ':2026-09-30', customer_id: $id, from_tier: 'KEY',
                     to_tier: 'ORDINARY', direction: 'DOWN', changed_at: date('2026-09-30')})
       -[:OF]->(c)
"""
HOP_CHANGE = """MATCH (t:TierChange)-[:OF]->(:Customer {customer_id: $id})
RETURN toString(t.changed_at) AS since, t.direction AS direction"""

LIST = """query($search: String, $filter: CustomerFilter, $order: CustomerOrder) {
  customers(search: $search, filter: $filter, orderBy: $order, first: 50) {
    totalCount edges { node { id } } } }"""
AT_RISK = "{ atRiskCustomers(first: 50) { totalCount edges { node { id } } } }"


def _claims(role: Role) -> dict[str, str]:
    return {c: CLAIMS[c] for c in ROLES[role].requires_claims}


def _shown(view_name, field: str) -> bool:
    return VIEWS[view_name][field] is Mask.CLEAR


def _reads_shown(role: Role, field: str) -> bool:
    return _shown(ROLES[role].view, field)


def _sample(graphql_type) -> object:
    """A value of this input type: the first enum value, true, a date, or any string."""
    t = get_nullable_type(graphql_type)
    if isinstance(t, GraphQLList):
        return [_sample(t.of_type)]
    if isinstance(t, GraphQLEnumType):
        return next(iter(t.values))
    return {"Boolean": True, "Date": "2020-01-01"}.get(getattr(t, "name", ""), "x")


@pytest.fixture(scope="module")
def oracle_api(settings, driver):
    from c360.app import create_app

    load_policy_graph(driver, settings.neo4j_database)
    driver.execute_query(
        HOP_SCORES,
        id=HOP,
        database_=settings.neo4j_database,
        routing_control=RoutingControl.WRITE,
    )
    relaxed = settings.model_copy(
        update={"rate_limit_per_second": 1000.0, "rate_limit_burst": 5000}
    )
    with TestClient(create_app(relaxed)) as client:
        yield client


@pytest.fixture
def ask(oracle_api, auth_header):
    def post(role: Role, query: str, variables: dict) -> dict:
        resp = oracle_api.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers=auth_header(role.value, **_claims(role)),
        )
        assert resp.status_code == 200, resp.text
        return resp.json()

    return post


def _assert_refused(body: dict, argument: str) -> None:
    assert body["data"] is None, body
    error = body["errors"][0]
    assert error["extensions"]["code"] in ("FORBIDDEN", "BAD_USER_INPUT"), error
    assert argument in error["message"], error


def _assert_served(body: dict, field: str = "customers") -> list[str]:
    assert "errors" not in body, body
    return [e["node"]["id"] for e in body["data"][field]["edges"]]


def test_every_sort_key_filter_and_search_mode_is_in_the_policy():
    assert set(FILTERS) == set(FILTER_FIELDS)
    assert {FILTERS[f] for f in FILTERS} <= set(FILTER_READS)
    assert set(SORT_KEYS) <= set(SORT_READS)
    assert {m.value for m in SEARCHES} <= set(SEARCH_READS)
    for mode, term in SEARCH_TERMS.items():
        assert classify(term)[0] is mode


CASES = [(role, key) for role in Role for key in SORT_KEYS]


@pytest.mark.parametrize(("role", "key"), CASES, ids=[f"{r.value}-{k}" for r, k in CASES])
def test_sort_keys(ask, role, key):
    body = ask(role, LIST, {"order": {"field": key, "direction": "DESC"}})
    if _reads_shown(role, SORT_READS[key]):
        _assert_served(body)
    else:
        _assert_refused(body, key)


CASES = [(role, name) for role in Role for name in FILTERS]


@pytest.mark.parametrize(("role", "name"), CASES, ids=[f"{r.value}-{n}" for r, n in CASES])
def test_filters(ask, role, name):
    body = ask(role, LIST, {"filter": {name: _sample(FILTER_FIELDS[name].type)}})
    if _reads_shown(role, FILTER_READS[FILTERS[name]]):
        _assert_served(body)
    else:
        _assert_refused(body, f"filter.{name}")


CASES = [(role, mode) for role in Role for mode in SEARCHES]


@pytest.mark.parametrize(("role", "mode"), CASES, ids=[f"{r.value}-{m.value}" for r, m in CASES])
def test_search_modes(ask, role, mode):
    body = ask(role, LIST, {"search": SEARCH_TERMS[mode]})
    if _reads_shown(role, SEARCH_READS[mode.value]):
        _assert_served(body)
    else:
        _assert_refused(body, "search")


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_at_risk_customers_only_for_roles_that_see_downgrade_risk(ask, role):
    body = ask(role, AT_RISK, {})
    if _reads_shown(role, "downgrade_risk_level"):
        _assert_served(body, "atRiskCustomers")
    else:
        _assert_refused(body, "atRiskCustomers")


AT_RISK_KIND = "{ atRiskCustomers(kind: KIND, first: 50) { totalCount edges { node { id } } } }"
WIN_BACK = "{ winBackCustomers(first: 50) { totalCount edges { node { id } } } }"
FIXED_LISTS = [
    ("atRiskCustomers", AT_RISK_KIND.replace("KIND", kind), f"atRiskCustomers_{kind}")
    for kind in ("DOWNGRADE", "CHURN", "ANY")
] + [("winBackCustomers", WIN_BACK, "winBackCustomers")]
CASES = [(role, case) for role in Role for case in FIXED_LISTS]


@pytest.mark.parametrize(("role", "case"), CASES, ids=[f"{r.value}-{c[2]}" for r, c in CASES])
def test_fixed_lists_only_for_roles_that_see_what_they_are_made_of(ask, role, case):
    field, query, listed = case
    body = ask(role, query, {})
    if all(_reads_shown(role, read) for read in LIST_READS[listed]):
        _assert_served(body, field)
    else:
        _assert_refused(body, field)


def _hop_value(driver, settings, graphql_name: str):
    """A filter value the hop customer matches."""
    raw = raw_customer(driver, settings.neo4j_database, HOP)
    field = FILTER_READS[FILTERS[graphql_name]]
    if graphql_name == "unassigned":
        assert raw["relationship_manager"] is not None
        return False
    if graphql_name in ("tierChangedSince", "tierDirection"):
        change = driver.execute_query(
            HOP_CHANGE,
            id=HOP,
            database_=settings.neo4j_database,
            routing_control=RoutingControl.READ,
        ).records[0]
        return change["since"] if graphql_name == "tierChangedSince" else change["direction"]
    if graphql_name == "lifecycleStages":
        return [raw["lifecycle_stage"]]
    if graphql_name == "branchId":
        return driver.execute_query(
            "MATCH (b:Branch)<-[:WORKS_AT]-(:Employee {employee_id: $rm}) RETURN b.branch_id AS b",
            rm=raw["relationship_manager"],
            database_=settings.neo4j_database,
            routing_control=RoutingControl.READ,
        ).records[0]["b"]
    value = raw[field]
    assert value is not None, f"the hop customer has no {field}"
    return (
        [value]
        if isinstance(get_nullable_type(FILTER_FIELDS[graphql_name].type), GraphQLList)
        else value
    )


HOP_CASES = (
    [(role, "order", key) for role in HOP_ROLES for key in SORT_KEYS]
    + [(role, "filter", name) for role in HOP_ROLES for name in FILTERS]
    + [(role, "search", mode.value) for role in HOP_ROLES for mode in SEARCHES]
)


@pytest.mark.parametrize(
    ("role", "kind", "argument"),
    HOP_CASES,
    ids=[f"{r.value}-{k}-{a}" for r, k, a in HOP_CASES],
)
def test_a_referral_hop_leaves_lists_by_fields_its_view_masks(
    ask, driver, settings, role, kind, argument
):
    if kind == "order":
        field, variables = SORT_READS[argument], {"order": {"field": argument}}
    elif kind == "filter":
        field = FILTER_READS[FILTERS[argument]]
        variables = {"filter": {argument: _hop_value(driver, settings, argument)}}
    else:
        field, variables = SEARCH_READS[argument], {"search": SEARCH_TERMS[SearchMode(argument)]}
    assert _reads_shown(role, field)  # the direct view shows it: the list is served
    body = ask(role, LIST, variables)
    ids = _assert_served(body)
    listed = HOP in ids
    assert listed == _shown(ROLES[role].hop_view, field), (role, argument, ids)
    assert body["data"]["customers"]["totalCount"] == len(ids)


def test_the_branch_filters_one_declared_read_covers_the_home_branch_too():
    """branchId reads the relationship manager's branch and the home branch; FILTER_READS names
    one field, so every view must show the two alike."""
    assert FILTER_READS["branch_id"] == "relationship_manager"
    for name, view in VIEWS.items():
        assert view["home_branch"] is view["relationship_manager"], name


# C000003 (nobody's customer) and C000004 (E0002's, at BR002) with BR001 as their home branch.
HOMES_AT_BR001 = """
MATCH (b:Branch {branch_id: 'BR001'}), (c:Customer) WHERE c.customer_id IN ['C000003', 'C000004']
OPTIONAL MATCH (c)-[old:HOME_BRANCH]->()
DELETE old
MERGE (c)-[:HOME_BRANCH]->(b)
"""
HOMES_AS_LOADED = """
MATCH (c:Customer) WHERE c.customer_id IN ['C000003', 'C000004']
OPTIONAL MATCH (c)-[h:HOME_BRANCH]->()
DELETE h
WITH DISTINCT c WHERE c.customer_id = 'C000004'
MATCH (b:Branch {branch_id: 'BR002'})
MERGE (c)-[:HOME_BRANCH]->(b)
"""
# Who belongs to a branch, read off the graph: managed by its staff, or it is their home branch.
OF_BRANCH = """
MATCH (b:Branch {branch_id: $b})
RETURN COLLECT { MATCH (b)<-[:WORKS_AT]-(:Employee)-[:MANAGES]->(c:Customer) RETURN c.customer_id
                 UNION MATCH (b)<-[:HOME_BRANCH]-(c:Customer) RETURN c.customer_id } AS ids
"""


def test_the_branch_filter_is_the_branch_managers_scope(oracle_api, auth_header, driver, settings):
    """CustomerFilter.branchId and a branch manager's scope are one definition: the customers
    its staff manage or whose home branch it is (managed at another branch, or by nobody)."""

    def listed(role: Role, variables: dict, **claims: str) -> set[str]:
        resp = oracle_api.post(
            "/graphql",
            json={"query": LIST, "variables": variables},
            headers=auth_header(role.value, **claims),
        )
        return set(_assert_served(resp.json()))

    def write(query: str) -> None:
        driver.execute_query(
            query, database_=settings.neo4j_database, routing_control=RoutingControl.WRITE
        )

    write(HOMES_AT_BR001)
    try:
        for branch in ("BR001", "BR002"):
            [row] = driver.execute_query(
                OF_BRANCH,
                b=branch,
                database_=settings.neo4j_database,
                routing_control=RoutingControl.READ,
            ).records
            expected = set(row["ids"])
            filtered = listed(Role.ADMIN, {"filter": {"branchId": branch}})
            scope = listed(Role.BRANCH_MANAGER, {}, branch_id=branch)
            assert filtered == scope == expected, (branch, filtered, scope, expected)
        # the home customers are the branch's: the unassigned one and another branch's one
        assert {"C000003", "C000004"} <= listed(Role.ADMIN, {"filter": {"branchId": "BR001"}})
        assert "C000004" in listed(Role.ADMIN, {"filter": {"branchId": "BR002"}})
    finally:
        write(HOMES_AS_LOADED)
