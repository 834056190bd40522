"""Cursors as data leaving the building (issue 16, finding 1).

Every connection's cursors are read here the way an attacker would (base64, then JSON): they must
give away nothing of the page beyond what its nodes show, they must work only for the caller and
the query they were issued for, and anything else offered as ``after`` (tampered, forged, foreign,
malformed) is BAD_USER_INPUT naming ``after``. Every list honours ``MAX_PAGE_SIZE``. Connections
and sort keys are read from the GraphQL schema; over real HTTP and Neo4j.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import pytest
from graphql import GraphQLEnumType, GraphQLObjectType, GraphQLScalarType, get_named_type
from neo4j import RoutingControl
from pydantic import SecretStr
from starlette.testclient import TestClient

from auth.masking import Mask
from auth.policy import OPERATIONS, ROLES, VIEWS, Operation, Role
from auth.principal import Principal
from core.errors import BadUserInput
from core.settings import Settings
from schema import build_schema
from tests.bank_graph import load_bank
from tests.conftest import wipe

SCHEMA = build_schema()._schema
SORT_TYPE = SCHEMA.get_type("CustomerSort")
CUSTOMER = SCHEMA.get_type("Customer")
assert isinstance(SORT_TYPE, GraphQLEnumType)
assert isinstance(CUSTOMER, GraphQLObjectType)
SORT_KEYS = list(SORT_TYPE.values)
NODE_SCALARS = " ".join(
    name
    for name, f in CUSTOMER.fields.items()
    if isinstance(get_named_type(f.type), GraphQLScalarType | GraphQLEnumType) and not f.args
)
# The claims a token of each role carries against tests/bank_graph.py.
CLAIM_VALUES = {"customer_id": "C1000", "employee_id": "E1", "branch_id": "B1"}
OWN_CUSTOMER = "C1000"  # in every role's scope: managed by E1, who works at B1


def _claims(role: Role) -> dict[str, str]:
    return {c: CLAIM_VALUES[c] for c in ROLES[role].requires_claims}


@pytest.fixture(scope="module")
def bank(settings, driver, auth_header):
    wipe(driver, settings.neo4j_database)
    load_bank(driver, settings.neo4j_database)
    from scoring.config import load_config
    from scoring.job import run_scoring

    run_scoring(driver, database=settings.neo4j_database, cfg=load_config())
    from c360.app import create_app

    relaxed = settings.model_copy(
        update={"rate_limit_per_second": 1000.0, "rate_limit_burst": 5000}
    )
    with TestClient(create_app(relaxed)) as client:
        # one audited read, so that the audit trail has a page to take a cursor from
        admin = auth_header("admin")
        query = f'{{ customer(id: "{OWN_CUSTOMER}") {{ id }} }}'
        assert "errors" not in client.post("/graphql", json={"query": query}, headers=admin).json()
        yield client


def _post(client, auth_header, role: Role, query: str, variables: dict, **who) -> dict:
    headers = auth_header(role.value, **{**_claims(role), **who})
    # json.dumps escapes a lone surrogate (\ud800), which a JSON body may carry
    resp = client.post(
        "/graphql",
        content=json.dumps({"query": query, "variables": variables}),
        headers={**headers, "Content-Type": "application/json"},
    )
    # 400: a body the HTTP edge refuses before GraphQL (text that is not valid Unicode)
    assert resp.status_code in (200, 400), resp.text
    return resp.json()


# ------------------------------------------------------------------ what an attacker reads


def _attacker_reads(cursor: str) -> tuple[list | None, bytes]:
    """(the JSON leaves, when base64 then JSON gives any; the decoded bytes)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, binascii.Error):
        return None, b""
    try:
        decoded = json.loads(raw.decode())
    except (UnicodeDecodeError, ValueError):
        return None, raw
    leaves: list = []

    def walk(v):
        if isinstance(v, list | tuple):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        else:
            leaves.append(v)

    walk(decoded)
    return leaves, raw


