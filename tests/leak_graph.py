"""The policy graph (tests/policy_graph.py) with strangers linked to it, for the indirect-leak tests.

Added to the policy graph, each reachable only through someone else's relationships:

| customer     | how it is linked                                             | E0001 | BR001 |
|--------------|--------------------------------------------------------------|-------|-------|
| C000007 王芳 | managed by E0002 (BR002); holds A0000007 jointly with C000002 | no    | no    |
| C000008 陈刚 | spouse in C000004's household H000002 刘洋家庭                 | no    | no    |
| C000009 周杰 | referred by C000005 (a member of C000001's household); no RM, | no    | yes   |
|              | home branch BR001                                            |       |       |
| C000010 孙丽 | managed by E0002 (BR002); referred C000002                    | hop   | no    |

The callers are the policy matrix's (customer C000001, RM E0001, branch manager BR001, the roles
that see everyone) plus two more customers: C000002, whose household is named after C000001, and
C000006, who left that household. ``forbidden`` lists, per caller, every string that must never
appear in an answer: the identifiers and contact of customers beyond the caller's scope, what the
caller's view masks, the numbers of accounts no reachable customer holds and the ids and names of
households the caller may not know.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from neo4j import Driver, RoutingControl
from starlette.testclient import TestClient

from auth.masking import Mask
from auth.policy import ROLES, VIEWS, Role
from core.settings import Settings
from tests.phones import national_number
from tests.policy_graph import load_policy_graph

STRANGERS = """
MATCH (c2:Customer {customer_id: 'C000002'}), (c4:Customer {customer_id: 'C000004'}),
      (c5:Customer {customer_id: 'C000005'}), (e2:Employee {employee_id: 'E0002'}),
      (p:Product {product_code: 'SAV-STD'})
CREATE (c7:Customer {customer_id: 'C000007', name: '王芳', phone: '+8613300007777',
  email: 'wang.fang@example.com', city: '杭州', segment: 'RETAIL', status: 'ACTIVE'})
CREATE (e2)-[:MANAGES {since: date('2021-01-01')}]->(c7)
CREATE (a7:Account {account_id: 'A0000007', product_type: 'SAVINGS', product_code: 'SAV-STD',
  currency: 'CNY', balance: 1000.0, status: 'OPEN'})-[:OF_PRODUCT]->(p)
CREATE (c7)-[:HOLDS {role: 'PRIMARY'}]->(a7), (c2)-[:HOLDS {role: 'JOINT'}]->(a7)
CREATE (c8:Customer {customer_id: 'C000008', name: '陈刚', phone: '+8613300008888',
  email: 'chen.gang@example.com', city: '杭州', segment: 'RETAIL', status: 'ACTIVE'})
CREATE (h2:Household {household_id: 'H000002', name: '刘洋家庭', address: '杭州市上城区解放路1号'})
CREATE (c4)-[:MEMBER_OF {role: 'HEAD', since: date('2019-05-01')}]->(h2)
CREATE (c8)-[:MEMBER_OF {role: 'SPOUSE', since: date('2019-05-01')}]->(h2)
CREATE (c9:Customer {customer_id: 'C000009', name: '周杰', phone: '+8613300009999',
  email: 'zhou.jie@example.com', city: '上海', segment: 'RETAIL', status: 'ACTIVE'})
CREATE (c5)-[:REFERRED {referred_at: date('2024-02-02'), channel: 'APP', status: 'CONVERTED'}]->(c9)
WITH c2, c9, e2
MATCH (b1:Branch {branch_id: 'BR001'})
CREATE (c9)-[:HOME_BRANCH]->(b1) SET c9.home_branch_id = 'BR001'
WITH c2, e2
CREATE (c10:Customer {customer_id: 'C000010', name: '孙丽', phone: '+8613300001010',
  email: 'sun.li@example.com', city: '杭州', segment: 'RETAIL', status: 'ACTIVE'})
