"""A small deterministic bank written straight into the graph for the API tests.

120 customers in two branches (RM E1 at B1 manages C1000-C1039, RM E2 at B2 C1040-C1079, the rest
unmanaged), households of three, a referral chain, accounts with 12 month-ends (every fifth
customer is declining), interactions and an open complaint. Nothing here is random.
"""

from __future__ import annotations

import datetime as dt

from neo4j import Driver, RoutingControl

from graph import migrate

N = 120
AS_OF = dt.date(2026, 10, 31)
SURNAMES = "王李张刘陈杨黄赵吴周"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟"]
CITIES = ["上海", "杭州", "北京"]


def customer_id(i: int) -> str:
    return f"C{1000 + i}"


def customers() -> list[dict]:
    rows = []
    for i in range(N):
        rows.append(
            {
                "customer_id": customer_id(i),
                "name": SURNAMES[i % 10] + GIVEN[i % 12] + ("明" if i % 3 == 0 else ""),
                "phone": f"+86138{i:08d}",
                "email": f"user{i}@example.com",
                "city": CITIES[i % 3],
                "address": f"{CITIES[i % 3]}市人民路{i}号",
                "birth_date": dt.date(1960 + i % 40, 1 + i % 12, 1 + i % 28),
                "segment": "RETAIL" if i % 4 else "PRIVATE",
                "status": "ACTIVE",
                "national_id_last4": f"{i:04d}",
                "onboarded_at": dt.date(2010 + i % 12, 3, 1),
            }
        )
    return rows


def accounts() -> list[dict]:
    rows = []
    for i in range(N):
        base = 50_000.0 * (1 + i % 30)
        if i % 5 == 0:  # declining over the last five months, 40 %
            hist = [base] * 7 + [base * (1 - 0.08 * k) for k in range(1, 6)]
        else:
            hist = [base] * 12
        rows.append(
            {
                "customer_id": customer_id(i),
                "account_id": f"A{1000 + i}",
                "props": {
                    "product_type": "SAVINGS",
                    "product_code": "SAV",
                    "currency": "CNY",
                    "balance": hist[-1],
                    "status": "OPEN",
                    "monthly_balances": hist,
                    "monthly_balance_end": AS_OF,
                },
            }
        )
        if i % 2 == 0:
            rows.append(
                {
                    "customer_id": customer_id(i),
                    "account_id": f"W{1000 + i}",
                    "props": {
                        "product_type": "WEALTH",
                        "product_code": "WM",
                        "currency": "CNY",
                        "balance": 100_000.0,
                        "status": "OPEN",
                        "monthly_balances": [100_000.0] * 12,
                        "monthly_balance_end": AS_OF,
                    },
                }
            )
    return rows


WRITE = """
UNWIND $branches AS b MERGE (x:Branch {branch_id: b.id}) SET x.name = b.name, x.city = b.city
WITH count(*) AS _
UNWIND $employees AS e
MERGE (x:Employee {employee_id: e.id}) SET x.name = e.name, x.branch_id = e.branch, x.title = 'RM'
WITH x, e MATCH (b:Branch {branch_id: e.branch}) MERGE (x)-[:WORKS_AT]->(b)
WITH count(*) AS _
UNWIND $products AS p MERGE (x:Product {product_code: p.code}) SET x.name = p.name, x.category = p.cat
WITH count(*) AS _
UNWIND $customers AS c MERGE (x:Customer {customer_id: c.customer_id}) SET x += c
WITH count(*) AS _
UNWIND $accounts AS a
MERGE (x:Account {account_id: a.account_id}) SET x += a.props
WITH x, a
MATCH (c:Customer {customer_id: a.customer_id}), (p:Product {product_code: a.props.product_code})
MERGE (c)-[:HOLDS {role: 'PRIMARY'}]->(x) MERGE (x)-[:OF_PRODUCT]->(p)
WITH count(*) AS _
UNWIND $manages AS m
MATCH (e:Employee {employee_id: m.e}), (c:Customer {customer_id: m.c})
MERGE (e)-[:MANAGES {since: date('2020-01-01')}]->(c)
WITH count(*) AS _
UNWIND $households AS h
MERGE (x:Household {household_id: h.id}) SET x.name = h.name
WITH x, h UNWIND h.members AS m
MATCH (c:Customer {customer_id: m.c})
MERGE (c)-[:MEMBER_OF {role: m.role, since: date('2015-01-01')}]->(x)
WITH count(*) AS _
UNWIND $referrals AS r
MATCH (a:Customer {customer_id: r.a}), (b:Customer {customer_id: r.b})
MERGE (a)-[:REFERRED {referred_at: date('2022-01-01'), channel: 'APP', status: 'CONVERTED'}]->(b)
WITH count(*) AS _
UNWIND $interactions AS i
MATCH (c:Customer {customer_id: i.c})
MERGE (x:Interaction {interaction_id: i.id}) SET x += i.props
MERGE (c)-[:HAD]->(x)
"""


