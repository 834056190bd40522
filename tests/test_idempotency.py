"""Idempotency keys (issue 16, finding 3): a clientMutationId is scoped to the caller and the
operation and bound to the request's arguments. The same request again returns the first result
and writes nothing; the same key for another request is refused and writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from starlette.testclient import TestClient

from auth.policy import Operation
from auth.principal import Principal
from core.errors import BadUserInput
from tests.write_graph import (
    ASSIGN,
    BM,
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

KEY = "5f0b6a7e-3c1d-4e8a-9b2f-7d6c5e4a3b21"


@pytest.fixture
def client(settings, driver):
    from c360.app import create_app

    load_write_graph(driver, settings.neo4j_database)
    with TestClient(create_app(settings)) as c:
        yield c


def _note(customer_id: str, summary: str, key: str = KEY) -> dict:
    return {
        "clientMutationId": key,
        "customerId": customer_id,
        "channel": "VISIT",
        "summary": summary,
    }


def _refused(body: dict) -> None:
    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    message = body["errors"][0]["message"]
    assert "clientMutationId" in message and "key already used for another request" in message


def test_a_key_reused_on_another_customer_is_refused_and_links_nothing(
    client, auth_header, driver, settings
):
    first = post(client, auth_header, LOG, RM, input=_note("C000001", "张伟：理财到期，想转定期"))
    assert first["data"]["logInteraction"]["created"] is True
    note_id = first["data"]["logInteraction"]["interaction"]["id"]

    again = post(client, auth_header, LOG, RM, input=_note("C000002", "李娜：回访"))
    _refused(again)

    owners = rows(
        driver,
        settings.neo4j_database,
        "MATCH (c:Customer)-[:HAD]->(:Interaction {interaction_id: $id}) RETURN c.customer_id AS c",
        id=note_id,
    )
    assert owners == [{"c": "C000001"}]
    # The customer B of the issue reads their own timeline: nothing of A's, nothing new at all.
    own = post(
        client,
        auth_header,
        '{ customer(id: "C000002") { interactions { items { id summary } } } }',
        {"role": "customer", "customer_id": "C000002"},
    )
    items = own["data"]["customer"]["interactions"]["items"]
    assert [i["id"] for i in items] == [COMPLAINTS["C000002"]]


def test_a_replay_returns_the_first_result_and_another_note_is_refused(
    client, auth_header, driver, settings
):
    note = {**_note("C000001", "年度回访"), "occurredAt": "2026-11-23T09:30:00+08:00"}
    first = post(client, auth_header, LOG, RM, {"X-Request-ID": "req-first"}, input=note)
    first = first["data"]["logInteraction"]
    # The same instant written in another offset is the same request.
    same = {**note, "occurredAt": "2026-11-23T01:30:00+00:00"}
    again = post(client, auth_header, LOG, RM, {"X-Request-ID": "req-again"}, input=same)
    again = again["data"]["logInteraction"]
    assert first["created"] is True and again["created"] is False
    assert again["interaction"] == first["interaction"]
    # The replay answered with a customer's data, so it is audited, as a replay of the first.
    events = rows(
        driver,
        settings.neo4j_database,
        "MATCH (a:AuditEvent) WHERE a.request_id IN ['req-first', 'req-again'] "
        "RETURN a.request_id AS rid, a.event_id AS id, a.replay_of AS replay_of, "
        "a.customer_ids AS customers ORDER BY rid DESC",
    )
    assert [(e["rid"], e["customers"]) for e in events] == [
        ("req-first", ["C000001"]),
        ("req-again", ["C000001"]),
    ]
    assert events[0]["replay_of"] is None and events[1]["replay_of"] == events[0]["id"]

    _refused(post(client, auth_header, LOG, RM, input={**note, "summary": "另一条记录"}))

    notes = rows(
        driver,
        settings.neo4j_database,
        "MATCH (:Customer {customer_id: 'C000001'})-[:HAD]->(i:Interaction) "
        "WHERE i.kind <> 'COMPLAINT' "
        "RETURN i.interaction_id AS id, i.summary AS summary, "
        "COUNT { (:Customer)-[:HAD]->(i) } AS links, "
        "COUNT { (i)-[:HANDLED_BY]->(:Employee) } AS handlers",
    )
    assert notes == [
        {"id": first["interaction"]["id"], "summary": "年度回访", "links": 1, "handlers": 1}
    ]


def test_keys_are_scoped_per_operation_and_per_caller(client, auth_header, driver, settings):
    note = post(client, auth_header, LOG, RM, input=_note("C000001", "回访"))["data"]
    complaint = post(
        client,
        auth_header,
        OPEN,
        RM,
        input={
            "clientMutationId": KEY,
            "customerId": "C000001",
            "channel": "PHONE",
            "summary": "手续费争议",
        },
    )["data"]["openComplaint"]
    # The same key for another operation is another key: a complaint, not the follow-up again.
    assert complaint["created"] is True and complaint["interaction"]["kind"] == "COMPLAINT"
    assert complaint["interaction"]["id"] != note["logInteraction"]["interaction"]["id"]
    # And another caller's key is theirs: an admin with the same key writes their own note.
    admin = post(client, auth_header, LOG, {"role": "admin"}, input=_note("C000002", "管理员"))
    assert admin["data"]["logInteraction"]["created"] is True
    assert admin["data"]["logInteraction"]["interaction"]["summary"] == "管理员"


def test_resolve_complaint_key_is_bound_to_its_complaint(client, auth_header, driver, settings):
    args = {
        "clientMutationId": KEY,
        "complaintId": COMPLAINTS["C000001"],
        "resolution": "已退费",
        "category": "CARD",
        "causeType": "PRICING",
    }
    first = post(client, auth_header, RESOLVE, RM, input=args)["data"]["resolveComplaint"]
    again = post(client, auth_header, RESOLVE, RM, input=args)["data"]["resolveComplaint"]
    assert again == first and first["interaction"]["resolvedAt"]

    other = {**args, "complaintId": COMPLAINTS["C000002"]}
    _refused(post(client, auth_header, RESOLVE, RM, input=other))
    resolved = rows(
        driver,
        settings.neo4j_database,
        "MATCH (i:Interaction {interaction_id: $id}) RETURN i.resolved_at AS at",
        id=COMPLAINTS["C000002"],
    )
    assert resolved == [{"at": None}]


def test_assignment_key_is_bound_and_a_replay_does_not_undo_a_later_assignment(
    client, auth_header, driver, settings
):
    def rm_of(customer_id: str) -> list[str]:
        return [
            r["e"]
            for r in rows(
                driver,
                settings.neo4j_database,
                "MATCH (e:Employee)-[:MANAGES]->(:Customer {customer_id: $c}) "
                "RETURN e.employee_id AS e",
                c=customer_id,
            )
        ]

    to_e3 = {"clientMutationId": KEY, "customerId": "C000001", "employeeId": "E0003"}
    first = post(client, auth_header, ASSIGN, BM, input=to_e3)["data"]["assignRelationshipManager"]
    assert first["relationshipManager"]["id"] == "E0003" and rm_of("C000001") == ["E0003"]

    _refused(post(client, auth_header, ASSIGN, BM, input={**to_e3, "customerId": "C000002"}))
    assert rm_of("C000002") == ["E0001"]

    back = {"clientMutationId": "b1c2d3e4-0000-4000-8000-000000000001", "customerId": "C000001"}
    post(client, auth_header, ASSIGN, BM, input={**back, "employeeId": "E0001"})
    assert rm_of("C000001") == ["E0001"]
    replay = post(client, auth_header, ASSIGN, BM, input=to_e3)["data"]["assignRelationshipManager"]
    assert replay == first
    assert rm_of("C000001") == ["E0001"]  # the replay answered, it did not assign again


WHO = Principal(subject="rm-1", roles=frozenset())


def test_the_request_hash_is_canonical():
    from resolvers.idempotency import idempotency_key

    args = {"customerId": "C1", "occurredAt": dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)}
    key = idempotency_key(WHO, Operation.LOG_INTERACTION, KEY, args)
    shifted = {
        "occurredAt": dt.datetime(2026, 11, 23, 17, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        "customerId": "C1",
    }
    assert idempotency_key(WHO, Operation.LOG_INTERACTION, KEY, shifted) == key
    other = idempotency_key(WHO, Operation.LOG_INTERACTION, KEY, {**args, "customerId": "C2"})
    assert other.key_id == key.key_id and other.request_hash != key.request_hash
    assert idempotency_key(WHO, Operation.OPEN_COMPLAINT, KEY, args).key_id != key.key_id
    someone = Principal(subject="rm-2", roles=frozenset())
    assert idempotency_key(someone, Operation.LOG_INTERACTION, KEY, args).key_id != key.key_id


@pytest.mark.parametrize("bad", ["", "x" * 101])
def test_a_key_must_be_1_to_100_characters(bad):
    from resolvers.idempotency import idempotency_key

    with pytest.raises(BadUserInput, match="clientMutationId"):
        idempotency_key(WHO, Operation.LOG_INTERACTION, bad, {})
