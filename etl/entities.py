"""The canonical entities a source extract is mapped to: columns and types declared once.

A mapping (etl/mappings/<system>.yaml) renames a system's columns to these names; the validation
schemas (etl/validation.py) and the graph rows (etl/records.py) are built from these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PRODUCT_TYPES = (
    "CURRENT", "SAVINGS", "TIME_DEPOSIT", "WEALTH", "FUND", "INSURANCE", "LOAN", "MORTGAGE",
    "CREDIT_CARD",
)  # fmt: skip
CHANNELS = ("BRANCH", "PHONE", "APP", "WEB", "WECHAT", "SMS", "EMAIL", "VISIT")
KINDS = ("SERVICE", "SALES", "COMPLAINT", "FOLLOW_UP", "SURVEY", "CAMPAIGN")


@dataclass(frozen=True)
class Entity:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    required: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    datetimes: tuple[str, ...] = ()
    floats: tuple[str, ...] = ()
    ints: tuple[str, ...] = ()
    float_lists: tuple[str, ...] = ()
    non_negative: tuple[str, ...] = ()
    codes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ranges: dict[str, tuple[int, int]] = field(default_factory=dict)
    # column -> the entity its value must name (customer refs are source ids of the same system)
    refs: dict[str, str] = field(default_factory=dict)
    optional_refs: tuple[str, ...] = ()


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "branches",
            ("branch_id", "name", "city"),
            key=("branch_id",),
            required=("branch_id", "name"),
        ),
        Entity(
            "employees",
            ("employee_id", "name", "title", "branch_id"),
            key=("employee_id",),
            required=("employee_id", "name", "branch_id"),
            refs={"branch_id": "branches"},
        ),
        Entity(
            "products",
            ("product_code", "name", "product_type", "category", "min_tier"),
            key=("product_code",),
            required=("product_code", "name", "product_type"),
            codes={
                "product_type": PRODUCT_TYPES,
                "category": ("DEPOSIT", "WEALTH", "FUND", "INSURANCE", "LOAN", "CARD"),
                "min_tier": ("CORE", "KEY", "ORDINARY"),
            },
        ),
        Entity(
            "customers",
            (
                "source_id",
                "name",
                "gender",
                "birth_date",
                "national_id",
                "phone",
                "email",
                "address",
                "city",
                "occupation",
                "segment",
                "kyc_status",
                "risk_rating",
                "onboarded_at",
                "status",
                "updated_at",
            ),  # fmt: skip
            key=("source_id",),
            required=("source_id", "name"),
            dates=("birth_date", "onboarded_at"),
            datetimes=("updated_at",),
            codes={
                "gender": ("M", "F"),
                "segment": ("RETAIL", "SME", "PRIVATE"),
                "status": ("ACTIVE", "DORMANT", "CLOSED"),
            },
        ),
        Entity(
            "accounts",
            (
                "account_id",
                "product_code",
                "product_type",
                "currency",
                "balance",
                "credit_limit",
                "opened_at",
                "maturity_date",
                "closed_at",
                "status",
                "monthly_balances",
                "monthly_balance_end",
            ),  # fmt: skip
            key=("account_id",),
            required=("account_id", "product_code", "product_type", "balance", "opened_at"),
            dates=("opened_at", "maturity_date", "closed_at", "monthly_balance_end"),
            floats=("balance", "credit_limit"),
            float_lists=("monthly_balances",),
            non_negative=("balance", "credit_limit", "monthly_balances"),
            codes={"product_type": PRODUCT_TYPES, "status": ("OPEN", "CLOSED", "DORMANT")},
            refs={"product_code": "products"},
        ),
        Entity(
            "holdings",
            ("account_id", "customer_ref", "role", "ended_at"),
            key=("account_id", "customer_ref"),
            required=("account_id", "customer_ref", "role"),
            dates=("ended_at",),
            codes={"role": ("PRIMARY", "JOINT", "AUTHORIZED", "GUARANTOR")},
            refs={"account_id": "accounts", "customer_ref": "customers"},
        ),
        Entity(
            "households",
            ("household_id", "name", "address"),
            key=("household_id",),
            required=("household_id",),
        ),
        Entity(
            "memberships",
            ("household_id", "customer_ref", "role", "since", "ended_at"),
            key=("household_id", "customer_ref"),
            required=("household_id", "customer_ref", "role"),
            dates=("since", "ended_at"),
            codes={"role": ("HEAD", "SPOUSE", "CHILD", "PARENT", "OTHER")},
            refs={"household_id": "households", "customer_ref": "customers"},
        ),
        Entity(
            "manages",
            ("employee_id", "customer_ref", "since"),
            key=("employee_id", "customer_ref"),
            required=("employee_id", "customer_ref"),
            dates=("since",),
            refs={"employee_id": "employees", "customer_ref": "customers"},
        ),
        Entity(
            "referrals",
            ("referrer_ref", "referred_ref", "referred_at", "channel", "status"),
            key=("referrer_ref", "referred_ref"),
            required=("referrer_ref", "referred_ref"),
            dates=("referred_at",),
            refs={"referrer_ref": "customers", "referred_ref": "customers"},
        ),
        Entity(
            "interactions",
            (
                "interaction_id",
                "customer_ref",
                "employee_id",
                "channel",
                "kind",
                "occurred_at",
                "summary",
                "outcome",
                "satisfaction",
                "nps",
                "severity",
                "first_response_at",
                "resolved_at",
                "sla_status",
            ),  # fmt: skip
            key=("interaction_id",),
            required=("interaction_id", "customer_ref", "channel", "kind", "occurred_at"),
            datetimes=("occurred_at", "first_response_at", "resolved_at"),
            ints=("satisfaction", "nps"),
            codes={
                "channel": CHANNELS,
                "kind": KINDS,
                "severity": ("MINOR", "MAJOR"),
                "sla_status": ("MET", "BREACHED", "OPEN"),
            },
            ranges={"satisfaction": (1, 5), "nps": (0, 10)},
            refs={"customer_ref": "customers", "employee_id": "employees"},
            optional_refs=("employee_id",),
        ),
    )
}

# Load order: what a row refers to is loaded before it.
LOAD_ORDER = (
    "branches", "employees", "products", "customers", "households", "accounts", "holdings",
    "memberships", "manages", "referrals", "interactions",
)  # fmt: skip