CREATE (e2)-[:MANAGES {since: date('2021-01-01')}]->(c10)
CREATE (c10)-[:REFERRED {referred_at: date('2021-06-06'), channel: 'BRANCH', status: 'CONVERTED'}]->(c2)
"""

CUSTOMERS = tuple(f"C0000{i:02d}" for i in range(1, 11))
HOUSEHOLDS = ("H000001", "H000002")
EVERYONE = dict.fromkeys(CUSTOMERS, "direct")


@dataclass(frozen=True)
class Caller:
    role: Role
    claims: dict[str, str] = field(default_factory=dict)
    # customer -> 'direct' or 'hop'; absent: beyond the caller's scope
    access: dict[str, str] = field(default_factory=lambda: dict(EVERYONE))
    # households whose id and name the caller may know (names of people in them still masked)
    households: tuple[str, ...] = HOUSEHOLDS

    def view_masks(self, customer_id: str, field_name: str) -> bool:
        policy = ROLES[self.role]
        view = policy.hop_view if self.access[customer_id] == "hop" else policy.view
        return VIEWS[view][field_name] is not Mask.CLEAR


CALLERS: dict[str, Caller] = {
    "customer": Caller(
        Role.CUSTOMER, {"customer_id": "C000001"}, {"C000001": "direct"}, ("H000001",)
    ),
    "customer-C000002": Caller(
        Role.CUSTOMER, {"customer_id": "C000002"}, {"C000002": "direct"}, ("H000001",)
    ),
    # left H000001: their profile still names it, household(id) does not open it
    "customer-C000006": Caller(
        Role.CUSTOMER, {"customer_id": "C000006"}, {"C000006": "direct"}, ("H000001",)
    ),
    "channel_service": Caller(Role.CHANNEL_SERVICE),
    "relationship_manager": Caller(
        Role.RELATIONSHIP_MANAGER,
        {"employee_id": "E0001"},
        {
            "C000001": "direct",
            "C000002": "direct",
            "C000005": "direct",
            "C000004": "hop",
            "C000010": "hop",
        },
        # H000002 does not open for the RM, but the hop view shows 刘洋's household membership
        ("H000001", "H000002"),
    ),
    "branch_manager": Caller(
        Role.BRANCH_MANAGER,
        {"branch_id": "BR001"},
        # C000009 has no relationship manager: BR001 is their home branch
        {"C000001": "direct", "C000002": "direct", "C000009": "direct"},
        ("H000001",),
    ),
    "data_engineer": Caller(Role.DATA_ENGINEER),
    "auditor": Caller(Role.AUDITOR),
    "admin": Caller(Role.ADMIN),
}


def load_leak_graph(driver: Driver, database: str) -> None:
    load_policy_graph(driver, database)
    driver.execute_query(STRANGERS, database_=database, routing_control=RoutingControl.WRITE)


def forbidden(driver: Driver, database: str, caller: Caller) -> dict[str, str]:
    """Every string the caller must never receive -> what it is (for the failure message)."""
    records = driver.execute_query(
        """MATCH (c:Customer) RETURN c.customer_id AS id, c.name AS name, c.phone AS phone,
                  c.email AS email, [(c)-[:HOLDS]->(a:Account) | a.account_id] AS accounts
        UNION ALL
        MATCH (h:Household) RETURN h.household_id AS id, h.name AS name, null AS phone,
                  null AS email, [] AS accounts""",
        database_=database,
        routing_control=RoutingControl.READ,
    ).records
    out: dict[str, str] = {}
    readable_accounts: set[str] = set()
    for r in records:
        cid = r["id"]
        if cid in HOUSEHOLDS:
            if cid not in caller.households:
                out |= {cid: f"household {cid}", r["name"]: f"name of household {cid}"}
            continue
        if cid in caller.access:
            readable_accounts |= set(r["accounts"])
        else:
            out[cid] = f"id of {cid}"
        for name in ("name", "phone", "email"):
            if r[name] and (cid not in caller.access or caller.view_masks(cid, name)):
                out[r[name]] = f"{name} of {cid}"
                if name == "phone":  # stored in E.164: the number without +86 is as telling
                    out[national_number(r[name])] = f"{name} of {cid} (national form)"
    for r in records:
        for account in r["accounts"]:
            if account not in readable_accounts:
                out[account] = f"account {account} of {r['id']}"
    return out


NETWORK = """query($id: ID!, $depth: Int!) { network(customerId: $id, depth: $depth) {
  truncated nodes { id kind label distance tier restricted } edges { source target type role } } }"""
PROFILE = """query($id: ID!) { customer(id: $id) {
  id name household { id name role } referredBy { id name referredAt }
  referrals { id name referredAt } accounts { id } } }"""
HOUSEHOLD = """query($id: ID!) { household(id: $id) {
  id name aum tier members { customerId name role since endedAt tier } } }"""


@contextmanager
def leak_client(settings: Settings, driver: Driver) -> Iterator[TestClient]:
    """The API over the leak graph (the rate limit relaxed: a test asks many questions)."""
    from c360.app import create_app

    load_leak_graph(driver, settings.neo4j_database)
    relaxed = settings.model_copy(
        update={"rate_limit_per_second": 1000.0, "rate_limit_burst": 5000}
    )
    with TestClient(create_app(relaxed)) as client:
        yield client


def post(client: TestClient, auth_header, caller: Caller, query: str, variables: dict) -> dict:
    headers = auth_header(caller.role.value, **caller.claims)
    resp = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


def assert_no_leak(
    answer: object, banned: dict[str, str], what: str, *, asked: tuple[str, ...] = ()
) -> None:
    """Nothing banned anywhere in the answer, serialised whole (``asked``: ids the caller sent,
    which a NOT_FOUND error may name)."""
    text = json.dumps(answer, ensure_ascii=False)
    leaked = sorted(f"{v} ({k})" for k, v in banned.items() if k in text and k not in asked)
    assert not leaked, f"{what} leaks {leaked}: {text}"