def load_bank(driver: Driver, database: str) -> None:
    migrate.apply(driver, database=database)
    households = []
    for h in range(0, 60, 3):  # households of three among C1000-C1059
        households.append(
            {
                "id": f"H{1000 + h}",
                "name": f"家庭{h}",
                "members": [
                    {"c": customer_id(h), "role": "HEAD"},
                    {"c": customer_id(h + 1), "role": "SPOUSE"},
                    {"c": customer_id(h + 2), "role": "CHILD"},
                ],
            }
        )
    interactions = []
    for i in range(N):
        for k in range(3):
            when = dt.datetime(2026, 10 - k * 3, 1 + i % 28, 10, 0, tzinfo=dt.UTC)
            interactions.append(
                {
                    "c": customer_id(i),
                    "id": f"I{1000 + i}-{k}",
                    "props": {
                        "channel": ["APP", "PHONE", "BRANCH"][k],
                        "kind": "SERVICE",
                        "occurred_at": when,
                        "summary": f"service {k}",
                        "satisfaction": 4,
                        "nps": 8,
                    },
                }
            )
    interactions.append(
        {
            "c": customer_id(1),
            "id": "I-COMPLAINT-1",
            "props": {
                "channel": "PHONE",
                "kind": "COMPLAINT",
                "severity": "MAJOR",
                "summary": "card blocked",
                "occurred_at": dt.datetime(2026, 10, 30, 8, 0, tzinfo=dt.UTC),
            },
        }
    )
    driver.execute_query(
        WRITE,
        branches=[
            {"id": "B1", "name": "上海分行", "city": "上海"},
            {"id": "B2", "name": "杭州分行", "city": "杭州"},
        ],
        employees=[
            {"id": "E1", "name": "王经理", "branch": "B1"},
            {"id": "E2", "name": "李经理", "branch": "B2"},
            {"id": "E3", "name": "赵经理", "branch": "B1"},
        ],
        products=[
            {"code": "SAV", "name": "储蓄", "cat": "DEPOSIT"},
            {"code": "WM", "name": "理财", "cat": "WEALTH"},
        ],
        customers=customers(),
        accounts=accounts(),
        manages=[{"e": "E1" if i < 40 else "E2", "c": customer_id(i)} for i in range(80)],
        households=households,
        # A chain C1000 -> C1090 -> C1091 -> C1092 and a referrer of many (C1010).
        referrals=[
            {"a": customer_id(0), "b": customer_id(90)},
            {"a": customer_id(90), "b": customer_id(91)},
            {"a": customer_id(91), "b": customer_id(92)},
        ]
        + [{"a": customer_id(10), "b": customer_id(j)} for j in range(100, 115)],
        interactions=interactions,
        database_=database,
        routing_control=RoutingControl.WRITE,
    )
