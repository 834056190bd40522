"""A household with its current and former members (after a scope fragment has bound ``c``)."""

from __future__ import annotations

from graph.queries.scope import ACCESS_EXPR

# The household is reached through a member the caller may see (the scope binds c to it).
HOUSEHOLD_TAIL = """
MATCH (c)-[:MEMBER_OF]->(h:Household {household_id: $household_id})
WITH h LIMIT 1
CALL (h) {
  MATCH (m:Customer)-[r:MEMBER_OF]->(h)
  RETURN collect(m {.customer_id, .name, .tier, .aum, role: r.role, since: r.since,
                    ended_at: r.ended_at}) AS members
}
RETURN h {.*} AS household, members
"""

# The household is visible when one of its members is: members are checked in one query.
_VISIBLE_MEMBER = """
MATCH (c:Customer)-[:MEMBER_OF]->(:Household {household_id: $household_id})
WITH c, %s AS access WHERE access = 'direct'
WITH c LIMIT 1
"""
HOUSEHOLD_QUERIES = {
    scope: (_VISIBLE_MEMBER % access) + HOUSEHOLD_TAIL for scope, access in ACCESS_EXPR.items()
}
