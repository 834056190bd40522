"""A small bank for the alert tests (tests/test_alerts.py), written with the loader's upserts and
the scoring job's own writer (tier changes, risk levels): every alert kind just inside and just
outside its window, as of AS_OF (or, for complaints, of the moment of the test).

| customer | managed by (branch)      | what it holds                                          |
|----------|--------------------------|--------------------------------------------------------|
| A01      | E1 (B1)                  | deposits, wealth, loans at the window edges            |
| A02      | E1                       | birthday 4 January: 7 days after AS_OF (year wrap)     |
| A03      | E1                       | birthday 5 January: 8 days after AS_OF                 |
| A04      | E1                       | born 29 February 1992                                  |
| A05      | E1                       | birthday on AS_OF itself                               |
| A06      | E1                       | tier CORE -> KEY 10 days before AS_OF (and an older UP)|
| A07      | E1                       | tier KEY -> CORE 100 days before AS_OF (outside 92)    |
| A08      | E1                       | downgrade risk LOW -> HIGH; churn MEDIUM -> LOW        |
| A09      | E1                       | churn NONE -> MEDIUM; downgrade HIGH on a first run    |
| A10      | E1                       | complaints: at risk, on track, breached                |
| B01      | E2 (B2)                  | a deposit maturing in 5 days                           |
| B02      | E3 (B1)                  | a deposit maturing in 6 days; guarantor of A01's MG-5  |
| H01      | E2 (B2), referred by A01 | a deposit maturing in 7 days (a referral hop for E1)   |
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from neo4j import Driver

from graph import migrate
from graph.queries import upserts as q
from graph.queries.scoring import WRITE_SCORES

AS_OF = dt.date(2026, 12, 28)
D = dt.timedelta(days=1)
H = dt.timedelta(hours=1)
SLA_TARGETS = {"sla_first_response_hours": 24.0, "sla_resolution_hours": 48.0,
               "sla_major_resolution_hours": 4.0, "sla_at_risk_ratio": 0.8}  # fmt: skip

BRANCHES = [{"branch_id": "B1", "name": "上海分行", "city": "上海"},
            {"branch_id": "B2", "name": "杭州分行", "city": "杭州"}]  # fmt: skip
EMPLOYEES = [
    {"employee_id": "E1", "name": "王经理", "title": "RM", "branch_id": "B1"},
    {"employee_id": "E2", "name": "李经理", "title": "RM", "branch_id": "B2"},
    {"employee_id": "E3", "name": "赵经理", "title": "RM", "branch_id": "B1"},
]
BOOKS = {**{f"A{n:02d}": "E1" for n in range(1, 11)}, "B01": "E2", "B02": "E3", "H01": "E2"}
BIRTHDAYS = {
    "A02": dt.date(1985, 1, 4),
    "A03": dt.date(1985, 1, 5),
    "A04": dt.date(1992, 2, 29),
    "A05": dt.date(1980, 12, 28),
}
NEUTRAL_BIRTHDAY = dt.date(1970, 6, 15)  # far from every as-of date the tests use


# Accounts: (customer, account, product type, days from AS_OF to maturity, balance, status).
ACCOUNTS = [
    ("A01", "TD-30", "TIME_DEPOSIT", 30, 300_000.0, "OPEN"),
    ("A01", "TD-31", "TIME_DEPOSIT", 31, 310_000.0, "OPEN"),
    ("A01", "TD-90", "TIME_DEPOSIT", 90, 900_000.0, "OPEN"),
    ("A01", "TD-91", "TIME_DEPOSIT", 91, 910_000.0, "OPEN"),
    ("A01", "TD-PAST", "TIME_DEPOSIT", -1, 100_000.0, "OPEN"),
    ("A01", "TD-CLOSED", "TIME_DEPOSIT", 10, 0.0, "CLOSED"),
    ("A01", "WM-0", "WEALTH", 0, 1_234_567.0, "OPEN"),
    ("A01", "LN-30", "LOAN", 30, 80_000.0, "OPEN"),
    ("A01", "LN-31", "LOAN", 31, 81_000.0, "OPEN"),
    ("A01", "MG-5", "MORTGAGE", 5, 1_500_000.0, "OPEN"),
    ("A01", "SV-1", "SAVINGS", None, 50_000.0, "OPEN"),
    ("B01", "TD-B01", "TIME_DEPOSIT", 5, 200_000.0, "OPEN"),
    ("B02", "TD-B02", "TIME_DEPOSIT", 6, 210_000.0, "OPEN"),
    ("H01", "TD-H01", "TIME_DEPOSIT", 7, 220_000.0, "OPEN"),
]
# Holdings besides each account's primary holder: (customer, account, role). A guarantor is not
# told that the loan it guarantees matures (scoring counts PRIMARY and JOINT holders only).
OTHER_HOLDINGS = [("B02", "MG-5", "GUARANTOR")]
PRODUCT_CODES = {"TIME_DEPOSIT": "TD1Y", "WEALTH": "WM", "LOAN": "LN", "MORTGAGE": "MG",
                 "SAVINGS": "SAV"}  # fmt: skip

# Scoring results written by the job's own writer: (customer, props, tier change or None).
SCORED_AS_OF = AS_OF - 3 * D


def _change(customer: str, changed: dt.date, old: str, new: str, direction: str) -> dict:
    return {"change_id": f"{customer}:{changed.isoformat()}:{old}->{new}", "customer_id": customer,
            "from_tier": old, "to_tier": new, "direction": direction, "changed_at": changed,
            "aum": 2_500_000.0, "basis": "previous score"}  # fmt: skip


SCORES: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = [
    ("A06", {"tier": "CORE"}, _change("A06", AS_OF - 200 * D, "ORDINARY", "CORE", "UP")),
    ("A06", {"tier": "KEY"}, _change("A06", AS_OF - 10 * D, "CORE", "KEY", "DOWN")),
    ("A07", {"tier": "CORE"}, _change("A07", AS_OF - 100 * D, "KEY", "CORE", "UP")),
    ("A08", {"downgrade_risk_level": "HIGH", "previous_downgrade_risk_level": "LOW",
             "churn_risk_level": "LOW", "previous_churn_risk_level": "MEDIUM"}, None),
    ("A09", {"churn_risk_level": "MEDIUM", "previous_churn_risk_level": "NONE",
             "downgrade_risk_level": "HIGH", "previous_downgrade_risk_level": None}, None),
]  # fmt: skip

# Complaints of A10 at hours before the test's moment (SLA_TARGETS: 24 h to respond, 80 %).
COMPLAINTS = [
    ("Q-RISK", 20.0),  # 20 h of 24 to respond: AT_RISK
    ("Q-TRACK", 1.0),  # ON_TRACK
    ("Q-LATE", 25.0),  # RESPONSE_BREACHED: past, not about to breach
]


def customers() -> list[dict[str, Any]]:
    return [
        {"customer_id": c, "name": f"客户{c}", "phone": f"+86139000{n:05d}",
         "email": f"{c.lower()}@example.com", "city": "上海", "tier": "KEY", "segment": "RETAIL",
         "status": "ACTIVE", "national_id_last4": f"{n:04d}",
         "birth_date": BIRTHDAYS.get(c, NEUTRAL_BIRTHDAY)}
        for n, c in enumerate(BOOKS, start=1)
    ]  # fmt: skip


def load_alerts_bank(driver: Driver, database: str, now: dt.datetime) -> None:
    from tests.conftest import wipe

    wipe(driver, database)
    migrate.apply(driver, database=database)
    products = [{"product_code": code, "name": code, "category": t, "min_tier": "ORDINARY"}
                for t, code in PRODUCT_CODES.items()]  # fmt: skip
    accounts = [
        {"account_id": a, "props": {
            "product_code": PRODUCT_CODES[t], "product_type": t, "currency": "CNY",
            "balance": balance, "status": status, "opened_at": dt.date(2024, 1, 1),
            "maturity_date": None if days is None else AS_OF + days * D}}
        for _, a, t, days, balance, status in ACCOUNTS
    ]  # fmt: skip
    holdings = [{"customer_id": c, "account_id": a, "role": "PRIMARY"} for c, a, *_ in ACCOUNTS]
    holdings += [{"customer_id": c, "account_id": a, "role": r} for c, a, r in OTHER_HOLDINGS]
    complaints = [
        {"interaction_id": cid, "customer_id": "A10", "employee_id": "E1",
         "props": {"channel": "PHONE", "kind": "COMPLAINT", "occurred_at": now - hours * H,
                   "summary": "扣费", "severity": "MINOR"}}
        for cid, hours in COMPLAINTS
    ]  # fmt: skip
    referral = {"referrer_id": "A01", "referred_id": "H01", "referred_at": dt.date(2025, 1, 1),
                "channel": "APP", "status": "CONVERTED"}  # fmt: skip
    manages = [{"employee_id": e, "customer_id": c, "since": dt.date(2024, 1, 1)}
               for c, e in BOOKS.items()]  # fmt: skip
    for query, batch in (
        (q.UPSERT_BRANCHES, BRANCHES),
        (q.UPSERT_EMPLOYEES, EMPLOYEES),
        (q.UPSERT_CUSTOMERS, customers()),
        (q.UPSERT_MANAGES, manages),
        (q.UPSERT_PRODUCTS, products),
        (q.UPSERT_ACCOUNTS, accounts),
        (q.UPSERT_HOLDINGS, holdings),
        (q.UPSERT_REFERRALS, [referral]),
        (q.UPSERT_INTERACTIONS, complaints),
    ):
        q.write_batch(driver, query, batch, database=database)
    for customer, props, change in SCORES:
        scored = {**props, "scored_as_of": SCORED_AS_OF, "aum_currency": "CNY"}
        row = {"customer_id": customer, "props": scored, "change": change}
        q.write_batch(driver, WRITE_SCORES, [row], database=database)
