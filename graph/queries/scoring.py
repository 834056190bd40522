"""Reads and writes of the scoring job. Reads page through customers by key (bounded memory)."""

from __future__ import annotations

from typing import Any

from neo4j import Driver

from graph.queries import mean
from graph.session import quiet


def run_in_transactions(driver: Driver, database: str, query: str, /, **params: Any) -> None:
    """A query with ``CALL ... IN TRANSACTIONS`` (the roll-ups below): it commits its own inner
    transactions, so it runs in an implicit (auto-commit) one, which ``execute_query`` and
    managed transactions cannot give."""
    with driver.session(database=database) as session:
        session.run(query, quiet(params)).consume()


AS_OF = """
MATCH (a:Account) WHERE a.monthly_balance_end <= $today
RETURN max(a.monthly_balance_end) AS as_of
"""

# Without month-end balances: the newest date an account or an interaction carries (the job
# takes the end of its month). Dates after $today are keying errors and ignored, here and below;
# interactions are read newest first along their occurred_at index, stopping at the first one not
# after today (OPTIONAL: a graph without one still gives its row).
NEWEST_DATES = """
CALL () {
  OPTIONAL MATCH (a:Account) WHERE a.opened_at <= $today
  RETURN a.opened_at AS opened ORDER BY a.opened_at DESC LIMIT 1
}
CALL () {
  OPTIONAL MATCH (a:Account) WHERE a.closed_at <= $today
  RETURN a.closed_at AS closed ORDER BY a.closed_at DESC LIMIT 1
}
OPTIONAL CALL () {
  MATCH (i:Interaction) WHERE i.occurred_at IS NOT NULL
  WITH i ORDER BY i.occurred_at DESC
  WITH date(i.occurred_at) AS occurred WHERE occurred <= $today
  RETURN occurred LIMIT 1
}
RETURN opened, closed, occurred
"""

HAS_INTERACTIONS = "RETURN EXISTS { MATCH (:Interaction) } AS found"

# The same facts over some customers only (a system's, a load's): month-end, newest dates and
# how many interactions they have, per page of ids.
DATES_OF_CUSTOMERS = """
UNWIND $ids AS id
MATCH (c:Customer {customer_id: id})
CALL (c) {
  OPTIONAL MATCH (c)-[:HOLDS]->(a:Account)
  RETURN max(CASE WHEN a.monthly_balance_end <= $today THEN a.monthly_balance_end END) AS month_end,
         max(CASE WHEN a.opened_at <= $today THEN a.opened_at END) AS opened,
         max(CASE WHEN a.closed_at <= $today THEN a.closed_at END) AS closed
}
CALL (c) {
  OPTIONAL MATCH (c)-[:HAD]->(i:Interaction)
  WITH i, date(i.occurred_at) AS d
  RETURN max(CASE WHEN d <= $today THEN d END) AS occurred, count(i) AS interactions
}
RETURN max(month_end) AS month_end, max(opened) AS opened, max(closed) AS closed,
       max(occurred) AS occurred, sum(interactions) AS interactions
"""

# The newest rate of each currency on or before the as-of date.
FX_RATES_AS_OF = """
MATCH (f:FxRate) WHERE f.rate_date <= $as_of
WITH f ORDER BY f.rate_date DESC
WITH f.currency AS currency, collect(f)[0] AS newest
RETURN currency, newest.rate AS rate, newest.rate_date AS rate_date
"""

# The customers behind a system's source records.
CUSTOMERS_OF_SYSTEM = """
MATCH (s:SourceRecord {system: $system})-[:RESOLVED_TO]->(c:Customer)
RETURN DISTINCT c.customer_id AS id
"""

# Customers no source record resolves to (a graph written by other means than the loader).
CUSTOMERS_WITHOUT_RECORD = """
MATCH (c:Customer) WHERE NOT EXISTS { (:SourceRecord)-[:RESOLVED_TO]->(c) }
RETURN c.customer_id AS id
"""

SYSTEMS = "MATCH (s:SourceRecord) RETURN DISTINCT s.system AS system ORDER BY system"

