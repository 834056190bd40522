"""The benchmarks' own reads: what to ask for, and how big the graph is (bench/)."""

from __future__ import annotations

import re

SAMPLE_CUSTOMERS = "MATCH (c:Customer) RETURN c.customer_id AS id, c.name AS name LIMIT 5000"
FIRST_CUSTOMER_IDS = "MATCH (c:Customer) RETURN c.customer_id AS id ORDER BY id LIMIT 500"
LARGEST_BOOK = """
MATCH (e:Employee)-[:MANAGES]->()
RETURN e.employee_id AS id, count(*) AS n
ORDER BY n DESC LIMIT 1
"""
LABELS = "CALL db.labels() YIELD label RETURN label"
RELATIONSHIPS = "MATCH ()-[r]->() RETURN count(r) AS n"
_LABEL = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def label_count(label: str) -> str:
    """Nodes of one label (a count-store lookup, not a scan); the label is checked first."""
    if not _LABEL.match(label):
        raise ValueError(f"not a label: {label!r}")
    return f"MATCH (n:`{label}`) RETURN count(n) AS n"


# bench/kpis.py's graph of a given size, made in Cypher: (step, query) with $n customers,
# $branches, $rms (see bench/kpis.py for what it holds and why)
KPI_GRAPH = [
    ("branches", """UNWIND range(1, $branches) AS b
        CREATE (:Branch {branch_id: 'KB' + right('0000' + toString(b), 4), name: 'Branch ' + b})"""),
    ("employees", """UNWIND range(1, $rms) AS e
        MATCH (b:Branch {branch_id: 'KB' + right('0000' + toString(e % $branches + 1), 4)})
        CREATE (:Employee {employee_id: 'KE' + right('00000' + toString(e), 5),
                           title: 'Relationship Manager', branch_id: b.branch_id})-[:WORKS_AT]->(b)"""),
    ("customers", """UNWIND range(0, $n - 1) AS i
        CALL (i) {
          CREATE (:Customer {customer_id: 'K' + toString(i), name: 'Customer ' + i,
            birth_date: date('1960-01-01') + duration({days: i % 15000}),
            phone: '+86138' + right('00000000' + toString(i), 8),
            email: CASE WHEN i % 5 = 0 THEN null ELSE 'c' + i + '@example.com' END,
            address: 'Road ' + i, city: 'City ' + (i % 50),
            tier: CASE WHEN i % 100 = 0 THEN 'CORE' WHEN i % 10 = 0 THEN 'KEY' ELSE 'ORDINARY' END,
            previous_tier: CASE WHEN i % 97 = 0 THEN 'KEY' END,
            downgrade_risk_level: ['NONE', 'NONE', 'LOW', 'MEDIUM', 'HIGH'][i % 5],
            aum: toFloat(i % 2000000), onboarded_at: date('2015-01-01') + duration({days: i % 3000}),
            scored_at: datetime('2026-10-31T02:00:00Z')})
        } IN TRANSACTIONS OF 50000 ROWS"""),
    ("managers", """MATCH (c:Customer) WHERE toInteger(substring(c.customer_id, 1)) % 10 < 6
        CALL (c) {
          MATCH (e:Employee {employee_id: 'KE' + right('00000' +
                 toString(toInteger(substring(c.customer_id, 1)) % $rms + 1), 5)})
          CREATE (e)-[:MANAGES {since: date('2020-01-01')}]->(c)
        } IN TRANSACTIONS OF 50000 ROWS"""),
    ("accounts", """MATCH (c:Customer)
        WITH c, toInteger(substring(c.customer_id, 1)) AS i
        CALL (c, i) {
          UNWIND range(0, 1) AS k
          CREATE (c)-[:HOLDS {role: 'PRIMARY'}]->(:Account {account_id: c.customer_id + '-' + k,
            product_type: ['SAVINGS', 'TIME_DEPOSIT'][k], balance: toFloat(i % 100000),
            status: CASE WHEN i % 211 = 0 THEN 'CLOSED' ELSE 'OPEN' END,
            closed_at: CASE WHEN i % 211 = 0 THEN date('2025-01-01') + duration({days: i % 700}) END})
        } IN TRANSACTIONS OF 20000 ROWS"""),
    ("interactions", """MATCH (c:Customer)
        WITH c, toInteger(substring(c.customer_id, 1)) AS i
        CALL (c, i) {
          UNWIND range(0, 2) AS k
          WITH c, i, k, datetime('2024-11-01T00:00:00Z') + duration({hours: (i * 7 + k * 4111) % 17520}) AS at,
               CASE WHEN (i + k) % 10 = 0 THEN 'COMPLAINT' WHEN (i + k) % 10 < 4 THEN 'SURVEY'
                    ELSE 'SERVICE' END AS kind
          CREATE (c)-[:HAD]->(:Interaction {interaction_id: c.customer_id + '-i' + k, kind: kind,
            occurred_at: at, channel: 'APP',
            severity: CASE WHEN kind = 'COMPLAINT' AND i % 7 = 0 THEN 'MAJOR'
                           WHEN kind = 'COMPLAINT' THEN 'MINOR' END,
            first_response_at: CASE WHEN kind = 'COMPLAINT' THEN at + duration({hours: i % 30}) END,
            resolved_at: CASE WHEN kind = 'COMPLAINT' AND i % 9 <> 0
                              THEN at + duration({hours: 2 + i % 40}) END,
            satisfaction: CASE WHEN kind = 'SURVEY' THEN 1 + i % 5 END,
            nps: CASE WHEN kind = 'SURVEY' THEN i % 11 END})
        } IN TRANSACTIONS OF 20000 ROWS"""),
    ("tier changes", """MATCH (c:Customer) WHERE toInteger(substring(c.customer_id, 1)) % 50 = 0
        CALL (c) {
          WITH c, toInteger(substring(c.customer_id, 1)) AS i
          CREATE (:TierChange {change_id: c.customer_id + ':tc', customer_id: c.customer_id,
            from_tier: CASE WHEN i % 100 = 0 THEN 'KEY' ELSE 'CORE' END, to_tier: c.tier,
            direction: CASE WHEN i % 100 = 0 THEN 'UP' ELSE 'DOWN' END,
            changed_at: date('2025-03-31') + duration({months: 3 * (i % 6)})})-[:OF]->(c)
        } IN TRANSACTIONS OF 20000 ROWS"""),
]  # fmt: skip

