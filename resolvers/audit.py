"""Reading the audit trail (auditors and admins); the reading is itself audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from auth import enforce
from auth.policy import Operation
from graph.queries import audit as q
from resolvers.context import Context
from resolvers.pagination import list_cursors, page_size


@dataclass(frozen=True)
class AuditPage:
    events: list[dict[str, Any]]
    cursors: list[str]
    has_next_page: bool


async def audit_events(
    ctx: Context,
    *,
    first: int,
    after: str | None,
    subject: str | None,
    customer_id: str | None,
    fields: Iterable[str],
) -> AuditPage:
    enforce.require(ctx.principal, Operation.READ_AUDIT)
    limit = page_size(ctx.settings, first)
    cursors = list_cursors(
        ctx.settings, ctx.principal, "auditEvents", subject=subject, customer_id=customer_id
    )
    cursor = cursors.decode(after, arity=2)
    rows = await ctx.read(
        q.list_events,
        subject=subject,
        customer_id=customer_id,
        after_at=dt.datetime.fromisoformat(cursor[0]) if cursor else None,
        after_id=cursor[1] if cursor else None,
        limit=limit + 1,
    )
    await ctx.audit(
        Operation.READ_AUDIT.value,
        customer_ids=[customer_id] if customer_id else [],
        fields=fields,
    )
    events = rows[:limit]
    return AuditPage(
        events=events,
        cursors=[cursors.encode(e["at"].isoformat(), e["event_id"]) for e in events],
        has_next_page=len(rows) > limit,
    )


async def audit_event_count(ctx: Context, *, subject: str | None, customer_id: str | None) -> int:
    """The number of events the list of these filters holds (asked only when selected)."""
    enforce.require(ctx.principal, Operation.READ_AUDIT)
    return await ctx.read(q.count_events, subject=subject, customer_id=customer_id)
