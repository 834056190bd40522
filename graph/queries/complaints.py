"""The service desk: the complaint queue, its statistics, the lifecycle's writes, surveys and the
customers' satisfaction.

The queue and the statistics start from the customers the caller's scope admits (the same
fragments as the customers list, graph/queries/scope.py's SCOPE_CANDIDATES) and keep only
those reached directly: a referral hop shows no complaints. The service level of each item is
computed here for many rows at once, as core/sla.py defines it for one (tests hold the two to
the same hand-built cases); ``$now`` is a parameter, so a queue's pages share one instant.
"""

from __future__ import annotations

from typing import Any

from core.complaints import TRACKED_KINDS
from graph.queries import mean
from graph.queries.scope import ACCESS_EXPR, SCOPE_CANDIDATES, ScopeKind, in_branch
from graph.session import all_rows

TRACKED = repr(list(TRACKED_KINDS))

# The customers whose tracked items a scope may list, bound as ``c`` (direct access only).
CANDIDATES: dict[ScopeKind, str] = {
    ScopeKind.ANY: f"""
MATCH (i:Interaction) WHERE i.kind IN {TRACKED}
MATCH (c:Customer)-[:HAD]->(i)
WITH c, i
""",
    ScopeKind.OWN: f"""
MATCH (c:Customer {{customer_id: $own_customer_id}})-[:HAD]->(i:Interaction)
WHERE i.kind IN {TRACKED}
WITH c, i
""",
    ScopeKind.BOOK: f"""{SCOPE_CANDIDATES[ScopeKind.BOOK]}
WITH DISTINCT c WHERE {ACCESS_EXPR[ScopeKind.BOOK]} = 'direct'
MATCH (c)-[:HAD]->(i:Interaction) WHERE i.kind IN {TRACKED}
WITH c, i
""",
    # (the branch's candidates are exactly its scope, all of them direct)
    ScopeKind.BRANCH: f"""{SCOPE_CANDIDATES[ScopeKind.BRANCH]}
MATCH (c)-[:HAD]->(i:Interaction) WHERE i.kind IN {TRACKED}
WITH c, i
""",
}

# The stored status, or the one a source system's item implies (core/complaints.derived_status).
STATUS = """coalesce(i.status, CASE WHEN i.resolved_at IS NOT NULL THEN 'RESOLVED'
  WHEN i.first_response_at IS NOT NULL THEN 'ACKNOWLEDGED' ELSE 'OPEN' END)"""

# Service level of ``i`` against $now (core/sla.sla_clock). Targets in seconds; a resolution
# target of 0 is none. Binds opened, responded, response_due, resolution_due, sla, rank, next_due
# (unanswered: the sooner of the two due times; answered: the resolution's, if it has one).
SLA = f"""
WITH c, i, {STATUS} AS status, i.occurred_at AS opened,
     coalesce(i.first_response_at, i.resolved_at) AS responded,
     CASE WHEN i.severity = 'MAJOR' THEN $major_s ELSE $resolution_s END AS res_s
WITH c, i, status, opened, responded, res_s,
     opened + duration({{seconds: $response_s}}) AS response_due,
     CASE WHEN res_s > 0 THEN opened + duration({{seconds: res_s}}) END AS resolution_due
WITH c, i, status, opened, responded, response_due, resolution_due, CASE
  WHEN i.resolved_at IS NOT NULL THEN
    CASE WHEN responded <= response_due
              AND (resolution_due IS NULL OR i.resolved_at <= resolution_due)
         THEN 'MET' ELSE 'BREACHED' END
  WHEN resolution_due IS NOT NULL AND $now > resolution_due THEN 'RESOLUTION_BREACHED'
  WHEN (responded IS NULL AND $now > response_due) OR responded > response_due
    THEN 'RESPONSE_BREACHED'
  WHEN responded IS NULL AND $now >= opened + duration({{seconds: $response_s * $risk}})
    THEN 'AT_RISK'
  WHEN resolution_due IS NOT NULL AND $now >= opened + duration({{seconds: res_s * $risk}})
    THEN 'AT_RISK'
  ELSE 'ON_TRACK' END AS sla
WITH c, i, status, opened, responded, response_due, resolution_due, sla,
     CASE sla WHEN 'RESOLUTION_BREACHED' THEN 0 WHEN 'RESPONSE_BREACHED' THEN 0
              WHEN 'AT_RISK' THEN 1 WHEN 'ON_TRACK' THEN 2 ELSE 3 END AS rank,
     CASE WHEN responded IS NULL AND resolution_due < response_due THEN resolution_due
          WHEN responded IS NULL THEN response_due
          ELSE coalesce(resolution_due, response_due) END AS next_due
"""

