"""A write and its audit event commit together or not at all (issue 16, finding 9).

The failures are real: a uniqueness constraint the test creates makes the database refuse the
audit event (or the write itself); nothing is mocked.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from neo4j import Driver, RoutingControl
from starlette.testclient import TestClient

from tests.write_graph import (
    ASSIGN,
    BM,
    COMPLAINT_SUMMARIES,
    COMPLAINTS,
    LOG,
    OPEN,
    RESOLVE,
    RM,
    codes,
    load_write_graph,
    post,
    rows,
)

TAKEN = "req-taken"

# (operation, document, caller, input): one successful write of each mutation.
WRITES = [
    (
        "logInteraction",
        LOG,
        RM,
        {
            "clientMutationId": "k-log",
            "customerId": "C000001",
            "channel": "VISIT",
            "summary": "回访",
        },
    ),
    (
        "openComplaint",
        OPEN,
        RM,
        {
            "clientMutationId": "k-open",
            "customerId": "C000002",
            "channel": "APP",
            "summary": "扣费",
        },
    ),
    (
        "resolveComplaint",
        RESOLVE,
        RM,
        {
            "clientMutationId": "k-res",
            "complaintId": COMPLAINTS["C000001"],
            "resolution": "已退费",
            "category": "CARD",
            "causeType": "PRICING",
        },
    ),
    (
        "assignRelationshipManager",
        ASSIGN,
        BM,
        {"clientMutationId": "k-rm", "customerId": "C000001", "employeeId": "E0003"},
    ),
]
IDS = [w[0] for w in WRITES]


@pytest.fixture
def client(settings, driver) -> Iterator[TestClient]:
    from c360.app import create_app

    load_write_graph(driver, settings.neo4j_database)
    with TestClient(create_app(settings)) as c:
        yield c


def _write(driver: Driver, database: str, query: str, **params) -> None:
    driver.execute_query(query, params, database_=database, routing_control=RoutingControl.WRITE)


@pytest.fixture
def unique(driver, settings) -> Iterator:
    """``unique(label, prop)``: a uniqueness constraint for this test only."""
    made: list[str] = []

    def make(label: str, prop: str) -> None:
        name = f"test_only_{label.lower()}_{prop}"
        # Names and labels are this test's constants, not input.
        _write(
            driver,
            settings.neo4j_database,
            f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE n.{prop} IS UNIQUE",
        )
        made.append(name)

    yield make
    for name in made:
        _write(driver, settings.neo4j_database, f"DROP CONSTRAINT {name} IF EXISTS")


def _snapshot(driver: Driver, database: str) -> tuple[list, list]:
    """Every node and relationship with its labels or type and properties."""
    nodes = rows(
        driver,
        database,
        "MATCH (n) RETURN elementId(n) AS id, labels(n) AS labels, properties(n) AS props "
        "ORDER BY id",
    )
    rels = rows(
        driver,
        database,
        "MATCH (a)-[r]->(b) RETURN elementId(a) AS a, type(r) AS type, elementId(b) AS b, "
        "properties(r) AS props ORDER BY a, type, b",
    )
    return nodes, rels


def _events(driver: Driver, database: str, request_id: str) -> list[dict]:
    return [
        r["a"]
        for r in rows(
            driver,
            database,
            "MATCH (a:AuditEvent {request_id: $rid}) RETURN a {.*} AS a",
            rid=request_id,
        )
    ]


@pytest.mark.parametrize(("operation", "document", "who", "args"), WRITES, ids=IDS)
def test_a_write_whose_audit_event_cannot_be_written_leaves_no_trace(
    client, auth_header, driver, settings, unique, operation, document, who, args
):
    db = settings.neo4j_database
    unique("AuditEvent", "request_id")
    _write(driver, db, "CREATE (:AuditEvent {event_id: 'planted', request_id: $r})", r=TAKEN)
    before = _snapshot(driver, db)

    body = post(client, auth_header, document, who, {"X-Request-ID": TAKEN}, input=args)

    assert body["data"] is None
    assert codes(body) == ["SERVICE_UNAVAILABLE"]
    assert "AuditEvent" not in str(body) and "constraint" not in str(body).lower()
    assert _snapshot(driver, db) == before
    # The key was not spent: the same request, retried once the audit can be written, is done
    # once and audited once.
    again = post(client, auth_header, document, who, {"X-Request-ID": "req-retry"}, input=args)
    assert "errors" not in again, again
    assert _snapshot(driver, db) != before
    [event] = _events(driver, db, "req-retry")
    assert event["operation"] == operation
    assert event["subject"] == f"dev-{who['role']}"
    assert event["customer_ids"] == [args.get("customerId", "C000001")]


# (case, document, caller, input, expected code): mutations that fail, each for its own reason.
FAILURES = [
    (
        "the-write-itself-fails",  # the note repeats a complaint's summary under a test constraint
        LOG,
        RM,
        {
            "clientMutationId": "k-dup",
            "customerId": "C000001",
            "channel": "PHONE",
            "summary": COMPLAINT_SUMMARIES["C000001"],
        },
        "INTERNAL",
    ),
    (
        "out-of-scope",
        LOG,
        RM,
        {"clientMutationId": "k-far", "customerId": "C000003", "channel": "PHONE", "summary": "x"},
        "NOT_FOUND",
    ),
    (
        "key-reused-for-another-request",
        LOG,
        RM,
        {"clientMutationId": "k-1", "customerId": "C000002", "channel": "PHONE", "summary": "x"},
        "BAD_USER_INPUT",
    ),
    (
        "assignee-not-a-relationship-manager",
        ASSIGN,
        BM,
        {"clientMutationId": "k-so", "customerId": "C000001", "employeeId": "E0009"},
        "BAD_USER_INPUT",
    ),
]


@pytest.mark.parametrize(
    ("case", "document", "who", "args", "code"), FAILURES, ids=[f[0] for f in FAILURES]
)
def test_a_mutation_that_fails_leaves_no_audit_event_and_no_write(
    client, auth_header, driver, settings, unique, case, document, who, args, code
):
    db = settings.neo4j_database
    unique("Interaction", "summary")
    # The earlier request whose key the third case reuses.
    first = {"clientMutationId": "k-1", "customerId": "C000001", "channel": "APP", "summary": "y"}
    assert "errors" not in post(client, auth_header, LOG, RM, input=first)
    before = _snapshot(driver, db)

    body = post(client, auth_header, document, who, {"X-Request-ID": "req-fails"}, input=args)

    assert body["data"] is None
    assert codes(body) == [code]
    if case == "assignee-not-a-relationship-manager":
        assert "employeeId" in body["errors"][0]["message"]
    assert _events(driver, db, "req-fails") == []
    assert _snapshot(driver, db) == before


def test_an_audit_database_apart_from_the_graph_is_refused():
    # One transaction cannot span two Neo4j databases, so the write could not carry its event.
    from pydantic import ValidationError

    from core.settings import Environment, Settings

    with pytest.raises(ValidationError, match="AUDIT_DATABASE"):
        Settings(environment=Environment.TEST, neo4j_database="neo4j", audit_database="audit")
    same = Settings(environment=Environment.TEST, neo4j_database="neo4j", audit_database="Neo4j")
    assert same.audit_db.lower() == same.neo4j_database
