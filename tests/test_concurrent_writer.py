"""The online load's writer runs several write transactions at once (etl/batches.CheckpointedWriter,
``LOAD_WRITE_TRANSACTIONS``), each thread the rows of its own customers, on the real server.
Told as a load relies on it: a step finds every step before it in the graph, even when handed
over before the step before it has committed; a bulk load's checkpoint names the same parts;
the last row of a key wins, as with one transaction; a checkpoint never claims a batch that
did not commit when a batch fails among others in flight, and a run resumed from it ends with
the graph of a clean run; a delta load's empty chunks are claimed; and the batches of one step
do run at the same time (Neo4j lists two of the writer's transactions at once)."""

from __future__ import annotations

import json
import threading
import zlib
from pathlib import Path

import pytest
from neo4j import Driver
from neo4j.exceptions import Neo4jError

from core.settings import Settings
from etl.batches import BulkImportWriter, CheckpointedWriter
from tests.conftest import wipe

RUN = "writer-test-run"
SIZE = 25

# step "things": nodes keyed by the customer they are about; step "links": relationships
# between things, so a link batch started before every thing batch committed leaves a link out
THINGS = "UNWIND $rows AS row MERGE (t:WriterThing {key: row.customer_id}) SET t.value = row.value"
LINKS = """
UNWIND $rows AS row
MATCH (a:WriterThing {key: row.customer_id})
MATCH (b:WriterThing {key: row.other})
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


def key(i: int) -> str:
    return f"T{i:05d}"


def things(n: int) -> list[dict]:
    return [{"customer_id": key(i), "value": i} for i in range(n)]


def links(n: int) -> list[dict]:
    return [{"customer_id": key(i), "other": key((i * 7 + 3) % n)} for i in range(n)]


def thread_of(customer_id: str, writers: int) -> int:
    """The writer's thread of a row, computed here from its documented rule."""
    return zlib.crc32(customer_id.encode()) % writers


def batches_of(rows: list[dict], writers: int) -> dict[str, list[list[dict]]]:
    """Each thread's batches, as the checkpoint names them."""
    parts: dict[int, list[dict]] = {p: [] for p in range(writers)}
    for row in rows:
        parts[thread_of(row["customer_id"], writers)].append(row)
    name = (lambda p: "things") if writers == 1 else (lambda p: f"things@{p}/{writers}")
    return {
        name(p): [part[i : i + SIZE] for i in range(0, len(part), SIZE)]
        for p, part in parts.items()
    }


def writer(driver: Driver, settings: Settings, writers: int, done=None, size: int = SIZE):
    return CheckpointedWriter(
        driver,
        database=settings.neo4j_database,
        run_id=RUN,
        done=done or {},
        batch_size=size,
        writers=writers,
    )


def one_step(w: CheckpointedWriter, step: str, query: str, rows: list[dict]) -> None:
    """One step written and flushed, then the writer closed."""
    try:
        w.add(step, query, rows)
        w.flush(step)
    finally:
        w.close()


def write(driver: Driver, settings: Settings, rows: list[dict], *, writers: int, done=None):
    """As the loader writes its steps: each flushed before the next is added."""
    w = writer(driver, settings, writers, done)
    try:
        w.add("things", THINGS, rows)
        w.flush("things")
        w.add("links", LINKS, links(len(rows)))
        w.flush("links")
    finally:
        w.close()
    return w


def count(driver: Driver, settings: Settings, query: str, **params) -> int:
    records, _, _ = driver.execute_query(query, params, database_=settings.neo4j_database)
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
    w = write(graph, settings, things(1000), writers=writers)
    assert count(graph, settings, "MATCH (t:WriterThing) RETURN count(t)") == 1000
    assert count(graph, settings, "MATCH ()-[l:WRITER_LINK]->() RETURN count(l)") == 1000
    expected = {name: len(bs) for name, bs in batches_of(things(1000), writers).items()}
    assert w.batches_written == 2 * sum(expected.values())
    assert w.rows_written == 2000
    assert w.attempts >= w.batches_written
    # each thread's part of each step, every batch of it
    links_done = {name.replace("things", "links"): n for name, n in expected.items()}
    assert checkpoint(graph, settings) == expected | links_done


def test_a_batch_of_the_next_step_waits_for_every_batch_handed_over_before_it(
    graph: Driver, settings: Settings
) -> None:
    """Links handed over while the things' batches are still queued or running, without a flush
    between: each thread's part of the things is a whole number of batches (so none is left
    buffered until a flush), and a link batch starts only once all of them committed."""
    picked: dict[int, list[int]] = {0: [], 1: [], 2: []}
    for i in range(2000):
        part = picked[thread_of(key(i), 3)]
        if len(part) < 8 * SIZE:
            part.append(i)
    rows = [{"customer_id": key(i), "value": i} for i in sorted(sum(picked.values(), []))]
    assert all(len(part) == 8 * SIZE for part in picked.values())
    keys = [r["customer_id"] for r in rows]
    link_rows = [
        {"customer_id": k, "other": keys[(j * 7 + 3) % len(keys)]} for j, k in enumerate(keys)
    ]
    w = writer(graph, settings, 3)
    try:
        w.add("things", THINGS, rows)
        w.add("links", LINKS, link_rows)
        w.flush("links")
    finally:
        w.close()
    assert count(graph, settings, "MATCH (t:WriterThing) RETURN count(t)") == len(rows)
    assert count(graph, settings, "MATCH ()-[l:WRITER_LINK]->() RETURN count(l)") == len(rows)


