"""Reads of the customer aggregate, always through a row-scope fragment (graph/queries/scope.py).

``details(parts, scope)`` loads the related parts a selection asks for, for each bound customer
``c`` in one pass, so a page of customers costs the same single query as one profile (no N+1).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from neo4j import AsyncManagedTransaction

from core.products import ASSET_TYPES, MONEY_CONFIG
from graph.model import CUSTOMER, SHOWN_CUSTOMER_FIELDS
from graph.queries.interactions import (
    EVERY_ITEM_PART,
    PROFILE_TIMELINE_PREFIX,
    profile_timeline_part,
)
from graph.queries.scope import ACCESS_EXPR, ScopeKind
from graph.session import one_row, scoped

_CUSTOMER_FIELDS = (*CUSTOMER.key, *SHOWN_CUSTOMER_FIELDS)  # declared in graph/model.py
_ACCOUNT_FIELDS = (
    "account_id", "product_type", "product_code", "currency", "balance", "status", "opened_at",
    "maturity_date", "closed_at",
)  # fmt: skip
# Query texts kept per builder (LRU): selections combine parts in up to 2^10 ways, and a caller
# must not be able to grow the cache by varying them.
QUERY_TEXTS = 512
# What counts towards assets under management before the scoring job has stored ``c.aum``.
_ASSET = f"a.product_type IN {list(ASSET_TYPES)!r} AND coalesce(a.status, 'OPEN') <> 'CLOSED'"


def reporting_currency(path: Path = MONEY_CONFIG) -> str:
    """``[money] reporting_currency`` of scoring/scoring.toml (the file the scoring job and the
    ETL read), checked to be an ISO 4217 code: it is written into the query text as a literal."""
    currency = tomllib.loads(Path(path).read_text(encoding="utf-8"))["money"]["reporting_currency"]
    if not (isinstance(currency, str) and re.fullmatch(r"[A-Z]{3}", currency)):
        raise ValueError(f"{path}: [money] reporting_currency must be an ISO 4217 code")
    return currency


# An account's balance in the reporting currency, as the scoring job converts it
# (scoring/job.Money): its own currency's newest FxRate dated today or earlier (``a.fx_rate``,
# read by _FX_RATE); 1:1 in the reporting currency (or without a currency: the loader writes
# one on each); null, so left out of the sum, when its currency has no rate.
_IN_REPORTING = """CASE WHEN coalesce(a.currency, '__REPORTING__') = '__REPORTING__'
  THEN a.balance ELSE a.balance * a.fx_rate END"""
_FX_RATE = """
  CALL (a) {
    OPTIONAL MATCH (f:FxRate {currency: a.currency}) WHERE f.rate_date <= date()
    WITH f ORDER BY f.rate_date DESC LIMIT 1
    RETURN f.rate AS fx_rate
  }"""
# The same for the accounts of a profile: only for a customer not scored yet (no ``c.aum``),
# the only one whose AUM is summed from them.
_FX_RATE_UNSCORED = """
  CALL (a, c) {
    OPTIONAL MATCH (f:FxRate {currency: a.currency}) WHERE c.aum IS NULL AND f.rate_date <= date()
    WITH f ORDER BY f.rate_date DESC LIMIT 1
    RETURN f.rate AS fx_rate
  }"""
# With ``accounts`` and ``aum`` both selected (AUM_OF_ACCOUNTS), the unscored AUM is summed from
# the accounts rather than fetched again.
_AUM_OF_ACCOUNTS = f"""computed_aum: CASE WHEN c.aum IS NULL THEN round(reduce(
         s = 0.0, a IN [a IN accounts WHERE {_ASSET}] | s + coalesce({_IN_REPORTING}, 0.0)), 2)
         END, """


def _props(names: tuple[str, ...]) -> str:
    return ", ".join(f".{n}" for n in names)


# What the accounts part projects per account. With markers ``accounts.<key>`` in the parts
# (``account_parts_for``: a selection that says which Account fields it shows) only those keys
# and the id (the Product's name only when shown); without markers, all of them.
# ``holder_role`` and ``product_name`` come from the HOLDS edge and the Product.
ACCOUNT_PREFIX = "accounts."
# The product's name without a row per OF_PRODUCT edge, the product of the account's current
# code first: a graph loaded before UPSERT_ACCOUNTS deleted the edge of a changed product code
# (graph/queries/upserts.py) may hold two.
_ACCOUNT_EXTRA = {
    "holder_role": "holder_role: r.role",
    "product_name": """product_name: coalesce(
         head([(a)-[:OF_PRODUCT]->(p:Product) WHERE p.product_code = a.product_code | p.name]),
         head([(a)-[:OF_PRODUCT]->(p:Product) | p.name]))""",
}
# GraphQL field of Account -> the key it reads.
ACCOUNT_FIELD_KEYS = {
    "productType": "product_type", "productCode": "product_code", "productName": "product_name",
    "currency": "currency", "balance": "balance", "status": "status", "holderRole": "holder_role",
    "openedAt": "opened_at", "maturityDate": "maturity_date", "closedAt": "closed_at",
}  # fmt: skip
# What the unscored AUM is summed from (AUM_OF_ACCOUNTS), whatever the selection shows.
_AUM_KEYS = ("product_type", "status", "currency", "balance")


def account_parts_for(fields: Iterable[str]) -> frozenset[str]:
    """The markers of the Account fields a selection shows (GraphQL names; unknown names, such
    as ``__typename``, need nothing): the accounts part then projects only those."""
    keys = {"account_id", *(ACCOUNT_FIELD_KEYS[f] for f in fields if f in ACCOUNT_FIELD_KEYS)}
    return frozenset(f"{ACCOUNT_PREFIX}{key}" for key in keys)


def _account_part(parts: frozenset[str]) -> str:
    marked = {p.removeprefix(ACCOUNT_PREFIX) for p in parts if p.startswith(ACCOUNT_PREFIX)}
    if not marked:
        keys = {*_ACCOUNT_FIELDS, *_ACCOUNT_EXTRA}
    else:
        keys = marked | (set(_AUM_KEYS) if AUM_OF_ACCOUNTS in parts else set())
    fields = [f".{k}" for k in _ACCOUNT_FIELDS if k in keys]
    fields += [expr for k, expr in _ACCOUNT_EXTRA.items() if k in keys]
    if AUM_OF_ACCOUNTS in parts:
        fields.append("fx_rate: fx_rate")
    return PARTS["accounts"].replace("__ACCOUNT__", ", ".join(fields))


# The related parts of a profile, each one subquery per bound customer ``c``; a query fetches
# only the parts its GraphQL selection asks for (``parts_for``). ``__ACCESS__`` stands for the
# caller's scope expression (graph/queries/scope.ACCESS_EXPR) over another customer bound as ``c``.
PARTS: dict[str, str] = {
    # ``people``: the members named in the household's name, with the caller's access to each
    # (a household named after its head is masked like the head's name).
    "household": """
