from __future__ import annotations

import datetime as dt

import strawberry

from resolvers import alerts as resolve
from schema.alerts.types import AlertConnection, AlertKind
from schema.context import Info
from schema.selection import fields_of_nodes


@strawberry.type
class AlertsQuery:
    @strawberry.field(
        description="Alerts for your customers (a relationship manager's book, a branch "
        "manager's branch, all for admin) as of a date (default today, UTC), soonest due first, "
        "then by urgency; dismissed ones left out. Pass pageInfo.endCursor as after."
    )
    async def alerts(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        kinds: list[AlertKind] | None = None,
        as_of: dt.date | None = None,
    ) -> AlertConnection:
        page = await resolve.alerts_page(
            info.context,
            first=first,
            after=after,
            kinds=[k.value for k in kinds] if kinds else None,
            as_of=as_of,
            customer_fields=fields_of_nodes(info, "customer"),
        )
        return AlertConnection.of(page)
