"""The access matrix, generated from auth/policy.py: every role x every customer field x
customers in scope (direct and hop), out of scope and nonexistent, over real HTTP and Neo4j.

Expected values come from the policy tables (scope kind -> reachable customers in
tests/policy_graph.py, view -> mask per field) applied to the stored values; spot checks with
literal strings keep the masks themselves honest (see also tests/test_masking.py).
"""

from __future__ import annotations

import uuid

import pytest
from neo4j import RoutingControl
from starlette.testclient import TestClient

from auth.masking import Mask, apply_mask
from auth.policy import CUSTOMER_FIELDS, ROLES, VIEWS, Role
from tests.policy_graph import (
    CLAIMS,
    CUSTOMER_IDS,
    EXPECTED_ACCESS,
    MISSING_ID,
    load_policy_graph,
    raw_customer,
)

OBJECT_FIELDS = {
    "accounts": "accounts { id }",
    "household": "household { id }",
    "value": "value { score }",
    "risk": "risk { downgrade { level } }",
    "recommendations": "recommendations { productCode }",
    "interactions": "interactions { totalCount }",
    "relationship_manager": "relationshipManager { id }",
    "home_branch": "homeBranch { id }",
    "referred_by": "referredBy { id }",
    "referrals": "referrals { id }",
    "source_records": "sourceRecords { system sourceId }",
    # The fields that replace deprecated ones (2026-11-30): the same values, the same treatment.
    "holdings": "holdings { account { id } }",
    "household_membership": "householdMembership { household { id } }",
    "timeline": "timeline { totalCount }",
    "satisfaction": "satisfaction { average6m }",
    "relationship_manager_assignment": "relationshipManagerAssignment { employee { id } }",
    "referrer": "referrer { customer { id } }",
    "referred": "referred { customer { id } }",
    "tier_history": "tierHistory { id }",
}
# A new field -> the deprecated one it replaces (its stored value, its answer's shape).
REPLACES = {
    "holdings": "accounts",
    "household_membership": "household",
    "timeline": "interactions",
    "relationship_manager_assignment": "relationship_manager",
    "referrer": "referred_by",
    "referred": "referrals",
}
UNWRAP = {"holdings": "account", "household_membership": "household", "referred": "customer"}
UNWRAP_ONE = {"relationship_manager_assignment": "employee", "referrer": "customer"}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


SELECTION = " ".join(OBJECT_FIELDS.get(f, _camel(f)) for f in CUSTOMER_FIELDS)
QUERY = f"query($id: ID!) {{ customer(id: $id) {{ {SELECTION} }} }}"


def _role_claims(role: Role) -> dict[str, str]:
    return {c: CLAIMS[c] for c in ROLES[role].requires_claims}


def _as_graphql(field: str, value):
    if value is None:
        return None
    return value.isoformat() if field == "birth_date" else value


# A referral partner beyond the caller's scope, shown under an opaque id (resolvers/related.py).
MASKED_PARTNER = "masked"


def _partner(customer_id: str) -> str:
    return MASKED_PARTNER if customer_id.startswith("x-") else customer_id


def _partners_seen_by(stored, reach: dict[str, str]):
    """Stored referral partners as a caller reaching ``reach`` sees them."""
    if stored is None:
        return None
    if isinstance(stored, list):
        return sorted(p if p in reach else MASKED_PARTNER for p in stored)
    return stored if stored in reach else MASKED_PARTNER


def _from_graphql(field: str, value):
    """The GraphQL answer in the shape tests/policy_graph.raw_customer gives the stored value."""
    if value is None:
        return None
    if field in UNWRAP:
        inner = UNWRAP[field]
        value = [v[inner] for v in value] if isinstance(value, list) else value[inner]
    elif field in UNWRAP_ONE:
        value = value[UNWRAP_ONE[field]]
    field = REPLACES.get(field, field)
    if field == "referrals":
        return sorted(_partner(a["id"]) for a in value)
    if field == "referred_by":
        return _partner(value["id"])
    if field in ("accounts", "recommendations"):
        key = "productCode" if field == "recommendations" else "id"
        return sorted(a[key] for a in value)
    if field in ("household", "relationship_manager", "home_branch"):
        return value["id"]
    if field == "value":
        return value["score"]
    if field == "risk":
        return value["downgrade"]["level"]
    if field == "interactions":
        return value["totalCount"]
    if field == "satisfaction":
        return value["average6m"]
    if field == "tier_history":
        return sorted(c["id"] for c in value)
    if field == "source_records":
        return sorted(f"{r['system']}:{r['sourceId']}" for r in value)
    return value


CASES = [(role, cid) for role in Role for cid in (*CUSTOMER_IDS, MISSING_ID)]


@pytest.fixture(scope="module")
def policy_api(settings, driver):
    from c360.app import create_app

    load_policy_graph(driver, settings.neo4j_database, scored_contacts=True)
    with TestClient(create_app(settings)) as client:
        yield client


def _ask(client, auth_header, role: Role, customer_id: str) -> tuple[dict, str]:
    request_id = uuid.uuid4().hex
    headers = {**auth_header(role.value, **_role_claims(role)), "X-Request-ID": request_id}
    resp = client.post(
        "/graphql", json={"query": QUERY, "variables": {"id": customer_id}}, headers=headers
    )
    assert resp.status_code == 200, resp.text
    return resp.json(), request_id


