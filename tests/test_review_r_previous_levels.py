"""Review of branch `reasons`: previous_*_risk_level under a re-run of the same as-of date.

The job's re-runs are meant to be stable (tests/test_scoring_bank.py); the alerts branch reads
``previous_*_risk_level`` as "the previous scoring run's" (CHURN_RISK_RAISED). WRITE_SCORES copies
the current level into previous_* on every write, so re-scoring the same data for the same as-of
(a retry, a load's --run-id scoring followed by the nightly run) erases the raise it recorded.
"""

from __future__ import annotations

from neo4j import Driver, RoutingControl

from core.settings import Settings
from scoring.config import load_config
from scoring.job import run_scoring
from synthetic import GenerateOptions, generate_bank
from tests.etl_support import load, reset


def _one(driver: Driver, settings: Settings, query: str, **params) -> dict:
    [record] = driver.execute_query(
        query, params, database_=settings.neo4j_database, routing_control=RoutingControl.READ
    ).records
    return record.data()


def test_a_rerun_of_the_same_as_of_keeps_the_previous_levels(tmp_path, driver, settings):
    out = tmp_path / "bank"
    generate_bank(GenerateOptions(customers=200, seed=7, out=out))
    reset(driver, settings)
    load(driver, settings, out)
    db, cfg = settings.neo4j_database, load_config()
    run_scoring(driver, database=db, cfg=cfg)
    calm = _one(driver, settings, """MATCH (c:Customer {churn_risk_level: 'NONE'})
        RETURN c.customer_id AS id ORDER BY id LIMIT 1""")  # fmt: skip
    driver.execute_query(
        """MATCH (c:Customer {customer_id: $id})
        CREATE (c)-[:HAD]->(:Interaction {interaction_id: 'REVIEW-COMPLAINT', kind: 'COMPLAINT',
               occurred_at: datetime('2026-09-01T10:00:00Z'), channel: 'BRANCH'})""",
        {"id": calm["id"]},
        database_=db,
    )
    run_scoring(driver, database=db, cfg=cfg, ids=[calm["id"]])
    query = """MATCH (c:Customer {customer_id: $id}) RETURN c.churn_risk_level AS churn,
        c.previous_churn_risk_level AS previous, c.scored_as_of AS as_of"""
    first = _one(driver, settings, query, id=calm["id"])
    assert first["previous"] == "NONE" and first["churn"] in ("MEDIUM", "HIGH"), first
    run_scoring(driver, database=db, cfg=cfg)  # the same data, the same as-of: a re-run
    again = _one(driver, settings, query, id=calm["id"])
    assert again["as_of"] == first["as_of"]
    assert again == first, "a re-run of the same as-of erased the raise since the previous run"
