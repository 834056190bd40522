from __future__ import annotations

import datetime as dt

import strawberry

from resolvers import alerts as resolve
from schema.alerts.types import AlertKind, DismissAlertPayload
from schema.context import Info


@strawberry.type
class AlertsMutation:
    @strawberry.mutation(
        description="Dismiss one of your alerts: it is no longer listed for you (others who "
        "see it still do). Audited; dismissing it again answers with the first dismissal. "
        "asOf: the date of the list it came from (default today)."
    )
    async def dismiss_alert(
        self, info: Info, id: strawberry.ID, as_of: dt.date | None = None
    ) -> DismissAlertPayload:
        row = await resolve.dismiss(info.context, alert_id=str(id), as_of=as_of)
        return DismissAlertPayload(
            id=strawberry.ID(row["id"]),
            kind=AlertKind(row["kind"]),
            dismissed_at=row["dismissed_at"],
        )