def _texts(value) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, list | tuple):
        return set().union(*(_texts(v) for v in value)) if value else set()
    if isinstance(value, dict):
        return set().union(*(_texts(v) for v in value.values())) if value else set()
    if hasattr(value, "iso_format"):
        return {value.iso_format()}
    if isinstance(value, bool):
        return {json.dumps(value)}
    if isinstance(value, int | float):
        return {json.dumps(value), json.dumps(float(value))}
    return {str(value)}


def _stored(driver, settings, ids: list[str]) -> dict[str, dict]:
    records = driver.execute_query(
        "MATCH (c:Customer) WHERE c.customer_id IN $ids RETURN c.customer_id AS id, c {.*} AS c",
        ids=ids,
        database_=settings.neo4j_database,
        routing_control=RoutingControl.READ,
    ).records
    return {r["id"]: r["c"] for r in records}


def _assert_reveals_nothing(cursor: str, node: dict, stored: dict) -> None:
    hidden = _texts(stored) - _texts(node)
    leaves, raw = _attacker_reads(cursor)
    for leaf in leaves or []:
        assert not (_texts(leaf) & hidden), f"cursor reveals {leaf!r} (node shows {node})"
    for text in hidden:
        if len(text.encode()) >= 6:  # shorter strings could occur by chance in random bytes
            assert text.encode() not in raw, f"cursor reveals {text!r}"


PAGE = """query($order: CustomerOrder) { customers(orderBy: $order, first: 5) {
  pageInfo { endCursor } edges { cursor node { %s } } } }"""