CALL (c) {
  OPTIONAL MATCH (c)-[m:MEMBER_OF]->(h:Household)
  WITH h, m ORDER BY m.ended_at IS NULL DESC, m.ended_at DESC
  WITH collect(h {.household_id, .name, .aum, .tier, role: m.role, since: m.since,
                  ended_at: m.ended_at})[0] AS household, collect(h)[0] AS h
  CALL (h) {
    MATCH (c:Customer)-[:MEMBER_OF]->(h) WHERE h.name CONTAINS c.name
    RETURN collect({name: c.name, access: __ACCESS__}) AS people
  }
  RETURN household {.*, people: people} AS household
}""",
    # Each account's FX rate only for the AUM (AUM_OF_ACCOUNTS): a subquery per account. Its
    # projection: __ACCOUNT__ (``_account_part``: every field, or those the selection shows).
    "accounts": """
CALL (c) {
  OPTIONAL MATCH (c)-[r:HOLDS]->(a:Account)__FX_RATE__
  WITH * ORDER BY a.account_id
  RETURN collect(CASE WHEN a IS NULL THEN NULL ELSE a {__ACCOUNT__} END) AS accounts
}""",
    "relationship_manager": """
CALL (c) {
  OPTIONAL MATCH (e:Employee)-[m:MANAGES]->(c)
  RETURN collect(e {.employee_id, .name, .title, .branch_id, since: m.since})[0] AS relationship_manager
}""",
    # The branch the customer belongs to (the loader's HOME_BRANCH: etl/loader.py).
    "home_branch": """
