"""The graph and the HTTP helpers of the write tests: the policy graph (tests/policy_graph.py)
plus two colleagues of RM E0001 at branch BR001 and an open complaint on each of E0001's two
customers.

| employee | title                | branch |
|----------|----------------------|--------|
| E0001    | Relationship Manager | BR001 (manages C000001, C000002) |
| E0003    | Relationship Manager | BR001 (manages nobody) |
| E0009    | Service Officer      | BR001 (not a relationship manager) |
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from neo4j import Driver, RoutingControl

from tests.policy_graph import load_policy_graph

STAFF = """
MATCH (b:Branch {branch_id: 'BR001'})
CREATE (:Employee {employee_id: 'E0003', name: '孙悦', title: 'Relationship Manager',
                   branch_id: 'BR001'})-[:WORKS_AT]->(b)
CREATE (:Employee {employee_id: 'E0009', name: '周柜员', title: 'Service Officer',
                   branch_id: 'BR001'})-[:WORKS_AT]->(b)
WITH b
UNWIND $complaints AS k
MATCH (c:Customer {customer_id: k.customer_id})
CREATE (c)-[:HAD]->(:Interaction {interaction_id: k.id, kind: 'COMPLAINT', channel: 'PHONE',
                                  severity: 'MINOR', summary: k.summary, occurred_at: $opened})
"""

COMPLAINTS = {"C000001": "K-C000001", "C000002": "K-C000002"}
COMPLAINT_SUMMARIES = {"C000001": "转账延迟", "C000002": "卡片被锁"}

RM = {"role": "relationship_manager", "employee_id": "E0001"}
BM = {"role": "branch_manager", "branch_id": "BR001"}

LOG = """mutation($input: LogInteractionInput!) { logInteraction(input: $input) {
  clientMutationId created interaction { id kind summary } } }"""
OPEN = """mutation($input: OpenComplaintInput!) { openComplaint(input: $input) {
  created interaction { id kind summary } } }"""
RESOLVE = """mutation($input: ResolveComplaintInput!) { resolveComplaint(input: $input) {
  interaction { id resolvedAt outcome } } }"""
ASSIGN = """mutation($input: AssignRelationshipManagerInput!) {
  assignRelationshipManager(input: $input) { customerId relationshipManager { id since } } }"""


def load_write_graph(driver: Driver, database: str) -> None:
    load_policy_graph(driver, database)
    driver.execute_query(
        STAFF,
        complaints=[
            {"customer_id": c, "id": i, "summary": COMPLAINT_SUMMARIES[c]}
            for c, i in COMPLAINTS.items()
        ],
        opened=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
        database_=database,
        routing_control=RoutingControl.WRITE,
    )


def rows(driver: Driver, database: str, query: str, **params: Any) -> list[dict[str, Any]]:
    records = driver.execute_query(
        query, params, database_=database, routing_control=RoutingControl.READ
    ).records
    return [r.data() for r in records]


def post(client, auth_header, query: str, who: dict, headers: dict | None = None, **variables):
    claims = dict(who)
    resp = client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={**auth_header(claims.pop("role"), **claims), **(headers or {})},
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


def codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]
