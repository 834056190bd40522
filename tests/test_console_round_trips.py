"""The console's own read documents (taken from console/src/main.js, as shipped) cost a fixed number
of graph round trips, whatever the page size: no query per customer, per account or per
interaction. Counted on the wire side of the app (tests/round_trips.py).

The counts (queries sent) are the design, one line each: a customer read is its scoped profile
query, which brings the first page of the timeline along, and the audit write (a timeline page
the profile did not bring is one interactions query: the request's DataLoader, for every customer
of a page at once); a list is its page and its count (one read session) and the audit write;
the network is its scope check and its walk (one read session) and the audit write.
"""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from core.settings import PROJECT_ROOT
from tests.bank_graph import load_bank
from tests.conftest import wipe
from tests.round_trips import CountingSession, count_queries

CONSOLE = (PROJECT_ROOT / "console" / "src" / "main.js").read_text(encoding="utf-8")
DOCUMENTS = dict(re.findall(r"const ([A-Z_]+) = `(query\b[^`]*)`", CONSOLE))
RM = {"role": "relationship_manager", "employee_id": "E1"}
ADMIN = {"role": "admin"}


@pytest.fixture(scope="module")
def console_api(settings, driver):
    from c360.app import create_app

    wipe(driver, settings.neo4j_database)
    load_bank(driver, settings.neo4j_database)
    driver.execute_query(  # the bank has no scores: RM E1's first 30 customers at risk
        """MATCH (:Employee {employee_id: 'E1'})-[:MANAGES]->(c:Customer)
        WITH c ORDER BY c.customer_id LIMIT 30
        SET c.downgrade_risk_level = 'HIGH', c.downgrade_reasons = ['AUM fell']""",
        database_=settings.neo4j_database,
    )
    with TestClient(create_app(settings)) as client:
        count_queries(client.app.state.driver)
        yield client


def _queries(client, auth_header, who: dict, name: str, variables: dict) -> tuple[dict, list[str]]:
    who = dict(who)
    CountingSession.queries = []
    resp = client.post(
        "/graphql",
        json={"query": DOCUMENTS[name], "variables": variables},
        headers=auth_header(who.pop("role"), **who),
    )
    body = resp.json()
    assert "errors" not in body, body
    return body["data"], list(CountingSession.queries)


def test_the_console_documents_are_found():
    assert {"SEARCH", "AT_RISK", "PROFILE", "NETWORK"} <= set(DOCUMENTS)


@pytest.mark.parametrize("who", [RM, ADMIN], ids=["rm", "admin"])
def test_a_search_page_costs_the_same_at_any_size(console_api, auth_header, who):
    small, small_q = _queries(console_api, auth_header, who, "SEARCH", {"first": 10})
    big, big_q = _queries(console_api, auth_header, who, "SEARCH", {"first": 50})
    assert len(small["customers"]["edges"]) == 10
    assert len(big["customers"]["edges"]) > 10
    assert len(small_q) == len(big_q) == 3  # the page, its count, the audit


@pytest.mark.parametrize("who", [RM, ADMIN], ids=["rm", "admin"])
def test_a_profile_costs_two_round_trips(console_api, auth_header, who):
    data, queries = _queries(console_api, auth_header, who, "PROFILE", {"id": "C1000"})
    assert data["customer"]["id"] == "C1000"
    assert data["customer"]["holdings"] and data["customer"]["timeline"]["nodes"]
    assert data["customer"]["householdMembership"]["household"]["id"]
    assert len(queries) == 2, queries  # the profile with its timeline's first page, the audit


def test_the_at_risk_list_costs_three_round_trips(console_api, auth_header):
    data, queries = _queries(console_api, auth_header, RM, "AT_RISK", {})
    assert len(data["atRiskCustomers"]["edges"]) == 20  # the console's page
    assert len(queries) == 3, queries  # the page, its count, the audit


@pytest.mark.parametrize("who", [RM, ADMIN], ids=["rm", "admin"])
def test_the_network_costs_three_round_trips(console_api, auth_header, who):
    data, queries = _queries(console_api, auth_header, who, "NETWORK", {"id": "C1000"})
    assert len(data["network"]["nodes"]) > 1
    assert len(queries) == 3, queries  # the scope check and the walk, the audit
