"""Idempotency keys of the API's writes: one ``IdempotencyKey`` node per (caller, operation,
clientMutationId), holding the hash of the request's arguments and what a replay answers with.

A key is claimed and completed inside the write's own transaction, so it exists exactly when
its write (and that write's audit event) committed. MERGE on the uniquely constrained
``key_id`` (graph/migrate.py) makes a concurrent second request with the same key wait for the
first one's commit and then find its key.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.session import native

# A key created by this statement has no event_id yet; a key found has the first write's.
CLAIM_KEY = """
MERGE (k:IdempotencyKey {key_id: $key_id})
ON CREATE SET k.request_hash = $request_hash, k.operation = $operation, k.subject = $subject,
              k.created_at = $now
RETURN k {.*} AS key
"""

# What a replay needs beyond the arguments (e.g. the id of the interaction created), flat.
COMPLETE_KEY = """
MATCH (k:IdempotencyKey {key_id: $key_id})
SET k += $result, k.event_id = $event_id
"""


async def claim(
    tx: AsyncManagedTransaction,
    *,
    key_id: str,
    request_hash: str,
    operation: str,
    subject: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """The key as stored: just created (no ``event_id``) or an earlier request's."""
    result = await tx.run(
        CLAIM_KEY,
        key_id=key_id,
        request_hash=request_hash,
        operation=operation,
        subject=subject,
        now=now,
    )
    record = await result.single(strict=True)
    return native(dict(record["key"]))


async def complete(
    tx: AsyncManagedTransaction, *, key_id: str, event_id: str, result: dict[str, Any]
) -> None:
    await (await tx.run(COMPLETE_KEY, key_id=key_id, event_id=event_id, result=result)).consume()