# ``$branch``: the items of the branch's customers as a branch manager's scope defines them
# (scope.in_branch), here and in STATS.
QUEUE_FILTERS = (
    """
WHERE ($statuses IS NULL OR status IN $statuses)
  AND ($slas IS NULL OR sla IN $slas)
  AND ($severity IS NULL OR coalesce(i.severity, 'MINOR') = $severity)
  AND ($kind IS NULL OR i.kind = $kind)
  AND ($category IS NULL OR i.category = $category)
  AND ($due_before IS NULL OR (rank < 3 AND next_due < $due_before))
  AND ($open_only IS NULL OR rank < 3)
  AND ($branch IS NULL OR """
    + in_branch("branch")
    + """)
  AND ($assignee IS NULL OR EXISTS {
        (i)-[:HANDLED_BY]->(:Employee {employee_id: $assignee}) })
"""
)

SORT_KEYS = {"DUE_AT": "next_due", "OPENED_AT": "opened"}

# What an item is shown with: its properties, its handler, its progress notes (oldest first),
# its customer (for the masks of resolvers/complaints.py) and its computed service level.
_ITEM_BODY = """
OPTIONAL MATCH (i)-[:HANDLED_BY]->(e:Employee)
WITH c, i, status, response_due, resolution_due, sla, rank, k, e,
     COLLECT {
       MATCH (i)-[:HAS_PROGRESS]->(p:ComplaintProgress)
       RETURN p {.*} AS note ORDER BY note.at, note.note
     } AS progress
RETURN i {.*, handled_by: e.employee_id, status: status, response_due_at: response_due,
          resolution_due_at: resolution_due, computed_sla: sla, progress: progress} AS item,
       c {.customer_id, .name, .phone, .email, .address, .city, .national_id_last4} AS customer
"""
ITEM = _ITEM_BODY.rstrip() + ", rank, k\n"


def queue_query(scope: ScopeKind, order: str) -> str:
    """A page of the queue: breached first, then at risk, on track, resolved; within each by
    ``order`` (DUE_AT: the next due time; OPENED_AT: oldest first), ties by id; after the keyset
    ($after_rank, $after_k, $after_id), $limit + 1 rows (one more says there is a next page).
    ORDER BY with LIMIT keeps only the top rows while sorting, not the whole list."""
    key = SORT_KEYS[order]
    return f"""
{CANDIDATES[scope]}
{SLA}
WITH c, i, status, response_due, resolution_due, sla, rank, next_due, opened
{QUEUE_FILTERS}
WITH c, i, status, response_due, resolution_due, sla, rank, {key} AS k
WHERE $after_id IS NULL OR rank > $after_rank
   OR (rank = $after_rank AND (k > $after_k OR (k = $after_k AND i.interaction_id > $after_id)))
WITH c, i, status, response_due, resolution_due, sla, rank, k
ORDER BY rank, k, i.interaction_id
LIMIT $limit + 1
{ITEM}
ORDER BY rank, k, item.interaction_id
"""


def queue_count(scope: ScopeKind) -> str:
    """How many items the queue's filters match in the scope (the connection's totalCount)."""
    return f"""
{CANDIDATES[scope]}
{SLA}
WITH c, i, status, response_due, resolution_due, sla, rank, next_due, opened
{QUEUE_FILTERS}
RETURN count(i) AS total
"""


