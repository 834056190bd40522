"""Identity review queue and steward decisions: the Cypher the loader and the API share.

The loader writes uncertain pairs as ``IdentityReview`` nodes (:data:`UPSERT_REVIEWS`); data
stewards decide them through the API; a rejected pair or a split customer leaves ``NOT_SAME_AS``
between source records, which later loads read (:data:`NOT_SAME_AS_PAIRS`) and never merge.

A confirmed match merges two customers: every relationship of the absorbed customer moves to the
survivor (but the derived home branch, recomputed instead: :data:`DERIVED`), one plain Cypher statement per relationship type (no APOC), generated from
:data:`RELATIONSHIPS`, the relationships of graph/MODEL.md declared as data. Where both customers
link to the same node, :data:`CONFLICT_WINS` says which link stays; one RM stays
(:data:`MERGE_OTHER_RM`), a referral between the two goes; what is dropped goes to the audit
event, from which a split that undoes the confirmation restores it (:attr:`CustomerEdge.restore`).

A split sends each relationship to the customer its source record goes to: the loader stamps
``origin`` = [system, source_id] on HOLDS, MEMBER_OF, MANAGES, HAD and REFERRED (``origin_to``
for the referred end of a REFERRED), and a relationship whose origin record leaves the customer
leaves with it (:attr:`CustomerEdge.split_move`). A relationship without origin (written by the
API or the scoring job) stays with the customer that keeps the id, unless a confirmMatch moved
it there (``moved_from``): then it goes back to the customer of that id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from graph.model import NODES
from graph.queries.scope import ACCESS_EXPR, ScopeKind

_KEYS = {n.label: n.key for n in NODES}

# rows: {review_id, a: [system, source_id], b: [system, source_id], match_weight, probability,
#        comparisons_json, run_id, created_at}; a decided review is never reopened
UPSERT_REVIEWS = """
UNWIND $rows AS row
MATCH (a:SourceRecord {system: row.a[0], source_id: row.a[1]})
MATCH (b:SourceRecord {system: row.b[0], source_id: row.b[1]})
MERGE (r:IdentityReview {review_id: row.review_id})
ON CREATE SET r.status = 'OPEN', r.created_at = row.created_at
WITH r, a, b, row
WHERE r.status = 'OPEN'
SET r.match_weight = row.match_weight, r.probability = row.probability,
    r.comparisons_json = row.comparisons_json, r.run_id = row.run_id
MERGE (r)-[:CANDIDATE]->(a)
MERGE (r)-[:CANDIDATE]->(b)
"""

# the pairs of source records a steward said are different people (either direction)
NOT_SAME_AS_PAIRS = """
MATCH (a:SourceRecord)-[:NOT_SAME_AS]->(b:SourceRecord)
RETURN a.system AS system_a, a.source_id AS source_id_a, b.system AS system_b,
       b.source_id AS source_id_b
