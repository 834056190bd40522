"""A profile that shows the first page of its timeline brings that page in its own graph query
(one round trip fewer: graph/queries/customers.py, part ``timeline``). The page must be the one
the timeline's own query answers, for every role and every customer the policy graph holds (in
scope directly, by a hop, out of scope, missing), field by field as the schema declares them.

The same document is asked twice: as it is (the page comes with the profile), and with the
timeline selected a second time under an alias, which leaves both to the timeline's own query
(the profile brings a page only for a single, unfiltered first page). Cursors are sealed with a
fresh nonce each time, so pages are compared by what they hold and by the page each
``endCursor`` leads to.
"""

from __future__ import annotations

import pytest
from graphql import GraphQLObjectType, get_named_type
from neo4j import RoutingControl
from starlette.testclient import TestClient

from auth import enforce
from auth.policy import ROLES, Role
from auth.principal import Principal
from graph.queries.interactions import PLAIN_ITEM_FIELDS, item_parts_for, parts_cover
from tests.policy_graph import CLAIMS, CUSTOMER_IDS, MISSING_ID, load_policy_graph
from tests.round_trips import CountingSession, count_queries
from tests.test_leak_crawler import GQL, selection

# Every field of a timeline page and of its items, generated from the schema.
CUSTOMER = GQL.get_type("Customer")
assert isinstance(CUSTOMER, GraphQLObjectType)
CONNECTION = {
    name: selection(
        CUSTOMER.fields[name].type,
        2,
        frozenset({"Customer", get_named_type(CUSTOMER.fields[name].type).name}),
        set(),
    )
    for name in ("timeline", "interactions")
}
# Items selected more narrowly: the page then leaves out what they do not show (an item's
# handler, its progress notes), and must hold the same values for what they do.
NARROW = {
    "plain": "id channel kind occurredAt summary",
    "handler": "id handledBy",
    "progress": "id progress { at note }",
    "keys": "id kind severity nextStepDue customerName handledBy __typename",
    # every field the items' key-by-key projection serves (graph/queries/interactions.py)
    "every plain": " ".join(f for f in PLAIN_ITEM_FIELDS if f != "progress") + " progress { at }",
}
ITEM_TYPE = GQL.get_type("Interaction")
assert isinstance(ITEM_TYPE, GraphQLObjectType)
# a plain field the schema no longer has would be projected for nothing
assert set(PLAIN_ITEM_FIELDS) - {"__typename"} <= set(ITEM_TYPE.fields)
ITEMS = {"timeline": "edges {{ cursor node {{ {} }} }}", "interactions": "items {{ {} }}"}


def _narrow(field: str, items: str) -> str:
    return f"totalCount pageInfo {{ hasNextPage endCursor }} {ITEMS[field].format(items)}"


def _items(page: dict, field: str) -> list[dict]:
    return [e["node"] for e in page["edges"]] if field == "timeline" else page["items"]


# More interactions for the first customer than a page holds, one a complaint with a handler and
# progress notes, so pages, has-next and the handler are all exercised.
EXTRA = """
MATCH (c:Customer {customer_id: 'C000001'}), (e:Employee {employee_id: 'E0001'})
UNWIND range(1, 7) AS k
CREATE (c)-[:HAD]->(i:Interaction {interaction_id: 'PT-' + k, kind: 'SERVICE', channel: 'PHONE',
  occurred_at: datetime('2026-11-01T09:00:00Z') - duration({days: k}), summary: 'call ' + k})
WITH DISTINCT c, e
CREATE (c)-[:HAD]->(i:Interaction {interaction_id: 'PT-C', kind: 'COMPLAINT', channel: 'BRANCH',
  severity: 'MAJOR', summary: 'fee charged twice', status: 'OPEN',
  occurred_at: datetime('2026-11-02T08:00:00+08:00')})
CREATE (i)-[:HANDLED_BY]->(e)
CREATE (i)-[:HAS_PROGRESS]->(:ComplaintProgress {at: datetime('2026-11-02T09:00:00Z'),
  note: 'called back', by: 'E0001'})
"""
CASES = [(role, cid) for role in Role for cid in (*CUSTOMER_IDS, MISSING_ID)]


