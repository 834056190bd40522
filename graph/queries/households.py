"""A household with every member, current and former, and the caller's access to each.

The household opens when one of its current members is in the caller's direct scope, or, once
nobody is left in it, when the caller may read everyone who ever was (a former member alone does
not open the household they left). Which members are shown, and how, is the resolver's part
(resolvers/households.py): the query marks each with ``access`` as the scope fragment says.
"""

from __future__ import annotations

from graph.queries.scope import ACCESS_EXPR

# A household the caller may open, from its members' access (``members`` as collected below).
OPENS = """
any(m IN members WHERE m.access = 'direct' AND m.ended_at IS NULL)
OR (none(m IN members WHERE m.ended_at IS NULL)
    AND any(m IN members WHERE m.access = 'direct')
    AND all(m IN members WHERE m.access IS NOT NULL))"""

_HOUSEHOLD = """
MATCH (h:Household {household_id: $household_id})
CALL (h) {
  MATCH (c:Customer)-[r:MEMBER_OF]->(h)
  RETURN collect(c {.customer_id, .name, .tier, role: r.role, since: r.since,
                    ended_at: r.ended_at, access: %s}) AS members
}
WITH h, members WHERE %s
RETURN h {.household_id, .name, .aum, .tier} AS household, members
"""
HOUSEHOLD_QUERIES = {scope: _HOUSEHOLD % (access, OPENS) for scope, access in ACCESS_EXPR.items()}
