"""The one way the API writes: claim the idempotency key, do the write, record its audit event
and complete the key, all in one transaction, so all of it commits or none of it does.

A refused key, a customer out of scope or an audit event the database will not take raises
inside the transaction, which rolls back everything before it: no write without its event, no
event for a write that did not happen, and no key spent by a request that failed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from neo4j import AsyncManagedTransaction

from auth import audit
from core.errors import BadUserInput, NotFound
from graph.queries import idempotency as q
from resolvers.context import Context
from resolvers.idempotency import REUSED, IdempotencyKey


@dataclass(frozen=True)
class Written:
    row: dict[str, Any]
    customer_ids: list[str]
    # Stored on the key for a replay to answer with (flat: property values only).
    replay: dict[str, Any] = field(default_factory=dict)
    # More properties of the write's audit event (flat), e.g. the review a decision decided.
    audit: dict[str, Any] = field(default_factory=dict)


# work(tx, first): the write, or with ``first`` (the stored key of the request that already
# did it) the same answer without writing; None when the customer is not the caller's to change.
Work = Callable[[AsyncManagedTransaction, dict[str, Any] | None], Awaitable[Written | None]]


async def audited_write(
    ctx: Context,
    *,
    key: IdempotencyKey,
    fields: Iterable[str],
    work: Work,
    not_found: str,
    event_id: str | None = None,
) -> dict[str, Any]:
    """``event_id``: the audit event's id when the write stamps it on what it writes."""
    event = audit.new_event(
        principal=ctx.principal,
        operation=key.operation.value,
        customer_ids=[],
        fields=fields,
        request_id=ctx.request_id,
        client_address=ctx.client_address,
    )
    if event_id:
        event["event_id"] = event_id

    async def transaction(tx: AsyncManagedTransaction) -> dict[str, Any]:
        stored = await q.claim(
            tx,
            key_id=key.key_id,
            request_hash=key.request_hash,
            operation=key.operation.value,
            subject=ctx.principal.subject,
            now=event["at"],
        )
        if stored["request_hash"] != key.request_hash:
            raise BadUserInput(REUSED)
        first = stored if stored.get("event_id") else None
        done = await work(tx, first)
        if done is None:
            raise NotFound(not_found)
        # A replay writes nothing but still answers with customer data: recorded, marked as such.
        replay_of = first["event_id"] if first else None
        recorded = {
            **done.audit,
            **event,
            "customer_ids": sorted(set(done.customer_ids)),
            "replay_of": replay_of,
        }
        await audit.record_with_write(tx, recorded)
        if first is None:
            await q.complete(tx, key_id=key.key_id, event_id=event["event_id"], result=done.replay)
        return done.row

    result: dict[str, Any] = await ctx.write(transaction)
    return result
