"""The service desk's queries: the queue, its figures, the taxonomy."""

from __future__ import annotations

import strawberry

from resolvers import complaints as resolve
from schema.context import Info
from schema.interactions.complaints import (
    ComplaintCategory,
    ComplaintConnection,
    ComplaintFilter,
    ComplaintOrder,
    ComplaintStats,
    PeriodInput,
)


def _filter(flt: ComplaintFilter | None) -> resolve.QueueFilter:
    if flt is None:
        return resolve.QueueFilter()
    return resolve.QueueFilter(
        statuses=[s.value for s in flt.status] if flt.status else None,
        sla_statuses=[s.value for s in flt.sla_status] if flt.sla_status else None,
        severity=flt.severity.value if flt.severity else None,
        kind=flt.kind.value if flt.kind else None,
        category=flt.category,
        due_before=flt.due_before,
        branch_id=str(flt.branch_id) if flt.branch_id else None,
        assignee=flt.assignee,
        open_only=flt.open_only,
    )


@strawberry.type
class ComplaintsQuery:
    @strawberry.field(
        description="The complaint queue (complaints, suggestions, questions) of your scope: "
        "an RM's book, a branch manager's branch, everything for the service desk (masked) and "
        "admins, a customer's own. Breached first, then at risk, then on track, then resolved; "
        "within each by orderBy. Service levels are judged at the first page's time on every "
        "page of one listing."
    )
    async def complaints(
        self,
        info: Info,
        filter: ComplaintFilter | None = None,
        order_by: ComplaintOrder | None = ComplaintOrder.DUE_AT,
        first: int | None = 20,
        after: str | None = None,
    ) -> ComplaintConnection | None:
        page = await resolve.queue(
            info.context,
            flt=_filter(filter),
            order=(order_by or ComplaintOrder.DUE_AT).value,
            first=first,
            after=after,
        )
        return ComplaintConnection.of(page)

    @strawberry.field(
        description="Complaint figures of your scope for a period (default: the last 90 days)"
    )
    async def complaint_stats(
        self, info: Info, period: PeriodInput | None = None, branch_id: strawberry.ID | None = None
    ) -> ComplaintStats | None:
        row = await resolve.stats(
            info.context,
            start=period.from_ if period else None,
            end=period.to if period else None,
            branch_id=str(branch_id) if branch_id else None,
        )
        return ComplaintStats.from_row(row)

    @strawberry.field(
        description="Complaint categories, their cause types and subtypes (a configuration file)"
    )
    def complaint_taxonomy(self, info: Info) -> list[ComplaintCategory]:
        return ComplaintCategory.all_of(resolve.readable_taxonomy(info.context))
