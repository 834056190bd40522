"""A small deterministic bank for the leak crawler (tests/test_leak_crawler.py), written with the
loader's own upserts, and the ground truth the crawler judges responses by.

Everyone in it stands next to someone a role may not see:

| principal          | in scope                                  | just outside                     |
|--------------------|-------------------------------------------|----------------------------------|
| customer C0001     | C0001                                     | household C0002 C0003, former member C0004, joint holders C0002 C0005, referrer C0007, referral C0006; C0009 C0010 C0022 two or three steps away |
| RM E1 (branch B1)  | book C0001 C0002 C0011-C0013, co-members C0003 C0014, referral hops C0006 C0007 C0017 (masked) | former members C0004 C0015, joint holders C0005 C0016 C0022, C0009 (head of a hop's household), C0010 (a hop's referral) |
| branch manager B1  | E1's and E3's books: C0001 C0002 C0011-C0013 C0018 C0019 | co-members C0003 C0014, referral partners C0006 C0007 C0017 C0020, joint holders, branch B2's book |

Names are unique and none is part of another, so a full name found inside any text (a household
label such as 韩雪家庭) is that person's. Phones, e-mails, national-ID last 4, account numbers
and value scores are unique too. Internal scores are spread independently of tier, segment, city,
status and relationship manager, so a set of customers that only a score explains is a leak.

``access`` restates the row scopes of graph/queries/scope.py from the bank's own rows: it is the
ground truth the API's Cypher is judged against, not a copy of it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from neo4j import Driver

from core.messages import Reason
from graph import migrate
from graph.queries import upserts as q
from graph.queries.scope import ScopeKind
from scoring.config import RISK_LEVELS, TIERS
from scoring.job import reasons_json
from scoring.rules import PeerGroup

NAMES = [
    "冯敏",
    "郭静",
    "何磊",
    "林芳",
    "罗洋",
    "梁勇",
    "宋杰",
    "唐娟",
    "韩雪",
    "曹宇",
    "许晨",
    "邓辉",
    "萧然",
    "程琳",
    "沈浩",
    "彭博",
    "吕薇",
    "苏航",
    "卢鑫",
    "蒋欣",
    "蔡峰",
    "贾岚",
    "丁毅",
    "魏婷",
]
N = len(NAMES)
CITIES = ("上海", "杭州", "北京")
ROADS = ("人民路", "中山路", "解放路", "延安路")
SEGMENTS = ("RETAIL", "PRIVATE", "SME")
AS_OF = dt.date(2026, 10, 31)
MISSING_CUSTOMER = "C9999"

# The claims each role's token carries (a role takes the ones its policy requires).
CLAIMS = {"customer_id": "C0001", "employee_id": "E1", "branch_id": "B1"}

BRANCHES = [
    {"branch_id": "B1", "name": "上海分行", "city": "上海"},
    {"branch_id": "B2", "name": "杭州分行", "city": "杭州"},
]
EMPLOYEES = [
    {"employee_id": "E1", "name": "王经理", "title": "RM", "branch_id": "B1"},
    {"employee_id": "E2", "name": "李经理", "title": "RM", "branch_id": "B2"},
    {"employee_id": "E3", "name": "赵经理", "title": "RM", "branch_id": "B1"},
]
PRODUCTS = [
    {"product_code": "SAV", "name": "活期储蓄", "category": "DEPOSIT", "min_tier": "ORDINARY"},
    {"product_code": "WM", "name": "稳健理财", "category": "WEALTH", "min_tier": "KEY"},
]
BOOKS = {
    "E1": (1, 2, 11, 12, 13),
    "E2": (4, 5, 6, 16, 20, 21),
    "E3": (18, 19),
}
# household -> head, [(member, role, ended_at)]; every household is named after its head.
HOUSEHOLDS: dict[str, tuple[int, list[tuple[int, str, dt.date | None]]]] = {
    "H01": (1, [(2, "SPOUSE", None), (3, "CHILD", None), (4, "PARENT", dt.date(2021, 6, 30))]),
    "H02": (8, [(5, "SPOUSE", None)]),
    "H03": (9, [(6, "CHILD", None)]),
    "H04": (14, [(11, "SPOUSE", None), (15, "OTHER", dt.date(2022, 3, 31))]),
    "H05": (20, [(21, "SPOUSE", None)]),
    "H06": (24, [(23, "CHILD", None)]),
}
# joint account -> primary holder, joint holder
JOINT = {"J0001": (1, 2), "J0002": (1, 5), "J0003": (12, 16), "J0004": (2, 22), "J0005": (18, 19)}
# referrer -> referred
REFERRALS = [(7, 1), (1, 6), (7, 10), (17, 13), (20, 18)]


def cid(i: int) -> str:
    return f"C{i:04d}"


def _scores(i: int) -> dict[str, Any]:
    """Internal scores, spread so that no visible attribute explains them."""
    downgrade = RISK_LEVELS[(i * 7 + i // 4 + i // 16) % 4]
    return {
        "value_score": 30 + (i * 37) % 50 + 0.37,
        "downgrade_risk_level": downgrade,
        "downgrade_risk_rank": RISK_LEVELS.index(downgrade),
        "churn_risk_level": RISK_LEVELS[(i * 3 + i // 5 + 1) % 4],
        "risk_rating": RISK_LEVELS[1 + (i * 5 + i // 3 + 1) % 3],
        "downgrade_reasons_json": reasons_json(
            [
                Reason(
                    "AUM_FELL",
                    {
                        "pct": 10 + i % 9,
                        "months": 5,
                        "from": 2e3 * (100 + i),
                        "to": 1.5e3 * (100 + i),
                    },
                )
            ]
        ),
        "churn_reasons_json": reasons_json(
            [
                Reason("COMPLAINTS_RECENT", {"count": 1 + i % 4, "days": 90}),
                Reason("NPS_DETRACTOR", {"nps": 6.5}),
            ]
        ),
        "projected_aum": 1000.0 * (300 + i),
        "tier_floor": 500_000.0,
        "evaluation_date": dt.date(2026, 12, 31),
        "clv": 10_000.0 * (50 + i),
        "influence": round(0.01 * i, 4),
        "lifecycle_stage": "MATURE",
        "scored_at": dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC),
        "value_components_json": json.dumps(
            [{"name": "aum", "weight": 0.4, "raw": 1000.0 * i, "score": float(i)}]
        ),
        "recommendations_json": json.dumps(_recommendations(i), ensure_ascii=False),
    }


def _recommendations(i: int) -> list[dict[str, Any]]:
    """As the scoring job stores them, reasons built by the rules themselves (scoring/rules.py
    PeerGroup): one from the customer's tier and city, and one from their referral circle when
    they have one, so that a reason telling of the circle (its size) is crawled."""
    tier_city = PeerGroup("TIER_CITY", 40, {"WM": 0.5}, TIERS[i % 3], CITIES[(i // 2) % 3])
    out = [{"product_code": "WM", "name": "稳健理财", "reason": tier_city.reason(0.5).as_dict(),
            "support": 0.5}]  # fmt: skip
    circle = {a for a, b in REFERRALS if b == i} | {b for a, b in REFERRALS if a == i}
    if circle:
        referral = PeerGroup("REFERRAL", len(circle), {"SAV": 1.0})
        out.append({"product_code": "SAV", "name": "活期储蓄",
                    "reason": referral.reason(1.0).as_dict(), "support": 1.0})  # fmt: skip
    return out


def _customer(i: int) -> dict[str, Any]:
    city = CITIES[(i // 2) % 3]
    return {
        "customer_id": cid(i),
        "name": NAMES[i - 1],
        "gender": "F" if i % 2 else "M",
        "birth_date": dt.date(1960 + i, 1 + i % 12, 1 + (i * 3) % 28),
        "phone": f"+86139{i:08d}",
        "email": f"cust{i:02d}.mail@example.com",
        "national_id_last4": f"9{i:02d}X",
        "address": f"{city}市{ROADS[i % 4]}{100 + i}号",
        "city": city,
        "segment": SEGMENTS[(i // 3) % 3],
        "status": "DORMANT" if i % 7 == 0 else "ACTIVE",
        "tier": TIERS[i % 3],
        "onboarded_at": dt.date(2010 + i % 12, 3, 1),
        **_scores(i),
    }


CUSTOMERS: list[dict[str, Any]] = [_customer(i) for i in range(1, N + 1)]
BY_ID: dict[str, dict[str, Any]] = {c["customer_id"]: c for c in CUSTOMERS}


def _account(account_id: str, i: int, product: str) -> dict[str, Any]:
    balance = 10_000.0 * (5 + (i * 11) % 40)
    return {
        "account_id": account_id,
        "props": {
            "product_type": "SAVINGS" if product == "SAV" else "WEALTH",
            "product_code": product,
            "currency": "CNY",
            "balance": balance,
            "status": "OPEN",
            "opened_at": dt.date(2015, 1 + i % 12, 2),
            "monthly_balances": [balance] * 12,
            "monthly_balance_end": AS_OF,
        },
    }


ACCOUNTS = [_account(f"A{i:04d}", i, "SAV") for i in range(1, N + 1)] + [
    _account(a, 30 + k, "WM") for k, a in enumerate(JOINT)
]
HOLDINGS: list[dict[str, Any]] = [
    {"customer_id": cid(i), "account_id": f"A{i:04d}", "role": "PRIMARY"} for i in range(1, N + 1)
]
for _account_id, (_primary, _joint) in JOINT.items():
    HOLDINGS += [
        {"customer_id": cid(_primary), "account_id": _account_id, "role": "PRIMARY"},
        {"customer_id": cid(_joint), "account_id": _account_id, "role": "JOINT"},
    ]
MEMBERSHIPS: list[dict[str, Any]] = [
    {"customer_id": cid(head), "household_id": h, "role": "HEAD", "since": dt.date(2012, 5, 1)}
    for h, (head, _) in HOUSEHOLDS.items()
] + [
    {"customer_id": cid(m), "household_id": h, "role": role, "since": dt.date(2013, 7, 1),
     "ended_at": ended}
    for h, (_, members) in HOUSEHOLDS.items()
    for m, role, ended in members
]  # fmt: skip


def holders(account_id: str) -> list[str]:
    return [h["customer_id"] for h in HOLDINGS if h["account_id"] == account_id]


def _aum(customer_id: str) -> float:
    held = {h["account_id"] for h in HOLDINGS if h["customer_id"] == customer_id}
    return sum(a["props"]["balance"] for a in ACCOUNTS if a["account_id"] in held)


for _c in CUSTOMERS:
    _c["aum"] = _aum(_c["customer_id"])


def _household_rows() -> list[dict[str, Any]]:
    rows = []
    for h, (head, members) in HOUSEHOLDS.items():
        current = [head] + [m for m, _, ended in members if ended is None]
        aum = sum(BY_ID[cid(m)]["aum"] for m in current)
        rows.append(
            {
                "household_id": h,
                "name": f"{NAMES[head - 1]}家庭",
                "address": BY_ID[cid(head)]["address"],
                "aum": aum,
                "tier": "CORE" if aum > 1_000_000 else "KEY",
            }
        )
    return rows


HOUSEHOLD_ROWS = _household_rows()
MANAGES: list[dict[str, Any]] = [
    {"employee_id": e, "customer_id": cid(i), "since": dt.date(2020, 2, 1)}
    for e, book in BOOKS.items()
    for i in book
]
REFERRAL_ROWS: list[dict[str, Any]] = [
    {"referrer_id": cid(a), "referred_id": cid(b), "referred_at": dt.date(2022, 4, 1),
     "channel": "APP", "status": "CONVERTED"}
    for a, b in REFERRALS
]  # fmt: skip
INTERACTIONS: list[dict[str, Any]] = [
    {
        "interaction_id": f"I{i:04d}-{k}",
        "customer_id": cid(i),
        "employee_id": next((e for e, book in BOOKS.items() if i in book), None),
        "props": {
            "channel": ("APP", "PHONE", "BRANCH")[k],
            "kind": "SERVICE",
            "occurred_at": dt.datetime(2026, 10 - 3 * k, 1 + i, 9, 30, tzinfo=dt.UTC),
            "summary": f"service {k}",
            "satisfaction": 4,
            "nps": 8,
        },
    }
    for i in range(1, N + 1)
    for k in range(3)
]
# A complaint per customer whose summary quotes the customer's phone and e-mail and a progress
# note naming them: the service desk's queue (Query.complaints) must mask both for the views
# that mask contact data, and list each complaint only to the roles whose scope reaches it.
COMPLAINTS: list[dict[str, Any]] = [
    {
        "interaction_id": f"I{i:04d}-C",
        "customer_id": cid(i),
        "employee_id": next((e for e, book in BOOKS.items() if i in book), None),
        "props": {
            "channel": "PHONE",
            "kind": "COMPLAINT",
            "occurred_at": dt.datetime(2026, 10, 1 + i, 9, 30, tzinfo=dt.UTC),
            "summary": f"{NAMES[i - 1]} 来电投诉 转账延迟, 回电 +86139{i:08d}, 邮件 "
            f"cust{i:02d}.mail@example.com",
            "severity": ("MINOR", "MAJOR")[i % 2],
            "resolved_at": dt.datetime(2026, 10, 1 + i, 11, 30, tzinfo=dt.UTC) if i % 3 else None,
            "category": "PAYMENT",
        },
    }
    for i in range(1, N + 1)
]
SOURCE_RECORDS: list[dict[str, Any]] = [
    {"system": "CRM", "source_id": f"crm-{i}", "customer_id": cid(i), "rule": "exact_id",
     "confidence": 1.0, "props": {"loaded_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}}
    for i in range(1, N + 1)
]  # fmt: skip


def load_leak_bank(driver: Driver, database: str) -> None:
    from tests.conftest import wipe

    wipe(driver, database)
    migrate.apply(driver, database=database)
    for query, rows in (
        (q.UPSERT_BRANCHES, BRANCHES),
        (q.UPSERT_EMPLOYEES, EMPLOYEES),
        (q.UPSERT_PRODUCTS, PRODUCTS),
        (q.UPSERT_CUSTOMERS, CUSTOMERS),
        (q.UPSERT_ACCOUNTS, ACCOUNTS),
        (q.UPSERT_HOLDINGS, HOLDINGS),
        (q.UPSERT_HOUSEHOLDS, HOUSEHOLD_ROWS),
        (q.UPSERT_MEMBERSHIPS, MEMBERSHIPS),
        (q.UPSERT_MANAGES, MANAGES),
        (q.UPSERT_REFERRALS, REFERRAL_ROWS),
        (q.UPSERT_INTERACTIONS, INTERACTIONS),
        (q.UPSERT_INTERACTIONS, COMPLAINTS),
        (q.UPSERT_SOURCE_RECORDS, SOURCE_RECORDS),
    ):
        q.write_batch(driver, query, rows, database=database)


# -- ground truth ---------------------------------------------------------------------------------


def managers(customer_id: str) -> set[str]:
    return {m["employee_id"] for m in MANAGES if m["customer_id"] == customer_id}


def branch_of(employee_id: str) -> str:
    return next(e["branch_id"] for e in EMPLOYEES if e["employee_id"] == employee_id)


def current_households(customer_id: str) -> set[str]:
    return {
        m["household_id"]
        for m in MEMBERSHIPS
        if m["customer_id"] == customer_id and m.get("ended_at") is None
    }


def referral_partners(customer_id: str) -> set[str]:
    return {r["referred_id"] for r in REFERRAL_ROWS if r["referrer_id"] == customer_id} | {
        r["referrer_id"] for r in REFERRAL_ROWS if r["referred_id"] == customer_id
    }


def neighbours(customer_id: str) -> set[str]:
    """Everyone one relationship away: household (current and former), joint holders, referrals."""
    mine = {m["household_id"] for m in MEMBERSHIPS if m["customer_id"] == customer_id}
    accounts = {h["account_id"] for h in HOLDINGS if h["customer_id"] == customer_id}
    found = {m["customer_id"] for m in MEMBERSHIPS if m["household_id"] in mine}
    found |= {h["customer_id"] for h in HOLDINGS if h["account_id"] in accounts}
    return (found | referral_partners(customer_id)) - {customer_id}


def _book(claims: Mapping[str, str | None]) -> set[str]:
    return {m["customer_id"] for m in MANAGES if m["employee_id"] == claims.get("employee_id")}


def access(kind: ScopeKind, claims: Mapping[str, str | None], customer_id: str) -> str | None:
    """'direct', 'hop' or None: how a caller with this scope kind and these claims reaches the
    customer, as ScopeKind's documentation says, computed from the bank's rows."""
    if customer_id not in BY_ID:
        return None
    if kind is ScopeKind.ANY:
        return "direct"
    if kind is ScopeKind.OWN:
        return "direct" if customer_id == claims.get("customer_id") else None
    if kind is ScopeKind.BRANCH:
        branches = {branch_of(e) for e in managers(customer_id)}
        return "direct" if claims.get("branch_id") in branches else None
    if kind is ScopeKind.BOOK:
        book = _book(claims)
        if customer_id in book:
            return "direct"
        book_households = set().union(*(current_households(c) for c in book))
        if current_households(customer_id) & book_households:
            return "direct"
        if referral_partners(customer_id) & book:
            return "hop"
        return None
    raise AssertionError(f"tests/leak_bank.access does not know the scope kind {kind!r}")


@contextmanager
def leak_bank_client(settings: Any, driver: Driver) -> Iterator[Any]:
    """The API over this bank, loaded now; thousands of requests as one subject (the rate
    limiter has its own tests)."""
    from starlette.testclient import TestClient

    from c360.app import create_app

    load_leak_bank(driver, settings.neo4j_database)
    relaxed = settings.model_copy(update={"rate_limit_per_second": 1e6, "rate_limit_burst": 10**6})
    with TestClient(create_app(relaxed)) as client:
        yield client