def test_a_bulk_load_s_checkpoint_names_the_online_writer_s_parts(tmp_path: Path) -> None:
    """A bulk load killed after its import resumes online (etl/loader.py): its checkpoint must
    name and count each thread's part as the online writer numbers it."""
    rows = things(1000)
    bulk = BulkImportWriter(tmp_path / "files", run_id=RUN, batch_size=SIZE, writers=4)
    try:
        bulk.add("things", THINGS, rows[:333])
        bulk.add("things", THINGS, rows[333:])
        bulk.flush("things")
    finally:
        bulk.files.stop()
    assert bulk.done == {name: len(bs) for name, bs in batches_of(rows, 4).items()}


@pytest.mark.parametrize("writers", [1, 3])
def test_the_last_row_of_a_key_wins(graph: Driver, settings: Settings, writers: int) -> None:
    """Ten keys, each in many batches of a step: the value each ends with is its last row's."""
    rows = [{"customer_id": key(i % 10), "value": i} for i in range(300)]
    one_step(writer(graph, settings, writers, size=7), "things", THINGS, rows)
    records, _, _ = graph.execute_query(
        "MATCH (t:WriterThing) RETURN t.key AS k, t.value AS v", database_=settings.neo4j_database
    )
    assert {r["k"]: r["v"] for r in records} == {key(k): 290 + k for k in range(10)}


def test_a_failed_batch_among_others_leaves_a_true_checkpoint_and_a_resume_completes(
    graph: Driver, settings: Settings
) -> None:
    rows = things(1000)
    parts = batches_of(rows, 4)
    failing = parts["things@1/4"][5][3]["customer_id"]  # thread 1's sixth batch fails
    bad = [{**r, "value": BAD} if r["customer_id"] == failing else r for r in rows]
    with pytest.raises(Neo4jError):
        write(graph, settings, bad, writers=4)
    done = checkpoint(graph, settings)
    assert not any(name.startswith("links") for name in done)
    assert done["things@1/4"] == 5  # its five batches before the failing one
    # every batch the checkpoint claims is in the graph, whole
    for name, n in done.items():
        claimed = [r["customer_id"] for batch in parts[name][:n] for r in batch]
        found = count(
            graph,
            settings,
            "UNWIND $keys AS k MATCH (t:WriterThing {key: k}) RETURN count(t)",
            keys=claimed,
        )
        assert found == len(claimed), name
    assert count(graph, settings, "MATCH (t:WriterThing {key: $k}) RETURN count(t)", k=failing) == 0
    # the same rows, fixed, from that checkpoint: the graph of a clean run
    resumed = write(graph, settings, rows, writers=4, done=done)
    assert resumed.batches_skipped == sum(done.values())
    assert count(graph, settings, "MATCH (t:WriterThing) RETURN count(t)") == 1000
    assert count(graph, settings, "MATCH ()-[l:WRITER_LINK]->() RETURN count(l)") == 1000
    # a resume with another number of threads finds none of those parts: it writes all again
    again = write(graph, settings, rows, writers=2, done=checkpoint(graph, settings))
    assert again.batches_skipped == 0
    assert count(graph, settings, "MATCH (t:WriterThing) RETURN count(t)") == 1000


def test_a_delta_load_s_empty_chunks_are_claimed(graph: Driver, settings: Settings) -> None:
    w = writer(graph, settings, 2)
    try:
        for chunk in ([things(3)[0]], [], [things(3)[1]], [], []):
            w.write_chunk("delta", THINGS, chunk)
        w.flush("delta")
        w.add("after", THINGS, [things(3)[2]])  # a later batch commits the claim
        w.flush("after")
    finally:
        w.close()
    assert checkpoint(graph, settings)["delta"] == 5
    assert w.batches_written == 3


@pytest.mark.parametrize("writers", [1, 2])
def test_batches_of_one_step_run_at_the_same_time(
    graph: Driver, settings: Settings, writers: int
) -> None:
    """Each batch takes a while in Neo4j (a cartesian count over 2,000 things per row); a third
    session lists the server's transactions meanwhile and sees as many of the writer's at once
    as it has threads (eight rows, four on each thread)."""
    graph.execute_query(
        "UNWIND range(1, 2000) AS i CREATE (:WriterThing {key: 'S' + i})",
        database_=settings.neo4j_database,
    )
    slow = (
        "UNWIND $rows AS row "
        "CALL (row) { MATCH (a:WriterThing), (b:WriterThing) WHERE a.key < b.key "
        "RETURN count(*) AS n } "
        "MERGE (t:WriterSlow {key: row.customer_id}) SET t.n = n"
    )
    candidates = [f"K{i}" for i in range(100)]
    rows = [
        {"customer_id": k}
        for p in (0, 1)
        for k in [c for c in candidates if thread_of(c, 2) == p][:4]
    ]
    seen: list[int] = [0]
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
    try:
        one_step(writer(graph, settings, writers, size=1), "slow", slow, rows)
    finally:
        stop.set()
        watcher.join()
    assert count(graph, settings, "MATCH (t:WriterSlow) RETURN count(t)") == 8
    assert max(seen) == writers, seen
