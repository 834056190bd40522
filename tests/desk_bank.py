"""A small bank for the service-desk tests (tests/test_service_desk*.py), written with the
loader's own upserts: complaints at hand-chosen times relative to the moment of the test, and a
customer whose complaints sit at fixed dates for the figures of one month.

| customer | managed by (branch) | complaints              |
|----------|---------------------|-------------------------|
| K01      | E1 (B1)             | A B (resolved)          |
| K02      | E1 (B1)             | C D                     |
| K03      | E2 (B2)             | E F                     |
| K04      | E3 (B1)             | G H                     |
| K05      | nobody; referred by K01 (a hop for E1) | I J  |
| K06      | E2 (B2)             | S1-S10 (fixed dates: the figures of October 2026) |
| K07      | E1 (B1)             | a saving account and scored contacts (surveys, scoring) |
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from neo4j import Driver

from graph import migrate
from graph.queries import upserts as q

H = dt.timedelta(hours=1)
BRANCHES = [{"branch_id": "B1", "name": "上海分行", "city": "上海"},
            {"branch_id": "B2", "name": "杭州分行", "city": "杭州"}]  # fmt: skip
EMPLOYEES = [
    {"employee_id": "E1", "name": "王经理", "title": "RM", "branch_id": "B1"},
    {"employee_id": "E2", "name": "李经理", "title": "RM", "branch_id": "B2"},
    {"employee_id": "E3", "name": "赵经理", "title": "RM", "branch_id": "B1"},
]
BOOKS = {"K01": "E1", "K02": "E1", "K03": "E2", "K04": "E3", "K06": "E2", "K07": "E1"}
NAMES = {"K01": "周一", "K02": "吴二", "K03": "郑三", "K04": "王四", "K05": "冯五", "K06": "陈六",
         "K07": "褚七"}  # fmt: skip


def phone(customer_id: str) -> str:
    return f"+861380000{int(customer_id[1:]):04d}"


def customers() -> list[dict[str, Any]]:
    return [
        {"customer_id": c, "name": n, "phone": phone(c), "email": f"{c.lower()}@example.com",
         "city": "上海", "tier": "KEY", "segment": "RETAIL", "status": "ACTIVE",
         "national_id_last4": f"77{c[1:]}"}
        for c, n in NAMES.items()
    ]  # fmt: skip


@dataclass(frozen=True)
class Case:
    """A complaint at hand-chosen times: opened ``opened_h`` hours before now, acknowledged and
    resolved that many hours after opening (None: not yet)."""

    id: str
    customer: str
    severity: str
    opened_h: float
    ack_h: float | None
    resolved_h: float | None


# Times chosen for the targets of SLA_TARGETS below (24 h response, 48 h MINOR, 4 h MAJOR, 80 %).
CASES = [
    Case("A", "K01", "MAJOR", 5, 2, 3),  # acknowledged at 2 h, resolved at 3 h: MET
    Case("B", "K01", "MINOR", 40, None, 26),  # resolved at 26 h, never acknowledged: BREACHED
    Case("C", "K02", "MINOR", 1, None, None),  # ON_TRACK
    Case("D", "K02", "MINOR", 20, None, None),  # 20 h of 24 to respond: AT_RISK
    Case("E", "K03", "MAJOR", 3.5, 0.5, None),  # 3.5 h of 4 to resolve: AT_RISK
    Case("F", "K03", "MINOR", 25, None, None),  # no response in 24 h: RESPONSE_BREACHED
    Case("G", "K04", "MINOR", 50, 1, None),  # past 48 h: RESOLUTION_BREACHED
    Case("H", "K04", "MAJOR", 6, 1, 5),  # resolved at 5 h of 4: BREACHED
    Case("I", "K05", "MINOR", 30, 2, None),  # 30 h of 48: ON_TRACK
    Case("J", "K05", "MINOR", 40, 1, None),  # 40 h of 48: AT_RISK
]
SLA_TARGETS = {"sla_first_response_hours": 24.0, "sla_resolution_hours": 48.0,
               "sla_major_resolution_hours": 4.0, "sla_at_risk_ratio": 0.8}  # fmt: skip
EXPECTED_SLA = {"A": "MET", "B": "BREACHED", "C": "ON_TRACK", "D": "AT_RISK", "E": "AT_RISK",
                "F": "RESPONSE_BREACHED", "G": "RESOLUTION_BREACHED", "H": "BREACHED",
                "I": "ON_TRACK", "J": "AT_RISK"}  # fmt: skip


def complaint_id(case_id: str) -> str:
    return f"Q-{case_id}"


def summary(case: Case) -> str:
    """Free text quoting the customer's phone (national form) and e-mail."""
    return f"{NAMES[case.customer]} 投诉扣费, 回电 {phone(case.customer)[3:]} {case.customer.lower()}@example.com"


def _row(case: Case, now: dt.datetime) -> dict[str, Any]:
    opened = now - case.opened_h * H
    return {
        "interaction_id": complaint_id(case.id),
        "customer_id": case.customer,
        "employee_id": BOOKS.get(case.customer),
        "props": {
            "channel": "PHONE", "kind": "COMPLAINT", "occurred_at": opened,
            "summary": summary(case), "severity": case.severity,
            "first_response_at": None if case.ack_h is None else opened + case.ack_h * H,
            "resolved_at": None if case.resolved_h is None else opened + case.resolved_h * H,
            "sla_status": "MET" if case.resolved_h is not None else "OPEN",  # the source's
        },
    }  # fmt: skip


