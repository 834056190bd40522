"""The relationship network around a customer: households, joint accounts and referrals.

Depth counts relationships (customer → household → spouse is 2). One constant per depth: Cypher
cannot take a variable-length bound as a parameter. Nodes come nearest first, capped at $cap;
``truncated`` says the cap cut the network.
"""

from __future__ import annotations

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
RETURN truncated, edges,
       [x IN placed | {
          id: coalesce(x.node.customer_id, x.node.household_id, x.node.account_id),
          kind: CASE WHEN x.node:Customer THEN 'CUSTOMER' WHEN x.node:Household THEN 'HOUSEHOLD'
                     ELSE 'ACCOUNT' END,
          distance: x.distance,
          name: x.node.name, tier: x.node.tier, aum: x.node.aum,
          product_type: x.node.product_type, balance: x.node.balance
       }] AS nodes
"""

NETWORK_BY_DEPTH: dict[int, str] = {d: _NETWORK % d for d in range(1, MAX_DEPTH + 1)}
