"""Follow-ups due and follow-up coverage: when each planned customer of the caller's scope was
last contacted, and when the next contact is due (plans in core/followups.toml).

The caller's customers are chosen by the row-scope fragments by name (graph/queries/scope.py,
and the candidate sets of graph/queries/search.py), never copied: an RM's book (the customers
they manage), a branch manager's branch, everything for the bank-wide roles. Only customers the
caller reaches directly count; a referral hop is nobody's follow-up.

A contact is an interaction of a counted kind or channel, not of a kind that never counts; the
due date is the last contact's day (UTC) plus the tier's interval, or, never contacted, the
onboarding day plus the interval, or without that the as-of day (core.followups.due_date says
the same in Python).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.queries.customers import EVERY_PART, QUERY_TEXTS, details, row
from graph.queries.scope import ACCESS_EXPR, ScopeKind
from graph.queries.search import SCOPED_ALL
from graph.session import all_rows

# Where the customers of each scope are looked for (the scope expression still decides): an RM's
# book is the customers they manage, not the households and referrals their scope also reaches.
CANDIDATES: dict[ScopeKind, str] = {
    ScopeKind.BOOK: "MATCH (:Employee {employee_id: $employee_id})-[:MANAGES]->(c:Customer)",
    ScopeKind.BRANCH: SCOPED_ALL[ScopeKind.BRANCH],
    ScopeKind.ANY: "MATCH (c:Customer) WHERE c.tier IN $planned_tiers",  # the tier index
}

_PLANNED = """
WITH c, {access} AS access
WHERE access = 'direct' AND c.tier IN $planned_tiers
CALL (c) {{
  OPTIONAL MATCH (c)-[:HAD]->(i:Interaction)
  WHERE i.occurred_at < $until
    AND (i.kind IN $contact_kinds OR i.channel IN $contact_channels)
    AND NOT coalesce(i.kind, '') IN $never_kinds
  RETURN max(i.occurred_at) AS last_contact
}}
WITH c, access, last_contact, $intervals[c.tier] AS interval_days
WITH c, access, last_contact, interval_days,
     CASE WHEN last_contact IS NOT NULL THEN date(last_contact) + duration({{days: interval_days}})
          WHEN c.onboarded_at IS NOT NULL
            THEN date(c.onboarded_at) + duration({{days: interval_days}})
          ELSE $as_of END AS due
"""


def planned(scope: ScopeKind) -> str:
    """Binds ``c``, ``access``, ``last_contact``, ``interval_days`` and ``due`` for every planned
    customer the caller reaches directly."""
    return CANDIDATES[scope] + _PLANNED.format(access=ACCESS_EXPR[scope])


# Most overdue first (due date, then customer id); keyset on (due, customer_id).
_DUE_FILTER = "WHERE due <= $horizon\n"


@lru_cache(maxsize=QUERY_TEXTS)
def due_page_query(scope: ScopeKind, parts: frozenset[str] = EVERY_PART) -> str:
    """One page of the due list with the customer profile parts the selection asks for."""
    return f"""
{planned(scope)}{_DUE_FILTER}
WITH c, access, last_contact, interval_days, due
WHERE $after_id IS NULL OR due > $after_due OR (due = $after_due AND c.customer_id > $after_id)
WITH c, access, last_contact, interval_days, due
ORDER BY due, c.customer_id
LIMIT $limit
{details(parts, scope)}
RETURN {row(parts)} AS customer, access, c.tier AS tier, last_contact, due,
       interval_days, c.customer_id AS customer_id
ORDER BY due, customer_id
"""


DUE_COUNT: dict[ScopeKind, str] = {
    scope: f"{planned(scope)}{_DUE_FILTER}RETURN count(c) AS total" for scope in CANDIDATES
}

# Per planned tier: customers, those contacted within their interval (not overdue, and
# contacted at all: a new customer never contacted is not covered, though not yet overdue).
COVERAGE: dict[ScopeKind, str] = {
    scope: f"""{planned(scope)}
RETURN c.tier AS tier, count(c) AS customers,
       count(CASE WHEN last_contact IS NOT NULL AND due >= $as_of THEN 1 END) AS covered,
       count(CASE WHEN due < $as_of THEN 1 END) AS overdue
"""
    for scope in CANDIDATES
}


async def fetch_due_page(
    tx: AsyncManagedTransaction, *, page_query: str, count_query: str, params: dict[str, Any]
) -> tuple[list[dict[str, Any]], int]:
    """One page of the due list and the count of everything on it, in one read."""
    rows = await all_rows(tx, query=page_query, params=params)
    total = (await (await tx.run(count_query, params)).single(strict=True))["total"]
    return rows, total