AT_RISK_PAGE = """{ atRiskCustomers(first: 5) {
  pageInfo { endCursor } edges { cursor node { %s } } } }"""


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_cursors_reveal_nothing_the_node_does_not_show(bank, auth_header, driver, settings, role):
    pages = [
        (PAGE % NODE_SCALARS, {"order": {"field": key, "direction": "DESC"}}, "customers")
        for key in SORT_KEYS
    ] + [(AT_RISK_PAGE % NODE_SCALARS, {}, "atRiskCustomers")]
    decoded, in_clear = 0, []
    for query, variables, field in pages:
        body = _post(bank, auth_header, role, query, variables)
        if body.get("errors"):  # which arguments a role may use: tests/test_filter_oracles.py
            assert body["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "BAD_USER_INPUT")
            continue
        page = body["data"][field]
        edges = page["edges"]
        stored = _stored(driver, settings, [e["node"]["id"] for e in edges])
        for edge in edges:
            _assert_reveals_nothing(edge["cursor"], edge["node"], stored[edge["node"]["id"]])
            decoded += 1
            if edge["node"]["id"].encode() in _attacker_reads(edge["cursor"])[1]:
                in_clear.append(edge["cursor"])
        if edges:
            assert page["pageInfo"]["endCursor"] == edges[-1]["cursor"]
    assert decoded, f"no page was served to {role.value}"
    assert not in_clear, f"opaque: not even what the node shows ({in_clear[:3]})"


# ------------------------------------------------------------------ one caller, one query


INTERACTIONS_PAGE = """query($first: Int, $after: String, $kinds: [InteractionKind!]) {
  customer(id: "%s") { interactions(first: $first, after: $after, kinds: $kinds) {
    pageInfo { endCursor } } } }"""


def _connections(role: Role) -> dict[str, tuple[str, dict[str, Any], dict[str, Any], list[str]]]:
    """The lists this role may page through: name -> (document, variables, variables of
    another query of the same list, path to pageInfo)."""
    view = VIEWS[ROLES[role].view]
    out: dict[str, tuple[str, dict[str, Any], dict[str, Any], list[str]]] = {
        "customers": (
            """query($first: Int, $after: String, $dir: SortDirection! = ASC) {
              customers(first: $first, after: $after, orderBy: {direction: $dir}) {
                pageInfo { endCursor } } }""",
            {"dir": "ASC"},
            {"dir": "DESC"},
            ["customers"],
        )
    }
    if view["downgrade_risk_level"] is Mask.CLEAR:
        out["atRiskCustomers"] = (
            """query($first: Int, $after: String) {
              atRiskCustomers(first: $first, after: $after) { pageInfo { endCursor } } }""",
            {},
            {},  # no other query of this list: its cursor offered to `customers` instead
            ["atRiskCustomers"],
        )
    if view["interactions"] is Mask.CLEAR:
        out["interactions"] = (
            INTERACTIONS_PAGE % OWN_CUSTOMER,
            {"kinds": None},
            {"kinds": ["SERVICE"]},
            ["customer", "interactions"],
        )
    if role in OPERATIONS[Operation.READ_AUDIT]:
        out["auditEvents"] = (
            """query($first: Int!, $after: String, $subject: String) {
              auditEvents(first: $first, after: $after, subject: $subject) {
                pageInfo { endCursor } } }""",
            {"subject": None},
            {"subject": "someone-else"},
            ["auditEvents"],
        )
    return out


def _page_info(body: dict, path: list[str]) -> dict:
    node = body["data"]
    for step in path:
        node = node[step]
    return node["pageInfo"]


def _assert_bad_after(body: dict) -> None:
    assert body.get("errors"), body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert "after" in error["message"], error


def _first_cursor(bank, auth_header, role, query, variables, path) -> str:
    body = _post(bank, auth_header, role, query, {**variables, "first": 1})
    assert "errors" not in body, body
    cursor = _page_info(body, path)["endCursor"]
    assert cursor, f"no page to take a cursor from ({role.value}, {path})"
    return cursor


CONNECTION_CASES = [(role, name) for role in Role for name in _connections(role)]


@pytest.mark.parametrize(
    ("role", "connection"),
    CONNECTION_CASES,
    ids=[f"{r.value}-{c}" for r, c in CONNECTION_CASES],
)
def test_a_cursor_works_only_for_its_caller_and_query(bank, auth_header, role, connection):
    query, variables, other_query, path = _connections(role)[connection]
    cursor = _first_cursor(bank, auth_header, role, query, variables, path)
    again = {**variables, "first": 1, "after": cursor}
    ok = _post(bank, auth_header, role, query, again)
    assert "errors" not in ok, ok
    # the same role and claims, another person
    _assert_bad_after(_post(bank, auth_header, role, query, again, subject="someone-else"))
    # another role
    other_role = Role.ADMIN if role is not Role.ADMIN else Role.AUDITOR
    if connection in _connections(other_role):
        _assert_bad_after(_post(bank, auth_header, other_role, query, again))
    # the same caller, another query (or, for a list without arguments, another list)
    if other_query:
        other = {**other_query, "first": 1, "after": cursor}
        _assert_bad_after(_post(bank, auth_header, role, query, other))
    else:
        customers_query, customers_variables, _, _ = _connections(role)["customers"]
        other = {**customers_variables, "first": 1, "after": cursor}
        _assert_bad_after(_post(bank, auth_header, role, customers_query, other))


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


FORGED = {
    "json-sort-value-and-id": _b64(json.dumps(["", "C1000"])),
    "json-integer": _b64(json.dumps([12345, "C1000"])),
    "json-integer-alone": _b64("12345"),
    "audit-style": _b64("2026-01-01T00:00:00+00:00|x"),
    "integer-text": "12345",
    "not-base64": "!!not-a-cursor",
    "empty": "",
    "very-long": "A" * 5000,
}


@pytest.mark.parametrize(
    ("role", "connection"),
    CONNECTION_CASES,
    ids=[f"{r.value}-{c}" for r, c in CONNECTION_CASES],
)
def test_tampered_forged_and_malformed_cursors_are_bad_user_input(
    bank, auth_header, role, connection
):
    query, variables, _, path = _connections(role)[connection]
    cursor = _first_cursor(bank, auth_header, role, query, variables, path)
    middle = len(cursor) // 2
    flipped = cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1 :]
    bad = {**FORGED, "flipped": flipped, "truncated": cursor[:-4], "extended": cursor + "AAAA"}
    for name, after in bad.items():
        body = _post(bank, auth_header, role, query, {**variables, "first": 1, "after": after})
        assert body.get("errors"), (name, body)
        _assert_bad_after(body)
    # a lone surrogate: refused by the HTTP edge as text that is not Unicode, or by the codec
    body = _post(bank, auth_header, role, query, {**variables, "first": 1, "after": "\ud800"})
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert "after" in error["message"] or "variables" in error["message"], error


# ------------------------------------------------------------------ the codec itself


