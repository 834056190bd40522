"""The relationship network around a customer: households, joint accounts and referrals.

Breadth first, one level per relationship (customer → household → spouse is depth 2), and only
through what the caller may read: every node found gets the caller's ``access`` (a customer by
the scope fragment; a household when a current member is in the direct scope, as household(id)
opens it; a joint account when a holder is in scope), and only readable nodes are followed
further. The nodes beyond the scope are found as neighbours of readable ones and end the path.
Current household memberships only. Nodes come nearest first, capped at $cap; ``truncated``
says the cap cut the network. One constant per (depth, scope kind): the levels are unrolled,
and the scope fragment binds ``c``.
"""

from __future__ import annotations

from typing import Any

from graph.queries.scope import ACCESS_EXPR, ScopeKind
from graph.session import one_row, scoped

MAX_DEPTH = 3

_START = """
MATCH (c:Customer {customer_id: $customer_id})
WITH [c] AS seen, [c] AS frontier, [{node: c, distance: 0, access: ACCESS}] AS found
"""

_LEVEL = """
CALL (seen, frontier) {
  UNWIND frontier AS a
  MATCH (a)-[r:MEMBER_OF|HOLDS|REFERRED]-(n)
  WHERE type(r) IN $types AND r.ended_at IS NULL AND NOT n IN seen
    AND (NOT n:Account OR COUNT { (n)<-[:HOLDS]-(:Customer) } > 1)
  WITH DISTINCT n
  CALL (n) {
    WITH n AS c WHERE c:Customer
    RETURN ACCESS AS access
    UNION
    WITH n AS x WHERE NOT x:Customer
    MATCH (c:Customer)-[r:MEMBER_OF|HOLDS]->(x) WHERE r.ended_at IS NULL
    WITH x, collect(ACCESS) AS linked
    RETURN CASE WHEN 'direct' IN linked OR (x:Account AND size(linked) > 0) THEN 'direct' END
           AS access
  }
  RETURN collect({node: n, access: access}) AS level
}
WITH seen + [x IN level | x.node] AS seen,
     found + [x IN level | {node: x.node, distance: DISTANCE, access: x.access}] AS found,
     [x IN level WHERE x.access IS NOT NULL | x.node] AS frontier
"""

# Edges only between kept nodes; endpoints by element id, which never leaves the API (the
# resolver shows real ids for readable nodes and opaque ones for the others).
_END = """
UNWIND found AS x
WITH x ORDER BY x.distance, elementId(x.node)
WITH collect(x) AS found
WITH found[0..$cap] AS kept, size(found) > $cap AS truncated
CALL (kept) {
  WITH [k IN kept | k.node] AS nodes
  UNWIND nodes AS a
  MATCH (a)-[r:MEMBER_OF|HOLDS|REFERRED]->(b)
  WHERE b IN nodes AND type(r) IN $types AND r.ended_at IS NULL
  RETURN collect(DISTINCT {source: elementId(a), target: elementId(b), type: type(r),
                           role: r.role}) AS edges
}
UNWIND kept AS x
WITH truncated, edges, x, x.node AS n
CALL (n) {
  MATCH (c:Customer)-[:MEMBER_OF]->(n) WHERE n.name CONTAINS c.name
  RETURN collect({name: c.name, access: ACCESS}) AS people
}
RETURN truncated, edges,
       collect({
          key: elementId(n),
          id: coalesce(n.customer_id, n.household_id, n.account_id),
          kind: CASE WHEN n:Customer THEN 'CUSTOMER' WHEN n:Household THEN 'HOUSEHOLD'
                     ELSE 'ACCOUNT' END,
          distance: x.distance, access: x.access,
          name: n.name, tier: n.tier, product_type: n.product_type, people: people
       }) AS nodes
"""


def _network(depth: int, access: str) -> str:
    levels = "".join(_LEVEL.replace("DISTANCE", str(k)) for k in range(1, depth + 1))
    return (_START + levels + _END).replace("ACCESS", access)


NETWORK_QUERIES: dict[tuple[int, str], str] = {
    (depth, scope): _network(depth, access)
    for depth in range(1, MAX_DEPTH + 1)
    for scope, access in ACCESS_EXPR.items()
}


async def fetch_network(
    tx: Any, *, scope: ScopeKind, depth: int, params: dict[str, Any]
) -> dict[str, Any] | None:
    """The network around ``$customer_id`` (nodes, edges, truncated), or None when the caller
    may not see that customer."""
    if await one_row(tx, query=scoped(scope, "RETURN access"), params=params) is None:
        return None
    return await one_row(tx, query=NETWORK_QUERIES[(depth, scope)], params=params)
