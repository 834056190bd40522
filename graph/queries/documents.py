"""Trusted documents: the persisted operations channel teams register ahead of time (``c360
documents register``), one ``TrustedDocument`` per document, found by ``id`` (the SHA-256 of
its text). Every API replica loads them (c360/http/persisted.py)."""

from __future__ import annotations

from typing import Any

from graph.session import all_rows

# Registering again is harmless: the text of an id never changes (the id is its hash); the name,
# the type and the manifest it came from are updated, the first registration time kept.
REGISTER = """
UNWIND $documents AS d
MERGE (t:TrustedDocument {id: d.id})
WITH t, d, t.registered_at IS NULL AS added
SET t.registered_at = coalesce(t.registered_at, $now), t.updated_at = $now, t.name = d.name,
    t.type = d.type, t.body = d.body, t.manifest = $manifest
RETURN sum(CASE WHEN added THEN 1 ELSE 0 END) AS added, count(*) AS registered
"""

LIST = """
MATCH (t:TrustedDocument)
RETURN t.id AS id, t.name AS name, t.type AS type, t.body AS body, t.manifest AS manifest,
       t.registered_at AS registered_at
ORDER BY t.name, t.id
LIMIT $limit
"""


async def registered(tx: Any, *, limit: int) -> list[dict[str, Any]]:
    """Transaction work: the registered documents (at most ``limit``), by name."""
    return await all_rows(tx, query=LIST, params={"limit": limit})


REMOVE = """
UNWIND $ids AS id
MATCH (t:TrustedDocument {id: id})
WITH t, t.id AS removed
DETACH DELETE t
RETURN collect(removed) AS removed
"""