def _principal(subject: str = "u1", role: Role = Role.RELATIONSHIP_MANAGER) -> Principal:
    return Principal(subject=subject, roles=frozenset({role}), employee_id="E1")


def test_the_codec_round_trips_and_hides_the_length_of_the_sort_value():
    from resolvers.pagination import list_cursors

    settings = Settings()
    codec = list_cursors(settings, _principal(), "customers", order="NAME")
    short, long = codec.encode("张", "C1"), codec.encode("张" * 30, "C1")
    assert codec.decode(short, arity=2) == ("张", "C1")
    assert codec.decode(long, arity=2) == ("张" * 30, "C1")
    assert len(short) == len(long)
    assert codec.encode("张", "C1") != short  # a fresh nonce each time
    assert codec.decode(None, arity=2) is None


def test_a_pages_cursors_are_sealed_when_asked_for_each_once():
    from resolvers.pagination import Cursors, list_cursors

    codec = list_cursors(Settings(), _principal(), "interactions", customer_id="C1")
    positions = [(f"2026-11-0{d}T09:00:00+00:00", f"I{d}") for d in (3, 2, 1)]
    cursors = Cursors(codec, positions)
    assert len(cursors) == 3 and cursors._sealed == {}  # none sealed before one is asked for
    last = cursors[-1]
    assert cursors._sealed == {2: last} and cursors[2] is last  # the same cursor, sealed once
    assert [codec.decode(c, arity=2) for c in cursors] == positions
    assert cursors[0:2] == [cursors[0], cursors[1]]
    with pytest.raises(IndexError):
        cursors[3]


def test_the_codec_refuses_other_callers_queries_and_keys():
    from resolvers.pagination import list_cursors

    settings = Settings()
    cursor = list_cursors(settings, _principal(), "customers", order="NAME").encode(1.5, "C1")
    others = [
        list_cursors(settings, _principal("u2"), "customers", order="NAME"),
        list_cursors(settings, _principal(role=Role.ADMIN), "customers", order="NAME"),
        list_cursors(settings, _principal(), "customers", order="AUM"),
        list_cursors(settings, _principal(), "interactions", order="NAME"),
        list_cursors(
            Settings(id_pepper=SecretStr("another-pepper")), _principal(), "customers", order="NAME"
        ),
    ]
    for codec in others:
        with pytest.raises(BadUserInput, match="^after "):
            codec.decode(cursor, arity=2)


@pytest.mark.parametrize("after", [*FORGED.values(), "\ud800", "A\ud800A", "é" * 8])
def test_the_codec_refuses_malformed_text(after):
    from resolvers.pagination import list_cursors

    codec = list_cursors(Settings(), _principal(), "customers", order="NAME")
    with pytest.raises(BadUserInput, match="^after "):
        codec.decode(after, arity=2)


# ------------------------------------------------------------------ one page limit everywhere

# How to reach an object type that has a paginated field, from the root.
PARENTS = {"Query": "%s", "Customer": 'customer(id: "' + OWN_CUSTOMER + '") { %s }'}
PAGINATED = [
    (type_name, field_name)
    for type_name, t in SCHEMA.type_map.items()
    if isinstance(t, GraphQLObjectType) and not type_name.startswith("__")
    for field_name, f in t.fields.items()
    if "first" in f.args
]


@pytest.mark.parametrize(
    ("type_name", "field_name"), PAGINATED, ids=[f"{t}.{f}" for t, f in PAGINATED]
)
def test_every_list_honours_max_page_size(bank, auth_header, settings, type_name, field_name):
    from c360.app import create_app

    limit = 50
    small = settings.model_copy(update={"max_page_size": limit})
    with TestClient(create_app(small)) as client:
        for first, refused in ((limit, False), (limit + 1, True)):
            selection = PARENTS[type_name] % f"{field_name}(first: {first}) {{ __typename }}"
            body = _post(client, auth_header, Role.ADMIN, "{ " + selection + " }", {})
            if refused:
                error = body["errors"][0]
                assert error["extensions"]["code"] == "BAD_USER_INPUT", error
                assert error["message"].startswith("first must be between 1 and 50"), error
            else:
                assert "errors" not in body, body