LOAD_RUN = """
MATCH (r:LoadRun {run_id: $run_id})
RETURN r.started_at AS started_at, r.status AS status, r.source AS source
"""

# The customers a load run wrote anything of: the loader stamps ``load_run_id`` on every
# customer a row of its data is about (golden and source records, accounts held, holdings,
# memberships, RM assignments, referrals, interactions: graph/queries/upserts.py), so a delta
# load that changed only an account's balance selects its holders. The stamp names the last run
# that wrote the customer (one written again later belongs to the later run). Customers of runs
# from before the stamp are still found by their source records: a record carries the start of
# the run that last wrote it as ``loaded_at``, and a finished run lists its files as
# "<system>/<file>", which tells apart two runs of other systems started in the same second.
# The first arm is a seek of the index customer_load_run (graph/migrate.py); the second scans
# the source records, as this query always did.
CUSTOMERS_OF_RUN = """
MATCH (r:LoadRun {run_id: $run_id})
CALL (r) {
  MATCH (c:Customer {load_run_id: r.run_id})
  RETURN c
  UNION
  MATCH (s:SourceRecord) WHERE s.loaded_at = r.started_at
    AND (r.extract_files IS NULL OR any(f IN r.extract_files WHERE f STARTS WITH s.system + '/'))
  MATCH (s)-[:RESOLVED_TO]->(c:Customer)
  RETURN c
}
RETURN DISTINCT c.customer_id AS id
"""

REFERRAL_EDGES = """
MATCH (a:Customer)-[:REFERRED]->(b:Customer)
RETURN a.customer_id AS referrer, b.customer_id AS referred
"""

# One page of customers with everything the rules need. $after is the last key of the previous
# page ('' for the first); $ids restricts to given customers when not null. $since_12m, $since_6m
# and $since_complaints: the as-of date less 12 months, 6 months, churn.recent_complaint_days.
CUSTOMER_FACTS_PAGE = (
    """
MATCH (c:Customer)
WHERE c.customer_id > $after AND ($ids IS NULL OR c.customer_id IN $ids)
WITH c ORDER BY c.customer_id LIMIT $limit
CALL (c) {
  OPTIONAL MATCH (c)-[h:HOLDS]->(a:Account)
  WHERE coalesce(h.role, 'PRIMARY') IN ['PRIMARY', 'JOINT'] AND h.ended_at IS NULL
  RETURN collect(a {.product_type, .product_code, .balance, .status, .monthly_balances,
                    .maturity_date, .closed_at, .currency,
                    holder_role: coalesce(h.role, 'PRIMARY')}) AS accounts
}
CALL (c) {
  OPTIONAL MATCH (c)-[:HAD]->(i:Interaction)
  WITH i, date(i.occurred_at) AS d
  RETURN max(d) AS last_interaction_at,
         count(CASE WHEN d > $since_12m THEN 1 END) AS interactions_12m,
         count(CASE WHEN i.kind = 'COMPLAINT' AND i.resolved_at IS NULL THEN 1 END) AS open_complaints,
         min(CASE WHEN i.kind = 'COMPLAINT' AND i.resolved_at IS NULL THEN d END) AS oldest_open_complaint_at,
         count(CASE WHEN i.kind = 'COMPLAINT' AND d > $since_complaints THEN 1 END) AS recent_complaints,
         {satisfaction_recent} AS satisfaction_recent,
         {satisfaction_earlier} AS satisfaction_earlier,
         {nps_recent} AS nps_recent
}
RETURN c.customer_id AS customer_id, c.status AS status, c.onboarded_at AS onboarded_at,
       c.tier AS previous_tier, c.city AS city, accounts, last_interaction_at, interactions_12m,
       open_complaints, oldest_open_complaint_at, recent_complaints, satisfaction_recent,
       satisfaction_earlier, nps_recent
""".replace("{satisfaction_recent}", mean("CASE WHEN d > $since_6m THEN i.satisfaction END"))
    .replace(
        "{satisfaction_earlier}",
        mean("CASE WHEN d <= $since_6m AND d > $since_12m THEN i.satisfaction END"),
    )
    .replace("{nps_recent}", mean("CASE WHEN d > $since_6m THEN i.nps END"))
)

