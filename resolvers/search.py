"""The customers connection and the at-risk list: one scoped page query plus one count."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from auth import enforce
from auth.policy import FILTER_READS, SEARCH_READS, SORT_READS, Operation
from core.search import SearchMode, classify
from graph.queries.customers import EVERY_PART, parts_for
from graph.queries.search import COUNT_QUERIES, SortKey, fetch_page, page_query
from resolvers.context import Context
from resolvers.pagination import list_cursors, page_size

CUSTOMERS = "customers"
AT_RISK = "atRiskCustomers"


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
    direct_only: bool | None = None  # only customers the caller reaches directly, not by a hop

    def params(self) -> dict[str, Any]:
        return {
            "tiers": self.tiers or None,
            "segments": self.segments or None,
            "cities": self.cities or None,
            "statuses": self.statuses or None,
            "risk_levels": self.downgrade_risk or None,
            "branch": self.branch_id or None,
            "rm": self.relationship_manager_id or None,
            "direct_only": self.direct_only or None,
        }


AT_RISK_FILTER = CustomerFilterArgs(downgrade_risk=["HIGH", "MEDIUM", "LOW"], direct_only=True)


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
    connection: str, mode: SearchMode, order: SortKey, filters: CustomerFilterArgs
) -> list[tuple[str, str]]:
    """(argument as the caller wrote it, the customer field it reads) for every sort, filter and
    search of this request; a filter the policy does not name fails closed (KeyError)."""
    reads = [(f"orderBy.field {order.value}", SORT_READS[order.value])]
    if mode is not SearchMode.ALL:
        reads.append((f"search (by {mode.value})", SEARCH_READS[mode.value]))
    for name, value in vars(filters).items():
        if name != "direct_only" and value:
            reads.append((f"filter.{_camel(name)}", FILTER_READS[name]))
    if connection != CUSTOMERS:  # a fixed list: its arguments are the caller's choice of list
        reads = [(connection, field_name) for _, field_name in reads]
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
) -> CustomerPage:
    """A page of customers; ``order`` names a sort key (CustomerSortField), ``fields`` the
    Customer fields the caller selected (every part is fetched when not given)."""
    enforce.require(ctx.principal, operation)
    order_key = SortKey(order)
    parts = EVERY_PART if fields is None else parts_for(fields)
    limit = page_size(ctx.settings, first)
    mode, term = classify(search)
    reads = _reads(connection, mode, order_key, filters)
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
    ctx: Context, *, first: int | None, after: str | None, fields: Iterable[str] | None = None
) -> CustomerPage:
    """The customers the caller reaches directly, highest downgrade risk first; refused to a role
    that does not see downgrade risk."""
    return await customers_page(
        ctx,
        search=None,
        filters=AT_RISK_FILTER,
        order=SortKey.DOWNGRADE_RISK.value,
        descending=True,
        first=first,
        after=after,
        connection=AT_RISK,
        fields=fields,
    )
