"""The raw counts behind the management KPIs, per group of customers and per period, in one query.

Who is counted: the bank, one branch (graph/queries/scope.py's BRANCH fragment, by name) or one
relationship manager's managed customers, each as a single group ``'all'``; for rankings, every
branch or every RM as its own group (a customer counts for each branch whose branch scope
includes them: managed by its staff or at home there, and for each RM who manages them).
``$windows`` lists the periods: {key, start, end (dates, inclusive), from, to (instants,
[from, to))}. Per period: the complaints opened in it (their service levels), the satisfaction
scores given in it, the tier changes of its reviews and the customers who left in it; once,
live: the downgrade risk of the last scoring run and the completeness of the customer fields
(core/quality.toml). Per period also: the follow-up coverage of the planned tiers on the period's
last day (today while it runs), the plan contacts and personalised services of CORE customers in
it, and the scoring job's recommendations open and converted in it. Each part returns a list of
per-group maps; core/kpis.py turns the counts into figures. The service-level arithmetic is
graph/queries/complaints.py's SLA, inlined here because that fragment does not carry the group
along.

The follow-up rule is core/followups.toml's, the rule followUpCoverage applies
(graph/queries/followups.py): its plans and contact kinds are written into the query as
literals when this module is imported (validated codes and whole numbers, read once per process
as core/followups.load() is), so the report needs no parameter beyond the API's
(resolvers/kpis.request). A customer is covered on a day when their last plan contact before
the end of that day (UTC) plus their tier's interval_days is on or after it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from core import followups
from core.kpis import personalised_service_kinds
from graph.queries import mean
from graph.queries.scope import ACCESS_EXPR, ScopeKind


class KpiGroups(StrEnum):
    BANK = "bank"
    BRANCH = "branch"
    RELATIONSHIP_MANAGER = "rm"
    EVERY_BRANCH = "by_branch"
    EVERY_RELATIONSHIP_MANAGER = "by_rm"
    BRANCH_RELATIONSHIP_MANAGERS = "branch_rms"  # every RM working at $branch_id


# binds c and g (the group): $branch_id, $rm_id
_CUSTOMERS: dict[KpiGroups, str] = {
    KpiGroups.BANK: "MATCH (c:Customer) WITH c, 'all' AS g",
    KpiGroups.BRANCH: f"""MATCH (c:Customer)
  WHERE ({ACCESS_EXPR[ScopeKind.BRANCH]}) IS NOT NULL
  WITH c, 'all' AS g""",
    KpiGroups.RELATIONSHIP_MANAGER: """MATCH (:Employee {employee_id: $rm_id})-[:MANAGES]->(c:Customer)
  WITH c, 'all' AS g""",
    KpiGroups.EVERY_BRANCH: """MATCH (c:Customer)
  CALL (c) {
    MATCH (c)<-[:MANAGES]-(:Employee)-[:WORKS_AT]->(b:Branch) RETURN b.branch_id AS g
    UNION
    MATCH (c)-[:HOME_BRANCH]->(b:Branch) RETURN b.branch_id AS g
  }
  WITH c, g""",
    KpiGroups.EVERY_RELATIONSHIP_MANAGER: """MATCH (e:Employee)-[:MANAGES]->(c:Customer)
  WITH c, e.employee_id AS g""",
    KpiGroups.BRANCH_RELATIONSHIP_MANAGERS: """MATCH (:Branch {branch_id: $branch_id})<-[:WORKS_AT]-(e:Employee)
        -[:MANAGES]->(c:Customer)
  WITH c, e.employee_id AS g""",
}

_CODE = re.compile(r"[A-Z][A-Z_]{0,40}")


def _codes(codes: Iterable[str]) -> str:
    """A Cypher list literal of validated upper-case codes."""
    listed = list(codes)
    for code in listed:
        if not _CODE.fullmatch(code):
            raise ValueError(f"not a code: {code!r}")
    return "[" + ", ".join(f"'{code}'" for code in listed) + "]"


def _follow_up_part() -> str:
    """Per period and group: the planned CORE and KEY customers and those covered on the
    period's last day (today while it runs); the plan contacts and personalised services of the
    CORE customers in the period."""
    cfg = followups.load()
    intervals = ", ".join(f"{t}: {int(cfg.intervals[t])}" for t in cfg.planned_tiers)
    for tier in cfg.planned_tiers:
        _codes([tier])
    contact = (
        f"(i.kind IN {_codes(cfg.contact_kinds)} OR i.channel IN {_codes(cfg.contact_channels)})"
        f" AND NOT coalesce(i.kind, '') IN {_codes(cfg.never_kinds)}"
    )
    return f"""CALL () {{
  {{customers}}
  WHERE c.tier IN ['CORE', 'KEY']
  CALL (c) {{
    OPTIONAL MATCH (c)-[:HAD]->(i:Interaction)
    WHERE i.occurred_at < $span_to
    WITH i, {contact} AS contact,
         i.kind IN {_codes(personalised_service_kinds())}
           AND EXISTS {{ (i)-[:HANDLED_BY]->(:Employee) }} AS service
    WHERE contact OR service
    RETURN collect({{at: i.occurred_at, contact: contact, service: service}}) AS items
  }}
  UNWIND $windows AS w
  WITH g, c, items, w, CASE WHEN w.end < date($now) THEN w.end ELSE date($now) END AS day
  WITH g, c, items, w, day,
       datetime({{date: day + duration({{days: 1}}), timezone: 'UTC'}}) AS day_over
  WITH g, w, c.tier AS tier, day, {{{intervals}}}[c.tier] AS interval_days,
       reduce(last = null, x IN items |
         CASE WHEN x.contact AND x.at < w.to AND x.at < day_over
                   AND (last IS NULL OR x.at > last) THEN x.at ELSE last END) AS last_contact,
       size([x IN items WHERE x.contact AND x.at >= w.from AND x.at < w.to]) AS contacts,
       size([x IN items WHERE x.service AND x.at >= w.from AND x.at < w.to]) AS services
  WITH g, w, tier, contacts, services, interval_days,
       CASE WHEN interval_days IS NULL OR last_contact IS NULL THEN false
            ELSE date(last_contact) + duration({{days: interval_days}}) >= day END AS covered
  WITH w.key AS k, g, count(CASE WHEN tier = 'CORE' THEN 1 END) AS core_customers,
       sum(CASE WHEN tier = 'CORE' THEN contacts ELSE 0 END) AS core_contacts,
       sum(CASE WHEN tier = 'CORE' THEN services ELSE 0 END) AS core_services,
       count(CASE WHEN tier = 'CORE' AND interval_days IS NOT NULL THEN 1 END) AS core_planned,
       count(CASE WHEN tier = 'CORE' AND covered THEN 1 END) AS core_covered,
       count(CASE WHEN tier = 'KEY' AND interval_days IS NOT NULL THEN 1 END) AS key_planned,
       count(CASE WHEN tier = 'KEY' AND covered THEN 1 END) AS key_covered
  RETURN collect({{k: k, g: g, core_customers: core_customers, core_contacts: core_contacts,
                  core_services: core_services, core_planned: core_planned,
                  core_covered: core_covered, key_planned: key_planned,
                  key_covered: key_covered}}) AS follow_ups
}}"""


# Per period and group: the scoring job's recommendations made on or before the period's last
# day and not converted before its first ("open"), and those converted in it. Converted: the
# customer holds an account of the product opened on or after the recommendation's made_on
# (the earliest such opening is the day it converted).
_RECOMMENDATIONS = """CALL () {
  {customers}
  MATCH (r:Recommendation)-[:FOR]->(c)
  WHERE r.made_on <= $span_end
  CALL (c, r) {
    OPTIONAL MATCH (c)-[:HOLDS]->(a:Account {product_code: r.product_code})
    WHERE a.opened_at >= r.made_on
    RETURN min(a.opened_at) AS converted_on
  }
  UNWIND [w IN $windows WHERE r.made_on <= w.end
                          AND (converted_on IS NULL OR converted_on >= w.start)] AS w
  WITH w.key AS k, g, count(r) AS recommendations_open,
       count(CASE WHEN converted_on <= w.end THEN 1 END) AS recommendations_converted
  RETURN collect({k: k, g: g, recommendations_open: recommendations_open,
                  recommendations_converted: recommendations_converted}) AS recommendations
}"""

_BODY = """
CALL () {
  {customers}
  WITH g, count(c) AS customers,
       count(CASE WHEN c.downgrade_risk_level IN ['HIGH', 'MEDIUM'] THEN 1 END) AS risk_customers,
       sum(CASE WHEN c.downgrade_risk_level IN ['HIGH', 'MEDIUM']
           THEN toInteger(round(coalesce(c.aum, 0.0) * 100)) ELSE 0 END) / 100.0 AS aum_at_risk,
       max(c.scored_at) AS scored_at
  RETURN collect({g: g, customers: customers, risk_customers: risk_customers,
                  aum_at_risk: aum_at_risk, scored_at: scored_at}) AS live
}
CALL () {
  {customers}
  UNWIND $properties AS p
  WITH g, p, count(CASE WHEN c[p] IS NOT NULL AND trim(toString(c[p])) <> '' THEN 1 END) AS filled
  RETURN collect({g: g, property: p, filled: filled}) AS completeness
}
CALL () {
  {customers}
  MATCH (c)-[:HAD]->(i:Interaction)
  WHERE i.kind = 'COMPLAINT' AND i.occurred_at >= $span_from AND i.occurred_at < $span_to
  UNWIND [w IN $windows WHERE i.occurred_at >= w.from AND i.occurred_at < w.to | w.key] AS k
  WITH k, g, i, i.occurred_at AS opened, coalesce(i.first_response_at, i.resolved_at) AS responded,
       CASE WHEN i.severity = 'MAJOR' THEN $major_s ELSE $resolution_s END AS res_s
  WITH k, g, i, opened, responded,
       opened + duration({seconds: $response_s}) AS response_due,
       CASE WHEN res_s > 0 THEN opened + duration({seconds: res_s}) END AS resolution_due,
       CASE WHEN i.resolved_at IS NOT NULL
            THEN duration.inSeconds(opened, i.resolved_at).seconds END AS handling_s
  WITH k, g, count(i) AS complaints,
       count(CASE WHEN responded IS NOT NULL OR $now > response_due THEN 1 END)
         AS response_counted,
       count(CASE WHEN responded IS NOT NULL AND responded <= response_due THEN 1 END)
         AS responded_in_time,
       count(handling_s) AS handled,
       {handling_s_mean} / 3600.0 AS handling_avg,
       percentileCont(handling_s / 3600.0, 0.9) AS handling_p90,
       count(CASE WHEN i.severity = 'MAJOR'
             AND (i.resolved_at IS NOT NULL OR $now > resolution_due) THEN 1 END) AS major_counted,
       count(CASE WHEN i.severity = 'MAJOR' AND i.resolved_at IS NOT NULL
             AND i.resolved_at <= resolution_due THEN 1 END) AS major_in_time
  RETURN collect({k: k, g: g, complaints: complaints, response_counted: response_counted,
                  responded_in_time: responded_in_time, handled: handled,
                  handling_avg: handling_avg, handling_p90: handling_p90,
                  major_counted: major_counted, major_in_time: major_in_time}) AS complaints
}
CALL () {
  {customers}
  MATCH (c)-[:HAD]->(i:Interaction)
  WHERE i.occurred_at >= $span_from AND i.occurred_at < $span_to
    AND (i.satisfaction IS NOT NULL OR i.nps IS NOT NULL)
  UNWIND [w IN $windows WHERE i.occurred_at >= w.from AND i.occurred_at < w.to | w.key] AS k
  WITH k, g, i, c.tier = 'CORE' AS core
  WITH k, g, count(i.satisfaction) AS csat_n,
       count(CASE WHEN i.satisfaction >= 4 THEN 1 END) AS csat_good,
       {satisfaction_mean} AS csat_avg,
       count(CASE WHEN core THEN i.satisfaction END) AS core_csat_n,
       count(CASE WHEN core AND i.satisfaction >= 4 THEN 1 END) AS core_csat_good,
       count(i.nps) AS nps_n,
       count(CASE WHEN i.nps >= 9 THEN 1 END) AS promoters,
       count(CASE WHEN i.nps <= 6 THEN 1 END) AS detractors
  RETURN collect({k: k, g: g, csat_n: csat_n, csat_good: csat_good, csat_avg: csat_avg,
                  core_csat_n: core_csat_n, core_csat_good: core_csat_good, nps_n: nps_n,
                  promoters: promoters, detractors: detractors}) AS satisfaction
}
CALL () {
  {customers}
  MATCH (t:TierChange)-[:OF]->(c)
  WHERE t.changed_at >= $span_start AND t.changed_at <= $span_end
  UNWIND [w IN $windows WHERE t.changed_at >= w.start AND t.changed_at <= w.end | w.key] AS k
  WITH k, g, count(CASE WHEN t.direction = 'UP' THEN 1 END) AS upgrades,
       count(CASE WHEN t.direction = 'DOWN' THEN 1 END) AS downgrades,
       count(CASE WHEN t.direction = 'DOWN' AND t.from_tier = 'CORE' THEN 1 END)
         AS downgrades_core,
       count(CASE WHEN t.direction = 'DOWN' AND t.from_tier = 'KEY' THEN 1 END) AS downgrades_key
  RETURN collect({k: k, g: g, upgrades: upgrades, downgrades: downgrades,
                  downgrades_core: downgrades_core, downgrades_key: downgrades_key}) AS tiers
}
CALL () {
  {customers}
  OPTIONAL MATCH (c)-[:HOLDS]->(a:Account)
  WITH g, c, count(a) AS accounts, count(CASE WHEN a.status <> 'CLOSED' THEN 1 END) AS open,
       max(a.closed_at) AS closed
  WITH g, c, CASE WHEN accounts > 0 AND open = 0 THEN closed END AS left_on
  WITH g, left_on,
       CASE WHEN left_on IS NOT NULL AND c.tier = 'ORDINARY' AND c.previous_tier IS NOT NULL
            THEN c.previous_tier ELSE c.tier END AS tier,
       [w IN $windows WHERE (c.onboarded_at IS NULL OR c.onboarded_at < w.start)
                        AND (left_on IS NULL OR left_on >= w.start)] AS counted_in
  // customers alike (most: long onboarded, still here) collapse to one row before the windows
  WITH g, left_on, tier, counted_in, count(*) AS n
  UNWIND counted_in AS w
  WITH w.key AS k, g, sum(n) AS at_start,
       sum(CASE WHEN left_on <= w.end THEN n ELSE 0 END) AS left,
       sum(CASE WHEN tier IN ['CORE', 'KEY'] THEN n ELSE 0 END) AS high_value_at_start,
       sum(CASE WHEN tier IN ['CORE', 'KEY'] AND left_on <= w.end THEN n ELSE 0 END)
         AS high_value_left,
       sum(CASE WHEN tier = 'CORE' THEN n ELSE 0 END) AS core_at_start,
       sum(CASE WHEN tier = 'CORE' AND left_on <= w.end THEN n ELSE 0 END) AS core_left
  RETURN collect({k: k, g: g, at_start: at_start, left: left,
                  high_value_at_start: high_value_at_start, high_value_left: high_value_left,
                  core_at_start: core_at_start, core_left: core_left}) AS churn
}
{follow_ups}
{recommendations}
RETURN live, completeness, complaints, satisfaction, tiers, churn, follow_ups, recommendations
"""

KPI_COUNTS: dict[KpiGroups, str] = {
    groups: _BODY.replace("{follow_ups}", _follow_up_part())
    .replace("{handling_s_mean}", mean("handling_s"))
    .replace("{satisfaction_mean}", mean("i.satisfaction"))
    .replace("{recommendations}", _RECOMMENDATIONS)
    .replace("{customers}", customers)
    for groups, customers in _CUSTOMERS.items()
}

# the groups' zero counts: a group with no complaint (say) has no map in that part
ZERO: dict[str, float | int | None] = {
    "customers": 0, "risk_customers": 0, "aum_at_risk": 0.0, "scored_at": None,
    "complaints": 0, "response_counted": 0, "responded_in_time": 0, "handled": 0,
    "handling_avg": None, "handling_p90": None, "major_counted": 0, "major_in_time": 0,
    "csat_n": 0, "csat_good": 0, "csat_avg": None, "core_csat_n": 0, "core_csat_good": 0,
    "nps_n": 0, "promoters": 0, "detractors": 0, "upgrades": 0, "downgrades": 0,
    "downgrades_core": 0, "downgrades_key": 0, "at_start": 0, "left": 0,
    "high_value_at_start": 0, "high_value_left": 0, "core_at_start": 0, "core_left": 0,
    "core_customers": 0, "core_contacts": 0, "core_services": 0, "core_planned": 0,
    "core_covered": 0, "key_planned": 0, "key_covered": 0,
    "recommendations_open": 0, "recommendations_converted": 0,
}  # fmt: skip

WINDOWED = ("complaints", "satisfaction", "tiers", "churn", "follow_ups", "recommendations")


def span(windows: list[dict]) -> dict:
    """The parameters bounding every window at once ($span_*): each part reads its items once,
    then counts each in every window that holds it."""
    return {
        "span_from": min((w["from"] for w in windows), default=None),
        "span_to": max((w["to"] for w in windows), default=None),
        "span_start": min((w["start"] for w in windows), default=None),
        "span_end": max((w["end"] for w in windows), default=None),
    }


def by_window(row: dict, keys: Iterable[str]) -> dict[str, dict[str, dict]]:
    """The query's row -> {window key: {group: counts (ZERO filled in), with 'completeness'}}.
    The live part and completeness are the same in every window."""
    out: dict[str, dict[str, dict]] = {}
    for key in keys:
        groups: dict[str, dict] = out.setdefault(key, {})
        for entry in row.get("live") or []:
            counts = groups.setdefault(entry["g"], {**ZERO, "completeness": []})
            counts.update({k: v for k, v in entry.items() if k != "g"})
        for entry in row.get("completeness") or []:
            groups.setdefault(entry["g"], {**ZERO, "completeness": []})["completeness"].append(
                {"property": entry["property"], "filled": entry["filled"]}
            )
    for part in WINDOWED:
        for entry in row.get(part) or []:
            if entry["k"] not in out:
                continue
            counts = out[entry["k"]].setdefault(entry["g"], {**ZERO, "completeness": []})
            counts.update({k: v for k, v in entry.items() if k not in ("g", "k")})
    return out
