"""Alerts, computed from the graph as of a date; their dismissals; the customers' tier history.

Nothing about an alert is stored but its dismissal. One query computes the alerts of every
customer the caller reaches directly (the scope fragments of graph/queries/scope.py and the
list starts of graph/queries/search.py, used by name), keeps the page after the keyset and
loads the page's customers with the parts their selection asks for (graph/queries/customers.py):
one round trip per page, whatever the number of customers or kinds.

Each kind is one branch of a ``CALL (c) { ... UNION ALL ... }`` over the customer ``c``; every
branch returns the same columns (kind, subject, due, due_at, amount, currency, days, within,
detail). Parameters: ``$as_of`` (a date), ``$kinds`` (null: all), ``$maturities`` (core/alerts.toml
as rows {kind, product_types, windows, days}), ``$birthday_days``, ``$tier_days``,
``$risk_rank`` (level -> rank), ``$urgency`` (kind -> rank), the service-level parameters of
graph/queries/complaints.SLA (``$now`` ...), ``$subject`` (whose dismissals hide alerts) and the
scope's parameters.
"""

from __future__ import annotations

from functools import lru_cache

from graph.queries.complaints import SLA, TRACKED
from graph.queries.customers import QUERY_TEXTS, details, row
from graph.queries.scope import ACCESS_EXPR, ScopeKind
from graph.queries.search import SCOPED_ALL

# The customers whose alerts a scope lists: those it reaches directly (a referral hop shows none).
LISTED: dict[ScopeKind, str] = {
    scope: f"""{SCOPED_ALL.get(scope, "MATCH (c:Customer)")}
WITH DISTINCT c
WITH c, {ACCESS_EXPR[scope]} AS access
WHERE access = 'direct'
"""
    for scope in ScopeKind
}
LISTED[ScopeKind.OWN] = f"""MATCH (c:Customer {{customer_id: $own_customer_id}})
WITH c, {ACCESS_EXPR[ScopeKind.OWN]} AS access
WHERE access = 'direct'
"""

# The customers an alert id may name ($customer_ids), when the caller reaches them directly.
BY_ID: dict[ScopeKind, str] = {
    scope: f"""MATCH (c:Customer) WHERE c.customer_id IN $customer_ids
WITH c, {ACCESS_EXPR[scope]} AS access
WHERE access = 'direct'
"""
    for scope in ScopeKind
}

_MATURITIES = """
  UNWIND [m IN $maturities WHERE $kinds IS NULL OR m.kind IN $kinds] AS m
  MATCH (c)-[h:HOLDS]->(a:Account)
  WHERE a.product_type IN m.product_types AND a.maturity_date IS NOT NULL
    AND coalesce(a.status, 'OPEN') <> 'CLOSED' AND h.ended_at IS NULL
  WITH m, a, date(a.maturity_date) AS due
  WITH m, a, due, duration.inDays($as_of, due).days AS days
  WHERE days >= 0 AND days <= m.days
  RETURN m.kind AS kind, a.account_id + ':' + toString(due) AS subject, due, null AS due_at,
         a.balance AS amount, a.currency AS currency, days,
         [w IN m.windows WHERE days <= w][0] AS within, {account: a.account_id} AS detail
"""

# The next birthday on or after the as-of date; 29 February is kept on 28 February in a year
# without one.
_BIRTHDAY = """
  WITH c WHERE ($kinds IS NULL OR 'BIRTHDAY' IN $kinds) AND c.birth_date IS NOT NULL
  WITH date(c.birth_date) AS born
  UNWIND [$as_of.year, $as_of.year + 1] AS year
  WITH born, year, born.month = 2 AND born.day = 29
       AND NOT (year % 4 = 0 AND (year % 100 <> 0 OR year % 400 = 0)) AS moved
  WITH born, date({year: year, month: born.month,
                   day: CASE WHEN moved THEN 28 ELSE born.day END}) AS next
  WHERE next >= $as_of
  WITH born, min(next) AS next
  WITH born, next, duration.inDays($as_of, next).days AS days
  WHERE days <= $birthday_days
  RETURN 'BIRTHDAY' AS kind, toString(next) AS subject, next AS due, null AS due_at,
         null AS amount, null AS currency, days, null AS within,
         {age: next.year - born.year} AS detail
"""

# The latest tier change of the review window (TierChange, written by scoring/job.py).
_TIER_CHANGED = """
  MATCH (t:TierChange)-[:OF]->(c)
  WHERE $kinds IS NULL OR 'TIER_CHANGED' IN $kinds
  WITH c, t, date(t.changed_at) AS changed
  WHERE changed <= $as_of AND duration.inDays(changed, $as_of).days <= $tier_days
  WITH c, t, changed ORDER BY changed DESC, t.change_id DESC LIMIT 1
  RETURN 'TIER_CHANGED' AS kind,
         toString(changed) + ':' + t.from_tier + '->' + t.to_tier AS subject, changed AS due,
         null AS due_at, t.aum AS amount, c.aum_currency AS currency,
         duration.inDays($as_of, changed).days AS days, null AS within,
         {from: t.from_tier, to: t.to_tier, direction: t.direction} AS detail
"""


