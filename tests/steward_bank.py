"""A small bank for the data-steward tests, as its three systems export it, loaded by the real
loader; then the linkage evidence and the review queue a linkage run leaves, written with the
graph's own statements (graph/queries/identity.UPSERT_REVIEWS, graph/queries/scoring.WRITE_SCORES).

The extracts are shaped like a bank's: the core CIF with 男/女, ISO dates and a ``|``-joined
balance history; the card system with yyyymmdd dates, amounts in fen and holder types P/S; the CRM
with day-first dates and minute timestamps. The people:

| person | core    | card   | crm  | what they have                                              |
|--------|---------|--------|------|-------------------------------------------------------------|
| 张伟   | 0000100 | 900100 | K100 | one resident ID in all three: one customer. Savings, a card,  |
|        |         |        |      | head of household H01, RM E01, two interactions, referred   |
|        |         |        |      | 李娜 and was referred by 陈静, a tier change               |
| 张伟   | 0000050 |        |      | an old CIF of the same man: no ID, another phone and address |
|        |         |        |      | (a linkage model cannot tell): a time deposit, RM E02       |
| 李娜   | 0000200 |        | K200 | one ID: one customer; spouse in H01, RM E01                  |
| 陈静   | 0000300 |        | K300 | one ID: one customer; RM E01                                 |

Every core account names its opening branch: 张伟's old time deposit BR02 (Beijing, where his old
CIF lived), the rest BR01; so each customer has a home branch (the loader's HOME_BRANCH).

The review queue holds the pair (core 0000050, core 0000100) and pairs of the others, each
created at its own time.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

from neo4j import Driver, RoutingControl

from core.settings import Settings
from graph.queries.identity import UPSERT_REVIEWS, review_id
from graph.queries.scoring import WRITE_SCORES
from tests.etl_support import load, reset

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(first17: str) -> str:
    """A valid 18-character resident ID (GB 11643 check character) from its first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


ZHANG_ID = resident_id("31011519800517003")
LI_ID = resident_id("31011519830902004")
CHEN_ID = resident_id("33010619950130002")

HISTORY = "|".join(["125000.00"] * 12)

