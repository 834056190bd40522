"""Batched writes of the canonical model: ``UNWIND $rows`` + ``MERGE`` on each label's key.

A re-run with the same rows changes nothing; a later row updates the fields it carries. Each
entity the loader writes from its rows has an :class:`Upsert` (its Cypher and the node it merges
on), which etl/entities.py names in the entity's declaration.

The rows of a customer's data (its golden and source records, the accounts it holds, holdings,
memberships, RM assignments, referrals, interactions) carry ``load_run_id``, the run writing
them (:attr:`Upsert.stamps_run`), and the query stamps it on every customer the row is about:
``Customer.load_run_id`` names the last load run that wrote anything of the customer, so
``c360 score --run`` finds every customer a delta load changed, whichever of its rows changed
(graph/queries/scoring.CUSTOMERS_OF_RUN). A row without it (a hand-built graph, etl/sample.py)
leaves the stamp as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neo4j import Driver

from graph import model
from graph.session import run

# One rate per currency and day; a later load of the same day's rate replaces it.
UPSERT_FX_RATES = """
UNWIND $rows AS row
MERGE (f:FxRate {currency: row.currency, rate_date: row.rate_date})
SET f.rate = row.rate, f.content_hash = row.content_hash
"""

UPSERT_BRANCHES = """
UNWIND $rows AS row
MERGE (b:Branch {branch_id: row.branch_id})
SET b += row
"""

UPSERT_EMPLOYEES = """
UNWIND $rows AS row
MERGE (e:Employee {employee_id: row.employee_id})
SET e += row
WITH e, row
MATCH (b:Branch {branch_id: row.branch_id})
MERGE (e)-[:WORKS_AT]->(b)
"""

UPSERT_PRODUCTS = """
UNWIND $rows AS row
MERGE (p:Product {product_code: row.product_code})
SET p += row
"""

UPSERT_CUSTOMERS = """
UNWIND $rows AS row
MERGE (c:Customer {customer_id: row.customer_id})
SET c += row
"""

# An account written (new or changed: a balance, a status) is its holders' data, of any role.
UPSERT_ACCOUNTS = """
UNWIND $rows AS row
MERGE (a:Account {account_id: row.account_id})
SET a += row.props
WITH a, row
CALL (a, row) {
  MATCH (c:Customer)-[:HOLDS]->(a)
  SET c.load_run_id = coalesce(row.load_run_id, c.load_run_id)
}
WITH a, row
MATCH (p:Product {product_code: row.props.product_code})
MERGE (a)-[:OF_PRODUCT]->(p)
WITH a, p
// a product code changed: the account is no longer of the product it was
OPTIONAL MATCH (a)-[old:OF_PRODUCT]->(q:Product) WHERE q <> p
DELETE old
"""

UPSERT_HOLDINGS = """
UNWIND $rows AS row
MATCH (c:Customer {customer_id: row.customer_id})
MATCH (a:Account {account_id: row.account_id})
MERGE (c)-[h:HOLDS]->(a)
SET h.role = row.role, h.ended_at = row.ended_at, h.origin = row.customer_id_origin,
    h.content_hash = row.content_hash, c.load_run_id = coalesce(row.load_run_id, c.load_run_id)
"""

UPSERT_HOUSEHOLDS = """
UNWIND $rows AS row
MERGE (h:Household {household_id: row.household_id})
SET h += row
"""

UPSERT_MEMBERSHIPS = """
UNWIND $rows AS row
MATCH (c:Customer {customer_id: row.customer_id})
MATCH (h:Household {household_id: row.household_id})
MERGE (c)-[m:MEMBER_OF]->(h)
SET m.role = row.role, m.since = row.since, m.ended_at = row.ended_at,
    m.origin = row.customer_id_origin, m.content_hash = row.content_hash,
    c.load_run_id = coalesce(row.load_run_id, c.load_run_id)
"""

UPSERT_MANAGES = """
UNWIND $rows AS row
MATCH (e:Employee {employee_id: row.employee_id})
MATCH (c:Customer {customer_id: row.customer_id})
MERGE (e)-[m:MANAGES]->(c)
SET m.since = row.since, m.origin = row.customer_id_origin, m.content_hash = row.content_hash,
    c.load_run_id = coalesce(row.load_run_id, c.load_run_id)
