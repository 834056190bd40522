"""Scoring the generated bank (issue 6): the planted scenarios are found, re-runs are stable."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from neo4j import Driver, RoutingControl

from core.messages import render_reason
from core.settings import Settings
from scoring.config import load_config
from scoring.job import run_scoring
from synthetic import GenerateOptions, generate_bank
from tests.etl_support import load, reset


@pytest.fixture(scope="module")
def scored(tmp_path_factory, driver: Driver, settings: Settings):
    out = tmp_path_factory.mktemp("scored") / "bank"
    generate_bank(GenerateOptions(customers=1500, seed=7, out=out))
    reset(driver, settings)
    load(driver, settings, out)
    summary = run_scoring(driver, database=settings.neo4j_database, cfg=load_config())
    return out, summary


def _read(driver: Driver, settings: Settings, query: str, **params):
    return driver.execute_query(
        query, params, database_=settings.neo4j_database, routing_control=RoutingControl.READ
    ).records


def _planted(bank: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with open(bank / "ground_truth" / "scenarios.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["scenario"], []).append(row["core_source_id"])
    return out


FACTS = """
UNWIND $ids AS id
MATCH (:SourceRecord {system: 'core', source_id: id})-[:RESOLVED_TO]->(c:Customer)
RETURN id, c.downgrade_risk_level AS downgrade, c.lifecycle_stage AS stage, c.influence AS influence,
       c.downgrade_reasons_json AS reasons
"""


def test_planted_scenarios_are_found(scored, driver, settings):
    bank, summary = scored
    planted = _planted(bank)
    assert summary.customers > 1000
    facts = {
        s: [r.data() for r in _read(driver, settings, FACTS, ids=ids)] for s, ids in planted.items()
    }
    for scenario, ids in planted.items():
        assert len(facts[scenario]) == len(ids), f"every planted {scenario} is a loaded customer"

    decliners = facts["DECLINER"]
    flagged = [f for f in decliners if f["downgrade"] in ("HIGH", "MEDIUM")]
    assert len(flagged) >= 0.9 * len(decliners), [f for f in decliners if f not in flagged]
    assert all(json.loads(f["reasons"]) for f in flagged)

    stable = facts["STABLE"]
    assert sum(f["downgrade"] == "HIGH" for f in stable) <= 0.05 * len(stable)

    dormant = facts["DORMANT"]
    assert all(f["stage"] == "DORMANT" for f in dormant), [
        f for f in dormant if f["stage"] != "DORMANT"
    ]

    ranks = sorted(
        (
            r["i"] or 0.0
            for r in _read(driver, settings, "MATCH (c:Customer) RETURN c.influence AS i")
        ),
        reverse=True,
    )
    top_decile_floor = ranks[len(ranks) // 10]
    assert all((f["influence"] or 0.0) >= top_decile_floor for f in facts["INFLUENCER"])


def test_a_reason_carries_the_numbers(scored, driver, settings):
    stored = [
        json.loads(r["why"])[0]
        for r in _read(
            driver,
            settings,
            """MATCH (c:Customer {downgrade_risk_level: 'HIGH'})
            RETURN c.downgrade_reasons_json AS why LIMIT 20""",
        )
    ]
    assert stored
    floors = [r for r in stored if "floor" in r["params"]]
    assert floors and all(r["params"]["floor"] in (300_000, 1_000_000) for r in floors)
    for reason in stored:
        zh, en = render_reason(reason, "zh-CN"), render_reason(reason, "en")
        assert any(ch.isdigit() for ch in zh) and any(ch.isdigit() for ch in en), reason
        assert zh != en


def test_households_roll_up_and_rescoring_changes_nothing(scored, driver, settings):
    before = _read(
        driver,
        settings,
        """
        MATCH (c:Customer) RETURN c.customer_id AS id, c.tier AS tier, c.value_score AS score,
               c.downgrade_risk_level AS risk ORDER BY id""",
    )
    changes_before = _read(driver, settings, "MATCH (t:TierChange) RETURN count(t) AS n")[0]["n"]
    run_scoring(driver, database=settings.neo4j_database, cfg=load_config())
    after = _read(
        driver,
        settings,
        """
        MATCH (c:Customer) RETURN c.customer_id AS id, c.tier AS tier, c.value_score AS score,
               c.downgrade_risk_level AS risk ORDER BY id""",
    )
    assert [r.data() for r in before] == [r.data() for r in after]
    assert (
        _read(driver, settings, "MATCH (t:TierChange) RETURN count(t) AS n")[0]["n"]
        == changes_before
    )
    rows = _read(
        driver,
        settings,
        """
        MATCH (h:Household) WHERE h.aum IS NOT NULL
        CALL (h) {
          MATCH (h)<-[m:MEMBER_OF]-(:Customer)-[:HOLDS]->(a:Account)
          WHERE m.ended_at IS NULL AND a.status <> 'CLOSED'
            AND a.product_type IN ['CURRENT','SAVINGS','TIME_DEPOSIT','WEALTH','FUND','INSURANCE']
          WITH DISTINCT a RETURN sum(a.balance) AS expected
        }
        RETURN h.aum AS aum, expected""",
    )
    assert rows
    for r in rows:
        assert r["aum"] == pytest.approx(r["expected"] or 0.0, abs=0.01)


def test_the_levels_before_a_run_are_kept(scored, driver, settings):
    """previous_*_risk_level: what the Customer had before the run that wrote the current ones
    (the alerts' "risk raised since the previous run"); a re-run of the same as-of on the same
    data (a retry, the nightly run after a load's own scoring) keeps them, raise and all. Runs
    last: it adds a complaint."""
    calm = _read(
        driver,
        settings,
        """MATCH (c:Customer {churn_risk_level: 'NONE'})
        RETURN c.customer_id AS id, c.downgrade_risk_level AS downgrade LIMIT 1""",
    )[0]
    driver.execute_query(
        """MATCH (c:Customer {customer_id: $id})
        CREATE (c)-[:HAD]->(:Interaction {interaction_id: 'TEST-COMPLAINT', kind: 'COMPLAINT',
               occurred_at: datetime('2026-09-01T10:00:00Z'), channel: 'BRANCH'})""",
        {"id": calm["id"]},
        database_=settings.neo4j_database,
    )
    run_scoring(driver, database=settings.neo4j_database, cfg=load_config(), ids=[calm["id"]])
    levels = """MATCH (c:Customer {customer_id: $id})
        RETURN c.churn_risk_level AS churn, c.previous_churn_risk_level AS previous_churn,
               c.previous_downgrade_risk_level AS previous_downgrade, c.scored_as_of AS as_of"""
    [after] = _read(driver, settings, levels, id=calm["id"])
    assert after["previous_churn"] == "NONE" and after["churn"] in ("MEDIUM", "HIGH")
    assert after["previous_downgrade"] == calm["downgrade"]
    run_scoring(driver, database=settings.neo4j_database, cfg=load_config())
    [again] = _read(driver, settings, levels, id=calm["id"])
    assert again["as_of"] == after["as_of"]  # the same as-of: a re-run
    assert again.data() == after.data(), "a re-run erased the raise since the previous run"
