"""Reads of the customer aggregate, always through a row-scope fragment (graph/queries/scope.py)."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncManagedTransaction

from graph.queries.scope import SCOPE_MATCH, ScopeKind

PROFILE_TAIL = """
OPTIONAL MATCH (c)-[m:MEMBER_OF]->(h:Household)
WITH c, access, collect(h {.household_id, .name, role: m.role, since: m.since, ended_at: m.ended_at})[0] AS household
CALL (c) {
  OPTIONAL MATCH (c)-[r:HOLDS]->(a:Account)
  OPTIONAL MATCH (a)-[:OF_PRODUCT]->(p:Product)
  RETURN collect(CASE WHEN a IS NULL THEN NULL ELSE a {.*, holder_role: r.role,
         product_name: p.name, product_category: p.category} END) AS accounts
}
RETURN c {.*, birth_year: c.birth_date.year} AS customer, accounts, household, access
"""

# One constant per scope kind: the scope fragment followed by the profile.
CUSTOMER_PROFILE: dict[ScopeKind, str] = {
    kind: fragment + PROFILE_TAIL for kind, fragment in SCOPE_MATCH.items()
}


async def fetch_profile(
    tx: AsyncManagedTransaction,
    *,
    scope: ScopeKind,
    customer_id: str,
    scope_params: dict[str, Any],
) -> dict[str, Any] | None:
    """The customer's profile row if the scope lets the caller see it, else None."""
    result = await tx.run(CUSTOMER_PROFILE[scope], customer_id=customer_id, **scope_params)
    record = await result.single()
    if record is None:
        return None
    return {
        **record["customer"],
        "accounts": record["accounts"],
        "household": record["household"],
        "access": record["access"],
    }
