"""Durable audit trail, failing closed: when the event cannot be written, the request fails."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable

from neo4j import AsyncDriver

from auth.principal import Principal
from c360.errors import ApiError, ErrorCode
from graph.queries import audit as q

log = logging.getLogger("c360.audit")


class AuditUnavailable(ApiError):
    code = ErrorCode.SERVICE_UNAVAILABLE

    def __init__(self) -> None:
        super().__init__("The audit trail cannot be written just now, so the request was refused.")


async def record(
    driver: AsyncDriver,
    *,
    database: str,
    principal: Principal,
    operation: str,
    customer_ids: Iterable[str],
    fields: Iterable[str],
    request_id: str,
    client_address: str | None,
) -> str:
    """Write one AuditEvent in its own write transaction; return its id or raise."""
    event_id = uuid.uuid4().hex
    try:
        async with driver.session(database=database) as session:
            await session.execute_write(
                q.record_event,
                event_id=event_id,
                at=dt.datetime.now(dt.UTC),
                subject=principal.subject,
                roles=sorted(r.value for r in principal.roles),
                customer_ids=sorted(set(customer_ids)),
                operation=operation,
                fields=sorted(set(fields)),
                request_id=request_id,
                client_address=client_address,
            )
    except Exception as exc:  # any failure: the read must not be answered unrecorded
        log.error("audit write failed (%s); refusing request %s", type(exc).__name__, request_id)
        raise AuditUnavailable() from exc
    return event_id
