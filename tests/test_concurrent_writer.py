"""The online load's writer runs several write transactions at once (etl/batches.CheckpointedWriter,
``LOAD_WRITE_TRANSACTIONS``), on the real server. Told as a load relies on it: a step finds
every step before it in the graph, whatever the number of transactions; a checkpoint never
claims a batch that did not commit, when a batch fails among others in flight; a run resumed
from that checkpoint ends with the graph a clean run gives; and the batches of one step do run
at the same time (Neo4j lists two of the writer's transactions at once)."""

from __future__ import annotations

import json
import threading

import pytest
from neo4j import Driver
from neo4j.exceptions import Neo4jError

from core.settings import Settings
from etl.batches import CheckpointedWriter
from tests.conftest import wipe

RUN = "writer-test-run"

# step "things": nodes; step "links": relationships between things written in earlier batches,
# so a link batch started before every thing batch committed would leave a link out (MATCH)
THINGS = "UNWIND $rows AS row MERGE (t:WriterThing {key: row.key}) SET t.batch = row.batch"
LINKS = """
UNWIND $rows AS row
MATCH (a:WriterThing {key: row.a})
MATCH (b:WriterThing {key: row.b})
MERGE (a)-[:WRITER_LINK]->(b)
"""
# a property Neo4j cannot store (a map) fails the batch holding it, with a client error
BAD = {"nested": "maps are not property values"}


@pytest.fixture
def graph(driver: Driver, settings: Settings) -> Driver:
    wipe(driver, settings.neo4j_database)
    driver.execute_query(
        "CREATE (:LoadRun {run_id: $run, checkpoint_json: '{}'})",
        run=RUN,
        database_=settings.neo4j_database,
    )
    return driver


def things(n: int, start: int = 0) -> list[dict]:
    return [{"key": f"T{i:05d}", "batch": i // 25} for i in range(start, start + n)]


def links(n: int) -> list[dict]:
    return [{"a": f"T{i:05d}", "b": f"T{(i * 7 + 3) % n:05d}"} for i in range(n)]


def write(
    driver: Driver, settings: Settings, rows: list[dict], *, writers: int, done=None
) -> CheckpointedWriter:
    writer = CheckpointedWriter(
        driver,
        database=settings.neo4j_database,
        run_id=RUN,
        done=done or {},
        batch_size=25,
        writers=writers,
    )
    try:
        writer.add("things", THINGS, rows)
        writer.flush("things")
        writer.add("links", LINKS, links(len(rows)))
        writer.flush("links")
    finally:
        writer.close()
    return writer


def count(driver: Driver, settings: Settings, query: str) -> int:
    records, _, _ = driver.execute_query(query, database_=settings.neo4j_database)
    return records[0][0]


def checkpoint(driver: Driver, settings: Settings) -> dict[str, int]:
    records, _, _ = driver.execute_query(
        "MATCH (r:LoadRun {run_id: $run}) RETURN r.checkpoint_json",
        run=RUN,
        database_=settings.neo4j_database,
    )
    return json.loads(records[0][0])


@pytest.mark.parametrize("writers", [1, 2, 4])
def test_every_step_finds_the_steps_before_it_whatever_the_number_of_transactions(
    graph: Driver, settings: Settings, writers: int
) -> None:
    writer = write(graph, settings, things(1000), writers=writers)
    assert count(graph, settings, "MATCH (t:WriterThing) RETURN count(t)") == 1000
    assert count(graph, settings, "MATCH ()-[l:WRITER_LINK]->() RETURN count(l)") == 1000
    assert writer.batches_written == 80
    assert writer.rows_written == 2000
    assert writer.attempts >= writer.batches_written
    # true, and behind by at most the batches that commit while one computes its checkpoint
    done = checkpoint(graph, settings)
    assert done.keys() == {"things", "links"}
    assert done["things"] == 40
    assert 40 - writers < done["links"] <= 40, done


def test_a_failed_batch_among_others_leaves_a_true_checkpoint_and_a_resume_completes(
    graph: Driver, settings: Settings
) -> None:
    rows = things(1000)
    rows[30 * 25 + 3] = {**rows[30 * 25 + 3], "batch": BAD}  # batch 30 of 40 fails
    with pytest.raises(Neo4jError):
        write(graph, settings, rows, writers=4)
    done = checkpoint(graph, settings)
    assert "links" not in done
    records, _, _ = graph.execute_query(
        "MATCH (t:WriterThing) RETURN DISTINCT t.batch AS b", database_=settings.neo4j_database
    )
    committed = {r["b"] for r in records}
    assert 30 not in committed
    # every batch the checkpoint claims is in the graph, whole
    claimed = range(done["things"])
    assert set(claimed) <= committed
    for b in claimed:
        n = count(graph, settings, f"MATCH (t:WriterThing) WHERE t.batch = {b} RETURN count(t)")
        assert n == 25, (b, n)
    # the same rows, fixed, from that checkpoint: the graph of a clean run
    resumed = write(graph, settings, things(1000), writers=4, done=done)
    assert resumed.batches_skipped == done["things"]
    assert count(graph, settings, "MATCH (t:WriterThing) RETURN count(t)") == 1000
    assert count(graph, settings, "MATCH ()-[l:WRITER_LINK]->() RETURN count(l)") == 1000
    assert checkpoint(graph, settings)["things"] == 40


@pytest.mark.parametrize("writers", [1, 2])
def test_batches_of_one_step_run_at_the_same_time(
    graph: Driver, settings: Settings, writers: int
) -> None:
    """Each batch takes a while in Neo4j (a cartesian count over 2,000 things per row); a third
    session lists the server's transactions meanwhile and sees as many of the writer's at once
    as it has transactions."""
    graph.execute_query(
        "UNWIND range(1, 2000) AS i CREATE (:WriterThing {key: 'S' + i})",
        database_=settings.neo4j_database,
    )
    slow = (
        "UNWIND $rows AS row "
        "CALL (row) { MATCH (a:WriterThing), (b:WriterThing) WHERE a.key < b.key "
        "RETURN count(*) AS n } "
        "MERGE (t:WriterSlow {key: row.key}) SET t.n = n"
    )
    seen: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            records, _, _ = graph.execute_query(
                "SHOW TRANSACTIONS YIELD currentQuery "
                "WHERE currentQuery CONTAINS 'Writer' + 'Slow' RETURN count(*) AS n",
                database_=settings.neo4j_database,
            )
            seen.append(records[0]["n"])

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    writer = CheckpointedWriter(
        graph,
        database=settings.neo4j_database,
        run_id=RUN,
        done={},
        batch_size=1,
        writers=writers,
    )
    try:
        writer.add("slow", slow, [{"key": f"K{i}"} for i in range(8)])
        writer.flush("slow")
    finally:
        writer.close()
        stop.set()
        watcher.join()
    assert count(graph, settings, "MATCH (t:WriterSlow) RETURN count(t)") == 8
    assert max(seen) == writers, seen
