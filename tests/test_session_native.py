"""graph/session.record_dict against the driver's own ``Record.data()`` (then temporals made
Python's), on values of every kind a real Neo4j sends: nodes, relationships, paths, nested maps
and lists, temporals, durations, points, scalars."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from neo4j import Driver

from core.settings import Settings
from graph.session import record_dict

pytestmark = pytest.mark.graph

EVERY_KIND = """
CREATE (a:NativeCheck {x: 1, t: datetime('2015-01-01T00:00:00.5+08:00'), d: date('2020-01-02')})
       -[r:NATIVE_REL {w: localdatetime('2020-01-02T03:04:05')}]->(b:NativeCheck {y: [1, 2]})
WITH a, r, b MATCH p = (a)-[:NATIVE_REL]->(b)
RETURN a, r, b, p, [a, {k: r}] AS mix, 'x' AS s, 1.5 AS f, null AS z, true AS yes, [] AS none,
       {m: {n: [datetime('2016-01-01T00:00Z'), datetime('2016-01-01T00:00[Asia/Shanghai]'),
                time('10:00'), localtime('11:00'), duration('P1DT2H'), point({x: 1, y: 2})]}} AS deep
"""


def _two_passes(value: Any) -> Any:
    """What the API did before record_dict, applied to the driver's ``Record.data()``: Neo4j's
    temporals in maps and lists made Python's (tuples left as they were)."""
    if isinstance(value, dict):
        return {k: _two_passes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_two_passes(v) for v in value]
    if hasattr(value, "to_native") and not isinstance(value, dt.date | dt.time):
        return value.to_native()
    return value


def test_record_dict_gives_what_record_data_gives_with_python_temporals(
    driver: Driver, settings: Settings
) -> None:
    try:
        records = driver.execute_query(EVERY_KIND, database_=settings.neo4j_database).records
    finally:
        driver.execute_query(
            "MATCH (n:NativeCheck) DETACH DELETE n", database_=settings.neo4j_database
        )
    [record] = records
    ours, theirs = record_dict(record), _two_passes(record.data())
    assert ours == theirs
    assert ours["r"][1] == "NATIVE_REL" and ours["p"][1] == "NATIVE_REL"
    assert ours["a"]["t"].isoformat() == "2015-01-01T00:00:00.500000+08:00"
    assert ours["deep"]["m"]["n"][1].utcoffset().total_seconds() == 8 * 3600