FIRST_BRANCH = "MATCH (b:Branch) RETURN b.branch_id ORDER BY b.branch_id LIMIT 1"
FIRST_EMPLOYEE = "MATCH (e:Employee) RETURN e.employee_id ORDER BY e.employee_id LIMIT 1"

# bench/compare_graphql.py's larger answers: each of $customer_ids given at least $n interactions,
# older than any real one (ids BENCH-…), and their removal, a slice per query
PAD_INTERACTIONS = """
UNWIND $customer_ids AS cid
MATCH (c:Customer {customer_id: cid})
WITH c, $n - COUNT { (c)-[:HAD]->(:Interaction) } AS missing
UNWIND range(1, missing) AS k
CREATE (c)-[:HAD]->(:Interaction {
  interaction_id: 'BENCH-' + c.customer_id + '-' + right('000' + toString(k), 4),
  channel: ['BRANCH', 'PHONE', 'APP', 'EMAIL'][k % 4], kind: 'SERVICE',
  occurred_at: datetime('2015-01-01T00:00:00Z') - duration({hours: k}),
  summary: 'service contact ' + k})
"""
UNPAD_INTERACTIONS = """
MATCH (i:Interaction) WHERE i.interaction_id STARTS WITH 'BENCH-'
WITH i LIMIT 20000
DETACH DELETE i
"""

# The same for accounts: each of $customer_ids holding at least $n accounts (ids BENCH-…, held as
# PRIMARY, open, in the reporting currency), and their removal, a slice per query
PAD_ACCOUNTS = """
UNWIND $customer_ids AS cid
MATCH (c:Customer {customer_id: cid})
WITH c, $n - COUNT { (c)-[:HOLDS]->(:Account) } AS missing
UNWIND range(1, missing) AS k
CREATE (c)-[:HOLDS {role: 'PRIMARY'}]->(:Account {
  account_id: 'BENCH-' + c.customer_id + '-' + right('000' + toString(k), 4),
  product_type: ['SAVINGS', 'TIME_DEPOSIT', 'FUND', 'CURRENT'][k % 4],
  balance: toFloat(k * 100), currency: $currency, status: 'OPEN'})
"""
UNPAD_ACCOUNTS = """
MATCH (a:Account) WHERE a.account_id STARTS WITH 'BENCH-'
WITH a LIMIT 20000
DETACH DELETE a
"""
