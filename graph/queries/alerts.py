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

# A holding that is the customer's own (scoring counts PRIMARY and JOINT holders; a GUARANTOR
# or any other role is not told that the account matures).
_OWN_HOLDING = """h.ended_at IS NULL AND coalesce(h.role, 'PRIMARY') IN ['PRIMARY', 'JOINT']"""

# The alert of a maturing account ``a`` of ``c`` for the maturity kind ``m`` (a row of
# $maturities), ``due`` its maturity date.
_MATURITY_ROW = """
  WITH c, m, a, due, duration.inDays($as_of, due).days AS days
  WHERE days >= 0 AND days <= m.days
  RETURN __C__m.kind AS kind, a.account_id + ':' + toString(due) AS subject, due,
         null AS due_at, a.balance AS amount, a.currency AS currency, days,
         [w IN m.windows WHERE days <= w][0] AS within, {account: a.account_id} AS detail
"""

_MATURITIES = f"""
  UNWIND [m IN $maturities WHERE $kinds IS NULL OR m.kind IN $kinds] AS m
  MATCH (c)-[h:HOLDS]->(a:Account)
  WHERE a.product_type IN m.product_types AND a.maturity_date IS NOT NULL
    AND coalesce(a.status, 'OPEN') <> 'CLOSED' AND {_OWN_HOLDING}
  WITH c, m, a, date(a.maturity_date) AS due
{_MATURITY_ROW.replace("__C__", "")}"""

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

# -- the same alerts found from what they are about, for the whole bank -----------------------
# Each kind starts from its own subjects by an index (graph/migrate.py), never from every
# customer: accounts maturing in the window (account_maturity), tier changes of the review window
# (tier_change_changed_at), the customers whose risk rose (a seek per pair of levels of a rise,
# customer_*_raised), tracked items opened recently enough to be about to breach
# (interaction_occurred_at) and the customers born on a day of the window in some year
# (customer_birth_date). Each branch binds ``c`` and returns what ALERTS_OF_C returns; the
# conditions after each seek are ALERTS_OF_C's own, so the two give the same alerts.
_ONLY = "  WITH 1 AS wanted WHERE $kinds IS NULL OR '{kind}' IN $kinds\n"

# Accounts maturing within the longest window; their holders matched once, each account kept
# for the maturity kinds of its product type.
_MATURITIES_FROM_ACCOUNTS = f"""
  WITH [m IN $maturities WHERE $kinds IS NULL OR m.kind IN $kinds] AS wanted
  WHERE size(wanted) > 0
  WITH wanted, reduce(n = 0, m IN wanted | CASE WHEN m.days > n THEN m.days ELSE n END) AS horizon
  MATCH (a:Account)
  WHERE a.maturity_date >= $as_of AND a.maturity_date <= $as_of + duration({{days: horizon}})
  WITH a, [m IN wanted WHERE a.product_type IN m.product_types] AS kinds
  WHERE size(kinds) > 0 AND coalesce(a.status, 'OPEN') <> 'CLOSED'
  MATCH (c:Customer)-[h:HOLDS]->(a)
  WHERE {_OWN_HOLDING}
  UNWIND kinds AS m
  WITH c, m, a, date(a.maturity_date) AS due
{_MATURITY_ROW.replace("__C__", "c, ")}"""

# The birth dates whose next birthday falls in the window: each (month, day) of the window in
# every birth year stored (29 February too when the window holds a 28 February), one index seek.
_BIRTHDAY_FROM_DATES = (
    _ONLY.format(kind="BIRTHDAY")
    + """  CALL () {
    MATCH (b:Customer) WHERE b.birth_date IS NOT NULL
    RETURN b.birth_date.year AS lo ORDER BY b.birth_date LIMIT 1
  }
  CALL () {
    MATCH (b:Customer) WHERE b.birth_date IS NOT NULL
    RETURN b.birth_date.year AS hi ORDER BY b.birth_date DESC LIMIT 1
  }
  WITH lo, hi, [n IN range(0, $birthday_days) | $as_of + duration({days: n})] AS window
  WITH lo, hi, [d IN window | [d.month, d.day]]
       + CASE WHEN any(d IN window WHERE d.month = 2 AND d.day = 28) THEN [[2, 29]] ELSE [] END
       AS days
  UNWIND range(lo, hi) AS year
  UNWIND days AS day
  WITH year, day WHERE day <> [2, 29] OR (year % 4 = 0 AND (year % 100 <> 0 OR year % 400 = 0))
  WITH collect(date({year: year, month: day[0], day: day[1]})) AS dates
  MATCH (c:Customer) WHERE c.birth_date IN dates
  CALL (c) {"""
    + _BIRTHDAY
    + "  }\n  RETURN c, kind, subject, due, due_at, amount, currency, days, within, detail\n"
)

_TIER_CHANGED_FROM_CHANGES = (
    _ONLY.format(kind="TIER_CHANGED")
    + """  MATCH (t:TierChange)
  WHERE t.changed_at >= $as_of - duration({days: $tier_days}) AND t.changed_at <= $as_of
  MATCH (t)-[:OF]->(c:Customer)
  WITH DISTINCT c
  CALL (c) {"""
    + _TIER_CHANGED
    + "  }\n  RETURN c, kind, subject, due, due_at, amount, currency, days, within, detail\n"
)