# The levels before this run are kept first (null on a first run): the "risk raised since the
# previous scoring run" alerts compare them with the new ones. Each moves when the as-of date
# advances, or when a run for the same as-of (on newer data) changes that level; a re-run that
# finds the same level keeps it (a retry must not erase the raise it recorded), but one never set
# takes the level already stored (equal to the new one: no raise either way). The stored as-of
# is compared as a date (a Date never compares with a DateTime or a string in Cypher); one not
# known to be the same or later counts as advanced.
WRITE_SCORES = """
UNWIND $rows AS row
MATCH (c:Customer {customer_id: row.customer_id})
WITH c, row, NOT coalesce(date(c.scored_as_of) >= date(row.props.scored_as_of), false) AS advanced
SET c.previous_downgrade_risk_level = CASE
      WHEN advanced OR c.previous_downgrade_risk_level IS NULL
        OR c.downgrade_risk_level <> row.props.downgrade_risk_level
      THEN c.downgrade_risk_level ELSE c.previous_downgrade_risk_level END,
    c.previous_churn_risk_level = CASE
      WHEN advanced OR c.previous_churn_risk_level IS NULL
        OR c.churn_risk_level <> row.props.churn_risk_level
      THEN c.churn_risk_level ELSE c.previous_churn_risk_level END
SET c += row.props
WITH c, row WHERE row.change IS NOT NULL
MERGE (t:TierChange {change_id: row.change.change_id})
SET t += row.change
MERGE (t)-[:OF]->(c)
"""

# Roll-ups run inside the database, in batches of their own.
REFERRED_AUM = """
MATCH (c:Customer)
CALL (c) {
  OPTIONAL MATCH (c)-[:REFERRED]->(r:Customer)
  WITH c, r ORDER BY r.customer_id
  WITH c, sum(coalesce(r.aum, 0.0)) AS referred_aum
  SET c.referred_aum = referred_aum
} IN TRANSACTIONS OF 10000 ROWS
"""

# Household AUM in the reporting currency: $rates maps a currency to its rate at the as-of date;
# an account in a currency without one is left out (as in the customers' AUM), and so is the
# overdraft of an overdrawn account. The accounts are summed in the order of their ids, so a
# household's AUM is the same float whichever way the planner reached them (a delta's roll-up
# equals a full one's). The body is shared by the roll-up of every household and that of the
# households of some customers (a system's, a load's: the others keep theirs).
_HOUSEHOLD_AUM = """
  OPTIONAL MATCH (h)<-[m:MEMBER_OF]-(c:Customer) WHERE m.ended_at IS NULL
  OPTIONAL MATCH (c)-[hold:HOLDS]->(a:Account)
  WHERE a.status <> 'CLOSED' AND a.product_type IN $asset_types AND hold.ended_at IS NULL
  WITH h, a ORDER BY a.account_id
  WITH h, collect(DISTINCT a) AS accounts
  WITH h, reduce(s = 0.0, a IN accounts |
    s + CASE WHEN coalesce(a.balance, 0.0) <= 0.0 THEN 0.0
             WHEN coalesce(a.currency, $reporting) = $reporting THEN a.balance
             ELSE a.balance * coalesce($rates[a.currency], 0.0) END) AS aum
  SET h.aum = aum,
      h.tier = CASE WHEN aum >= $core_floor THEN 'CORE' WHEN aum >= $key_floor THEN 'KEY'
                    ELSE 'ORDINARY' END,
      h.scored_at = $scored_at
"""

HOUSEHOLD_ROLLUP = (
    "MATCH (h:Household)\nCALL (h) {" + _HOUSEHOLD_AUM + "} IN TRANSACTIONS OF 10000 ROWS\n"
)

# The households a page of customers ($ids) is or was a member of: one a customer has left (a
# delta load that ended the membership, scored by `c360 score --run`) is rolled up without them.
HOUSEHOLD_ROLLUP_OF_CUSTOMERS = (
    "UNWIND $ids AS id\n"
    "MATCH (:Customer {customer_id: id})-[:MEMBER_OF]->(h:Household)\n"
    "WITH DISTINCT h\nCALL (h) {" + _HOUSEHOLD_AUM + "}\n"
)

