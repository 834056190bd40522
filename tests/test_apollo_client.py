"""A real channel client: Apollo Client 4 with its default InMemoryCache (tests/clients/
apollo_cache.mjs) against the app served over HTTP on the test bank.

In one client session (one cache) it reads several members of one household (different roles),
the joint holders of one account, a relationship manager's customers, a referrer and the people
they referred at different dates, and two networks centred on different customers; each query
read back with fetchPolicy 'cache-only' must be exactly what the server answered. The same
reads through the deprecated fields are corrupted by the cache: that is why the new shape
exists (schema/CHANGELOG.md, 2026-11-30). And paging with fetchMore under the type policies the
README recommends gives the server's list, without duplicates."""

from __future__ import annotations

import pytest

from tests.bank_graph import load_bank
from tests.conftest import wipe
from tests.live_server import served
from tests.node_clients import run_client

pytestmark = pytest.mark.graph

# Variety the bank itself does not have: a joint holder (C1001 on C1000's account A1000), a
# spouse who joined later, an RM who took over one customer later, referrals on other dates.
VARIETY = """
MATCH (c1:Customer {customer_id: 'C1001'}), (a:Account {account_id: 'A1000'})
MERGE (c1)-[:HOLDS {role: 'JOINT'}]->(a)
WITH c1
MATCH (c1)-[m:MEMBER_OF]->(:Household) SET m.since = date('2016-05-01')
WITH c1
MATCH (:Employee {employee_id: 'E1'})-[r:MANAGES]->(c1) SET r.since = date('2023-06-01')
WITH count(*) AS _
MATCH (:Customer {customer_id: 'C1010'})-[ref:REFERRED]->(b:Customer)
WHERE b.customer_id IN ['C1101', 'C1102']
SET ref.referred_at = CASE b.customer_id WHEN 'C1101' THEN date('2023-03-03')
                                         ELSE date('2024-04-04') END
"""

HOUSEHOLD_IDS = ["C1000", "C1001", "C1002"]  # HEAD, SPOUSE, CHILD of H1000
REFERRED = ["C1100", "C1101", "C1102"]  # referred by C1010, at three dates
CENTRES = ["C1000", "C1001"]


def _documents(new: bool) -> list[dict]:
    if new:
        member = "householdMembership { role since household { id name members { role since customer { id name tier } } } }"
        holdings = "holdings { role account { id balance } }"
        rm = "relationshipManagerAssignment { since employee { id name } }"
        referrer = "referrer { referredAt customer { id name } }"
        referred = "referred { referredAt customer { id name } }"
        network = "members { distance node { id kind label restricted } }"
    else:
        member = "household { id name role since }"
        holdings = "accounts { id balance holderRole }"
        rm = "relationshipManager { id name since }"
        referrer = "referredBy { id name referredAt }"
        referred = "referrals { id name referredAt }"
        network = "nodes { id kind label distance restricted }"
    docs = [
        {
            "name": f"customer {cid}",
            "query": f"query Customer{cid}($id: ID!) {{ customer(id: $id) {{ id name {member} {holdings} {rm} }} }}",
            "variables": {"id": cid},
        }
        for cid in HOUSEHOLD_IDS
    ]
    docs.append(
        {
            "name": "the RM's customers",
            "query": "query Book($rm: ID) { customers(filter: {relationshipManagerId: $rm}, "
            f"first: 5) {{ totalCount edges {{ cursor node {{ id name {rm} }} }} }} }}",
            "variables": {"rm": "E1"},
        }
    )
    docs += [
        {
            "name": f"referral {cid}",
            "query": f"query Ref{cid}($id: ID!) {{ customer(id: $id) {{ id name {referrer} }} }}",
            "variables": {"id": cid},
        }
        for cid in REFERRED
    ]
    docs.append(
        {
            "name": "the referrer",
            "query": f'query Referrer {{ customer(id: "C1010") {{ id name {referred} }} }}',
            "variables": {},
        }
    )
    docs += [
        {
            "name": f"network {cid}",
            "query": f"query Net{cid}($id: ID!) {{ network(customerId: $id, depth: 2) {{ truncated {network} }} }}",
            "variables": {"id": cid},
        }
        for cid in CENTRES
    ]
    return docs


