"""The customers connection and the fixed lists (at risk by kind, win-back): one scoped page
query plus one count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache
from typing import Any

from auth import enforce
from auth.policy import FILTER_READS, LIST_READS, SEARCH_READS, SORT_READS, Operation
from core.errors import BadUserInput
from core.followups import last_reviews
from core.search import SearchMode, classify
from graph.queries.customers import EVERY_PART, parts_for
from graph.queries.search import COUNT_QUERIES, SortKey, fetch_page, page_query
from resolvers.context import Context
from resolvers.pagination import list_cursors, page_size
from scoring.config import load_config

CUSTOMERS = "customers"
AT_RISK = "atRiskCustomers"
WIN_BACK = "winBackCustomers"
RISKY = ["HIGH", "MEDIUM", "LOW"]


@dataclass(frozen=True)
class CustomerFilterArgs:
    """The CustomerFilter input (same names: auth.policy.FILTER_READS is keyed by them)."""

    tiers: list[str] | None = None
    segments: list[str] | None = None
    cities: list[str] | None = None
    statuses: list[str] | None = None
    downgrade_risk: list[str] | None = None
    branch_id: str | None = None
    relationship_manager_id: str | None = None
    unassigned: bool | None = None  # True: without a relationship manager; False: with one
    churn_risk: list[str] | None = None
    lifecycle_stages: list[str] | None = None
    tier_changed_since: dt.date | None = None  # a TierChange on or after this day ...
    tier_direction: str | None = None  # ... (or ever) in this direction (UP/DOWN)
    direct_only: bool | None = None  # only customers the caller reaches directly, not by a hop
    # Set by the fixed lists only (never a CustomerFilter field; their reads are LIST_READS):
    any_risk: list[str] | None = None  # downgrade or churn risk at one of these levels
    win_back: tuple[dt.date, dt.date] | None = None  # downgraded in [from, to], not up since

    def params(self) -> dict[str, Any]:
        return {
            "tiers": self.tiers or None,
            "segments": self.segments or None,
            "cities": self.cities or None,
            "statuses": self.statuses or None,
            "risk_levels": self.downgrade_risk or None,
            "branch": self.branch_id or None,
            "rm": self.relationship_manager_id or None,
            "unassigned": self.unassigned,
            "churn_levels": self.churn_risk or None,
            "stages": self.lifecycle_stages or None,
            "tier_since": self.tier_changed_since,
            "tier_direction": self.tier_direction,
            "direct_only": self.direct_only or None,
            "any_risk": self.any_risk or None,
            "win_back_since": self.win_back[0] if self.win_back else None,
            "win_back_until": self.win_back[1] if self.win_back else None,
        }


INTERNAL_FILTERS = ("direct_only", "any_risk", "win_back")


class RiskKind(StrEnum):
    """Which risk atRiskCustomers lists (AtRiskKind in the schema)."""

    DOWNGRADE = "DOWNGRADE"
    CHURN = "CHURN"
    ANY = "ANY"


# Each kind's list: the customers the caller reaches directly at some risk, highest first.
AT_RISK_LISTS: dict[RiskKind, tuple[CustomerFilterArgs, SortKey]] = {
    RiskKind.DOWNGRADE: (
        CustomerFilterArgs(downgrade_risk=RISKY, direct_only=True),
        SortKey.DOWNGRADE_RISK,
    ),
    RiskKind.CHURN: (CustomerFilterArgs(churn_risk=RISKY, direct_only=True), SortKey.CHURN_RISK),
    RiskKind.ANY: (CustomerFilterArgs(any_risk=RISKY, direct_only=True), SortKey.ANY_RISK),
}


@dataclass
class CustomerPage:
    rows: list[dict[str, Any]]
    cursors: list[str]
    total: int
    has_next: bool


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _reads(
    connection: str, mode: SearchMode, order: SortKey, filters: CustomerFilterArgs, listed: str
) -> list[tuple[str, str]]:
    """(argument as the caller wrote it, the customer field it reads) for every sort, filter and
    search of this request; a filter or list the policy does not name fails closed (KeyError).
    A fixed list (``listed``: its LIST_READS entry) reads what the policy says it is made of."""
    if connection != CUSTOMERS:  # a fixed list: its arguments are the caller's choice of list
        return [(connection, field_name) for field_name in LIST_READS[listed]]
    reads = [(f"orderBy.field {order.value}", SORT_READS[order.value])]
    if mode is not SearchMode.ALL:
        reads.append((f"search (by {mode.value})", SEARCH_READS[mode.value]))
    for name, value in vars(filters).items():
        if name not in INTERNAL_FILTERS and value is not None and value != []:
            reads.append((f"filter.{_camel(name)}", FILTER_READS[name]))
    return reads


async def customers_page(
    ctx: Context,
    *,
    search: str | None,
    filters: CustomerFilterArgs,
    order: str,
    descending: bool,
    first: int | None,
    after: str | None,
    fields: Iterable[str] | None = None,
    operation: Operation = Operation.READ_CUSTOMER,
    connection: str = CUSTOMERS,
    listed: str = CUSTOMERS,
) -> CustomerPage:
    """A page of customers; ``order`` names a sort key (CustomerSortField), ``fields`` the
    Customer fields the caller selected (every part is fetched when not given)."""
    enforce.require(ctx.principal, operation)
    order_key = SortKey(order)
    parts = EVERY_PART if fields is None else parts_for(fields)
    limit = page_size(ctx.settings, first)
    mode, term = classify(search)
    reads = _reads(connection, mode, order_key, filters, listed)
    enforce.require_readable(ctx.principal, reads)
    if enforce.hops_hide(ctx.principal, (field_name for _, field_name in reads)):
        filters = replace(filters, direct_only=True)
    cursors = list_cursors(
        ctx.settings,
        ctx.principal,
        connection,
        mode=mode.value,
        term=term,
        order=order_key.value,
        descending=descending,
        filters=filters.params(),
        listed=listed,
    )
    cursor = cursors.decode(after, arity=2)
    scope = enforce.row_scope(ctx.principal)
    params: dict[str, Any] = {
        "term": term,
        "after_k": cursor[0] if cursor else None,
        "after_id": cursor[1] if cursor else None,
        "limit": limit + 1,
        **scope.params,
        **filters.params(),
    }
    rows, total = await ctx.read(
        fetch_page,
        page_query=page_query(mode, order_key, descending, scope.kind, parts),
        count_query=COUNT_QUERIES[(mode, scope.kind)],
        params=params,
    )
    has_next = len(rows) > limit
    rows = rows[:limit]
    if rows:
        await ctx.audit(
            operation.value,
            customer_ids=[r["customer"]["customer_id"] for r in rows],
            fields=["customers"],
        )
    return CustomerPage(
        rows=[
            enforce.mask_row(ctx.principal, {**r["customer"], "access": r["access"]}) for r in rows
        ],
        cursors=[cursors.encode(r["sort_value"], r["customer"]["customer_id"]) for r in rows],
        total=total,
        has_next=has_next,
    )


async def at_risk_page(
    ctx: Context,
    *,
    kind: str = RiskKind.DOWNGRADE.value,
    first: int | None,
    after: str | None,
    fields: Iterable[str] | None = None,
) -> CustomerPage:
    """The customers the caller reaches directly at risk of dropping a tier (DOWNGRADE), of
    leaving (CHURN) or either (ANY), highest risk first; refused to a role that does not see
    that risk."""
    risk = RiskKind(kind)
    filters, order = AT_RISK_LISTS[risk]
    return await customers_page(
        ctx,
        search=None,
        filters=filters,
        order=order.value,
        descending=True,
        first=first,
        after=after,
        connection=AT_RISK,
        listed=f"{AT_RISK}_{risk.value}",
        fields=fields,
    )


@lru_cache(maxsize=1)
def _scoring() -> Any:
    return load_config()


async def win_back_page(
    ctx: Context,
    *,
    first: int | None,
    after: str | None,
    as_of: dt.date | None = None,
    fields: Iterable[str] | None = None,
) -> CustomerPage:
    """The customers the caller reaches directly who were downgraded at one of the last two
    tier reviews up to ``as_of`` (default today) and have not moved up since, largest AUM
    first: the win-back list."""
    day = as_of or dt.datetime.now(dt.UTC).date()
    if day.year < 1900:
        raise BadUserInput("asOf must be a date after 1900")
    earlier, _ = last_reviews(day, int(_scoring()["evaluation"]["period_months"]))
    return await customers_page(
        ctx,
        search=None,
        filters=CustomerFilterArgs(win_back=(earlier, day), direct_only=True),
        order=SortKey.AUM.value,
        descending=True,
        first=first,
        after=after,
        connection=WIN_BACK,
        listed=WIN_BACK,
        fields=fields,
    )