# Share of customers of each (tier, city) holding each product.
TIER_CITY_PRODUCT_SHARES = """
MATCH (c:Customer) WHERE c.tier IS NOT NULL
WITH c.tier AS tier, c.city AS city, count(c) AS size
CALL (tier, city) {
  MATCH (p:Customer {tier: tier, city: city})-[:HOLDS]->(:Account)-[:OF_PRODUCT]->(prod:Product)
  RETURN prod.product_code AS code, count(DISTINCT p) AS holders
}
RETURN tier, city, size, collect({code: code, holders: holders}) AS products
"""

PRODUCT_NAMES = "MATCH (p:Product) RETURN p.product_code AS code, p.name AS name"

# For a page of customers: products held, and product counts among household and referral peers.
PEER_PRODUCTS_PAGE = """
UNWIND $ids AS id
MATCH (c:Customer {customer_id: id})
CALL (c) {
  OPTIONAL MATCH (c)-[:HOLDS]->(a:Account)-[:OF_PRODUCT]->(p:Product) WHERE a.status <> 'CLOSED'
  RETURN collect(DISTINCT p.product_code) AS held
}
CALL (c) {
  OPTIONAL MATCH (c)-[m:MEMBER_OF]->(:Household)<-[m2:MEMBER_OF]-(peer:Customer)
  WHERE m.ended_at IS NULL AND m2.ended_at IS NULL AND peer <> c
  WITH collect(DISTINCT peer) AS peers
  UNWIND (CASE WHEN size(peers) = 0 THEN [null] ELSE peers END) AS peer
  OPTIONAL MATCH (peer)-[:HOLDS]->(a:Account)-[:OF_PRODUCT]->(p:Product) WHERE a.status <> 'CLOSED'
  WITH size(peers) AS n, p.product_code AS code, count(DISTINCT peer) AS holders
  RETURN n AS household_size, collect(CASE WHEN code IS NULL THEN NULL ELSE {code: code, holders: holders} END) AS household_products
}
CALL (c) {
  OPTIONAL MATCH (c)-[:REFERRED]-(peer:Customer) WHERE peer <> c
  WITH collect(DISTINCT peer) AS peers
  UNWIND (CASE WHEN size(peers) = 0 THEN [null] ELSE peers END) AS peer
  OPTIONAL MATCH (peer)-[:HOLDS]->(a:Account)-[:OF_PRODUCT]->(p:Product) WHERE a.status <> 'CLOSED'
  WITH size(peers) AS n, p.product_code AS code, count(DISTINCT peer) AS holders
  RETURN n AS referral_size, collect(CASE WHEN code IS NULL THEN NULL ELSE {code: code, holders: holders} END) AS referral_products
}
RETURN c.customer_id AS customer_id, c.tier AS tier, c.city AS city, held,
       household_size, household_products, referral_size, referral_products
"""

# The customer's current recommendations, and their history: one Recommendation per customer
# and product, made_on the as-of date of the run that first made it (the customer's
# scored_as_of, written by this run), last_made_on the latest (graph/MODEL.md).
WRITE_RECOMMENDATIONS = """
UNWIND $rows AS row
MATCH (c:Customer {customer_id: row.customer_id})
SET c.recommendations_json = row.recommendations_json
WITH c, row
UNWIND row.product_codes AS code
MERGE (r:Recommendation {customer_id: c.customer_id, product_code: code})
ON CREATE SET r.made_on = c.scored_as_of, r.last_made_on = c.scored_as_of
ON MATCH SET r.made_on = CASE WHEN c.scored_as_of < r.made_on THEN c.scored_as_of
                              ELSE r.made_on END,
             r.last_made_on = CASE WHEN c.scored_as_of > r.last_made_on THEN c.scored_as_of
                                   ELSE r.last_made_on END
MERGE (r)-[:FOR]->(c)
"""

CUSTOMER_IDS_PAGE = """
MATCH (c:Customer) WHERE c.customer_id > $after AND ($ids IS NULL OR c.customer_id IN $ids)
RETURN c.customer_id AS id ORDER BY id LIMIT $limit
"""
