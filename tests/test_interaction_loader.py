"""A page of customers with their interactions costs the same graph round trips at 20 as at 50
(issue 16: Customer.interactions ran one query per customer).

The round trips are counted on the wire side of the app (tests/round_trips.py).
"""

from __future__ import annotations

import pytest
from neo4j import RoutingControl
from starlette.testclient import TestClient

from tests.bank_graph import load_bank
from tests.conftest import wipe
from tests.round_trips import CountingSession, count_queries

PAGE = """query($first: Int!) { customers(first: $first) { edges { node {
  id interactions(first: 2) { totalCount items { id occurredAt } } } } } }"""


@pytest.fixture(scope="module")
def bank_api(settings, driver):
    from c360.app import create_app

    wipe(driver, settings.neo4j_database)
    load_bank(driver, settings.neo4j_database)
    with TestClient(create_app(settings)) as client:
        count_queries(client.app.state.driver)
        yield client


def _page(client, auth_header, first: int, who: dict) -> tuple[list[dict], list[str]]:
    who = dict(who)
    CountingSession.queries = []
    resp = client.post(
        "/graphql",
        json={"query": PAGE, "variables": {"first": first}},
        headers=auth_header(who.pop("role"), **who),
    )
    body = resp.json()
    assert "errors" not in body, body
    return [e["node"] for e in body["data"]["customers"]["edges"]], CountingSession.queries


@pytest.mark.parametrize(
    "who", [{"role": "admin"}, {"role": "relationship_manager", "employee_id": "E1"}]
)
def test_interactions_of_a_page_cost_the_same_round_trips_at_20_and_50(
    bank_api, auth_header, driver, settings, who
):
    small, small_queries = _page(bank_api, auth_header, 20, who)
    big, big_queries = _page(bank_api, auth_header, 50, who)
    assert (len(small), len(big)) == (20, 50)
    assert len(small_queries) == len(big_queries)
    # and each timeline is the customer's own: its count and its two newest interactions
    stored = driver.execute_query(
        """MATCH (c:Customer)-[:HAD]->(i:Interaction) WHERE c.customer_id IN $ids
        WITH c, i ORDER BY i.occurred_at DESC, i.interaction_id DESC
        RETURN c.customer_id AS id, count(i) AS total, collect(i.interaction_id)[0..2] AS newest""",
        ids=[n["id"] for n in big],
        database_=settings.neo4j_database,
        routing_control=RoutingControl.READ,
    ).records
    got = {  # an RM's referral hops come masked, without their timeline
        n["id"]: (n["interactions"]["totalCount"], [i["id"] for i in n["interactions"]["items"]])
        for n in big
        if n["interactions"] is not None
    }
    assert got == {r["id"]: (r["total"], r["newest"]) for r in stored if r["id"] in got}
    assert len(got) >= 40
