"""Recommendation history: each scoring run records the products it recommends as Recommendation
nodes (one per customer and product) keeping the as-of date of the first run that made it and of
the latest, so a later account opening can be matched to a recommendation made before it
(RECOMMENDATION_CONVERSION_PCT). Two runs at successive month-ends on a generated bank, then the
first again: every recommendation of each run is on record with the right dates, once."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from neo4j import Driver, RoutingControl

from core.settings import Settings
from scoring.config import load_config
from scoring.job import run_scoring
from synthetic import GenerateOptions, generate_bank
from tests.etl_support import load, reset

FIRST, SECOND = dt.date(2026, 9, 30), dt.date(2026, 10, 31)


def _rows(driver: Driver, settings: Settings, query: str) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        query, database_=settings.neo4j_database, routing_=RoutingControl.READ
    )
    return [r.data() for r in records]


def _current(driver: Driver, settings: Settings) -> set[tuple[str, str]]:
    """(customer, product) of every customer's current recommendations_json."""
    return {
        (r["id"], rec["product_code"])
        for r in _rows(
            driver,
            settings,
            "MATCH (c:Customer) RETURN c.customer_id AS id, c.recommendations_json AS recs",
        )
        for rec in json.loads(r["recs"] or "[]")
    }


def _history(driver: Driver, settings: Settings) -> dict[tuple[str, str], dict[str, Any]]:
    rows = _rows(
        driver,
        settings,
        """
        MATCH (r:Recommendation)
        OPTIONAL MATCH (r)-[:FOR]->(c:Customer)
        RETURN r.customer_id AS id, r.product_code AS product, r.made_on AS made_on,
               r.last_made_on AS last_made_on, collect(c.customer_id) AS owners""",
    )
    out = {}
    for r in rows:
        assert r["owners"] == [r["id"]], r  # exactly one FOR, to its own customer
        out[(r["id"], r["product"])] = {
            "made_on": r["made_on"].to_native(),
            "last_made_on": r["last_made_on"].to_native(),
        }
    assert len(out) == len(rows)  # one node per customer and product
    return out


def test_each_run_records_its_recommendations_keeping_the_first_date(
    tmp_path: Path, driver: Driver, settings: Settings
) -> None:
    out = tmp_path / "bank"
    generate_bank(GenerateOptions(customers=250, seed=11, out=out))
    reset(driver, settings)
    load(driver, settings, out)
    cfg = load_config()

    run_scoring(driver, database=settings.neo4j_database, cfg=cfg, as_of=FIRST)
    first = _current(driver, settings)
    assert len(first) > 50
    history = _history(driver, settings)
    assert set(history) == first
    assert {(h["made_on"], h["last_made_on"]) for h in history.values()} == {(FIRST, FIRST)}

    run_scoring(driver, database=settings.neo4j_database, cfg=cfg, as_of=SECOND)
    second = _current(driver, settings)
    history = _history(driver, settings)
    assert set(history) == first | second  # nothing dropped, nothing invented
    for key, h in history.items():
        made_on = FIRST if key in first else SECOND
        last = SECOND if key in second else FIRST
        assert (h["made_on"], h["last_made_on"]) == (made_on, last), key

    # an earlier as-of again (a re-run of the first month): made_on goes back to it only where
    # it is earlier, last_made_on never goes back
    run_scoring(driver, database=settings.neo4j_database, cfg=cfg, as_of=FIRST)
    again, third = _history(driver, settings), _current(driver, settings)
    assert set(again) == set(history) | third
    for key, h in again.items():
        before = history.get(key)
        if before is None:
            assert (h["made_on"], h["last_made_on"]) == (FIRST, FIRST), key
        else:
            assert h["last_made_on"] == before["last_made_on"], key
            assert h["made_on"] == (FIRST if key in third else before["made_on"]), key

    # a steward merge absorbs a customer: the derived relationships of the absorbed one go
    # (graph/queries/identity.DROP_DERIVED, the statement resolvers/stewards.py runs), its
    # recommendations with them, and nobody else's
    from graph.queries.identity import DROP_DERIVED

    absorbed, _ = next(iter(again))
    others = {k for k in again if k[0] != absorbed}
    driver.execute_query(DROP_DERIVED, customer_id=absorbed, database_=settings.neo4j_database)
    assert set(_history(driver, settings)) == others