CALL (c) {
  OPTIONAL MATCH (c)-[:HOME_BRANCH]->(b:Branch)
  RETURN collect(b {.branch_id, .name, .city})[0] AS home_branch
}""",
    # Referral partners with the caller's access to each (a partner beyond it is masked).
    "referred_by": """
CALL (c) {
  OPTIONAL MATCH (r:Customer)-[ref:REFERRED]->(c)
  CALL (r) { WITH r AS c RETURN __ACCESS__ AS access }
  RETURN collect(r {.customer_id, .name, .tier, referred_at: ref.referred_at, access: access})[0]
         AS referred_by
}""",
    "referrals": """
CALL (c) {
  OPTIONAL MATCH (c)-[ref:REFERRED]->(r:Customer)
  CALL (r) { WITH r AS c RETURN __ACCESS__ AS access }
  RETURN collect(r {.customer_id, .name, .tier, referred_at: ref.referred_at, access: access})
         AS referrals
}""",
    "source_records": """
CALL (c) {
  OPTIONAL MATCH (s:SourceRecord)-[rt:RESOLVED_TO]->(c)
  RETURN collect(s {.system, .source_id, rule: rt.rule, confidence: rt.confidence,
                    match_weight: rt.match_weight, comparisons_json: rt.comparisons_json})
         AS source_records
}""",
    # ``aum`` without ``accounts`` before any scoring run: summed here, not from every account,
    # in the reporting currency.
    "computed_aum": f"""
