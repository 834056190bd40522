"""The extracts the three source systems deliver: file names, column names and formats.

Each system names its columns its own way and writes dates its own way; the loader's mappings
(etl/mappings/<system>.yaml) translate them to the canonical entities.
"""

from __future__ import annotations

DATE_FORMATS = {"core": "%Y-%m-%d", "card": "%Y%m%d", "crm": "%d/%m/%Y"}
DATETIME_FORMATS = {"core": "%Y-%m-%d %H:%M:%S", "card": "%Y%m%d%H%M%S", "crm": "%d/%m/%Y %H:%M"}
GENDER_CODES = {
    "core": {"M": "男", "F": "女"},
    "card": {"M": "1", "F": "2"},
    "crm": {"M": "M", "F": "F"},
}

# (system, file) -> columns, in order
FILES: dict[tuple[str, str], list[str]] = {
    ("core", "branches"): ["branch_code", "branch_name", "city"],
    ("core", "employees"): ["emp_no", "emp_name", "title", "branch_code"],
    ("core", "products"): ["prod_code", "prod_name", "prod_type", "category", "min_tier"],
    ("core", "customers"): [
        "cust_no", "cust_name", "gender", "birth_dt", "id_no", "mobile", "email", "addr", "city",
        "occupation", "segment", "kyc_status", "risk_level", "open_dt", "cust_status", "last_upd",
    ],
    ("core", "accounts"): [
        "acct_no", "prod_code", "prod_type", "ccy", "bal", "credit_limit", "open_dt", "mat_dt",
        "close_dt", "acct_status", "bal_hist", "bal_hist_end", "branch_code",
    ],
    ("core", "holdings"): ["acct_no", "cust_no", "holder_role", "end_dt"],
    ("core", "households"): ["hh_no", "hh_name", "hh_addr"],
    ("core", "household_members"): ["hh_no", "cust_no", "member_role", "since_dt", "end_dt"],
    ("core", "rm_assignments"): ["emp_no", "cust_no", "since_dt"],
    ("card", "customers"): [
        "card_cust_id", "holder_name", "sex", "dob", "cert_no", "phone_no", "email_addr",
        "bill_addr", "city", "upd_time",
    ],
    ("card", "accounts"): [
        "card_acct_no", "card_product", "ccy", "balance_fen", "limit_fen", "open_date",
        "expiry_date", "close_date", "acct_state", "stmt_hist_fen", "stmt_hist_end",
    ],
    ("card", "holdings"): ["card_acct_no", "card_cust_id", "holder_type"],
    ("crm", "customers"): [
        "contact_id", "full_name", "gender", "birthday", "id_number", "mobile_phone", "email",
        "address", "city", "occupation", "modified",
    ],
    ("crm", "interactions"): [
        "interaction_no", "contact_id", "handled_by", "channel", "kind", "occurred", "summary",
        "outcome", "csat", "nps", "severity", "first_response", "resolved", "sla", "category",
        "cause_type", "cause_subtype",
    ],
    ("crm", "referrals"): ["referrer_contact", "referred_contact", "referred_on", "channel", "status"],
}  # fmt: skip

# product_code -> (name, product_type, category, min_tier)
PRODUCTS: dict[str, tuple[str, str, str, str]] = {
    "CUR-STD": ("活期结算账户", "CURRENT", "DEPOSIT", "ORDINARY"),
    "SAV-STD": ("活期储蓄", "SAVINGS", "DEPOSIT", "ORDINARY"),
    "SAV-PLUS": ("智能储蓄", "SAVINGS", "DEPOSIT", "ORDINARY"),
    "TD-1Y": ("一年定期存款", "TIME_DEPOSIT", "DEPOSIT", "ORDINARY"),
    "TD-3Y": ("三年定期存款", "TIME_DEPOSIT", "DEPOSIT", "ORDINARY"),
    "WM-STEADY": ("稳健理财", "WEALTH", "WEALTH", "ORDINARY"),
    "WM-GROWTH": ("进取理财", "WEALTH", "WEALTH", "KEY"),
    "WM-PRIVATE": ("私行尊享理财", "WEALTH", "WEALTH", "CORE"),
    "FD-BOND": ("债券基金", "FUND", "FUND", "ORDINARY"),
    "FD-EQUITY": ("股票基金", "FUND", "FUND", "KEY"),
    "INS-LIFE": ("终身寿险", "INSURANCE", "INSURANCE", "KEY"),
    "INS-HEALTH": ("健康保险", "INSURANCE", "INSURANCE", "ORDINARY"),
    "LN-CONS": ("消费贷款", "LOAN", "LOAN", "ORDINARY"),
    "MTG-HOME": ("住房按揭贷款", "MORTGAGE", "LOAN", "ORDINARY"),
    "CC-STD": ("标准信用卡", "CREDIT_CARD", "CARD", "ORDINARY"),
    "CC-GOLD": ("金卡信用卡", "CREDIT_CARD", "CARD", "ORDINARY"),
    "CC-PLAT": ("白金信用卡", "CREDIT_CARD", "CARD", "KEY"),
}
PRODUCTS_BY_TYPE: dict[str, list[str]] = {}
for _code, (_n, _type, _c, _t) in PRODUCTS.items():
    PRODUCTS_BY_TYPE.setdefault(_type, []).append(_code)