"""

# A source record and its lineage; a record that now resolves elsewhere loses its old link.
# ``keep_link``: the customer has records this load does not bring, so the link computed from
# this load's records alone is partial; a link the record already has to it stays as it is.
# Both customers are stamped with the run: the one it resolves to, and the one it left.
UPSERT_SOURCE_RECORDS = """
UNWIND $rows AS row
MERGE (s:SourceRecord {system: row.system, source_id: row.source_id})
SET s += row.props
WITH s, row
MATCH (c:Customer {customer_id: row.customer_id})
SET c.load_run_id = coalesce(row.load_run_id, c.load_run_id)
WITH s, c, row
OPTIONAL MATCH (s)-[old:RESOLVED_TO]->(other:Customer)
WHERE other.customer_id <> row.customer_id
SET other.load_run_id = coalesce(row.load_run_id, other.load_run_id)
DELETE old
WITH DISTINCT s, c, row
MERGE (s)-[r:RESOLVED_TO]->(c)
WITH r, row, row.keep_link AND r.rule IS NOT NULL AS kept
SET r.rule = CASE WHEN kept THEN r.rule ELSE row.rule END,
    r.confidence = CASE WHEN kept THEN r.confidence ELSE row.confidence END,
    r.match_weight = CASE WHEN kept THEN r.match_weight ELSE row.match_weight END,
    r.comparisons_json = CASE WHEN kept THEN r.comparisons_json ELSE row.comparisons_json END
"""

UPSERT_REFERRALS = """
UNWIND $rows AS row
MATCH (a:Customer {customer_id: row.referrer_id})
MATCH (b:Customer {customer_id: row.referred_id})
MERGE (a)-[r:REFERRED]->(b)
SET r.referred_at = row.referred_at, r.channel = row.channel, r.status = row.status,
    r.origin = row.referrer_id_origin, r.origin_to = row.referred_id_origin,
    r.content_hash = row.content_hash, a.load_run_id = coalesce(row.load_run_id, a.load_run_id),
    b.load_run_id = coalesce(row.load_run_id, b.load_run_id)
"""

# An item worked through the service desk's API (it has a ``status``) keeps the lifecycle the
# API wrote (response, resolution, outcome, category, cause) when its source row comes again: a
# CRM that still exports it open must not erase its resolution (resolvers/complaints.py).
UPSERT_INTERACTIONS = """
UNWIND $rows AS row
MERGE (i:Interaction {interaction_id: row.interaction_id})
WITH i, row, i.status IS NOT NULL AS worked,
     i {.first_response_at, .resolved_at, .outcome, .category, .cause_type, .cause_subtype}
       AS lifecycle
SET i += row.props
FOREACH (_ IN CASE WHEN worked THEN [1] ELSE [] END |
  SET i.first_response_at = lifecycle.first_response_at, i.resolved_at = lifecycle.resolved_at,
      i.outcome = lifecycle.outcome, i.category = lifecycle.category,
      i.cause_type = lifecycle.cause_type, i.cause_subtype = lifecycle.cause_subtype)
WITH i, row
MATCH (c:Customer {customer_id: row.customer_id})
MERGE (c)-[had:HAD]->(i)
SET had.origin = row.customer_id_origin, c.load_run_id = coalesce(row.load_run_id, c.load_run_id)
WITH i, row
WHERE row.employee_id IS NOT NULL
MATCH (e:Employee {employee_id: row.employee_id})
MERGE (i)-[:HANDLED_BY]->(e)
"""

# A customer's home branch, derived from what the graph holds (so a re-load, an incremental load
# or an extract without branches gives the same answer): the branch the customer's own source
# records name (the most recently updated first), else the branch of their oldest open PRIMARY
# account, else of their oldest PRIMARY account (all closed). Only a branch the graph knows
# counts. Sets ``home_branch_id`` (removed when there is none) and the one ``HOME_BRANCH``.
_HOME_BRANCH_OF_C = """
WITH DISTINCT c
WITH c,
  COLLECT { MATCH (s:SourceRecord)-[:RESOLVED_TO]->(c)
            MATCH (b:Branch {branch_id: s.home_branch_id})
            RETURN b ORDER BY s.updated_at IS NULL, s.updated_at DESC, s.system, s.source_id
  } AS own,
  COLLECT { MATCH (c)-[h:HOLDS {role: 'PRIMARY'}]->(a:Account)
            WHERE h.ended_at IS NULL
            MATCH (b:Branch {branch_id: a.branch_id})
            RETURN b ORDER BY a.closed_at IS NOT NULL OR coalesce(a.status, '') = 'CLOSED',
                              a.opened_at, a.account_id
  } AS opened
