"""The graph the policy tests read: the sample bank plus the relationships each scope must see.

| customer | how E0001 (RM at BR001) reaches it                   | BR001 manager |
|----------|------------------------------------------------------|---------------|
| C000001  | manages                                              | yes           |
| C000002  | manages (and same household)                         | yes           |
| C000003  | not at all                                           | no            |
| C000004  | C000001 REFERRED C000004 -> one hop (masked)         | no (E0002 at BR002) |
| C000005  | current member of C000001's household                | no            |
| C000006  | former member (ended_at set) of that household        | no            |

C000002's home branch is BR001 (a customer the branch reaches anyway), C000004's BR002.
"""

from __future__ import annotations

import datetime as dt
import json

from neo4j import Driver, RoutingControl

from etl.sample import load_sample
from graph import migrate
from graph.queries.scope import ScopeKind

EXTRA = """
MATCH (c1:Customer {customer_id: 'C000001'})
SET c1.value_score = 81.5, c1.risk_rating = 'LOW', c1.downgrade_risk_level = 'MEDIUM',
    c1.churn_risk_level = 'LOW', c1.tier = 'CORE'
MERGE (b2:Branch {branch_id: 'BR002'}) SET b2.name = '杭州西湖支行', b2.city = '杭州'
MERGE (e2:Employee {employee_id: 'E0002'}) SET e2.name = '赵强', e2.branch_id = 'BR002'
MERGE (e2)-[:WORKS_AT]->(b2)
CREATE (c4:Customer {customer_id: 'C000004', name: '刘洋', phone: '+8613700002222',
  email: 'liu.yang@example.com', address: '杭州市上城区解放路1号', city: '杭州',
  birth_date: date('1990-03-04'), national_id_last4: '3456', segment: 'RETAIL', status: 'ACTIVE',
  value_score: 40.0, risk_rating: 'MEDIUM', tier: 'ORDINARY'})
CREATE (c1)-[:REFERRED {referred_at: date('2023-01-01'), channel: 'APP', status: 'CONVERTED'}]->(c4)
MERGE (e2)-[:MANAGES {since: date('2023-02-01')}]->(c4)
WITH c1, c4
MATCH (h:Household {household_id: 'H000001'})
CREATE (c5:Customer {customer_id: 'C000005', name: '张小明', phone: '+8613500003333',
  email: 'xm@example.com', address: '上海市浦东新区世纪大道100号', city: '上海',
  birth_date: date('2012-06-01'), national_id_last4: '7890', segment: 'RETAIL', status: 'ACTIVE'})
CREATE (c5)-[:MEMBER_OF {role: 'CHILD', since: date('2012-06-01')}]->(h)
CREATE (c6:Customer {customer_id: 'C000006', name: '张老', phone: '+8613400004444',
  email: 'old@example.com', address: '上海市黄浦区南京路1号', city: '上海',
  birth_date: date('1950-01-01'), national_id_last4: '1111', segment: 'RETAIL', status: 'ACTIVE'})
CREATE (c6)-[:MEMBER_OF {role: 'PARENT', since: date('2010-10-01'), ended_at: date('2020-01-01')}]->(h)
CREATE (:TierChange {change_id: 'C000001:2026-09-30:KEY->CORE', customer_id: 'C000001',
  from_tier: 'KEY', to_tier: 'CORE', direction: 'UP', changed_at: date('2026-09-30'),
  aum: 5200000.0})-[:OF]->(c1)
WITH c4
MATCH (c2:Customer {customer_id: 'C000002'}), (b1:Branch {branch_id: 'BR001'}),
      (b2:Branch {branch_id: 'BR002'})
SET c2.home_branch_id = 'BR001', c4.home_branch_id = 'BR002'
CREATE (c2)-[:HOME_BRANCH]->(b1), (c4)-[:HOME_BRANCH]->(b2)
"""

# Scored contacts (Customer.satisfaction), for the matrix only: recent ones for C000001 and its
# referral hop C000004.
SCORED_CONTACTS = """
MATCH (c1:Customer {customer_id: 'C000001'}), (c4:Customer {customer_id: 'C000004'})
CREATE (c1)-[:HAD]->(:Interaction {interaction_id: 'PI-1', kind: 'SURVEY', channel: 'APP',
  occurred_at: datetime() - duration({days: 10}), satisfaction: 4, nps: 9})
CREATE (c1)-[:HAD]->(:Interaction {interaction_id: 'PI-2', kind: 'SERVICE', channel: 'BRANCH',
  occurred_at: datetime() - duration({days: 40}), satisfaction: 3})
CREATE (c4)-[:HAD]->(:Interaction {interaction_id: 'PI-3', kind: 'SURVEY', channel: 'APP',
  occurred_at: datetime() - duration({days: 5}), satisfaction: 2})
"""

