"""Interactions of a customer: the paginated timeline, and the writes of follow-ups, complaints
and surveys (their lifecycle is in graph/queries/complaints.py).

Every query here starts after a row-scope fragment has bound ``c``
(graph/queries/scope.py), so a caller only ever reads or writes interactions of customers in
their scope.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

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
# What an item carries beyond its own properties, each fetched only when the selection shows it
# (a subquery per item: at 100 items, 100 expansions each).
ITEM_PARTS: dict[str, str] = {
    "handler": """handler: COLLECT { MATCH (i)-[:HANDLED_BY]->(e:Employee)
                            RETURN e {.employee_id, .name} AS e ORDER BY e.employee_id LIMIT 1 }""",
    "progress": """progress: COLLECT { MATCH (i)-[:HAS_PROGRESS]->(p:ComplaintProgress)
                            RETURN p {.*} AS note ORDER BY note.at, note.note }""",
}
EVERY_ITEM_PART = frozenset(ITEM_PARTS)
# GraphQL field of Interaction -> the part it needs.
ITEM_FIELD_PARTS = {"handledBy": "handler", "progress": "progress"}


# GraphQL field of Interaction -> the stored key it shows as stored (None: it needs none of the
# item's own keys). A selection of only these fields projects its items key by key (markers
# ``key.<key>`` among the parts) instead of ``.*``: at a hundred items, the keys nobody asked
# for (the content hash, the complaint's fields) are neither sent nor decoded. Any other field
# (a service level, a status, a due time: derived from several keys) takes ``.*``.
PLAIN_ITEM_FIELDS: dict[str, str | None] = {
    "id": "interaction_id", "channel": "channel", "kind": "kind", "occurredAt": "occurred_at",
    "summary": "summary", "outcome": "outcome", "satisfaction": "satisfaction", "nps": "nps",
    "severity": "severity", "category": "category", "causeType": "cause_type",
    "causeSubtype": "cause_subtype", "acknowledgedBy": "acknowledged_by",
    "nextStep": "next_step", "nextStepDue": "next_step_due", "customerId": None,
    "customerName": None, "handledBy": None, "progress": None, "__typename": None,
}  # fmt: skip
ITEM_KEY_PREFIX = "key."
# What the resolver reads of every item whatever is shown: the cursor's (occurred_at,
# interaction_id), and the kind that says whether it is a tracked item.
_ITEM_KEYS_ALWAYS = ("interaction_id", "occurred_at", "kind")
# Query texts kept per builder: item selections combine keys in many ways (LRU, bounded).
ITEM_QUERY_TEXTS = 256


def item_parts_for(fields: Iterable[str]) -> frozenset[str]:
    """The item parts a selection of Interaction fields needs (GraphQL names), with the markers
    of its keys when it shows only PLAIN_ITEM_FIELDS."""
    fields = set(fields)
    parts = {ITEM_FIELD_PARTS[f] for f in fields if f in ITEM_FIELD_PARTS}
    if fields <= PLAIN_ITEM_FIELDS.keys():
        keys = {*_ITEM_KEYS_ALWAYS, *(PLAIN_ITEM_FIELDS[f] for f in fields)} - {None}
        parts |= {f"{ITEM_KEY_PREFIX}{key}" for key in keys}
    return frozenset(parts)


def parts_cover(fetched: frozenset[str], wanted: frozenset[str]) -> bool:
    """Whether items fetched with ``fetched`` hold what ``wanted`` needs: its parts, and its keys
    (no markers: every key, which only a page fetched without markers holds)."""
    keys = {p for p in wanted if p.startswith(ITEM_KEY_PREFIX)}
    held = {p for p in fetched if p.startswith(ITEM_KEY_PREFIX)}
    if not (wanted - keys) <= (fetched - held):
        return False
    return not held or (bool(keys) and keys <= held)


def _item_projection(parts: frozenset[str]) -> str:
    """An item's map: its keys as marked in ``parts`` (all of them, ``.*``, without markers),
    temporals as text."""
    keys = {p.removeprefix(ITEM_KEY_PREFIX) for p in parts if p.startswith(ITEM_KEY_PREFIX)}
    if not keys:
        return f".*, {_AS_TEXT}"
    return ", ".join(f"{k}: toString(i.{k})" if k in TEMPORALS else f".{k}" for k in sorted(keys))


@lru_cache(maxsize=ITEM_QUERY_TEXTS)
def page_tail(parts: frozenset[str] = EVERY_ITEM_PART, prefix: str = "") -> str:
    """The page of the bound customer ``c``, its items with ``parts``; the parameters' names
    start with ``prefix``."""
    extra = "".join(f",\n         {ITEM_PARTS[name]}" for name in ITEM_PARTS if name in parts)
    tail = f"""
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
       [i IN rest[0..$limit] | i {{{_item_projection(parts)}{extra}}}] AS items,
       c {{.customer_id, .name, .phone, .email, .address, .city, .national_id_last4}} AS customer
"""
    return re.sub(r"\$(\w+)", rf"${prefix}\1", tail) if prefix else tail


# The first page inside a profile query (graph/queries/customers.py): the same page as a part
# of the profile's row, so a profile that shows its latest interactions is one round trip. Its
# parameters are the page's, prefixed ``timeline_`` (they must not meet the profile's).
PROFILE_TIMELINE_PREFIX = "timeline_"


def profile_timeline_part(parts: frozenset[str]) -> str:
    return (
        f"\nCALL (c) {{\nCALL (c) {{{page_tail(parts, PROFILE_TIMELINE_PREFIX)}}}\n"
        "RETURN {total: total, has_next: has_next, items: items, customer: customer} AS timeline\n}"
    )


@lru_cache(maxsize=ITEM_QUERY_TEXTS)
def pages_query(scope: ScopeKind, parts: frozenset[str] = EVERY_ITEM_PART) -> str:
    """The timelines of several customers in one query (the DataLoader's batch): the scope admits
    each customer of $customer_ids, then the page above runs per customer."""
    return f"""
UNWIND $customer_ids AS wanted
MATCH (c:Customer {{customer_id: wanted}})
WITH c, {ACCESS_EXPR[scope]} AS access WHERE access IS NOT NULL
CALL (c) {{{page_tail(parts)}}}
RETURN customer_id, total, has_next, items, customer
"""


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
