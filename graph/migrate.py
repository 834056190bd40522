"""The graph schema: every unique constraint and index of the model, applied idempotently.

Each statement uses ``IF NOT EXISTS`` and a fixed name, so applying the migration twice leaves the
same schema. Applied by ``c360 graph migrate`` and on start-up of the API and the loader.
"""

from __future__ import annotations

from neo4j import Driver, RoutingControl

from graph.model import NODES

# (name, label, key properties): one uniqueness constraint per node with a key (graph/model.py)
UNIQUE_KEYS: tuple[tuple[str, str, tuple[str, ...]], ...] = tuple(
    (node.constraint, node.label, node.key) for node in NODES
)

# (name, label, property) range indexes on properties used to look up or filter
PROPERTY_INDEXES: tuple[tuple[str, str, str], ...] = (
    ("customer_phone", "Customer", "phone"),
    ("customer_national_id_hash", "Customer", "national_id_hash"),
    ("customer_city", "Customer", "city"),
    ("customer_segment", "Customer", "segment"),
    ("customer_status", "Customer", "status"),
    ("customer_tier", "Customer", "tier"),
    ("customer_value_score", "Customer", "value_score"),
    ("customer_downgrade_rank", "Customer", "downgrade_risk_rank"),
    ("customer_birth_date", "Customer", "birth_date"),  # the birthdays of a window (alerts)
    ("customer_load_run", "Customer", "load_run_id"),  # the customers of a load (c360 score --run)
    ("account_product_type", "Account", "product_type"),
    ("account_status", "Account", "status"),
    ("account_maturity", "Account", "maturity_date"),
    ("interaction_occurred_at", "Interaction", "occurred_at"),
    ("interaction_kind", "Interaction", "kind"),
    ("interaction_client_id", "Interaction", "client_mutation_id"),
    ("tier_change_changed_at", "TierChange", "changed_at"),
    ("employee_branch", "Employee", "branch_id"),
    ("load_run_started", "LoadRun", "started_at"),
    ("audit_event_at", "AuditEvent", "at"),
    ("audit_event_subject", "AuditEvent", "subject"),
    ("console_session_expires", "ConsoleSession", "expires_at"),
    ("console_login_expires", "ConsoleLogin", "expires_at"),
)

# (name, label, properties) composite range indexes: a filter on the first with an order on the
# next (the review queue: status, oldest first; the customers whose risk rose from one level to
# another since the previous scoring run, graph/queries/alerts.py)
COMPOSITE_INDEXES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("identity_review_status_created", "IdentityReview", ("status", "created_at")),
    (
        "customer_downgrade_raised",
        "Customer",
        ("previous_downgrade_risk_level", "downgrade_risk_level"),
    ),
    ("customer_churn_raised", "Customer", ("previous_churn_risk_level", "churn_risk_level")),
    # one snapshot run's counts of a kind of group for some periods (graph/queries/kpi_snapshots)
    ("kpi_snapshot_lookup", "KpiSnapshot", ("run_id", "groups", "period")),
)

FULLTEXT_INDEXES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("customer_name_fulltext", "Customer", ("name",)),
)


def migration_statements() -> list[str]:
    """The Cypher of the migration. Names and labels are constants of this module, never input."""
    stmts = []
    for name, label, keys in UNIQUE_KEYS:
        key_props = ", ".join(f"n.{k}" for k in keys)
        stmts.append(
            f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE ({key_props}) IS UNIQUE"
        )
    for name, label, prop in PROPERTY_INDEXES:
        stmts.append(f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})")
    for name, label, props in COMPOSITE_INDEXES:
        fields = ", ".join(f"n.{p}" for p in props)
        stmts.append(f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{label}) ON ({fields})")
    for name, label, props in FULLTEXT_INDEXES:
        fields = ", ".join(f"n.{p}" for p in props)
        stmts.append(
            f"CREATE FULLTEXT INDEX {name} IF NOT EXISTS FOR (n:{label}) ON EACH [{fields}]"
        )
    return stmts


def apply(driver: Driver, *, database: str, wait_s: int = 300) -> int:
    """Apply every statement, wait for the indexes to come online; return the statement count."""
    stmts = migration_statements()
    for stmt in stmts:
        driver.execute_query(stmt, database_=database, routing_control=RoutingControl.WRITE)
    driver.execute_query(
        f"CALL db.awaitIndexes({int(wait_s)})",
        database_=database,
        routing_control=RoutingControl.WRITE,
    )
    return len(stmts)


def describe(driver: Driver, *, database: str) -> dict[str, list[str]]:
    """Names of the constraints and indexes in the database (for tests and `c360 graph status`)."""
    constraints = driver.execute_query(
        "SHOW CONSTRAINTS YIELD name RETURN name ORDER BY name",
        database_=database,
        routing_control=RoutingControl.READ,
    ).records
    indexes = driver.execute_query(
        "SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name ORDER BY name",
        database_=database,
        routing_control=RoutingControl.READ,
    ).records
    return {
        "constraints": [r["name"] for r in constraints],
        "indexes": [r["name"] for r in indexes],
    }
