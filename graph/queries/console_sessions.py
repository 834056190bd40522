"""Console sign-in state: a ``ConsoleLogin`` per sign-in in progress (state, PKCE verifier,
nonce; single use, minutes) and a ``ConsoleSession`` per signed-in browser (its sealed tokens).

Both are found by ``key``, a keyed hash of the browser's random cookie value (never the value
itself); times are epoch seconds. Expired nodes are never returned and are purged in batches.
"""

from __future__ import annotations

from typing import Any

from neo4j import AsyncManagedTransaction

CREATE_LOGIN = """
CREATE (:ConsoleLogin {key: $key, sealed: $sealed, created_at: $now, expires_at: $expires_at})
"""

# Single use: the callback takes the login and deletes it in the same transaction.
TAKE_LOGIN = """
MATCH (l:ConsoleLogin {key: $key})
WITH l, l.sealed AS sealed, l.expires_at > $now AS live
DELETE l
RETURN sealed, live
"""

CREATE_SESSION = """
CREATE (:ConsoleSession {
  key: $key, sealed: $sealed, subject: $subject, created_at: $now, updated_at: $now,
  expires_at: $expires_at
})
"""

GET_SESSION = """
MATCH (s:ConsoleSession {key: $key})
WHERE s.expires_at > $now
RETURN s.sealed AS sealed, s.subject AS subject, s.expires_at AS expires_at
"""

# After a refresh: only while the session still exists (a concurrent sign-out wins).
UPDATE_SESSION_TOKENS = """
MATCH (s:ConsoleSession {key: $key})
WHERE s.expires_at > $now
SET s.sealed = $sealed, s.updated_at = $now
RETURN count(s) AS updated
"""

DELETE_SESSION = """
MATCH (s:ConsoleSession {key: $key})
DELETE s
RETURN count(*) AS deleted
"""

PURGE_EXPIRED = """
CALL () {
  MATCH (s:ConsoleSession) WHERE s.expires_at <= $now RETURN s AS n LIMIT $limit
  UNION
  MATCH (l:ConsoleLogin) WHERE l.expires_at <= $now RETURN l AS n LIMIT $limit
}
DELETE n
RETURN count(*) AS purged
"""


async def create_login(
    tx: AsyncManagedTransaction, *, key: str, sealed: str, now: int, expires_at: int
) -> None:
    await (
        await tx.run(CREATE_LOGIN, key=key, sealed=sealed, now=now, expires_at=expires_at)
    ).consume()


async def take_login(tx: AsyncManagedTransaction, *, key: str, now: int) -> str | None:
    """The sealed login data if it existed and had not expired; it is gone either way."""
    record = await (await tx.run(TAKE_LOGIN, key=key, now=now)).single()
    return record["sealed"] if record and record["live"] else None


async def create_session(
    tx: AsyncManagedTransaction,
    *,
    key: str,
    sealed: str,
    subject: str,
    now: int,
    expires_at: int,
) -> None:
    result = await tx.run(
        CREATE_SESSION, key=key, sealed=sealed, subject=subject, now=now, expires_at=expires_at
    )
    await result.consume()


async def get_session(tx: AsyncManagedTransaction, *, key: str, now: int) -> dict[str, Any] | None:
    record = await (await tx.run(GET_SESSION, key=key, now=now)).single()
    return dict(record) if record else None


async def update_session_tokens(
    tx: AsyncManagedTransaction, *, key: str, sealed: str, now: int
) -> bool:
    record = await (await tx.run(UPDATE_SESSION_TOKENS, key=key, sealed=sealed, now=now)).single()
    return bool(record and record["updated"])


async def delete_session(tx: AsyncManagedTransaction, *, key: str) -> bool:
    record = await (await tx.run(DELETE_SESSION, key=key)).single()
    return bool(record and record["deleted"])


async def purge_expired(tx: AsyncManagedTransaction, *, now: int, limit: int) -> int:
    record = await (await tx.run(PURGE_EXPIRED, now=now, limit=limit)).single()
    return int(record["purged"]) if record else 0