# The figures of October 2026 (K06): (id, opened, ack after h, resolved after h, severity).
OCT = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
STATS_CASES = [
    ("S1", OCT + dt.timedelta(days=1, hours=8), 0.5, 1, "MAJOR"),
    ("S2", OCT + dt.timedelta(days=2, hours=8), 1, 2, "MINOR"),
    ("S3", OCT + dt.timedelta(days=4, hours=8), None, 4, "MINOR"),
    ("S4", OCT + dt.timedelta(days=6, hours=8), 2, 8, "MAJOR"),
    ("S5", OCT + dt.timedelta(days=8, hours=8), None, 16, "MINOR"),
    ("S6", OCT + dt.timedelta(days=10, hours=8), 25, 30, "MINOR"),
    ("S7", dt.datetime(2026, 9, 20, 8, tzinfo=dt.UTC), None, 1, "MINOR"),  # all in September
    ("S8", dt.datetime(2026, 9, 30, 20, tzinfo=dt.UTC), 1, 6, "MINOR"),  # resolved on Oct 1
    ("S9", OCT + dt.timedelta(days=19, hours=8), None, None, "MAJOR"),  # open, never answered
    ("S10", OCT + dt.timedelta(days=29, hours=8), 3, None, "MINOR"),  # open, answered
]


def _stats_row(case: tuple) -> dict[str, Any]:
    cid, opened, ack, resolved, severity = case
    return {
        "interaction_id": cid,
        "customer_id": "K06",
        "employee_id": "E2",
        "props": {
            "channel": "APP", "kind": "COMPLAINT", "occurred_at": opened, "summary": "扣费",
            "severity": severity,
            "first_response_at": None if ack is None else opened + ack * H,
            "resolved_at": None if resolved is None else opened + resolved * H,
        },
    }  # fmt: skip


def load_desk(driver: Driver, database: str, now: dt.datetime, *, stats: bool = False) -> None:
    from tests.conftest import wipe

    wipe(driver, database)
    migrate.apply(driver, database=database)
    rows = [_row(c, now) for c in CASES]
    if stats:
        rows = [_stats_row(c) for c in STATS_CASES]
    for query, batch in (
        (q.UPSERT_BRANCHES, BRANCHES),
        (q.UPSERT_EMPLOYEES, EMPLOYEES),
        (q.UPSERT_CUSTOMERS, customers()),
        (
            q.UPSERT_MANAGES,
            [
                {"employee_id": e, "customer_id": c, "since": dt.date(2024, 1, 1)}
                for c, e in BOOKS.items()
            ],
        ),  # fmt: skip
        (
            q.UPSERT_REFERRALS,
            [
                {
                    "referrer_id": "K01",
                    "referred_id": "K05",
                    "referred_at": dt.date(2025, 1, 1),
                    "channel": "APP",
                    "status": "CONVERTED",
                }
            ],
        ),  # fmt: skip
        (q.UPSERT_INTERACTIONS, rows),
    ):
        q.write_batch(driver, query, batch, database=database)


def load_scored_customer(driver: Driver, database: str, today: dt.date) -> None:
    """K07 with KEY-tier savings and two contacts scored 5 some 8 to 10 months ago; K02 with
    scores 4 then 4 (no drop)."""
    month_end = today.replace(day=1) - dt.timedelta(days=1)
    q.write_batch(driver, q.UPSERT_PRODUCTS, [{"product_code": "SAV", "name": "活期储蓄",
                  "category": "DEPOSIT", "min_tier": "ORDINARY"}], database=database)  # fmt: skip
    accounts = [
        {"account_id": f"A-{c}", "props": {
            "product_code": "SAV", "product_type": "SAVINGS", "currency": "CNY",
            "balance": 500_000.0, "status": "OPEN", "opened_at": dt.date(2020, 1, 1),
            "monthly_balances": [500_000.0] * 12, "monthly_balance_end": month_end}}
        for c in ("K07", "K02")
    ]  # fmt: skip
    q.write_batch(driver, q.UPSERT_ACCOUNTS, accounts, database=database)
    q.write_batch(driver, q.UPSERT_HOLDINGS,
                  [{"customer_id": c, "account_id": f"A-{c}", "role": "PRIMARY"}
                   for c in ("K07", "K02")], database=database)  # fmt: skip
    at = dt.datetime.combine(today, dt.time(9), tzinfo=dt.UTC)
    scored = [
        ("K07", 250, 5),
        ("K07", 300, 5),
        ("K02", 250, 4),
        ("K02", 20, 4),
    ]
    q.write_batch(driver, q.UPSERT_INTERACTIONS, [
        {"interaction_id": f"SC-{c}-{days}", "customer_id": c, "employee_id": "E1",
         "props": {"channel": "BRANCH", "kind": "SERVICE", "occurred_at": at - dt.timedelta(days=days),
                   "summary": "咨询", "satisfaction": csat}}
        for c, days, csat in scored
    ], database=database)  # fmt: skip
