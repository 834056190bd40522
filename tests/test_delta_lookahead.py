"""A delta load looks up a chunk's stored hashes on a thread of its own while it prepares the next
chunk (etl/delta.LookAhead): against the real Neo4j, the answers are those of the graph, the
chunks are decided in the order they came and on the loader's thread, the loader goes on while a
lookup is in flight, and a failed lookup is raised where the loader settles it."""

from __future__ import annotations

import threading

import pytest
from neo4j import Driver
from neo4j.exceptions import CypherSyntaxError

from core.settings import Settings
from etl import delta
from graph import session
from graph.queries import upserts as uq


def _branches(driver: Driver, db: str, n: int) -> list[dict]:
    rows = [{"branch_id": f"B{i:03d}", "name": f"Branch {i}"} for i in range(n)]
    delta.stamp(uq.BRANCHES, rows)
    session.run(driver, db, "UNWIND $rows AS r CREATE (b:Branch) SET b = r", rows=rows)
    return rows


def test_lookups_answer_from_the_graph_in_order_on_the_callers_thread(
    clean_graph: Driver, settings: Settings
) -> None:
    db = settings.neo4j_database
    stored = _branches(clean_graph, db, 30)
    read_on: list[str] = []

    def read(query: str, **params: object) -> list[dict]:
        read_on.append(threading.current_thread().name)
        return session.rows(clean_graph, db, query, **params)

    decided: list[tuple[int, set[int], str]] = []  # (chunk, rows to write, thread)
    lookahead = delta.LookAhead(read)
    query = uq.changed_query(uq.BRANCHES)
    try:
        for chunk in range(3):
            rows = [dict(r) for r in stored[chunk * 10 : chunk * 10 + 10]]
            for row in rows[chunk::3]:  # a changed name: its hash is no longer the graph's
                row["name"] += " (moved)"
            rows.append({"branch_id": f"NEW{chunk}", "name": "New"})  # not in the graph
            hashes = delta.stamp(uq.BRANCHES, rows)

            def decide(changed: set[int], chunk: int = chunk) -> None:
                decided.append((chunk, changed, threading.current_thread().name))

            lookahead.submit(query, delta.lookup_rows(uq.BRANCHES, rows, hashes), decide)
        lookahead.settle()
    finally:
        lookahead.close()
    caller = threading.current_thread().name
    assert [c for c, _, _ in decided] == [0, 1, 2]
    assert {name for _, _, name in decided} == {caller}
    assert read_on and all(name.startswith("delta-lookup") for name in read_on)
    for chunk, changed, _ in decided:
        assert changed == {*range(chunk, 10, 3), 10}  # the changed names and the new branch


def test_the_loader_goes_on_while_a_lookup_is_in_flight(
    clean_graph: Driver, settings: Settings
) -> None:
    db = settings.neo4j_database
    stored = _branches(clean_graph, db, 5)
    prepared = threading.Event()

    def read(query: str, **params: object) -> list[dict]:
        # the lookup answers only once the caller has prepared its next chunk
        assert prepared.wait(timeout=60), "submit did not return while its lookup ran"
        return session.rows(clean_graph, db, query, **params)

    decided: list[set[int]] = []
    lookahead = delta.LookAhead(read)
    try:
        rows = [dict(r) for r in stored]
        hashes = [r[delta.HASH] for r in rows]
        lookup = delta.lookup_rows(uq.BRANCHES, rows, hashes)
        lookahead.submit(uq.changed_query(uq.BRANCHES), lookup, decided.append)
        assert decided == []  # not decided before it is settled
        prepared.set()  # (the next chunk, prepared while the lookup is in flight)
        lookahead.settle()
    finally:
        lookahead.close()
    assert decided == [set()]  # (all five unchanged)


def test_a_failed_lookup_is_raised_where_it_is_settled_and_decides_nothing(
    clean_graph: Driver, settings: Settings
) -> None:
    db = settings.neo4j_database

    def read(query: str, **params: object) -> list[dict]:
        return session.rows(clean_graph, db, query, **params)

    decided: list[set[int]] = []
    lookahead = delta.LookAhead(read)
    try:
        lookahead.submit("UNWIND $rows AS row RETURN row.i AS i", [{"i": 0}], decided.append)
        lookahead.submit("UNWIND $rows AS row RETURN row.i AS", [{"i": 1}], decided.append)
        with pytest.raises(CypherSyntaxError):
            lookahead.settle()
        lookahead.settle()  # (nothing waits any more)
    finally:
        lookahead.close()
    assert decided == [{0}]