CALL (c) {{
  OPTIONAL MATCH (c)-[:HOLDS]->(a:Account)
  WHERE c.aum IS NULL AND {_ASSET}{_FX_RATE}
  WITH a {{.currency, .balance, fx_rate: fx_rate}} AS a
  RETURN round(sum({_IN_REPORTING}), 2) AS computed_aum
}}""",
}
# The first page of the timeline (graph/queries/interactions.py), when the resolver asks for it
# with the page's parameters (``fetch_profile(timeline=...)``), never by field name; the parts
# of its items as ``timeline.<part>``.
TIMELINE = "timeline"
# ``aum`` and ``accounts`` both selected: the AUM summed from the accounts fetched (with their FX
# rates) rather than fetched again.
AUM_OF_ACCOUNTS = "aum_of_accounts"
# Parts of the row itself (no subquery): maps the API decodes only when they are asked for.
# Temporals go out as ISO strings: hydrating a zoned DateTime in the driver costs more than
# the API's fromisoformat.
ROW_PARTS: dict[str, str] = {
    "value": """value: c {.tier, .previous_tier, tier_changed_at: toString(c.tier_changed_at),
                 .value_score, .value_components_json, .clv, .influence, .referred_aum,
                 .lifecycle_stage, scored_at: toString(c.scored_at)}""",
    "risk": """risk: c {.downgrade_risk_level, .projected_aum, .tier_floor,
                evaluation_date: toString(c.evaluation_date), .downgrade_reasons_json,
                .downgrade_reasons, .churn_risk_level, .churn_reasons_json, .churn_reasons}""",
    "recommendations": "recommendations: coalesce(c.recommendations_json, '[]')",
}
EVERY_PART = (frozenset(PARTS) | frozenset(ROW_PARTS) | {AUM_OF_ACCOUNTS}) - {"computed_aum"}
# GraphQL field of Customer -> the part it needs.
FIELD_PARTS = {
    "household": "household",
    "householdMembership": "household",
    "accounts": "accounts",
    "holdings": "accounts",
    "relationshipManager": "relationship_manager",
    "relationshipManagerAssignment": "relationship_manager",
    "homeBranch": "home_branch",
    "referredBy": "referred_by",
    "referrer": "referred_by",
    "referrals": "referrals",
    "referred": "referrals",
    "sourceRecords": "source_records",
    "aum": "computed_aum",
    "value": "value",
    "risk": "risk",
    "recommendations": "recommendations",
}


def parts_for(fields: Iterable[str], account_fields: Iterable[str] | None = None) -> frozenset[str]:
    """The parts a selection of Customer fields needs (GraphQL names); with ``account_fields``
    (the Account fields it shows under ``accounts`` and ``holdings``) its accounts carry only
    those."""
    parts = {FIELD_PARTS[f] for f in fields if f in FIELD_PARTS}
    if "accounts" in parts and account_fields is not None:
        parts |= account_parts_for(account_fields)
    if "accounts" in parts and "computed_aum" in parts:  # summed from the accounts themselves
        parts -= {"computed_aum"}
        parts |= {AUM_OF_ACCOUNTS}
    return frozenset(parts)


@lru_cache(maxsize=QUERY_TEXTS)
def details(parts: frozenset[str], scope: ScopeKind) -> str:
    text = "".join(
        _account_part(parts) if name == "accounts" else PARTS[name]
        for name in PARTS
        if name in parts
    )
    text = text.replace("__FX_RATE__", _FX_RATE_UNSCORED if AUM_OF_ACCOUNTS in parts else "")
    if TIMELINE in parts:
        prefix = f"{TIMELINE}."
        item_parts = frozenset(p.removeprefix(prefix) for p in parts if p.startswith(prefix))
        text += profile_timeline_part(item_parts)
    text += "\n"
    text = text.replace("__REPORTING__", reporting_currency())
    return text.replace("__ACCESS__", ACCESS_EXPR[scope])


# The row the API maps to a Customer: the stored properties it shows (not ``.*``: the monthly
# balance history, hashes and scoring inputs would be sent and decoded for nothing), then the
# parts fetched.
@lru_cache(maxsize=QUERY_TEXTS)
def row(parts: frozenset[str]) -> str:
    fetched = "".join(f"{name}: {name}, " for name in (*PARTS, TIMELINE) if name in parts)
    own = "".join(f"{ROW_PARTS[name]}, " for name in ROW_PARTS if name in parts)
    if AUM_OF_ACCOUNTS in parts:
        fetched += _AUM_OF_ACCOUNTS.replace("__REPORTING__", reporting_currency())
    return f"""c {{{_props(_CUSTOMER_FIELDS)}, birth_year: c.birth_date.year, {fetched}
       {own}interactions: true, satisfaction: true}}"""


@lru_cache(maxsize=QUERY_TEXTS)
def profile_query(scope: ScopeKind, parts: frozenset[str] = EVERY_PART) -> str:
    """The scope fragment followed by the profile with the given parts."""
    shape = frozenset(p for p in parts if "." not in p)  # the row needs no part's markers
    return scoped(scope, details(parts, scope) + f"RETURN {row(shape)} AS customer, access\n")


async def fetch_profile(
    tx: AsyncManagedTransaction,
    *,
    scope: ScopeKind,
    customer_id: str,
    scope_params: dict[str, Any],
    parts: frozenset[str] = EVERY_PART,
    timeline: dict[str, Any] | None = None,
    timeline_parts: frozenset[str] = EVERY_ITEM_PART,
) -> dict[str, Any] | None:
    """The customer's profile row if the scope lets the caller see it, else None; with
    ``timeline`` (a page's parameters: resolvers/interactions.py) the row's ``timeline`` holds
    that page, its items with ``timeline_parts``."""
    params = {"customer_id": customer_id, **scope_params}
    if timeline is not None:
        parts |= {TIMELINE, *(f"{TIMELINE}.{p}" for p in timeline_parts)}
        params |= {f"{PROFILE_TIMELINE_PREFIX}{k}": value for k, value in timeline.items()}
    record = await one_row(tx, query=profile_query(scope, parts), params=params)
    return None if record is None else {**record["customer"], "access": record["access"]}