PAGED = """query Page($first: Int, $after: String) {
  customers(filter: {relationshipManagerId: "E1"}, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name } } } }"""


@pytest.fixture(scope="module")
def apollo(settings, driver, auth_header):
    from c360.app import create_app

    wipe(driver, settings.neo4j_database)
    load_bank(driver, settings.neo4j_database)
    driver.execute_query(VARIETY, database_=settings.neo4j_database)
    relaxed = settings.model_copy(
        update={"rate_limit_per_second": 1000.0, "rate_limit_burst": 5000}
    )
    token = auth_header("admin")["Authorization"].removeprefix("Bearer ")
    with served(create_app(relaxed)) as url:
        yield run_client(
            "apollo_cache.mjs",
            {
                "url": url,
                "token": token,
                "sessions": [
                    {"name": "new", "documents": _documents(new=True)},
                    {"name": "deprecated", "documents": _documents(new=False)},
                ],
                "paging": {"query": PAGED, "variables": {"first": 7}, "all": {"first": 100}},
            },
        )


def _by_name(session: list[dict]) -> dict[str, dict]:
    return {read["name"]: read for read in session}


def test_the_bank_has_the_variety_the_cache_is_tested_on(apollo):
    reads = _by_name(apollo["sessions"]["new"])
    roles = {
        reads[f"customer {c}"]["server"]["customer"]["householdMembership"]["role"]
        for c in HOUSEHOLD_IDS
    }
    assert roles == {"HEAD", "SPOUSE", "CHILD"}
    holders = {
        (c, h["role"])
        for c in ("C1000", "C1001")
        for h in reads[f"customer {c}"]["server"]["customer"]["holdings"]
        if h["account"]["id"] == "A1000"
    }
    assert holders == {("C1000", "PRIMARY"), ("C1001", "JOINT")}
    dates = {
        reads[f"referral {c}"]["server"]["customer"]["referrer"]["referredAt"] for c in REFERRED
    }
    assert dates == {"2022-01-01", "2023-03-03", "2024-04-04"}
    book = reads["the RM's customers"]["server"]["customers"]["edges"]
    assert len({e["node"]["relationshipManagerAssignment"]["since"] for e in book}) == 2
    for centre in CENTRES:
        members = reads[f"network {centre}"]["server"]["network"]["members"]
        assert {m["node"]["id"]: m["distance"] for m in members}[centre] == 0
    assert len(apollo["sessions"]["new"]) == 10


def test_every_new_shape_reads_back_from_the_cache_as_the_server_answered(apollo):
    for read in apollo["sessions"]["new"]:
        assert read["cached"] == read["server"], read["name"]


def test_the_deprecated_shapes_are_corrupted_by_a_normalised_cache(apollo):
    """Why the new fields exist: the same reads through the deprecated fields come back from
    the cache with another member's role, another holder's role, another customer's RM date,
    another referral's date, and another network's distances."""
    corrupted = {r["name"] for r in apollo["sessions"]["deprecated"] if r["cached"] != r["server"]}
    # Every household read but the last (its household object won), the joint holder read
    # first, every referral but the last, the first network; the RM's book: the one Employee
    # object holds the last answer's date.
    assert corrupted == {
        "customer C1000",
        "customer C1001",
        "the RM's customers",
        "referral C1100",
        "referral C1101",
        "network C1000",
    }, corrupted
    first_network = _by_name(apollo["sessions"]["deprecated"])["network C1000"]
    distance = {n["id"]: n["distance"] for n in first_network["cached"]["network"]["nodes"]}
    assert distance["C1000"] != 0  # the centre moved away from itself


def test_fetch_more_with_the_recommended_type_policies_gives_the_servers_list(apollo):
    paging = apollo["paging"]
    merged = paging["merged"]["customers"]
    whole = paging["all"]["customers"]
    ids = [e["node"]["id"] for e in merged["edges"]]
    assert paging["pages"] == 6  # 40 customers of E1 in pages of 7
    assert len(ids) == len(set(ids)) == whole["totalCount"] == 40
    assert ids == [e["node"]["id"] for e in whole["edges"]]
    assert merged["pageInfo"]["hasNextPage"] is False
