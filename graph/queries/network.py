"""The relationship network around a customer: households, joint accounts and referrals.

Depth counts relationships (customer → household → spouse is 2). One constant per depth: Cypher
cannot take a variable-length bound as a parameter. Nodes come nearest first, capped at $cap;
``truncated`` says the cap cut the network.
"""

from __future__ import annotations

from graph.queries.scope import ACCESS_EXPR

MAX_DEPTH = 3

_NETWORK = """
MATCH (root:Customer {customer_id: $customer_id})
OPTIONAL MATCH p = (root)-[:MEMBER_OF|HOLDS|REFERRED*1..%d]-(n)
WHERE all(r IN relationships(p) WHERE type(r) IN $types)
  AND all(x IN nodes(p) WHERE NOT x:Account OR COUNT { (x)<-[:HOLDS]-(:Customer) } > 1)
  AND all(r IN relationships(p) WHERE type(r) <> 'MEMBER_OF' OR r.ended_at IS NULL)
WITH root, n, min(length(p)) AS distance
ORDER BY distance, elementId(n)
WITH root, collect(CASE WHEN n IS NULL OR n = root THEN NULL ELSE {node: n, distance: distance} END) AS found
WITH root, found[0..$cap - 1] AS kept, size(found) > $cap - 1 AS truncated
WITH root, truncated, [root] + [k IN kept | k.node] AS nodes,
     [{node: root, distance: 0}] + kept AS placed
CALL (nodes) {
  UNWIND nodes AS a
  MATCH (a)-[r:MEMBER_OF|HOLDS|REFERRED]->(b)
  WHERE b IN nodes AND type(r) IN $types
  RETURN collect(DISTINCT {source: coalesce(a.customer_id, a.household_id, a.account_id),
                           target: coalesce(b.customer_id, b.household_id, b.account_id),
                           type: type(r), role: r.role, ended_at: r.ended_at}) AS edges
}
UNWIND placed AS x
WITH truncated, edges, x, x.node AS c
WITH truncated, edges, x, c, CASE WHEN c:Customer THEN ACCESS ELSE 'direct' END AS access
RETURN truncated, edges,
       collect({
          id: coalesce(c.customer_id, c.household_id, c.account_id),
          kind: CASE WHEN c:Customer THEN 'CUSTOMER' WHEN c:Household THEN 'HOUSEHOLD'
                     ELSE 'ACCOUNT' END,
          distance: x.distance, access: access,
          name: c.name, tier: c.tier, product_type: c.product_type
       }) AS nodes
"""

# One constant per (depth, scope kind): depth bounds a variable-length pattern, and the scope
# kind marks which customer nodes the caller may open (the others are shown restricted).
NETWORK_QUERIES: dict[tuple[int, str], str] = {
    (depth, scope): (_NETWORK % depth).replace("ACCESS", access)
    for depth in range(1, MAX_DEPTH + 1)
    for scope, access in ACCESS_EXPR.items()
}
