"""The audit trail: one AuditEvent node per read of personal data and per write."""

from __future__ import annotations

import datetime as dt
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.session import Rows, all_rows

# Many events in one transaction (the API's group commit, auth/audit.py); a null is not stored.
RECORD_AUDIT_EVENTS = """
UNWIND $events AS event
CREATE (a:AuditEvent)
SET a = event
"""

# Newest first; the cursor is the (at, event_id) of the last event of the previous page.
LIST_AUDIT_EVENTS = """
MATCH (a:AuditEvent)
WHERE ($subject IS NULL OR a.subject = $subject)
  AND ($customer_id IS NULL OR $customer_id IN a.customer_ids)
  AND ($after_at IS NULL OR a.at < $after_at OR (a.at = $after_at AND a.event_id < $after_id))
RETURN a {.*} AS event
ORDER BY a.at DESC, a.event_id DESC
LIMIT $limit
"""

COUNT_AUDIT_EVENTS = """
MATCH (a:AuditEvent)
WHERE ($subject IS NULL OR a.subject = $subject)
  AND ($customer_id IS NULL OR $customer_id IN a.customer_ids)
RETURN count(a) AS total
"""


async def record_events(tx: AsyncManagedTransaction, events: list[dict[str, Any]]) -> None:
    result = await tx.run(RECORD_AUDIT_EVENTS, events=Rows(events))  # no reader data in debug
    summary = await result.consume()
    if summary.counters.nodes_created != len(events):
        raise RuntimeError("audit events not written")


async def list_events(
    tx: AsyncManagedTransaction,
    *,
    subject: str | None,
    customer_id: str | None,
    after_at: dt.datetime | None,
    after_id: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    params = {
        "subject": subject,
        "customer_id": customer_id,
        "after_at": after_at,
        "after_id": after_id,
        "limit": limit,
    }
    return [r["event"] for r in await all_rows(tx, query=LIST_AUDIT_EVENTS, params=params)]


async def count_events(
    tx: AsyncManagedTransaction, *, subject: str | None, customer_id: str | None
) -> int:
    params = {"subject": subject, "customer_id": customer_id}
    rows = await all_rows(tx, query=COUNT_AUDIT_EVENTS, params=params)
    return int(rows[0]["total"])
