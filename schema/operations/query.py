from __future__ import annotations

import strawberry

from resolvers import audit as resolve
from schema.context import Info
from schema.operations.audit_event import AuditEventConnection
from schema.selection import fields_of_this_field


@strawberry.type
class OperationsQuery:
    @strawberry.field(
        description="The audit trail, newest first (auditor and admin). Reading it is audited."
    )
    async def audit_events(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        subject: str | None = None,
        customer_id: strawberry.ID | None = None,
    ) -> AuditEventConnection:
        customer = str(customer_id) if customer_id is not None else None
        page = await resolve.audit_events(
            info.context,
            first=first,
            after=after,
            subject=subject,
            customer_id=customer,
            fields=fields_of_this_field(info),
        )
        return AuditEventConnection.from_page(page, subject=subject, customer_id=customer)