def _risk_raised_from_levels(kind: str, level: str) -> str:
    """The customers whose ``<level>`` is one of the rises of $risk_raises from
    ``previous_<level>`` (a composite index seek per pair)."""
    return (
        _ONLY.format(kind=kind)
        + f"""  UNWIND $risk_raises AS rise
  MATCH (c:Customer)
  WHERE c.previous_{level} = rise[0] AND c.{level} = rise[1]
  CALL (c) {{"""
        + _risk_raised(kind, level)
        + "  }\n  RETURN c, kind, subject, due, due_at, amount, currency, days, within, detail\n"
    )


# An item about to breach was opened at most the longest service-level target before $now.
_COMPLAINT_AT_RISK_FROM_ITEMS = (
    _ONLY.format(kind="COMPLAINT_AT_RISK")
    + f"""  WITH reduce(n = 0, s IN [$response_s, $resolution_s, $major_s]
              | CASE WHEN s > n THEN s ELSE n END) AS longest
  MATCH (i:Interaction)
  WHERE i.occurred_at >= $now - duration({{seconds: longest}}) AND i.kind IN {TRACKED}
  MATCH (c:Customer)-[:HAD]->(i)
  WITH DISTINCT c
  CALL (c) {{"""
    + _COMPLAINT_AT_RISK
    + "  }\n  RETURN c, kind, subject, due, due_at, amount, currency, days, within, detail\n"
)

ALERTS_FROM_SUBJECTS = (
    "CALL () {"
    + "  UNION ALL".join(
        (
            _MATURITIES_FROM_ACCOUNTS,
            _TIER_CHANGED_FROM_CHANGES,
            _risk_raised_from_levels("DOWNGRADE_RISK_RAISED", "downgrade_risk_level"),
            _risk_raised_from_levels("CHURN_RISK_RAISED", "churn_risk_level"),
            _COMPLAINT_AT_RISK_FROM_ITEMS,
            _BIRTHDAY_FROM_DATES,
        )
    )
    + "}"
)

# The scopes whose lists start from the subjects: the whole bank. The others start from their
# customers (an RM's book, a branch, one's own record): bench/alerts.py on 100,000 customers
# measured a branch (some 3,000 customers) at 0.48 M database hits from its customers and 1.0 M
# from the subjects of the whole bank, each checked for the branch's access.
FROM_SUBJECTS = frozenset({ScopeKind.ANY})


def _alerts(head: str) -> str:
    """Each alert of ``head`` (which binds ``c``, ``access`` and the columns of ALERTS_OF_C) with
    its id and sort key: due on or before the as-of date sorts on that date (it is for today),
    then by urgency, then by id."""
    return f"""
{head}
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


def _listed(scope: ScopeKind) -> str:
    """Every alert of the customers the scope reaches directly."""
    if scope in FROM_SUBJECTS:
        return _alerts(
            f"""{ALERTS_FROM_SUBJECTS}
WITH c, {ACCESS_EXPR[scope]} AS access, kind, subject, due, due_at, amount, currency, days,
     within, detail
WHERE access = 'direct'"""
        )
    return _alerts(LISTED[scope] + ALERTS_OF_C)


@lru_cache(maxsize=QUERY_TEXTS)
def page_query(scope: ScopeKind, parts: frozenset[str]) -> str:
    """A page of the caller's alerts after the keyset ($after_due, $after_rank, $after_id),
    $limit + 1 of them (one more says there is a next page), each with its customer's row and
    access; and the count of all of them (the connection's totalCount)."""
    return f"""
{_listed(scope)}
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
{_alerts(BY_ID[scope] + ALERTS_OF_C)}
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

# The tier changes of a batch of customers in the caller's scope, newest first, with the
# caller's access to each (the view decides whether the history is shown: auth/policy.py)
# (Customer.tierHistory's DataLoader).
TIER_HISTORY: dict[ScopeKind, str] = {
    scope: f"""
UNWIND $customer_ids AS wanted
MATCH (c:Customer {{customer_id: wanted}})
WITH c, {ACCESS_EXPR[scope]} AS access
WHERE access IS NOT NULL
CALL (c) {{
  OPTIONAL MATCH (t:TierChange)-[:OF]->(c)
  WITH t ORDER BY date(t.changed_at) DESC, t.change_id DESC
  RETURN collect(t {{.change_id, .from_tier, .to_tier, .direction, .aum,
                     changed_at: date(t.changed_at)}}) AS changes
}}
RETURN c.customer_id AS customer_id, access, changes
"""
    for scope in ScopeKind
}

# -- for bench/alerts.py: its graph's time deposits mature one a day over a year; one RM --------
BENCH_MATURITIES = """MATCH (a:Account {product_type: 'TIME_DEPOSIT'})
  CALL (a) { SET a.maturity_date = date('2026-06-01')
    + duration({days: toInteger(substring(a.account_id, 1, size(a.account_id) - 3)) % 365}) }
  IN TRANSACTIONS OF 50000 ROWS"""
BENCH_CUSTOMERS = "MATCH (c:Customer) RETURN count(c) AS n"
BENCH_RM = "MATCH (e:Employee)-[:MANAGES]->() RETURN e.employee_id AS e, e.branch_id AS b LIMIT 1"
