from __future__ import annotations

import datetime as dt

import strawberry

from resolvers import customers as resolve
from resolvers import search
from resolvers.interactions import FirstPage
from schema.context import Info
from schema.customers.connection import (
    AtRiskKind,
    CustomerConnection,
    CustomerEdge,
    CustomerFilter,
    CustomerOrder,
    SortDirection,
)
from schema.customers.customer import Customer
from schema.pagination import PageInfo
from schema.selection import (
    account_fields,
    fields_of_nodes,
    fields_of_this_field,
    first_page_wanted,
)


def _filters(flt: CustomerFilter | None) -> search.CustomerFilterArgs:
    if flt is None:
        return search.CustomerFilterArgs()
    return search.CustomerFilterArgs(
        tiers=[t.value for t in flt.tiers] if flt.tiers else None,
        segments=flt.segments,
        cities=flt.cities,
        statuses=flt.statuses,
        downgrade_risk=[r.value for r in flt.downgrade_risk] if flt.downgrade_risk else None,
        branch_id=str(flt.branch_id) if flt.branch_id else None,
        relationship_manager_id=(
            str(flt.relationship_manager_id) if flt.relationship_manager_id else None
        ),
        unassigned=flt.unassigned,
        churn_risk=[r.value for r in flt.churn_risk] if flt.churn_risk else None,
        lifecycle_stages=[s.value for s in flt.lifecycle_stages] if flt.lifecycle_stages else None,
        tier_changed_since=flt.tier_changed_since,
        tier_direction=flt.tier_direction.value if flt.tier_direction else None,
    )


def _connection(page: search.CustomerPage) -> CustomerConnection:
    edges = [
        CustomerEdge(cursor=cursor, node=Customer.from_row(row))
        for row, cursor in zip(page.rows, page.cursors, strict=True)
    ]
    return CustomerConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None
        ),
        total_count=page.total,
    )


@strawberry.type
class CustomersQuery:
    @strawberry.field(
        description="The 360 profile of one customer, by customer id, masked for your role. "
        "A customer outside your scope is NOT_FOUND, like one that does not exist."
    )
    async def customer(self, info: Info, id: strawberry.ID) -> Customer:
        wanted = first_page_wanted(info, ("timeline", "interactions"))
        row = await resolve.customer_profile(
            info.context,
            str(id),
            fields=fields_of_this_field(info),
            account_fields=account_fields(info),
            timeline=None
            if wanted is None
            else FirstPage(first=wanted[0].get("first"), item_fields=tuple(wanted[1])),
        )
        return Customer.from_row(row)

    @strawberry.field(
        description="Customers you may see. `search` takes a name (full-text), a phone number "
        "or a customer id. Pages of at most 100; pass `pageInfo.endCursor` as `after`."
    )
    async def customers(
        self,
        info: Info,
        search: str | None = None,
        filter: CustomerFilter | None = None,
        order_by: CustomerOrder | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> CustomerConnection:
        order = order_by or CustomerOrder()
        page = await search_page(info, search, _filters(filter), order, first, after)
        return _connection(page)

    @strawberry.field(
        description="Your customers at risk, highest risk first, with reasons: of dropping a "
        "tier (DOWNGRADE, the default), of leaving (CHURN), or either (ANY)."
    )
    async def at_risk_customers(
        self,
        info: Info,
        kind: AtRiskKind = AtRiskKind.DOWNGRADE,
        first: int | None = 20,
        after: str | None = None,
    ) -> CustomerConnection:
        page = await search.at_risk_page(
            info.context, kind=kind.value, first=first, after=after, fields=fields_of_nodes(info)
        )
        return _connection(page)

    @strawberry.field(
        description="Your customers downgraded at one of the last two tier reviews (quarter ends) "
        "up to asOf (default today) and not moved up since, largest AUM first: the win-back list."
    )
    async def win_back_customers(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        as_of: dt.date | None = None,
    ) -> CustomerConnection:
        page = await search.win_back_page(
            info.context, first=first, after=after, as_of=as_of, fields=fields_of_nodes(info)
        )
        return _connection(page)


async def search_page(
    info, text, filters, order: CustomerOrder, first, after
) -> search.CustomerPage:
    return await search.customers_page(
        info.context,
        search=text,
        filters=filters,
        order=order.field.value,
        descending=order.direction is SortDirection.DESC,
        first=first,
        after=after,
        fields=fields_of_nodes(info),
    )
