"""The customers connection: search, filters, stable keyset ordering, scoped by the caller.

Queries are assembled at import time from the constants below only (mode × sort key × direction
× scope); user input arrives as parameters. Search modes: by customer id, by phone (normalised
digits) and by name through the full-text index (a phrase query, so 张伟 matches the two
characters together).
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import Any

from neo4j import AsyncManagedTransaction

from core.search import SearchMode
from graph.queries.customers import EVERY_PART, QUERY_TEXTS, details, row
from graph.queries.scope import ACCESS_EXPR, SCOPE_CANDIDATES, ScopeKind, in_branch
from graph.session import all_rows


class SortKey(StrEnum):
    CUSTOMER_ID = "CUSTOMER_ID"
    NAME = "NAME"
    AUM = "AUM"
    VALUE_SCORE = "VALUE_SCORE"
    DOWNGRADE_RISK = "DOWNGRADE_RISK"
    # Orders of the fixed lists only (atRiskCustomers by kind), not offered as CustomerSort.
    CHURN_RISK = "CHURN_RISK"
    ANY_RISK = "ANY_RISK"


MATCHES: dict[SearchMode, str] = {
    SearchMode.ALL: "MATCH (c:Customer)",
    SearchMode.ID: "MATCH (c:Customer {customer_id: $term})",
    SearchMode.PHONE: "MATCH (c:Customer {phone: $term})",
    SearchMode.NAME: (
        "CALL db.index.fulltext.queryNodes('customer_name_fulltext', $term) YIELD node AS c"
    ),
}

# Listing everything a scoped caller may see starts from the caller's own customers, not from
# every customer: ACCESS_EXPR below still decides the access of each candidate. These are
# supersets of the customers the scope admits (found at bank size: scanning all 1,000,000
# customers for an RM's at-risk list took 60 s; from the book it is a few hundred rows).
SCOPED_ALL: dict[ScopeKind, str] = SCOPE_CANDIDATES  # graph/queries/scope.py


def _match(mode: SearchMode, scope: ScopeKind) -> str:
    if mode is SearchMode.ALL and scope in SCOPED_ALL:
        return SCOPED_ALL[scope]
    return MATCHES[mode]


# The churn level as a rank (the scoring job stores a rank for the downgrade risk only).
_CHURN_RANK = (
    "CASE c.churn_risk_level WHEN 'HIGH' THEN 3 WHEN 'MEDIUM' THEN 2 WHEN 'LOW' THEN 1 ELSE 0 END"
)

SORT_EXPRESSIONS: dict[SortKey, str] = {
    SortKey.CUSTOMER_ID: "c.customer_id",
    SortKey.NAME: "coalesce(c.name, '')",
    SortKey.AUM: "coalesce(c.aum, 0.0)",
    SortKey.VALUE_SCORE: "coalesce(c.value_score, 0.0)",
    SortKey.DOWNGRADE_RISK: "coalesce(c.downgrade_risk_rank, 0)",
    SortKey.CHURN_RISK: _CHURN_RANK,
    SortKey.ANY_RISK: f"CASE WHEN coalesce(c.downgrade_risk_rank, 0) > {_CHURN_RANK} "
    f"THEN c.downgrade_risk_rank ELSE {_CHURN_RANK} END",
}

# ``$branch`` (CustomerFilter.branchId): the customers of that branch as a branch manager's scope
# defines them (scope.in_branch).
FILTERS = (
    """
  AND ($tiers IS NULL OR c.tier IN $tiers)
  AND ($segments IS NULL OR c.segment IN $segments)
  AND ($cities IS NULL OR c.city IN $cities)
  AND ($statuses IS NULL OR c.status IN $statuses)
  AND ($risk_levels IS NULL OR c.downgrade_risk_level IN $risk_levels)
  AND ($branch IS NULL OR """
    + in_branch("branch")
    + """)
  AND ($rm IS NULL OR EXISTS { (:Employee {employee_id: $rm})-[:MANAGES]->(c) })
  AND ($unassigned IS NULL OR EXISTS { (:Employee)-[:MANAGES]->(c) } <> $unassigned)
  AND ($churn_levels IS NULL OR c.churn_risk_level IN $churn_levels)
  AND ($stages IS NULL OR c.lifecycle_stage IN $stages)
  AND (($tier_since IS NULL AND $tier_direction IS NULL) OR EXISTS {
        MATCH (t:TierChange)-[:OF]->(c)
        WHERE ($tier_since IS NULL OR t.changed_at >= $tier_since)
          AND ($tier_direction IS NULL OR t.direction = $tier_direction) })
  AND ($any_risk IS NULL OR c.downgrade_risk_level IN $any_risk
       OR c.churn_risk_level IN $any_risk)
  AND ($win_back_since IS NULL OR EXISTS {
        MATCH (t:TierChange {direction: 'DOWN'})-[:OF]->(c)
        WHERE $win_back_since <= t.changed_at <= $win_back_until
          AND NOT EXISTS { MATCH (u:TierChange {direction: 'UP'})-[:OF]->(c)
                           WHERE t.changed_at < u.changed_at <= $win_back_until } })
  AND ($direct_only IS NULL OR access = 'direct')
"""
)


@lru_cache(maxsize=QUERY_TEXTS)
def page_query(
    mode: SearchMode,
    key: SortKey,
    descending: bool,
    scope: ScopeKind,
    parts: frozenset[str] = EVERY_PART,
) -> str:
    """One page of customers with the profile parts the selection asks for."""
    expr = SORT_EXPRESSIONS[key]
    cmp, direction = ("<", "DESC") if descending else (">", "ASC")
    return f"""
{_match(mode, scope)}
WITH c, {ACCESS_EXPR[scope]} AS access
WHERE access IS NOT NULL {FILTERS}
WITH c, access, {expr} AS k
WHERE $after_id IS NULL OR k {cmp} $after_k OR (k = $after_k AND c.customer_id {cmp} $after_id)
WITH c, access, k
ORDER BY k {direction}, c.customer_id {direction}
LIMIT $limit
{details(parts, scope)}
RETURN {row(parts)} AS customer, access, k AS sort_value, c.customer_id AS customer_id
ORDER BY sort_value {direction}, customer_id {direction}
"""


def _count(mode: SearchMode, scope: ScopeKind) -> str:
    return f"""
{_match(mode, scope)}
WITH c, {ACCESS_EXPR[scope]} AS access
WHERE access IS NOT NULL {FILTERS}
RETURN count(c) AS total
"""


COUNT_QUERIES: dict[tuple[SearchMode, ScopeKind], str] = {
    (mode, scope): _count(mode, scope) for mode in SearchMode for scope in ACCESS_EXPR
}


async def fetch_page(
    tx: AsyncManagedTransaction, *, page_query: str, count_query: str, params: dict[str, Any]
) -> tuple[list[dict[str, Any]], int]:
    """One page of customers and the count of all that match, in one read."""
    rows = await all_rows(tx, query=page_query, params=params)
    # an aggregate without grouping keys: always exactly one row
    total = (await (await tx.run(count_query, params)).single(strict=True))["total"]
    return rows, total
