"""Data stewards through the real API on a real graph (issue 20): every link explained, the
review queue, and confirmMatch / rejectMatch / splitCustomer.

The bank (tests/steward_bank.py) is three systems' extracts loaded by the real loader. What the
answers must be comes from the policy tables (auth/policy.py), the graph as stored, and the
loader itself: a merge must leave the golden record the loader makes of the same records as one
person, a split the customer the loader makes of each record alone. The relationships checked
are generated from graph/queries/identity.RELATIONSHIPS, which is itself checked against
graph/MODEL.md and the loaded graph.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver, RoutingControl
from starlette.testclient import TestClient

from auth.masking import Mask, apply_mask
from auth.policy import OPERATIONS, ROLES, VIEWS, Operation, Role
from core.settings import Settings
from etl.identity import GOLDEN_FIELDS
from graph import model
from graph.queries.identity import (
    CUSTOMER_EDGES,
    DERIVED,
    LINEAGE,
    NOT_SAME_AS_PAIRS,
    RELATIONSHIPS,
    UPSERT_REVIEWS,
    CustomerEdge,
    review_id,
)
from graph.queries.upserts import UPSERT_HOME_BRANCHES
from tests import steward_bank as bank
from tests.etl_support import load, reset

MODEL_MD = Path(model.__file__).resolve().parent / "MODEL.md"
NODE_KEYS = {n.label: n.key for n in model.NODES}
CLAIMS = {"customer_id": "C-0000100", "employee_id": "E01", "branch_id": "BR01"}
MERGED = "C-0000100"  # the loader's customer of 张伟's core, card and CRM records
OLD_CIF = "C-0000050"  # his old core record, alone
REVIEW = review_id(*bank.REVIEWED)
STEWARDS = sorted(OPERATIONS[Operation.READ_IDENTITY_REVIEWS], key=list(Role).index)
OTHERS = [r for r in Role if r not in OPERATIONS[Operation.READ_IDENTITY_REVIEWS]]

EXPLAIN = """query($id: ID!) { customer(id: $id) { id
  sourceRecords { system sourceId rule confidence matchWeight comparisons { name level weight } }
} }"""
QUEUE = """query($status: IdentityReviewStatus!, $first: Int, $after: String) {
  identityReviews(status: $status, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id reviewId status matchWeight probability
      comparisons { name level weight }
      records { system sourceId customer { id name tier restricted } }
      createdAt decidedBy decidedAt reason } } } }"""
REVIEW_FIELDS = """review { reviewId status decidedBy decidedAt reason
  records { system sourceId customer { id } } }"""
CONFIRM = f"""mutation($input: ConfirmMatchInput!) {{ confirmMatch(input: $input) {{
  clientMutationId customerId absorbedCustomerId {REVIEW_FIELDS} }} }}"""
REJECT = f"""mutation($input: RejectMatchInput!) {{ rejectMatch(input: $input) {{
  clientMutationId {REVIEW_FIELDS} }} }}"""
SPLIT = """mutation($input: SplitCustomerInput!) { splitCustomer(input: $input) {
  clientMutationId customerId records { system sourceId customer { id } } } }"""


# -- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def extracts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bank.write_extracts(tmp_path_factory.mktemp("stewards") / "bank", bank.SYSTEMS)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    from c360.app import create_app

    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def loaded(driver: Driver, settings: Settings, extracts: Path) -> None:
    """The bank for the tests that only read (one load for all of them)."""
    bank.load_steward_bank(driver, settings, extracts)


@pytest.fixture
def fresh(driver: Driver, settings: Settings, extracts: Path) -> None:
    """The bank again, for a test that decides."""
    bank.load_steward_bank(driver, settings, extracts)


def _claims(role: Role, **override: str) -> dict[str, str]:
    return {c: override.get(c, CLAIMS[c]) for c in ROLES[role].requires_claims}


def ask(
    client: TestClient, auth_header, role: Role, query: str, request_id: str | None = None, **v
) -> dict[str, Any]:
    claims = _claims(role, **v.pop("claims", {}))
    headers = {**auth_header(role.value, **claims), "X-Request-ID": request_id or uuid.uuid4().hex}
    resp = client.post("/graphql", json={"query": query, "variables": v}, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


def read(driver: Driver, settings: Settings, query: str, **params: Any) -> list[dict[str, Any]]:
    records = driver.execute_query(
        query, params, database_=settings.neo4j_database, routing_control=RoutingControl.READ
    ).records
    return [r.data() for r in records]


def decide(client, auth_header, document: str, role: Role = Role.DATA_ENGINEER, **fields) -> dict:
    request_id = uuid.uuid4().hex
    fields.setdefault("clientMutationId", uuid.uuid4().hex)
    body = ask(client, auth_header, role, document, request_id, input=fields)
    body["request_id"] = request_id
    return body


def audit_event(driver: Driver, settings: Settings, request_id: str) -> dict[str, Any]:
    [row] = read(
        driver, settings, "MATCH (a:AuditEvent {request_id: $r}) RETURN a {.*} AS a", r=request_id
    )
    return row["a"]


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    return value.iso_format() if hasattr(value, "iso_format") else value


def _props(props: dict[str, Any], drop: tuple[str, ...] = ("moved_from",)) -> tuple:
    return tuple(sorted((k, _plain(v)) for k, v in props.items() if k not in drop))


def _edge_query(edge: CustomerEdge) -> str:
    """The relationships of one declared kind at a customer, generated from the declaration."""
    t = edge.relationship.type
    pattern = f"(c)-[r:{t}]->(o)" if edge.side == "start" else f"(o)-[r:{t}]->(c)"
    return f"""MATCH (c:Customer {{customer_id: $id}}) MATCH {pattern}
               RETURN labels(o) AS labels, properties(o) AS o, properties(r) AS r"""


Relationships = dict[str, dict[tuple, tuple]]  # edge name -> other node's key -> properties


def relationships(driver: Driver, settings: Settings, customer_id: str) -> Relationships:
    out: Relationships = {}
    for edge in CUSTOMER_EDGES:
        label = edge.relationship.end if edge.side == "start" else edge.relationship.start
        found = {}
        for row in read(driver, settings, _edge_query(edge), id=customer_id):
            assert label in row["labels"], (edge.name, row["labels"])
            found[(label, *(row["o"][k] for k in NODE_KEYS[label]))] = _props(row["r"])
        out[edge.name] = found
    return out


HOME = "(Customer)-[:HOME_BRANCH]->(Branch) at its start"


def home_from_extracts(records: set[tuple[str, str]] | list[tuple[str, str]]) -> dict:
    """The home branch the loader's rule gives the customer of these source records, read from
    the extracts as the bank wrote them (graph/MODEL.md: no record of ours names a branch, so
    the opening branch of the oldest open PRIMARY core account), as :func:`relationships` shows
    it; empty when none."""
    core = bank.SYSTEMS["core"]
    accounts = {a["acct_no"]: a for a in core["accounts"]}
    held = [
        accounts[h["acct_no"]]
        for h in core["holdings"]
        if ("core", h["cust_no"]) in set(records) and h["holder_role"] == "PRIMARY"
        and not h["end_dt"]
    ]  # fmt: skip
    held.sort(key=lambda a: (a["acct_status"] == "CLOSED", a["open_dt"], a["acct_no"]))
    return {("Branch", held[0]["branch_code"]): ()} if held else {}


def customer(driver: Driver, settings: Settings, customer_id: str) -> dict[str, Any] | None:
    rows = read(
        driver, settings, "MATCH (c:Customer {customer_id: $id}) RETURN c {.*} AS c", id=customer_id
    )
    return rows[0]["c"] if rows else None


def golden(props: dict[str, Any] | None) -> dict[str, Any]:
    """The loaded fields of a golden record (survivorship's and the latest update)."""
    assert props is not None
    return {f: _plain(props.get(f)) for f in (*GOLDEN_FIELDS, "updated_at", "status")}


def records_of(driver: Driver, settings: Settings, customer_id: str) -> dict[tuple, dict]:
    rows = read(
        driver,
        settings,
        "MATCH (s:SourceRecord)-[r:RESOLVED_TO]->(:Customer {customer_id: $id}) "
        "RETURN s.system AS system, s.source_id AS source_id, properties(r) AS link",
        id=customer_id,
    )
    return {(r["system"], r["source_id"]): r["link"] for r in rows}


def not_same_as(driver: Driver, settings: Settings) -> set[frozenset[tuple[str, str]]]:
    """What the loader reads (graph/queries/identity.NOT_SAME_AS_PAIRS), as unordered pairs."""
    return {
        frozenset({(r["system_a"], r["source_id_a"]), (r["system_b"], r["source_id_b"])})
        for r in read(driver, settings, NOT_SAME_AS_PAIRS)
    }


def review_node(driver: Driver, settings: Settings, rid: str) -> dict[str, Any]:
    [row] = read(
        driver, settings, "MATCH (r:IdentityReview {review_id: $id}) RETURN r {.*} AS r", id=rid
    )
    return row["r"]


def loader_customer(
    driver: Driver, settings: Settings, root: Path, systems: dict, customer_id: str
) -> dict[str, Any]:
    """What the loader makes of these extracts for ``customer_id`` (in an emptied graph)."""
    reset(driver, settings)
    result = load(driver, settings, bank.write_extracts(root, systems))
    assert result.status == "SUCCEEDED", (result.status, result.error)
    found = customer(driver, settings, customer_id)
    assert found is not None, f"the loader made no customer {customer_id} of {root.name}"
    return found


# -- the declared relationships -------------------------------------------------------------------


def _model_md_relationships() -> set[tuple[str, str, str]]:
    text = MODEL_MD.read_text(encoding="utf-8")
    section = re.search(r"^## Relationships\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert section, "graph/MODEL.md has no '## Relationships' section"
    found = re.findall(r"\((\w+)\)-\[:(\w+)[^\]]*\]->(?=\((\w+)\))", section[1])
    assert found, "no relationship found in graph/MODEL.md"
    return set(found)


def test_the_declared_relationships_are_the_model_and_the_loaded_graph(driver, settings, loaded):
    declared = {(r.start, r.type, r.end) for r in RELATIONSHIPS}
    documented = _model_md_relationships()
    assert documented <= declared, f"in graph/MODEL.md, not declared: {documented - declared}"
    at_customers = {d for d in declared if "Customer" in (d[0], d[2])}
    assert at_customers <= documented, f"declared, not in MODEL.md: {at_customers - documented}"
    # every relationship a load (and the scoring job) leaves on a customer is declared
    rows = read(
        driver,
        settings,
        "MATCH (a)-[r]->(b) WHERE a:Customer OR b:Customer "
        "RETURN DISTINCT labels(a)[0] AS a, type(r) AS t, labels(b)[0] AS b",
    )
    in_graph = {(r["a"], r["t"], r["b"]) for r in rows}
    assert in_graph <= at_customers, f"undeclared relationships: {in_graph - at_customers}"
    # and the bank has every kind on the customer the merge tests absorb
    have = relationships(
        driver, settings, bank.customer_of_record(driver, settings, "core", "0000100")
    )
    # (but the scoring job's recommendations: made for some customers only, and a merge deletes
    # the absorbed customer's rather than move them, tests/test_recommendation_history.py)
    assert [e for e, found in have.items() if not found and "Recommendation" not in e] == []


# -- explain every link ---------------------------------------------------------------------------


def _stored_lineage(driver: Driver, settings: Settings, customer_id: str) -> list[dict]:
    out = []
    for (system, source_id), link in sorted(records_of(driver, settings, customer_id).items()):
        comparisons = json.loads(link["comparisons_json"]) if link.get("comparisons_json") else None
        out.append(
            {
                "system": system,
                "sourceId": source_id,
                "rule": link.get("rule"),
                "confidence": link.get("confidence"),
                "matchWeight": link.get("match_weight"),
                "comparisons": comparisons,
            }
        )
    return out


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_source_records_explain_each_link_to_the_roles_that_see_lineage(
    client, auth_header, driver, settings, loaded, role
):
    body = ask(client, auth_header, role, EXPLAIN, id=MERGED)
    assert "errors" not in body, body
    got = body["data"]["customer"]["sourceRecords"]
    if VIEWS[ROLES[role].view]["source_records"] is not Mask.CLEAR:
        assert got is None
        return
    stored = _stored_lineage(driver, settings, MERGED)
    assert sorted(got, key=lambda r: (r["system"], r["sourceId"])) == stored
    # the evidence a linkage run left is what comes back, not a default (the loader's model
    # explains the records it joined, the test's planted evidence stays where it was put)
    explained = {(r["system"], r["sourceId"]) for r in stored if r["comparisons"]}
    assert set(bank.EVIDENCE) <= explained


def test_a_customer_beyond_the_scope_shows_no_evidence(client, auth_header, loaded):
    # E02 manages only the old CIF: the merged customer is not in his book
    body = ask(
        client,
        auth_header,
        Role.RELATIONSHIP_MANAGER,
        EXPLAIN,
        id=MERGED,
        claims={"employee_id": "E02"},
    )
    assert codes(body) == ["NOT_FOUND"] and body["data"] is None
    assert "matchWeight" not in json.dumps(body) and "national_id" not in json.dumps(body)


# -- the review queue -----------------------------------------------------------------------------


def _queue(client, auth_header, role: Role, status: str = "OPEN", first: int = 2) -> list[dict]:
    pages, after = [], None
    while True:
        body = ask(client, auth_header, role, QUEUE, status=status, first=first, after=after)
        assert "errors" not in body, body
        page = body["data"]["identityReviews"]
        pages.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            return pages
        after = page["pageInfo"]["endCursor"]
        assert len(pages) < 20


@pytest.mark.parametrize("role", STEWARDS, ids=[r.value for r in STEWARDS])
def test_the_review_queue_pages_oldest_first_with_records_masked_for_the_role(
    client, auth_header, driver, settings, loaded, role
):
    pages = _queue(client, auth_header, role)
    nodes = [e["node"] for p in pages for e in p["edges"]]
    stored = read(
        driver,
        settings,
        "MATCH (r:IdentityReview {status: 'OPEN'}) RETURN r {.*} AS r "
        "ORDER BY r.created_at, r.review_id",
    )
    assert [n["reviewId"] for n in nodes] == [s["r"]["review_id"] for s in stored]
    assert len(nodes) == len(bank.REVIEWS) and len(pages) == 3
    assert {p["totalCount"] for p in pages} == {len(bank.REVIEWS)}
    assert all(len(p["edges"]) <= 2 for p in pages)
    view = VIEWS[ROLES[role].view]
    for node, row in zip(nodes, stored, strict=True):
        r = row["r"]
        assert node["id"] == node["reviewId"] == r["review_id"]
        assert (node["status"], node["matchWeight"], node["probability"]) == (
            "OPEN",
            r["match_weight"],
            r["probability"],
        )
        assert node["comparisons"] == json.loads(r["comparisons_json"])
        for rec in node["records"]:
            holder = customer(driver, settings, rec["customer"]["id"])
            assert holder is not None
            key = (rec["system"], rec["sourceId"])
            assert key in records_of(driver, settings, holder["customer_id"])
            assert rec["customer"]["name"] == apply_mask(view["name"], holder["name"], holder)
            assert rec["customer"]["restricted"] is False
    text = json.dumps(pages, ensure_ascii=False)
    hashes = {
        r["h"]
        for r in read(driver, settings, "MATCH (s:SourceRecord) RETURN s.national_id_hash AS h")
        if r["h"]
    }
    for secret in {bank.ZHANG_ID, bank.LI_ID, bank.CHEN_ID, *hashes}:
        assert secret not in text
    # nothing decided yet
    [decided] = _queue(client, auth_header, role, status="CONFIRMED")
    assert decided["edges"] == [] and decided["totalCount"] == 0


def test_a_queue_cursor_serves_only_its_caller_and_status(client, auth_header, loaded):
    first = ask(client, auth_header, Role.DATA_ENGINEER, QUEUE, status="OPEN", first=1)
    cursor = first["data"]["identityReviews"]["pageInfo"]["endCursor"]
    again = ask(
        client, auth_header, Role.DATA_ENGINEER, QUEUE, status="OPEN", first=1, after=cursor
    )
    assert "errors" not in again
    for role, status in ((Role.ADMIN, "OPEN"), (Role.DATA_ENGINEER, "REJECTED")):
        body = ask(client, auth_header, role, QUEUE, status=status, first=1, after=cursor)
        assert codes(body) == ["BAD_USER_INPUT"] and "after" in body["errors"][0]["message"]


def test_reading_the_queue_is_audited(client, auth_header, driver, settings, loaded):
    request_id = uuid.uuid4().hex
    body = ask(client, auth_header, Role.ADMIN, QUEUE, request_id, status="OPEN", first=1)
    [node] = [e["node"] for e in body["data"]["identityReviews"]["edges"]]
    event = audit_event(driver, settings, request_id)
    assert event["operation"] == "identityReviews" and event["roles"] == ["admin"]
    assert event["customer_ids"] == sorted({r["customer"]["id"] for r in node["records"]})


DECISIONS = {
    "identityReviews": (QUEUE, {"status": "OPEN"}),
    "confirmMatch": (CONFIRM, {"input": {"clientMutationId": "k1", "reviewId": REVIEW,
                                         "reason": "same man"}}),
    "rejectMatch": (REJECT, {"input": {"clientMutationId": "k2", "reviewId": REVIEW,
                                       "reason": "two men"}}),
    "splitCustomer": (SPLIT, {"input": {"clientMutationId": "k3", "customerId": MERGED,
                                        "reason": "two men"}}),
}  # fmt: skip


@pytest.mark.parametrize("role", OTHERS, ids=[r.value for r in OTHERS])
def test_the_queue_and_the_decisions_are_forbidden_to_other_roles(
    client, auth_header, driver, settings, loaded, role
):
    for operation, (document, variables) in DECISIONS.items():
        assert role not in OPERATIONS[Operation(operation)]
        body = ask(client, auth_header, role, document, **copy.deepcopy(variables))
        assert codes(body) == ["FORBIDDEN"], (operation, body)
    assert review_node(driver, settings, REVIEW)["status"] == "OPEN"
    assert len(records_of(driver, settings, MERGED)) == 3
    assert not_same_as(driver, settings) == set()


# -- confirmMatch ---------------------------------------------------------------------------------


def _merged_expectation(survivor: Relationships, absorbed: Relationships, ids: set) -> dict:
    """What the survivor holds after a merge: its own, then the absorbed one's to other nodes
    (the same node already held keeps the survivor's; the two customers' links to each other go)."""
    out = {}
    for name, mine in survivor.items():
        theirs = {k: v for k, v in absorbed[name].items() if k not in mine and k[1:] not in ids}
        out[name] = {k: v for k, v in mine.items() if k[1:] not in ids} | theirs
    # one relationship manager: the survivor's, naming the absorbed one's others
    rm = "(Employee)-[:MANAGES]->(Customer) at its end"
    others = tuple(k[1] for k in absorbed[rm] if k not in survivor[rm])
    if survivor[rm] and others:
        out[rm] = {
            k: tuple(sorted((*v, ("also_managed_by", others)))) for k, v in survivor[rm].items()
        }
    return out


def test_confirm_merges_the_customers_and_moves_every_relationship(
    client, auth_header, driver, settings, fresh, tmp_path
):
    survivor, absorbed = sorted(
        {bank.customer_of_record(driver, settings, *k) for k in bank.REVIEWED}
    )
    assert (survivor, absorbed) == (OLD_CIF, MERGED)
    before = {c: relationships(driver, settings, c) for c in (survivor, absorbed)}
    records_before = {
        k: v for c in (survivor, absorbed) for k, v in records_of(driver, settings, c).items()
    }
    body = decide(client, auth_header, CONFIRM, reviewId=REVIEW, reason="同一客户：两个客户号")
    assert "errors" not in body, body
    done = body["data"]["confirmMatch"]
    assert (done["customerId"], done["absorbedCustomerId"]) == (survivor, absorbed)
    review = done["review"]
    assert (review["status"], review["decidedBy"], review["reason"]) == (
        "CONFIRMED",
        "dev-data_engineer",
        "同一客户：两个客户号",
    )
    assert {r["customer"]["id"] for r in review["records"]} == {survivor}
    assert customer(driver, settings, absorbed) is None

    after = relationships(driver, settings, survivor)
    expected = _merged_expectation(before[survivor], before[absorbed], {(survivor,), (absorbed,)})
    for edge in CUSTOMER_EDGES:
        if edge.relationship.type == LINEAGE:
            assert set(after[edge.name]) == set(expected[edge.name]), edge.name
        elif edge.relationship.type in DERIVED:
            continue  # recomputed, not moved: below
        else:
            assert after[edge.name] == expected[edge.name], edge.name
    # what moved remembers where it came from (a split sends it back)
    moved = read(
        driver,
        settings,
        "MATCH (:Customer {customer_id: $id})-[r]-() WHERE r.moved_from IS NOT NULL "
        "RETURN DISTINCT r.moved_from AS m",
        id=survivor,
    )
    assert [m["m"] for m in moved] == [absorbed]
    # one home branch, the loader's rule over everything the merged customer holds: the two
    # had different ones, the absorbed one's went with it
    assert before[survivor][HOME] and before[absorbed][HOME]
    assert before[survivor][HOME] != before[absorbed][HOME]
    assert after[HOME] == home_from_extracts(list(records_before))
    # the lineage: the absorbed customer's records now STEWARD links, the confirmed one with the
    # review's evidence; the survivor's own record unchanged
    links = records_of(driver, settings, survivor)
    stored = review_node(driver, settings, REVIEW)
    for key, link in links.items():
        was = records_before[key]
        if key == bank.REVIEWED[0]:
            assert link == was
            continue
        assert (link["rule"], link["confidence"]) == ("STEWARD", 1.0)
        evidence = (link.get("match_weight"), link.get("comparisons_json"))
        if key == bank.REVIEWED[1]:
            assert evidence == (stored["match_weight"], stored["comparisons_json"])
        else:
            assert evidence == (was.get("match_weight"), was.get("comparisons_json"))
    event = audit_event(driver, settings, body["request_id"])
    assert (event["operation"], event["customer_ids"], event["roles"], event["review_id"]) == (
        "confirmMatch",
        [survivor, absorbed],
        ["data_engineer"],
        REVIEW,
    )
    # each STEWARD link says who decided, when, on which review, in which audited event
    for key, link in links.items():
        if key != bank.REVIEWED[0]:
            assert (link["decided_by"], link["review_id"], link["event_id"]) == (
                "dev-data_engineer",
                REVIEW,
                event["event_id"],
            )
            assert link["decided_at"] == stored["decided_at"]

    # a retry answers the same; deciding again, or an unknown review, is refused
    retry = decide(
        client,
        auth_header,
        CONFIRM,
        reviewId=REVIEW,
        reason="同一客户：两个客户号",
        clientMutationId=done["clientMutationId"],
    )
    assert retry["data"]["confirmMatch"]["customerId"] == survivor
    assert audit_event(driver, settings, retry["request_id"])["replay_of"] == event["event_id"]
    again = decide(client, auth_header, CONFIRM, role=Role.ADMIN, reviewId=REVIEW, reason="x")
    assert codes(again) == ["BAD_USER_INPUT"] and "CONFIRMED" in again["errors"][0]["message"]
    unknown = decide(client, auth_header, CONFIRM, reviewId="0123456789abcdef", reason="x")
    assert codes(unknown) == ["NOT_FOUND"]

    # the golden record is the loader's for the same records as one person: the old CIF with
    # the man's resident ID makes the loader merge all four
    merged_golden = golden(customer(driver, settings, survivor))
    one_person = copy.deepcopy(bank.SYSTEMS)
    old = next(c for c in one_person["core"]["customers"] if c["cust_no"] == "0000050")
    old["id_no"] = bank.ZHANG_ID
    oracle = loader_customer(driver, settings, tmp_path / "one-person", one_person, survivor)
    assert merged_golden == golden(oracle)


# -- rejectMatch ----------------------------------------------------------------------------------


def test_reject_keeps_the_records_apart_and_is_decided_once(
    client, auth_header, driver, settings, fresh
):
    a, b = ("core", "0000300"), ("crm", "K200")
    rid = review_id(a, b)
    owners = sorted(bank.customer_of_record(driver, settings, *k) for k in (a, b))
    assert owners[0] != owners[1]
    body = decide(client, auth_header, REJECT, role=Role.ADMIN, reviewId=rid, reason="不同的人")
    assert "errors" not in body, body
    review = body["data"]["rejectMatch"]["review"]
    assert (review["status"], review["decidedBy"], review["reason"]) == (
        "REJECTED",
        "dev-admin",
        "不同的人",
    )
    assert not_same_as(driver, settings) == {frozenset({a, b})}
    [edge] = read(
        driver,
        settings,
        "MATCH (:SourceRecord)-[n:NOT_SAME_AS]->(:SourceRecord) RETURN n {.*} AS n",
    )
    assert (edge["n"]["by"], edge["n"]["review_id"]) == ("dev-admin", rid)
    assert sorted(bank.customer_of_record(driver, settings, *k) for k in (a, b)) == owners
    event = audit_event(driver, settings, body["request_id"])
    assert (event["operation"], event["customer_ids"], event["review_id"]) == (
        "rejectMatch",
        owners,
        rid,
    )
    assert edge["n"]["event_id"] == event["event_id"]

    for document in (REJECT, CONFIRM):  # decided: neither decision again
        again = decide(client, auth_header, document, reviewId=rid, reason="再看一次")
        assert codes(again) == ["BAD_USER_INPUT"], again
        assert "REJECTED" in again["errors"][0]["message"]
    assert not_same_as(driver, settings) == {frozenset({a, b})}

    # a pair already in one customer is not rejected: that is a split
    same = review_id(("core", "0000200"), ("crm", "K200"))
    owner = bank.customer_of_record(driver, settings, "core", "0000200")
    refused = decide(client, auth_header, REJECT, reviewId=same, reason="不同的人")
    assert codes(refused) == ["BAD_USER_INPUT"]
    message = refused["errors"][0]["message"]
    assert "splitCustomer" in message and owner in message
    assert review_node(driver, settings, same)["status"] == "OPEN"
    assert not_same_as(driver, settings) == {frozenset({a, b})}


# -- splitCustomer --------------------------------------------------------------------------------


Placed = dict[tuple[str, str], str]  # record -> the customer it resolves to


def _origin_query(edge: CustomerEdge) -> str:
    """The relationships of one declared kind at a customer with the record that made them."""
    return _edge_query(edge).replace(
        "RETURN labels(o)", f"RETURN r.{edge.origin or 'no_origin'} AS origin, labels(o)"
    )


def followed(driver: Driver, settings: Settings, customer_id: str, placed: Placed) -> dict:
    """What a split must leave on each customer, from the relationships of ``customer_id`` now:
    a relationship goes to the customer of its origin record, one without origin stays."""
    out: dict[str, Relationships] = {cid: {} for cid in set(placed.values())}
    for edge in CUSTOMER_EDGES:
        if edge.relationship.type == LINEAGE:
            continue
        label = edge.relationship.end if edge.side == "start" else edge.relationship.start
        for cid in out:
            out[cid][edge.name] = {}
        for row in read(driver, settings, _origin_query(edge), id=customer_id):
            origin = tuple(row["origin"]) if row["origin"] else None
            goes = placed.get(origin, customer_id) if origin else customer_id
            key = (label, *(row["o"][k] for k in NODE_KEYS[label]))
            out[goes][edge.name][key] = _props(row["r"])
    return out


def test_split_sends_each_relationship_with_the_record_that_made_it(
    client, auth_header, driver, settings, fresh, tmp_path
):
    keys = sorted(records_of(driver, settings, MERGED))
    assert len(keys) == 3
    # an open review between two of its records (a model's near miss): the split closes it
    card, crm = ("card", "900100"), ("crm", "K100")
    near = {"review_id": review_id(card, crm), "a": list(card), "b": list(crm),
            "match_weight": 3.0, "probability": 0.9, "comparisons_json": None,
            "run_id": "earlier", "created_at": bank.T0}  # fmt: skip
    driver.execute_query(UPSERT_REVIEWS, rows=[near], database_=settings.neo4j_database)
    placed_by_origin = {k: bank_customer_alone(k) for k in keys}
    placed_by_origin[("core", "0000100")] = MERGED
    expected = followed(driver, settings, MERGED, placed_by_origin)
    body = decide(
        client,
        auth_header,
        SPLIT,
        role=Role.ADMIN,
        customerId=MERGED,
        reason="两个人共用一个客户号",
    )
    assert "errors" not in body, body
    done = body["data"]["splitCustomer"]
    placed = {(r["system"], r["sourceId"]): r["customer"]["id"] for r in done["records"]}
    assert done["customerId"] == MERGED and sorted(placed) == keys
    assert placed == placed_by_origin  # the record whose id it is keeps it, the others alone
    for key, cid in placed.items():
        links = records_of(driver, settings, cid)
        assert list(links) == [key]
        assert (links[key]["rule"], links[key]["confidence"]) == ("STEWARD", 1.0)
        assert links[key].get("match_weight") is None
    # every relationship went with the record that made it, properties and all; none without
    # origin moved; and the bank has relationships of each origin-stamped kind leaving MERGED
    moved_kinds = set()
    for cid in set(placed.values()):
        after = relationships(driver, settings, cid)
        # the home branch is the loader's rule over what each customer holds now
        assert after[HOME] == home_from_extracts(records_of(driver, settings, cid)), cid
        for edge in CUSTOMER_EDGES:
            if edge.relationship.type == LINEAGE or edge.relationship.type in DERIVED:
                continue
            assert after[edge.name] == expected[cid][edge.name], (cid, edge.name)
            if cid != MERGED and after[edge.name]:
                moved_kinds.add(edge.relationship.type)
    assert moved_kinds == {"HOLDS", "HAD", "REFERRED"}, moved_kinds
    pairs = {frozenset({a, b}) for i, a in enumerate(keys) for b in keys[i + 1 :]}
    assert not_same_as(driver, settings) == pairs
    closed = review_node(driver, settings, near["review_id"])
    assert closed["status"] == "REJECTED" and closed["decided_by"] == "dev-admin"
    assert "splitCustomer" in closed["reason"] and MERGED in closed["reason"]
    event = audit_event(driver, settings, body["request_id"])
    assert (event["operation"], event["customer_ids"], event["review_ids"]) == (
        "splitCustomer",
        sorted(set(placed.values())),
        [near["review_id"]],
    )
    stamps = read(
        driver,
        settings,
        "MATCH (:SourceRecord)-[n:NOT_SAME_AS]->(:SourceRecord) RETURN n.event_id AS e, n.by AS by",
    )
    assert {(r["e"], r["by"]) for r in stamps} == {(event["event_id"], "dev-admin")}
    for key, cid in placed.items():
        link = records_of(driver, settings, cid)[key]
        assert (link["decided_by"], link["event_id"], link.get("review_id")) == (
            "dev-admin",
            event["event_id"],
            None,
        )
    split = {cid: golden(customer(driver, settings, cid)) for cid in placed.values()}

    # a review the model wrote before the split (a load that began earlier) cannot merge what
    # the split kept apart; one written after it can
    core = ("core", "0000100")
    old = {**near, "review_id": review_id(card, core), "a": list(card), "b": list(core)}
    later = {**near, "review_id": review_id(crm, core), "a": list(core), "b": list(crm),
             "created_at": dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)}  # fmt: skip
    driver.execute_query(UPSERT_REVIEWS, rows=[old, later], database_=settings.neo4j_database)
    refused = decide(client, auth_header, CONFIRM, reviewId=old["review_id"], reason="同一人")
    assert codes(refused) == ["BAD_USER_INPUT"] and "older" in refused["errors"][0]["message"]
    assert review_node(driver, settings, old["review_id"])["status"] == "OPEN"
    ok = decide(client, auth_header, CONFIRM, reviewId=later["review_id"], reason="同一人")
    assert "errors" not in ok, ok
    assert ok["data"]["confirmMatch"]["customerId"] == min(MERGED, placed[crm])

    # errors: nothing left to split, no such customer, no reason
    one = decide(client, auth_header, SPLIT, customerId=OLD_CIF, reason="x")
    assert codes(one) == ["BAD_USER_INPUT"] and "two or more" in one["errors"][0]["message"]
    assert codes(decide(client, auth_header, SPLIT, customerId="C-nobody", reason="x")) == [
        "NOT_FOUND"
    ]
    assert codes(decide(client, auth_header, SPLIT, customerId=MERGED, reason="  ")) == [
        "BAD_USER_INPUT"
    ]

    # each is the customer the loader makes of that record's system alone: same golden record
    for (system, _), cid in placed.items():
        systems = bank.customers_only(system)
        oracle = loader_customer(driver, settings, tmp_path / system, systems, cid)
        assert split[cid] == golden(oracle), system


def bank_customer_alone(key: tuple[str, str]) -> str:
    """The id the loader gives a record alone (etl/identity, through the steward's helper)."""
    from etl.identity import load_identity_config
    from resolvers.stewards import golden_id

    return golden_id(*key, load_identity_config())


def _state(driver: Driver, settings: Settings, customer_id: str) -> dict[str, Any]:
    """A customer as a split must restore it: golden record, records, relationships."""
    return {
        "customer": customer(driver, settings, customer_id),
        "records": set(records_of(driver, settings, customer_id)),
        "relationships": {
            name: found
            for name, found in relationships(driver, settings, customer_id).items()
            if not name.startswith(f"(SourceRecord)-[:{LINEAGE}]")
        },
    }


def test_a_split_with_the_groups_before_a_wrong_confirmation_restores_both_customers(
    client, auth_header, driver, settings, fresh
):
    before = {c: _state(driver, settings, c) for c in (OLD_CIF, MERGED)}
    groups = [sorted(before[c]["records"]) for c in (OLD_CIF, MERGED)]
    confirmed = decide(client, auth_header, CONFIRM, reviewId=REVIEW, reason="同一客户")
    assert confirmed["data"]["confirmMatch"]["customerId"] == OLD_CIF
    body = decide(
        client,
        auth_header,
        SPLIT,
        customerId=OLD_CIF,
        reason="看错了",
        groups=[[{"system": s, "sourceId": i} for s, i in g] for g in groups],
    )
    assert "errors" not in body, body
    # both as they were, each with its own home branch again (recomputed: none moved back)
    assert before[OLD_CIF]["relationships"][HOME] != before[MERGED]["relationships"][HOME]
    for cid in (OLD_CIF, MERGED):
        assert _state(driver, settings, cid) == before[cid], cid
    # apart only between the groups; the confirmation it undid is SPLIT
    pairs = {frozenset({a, b}) for a in groups[0] for b in groups[1]}
    assert not_same_as(driver, settings) == pairs
    review = review_node(driver, settings, REVIEW)
    assert (review["status"], review["decided_by"]) == ("SPLIT", "dev-data_engineer")
    assert review["decided_at"] is not None and "看错了" in review["reason"]
    queue = ask(client, auth_header, Role.ADMIN, QUEUE, status="SPLIT", first=5)
    assert [e["node"]["reviewId"] for e in queue["data"]["identityReviews"]["edges"]] == [REVIEW]
    # a decided review is not decided again
    again = decide(client, auth_header, CONFIRM, reviewId=REVIEW, reason="同一客户")
    assert codes(again) == ["BAD_USER_INPUT"] and "SPLIT" in again["errors"][0]["message"]

    # groups that name another customer's record, a record twice, or keep all together
    wrong = {
        "not a record of": [[{"system": "core", "sourceId": "0000200"}]],
        "a second time": [[{"system": "core", "sourceId": "0000100"}]] * 2,
        "nothing to split": [[{"system": s, "sourceId": i} for s, i in groups[1]]],
    }
    for why, bad in wrong.items():
        body = decide(client, auth_header, SPLIT, customerId=MERGED, reason="x", groups=bad)
        assert codes(body) == ["BAD_USER_INPUT"], (why, body)
        assert why in body["errors"][0]["message"], (why, body)


def test_two_stewards_confirming_at_once_are_served_one_after_the_other(
    client, auth_header, driver, settings, fresh
):
    """One confirmation merges, the other finds the review decided: never a half-merged graph
    or an internal error. (The outcome only: without the locks of resolvers/stewards.py the
    second transaction still meets the first's writes, fails and is retried by the driver.)"""
    from concurrent.futures import ThreadPoolExecutor

    def confirm(role: Role) -> dict:
        return decide(client, auth_header, CONFIRM, role=role, reviewId=REVIEW, reason="同一人")

    with ThreadPoolExecutor(max_workers=2) as pool:
        bodies = list(pool.map(confirm, (Role.DATA_ENGINEER, Role.ADMIN)))
    outcomes = sorted(codes(b)[0] if codes(b) else "OK" for b in bodies)
    assert outcomes == ["BAD_USER_INPUT", "OK"], bodies
    refused = next(b for b in bodies if codes(b))
    assert "CONFIRMED" in refused["errors"][0]["message"]
    assert customer(driver, settings, MERGED) is None
    assert len(records_of(driver, settings, OLD_CIF)) == 4


# -- pure parts -----------------------------------------------------------------------------------


def test_the_id_a_record_gets_alone_and_the_record_that_keeps_a_split_customer():
    from etl.identity import load_identity_config
    from resolvers.stewards import golden_id, keeper_of

    cfg = load_identity_config()
    first, second = cfg.system_priority[0], cfg.system_priority[1]
    assert golden_id(first, "0001", cfg) == "C-0001"
    assert golden_id(second, "77", cfg) == f"C-{second}-77"
    records = [(second, "5"), (first, "9"), (first, "10")]
    # the record whose id the customer has keeps it, whatever its rank ...
    assert keeper_of(f"C-{second}-5", records, cfg) == (second, "5")
    # ... else the anchor: the first system of the priority, the smallest source id
    assert keeper_of("C-somebody-else", records, cfg) == (first, "10")


def test_decisions_wait_while_a_load_is_running(client, auth_header, driver, settings, fresh):
    """A RUNNING load run (read in the decision's own transaction) makes every decision
    SERVICE_UNAVAILABLE naming the run; nothing is written; once it has finished they go."""
    run = "test-run-still-loading"
    driver.execute_query(
        "CREATE (:LoadRun {run_id: $id, status: 'RUNNING', started_at: datetime()})",
        id=run,
        database_=settings.neo4j_database,
    )
    attempts = {
        "confirmMatch": (CONFIRM, {"reviewId": REVIEW, "reason": "同一人"}),
        "rejectMatch": (REJECT, {"reviewId": REVIEW, "reason": "两个人"}),
        "splitCustomer": (SPLIT, {"customerId": MERGED, "reason": "两个人"}),
    }
    for name, (document, fields) in attempts.items():
        body = decide(client, auth_header, document, **fields)
        assert codes(body) == ["SERVICE_UNAVAILABLE"], (name, body)
        assert run in body["errors"][0]["message"], name
    assert review_node(driver, settings, REVIEW)["status"] == "OPEN"
    assert len(records_of(driver, settings, MERGED)) == 3 and not_same_as(driver, settings) == set()
    driver.execute_query(
        "MATCH (r:LoadRun {run_id: $id}) SET r.status = 'SUCCEEDED'",
        id=run,
        database_=settings.neo4j_database,
    )
    document, fields = attempts["confirmMatch"]
    assert "errors" not in decide(client, auth_header, document, **fields)


def test_a_review_is_listed_and_decided_only_when_every_customer_is_served_directly():
    from graph.queries.identity import served_directly

    direct = {"system": "core", "source_id": "1", "customer_id": "C-1", "access": "direct"}
    assert served_directly([direct, {**direct, "customer_id": None}])  # unresolved: no limit
    assert not served_directly([direct, {**direct, "access": "hop"}])  # a referral hop
    assert not served_directly([direct, {**direct, "access": None}])  # out of scope


# Both customers of the review linked to the same nodes, as loads of their records would leave
# them (each relationship stamped with the record whose row made it).
CONFLICTS = """
MATCH (old:Customer {customer_id: $old}), (merged:Customer {customer_id: $merged})
MATCH (savings:Account {account_id: '6222020000000100'}), (td:Account {account_id: '6222020000000050'})
MATCH (home:Household {household_id: 'H01'})
MATCH (old)-[own:HOLDS]->(td)
SET own.ended_at = date('2020-01-01')
CREATE (old)-[:HOLDS {role: 'GUARANTOR', origin: ['core', '0000050']}]->(savings)
CREATE (merged)-[:HOLDS {role: 'AUTHORIZED', origin: ['core', '0000100']}]->(td)
CREATE (old)-[:MEMBER_OF {role: 'OTHER', since: date('2001-01-01'), ended_at: date('2015-01-01'),
                          origin: ['core', '0000050']}]->(home)
CREATE (old)-[:REFERRED {referred_at: date('2011-01-01'), channel: 'BRANCH', status: 'CONVERTED',
                         origin: ['core', '0000050'], origin_to: ['crm', 'K100']}]->(merged)
"""


def test_a_merge_keeps_one_link_per_node_by_each_kinds_rule_and_a_split_restores_the_rest(
    client, auth_header, driver, settings, fresh
):
    driver.execute_query(CONFLICTS, old=OLD_CIF, merged=MERGED, database_=settings.neo4j_database)
    homes = [{"customer_id": c} for c in (OLD_CIF, MERGED)]  # as the load's last step would
    driver.execute_query(UPSERT_HOME_BRANCHES, rows=homes, database_=settings.neo4j_database)
    before = {c: _state(driver, settings, c) for c in (OLD_CIF, MERGED)}
    groups = [sorted(before[c]["records"]) for c in (OLD_CIF, MERGED)]
    body = decide(client, auth_header, CONFIRM, reviewId=REVIEW, reason="同一客户")
    assert "errors" not in body, body
    rels = relationships(driver, settings, OLD_CIF)

    def one(kind: str, node: tuple) -> dict:
        name = next(e.name for e in CUSTOMER_EDGES if e.relationship.type == kind)
        return dict(rels[name][node])

    # HOLDS: the stronger role; a current holding over an ended one, whatever the role
    savings = one("HOLDS", ("Account", "6222020000000100"))
    assert (savings["role"], savings["origin"]) == ("PRIMARY", ("core", "0000100"))
    td = one("HOLDS", ("Account", "6222020000000050"))
    assert (td["role"], td.get("ended_at")) == ("AUTHORIZED", None)
    # MEMBER_OF: the current membership
    home = one("MEMBER_OF", ("Household", "H01"))
    assert (home["role"], home.get("ended_at")) == ("HEAD", None)
    # MANAGES: one RM, the survivor's, the other named on it
    [(rm, managed)] = rels["(Employee)-[:MANAGES]->(Customer) at its end"].items()
    assert rm == ("Employee", "E02") and dict(managed)["also_managed_by"] == ("E01",)
    # REFERRED: none between the merged customer and itself
    for name in ("(Customer)-[:REFERRED]->(Customer) at its start",
                 "(Customer)-[:REFERRED]->(Customer) at its end"):  # fmt: skip
        assert ("Customer", OLD_CIF) not in rels[name]
    # every dropped one is on the audit event, with its origin
    event = audit_event(driver, settings, body["request_id"])
    dropped = json.loads(event["dropped_json"])
    assert sorted(d["edge"].split("]")[0] for d in dropped) == sorted(
        [
            "(Customer)-[:REFERRED",
            "(Customer)-[:HOLDS",
            "(Customer)-[:HOLDS",
            "(Customer)-[:MEMBER_OF",
            "(Employee)-[:MANAGES",
        ]  # fmt: skip
    )
    assert all(d["props"].get("origin") for d in dropped)

    # the split with the groups of before restores both customers as they were
    split = decide(
        client,
        auth_header,
        SPLIT,
        customerId=OLD_CIF,
        reason="看错了",
        groups=[[{"system": s, "sourceId": i} for s, i in g] for g in groups],
    )
    assert "errors" not in split, split
    for cid in (OLD_CIF, MERGED):
        assert _state(driver, settings, cid) == before[cid], cid