CORE = {
    "branches": [
        {"branch_code": "BR01", "branch_name": "上海陆家嘴支行", "city": "上海"},
        {"branch_code": "BR02", "branch_name": "北京建国路支行", "city": "北京"},
    ],
    "employees": [
        {"emp_no": "E01", "emp_name": "王丽", "title": "Relationship Manager",
         "branch_code": "BR01"},
        {"emp_no": "E02", "emp_name": "赵强", "title": "Relationship Manager",
         "branch_code": "BR01"},
    ],
    "products": [
        {"prod_code": "SAV01", "prod_name": "活期储蓄", "prod_type": "SAVINGS",
         "category": "DEPOSIT", "min_tier": "ORDINARY"},
        {"prod_code": "TD3Y", "prod_name": "三年定期存款", "prod_type": "TIME_DEPOSIT",
         "category": "DEPOSIT", "min_tier": "ORDINARY"},
        {"prod_code": "CC01", "prod_name": "金卡信用卡", "prod_type": "CREDIT_CARD",
         "category": "CARD", "min_tier": "ORDINARY"},
    ],
    "customers": [
        {"cust_no": "0000100", "cust_name": "张伟", "gender": "男", "birth_dt": "1980-05-17",
         "id_no": ZHANG_ID, "mobile": "138 1234 5678", "email": "zhang.wei@example.com",
         "addr": "上海市浦东新区世纪大道100号", "city": "上海", "occupation": "工程师",
         "segment": "RETAIL", "kyc_status": "VERIFIED", "risk_level": "LOW",
         "open_dt": "2012-03-01", "cust_status": "ACTIVE", "last_upd": "2026-09-01 10:00:00"},
        {"cust_no": "0000050", "cust_name": "张伟", "gender": "男", "birth_dt": "1980-07-15",
         "id_no": "", "mobile": "13900001111", "email": "",
         "addr": "北京市朝阳区建国路8号", "city": "北京", "occupation": "",
         "segment": "RETAIL", "kyc_status": "PENDING", "risk_level": "MEDIUM",
         "open_dt": "2004-06-01", "cust_status": "DORMANT", "last_upd": "2019-01-05 09:00:00"},
        {"cust_no": "0000200", "cust_name": "李娜", "gender": "女", "birth_dt": "1983-09-02",
         "id_no": LI_ID, "mobile": "139 8765 4321", "email": "li.na@example.com",
         "addr": "上海市浦东新区世纪大道100号", "city": "上海", "occupation": "教师",
         "segment": "RETAIL", "kyc_status": "VERIFIED", "risk_level": "LOW",
         "open_dt": "2013-05-01", "cust_status": "ACTIVE", "last_upd": "2026-08-01 10:00:00"},
        {"cust_no": "0000300", "cust_name": "陈静", "gender": "女", "birth_dt": "1995-01-30",
         "id_no": CHEN_ID, "mobile": "136 0000 1111", "email": "",
         "addr": "杭州市西湖区文三路8号", "city": "杭州", "occupation": "",
         "segment": "PRIVATE", "kyc_status": "VERIFIED", "risk_level": "LOW",
         "open_dt": "2020-01-15", "cust_status": "ACTIVE", "last_upd": "2026-07-01 10:00:00"},
    ],
    "accounts": [
        {"acct_no": "6222020000000100", "prod_code": "SAV01", "prod_type": "SAVINGS",
         "ccy": "CNY", "bal": "125000.00", "credit_limit": "", "open_dt": "2012-03-01",
         "mat_dt": "", "close_dt": "", "acct_status": "OPEN", "bal_hist": HISTORY,
         "bal_hist_end": "2026-09-30", "branch_code": "BR01"},
        {"acct_no": "6222020000000050", "prod_code": "TD3Y", "prod_type": "TIME_DEPOSIT",
         "ccy": "CNY", "bal": "80000.00", "credit_limit": "", "open_dt": "2004-06-01",
         "mat_dt": "2027-06-01", "close_dt": "", "acct_status": "OPEN", "bal_hist": "",
         "bal_hist_end": "", "branch_code": "BR02"},
        {"acct_no": "6222020000000200", "prod_code": "SAV01", "prod_type": "SAVINGS",
         "ccy": "CNY", "bal": "4300.00", "credit_limit": "", "open_dt": "2013-05-01",
         "mat_dt": "", "close_dt": "", "acct_status": "OPEN", "bal_hist": "",
         "bal_hist_end": "", "branch_code": "BR01"},
        {"acct_no": "6222020000000300", "prod_code": "SAV01", "prod_type": "SAVINGS",
         "ccy": "CNY", "bal": "900000.00", "credit_limit": "", "open_dt": "2020-01-15",
         "mat_dt": "", "close_dt": "", "acct_status": "OPEN", "bal_hist": "",
         "bal_hist_end": "", "branch_code": "BR01"},
    ],
    "holdings": [
        {"acct_no": "6222020000000100", "cust_no": "0000100", "holder_role": "PRIMARY",
         "end_dt": ""},
        {"acct_no": "6222020000000050", "cust_no": "0000050", "holder_role": "PRIMARY",
         "end_dt": ""},
        {"acct_no": "6222020000000200", "cust_no": "0000200", "holder_role": "PRIMARY",
         "end_dt": ""},
        {"acct_no": "6222020000000300", "cust_no": "0000300", "holder_role": "PRIMARY",
         "end_dt": ""},
    ],
    "households": [{"hh_no": "H01", "hh_name": "张伟家庭", "hh_addr": "上海市浦东新区世纪大道100号"}],
    "household_members": [
        {"hh_no": "H01", "cust_no": "0000100", "member_role": "HEAD", "since_dt": "2010-10-01",
         "end_dt": ""},
        {"hh_no": "H01", "cust_no": "0000200", "member_role": "SPOUSE", "since_dt": "2010-10-01",
         "end_dt": ""},
    ],
    "rm_assignments": [
        {"emp_no": "E01", "cust_no": "0000100", "since_dt": "2020-01-01"},
        {"emp_no": "E02", "cust_no": "0000050", "since_dt": "2015-03-01"},
        {"emp_no": "E01", "cust_no": "0000200", "since_dt": "2020-01-01"},
        {"emp_no": "E01", "cust_no": "0000300", "since_dt": "2021-06-01"},
    ],
}  # fmt: skip