QUEUE_QUERIES: dict[tuple[ScopeKind, str], str] = {
    (scope, order): queue_query(scope, order) for scope in CANDIDATES for order in SORT_KEYS
}
QUEUE_COUNTS: dict[ScopeKind, str] = {scope: queue_count(scope) for scope in CANDIDATES}


async def fetch_queue(
    tx: Any, *, page_query: str, count_query: str, params: dict[str, Any]
) -> tuple[list[dict[str, Any]], int]:
    """One page of the queue and the count of all it matches, in one read."""
    rows = await all_rows(tx, query=page_query, params=params)
    total = (await (await tx.run(count_query, params)).single(strict=True))["total"]
    return rows, total


# One item by id in the caller's scope (direct access), with its service level.
ONE_ITEM = f"""
MATCH (c)-[:HAD]->(i:Interaction {{interaction_id: $interaction_id}})
WHERE i.kind IN {TRACKED}
{SLA}
WITH c, i, status, response_due, resolution_due, sla, rank, next_due AS k
{ITEM}
"""

# Whose item it is, before the scope fragment decides whether the caller may change it.
ITEM_OWNER = f"""
MATCH (c:Customer)-[:HAD]->(i:Interaction {{interaction_id: $interaction_id}})
WHERE i.kind IN {TRACKED}
RETURN c.customer_id AS customer_id
"""

# -- the lifecycle's writes (the transition was checked on the item read in the same
# transaction; resolvers/complaints.py) ------------------------------------------------------

# The item's write lock, taken before its status is read and held until the transaction ends:
# a concurrent step on the same item waits, then reads the status this one leaves (Neo4j reads
# the latest committed state), so a step is never written over a status it did not check.
LOCK_ITEM = """
MATCH (i:Interaction {interaction_id: $interaction_id})
SET i._lock = true
REMOVE i._lock
"""

_PROGRESS = """
FOREACH (_ IN CASE WHEN $note IS NULL THEN [] ELSE [1] END |
  CREATE (i)-[:HAS_PROGRESS]->(:ComplaintProgress {at: $now, by: $by, note: $note,
          visible_to_customer: $visible, step: $step}))
"""

ACKNOWLEDGE = f"""
MATCH (i:Interaction {{interaction_id: $interaction_id}})
SET i.status = 'ACKNOWLEDGED', i.first_response_at = coalesce(i.first_response_at, $now),
    i.acknowledged_at = $now, i.acknowledged_by = $by
{_PROGRESS}
"""

ADD_PROGRESS = f"""
MATCH (i:Interaction {{interaction_id: $interaction_id}})
SET i.status = 'IN_PROGRESS'
{_PROGRESS}
"""

RESOLVE = f"""
MATCH (i:Interaction {{interaction_id: $interaction_id}})
SET i.status = 'RESOLVED', i.resolved_at = $now, i.resolved_by = $by,
    i.resolution = $resolution, i.outcome = $outcome,
    i.category = coalesce($category, i.category), i.cause_type = coalesce($cause_type, i.cause_type),
    i.cause_subtype = coalesce($cause_subtype, i.cause_subtype),
    i.survey_requested = $survey_requested
{_PROGRESS}
"""

CLOSE = f"""
MATCH (i:Interaction {{interaction_id: $interaction_id}})
SET i.status = 'CLOSED', i.closed_at = $now, i.closed_by = $by
{_PROGRESS}
"""

# Reopened: open again, its resolution kept as the last one; its clocks run from the opening.
# An item resolved without an acknowledgement had its resolution as its first response: kept.
REOPEN = f"""
MATCH (i:Interaction {{interaction_id: $interaction_id}})
SET i.status = 'REOPENED', i.last_resolved_at = i.resolved_at,
    i.first_response_at = coalesce(i.first_response_at, i.resolved_at), i.resolved_at = null,
    i.reopened_at = $now, i.reopened_by = $by, i.reopen_count = coalesce(i.reopen_count, 0) + 1,
    i.closed_at = null
{_PROGRESS}
"""