@pytest.fixture(scope="module")
def api(settings, driver):
    from c360.app import create_app

    load_policy_graph(driver, settings.neo4j_database, scored_contacts=True)
    driver.execute_query(
        EXTRA, database_=settings.neo4j_database, routing_control=RoutingControl.WRITE
    )
    # Many requests as a few subjects; the limiter has its own tests.
    relaxed = settings.model_copy(
        update={"rate_limit_per_second": 1000.0, "rate_limit_burst": 5000}
    )
    with TestClient(create_app(relaxed)) as client:
        count_queries(client.app.state.driver)
        yield client


def _ask(api, auth_header, role: Role, query: str, variables: dict) -> tuple[dict, int]:
    claims = {c: CLAIMS[c] for c in ROLES[role].requires_claims}
    CountingSession.queries = []
    resp = api.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers=auth_header(role.value, **claims),
    )
    assert resp.status_code == 200, resp.text
    # An item's handler and progress notes are read only when the items show them.
    sent = " ".join(CountingSession.queries)
    assert ("HANDLED_BY]" in sent) <= ("handledBy" in query), sent
    assert ("HAS_PROGRESS]" in sent) <= ("progress" in query), sent
    return resp.json(), len(CountingSession.queries)


def _principal(role: Role) -> Principal:
    claims = {c: CLAIMS[c] for c in ROLES[role].requires_claims}
    return Principal(subject="t", roles=frozenset({role}), **claims)


def _document(field: str, *aliases: str, after: bool = False, items: str | None = None) -> str:
    args = "first: $n, after: $after" if after else "first: $n"
    page = CONNECTION[field] if items is None else _narrow(field, items)
    fields = " ".join(f"{a}: {field}({args}) {{ {page} }}" for a in aliases)
    head = "$id: ID!, $n: Int, $after: String" if after else "$id: ID!, $n: Int"
    return f"query({head}) {{ customer(id: $id) {{ id {fields} }} }}"


def _without_cursors(value):
    """The answer without its sealed cursors (a fresh nonce each time)."""
    if isinstance(value, dict):
        return {
            k: _without_cursors(v) for k, v in value.items() if k not in ("cursor", "endCursor")
        }
    if isinstance(value, list):
        return [_without_cursors(v) for v in value]
    return value


def _project(whole, narrow):
    """``whole`` cut down to the keys ``narrow`` has (recursively, lists item by item)."""
    if isinstance(narrow, dict) and isinstance(whole, dict):
        return {k: _project(whole.get(k), v) for k, v in narrow.items()}
    if isinstance(narrow, list) and isinstance(whole, list) and len(whole) == len(narrow):
        return [_project(w, n) for w, n in zip(whole, narrow, strict=True)]
    return whole


def _end_cursor(page: dict | None) -> str | None:
    return None if page is None else page["pageInfo"]["endCursor"]


