"""Reads of the customer aggregate, always through a row-scope fragment (graph/queries/scope.py).

``DETAILS`` loads everything a profile shows for each bound customer ``c`` in one pass, so a
page of customers costs the same single query as one profile (no N+1).
"""

from __future__ import annotations

from typing import Any

from neo4j import AsyncManagedTransaction

from graph.queries.scope import SCOPE_MATCH, ScopeKind

DETAILS = """
CALL (c) {
  OPTIONAL MATCH (c)-[m:MEMBER_OF]->(h:Household)
  WITH h, m ORDER BY m.ended_at IS NULL DESC, m.ended_at DESC
  RETURN collect(h {.household_id, .name, .aum, .tier, role: m.role, since: m.since,
                    ended_at: m.ended_at})[0] AS household
}
CALL (c) {
  OPTIONAL MATCH (c)-[r:HOLDS]->(a:Account)
  OPTIONAL MATCH (a)-[:OF_PRODUCT]->(p:Product)
  RETURN collect(CASE WHEN a IS NULL THEN NULL ELSE a {ACCOUNT_FIELDS, holder_role: r.role,
         product_name: p.name} END) AS accounts
}
CALL (c) {
  OPTIONAL MATCH (e:Employee)-[m:MANAGES]->(c)
  RETURN collect(e {.employee_id, .name, .title, .branch_id, since: m.since})[0] AS relationship_manager
}
CALL (c) {
  OPTIONAL MATCH (r:Customer)-[ref:REFERRED]->(c)
  RETURN collect(r {.customer_id, .name, referred_at: ref.referred_at})[0] AS referred_by
}
CALL (c) {
  OPTIONAL MATCH (c)-[ref:REFERRED]->(r:Customer)
  RETURN collect(r {.customer_id, .name, referred_at: ref.referred_at}) AS referrals
}
CALL (c) {
  OPTIONAL MATCH (s:SourceRecord)-[rt:RESOLVED_TO]->(c)
  RETURN collect(s {.system, .source_id, rule: rt.rule, confidence: rt.confidence}) AS source_records
}
"""

# The row the API maps to a Customer: the stored properties it shows (not ``.*``: the monthly
# balance history, hashes and scoring inputs would be sent and decoded for nothing), then the
# parts above.
ROW = """c {CUSTOMER_FIELDS, birth_year: c.birth_date.year, accounts: accounts, household: household,
       relationship_manager: relationship_manager, referred_by: referred_by,
       referrals: referrals, source_records: source_records,
       value: c {.tier, .previous_tier, .tier_changed_at, .value_score, .value_components_json,
                 .clv, .influence, .referred_aum, .lifecycle_stage, .scored_at},
       risk: c {.downgrade_risk_level, .projected_aum, .tier_floor, .evaluation_date,
                .downgrade_reasons, .churn_risk_level, .churn_reasons},
       recommendations: coalesce(c.recommendations_json, '[]'),
       interactions: true}"""

_CUSTOMER_FIELDS = (
    "customer_id", "name", "gender", "birth_date", "phone", "email", "national_id_last4",
    "address", "city", "segment", "status", "tier", "value_score", "risk_rating",
    "downgrade_risk_level", "churn_risk_level", "aum",
)  # fmt: skip
_ACCOUNT_FIELDS = (
    "account_id", "product_type", "product_code", "currency", "balance", "status", "opened_at",
    "maturity_date", "closed_at",
)  # fmt: skip


def _props(names: tuple[str, ...]) -> str:
    return ", ".join(f".{n}" for n in names)


DETAILS = DETAILS.replace("ACCOUNT_FIELDS", _props(_ACCOUNT_FIELDS))
ROW = ROW.replace("CUSTOMER_FIELDS", _props(_CUSTOMER_FIELDS))

PROFILE_TAIL = DETAILS + f"RETURN {ROW} AS customer, access\n"

# One constant per scope kind: the scope fragment followed by the profile.
CUSTOMER_PROFILE: dict[ScopeKind, str] = {
    kind: fragment + PROFILE_TAIL for kind, fragment in SCOPE_MATCH.items()
}


async def fetch_profile(
    tx: AsyncManagedTransaction,
    *,
    scope: ScopeKind,
    customer_id: str,
    scope_params: dict[str, Any],
) -> dict[str, Any] | None:
    """The customer's profile row if the scope lets the caller see it, else None."""
    result = await tx.run(CUSTOMER_PROFILE[scope], customer_id=customer_id, **scope_params)
    record = await result.single()
    if record is None:
        return None
    return {**record["customer"], "access": record["access"]}