WITH c, coalesce(own[0], opened[0]) AS home
SET c.home_branch_id = home.branch_id
WITH c, home
CALL (c, home) {
  MATCH (c)-[old:HOME_BRANCH]->(b:Branch) WHERE home IS NULL OR b <> home
  DELETE old
}
CALL (c, home) {
  WITH c, home WHERE home IS NOT NULL
  MERGE (c)-[:HOME_BRANCH]->(home)
}
"""

# The home branch of the customers ``row.customer_id``.
UPSERT_HOME_BRANCHES = f"""
UNWIND $rows AS row
MATCH (c:Customer {{customer_id: row.customer_id}})
{_HOME_BRANCH_OF_C}"""

# The customers holding the accounts ``$account_ids`` (any role): whose home branch a load of
# those accounts may change.
HOLDERS_OF_ACCOUNTS = """
UNWIND $account_ids AS account_id
MATCH (:Account {account_id: account_id})<-[:HOLDS]-(c:Customer)
RETURN DISTINCT c.customer_id AS customer_id
"""


@dataclass(frozen=True)
class Upsert:
    """How the rows of one entity are written: ``query`` (``UNWIND $rows``), and the node it
    merges on by that node's key (None: relationships between nodes written before).

    Delta loads (etl/delta.py): every row carries ``content_hash`` (in ``row.props`` when
    ``in_props``), which the query stores on what it writes; ``match`` binds ``x`` (the node or
    relationship a row writes) from the row's ``keys``, so :func:`changed_query` can read the
    stored hashes of a batch in one query.

    ``stamps_run``: the rows are a customer's data; the loader puts the run's id in each
    (``load_run_id``, top-level, not hashed) and the query stamps it on the customers the row is
    about (the module docstring)."""

    query: str
    node: model.Node | None = None
    match: str = ""
    keys: tuple[str, ...] = ()
    in_props: bool = False
    stamps_run: bool = False


def _on_node(
    query: str, node: model.Node, *, in_props: bool = False, stamps_run: bool = False
) -> Upsert:
    """An upsert merging on ``node`` by its key (the key fields are top-level in the row)."""
    where = ", ".join(f"{k}: row.{k}" for k in node.key)
    return Upsert(
        query, node, f"MATCH (x:{node.label} {{{where}}})", node.key, in_props, stamps_run
    )


def changed_query(upsert: Upsert) -> str:
    """``$rows`` of ``{i, h, <keys>}`` → the ``i`` of the rows whose node or relationship is
    absent or does not hold the content hash ``h`` (what a delta load writes). The changed rows,
    not the unchanged: in a delta load they are the few, and every row returned is one more
    record for the server to send and the driver to read (99 % of the rows before)."""
    # one MATCH clause, made optional whole (a second clause would stay mandatory: the rows
    # absent from the graph would never be written)
    assert upsert.match.startswith("MATCH ") and upsert.match.count("MATCH") == 1, upsert.match
    return (
        f"UNWIND $rows AS row OPTIONAL {upsert.match} WHERE x.content_hash = row.h "
        "WITH row, x WHERE x IS NULL RETURN row.i AS i"
    )


FX_RATES = _on_node(UPSERT_FX_RATES, model.FX_RATE)
BRANCHES = _on_node(UPSERT_BRANCHES, model.BRANCH)
EMPLOYEES = _on_node(UPSERT_EMPLOYEES, model.EMPLOYEE)
PRODUCTS = _on_node(UPSERT_PRODUCTS, model.PRODUCT)
CUSTOMERS = _on_node(UPSERT_CUSTOMERS, model.CUSTOMER, stamps_run=True)  # SET c += row
SOURCE_RECORDS = _on_node(
    UPSERT_SOURCE_RECORDS, model.SOURCE_RECORD, in_props=True, stamps_run=True
)
ACCOUNTS = _on_node(UPSERT_ACCOUNTS, model.ACCOUNT, in_props=True, stamps_run=True)
HOLDINGS = Upsert(
    UPSERT_HOLDINGS,
    match="MATCH (:Customer {customer_id: row.customer_id})-[x:HOLDS]->"
    "(:Account {account_id: row.account_id})",
    keys=("customer_id", "account_id"),
    stamps_run=True,
)
HOUSEHOLDS = _on_node(UPSERT_HOUSEHOLDS, model.HOUSEHOLD)
MEMBERSHIPS = Upsert(
    UPSERT_MEMBERSHIPS,
    match="MATCH (:Customer {customer_id: row.customer_id})-[x:MEMBER_OF]->"
    "(:Household {household_id: row.household_id})",
    keys=("customer_id", "household_id"),
    stamps_run=True,
)
MANAGES = Upsert(
    UPSERT_MANAGES,
    match="MATCH (:Employee {employee_id: row.employee_id})-[x:MANAGES]->"
    "(:Customer {customer_id: row.customer_id})",
    keys=("employee_id", "customer_id"),
    stamps_run=True,
)
REFERRALS = Upsert(
    UPSERT_REFERRALS,
    match="MATCH (:Customer {customer_id: row.referrer_id})-[x:REFERRED]->"
    "(:Customer {customer_id: row.referred_id})",
    keys=("referrer_id", "referred_id"),
    stamps_run=True,
)
INTERACTIONS = _on_node(UPSERT_INTERACTIONS, model.INTERACTION, in_props=True, stamps_run=True)


def write_batch(driver: Driver, query: str, rows: list[dict[str, Any]], *, database: str) -> None:
    """One write transaction for one batch (routed to the leader on a cluster)."""
    if rows:
        run(driver, database, query, rows=rows)
