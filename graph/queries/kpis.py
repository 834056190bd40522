"""The raw counts behind the management KPIs, for one scope and several periods, in one query.

The scope is the bank, a branch (graph/queries/scope.py's BRANCH fragment, by name) or one
relationship manager's managed customers. ``$windows`` lists the periods: {key, start, end
(dates, inclusive), from, to (instants, [from, to))}. Per period: the complaints opened in it
(their service levels), the satisfaction scores given in it, the tier changes of its reviews and
the customers who left in it; once, live: the downgrade risk of the last scoring run and the
completeness of the customer fields (core/quality.toml). core/kpis.py turns the counts into the
KPIs; the figures are defined there and in the README."""

from __future__ import annotations

from enum import StrEnum

from graph.queries.complaints import SLA
from graph.queries.scope import ACCESS_EXPR, ScopeKind


class KpiScope(StrEnum):
    BANK = "bank"
    BRANCH = "branch"
    RELATIONSHIP_MANAGER = "rm"


# binds c: the customers of the scope ($branch_id, $rm_id)
_CUSTOMERS: dict[KpiScope, str] = {
    KpiScope.BANK: "MATCH (c:Customer)",
    KpiScope.BRANCH: f"MATCH (c:Customer) WHERE ({ACCESS_EXPR[ScopeKind.BRANCH]}) IS NOT NULL",
    KpiScope.RELATIONSHIP_MANAGER: "MATCH (:Employee {employee_id: $rm_id})-[:MANAGES]->(c:Customer)",
}

_BODY = """
CALL () {
  {customers}
  RETURN count(c) AS customers,
         count(CASE WHEN c.downgrade_risk_level IN ['HIGH', 'MEDIUM'] THEN 1 END) AS risk_customers,
         sum(CASE WHEN c.downgrade_risk_level IN ['HIGH', 'MEDIUM'] THEN coalesce(c.aum, 0.0)
             ELSE 0.0 END) AS aum_at_risk,
         max(c.scored_at) AS scored_at
}
CALL () {
  {customers}
  UNWIND $properties AS p
  WITH p, count(CASE WHEN c[p] IS NOT NULL AND trim(toString(c[p])) <> '' THEN 1 END) AS filled
  RETURN collect({property: p, filled: filled}) AS completeness
}
UNWIND $windows AS w
CALL (w) {
  {customers}
  MATCH (c)-[:HAD]->(i:Interaction)
  WHERE i.kind = 'COMPLAINT' AND i.occurred_at >= w.from AND i.occurred_at < w.to
  {sla}
  WITH i, responded, response_due, resolution_due,
       CASE WHEN i.resolved_at IS NOT NULL
            THEN duration.inSeconds(opened, i.resolved_at).seconds / 3600.0 END AS hours
  RETURN count(i) AS complaints,
         count(CASE WHEN responded IS NOT NULL OR $now > response_due THEN 1 END)
           AS response_counted,
         count(CASE WHEN responded IS NOT NULL AND responded <= response_due THEN 1 END)
           AS responded_in_time,
         count(hours) AS handled, avg(hours) AS handling_avg,
         percentileCont(hours, 0.9) AS handling_p90,
         count(CASE WHEN i.severity = 'MAJOR'
               AND (i.resolved_at IS NOT NULL OR $now > resolution_due) THEN 1 END) AS major_counted,
         count(CASE WHEN i.severity = 'MAJOR' AND i.resolved_at IS NOT NULL
               AND i.resolved_at <= resolution_due THEN 1 END) AS major_in_time
}
CALL (w) {
  {customers}
  MATCH (c)-[:HAD]->(i:Interaction)
  WHERE i.occurred_at >= w.from AND i.occurred_at < w.to
    AND (i.satisfaction IS NOT NULL OR i.nps IS NOT NULL)
  WITH i, c.tier = 'CORE' AS core
  RETURN count(i.satisfaction) AS csat_n,
         count(CASE WHEN i.satisfaction >= 4 THEN 1 END) AS csat_good,
         avg(i.satisfaction) AS csat_avg,
         count(CASE WHEN core THEN i.satisfaction END) AS core_csat_n,
         count(CASE WHEN core AND i.satisfaction >= 4 THEN 1 END) AS core_csat_good,
         count(i.nps) AS nps_n,
         count(CASE WHEN i.nps >= 9 THEN 1 END) AS promoters,
         count(CASE WHEN i.nps <= 6 THEN 1 END) AS detractors
}
CALL (w) {
  {customers}
  MATCH (t:TierChange)-[:OF]->(c)
  WHERE t.changed_at >= w.start AND t.changed_at <= w.end
  RETURN count(CASE WHEN t.direction = 'UP' THEN 1 END) AS upgrades,
         count(CASE WHEN t.direction = 'DOWN' THEN 1 END) AS downgrades,
         count(CASE WHEN t.direction = 'DOWN' AND t.from_tier = 'CORE' THEN 1 END)
           AS downgrades_core,
         count(CASE WHEN t.direction = 'DOWN' AND t.from_tier = 'KEY' THEN 1 END)
           AS downgrades_key
}
CALL (w) {
  {customers}
  OPTIONAL MATCH (c)-[:HOLDS]->(a:Account)
  WITH c, count(a) AS accounts, count(CASE WHEN a.status <> 'CLOSED' THEN 1 END) AS open,
       max(a.closed_at) AS closed
  WITH c, CASE WHEN accounts > 0 AND open = 0 THEN closed END AS left_on
  WHERE (c.onboarded_at IS NULL OR c.onboarded_at < w.start)
    AND (left_on IS NULL OR left_on >= w.start)
  WITH c, left_on,
       CASE WHEN left_on IS NOT NULL AND c.tier = 'ORDINARY' AND c.previous_tier IS NOT NULL
            THEN c.previous_tier ELSE c.tier END AS tier
  RETURN count(c) AS at_start,
         count(left_on <= w.end OR null) AS left,
         count(CASE WHEN tier IN ['CORE', 'KEY'] THEN 1 END) AS high_value_at_start,
         count(CASE WHEN tier IN ['CORE', 'KEY'] AND left_on <= w.end THEN 1 END)
           AS high_value_left,
         count(CASE WHEN tier = 'CORE' THEN 1 END) AS core_at_start,
         count(CASE WHEN tier = 'CORE' AND left_on <= w.end THEN 1 END) AS core_left
}
RETURN w.key AS key, customers, risk_customers, aum_at_risk, scored_at, completeness,
       complaints, response_counted, responded_in_time, handled, handling_avg, handling_p90,
       major_counted, major_in_time, csat_n, csat_good, csat_avg, core_csat_n, core_csat_good,
       nps_n, promoters, detractors, upgrades, downgrades, downgrades_core, downgrades_key,
       at_start, left, high_value_at_start, high_value_left, core_at_start, core_left
"""

KPI_COUNTS: dict[KpiScope, str] = {
    scope: _BODY.replace("{customers}", customers).replace("{sla}", SLA)
    for scope, customers in _CUSTOMERS.items()
}