@pytest.mark.parametrize("field", ["timeline", "interactions"])
@pytest.mark.parametrize(("role", "customer_id"), CASES, ids=[f"{r.value}-{c}" for r, c in CASES])
def test_the_page_a_profile_brings_is_the_timelines_own(api, auth_header, role, customer_id, field):
    variables = {"id": customer_id, "n": 3}
    alone, alone_trips = _ask(api, auth_header, role, _document(field, "page"), variables)
    if enforce.hidden_when_direct(_principal(role), "interactions"):  # nothing read for them
        assert ":HAD]" not in " ".join(CountingSession.queries), CountingSession.queries
    twice, twice_trips = _ask(api, auth_header, role, _document(field, "page", "again"), variables)
    assert alone.get("errors") == twice.get("errors")
    if twice["data"] is None or twice["data"]["customer"] is None:
        assert alone["data"] == twice["data"]
        return
    own = _without_cursors(twice["data"]["customer"])
    assert _without_cursors(alone["data"]["customer"])["page"] == own["page"] == own["again"]
    if own["page"] is not None:
        assert (alone_trips, twice_trips) == (2, 3)  # the profile (+ the timeline), the audit
    # The next page each end cursor leads to is the same page.
    nexts = []
    for answer in (alone, twice):
        cursor = _end_cursor(answer["data"]["customer"]["page"])
        if cursor is None:
            continue
        body, _ = _ask(
            api,
            auth_header,
            role,
            _document(field, "page", after=True),
            {**variables, "after": cursor},
        )
        assert "errors" not in body, body
        nexts.append(_without_cursors(body["data"]["customer"]["page"]))
    assert nexts == [] or nexts[0] == nexts[1]
    # Narrower selections of the items: the same values for what they show, by either path.
    whole = own["page"]
    for items in NARROW.values():
        narrow, _ = _ask(api, auth_header, role, _document(field, "page", items=items), variables)
        sent = " ".join(CountingSession.queries)  # the page with the profile
        narrow_twice, _ = _ask(
            api, auth_header, role, _document(field, "page", "again", items=items), variables
        )
        assert "errors" not in narrow and "errors" not in narrow_twice
        # Plain fields only: the items' keys are projected one by one, not all of them.
        sent += " ".join(CountingSession.queries)  # the timeline's own query
        assert ("i {.*" in sent) <= (whole is None), items
        pages = [narrow["data"]["customer"]["page"], *narrow_twice["data"]["customer"].values()]
        pages = [p for p in pages if isinstance(p, dict)]  # "id" is the customer's own
        if whole is None:
            assert pages == []
            continue
        for page in pages:
            narrow_items = _items(_without_cursors(page), field)
            assert narrow_items == _project(_items(whole, field), narrow_items)
            assert page["totalCount"] == whole["totalCount"]


def test_the_first_customer_has_a_paged_timeline_with_a_handled_complaint(api, auth_header):
    """The fixture's customer: the page above is not trivially empty."""
    body, trips = _ask(
        api,
        auth_header,
        Role.ADMIN,
        "query($id: ID!) { customer(id: $id) { timeline(first: 20) { totalCount "
        "pageInfo { hasNextPage } nodes { id handledBy } } } }",
        {"id": "C000001"},
    )
    page = body["data"]["customer"]["timeline"]
    assert page["totalCount"] >= 10 and not page["pageInfo"]["hasNextPage"]
    complaint = next(n for n in page["nodes"] if n["id"] == "PT-C")
    assert complaint["handledBy"] == "E0001"
    assert trips == 2


def test_a_first_out_of_range_is_the_timelines_error_with_the_customer_still_shown(
    api, auth_header
):
    body, _ = _ask(
        api,
        auth_header,
        Role.ADMIN,
        'query { customer(id: "C000001") { id timeline(first: 500) { totalCount } } }',
        {},
    )
    assert body["data"]["customer"] == {"id": "C000001", "timeline": None}
    [error] = body["errors"]
    assert error["path"] == ["customer", "timeline"] and "first" in error["message"]


def test_a_page_fetched_with_fewer_keys_is_not_taken_for_one_that_needs_more():
    """The page a profile brought answers a timeline field only if its items hold what that
    field's items show: no markers means every key, which a key-by-key page does not hold."""
    plain = item_parts_for(["id", "summary"])
    derived = item_parts_for(["id", "slaStatus"])  # a service level: every key
    handled = item_parts_for(["id", "handledBy"])
    assert parts_cover(plain, plain) and parts_cover(derived, plain)
    assert not parts_cover(plain, derived) and not parts_cover(plain, handled)
    assert parts_cover(item_parts_for(["id", "slaStatus", "handledBy"]), handled)
    assert not parts_cover(derived, handled)