@pytest.mark.parametrize(("role", "customer_id"), CASES, ids=[f"{r.value}-{c}" for r, c in CASES])
def test_matrix(policy_api, auth_header, driver, settings, role, customer_id):
    body, request_id = _ask(policy_api, auth_header, role, customer_id)
    access = EXPECTED_ACCESS[ROLES[role].scope].get(customer_id)
    if access is None:  # out of scope or nonexistent: the same NOT_FOUND
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]
        return
    assert "errors" not in body, body
    got = body["data"]["customer"]
    raw = raw_customer(driver, settings.neo4j_database, customer_id)
    policy = ROLES[role]
    view = VIEWS[policy.hop_view if access == "hop" else policy.view]
    for field in CUSTOMER_FIELDS:
        mask = view[field]
        value = _from_graphql(field, got[_camel(field)])
        if field == "aum":  # derived from the accounts, never masked
            assert mask is Mask.CLEAR and isinstance(value, float)
            continue
        stored = raw.get("customer_id" if field == "id" else REPLACES.get(field, field))
        if REPLACES.get(field, field) in ("referrals", "referred_by"):
            stored = _partners_seen_by(stored, EXPECTED_ACCESS[policy.scope])
        expected = _as_graphql(field, apply_mask(mask, stored, raw))
        assert value == expected, f"{role}/{customer_id}/{field} ({mask})"
        if mask is Mask.HIDDEN:
            assert value is None
        elif mask is not Mask.CLEAR and stored is not None and field != "national_id_last4":
            assert value != _as_graphql(field, stored), f"{field} must be masked for {role}"
    # Every personal-data read leaves an audit event naming who, what and whom.
    events = driver.execute_query(
        "MATCH (a:AuditEvent {request_id: $rid}) RETURN a {.*} AS a",
        rid=request_id,
        database_=settings.neo4j_database,
        routing_control=RoutingControl.READ,
    ).records
    assert len(events) == 1
    event = events[0]["a"]
    assert event["customer_ids"] == [customer_id]
    assert event["roles"] == [role.value]
    assert event["operation"] == "customer"
    assert event["subject"] == f"dev-{role.value}"
    assert set(event["fields"]) == {_camel(f) for f in CUSTOMER_FIELDS}
    assert event["client_address"]


@pytest.mark.parametrize(
    ("role", "customer_id", "field", "literal"),
    [
        (Role.CHANNEL_SERVICE, "C000001", "phone", "+86 138****5678"),
        (Role.CHANNEL_SERVICE, "C000001", "email", "z***@example.com"),
        (Role.CHANNEL_SERVICE, "C000001", "address", "上海"),
        (Role.CHANNEL_SERVICE, "C000001", "birthDate", None),
        (Role.CHANNEL_SERVICE, "C000001", "birthYear", 1980),
        (Role.CHANNEL_SERVICE, "C000001", "nationalIdLast4", "1234"),
        (Role.CHANNEL_SERVICE, "C000001", "valueScore", None),
        (Role.CHANNEL_SERVICE, "C000001", "tier", "CORE"),
        (Role.CUSTOMER, "C000001", "phone", "+8613812345678"),
        (Role.CUSTOMER, "C000001", "riskRating", None),
        (Role.CUSTOMER, "C000001", "downgradeRiskLevel", None),
        (Role.RELATIONSHIP_MANAGER, "C000001", "birthDate", "1980-05-17"),
        (Role.RELATIONSHIP_MANAGER, "C000001", "valueScore", 81.5),
        (Role.RELATIONSHIP_MANAGER, "C000004", "phone", "+86 137****2222"),
        (Role.RELATIONSHIP_MANAGER, "C000004", "valueScore", None),
        (Role.RELATIONSHIP_MANAGER, "C000005", "phone", "+8613500003333"),
        (Role.BRANCH_MANAGER, "C000002", "email", "li.na@example.com"),
        (Role.DATA_ENGINEER, "C000001", "name", "张*"),
        (Role.DATA_ENGINEER, "C000001", "nationalIdLast4", None),
        (Role.AUDITOR, "C000001", "riskRating", "LOW"),
        (Role.ADMIN, "C000003", "address", "杭州市西湖区文三路8号"),
    ],
)
def test_spot_checks_with_literal_values(
    policy_api, auth_header, role, customer_id, field, literal
):
    body, _ = _ask(policy_api, auth_header, role, customer_id)
    assert body["data"]["customer"][field] == literal


def test_every_customer_graphql_field_has_a_policy_entry():
    from schema import build_schema
    from schema.customers.customer import Customer

    schema = build_schema()
    in_sdl = schema._schema.type_map["Customer"].fields
    graphql_fields = {  # strawberry.Private state is in the definition, not in the schema
        f.python_name
        for f in Customer.__strawberry_definition__.fields
        if schema.config.name_converter.get_graphql_name(f) in in_sdl
    }
    assert graphql_fields - set(CUSTOMER_FIELDS) == set(), "add the new field to auth/policy.py"
    assert set(CUSTOMER_FIELDS) - graphql_fields == set()
    for view, treatments in VIEWS.items():
        assert set(treatments) == set(CUSTOMER_FIELDS), view


def test_every_role_has_a_policy_and_a_scope_expectation():
    assert set(ROLES) == set(Role)
    assert {ROLES[r].scope for r in Role} <= set(EXPECTED_ACCESS)
