"""The audit trail: durable, queried by auditors, itself audited, and failing closed."""

from __future__ import annotations

import pytest
from neo4j import RoutingControl
from starlette.testclient import TestClient

from c360.app import create_app

PROFILE = "query($id: ID!) { customer(id: $id) { id name phone } }"
EVENTS = """query($first: Int!, $after: String, $subject: String, $customerId: ID) {
  auditEvents(first: $first, after: $after, subject: $subject, customerId: $customerId) {
    edges { cursor node { id at subject roles customerIds operation fields requestId clientAddress } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def _post(client, query, headers, **variables):
    return client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    ).json()


def _event_count(driver, settings) -> int:
    return driver.execute_query(
        "MATCH (a:AuditEvent) RETURN count(a) AS n",
        database_=settings.neo4j_database,
        routing_control=RoutingControl.READ,
    ).records[0]["n"]


def test_reads_are_recorded_durably_and_auditors_can_page_through_them(
    settings, sample_graph, auth_header
):
    rm = {**auth_header("relationship_manager", employee_id="E0001"), "X-Request-ID": "req-rm-1"}
    with TestClient(create_app(settings)) as client:
        for cid in ("C000001", "C000002"):
            assert "errors" not in _post(client, PROFILE, rm, id=cid)
    # A new process (the API restarted) still sees them: they live in the graph.
    auditor = auth_header("auditor", subject="aud-1")
    with TestClient(create_app(settings)) as client:
        body = _post(client, EVENTS, auditor, first=1, subject="dev-relationship_manager")
        page1 = body["data"]["auditEvents"]
        assert page1["pageInfo"]["hasNextPage"] is True
        newest = page1["edges"][0]["node"]
        assert newest["customerIds"] == ["C000002"]
        assert newest["roles"] == ["relationship_manager"]
        assert newest["operation"] == "customer"
        assert newest["fields"] == ["id", "name", "phone"]
        assert newest["requestId"] == "req-rm-1"
        assert newest["clientAddress"]
        page2 = _post(
            client,
            EVENTS,
            auditor,
            first=1,
            after=page1["pageInfo"]["endCursor"],
            subject="dev-relationship_manager",
        )["data"]["auditEvents"]
        assert [e["node"]["customerIds"] for e in page2["edges"]] == [["C000001"]]
        assert page2["pageInfo"]["hasNextPage"] is False
        by_customer = _post(client, EVENTS, auditor, first=10, customerId="C000001")
        assert {
            tuple(e["node"]["customerIds"]) for e in by_customer["data"]["auditEvents"]["edges"]
        } == {("C000001",)}
        # Reading the audit trail is itself audited.
        own = _post(client, EVENTS, auditor, first=10, subject="aud-1")["data"]["auditEvents"]
        assert own["edges"] and all(e["node"]["operation"] == "auditEvents" for e in own["edges"])


def test_audit_is_for_auditors_and_admins_only(api, auth_header):
    for role, claims in [
        ("channel_service", {}),
        ("data_engineer", {}),
        ("relationship_manager", {"employee_id": "E0001"}),
        ("customer", {"customer_id": "C000001"}),
    ]:
        body = _post(api, EVENTS, auth_header(role, **claims), first=5)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = _post(api, EVENTS, auth_header("admin"), first=5)
    assert "errors" not in body


def test_a_bad_cursor_is_bad_user_input(api, auth_header):
    body = _post(api, EVENTS, auth_header("auditor"), first=5, after="!!not-a-cursor")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_out_of_scope_and_missing_reads_are_audited_alike(api, auth_header, sample_graph, settings):
    # A probe is a read: it is recorded like one, and the record does not say which case it was.
    rm = auth_header("relationship_manager", employee_id="E0001")
    events = []
    for cid in ("C000003", "C999999"):
        body = _post(api, PROFILE, {**rm, "X-Request-ID": f"probe-{cid}"}, id=cid)
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        [event] = sample_graph.execute_query(
            "MATCH (a:AuditEvent {request_id: $rid}) RETURN a {.*} AS a",
            rid=f"probe-{cid}",
            database_=settings.neo4j_database,
            routing_control=RoutingControl.READ,
        ).records
        events.append(event["a"])
    assert [e["customer_ids"] for e in events] == [["C000003"], ["C999999"]]
    shapes = [
        {k: v for k, v in e.items() if k not in ("event_id", "at", "customer_ids", "request_id")}
        for e in events
    ]
    assert shapes[0] == shapes[1]
    assert shapes[0]["operation"] == "customer" and shapes[0]["fields"] == ["id", "name", "phone"]


@pytest.mark.parametrize(
    ("query", "probe", "operation"),
    [
        ("query($id: ID!) { network(customerId: $id) { nodes { id } } }", "C999999", "network"),
        ("query($id: ID!) { household(id: $id) { id } }", "H999999", "household"),
    ],
)
def test_network_and_household_probes_are_audited(
    api, auth_header, sample_graph, settings, query, probe, operation
):
    rm = auth_header("relationship_manager", employee_id="E0001")
    body = api.post(
        "/graphql",
        json={"query": query, "variables": {"id": probe}},
        headers={**rm, "X-Request-ID": f"probe-{operation}"},
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    events = sample_graph.execute_query(
        "MATCH (a:AuditEvent {request_id: $rid}) RETURN a {.*} AS a",
        rid=f"probe-{operation}",
        database_=settings.neo4j_database,
        routing_control=RoutingControl.READ,
    ).records
    assert [e["a"]["operation"] for e in events] == [operation]
    assert probe in str(events[0]["a"]["customer_ids"]) + str(events[0]["a"]["fields"])


def test_when_the_audit_cannot_be_written_the_read_fails(settings, sample_graph, auth_header):
    # A real failure, no mocks: the audit trail points at a database that does not exist.
    broken = settings.model_copy(update={"audit_database": "no-such-audit-db"})
    with TestClient(create_app(broken)) as client:
        body = _post(client, PROFILE, auth_header("admin"), id="C000001")
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["SERVICE_UNAVAILABLE"]
    assert "张伟" not in str(body) and "13812345678" not in str(body)
    assert "no-such-audit-db" not in str(body)  # internals do not leak
    assert _event_count(sample_graph, settings) == 0


def _concurrent_records(settings, database: str, n: int) -> list:
    """n audit events recorded at once through one AuditWriter (the API's group commit)."""
    import asyncio

    from auth.audit import AuditWriter
    from auth.policy import Role
    from auth.principal import Principal
    from graph.driver import create_async_driver

    async def go() -> list:
        driver = create_async_driver(settings)
        writer = AuditWriter(driver, database=database, max_batch=16)
        who = Principal(subject="auditor-test", roles=frozenset({Role.ADMIN}))
        try:
            return await asyncio.gather(
                *(
                    writer.record(
                        principal=who,
                        operation="customer",
                        customer_ids=[f"C{i:06d}"],
                        fields=["name"],
                        request_id=f"group-{i}",
                        client_address=None,
                    )
                    for i in range(n)
                ),
                return_exceptions=True,
            )
        finally:
            await writer.close()
            await driver.close()

    return asyncio.run(go())


def test_concurrent_reads_share_audit_transactions_and_each_event_is_durable(settings, clean_graph):
    results = _concurrent_records(settings, settings.audit_db, 40)
    assert all(isinstance(r, str) for r in results)
    rows = clean_graph.execute_query(
        "MATCH (a:AuditEvent) RETURN a.event_id AS id, a.request_id AS rid, a.customer_ids AS c",
        database_=settings.neo4j_database,
    ).records
    assert sorted(r["id"] for r in rows) == sorted(results)
    assert {r["rid"]: r["c"] for r in rows} == {f"group-{i}": [f"C{i:06d}"] for i in range(40)}


def test_a_failed_group_commit_refuses_every_request_in_it(settings, clean_graph):
    from auth.audit import AuditUnavailable

    results = _concurrent_records(settings, "no-such-audit-db", 20)
    assert all(isinstance(r, AuditUnavailable) for r in results)
    assert _event_count(clean_graph, settings) == 0