CUSTOMER_IDS = ("C000001", "C000002", "C000003", "C000004", "C000005", "C000006")
MISSING_ID = "C999999"

# The claims a token of each role carries in these tests.
CLAIMS = {"customer_id": "C000001", "employee_id": "E0001", "branch_id": "BR001"}

# What each scope kind must let these claims reach in this graph: customer -> access.
EXPECTED_ACCESS: dict[ScopeKind, dict[str, str]] = {
    ScopeKind.ANY: dict.fromkeys(CUSTOMER_IDS, "direct"),
    ScopeKind.OWN: {"C000001": "direct"},
    ScopeKind.BOOK: {
        "C000001": "direct",
        "C000002": "direct",
        "C000005": "direct",
        "C000004": "hop",
    },
    ScopeKind.BRANCH: {"C000001": "direct", "C000002": "direct"},
}


def load_policy_graph(driver: Driver, database: str, *, scored_contacts: bool = False) -> None:
    from tests.conftest import wipe

    wipe(driver, database)
    migrate.apply(driver, database=database)
    load_sample(driver, database=database)
    driver.execute_query(EXTRA, database_=database, routing_control=RoutingControl.WRITE)
    if scored_contacts:
        driver.execute_query(
            SCORED_CONTACTS, database_=database, routing_control=RoutingControl.WRITE
        )


def raw_customer(driver: Driver, database: str, customer_id: str) -> dict:
    """The stored customer, with each object field in the shape the matrix compares."""
    record = driver.execute_query(
        """MATCH (c:Customer {customer_id: $id})
        OPTIONAL MATCH (c)-[:HOLDS]->(a:Account)
        OPTIONAL MATCH (c)-[:MEMBER_OF]->(h:Household)
        WITH c, collect(DISTINCT a.account_id) AS accounts, collect(DISTINCT h.household_id) AS hh
        RETURN c {.*, birth_year: c.birth_date.year} AS c, accounts, hh,
               [(e:Employee)-[:MANAGES]->(c) | e.employee_id] AS rms,
               [(c)-[:HOME_BRANCH]->(b:Branch) | b.branch_id] AS home,
               [(r:Customer)-[:REFERRED]->(c) | r.customer_id] AS referred_by,
               [(c)-[:REFERRED]->(r:Customer) | r.customer_id] AS referrals,
               [(s:SourceRecord)-[:RESOLVED_TO]->(c) | s.system + ':' + s.source_id] AS sources,
               COUNT { (c)-[:HAD]->(:Interaction) } AS interactions,
               [(t:TierChange)-[:OF]->(c) | t.change_id] AS tier_history,
               [(c)-[:HAD]->(i:Interaction) WHERE i.satisfaction IS NOT NULL
                  AND date(i.occurred_at) > date() - duration({days: 182}) | i.satisfaction]
                 AS recent_csat""",
        id=customer_id,
        database_=database,
        routing_control=RoutingControl.READ,
    ).records[0]
    row = dict(record["c"])
    row["accounts"] = sorted(record["accounts"])
    row["household"] = record["hh"][0] if record["hh"] else None
    if isinstance(row.get("birth_date"), dt.date) or hasattr(row.get("birth_date"), "to_native"):
        row["birth_date"] = row["birth_date"].to_native()
    scored = row.get("tier") is not None or row.get("value_score") is not None
    row["value"] = row.get("value_score") if scored else None
    row["risk"] = row.get("downgrade_risk_level")
    row["recommendations"] = sorted(
        r["product_code"] for r in json.loads(row.get("recommendations_json") or "[]")
    )
    row["interactions"] = record["interactions"]
    recent = record["recent_csat"]  # Customer.satisfaction.average6m: the last 182 days
    row["satisfaction"] = round(sum(recent) / len(recent), 2) if recent else None
    row["relationship_manager"] = record["rms"][0] if record["rms"] else None
    row["home_branch"] = record["home"][0] if record["home"] else None
    row["referred_by"] = record["referred_by"][0] if record["referred_by"] else None
    row["referrals"] = sorted(record["referrals"])
    row["source_records"] = sorted(record["sources"])
    row["tier_history"] = sorted(record["tier_history"])
    return row