CARD = {
    "customers": [
        {"card_cust_id": "900100", "holder_name": "张伟", "sex": "1", "dob": "19800517",
         "cert_no": ZHANG_ID, "phone_no": "+86 138-1234-5678",
         "email_addr": "ZHANG.WEI@EXAMPLE.COM", "bill_addr": "上海市徐汇区漕溪北路18号",
         "city": "上海", "upd_time": "20261015083000"},
    ],
    "accounts": [
        {"card_acct_no": "4392260000900100", "card_product": "CC01", "ccy": "CNY",
         "balance_fen": "820000", "limit_fen": "5000000", "open_date": "20190707",
         "expiry_date": "20290731", "close_date": "", "acct_state": "A", "stmt_hist_fen": "",
         "stmt_hist_end": ""},
    ],
    "holdings": [
        {"card_acct_no": "4392260000900100", "card_cust_id": "900100", "holder_type": "P"},
    ],
}  # fmt: skip

CRM = {
    "customers": [
        {"contact_id": "K100", "full_name": "张伟", "gender": "M", "birthday": "17/05/1980",
         "id_number": ZHANG_ID, "mobile_phone": "13812345678", "email": "zhang.wei@example.com",
         "address": "上海市浦东新区世纪大道100号", "city": "上海", "occupation": "高级工程师",
         "modified": "02/10/2026 14:20"},
        {"contact_id": "K200", "full_name": "李娜", "gender": "F", "birthday": "02/09/1983",
         "id_number": LI_ID, "mobile_phone": "13987654321", "email": "", "address": "",
         "city": "上海", "occupation": "", "modified": "01/06/2026 09:00"},
        {"contact_id": "K300", "full_name": "陈静", "gender": "F", "birthday": "30/01/1995",
         "id_number": CHEN_ID, "mobile_phone": "13600001111", "email": "chen.jing@example.com",
         "address": "", "city": "杭州", "occupation": "设计师", "modified": "01/06/2026 09:00"},
    ],
    "interactions": [
        {"interaction_no": "I-K100-1", "contact_id": "K100", "handled_by": "E01",
         "channel": "PHONE", "kind": "SERVICE", "occurred": "03/09/2026 10:15",
         "summary": "咨询理财产品", "outcome": "已解答", "csat": "5", "nps": "9", "severity": "",
         "first_response": "", "resolved": "", "sla": "", "category": "", "cause_type": "",
         "cause_subtype": ""},
        {"interaction_no": "I-K100-2", "contact_id": "K100", "handled_by": "E01",
         "channel": "BRANCH", "kind": "COMPLAINT", "occurred": "10/10/2026 16:40",
         "summary": "转账延迟", "outcome": "", "csat": "", "nps": "", "severity": "一般",
         "first_response": "10/10/2026 17:00", "resolved": "", "sla": "OPEN",
         "category": "PAYMENT", "cause_type": "", "cause_subtype": ""},
        {"interaction_no": "I-K200-1", "contact_id": "K200", "handled_by": "",
         "channel": "APP", "kind": "SURVEY", "occurred": "05/08/2026 08:00",
         "summary": "满意度调查", "outcome": "", "csat": "4", "nps": "8", "severity": "",
         "first_response": "", "resolved": "", "sla": "", "category": "", "cause_type": "",
         "cause_subtype": ""},
    ],
    "referrals": [
        {"referrer_contact": "K100", "referred_contact": "K200", "referred_on": "01/10/2010",
         "channel": "BRANCH", "status": "CONVERTED"},
        {"referrer_contact": "K300", "referred_contact": "K100", "referred_on": "15/02/2012",
         "channel": "APP", "status": "CONVERTED"},
    ],
}  # fmt: skip

SYSTEMS = {"core": CORE, "card": CARD, "crm": CRM}

# The linkage evidence a run leaves on the merged man's links: (system, source_id) -> evidence.
EVIDENCE = {
    ("card", "900100"): (
        11.73,
        0.99971,
        [
            {"name": "national_id", "level": "exact match", "weight": 9.12},
            {"name": "name", "level": "exact match (pinyin)", "weight": 3.4},
            {"name": "address", "level": "different", "weight": -0.79},
        ],
    ),
    ("crm", "K100"): (
        17.2,
        0.99999,
        [
            {"name": "national_id", "level": "exact match", "weight": 9.12},
            {"name": "birth_date", "level": "exact match", "weight": 6.9},
            {"name": "phone", "level": "exact match", "weight": 1.18},
        ],
    ),
}
SET_EVIDENCE = """
UNWIND $rows AS row
MATCH (:SourceRecord {system: row.system, source_id: row.source_id})-[r:RESOLVED_TO]->()
SET r.rule = 'PROBABILISTIC', r.confidence = row.probability, r.match_weight = row.weight,
    r.comparisons_json = row.comparisons_json
"""