# A survey answered about a complaint of the same customer: the complaint's request is met.
SURVEY_ANSWERS = f"""
MATCH (c:Customer {{customer_id: $customer_id}})-[:HAD]->(k:Interaction {{interaction_id: $related}})
WHERE k.kind IN {TRACKED}
SET k.survey_requested = false, k.survey_id = $survey_id
RETURN k.interaction_id AS interaction_id
"""

# -- statistics ---------------------------------------------------------------------------------

# Complaints (kind COMPLAINT) in scope: the period's figures and the open ones now. Hours are
# opened -> resolved for complaints resolved within [$from, $to); p90 by linear interpolation
# (percentileCont).
STATS: dict[ScopeKind, str] = {
    scope: f"""
{CANDIDATES[scope]}
WHERE i.kind = 'COMPLAINT'
  AND ($branch IS NULL OR {in_branch("branch")})
{SLA}
WITH i, sla, opened, responded, response_due, resolution_due,
     CASE WHEN i.resolved_at IS NOT NULL
          THEN duration.inSeconds(opened, i.resolved_at).seconds END AS handling_s
WITH i, sla, opened, responded, response_due, resolution_due, handling_s,
     opened >= $from AND opened < $to AS opened_in,
     i.resolved_at >= $from AND i.resolved_at < $to AS resolved_in
RETURN count(CASE WHEN opened_in THEN 1 END) AS opened,
       count(CASE WHEN resolved_in THEN 1 END) AS resolved,
       count(CASE WHEN i.resolved_at IS NULL THEN 1 END) AS open,
       count(CASE WHEN sla = 'AT_RISK' THEN 1 END) AS at_risk,
       count(CASE WHEN sla IN ['RESPONSE_BREACHED', 'RESOLUTION_BREACHED'] THEN 1 END)
         AS breached,
       count(CASE WHEN opened_in AND (responded IS NOT NULL OR $now > response_due) THEN 1 END)
         AS response_counted,
       count(CASE WHEN opened_in AND responded IS NOT NULL AND responded <= response_due
             THEN 1 END) AS responded_in_time,
       {mean("CASE WHEN resolved_in THEN handling_s END")} / 3600.0 AS average_hours,
       percentileCont(CASE WHEN resolved_in THEN handling_s / 3600.0 END, 0.9) AS p90_hours,
       count(CASE WHEN opened_in AND i.severity = 'MAJOR'
             AND (i.resolved_at IS NOT NULL OR $now > resolution_due) THEN 1 END) AS major_counted,
       count(CASE WHEN opened_in AND i.severity = 'MAJOR' AND i.resolved_at IS NOT NULL
             AND i.resolved_at <= resolution_due THEN 1 END) AS major_in_time
"""
    for scope in CANDIDATES
}

# -- satisfaction -------------------------------------------------------------------------------

# Scored interactions (csat or NPS) of each customer since $since, newest first (the customers
# are in the caller's scope: their profiles were read through it).
SCORED_INTERACTIONS = """
UNWIND $customer_ids AS wanted
MATCH (c:Customer {customer_id: wanted})-[:HAD]->(i:Interaction)
WHERE (i.satisfaction IS NOT NULL OR i.nps IS NOT NULL) AND i.occurred_at >= $since
RETURN c.customer_id AS customer_id, i.satisfaction AS csat, i.nps AS nps,
       i.channel AS channel, i.occurred_at AS at, i.interaction_id AS interaction_id
ORDER BY customer_id, at DESC, interaction_id DESC
"""

LAST_SCORED = """
UNWIND $customer_ids AS wanted
MATCH (c:Customer {customer_id: wanted})
CALL (c) {
  MATCH (c)-[:HAD]->(i:Interaction)
  WHERE i.satisfaction IS NOT NULL OR i.nps IS NOT NULL
  RETURN i ORDER BY i.occurred_at DESC, i.interaction_id DESC LIMIT 1
}
RETURN c.customer_id AS customer_id, i.satisfaction AS csat, i.nps AS nps,
       i.channel AS channel, i.occurred_at AS at
"""