def _risk_raised(kind: str, level: str) -> str:
    """A risk level of higher rank than the previous scoring run's (``previous_<level>``)."""
    return f"""
  WITH c WHERE ($kinds IS NULL OR '{kind}' IN $kinds)
    AND $risk_rank[c.{level}] > $risk_rank[c.previous_{level}]
  WITH c, coalesce(date(c.scored_as_of), date(c.scored_at), $as_of) AS scored
  WHERE scored <= $as_of
  RETURN '{kind}' AS kind,
         toString(scored) + ':' + c.previous_{level} + '->' + c.{level} AS subject,
         scored AS due, null AS due_at, null AS amount, null AS currency,
         duration.inDays($as_of, scored).days AS days, null AS within,
         {{from: c.previous_{level}, to: c.{level}}} AS detail
"""


# Tracked items (complaints, suggestions, questions) AT_RISK at $now (graph/queries/complaints.SLA,
# the queue's own definition).
_COMPLAINT_AT_RISK = f"""
  MATCH (c)-[:HAD]->(i:Interaction)
  WHERE ($kinds IS NULL OR 'COMPLAINT_AT_RISK' IN $kinds) AND i.kind IN {TRACKED}
  WITH c, i
{SLA}
  WITH i, sla, next_due WHERE sla = 'AT_RISK'
  RETURN 'COMPLAINT_AT_RISK' AS kind, i.interaction_id + ':' + toString(next_due) AS subject,
         date(next_due) AS due, next_due AS due_at, null AS amount, null AS currency,
         duration.inDays($as_of, date(next_due)).days AS days, null AS within,
         {{item: i.interaction_id, kind: i.kind, severity: coalesce(i.severity, 'MINOR')}}
           AS detail
"""

ALERTS_OF_C = (
    "CALL (c) {"
    + "  UNION ALL".join(
        (
            _MATURITIES,
            _BIRTHDAY,
            _TIER_CHANGED,
            _risk_raised("DOWNGRADE_RISK_RAISED", "downgrade_risk_level"),
            _risk_raised("CHURN_RISK_RAISED", "churn_risk_level"),
            _COMPLAINT_AT_RISK,
        )
    )
    + "}"
)

# Each alert with its id and sort key: due on or before the as-of date sorts on that date
# (it is for today), then by urgency, then by id.
_ALERTS = f"""
{ALERTS_OF_C}
WITH c, access, kind, subject, due, due_at, amount, currency, days, within, detail,
     kind + ':' + c.customer_id + ':' + subject AS id
WHERE ($alert_id IS NULL OR id = $alert_id)
  AND ($alert_id IS NOT NULL OR NOT EXISTS {{
        (c)<-[:ABOUT]-(:AlertDismissal {{alert_id: id, subject: $subject}}) }})
WITH c, access, {{id: id, kind: kind, customer_id: c.customer_id, due: due, due_at: due_at,
     amount: amount, currency: currency, days: days, within: within, detail: detail,
     due_key: CASE WHEN due < $as_of THEN $as_of ELSE due END, rank: $urgency[kind]}} AS alert
ORDER BY alert.due_key, alert.rank, alert.id
WITH collect({{c: c, access: access, alert: alert}}) AS rows
"""


@lru_cache(maxsize=QUERY_TEXTS)
def page_query(scope: ScopeKind, parts: frozenset[str]) -> str:
    """A page of the caller's alerts after the keyset ($after_due, $after_rank, $after_id),
    $limit + 1 of them (one more says there is a next page), each with its customer's row and
    access; and the count of all of them (the connection's totalCount)."""
    return f"""
{LISTED[scope]}
{_ALERTS}
WITH size(rows) AS total, [r IN rows WHERE $after_id IS NULL
       OR r.alert.due_key > $after_due
       OR (r.alert.due_key = $after_due AND (r.alert.rank > $after_rank
           OR (r.alert.rank = $after_rank AND r.alert.id > $after_id)))][0..$limit + 1] AS page
CALL (page) {{
  UNWIND range(0, size(page) - 1) AS n
  WITH n, page[n].c AS c, page[n].access AS access, page[n].alert AS alert
{details(parts, scope)}
  RETURN collect({{n: n, alert: alert, access: access, customer: {row(parts)}}}) AS items
}}
RETURN total, items
"""


# The alert $alert_id of one of the customers $customer_ids the caller reaches directly,
# dismissed or not (the dismissal checks it is the caller's to dismiss).
ONE_ALERT: dict[ScopeKind, str] = {
    scope: f"""
{BY_ID[scope]}
{_ALERTS}
UNWIND rows AS r
RETURN r.alert AS alert
"""
    for scope in ScopeKind
}

# Dismissed for one caller (its subject): the alert is left out of that caller's lists.
DISMISS = """
MATCH (c:Customer {customer_id: $customer_id})
MERGE (c)<-[:ABOUT]-(d:AlertDismissal {alert_id: $alert_id, subject: $subject})
ON CREATE SET d.kind = $kind, d.dismissed_at = $now, d.event_id = $event_id
RETURN d.dismissed_at AS dismissed_at
"""

# The tier changes of a batch of customers in the caller's scope, newest first
# (Customer.tierHistory's DataLoader).
TIER_HISTORY: dict[ScopeKind, str] = {
    scope: f"""
UNWIND $customer_ids AS wanted
MATCH (c:Customer {{customer_id: wanted}})
WITH c, {ACCESS_EXPR[scope]} AS access
WHERE access IS NOT NULL
MATCH (t:TierChange)-[:OF]->(c)
RETURN c.customer_id AS customer_id, t.change_id AS change_id, t.from_tier AS from_tier,
       t.to_tier AS to_tier, t.direction AS direction, date(t.changed_at) AS changed_at,
       t.aum AS aum
ORDER BY customer_id, changed_at DESC, change_id DESC
"""
    for scope in ScopeKind
}