# The review queue: (record a, record b, match weight, probability, created at).
REVIEWED = ("core", "0000050"), ("core", "0000100")
T0 = dt.datetime(2026, 10, 16, 2, 0, tzinfo=dt.UTC)
REVIEWS = [
    (REVIEWED[0], REVIEWED[1], 1.9, 0.79, T0),
    (("core", "0000300"), ("crm", "K200"), -2.4, 0.16, T0 + dt.timedelta(minutes=5)),
    (("core", "0000200"), ("card", "900100"), -4.1, 0.06, T0 + dt.timedelta(minutes=5)),
    (("core", "0000050"), ("crm", "K300"), -6.0, 0.02, T0 + dt.timedelta(minutes=9)),
    (("core", "0000200"), ("crm", "K200"), 8.8, 0.997, T0 + dt.timedelta(minutes=12)),
]
REVIEW_COMPARISONS = [
    {"name": "name", "level": "exact match", "weight": 4.1},
    {"name": "birth_date", "level": "same year", "weight": -1.2},
    {"name": "phone", "level": "different", "weight": -1.0},
]

# A tier change of the merged man (the scoring job's statement and row shape).
TIER_CHANGE = {
    "change_id": "change-zhang-wei-2026-10",
    "previous_tier": "ORDINARY",
    "tier": "KEY",
    "changed_at": dt.date(2026, 10, 31),
}


def write_extracts(root: Path, systems: dict[str, dict[str, list[dict[str, str]]]]) -> Path:
    """``root/<system>/<file>.csv`` for each system and file (UTF-8, with a header; a file
    without rows has the bank's header of that file)."""
    for system, files in systems.items():
        folder = root / system
        folder.mkdir(parents=True, exist_ok=True)
        for name, rows in files.items():
            header = list(rows[0]) if rows else list(SYSTEMS[system][name][0])
            with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
                writer = csv.DictWriter(f, fieldnames=header)
                writer.writeheader()
                writer.writerows(rows)
    return root


def customers_only(system: str) -> dict[str, dict[str, list[dict[str, str]]]]:
    """One system's customers and nothing else (its other files empty): what the loader makes
    of each record by itself."""
    files = SYSTEMS[system]
    return {system: {name: rows if name == "customers" else [] for name, rows in files.items()}}


def _write(driver: Driver, settings: Settings, query: str, **params: Any) -> None:
    driver.execute_query(
        query, params, database_=settings.neo4j_database, routing_control=RoutingControl.WRITE
    )


def load_steward_bank(driver: Driver, settings: Settings, directory: Path) -> None:
    """Load the extracts into an empty graph, then the evidence, the queue and a tier change."""
    reset(driver, settings)
    result = load(driver, settings, directory)
    assert result.status == "SUCCEEDED", (result.status, result.error, result.by_reason)
    rows = [
        {"system": s, "source_id": i, "weight": w, "probability": p,
         "comparisons_json": json.dumps(c)}
        for (s, i), (w, p, c) in EVIDENCE.items()
    ]  # fmt: skip
    _write(driver, settings, SET_EVIDENCE, rows=rows)
    reviews = [
        {
            "review_id": review_id(a, b),
            "a": list(min(a, b)),
            "b": list(max(a, b)),
            "match_weight": weight,
            "probability": probability,
            "comparisons_json": json.dumps(REVIEW_COMPARISONS),
            "run_id": "test-linkage-run",
            "created_at": at,
        }
        for a, b, weight, probability, at in REVIEWS
    ]
    _write(driver, settings, UPSERT_REVIEWS, rows=reviews)
    customer = customer_of_record(driver, settings, "core", "0000100")
    change = {"customer_id": customer, "props": {}, "change": TIER_CHANGE}
    _write(driver, settings, WRITE_SCORES, rows=[change])


def customer_of_record(driver: Driver, settings: Settings, system: str, source_id: str) -> str:
    """The customer a source record resolves to (graph/MODEL.md: how a customer is found)."""
    [record] = driver.execute_query(
        "MATCH (:SourceRecord {system: $system, source_id: $id})-[:RESOLVED_TO]->(c:Customer) "
        "RETURN c.customer_id AS id",
        system=system,
        id=source_id,
        database_=settings.neo4j_database,
        routing_control=RoutingControl.READ,
    ).records
    return str(record["id"])
