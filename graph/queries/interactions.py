"""Interactions of a customer: the paginated timeline, and the writes of follow-ups, complaints
and surveys (their lifecycle is in graph/queries/complaints.py).

Every query here starts after a row-scope fragment has bound ``c``
(graph/queries/scope.py), so a caller only ever reads or writes interactions of customers in
their scope.
"""

from __future__ import annotations

import re

from graph.queries.scope import ACCESS_EXPR, ScopeKind
from graph.session import scoped

# Newest first; keyset on (occurred_at, interaction_id). $before_at/$before_id null on page one.
# One row per customer, its page a list: the customer once, not once per item. An item's
# temporals (TEMPORALS) go out as ISO text, overriding ``.*``'s values: the driver's hydration of
# a zoned DateTime costs more than the API's fromisoformat (resolvers/interactions.py).
TEMPORALS = (
    "occurred_at", "first_response_at", "resolved_at", "acknowledged_at", "closed_at",
    "reopened_at", "last_resolved_at",
)  # fmt: skip
_AS_TEXT = ", ".join(f"{k}: toString(i.{k})" for k in TEMPORALS)
INTERACTIONS_PAGE_TAIL = f"""
OPTIONAL MATCH (c)-[:HAD]->(i:Interaction)
WHERE ($channels IS NULL OR i.channel IN $channels)
  AND ($kinds IS NULL OR i.kind IN $kinds)
  AND ($from IS NULL OR i.occurred_at >= $from)
  AND ($to IS NULL OR i.occurred_at < $to)
WITH c, i
ORDER BY i.occurred_at DESC, i.interaction_id DESC
WITH c, collect(i) AS all_items
WITH c, size(all_items) AS total,
     [x IN all_items WHERE $before_at IS NULL OR x.occurred_at < $before_at
        OR (x.occurred_at = $before_at AND x.interaction_id < $before_id)] AS rest
RETURN c.customer_id AS customer_id, total, size(rest) > $limit AS has_next,
       [i IN rest[0..$limit] | i {{.*, {_AS_TEXT},
         handler: COLLECT {{ MATCH (i)-[:HANDLED_BY]->(e:Employee)
                             RETURN e {{.employee_id, .name}} AS e ORDER BY e.employee_id LIMIT 1 }},
         progress: COLLECT {{ MATCH (i)-[:HAS_PROGRESS]->(p:ComplaintProgress)
                             RETURN p {{.*}} AS note ORDER BY note.at, note.note }}}}] AS items,
       c {{.customer_id, .name, .phone, .email, .address, .city, .national_id_last4}} AS customer
"""
# The first page inside a profile query (graph/queries/customers.py): the same page as a part
# of the profile's row, so a profile that shows its latest interactions is one round trip. Its
# parameters are the page's, prefixed ``timeline_`` (they must not meet the profile's).
PROFILE_TIMELINE_PART = (
    "\nCALL (c) {\nCALL (c) {"
    + re.sub(r"\$(\w+)", r"$timeline_\1", INTERACTIONS_PAGE_TAIL)
    + "}\nRETURN {total: total, has_next: has_next, items: items, customer: customer} AS timeline\n}"
)

# The timelines of several customers in one query (the DataLoader's batch): the scope admits each
# customer of $customer_ids, then the page above runs per customer.
INTERACTIONS_PAGES: dict[ScopeKind, str] = {
    scope: f"""
UNWIND $customer_ids AS wanted
MATCH (c:Customer {{customer_id: wanted}})
WITH c, {access} AS access WHERE access IS NOT NULL
CALL (c) {{{INTERACTIONS_PAGE_TAIL}}}
RETURN customer_id, total, has_next, items, customer
"""
    for scope, access in ACCESS_EXPR.items()
}


# Writes change only customers the caller serves directly (not a referral hop).
DIRECT = "WITH c, access WHERE access = 'direct'\n"


def for_direct_customer(scope: ScopeKind, tail: str) -> str:
    """``tail`` after the scope fragment of ``scope``, for a customer the caller serves directly."""
    return scoped(scope, DIRECT + tail)


# A new interaction; a retry never gets here (resolvers/writes.py answers it from its key).
LOG_INTERACTION_TAIL = """
CREATE (i:Interaction {interaction_id: $interaction_id})
SET i += $props
CREATE (c)-[:HAD]->(i)
WITH c, i
OPTIONAL MATCH (e:Employee {employee_id: $handled_by})
FOREACH (_ IN CASE WHEN e IS NULL THEN [] ELSE [1] END | CREATE (i)-[:HANDLED_BY]->(e))
RETURN c.customer_id AS customer_id, i {.*, handled_by: e.employee_id} AS item,
       c {.customer_id, .name, .phone, .email, .address, .city, .national_id_last4} AS customer
"""

# The interaction a replay answers with: the one its first request created, on that customer.
INTERACTION_TAIL = """
MATCH (c)-[:HAD]->(i:Interaction {interaction_id: $interaction_id})
OPTIONAL MATCH (i)-[:HANDLED_BY]->(e:Employee)
RETURN c.customer_id AS customer_id, i {.*, handled_by: e.employee_id} AS item,
       c {.customer_id, .name, .phone, .email, .address, .city, .national_id_last4} AS customer
"""
