"""Reads of the customer aggregate."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncManagedTransaction

CUSTOMER_PROFILE = """
MATCH (c:Customer {customer_id: $customer_id})
OPTIONAL MATCH (c)-[m:MEMBER_OF]->(h:Household)
WITH c, collect(h {.household_id, .name, role: m.role, since: m.since, ended_at: m.ended_at})[0] AS household
CALL (c) {
  OPTIONAL MATCH (c)-[r:HOLDS]->(a:Account)
  OPTIONAL MATCH (a)-[:OF_PRODUCT]->(p:Product)
  RETURN collect(CASE WHEN a IS NULL THEN NULL ELSE a {.*, holder_role: r.role,
         product_name: p.name, product_category: p.category} END) AS accounts
}
RETURN c {.*} AS customer, accounts, household
"""


async def fetch_profile(tx: AsyncManagedTransaction, *, customer_id: str) -> dict[str, Any] | None:
    result = await tx.run(CUSTOMER_PROFILE, customer_id=customer_id)
    record = await result.single()
    if record is None:
        return None
    return {**record["customer"], "accounts": record["accounts"], "household": record["household"]}
