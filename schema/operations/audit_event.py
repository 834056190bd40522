from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from resolvers import audit as resolve
from resolvers.audit import AuditPage
from schema.context import Info
from schema.pagination import PageInfo
from schema.scalars import to_datetime


@strawberry.type(description="One recorded read of personal data or one write.")
class AuditEvent:
    id: strawberry.ID
    at: dt.datetime
    subject: str
    roles: list[str]
    customer_ids: list[str]
    operation: str
    fields: list[str]
    request_id: str | None
    client_address: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> AuditEvent:
        return cls(
            id=strawberry.ID(row["event_id"]),
            at=to_datetime(row["at"]),  # type: ignore[arg-type]
            subject=row.get("subject") or "",
            roles=list(row.get("roles") or []),
            customer_ids=list(row.get("customer_ids") or []),
            operation=row.get("operation") or "",
            fields=list(row.get("fields") or []),
            request_id=row.get("request_id"),
            client_address=row.get("client_address"),
        )


@strawberry.type
class AuditEventEdge:
    cursor: str
    node: AuditEvent


@strawberry.type(description="A page of audit events, newest first (Relay connection).")
class AuditEventConnection:
    edges: list[AuditEventEdge]
    page_info: PageInfo
    # The list's filters, for totalCount (counted only when selected).
    _subject: strawberry.Private[str | None] = None
    _customer_id: strawberry.Private[str | None] = None

    @strawberry.field(description="The audit events of this page (the edges' nodes)")
    def nodes(self) -> list[AuditEvent]:
        return [e.node for e in self.edges]

    @strawberry.field(description="The number of events the list holds under these filters")
    async def total_count(self, info: Info) -> int:
        return await resolve.audit_event_count(
            info.context, subject=self._subject, customer_id=self._customer_id
        )

    @classmethod
    def from_page(
        cls, page: AuditPage, *, subject: str | None, customer_id: str | None
    ) -> AuditEventConnection:
        edges = [
            AuditEventEdge(cursor=cursor, node=AuditEvent.from_row(e))
            for e, cursor in zip(page.events, page.cursors, strict=True)
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page, end_cursor=edges[-1].cursor if edges else None
            ),
            _subject=subject,
            _customer_id=customer_id,
        )
