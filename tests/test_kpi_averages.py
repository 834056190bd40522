"""An average KPI is the same whatever order Neo4j reads its rows in.

Cypher's ``avg()`` keeps a running mean, so the last bits of its answer follow the order of the
rows, and an average that lies on a rounding tie (3.845) came out 3.84 in one read and 3.85 in
another: a KPI snapshot and a live count of the same period disagreed (CI, stop 41). Here several
RMs each manage one customer with the same 200 survey scores and the same 200 complaint handling
times, written in a different shuffle per RM; every RM's CSAT_AVERAGE and AVERAGE_HANDLING_HOURS
must be the exact mean rounded as Python rounds it. DATA_COMPLETENESS_PCT, a mean of the
fields' shares, is likewise the same whatever order the fields come in."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import pytest
from neo4j import Driver

from core.kpis import figures
from core.periods import parse
from core.settings import Settings
from graph.driver import create_async_driver
from graph.queries.kpis import ZERO
from resolvers import kpis as k
from tests.etl_support import reset

SCORES = [4] * 169 + [3] * 31  # mean 769 / 200 = 3.845, a tie at two decimals
HOURS = [4] * 169 + [3] * 31  # the same tie in hours from opening to resolution
RMS = 8

pytestmark = pytest.mark.graph

WRITE = """
MERGE (e:Employee {employee_id: $rm})
MERGE (c:Customer {customer_id: $customer})
MERGE (e)-[:MANAGES]->(c)
WITH c
UNWIND $items AS item
CREATE (c)-[:HAD]->(:Interaction {
  interaction_id: item.id, kind: item.kind, occurred_at: item.at,
  satisfaction: item.satisfaction, resolved_at: item.resolved_at})
"""


def _items(rm: int) -> list[dict]:
    start = dt.datetime(2026, 7, 1, 9, tzinfo=dt.UTC)
    scores, hours = SCORES[:], HOURS[:]
    shuffle = random.Random(rm)
    shuffle.shuffle(scores)
    shuffle.shuffle(hours)
    surveys = [
        {"id": f"S{rm}-{n}", "kind": "SURVEY", "at": start + dt.timedelta(hours=n),
         "satisfaction": s, "resolved_at": None}
        for n, s in enumerate(scores)
    ]  # fmt: skip
    complaints = [
        {"id": f"C{rm}-{n}", "kind": "COMPLAINT", "at": start + dt.timedelta(hours=n),
         "satisfaction": None, "resolved_at": start + dt.timedelta(hours=n + h)}
        for n, h in enumerate(hours)
    ]  # fmt: skip
    return surveys + complaints


def test_an_average_on_a_rounding_tie_does_not_follow_row_order(
    driver: Driver, settings: Settings
) -> None:
    reset(driver, settings)
    for rm in range(RMS):
        driver.execute_query(
            WRITE,
            {"rm": f"E{rm}", "customer": f"C{rm}", "items": _items(rm)},
            database_=settings.neo4j_database,
        )
    period = parse("2026Q3")

    async def go() -> k.Counts:
        adriver = create_async_driver(settings)
        try:
            reader = k.DriverReader(adriver, settings)
            return await k.count(
                reader, k.KpiGroups.EVERY_RELATIONSHIP_MANAGER, None, {"q": period}, live=True
            )
        finally:
            await adriver.close()

    counts = asyncio.run(go())
    assert set(counts.windows["q"]) == {f"E{rm}" for rm in range(RMS)}
    for rm in range(RMS):
        got = k._figures_of(counts.windows["q"], f"E{rm}", period)
        assert got["CSAT_AVERAGE"] == round(sum(SCORES) / len(SCORES), 2), rm
        assert got["AVERAGE_HANDLING_HOURS"] == round(sum(HOURS) / len(HOURS), 2), rm


def test_completeness_does_not_follow_the_order_of_the_fields() -> None:
    # 96 customers, nine fields: summed as shares in some orders this was 46.87, in others 46.88
    filled = [63, 24, 64, 2, 27, 49, 91, 29, 56]
    period = parse("2026Q3")
    seen = set()
    for seed in range(30):
        order = filled[:]
        random.Random(seed).shuffle(order)
        counts = {**ZERO, "customers": 96, "completeness": [{"filled": f} for f in order]}
        seen.add(figures(counts, period)["DATA_COMPLETENESS_PCT"])
    assert seen == {round(100.0 * sum(filled) / (96 * len(filled)), 2)}