"""

RecordKey = tuple[str, str]  # (system, source_id)


def review_id(a: RecordKey, b: RecordKey) -> str:
    """The id of the review of the pair ``a``, ``b`` (either order): the first 16 hex digits of
    the SHA-256 of ``sysA \\x1f idA \\x1f sysB \\x1f idB`` with (sysA, idA) < (sysB, idB)."""
    first, second = sorted((a, b))
    return hashlib.sha256("\x1f".join((*first, *second)).encode()).hexdigest()[:16]


# -- the relationships of the model ------------------------------------------------------------


@dataclass(frozen=True)
class Relationship:
    """``(start)-[:type]->(end)`` as graph/MODEL.md lists it (labels and type are constants)."""

    start: str
    type: str
    end: str


# graph/MODEL.md's relationships, as data; tests/test_identity_stewards.py checks the two agree
# and that a loaded graph has no relationship on a Customer that is not declared here.
RELATIONSHIPS: tuple[Relationship, ...] = (
    Relationship("SourceRecord", "RESOLVED_TO", "Customer"),
    Relationship("Customer", "HOLDS", "Account"),
    Relationship("Account", "OF_PRODUCT", "Product"),
    Relationship("Customer", "MEMBER_OF", "Household"),
    Relationship("Customer", "REFERRED", "Customer"),
    Relationship("Customer", "HAD", "Interaction"),
    Relationship("Interaction", "HANDLED_BY", "Employee"),
    Relationship("Employee", "MANAGES", "Customer"),
    Relationship("Employee", "WORKS_AT", "Branch"),
    Relationship("Customer", "HOME_BRANCH", "Branch"),
    Relationship("TierChange", "OF", "Customer"),
    Relationship("IdentityReview", "CANDIDATE", "SourceRecord"),
    Relationship("SourceRecord", "NOT_SAME_AS", "SourceRecord"),
    Relationship("Recommendation", "FOR", "Customer"),
)
CUSTOMER = "Customer"
# When both merged customers link to the same node, which relationship the merged customer keeps:
# Cypher over ``k`` (the survivor's properties) and ``d`` (the absorbed one's), true when the
# absorbed one's wins; otherwise the survivor's stays. HOLDS: a current holding (ended_at null)
# over an ended one, then the stronger role; MEMBER_OF: the current membership.
HOLDER_ROLES = ("PRIMARY", "JOINT", "AUTHORIZED", "GUARANTOR")  # strongest first
_RANK = (
    "CASE {m}.role "
    + " ".join(f"WHEN '{r}' THEN {i}" for i, r in enumerate(HOLDER_ROLES))
    + " ELSE 99 END"
)
CONFLICT_WINS: dict[str, str] = {
    "HOLDS": f"""(d.ended_at IS NULL AND k.ended_at IS NOT NULL)
  OR ((d.ended_at IS NULL) = (k.ended_at IS NULL) AND {_RANK.format(m="d")} < {_RANK.format(m="k")})""",
    "MEMBER_OF": "d.ended_at IS NULL AND k.ended_at IS NOT NULL",
}
# The relationship types the loader stamps with the source record that made them (graph/MODEL.md).
ORIGIN_TYPES = frozenset({"HOLDS", "MEMBER_OF", "MANAGES", "HAD", "REFERRED"})
# The lineage, which the decisions set themselves (rule STEWARD) rather than move.
LINEAGE = "RESOLVED_TO"
# Relationships derived from the others, never moved: a customer has exactly one home branch,
# so a merge deletes the absorbed customer's (:data:`DROP_DERIVED`) and recomputes the survivor's,
# and a split recomputes it for every customer it leaves, by the loader's own rule
# (graph/queries/upserts.UPSERT_HOME_BRANCHES). The scoring job's recommendations (FOR) are
# its output for that customer: a merge deletes the absorbed customer's (the next scoring run
# recommends to the survivor, recording the history anew); a split leaves them where they are.
DERIVED = frozenset({"HOME_BRANCH", "FOR"})

Side = Literal["start", "end"]  # the customer's end of a relationship


@dataclass(frozen=True)
class CustomerEdge:
    """One end of a relationship at which a Customer sits, and how to move it to another one."""

    relationship: Relationship
    side: Side

    @property
    def name(self) -> str:
        r = self.relationship
        return f"({r.start})-[:{r.type}]->({r.end}) at its {self.side}"

    @property
    def origin(self) -> str | None:
        """The property naming the source record that made this end of the relationship, or None
        when the loader writes none for this type."""
        t = self.relationship.type
        if t not in ORIGIN_TYPES:
            return None
        return "origin_to" if t == "REFERRED" and self.side == "end" else "origin"

    @property
    def split_move(self) -> str:
        """Moves from customer ``$from_id`` to ``$to_id`` the relationships of this kind whose
        origin record is one of ``$records`` ([system, source_id] lists), and those without
        origin that a merge brought from ``$to_id`` (``moved_from``). Properties are kept, the
        merge mark cleared; the old relationship is deleted."""
        t = self.relationship.type
        pattern = f"(src)-[r:{t}]->(o)" if self.side == "start" else f"(o)-[r:{t}]->(src)"
        merge = f"(dst)-[n:{t}]->(o)" if self.side == "start" else f"(o)-[n:{t}]->(dst)"
        if self.origin:
            where = (
                f"(r.{self.origin} IS NOT NULL AND r.{self.origin} IN $records) "
                f"OR (r.{self.origin} IS NULL AND r.moved_from = $to_id)"
            )
        else:
            where = "r.moved_from = $to_id"
        return f"""
