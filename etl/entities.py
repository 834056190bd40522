"""The canonical entities a source extract is mapped to: the one registry of what the ETL loads.

Each :class:`Entity` declares its columns and types, its key, what it refers to, the transform
of its validated rows to graph rows (etl/records.py) and the upsert that writes them
(graph/queries/upserts.py, which names the node and key it merges on from graph/model.py).
:data:`ENTITIES` lists them in load order. The customers' columns come from the stored fields of
a Customer (graph/model.CUSTOMER_FIELDS), plus ``phone_region`` (the region a phone is read in,
not stored); their ``defaults`` say what an ID's type and country and a phone's region are when a
mapping does not. Amounts carry a currency (accounts' ``currency``); ``fx_rates`` holds the rates
the scoring job converts them with.

A mapping (etl/mappings/<system>.yaml) renames a system's columns to these names; the validation
schemas (etl/validation.py) and the graph rows (etl/records.py) are built from these declarations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from core.products import PRODUCT_TYPES
from etl import records
from etl.normalise import DEFAULT_COUNTRY, DEFAULT_ID_TYPE, DEFAULT_PHONE_REGION
from graph import model
from graph.queries import upserts

CHANNELS = ("BRANCH", "PHONE", "APP", "WEB", "WECHAT", "SMS", "EMAIL", "VISIT")
KINDS = (
    "SERVICE", "SALES", "COMPLAINT", "FOLLOW_UP", "SURVEY", "CAMPAIGN", "SUGGESTION", "QUESTION",
)  # fmt: skip
# The complaint taxonomy's codes as a source system brings them (core/complaint_taxonomy.toml),
# loaded as they come: the taxonomy is checked when a complaint is resolved through the API.
INTERACTION_PROPS = (*records.INTERACTION_PROPS, "category", "cause_type", "cause_subtype")


def _interactions(frame: pd.DataFrame) -> list[records.Row]:
    """records.interactions with the taxonomy columns too."""
    cols = ["interaction_id", "customer_id", "employee_id", *INTERACTION_PROPS]
    return [
        {
            "interaction_id": r["interaction_id"],
            "customer_id": r["customer_id"],
            "employee_id": r["employee_id"],
            "props": {k: r[k] for k in INTERACTION_PROPS},
        }
        for r in records.as_is(frame, tuple(cols))
    ]


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
    # amounts that may be negative only for the product types whose rule allows it
    # (core/products.negative_allowed, from scoring.toml [money]); the row's ``product_type``
    negative_by_product: tuple[str, ...] = ()
    positive: tuple[str, ...] = ()  # strictly above zero (an FX rate)
    currencies: tuple[str, ...] = ()  # ISO 4217 codes: three capital letters
    codes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ranges: dict[str, tuple[int, int]] = field(default_factory=dict)
    # column -> the entity its value must name (customer refs are source ids of the same system)
    refs: dict[str, str] = field(default_factory=dict)
    optional_refs: tuple[str, ...] = ()
    # column -> the entity its value should name, where a value naming nothing is set aside (the
    # row loads without it, warnings.csv says why) rather than refusing the row: an account's
    # opening branch, a customer's home branch
    soft_refs: dict[str, str] = field(default_factory=dict)
    # the value a column takes where the mapping gives none (validation and etl/records.py apply
    # it; a mapping's own ``defaults:`` win)
    defaults: dict[str, str] = field(default_factory=dict)
    # what writes the rows; None for customers, which go through identity resolution first and
    # are written in two steps (golden records, then source records: etl/loader.py)
    upsert: upserts.Upsert | None = None
    # validated rows -> the rows ``upsert`` takes; by default the columns as they are
    # (:attr:`graph_columns`)
    to_graph: Callable[[pd.DataFrame], list[records.Row]] | None = None

    @property
    def graph_columns(self) -> tuple[str, ...]:
        """The columns once the loader has replaced customer refs by golden customer ids."""
        return tuple(CUSTOMER_REF_TARGET.get(c, c) for c in self.columns)

    def graph_rows(self, frame: pd.DataFrame) -> list[records.Row]:
        """The rows :attr:`upsert` takes, from validated rows with customer refs resolved."""
        if self.to_graph is not None:
            return self.to_graph(frame)
        return records.as_is(frame, self.graph_columns)


# a column naming a customer by its source id -> the column the loader puts its golden id in
CUSTOMER_REF_TARGET = {
    "customer_ref": "customer_id",
    "referrer_ref": "referrer_id",
    "referred_ref": "referred_id",
}


def _loaded(type_: str) -> tuple[str, ...]:
    """The customer columns whose stored fields are of ``type_``."""
    return tuple(f.name for f in model.LOADED_CUSTOMER_FIELDS if f.copied and f.type == type_)


# source_id, then every column a stored field comes from (in the order of the declaration), then
# the columns that only steer how others are read: the region a phone is dialled in (not stored)
CUSTOMER_COLUMNS = (
    "source_id",
    *dict.fromkeys(f.source_column for f in model.LOADED_CUSTOMER_FIELDS),
    "phone_region",
    # compared by identity resolution and kept on the SourceRecord, not golden fields
    # (etl/linkage_frame.py); a record without ``name`` gets it from them (compose_name)
    *records.MATCHING_FIELDS,
    # the source's own home branch, kept on the SourceRecord (the loader derives the Customer's)
    records.HOME_BRANCH,
)
# what an identifier or a phone is when the system does not say: a mainland resident ID, a
# mainland number (a mapping sets others, e.g. ``defaults: {phone_region: CZ}``)
CUSTOMER_DEFAULTS = {
    "national_id_type": DEFAULT_ID_TYPE,
    "national_id_country": DEFAULT_COUNTRY,
    "phone_region": DEFAULT_PHONE_REGION,
}


# Every entity, in load order: what a row refers to is loaded before it.
ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "fx_rates",
            ("currency", "rate_date", "rate"),
            key=model.FX_RATE.key,
            required=("currency", "rate_date", "rate"),
            dates=("rate_date",),
            floats=("rate",),
            positive=("rate",),
            currencies=("currency",),
            upsert=upserts.FX_RATES,
        ),
        Entity(
            "branches",
            ("branch_id", "name", "city"),
            key=model.BRANCH.key,
            required=("branch_id", "name"),
            upsert=upserts.BRANCHES,
        ),
        Entity(
            "employees",
            ("employee_id", "name", "title", "branch_id"),
            key=model.EMPLOYEE.key,
            required=("employee_id", "name", "branch_id"),
            refs={"branch_id": "branches"},
            upsert=upserts.EMPLOYEES,
        ),
        Entity(
            "products",
            ("product_code", "name", "product_type", "category", "min_tier"),
            key=model.PRODUCT.key,
            required=("product_code", "name", "product_type"),
            codes={
                "product_type": PRODUCT_TYPES,
                "category": ("DEPOSIT", "WEALTH", "FUND", "INSURANCE", "LOAN", "CARD"),
                "min_tier": ("CORE", "KEY", "ORDINARY"),
            },
            upsert=upserts.PRODUCTS,
        ),
        Entity(
            "customers",
            CUSTOMER_COLUMNS,
            key=("source_id",),
            required=("source_id", "name"),
            dates=_loaded("date"),
            datetimes=_loaded("datetime"),
            floats=_loaded("float"),
            ints=_loaded("int"),
            codes={
                "gender": ("M", "F"),
                "segment": ("RETAIL", "SME", "PRIVATE"),
                "status": ("ACTIVE", "DORMANT", "CLOSED"),
            },
            defaults=CUSTOMER_DEFAULTS,
            soft_refs={records.HOME_BRANCH: "branches"},
        ),
        Entity(
            "households",
            ("household_id", "name", "address"),
            key=model.HOUSEHOLD.key,
            required=("household_id",),
            upsert=upserts.HOUSEHOLDS,
        ),
        Entity(
            "accounts",
            ("account_id", *records.ACCOUNT_PROPS, records.ACCOUNT_BRANCH),
            key=model.ACCOUNT.key,
            # no currency is refused, never assumed: a mapping says `defaults: {currency: CNY}`
            required=(
                "account_id",
                "product_code",
                "product_type",
                "currency",
                "balance",
                "opened_at",
            ),
            dates=("opened_at", "maturity_date", "closed_at", "monthly_balance_end"),
            floats=("balance", "credit_limit"),
            float_lists=("monthly_balances",),
            non_negative=("credit_limit",),
            negative_by_product=("balance", "monthly_balances"),
            currencies=("currency",),
            codes={"product_type": PRODUCT_TYPES, "status": ("OPEN", "CLOSED", "DORMANT")},
            refs={"product_code": "products"},
            soft_refs={records.ACCOUNT_BRANCH: "branches"},
            to_graph=records.accounts,
            upsert=upserts.ACCOUNTS,
        ),
        Entity(
            "holdings",
            ("account_id", "customer_ref", "role", "ended_at"),
            key=("account_id", "customer_ref"),
            required=("account_id", "customer_ref", "role"),
            dates=("ended_at",),
            codes={"role": ("PRIMARY", "JOINT", "AUTHORIZED", "GUARANTOR")},
            refs={"account_id": "accounts", "customer_ref": "customers"},
            upsert=upserts.HOLDINGS,
        ),
        Entity(
            "memberships",
            ("household_id", "customer_ref", "role", "since", "ended_at"),
            key=("household_id", "customer_ref"),
            required=("household_id", "customer_ref", "role"),
            dates=("since", "ended_at"),
            codes={"role": ("HEAD", "SPOUSE", "CHILD", "PARENT", "OTHER")},
            refs={"household_id": "households", "customer_ref": "customers"},
            upsert=upserts.MEMBERSHIPS,
        ),
        Entity(
            "manages",
            ("employee_id", "customer_ref", "since"),
            key=("employee_id", "customer_ref"),
            required=("employee_id", "customer_ref"),
            dates=("since",),
            refs={"employee_id": "employees", "customer_ref": "customers"},
            upsert=upserts.MANAGES,
        ),
        Entity(
            "referrals",
            ("referrer_ref", "referred_ref", "referred_at", "channel", "status"),
            key=("referrer_ref", "referred_ref"),
            required=("referrer_ref", "referred_ref"),
            dates=("referred_at",),
            refs={"referrer_ref": "customers", "referred_ref": "customers"},
            upsert=upserts.REFERRALS,
        ),
        Entity(
            "interactions",
            ("interaction_id", "customer_ref", "employee_id", *INTERACTION_PROPS),
            key=model.INTERACTION.key,
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
            to_graph=_interactions,
            upsert=upserts.INTERACTIONS,
        ),
    )
}
LOAD_ORDER = tuple(ENTITIES)