MATCH (src:Customer {{customer_id: $from_id}})
MATCH (dst:Customer {{customer_id: $to_id}})
MATCH {pattern}
WHERE {where}
WITH dst, o, r, properties(r) AS props
DELETE r
WITH dst, o, props WHERE o <> dst
MERGE {merge}
ON CREATE SET n = props
REMOVE n.moved_from
RETURN count(*) AS moved
"""

    @property
    def other_label(self) -> str:
        r = self.relationship
        return r.end if self.side == "start" else r.start

    def _at(self, customer: str, rel: str, other: str = "o") -> str:
        t = self.relationship.type
        if self.side == "start":
            return f"({customer})-[{rel}:{t}]->({other})"
        return f"({other})-[{rel}:{t}]->({customer})"

    @property
    def resolve_conflicts(self) -> str:
        """Where customers ``$to_id`` (survivor) and ``$from_id`` (absorbed) both link to the same
        node by this kind: one relationship stays on the survivor, with the properties of the
        winner (:data:`CONFLICT_WINS`; else the survivor's), the absorbed one's is deleted.
        Returns each loser (its other node's key and properties) for the audit event, from which
        a split restores it."""
        wins = CONFLICT_WINS.get(self.relationship.type, "false")
        other = ", ".join(f"o.{k}" for k in _KEYS[self.other_label])
        return f"""
MATCH (keepc:Customer {{customer_id: $to_id}})
MATCH (dropc:Customer {{customer_id: $from_id}})
MATCH {self._at("keepc", "keep")}
MATCH {self._at("dropc", "drop")}
WHERE o <> keepc AND o <> dropc
WITH keep, drop, o, properties(keep) AS k, properties(drop) AS d
WITH keep, drop, o, k, d, {wins} AS theirs
SET keep = CASE WHEN theirs THEN d ELSE k END
SET keep.moved_from = CASE WHEN theirs THEN $from_id ELSE k.moved_from END
DELETE drop
RETURN [{other}] AS other, CASE WHEN theirs THEN k ELSE d END AS props
"""

    @property
    def restore(self) -> str:
        """Writes back relationships a merge dropped (rows: {customer_id, other: the other
        node's key values, props}) unless the customer already has one to that node."""
        keys = _KEYS[self.other_label]
        match = ", ".join(f"{k}: row.other[{i}]" for i, k in enumerate(keys))
        return f"""
UNWIND $rows AS row
MATCH (c:Customer {{customer_id: row.customer_id}})
MATCH (o:{self.other_label} {{{match}}})
MERGE {self._at("c", "n")}
ON CREATE SET n = row.props
"""

    @property
    def move(self) -> str:
        """Moves the relationships of this kind from customer ``$from_id`` (absorbed by a merge)
        to ``$to_id``. A relationship the target already has (same type, same other node) is
        kept as the target has it; one between the two customers themselves is dropped (a person
        does not refer themselves). What moved is marked with the customer it came from
        (``moved_from``) so a split can send back what has no origin."""
        t = self.relationship.type
        pattern = f"(src)-[r:{t}]->(o)" if self.side == "start" else f"(o)-[r:{t}]->(src)"
        merge = f"(dst)-[n:{t}]->(o)" if self.side == "start" else f"(o)-[n:{t}]->(dst)"
        return f"""
MATCH (src:Customer {{customer_id: $from_id}})
MATCH (dst:Customer {{customer_id: $to_id}})
MATCH {pattern}
WITH dst, o, r, properties(r) AS props
DELETE r
WITH dst, o, props WHERE o <> dst
MERGE {merge}
ON CREATE SET n = props, n.moved_from = coalesce(props.moved_from, $from_id)
RETURN count(*) AS moved
"""


def customer_edges() -> tuple[CustomerEdge, ...]:
    """Every end of a declared relationship at which a Customer sits (a relationship between two
    customers twice), the lineage included."""
    edges = []
    for r in RELATIONSHIPS:
        for side, label in (("start", r.start), ("end", r.end)):
            if label == CUSTOMER:
                edges.append(CustomerEdge(r, side))  # type: ignore[arg-type]
    return tuple(edges)


CUSTOMER_EDGES = customer_edges()
MOVED_EDGES = tuple(
    e
    for e in CUSTOMER_EDGES
    if e.relationship.type != LINEAGE and e.relationship.type not in DERIVED
)
EDGE_BY_NAME = {e.name: e for e in CUSTOMER_EDGES}

# The derived relationships (:data:`DERIVED`) of the customer a merge absorbs.
DROP_DERIVED = """
MATCH (c:Customer {customer_id: $customer_id})
CALL (c) {
  MATCH (c)-[r:HOME_BRANCH]-()
  DELETE r
}
CALL (c) {
  MATCH (rec:Recommendation)-[:FOR]->(c)
  DETACH DELETE rec
}
"""

# One relationship manager per customer (graph/queries/coverage.ASSIGN): a merge keeps
# the survivor's and deletes the absorbed customer's other one, named on the kept assignment
# (``also_managed_by``) and returned for the audit event.
MERGE_OTHER_RM = """
MATCH (e1:Employee)-[keep:MANAGES]->(:Customer {customer_id: $to_id})
MATCH (e2:Employee)-[drop:MANAGES]->(:Customer {customer_id: $from_id})
WHERE e2 <> e1
WITH keep, e2, drop, properties(drop) AS d
SET keep.also_managed_by = coalesce(keep.also_managed_by, []) + e2.employee_id
DELETE drop
RETURN [e2.employee_id] AS other, d AS props
"""

# After a split restored assignments: the restored managers no longer named on the others.
FORGET_ALSO_MANAGED = """
MATCH (:Employee)-[m:MANAGES]->(c:Customer) WHERE c.customer_id IN $customer_ids
  AND m.also_managed_by IS NOT NULL
WITH m, [x IN m.also_managed_by WHERE NOT x IN $restored] AS left
SET m.also_managed_by = CASE WHEN size(left) = 0 THEN null ELSE left END
"""

# A referral between the two merged customers: a person does not refer themselves, so it goes;
# returned (with origin and origin_to) for the audit event, from which a split restores it.
MERGE_DROP_MUTUAL_REFERRALS = """
MATCH (a:Customer)-[r:REFERRED]->(b:Customer)
WHERE (a.customer_id = $to_id AND b.customer_id = $from_id)
   OR (a.customer_id = $from_id AND b.customer_id = $to_id)
WITH r, properties(r) AS props
DELETE r
RETURN props
"""

# The relationships the confirmations a split undoes dropped (on their audit events).
DROPPED_BY_CONFIRMATIONS = """
MATCH (a:AuditEvent) WHERE a.event_id IN $event_ids AND a.dropped_json IS NOT NULL
RETURN a.dropped_json AS dropped_json
"""


# -- the review queue -----------------------------------------------------------------------------

# The candidate records of review ``r``, each with its customer and the caller's access to it
# (a record that resolves to no customer restricts nothing).
_CANDIDATES = """
CALL (r) {
  OPTIONAL MATCH (r)-[:CANDIDATE]->(s:SourceRecord)
  OPTIONAL MATCH (s)-[:RESOLVED_TO]->(c:Customer)
  WITH s, c ORDER BY s.system, s.source_id
  RETURN collect(CASE WHEN s IS NOT NULL THEN {
    system: s.system, source_id: s.source_id, customer_id: c.customer_id, name: c.name,
    tier: c.tier, access: CASE WHEN c IS NULL THEN 'direct' ELSE __ACCESS__ END} END) AS records
}
"""


def _candidates(scope: ScopeKind) -> str:
    return _CANDIDATES.replace("__ACCESS__", ACCESS_EXPR[scope])


# A review is listed when the caller serves every customer its records resolve to directly
# (access 'direct': not through a referral hop), as a decision requires. Oldest first (a queue),
# keyset on (created_at, review_id), the cursor's instant as Cypher's text of it (exact to the
# nanosecond); a review without created_at sorts first. The page is ordered and cut first and
# the candidates read for its reviews only; the resolver drops those out of scope and asks for
# the next chunk while the page is short (resolvers/identity.identity_reviews). The status is
# served by the index identity_review_status_created (graph/migrate.py).
REVIEWS_CHUNK: dict[ScopeKind, str] = {
    scope: f"""
MATCH (r:IdentityReview) WHERE r.status = $status
WITH r, coalesce(r.created_at, datetime('1970-01-01T00:00:00Z')) AS at
WHERE $after_id IS NULL OR at > datetime($after_at)
   OR (at = datetime($after_at) AND r.review_id > $after_id)
WITH r, at ORDER BY at, r.review_id LIMIT $limit
{_candidates(scope)}
WITH r, at, records ORDER BY at, r.review_id
RETURN r {{.*}} AS review, toString(at) AS at, records
"""
    for scope in ScopeKind
}

REVIEWS_COUNT: dict[ScopeKind, str] = {
    scope: f"""
MATCH (r:IdentityReview) WHERE r.status = $status
{_candidates(scope)}
WITH r WHERE all(x IN records WHERE x.access = 'direct')
RETURN count(r) AS total
"""
    for scope in ScopeKind
}


def served_directly(records: list[dict]) -> bool:
    """A review the caller may list and decide: every record's customer served directly."""
    return all(r.get("access") == "direct" for r in records)


# One review for a decision, locked (the write lock of a set-and-removed property) so that two
# stewards deciding it at once are served one after the other; with its records as above.
LOCK_REVIEW = """
MATCH (r:IdentityReview {review_id: $review_id})
SET r._lock = true REMOVE r._lock
"""

REVIEW: dict[ScopeKind, str] = {
    scope: f"""
MATCH (r:IdentityReview {{review_id: $review_id}})
{_candidates(scope)}
RETURN r {{.*}} AS review, records
"""
    for scope in ScopeKind
}

DECIDE_REVIEW = """
MATCH (r:IdentityReview {review_id: $review_id})
SET r.status = $status, r.decided_by = $by, r.decided_at = $at, r.reason = $reason,
    r.event_id = $event_id
"""

# A load run still writing (a decision waits for it: the loader reads the records and the
# NOT_SAME_AS pairs at its start and would write back what it read).
RUNNING_LOAD = """
MATCH (r:LoadRun {status: 'RUNNING'})
RETURN r.run_id AS run_id, r.started_at AS started_at
ORDER BY r.started_at LIMIT 1
"""

# Customers locked before they are read for a merge or a split (see LOCK_REVIEW).
LOCK_CUSTOMERS = """
MATCH (c:Customer) WHERE c.customer_id IN $customer_ids
SET c._lock = true REMOVE c._lock
"""

# -- steward decisions ----------------------------------------------------------------------------

# rows: {a: [system, source_id], b: [...], review_id}; a before b in (system, source_id) order
WRITE_NOT_SAME_AS = """
UNWIND $rows AS row
MATCH (a:SourceRecord {system: row.a[0], source_id: row.a[1]})
MATCH (b:SourceRecord {system: row.b[0], source_id: row.b[1]})
MERGE (a)-[n:NOT_SAME_AS]->(b)
ON CREATE SET n.by = $by, n.at = $at, n.review_id = row.review_id, n.reason = $reason,
              n.event_id = $event_id
"""

# Pairs a steward kept apart between the records of customer $a and those of customer $b.
NOT_SAME_AS_BETWEEN = """
MATCH (:Customer {customer_id: $a})<-[:RESOLVED_TO]-(x:SourceRecord)-[n:NOT_SAME_AS]-
      (y:SourceRecord)-[:RESOLVED_TO]->(:Customer {customer_id: $b})
RETURN [x.system, x.source_id] AS a, [y.system, y.source_id] AS b, n.review_id AS review_id
"""

# The steward's NOT_SAME_AS between exactly this pair, if any (its instant decides whether a
# review of the pair is older than the decision that kept them apart).
NOT_SAME_AS_OF_PAIR = """
MATCH (x:SourceRecord {system: $a[0], source_id: $a[1]})-[n:NOT_SAME_AS]-
      (y:SourceRecord {system: $b[0], source_id: $b[1]})
RETURN n.at AS at, n.review_id AS review_id, n.event_id AS event_id
"""

# Reviews of pairs a split separates: an OPEN one is closed (REJECTED, so no old review can
# merge them again), a CONFIRMED one (the decision the split undoes) becomes SPLIT.
CLOSE_SPLIT_REVIEWS = """
MATCH (r:IdentityReview) WHERE r.review_id IN $review_ids AND r.status IN ['OPEN', 'CONFIRMED']
WITH r, r.status AS was
SET r.status = CASE was WHEN 'OPEN' THEN 'REJECTED' ELSE 'SPLIT' END,
    r.decided_by = $by, r.decided_at = $at, r.reason = $closed_reason
RETURN r.review_id AS review_id, was, r.status AS status, r.event_id AS event_id
"""

# A confirmation overrides an earlier split of exactly this pair.
DROP_NOT_SAME_AS = """
MATCH (x:SourceRecord {system: $a[0], source_id: $a[1]})-[n:NOT_SAME_AS]-
      (y:SourceRecord {system: $b[0], source_id: $b[1]})
DELETE n
"""

# The absorbed customer's records move to the survivor, rule STEWARD with the decision (who, when,
# which review, which audit event); the confirmed record takes the review's evidence (the pair
# the steward looked at), the others keep theirs.
MOVE_RECORDS = """
MATCH (dst:Customer {customer_id: $to_id})
MATCH (s:SourceRecord)-[r:RESOLVED_TO]->(:Customer {customer_id: $from_id})
WITH dst, s, r, properties(r) AS props
DELETE r
CREATE (s)-[n:RESOLVED_TO]->(dst)
SET n = props, n.rule = 'STEWARD', n.confidence = 1.0, n.decided_by = $by, n.decided_at = $at,
    n.review_id = $review_id, n.event_id = $event_id
WITH s, n WHERE [s.system, s.source_id] IN $confirmed
SET n.match_weight = $match_weight, n.comparisons_json = $comparisons_json
"""

# Records placed by a split: each to its customer, rule STEWARD with the decision (no pair
# evidence; review_id: the confirmation the split undoes, if any). rows: {system, source_id,
# customer_id}
PLACE_RECORDS = """
UNWIND $rows AS row
MATCH (s:SourceRecord {system: row.system, source_id: row.source_id})
MATCH (c:Customer {customer_id: row.customer_id})
OPTIONAL MATCH (s)-[old:RESOLVED_TO]->(:Customer)
DELETE old
WITH DISTINCT s, c
CREATE (s)-[n:RESOLVED_TO]->(c)
SET n.rule = 'STEWARD', n.confidence = 1.0, n.decided_by = $by, n.decided_at = $at,
    n.review_id = $review_id, n.event_id = $event_id
"""

# The source records behind customers, as stored.
RECORDS_OF = """
UNWIND $customer_ids AS id
MATCH (s:SourceRecord)-[:RESOLVED_TO]->(:Customer {customer_id: id})
RETURN id AS customer_id, s {.*} AS record
"""

# The relationship types still on a customer (an absorbed one must have none before it goes).
RELATIONSHIP_TYPES_OF = """
MATCH (c:Customer {customer_id: $customer_id})
OPTIONAL MATCH (c)-[r]-()
RETURN collect(DISTINCT type(r)) AS types
"""

DELETE_CUSTOMER = """
MATCH (c:Customer {customer_id: $customer_id})
DELETE c
"""

# Which of these customer ids exist already.
EXISTING_CUSTOMERS = """
MATCH (c:Customer) WHERE c.customer_id IN $customer_ids
RETURN collect(c.customer_id) AS ids
"""

# The golden records of customers, written as the loader writes them (a null removes the
# field); a customer is created when missing. rows: the loader's customer rows.
WRITE_GOLDEN = """
UNWIND $rows AS row
MERGE (c:Customer {customer_id: row.customer_id})
SET c += row
"""

# The customers a split creates hold data the loads of the split customer wrote: they take its
# load run (``load_run_id``, graph/MODEL.md: what `c360 score --run` selects). A merge leaves
# the survivor's.
INHERIT_LOAD_RUN = """
MATCH (src:Customer {customer_id: $from_id})
UNWIND $customer_ids AS id
MATCH (c:Customer {customer_id: id})
SET c.load_run_id = src.load_run_id
"""

# Source records by key with the customer each resolves to and the caller's access to it.
RECORDS: dict[ScopeKind, str] = {
    scope: f"""
UNWIND $keys AS key
MATCH (s:SourceRecord {{system: key[0], source_id: key[1]}})
OPTIONAL MATCH (s)-[:RESOLVED_TO]->(c:Customer)
RETURN s.system AS system, s.source_id AS source_id, c.customer_id AS customer_id,
       c.name AS name, c.tier AS tier,
       CASE WHEN c IS NULL THEN 'direct' ELSE {ACCESS_EXPR[scope]} END AS access
ORDER BY system, source_id
"""
    for scope in ScopeKind
}

# After a scope fragment: the customer to split (served directly) and its records as stored.
SPLIT_TARGET_TAIL = """
WITH c, access WHERE access = 'direct'
OPTIONAL MATCH (s:SourceRecord)-[:RESOLVED_TO]->(c)
WITH c, s ORDER BY s.system, s.source_id
RETURN c.customer_id AS customer_id, collect(s {.*}) AS records
"""
