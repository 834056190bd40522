"""Load runs (``LoadRun``: bookkeeping and the resume checkpoint) and the loader's key lookups."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from neo4j import READ_ACCESS, ManagedTransaction

from graph.model import Node
from graph.session import Rows, native, quiet

FIND_RESUMABLE_RUN = """
MATCH (r:LoadRun {job: 'load', fingerprint: $fingerprint})
WHERE r.status IN ['RUNNING', 'FAILED']
RETURN r.run_id AS run_id, r.checkpoint_json AS checkpoint_json, r.started_at AS started_at,
       coalesce(r.delta, false) AS delta
ORDER BY r.started_at DESC
LIMIT 1
"""

CREATE_RUN = """
CREATE (r:LoadRun {run_id: $run_id, job: 'load', source: $source, fingerprint: $fingerprint,
                   started_at: $started_at, status: 'RUNNING', checkpoint_json: '{}',
                   delta: $delta})
"""

# whether a load finished before: a later one is a delta load (etl/delta.py)
# Whether any load succeeded (a later one can be a delta), and whether the newest one did (a
# failed or killed one may have written rows whose derived state, the home branches, it never
# finished: the next delta recomputes them for every customer of the load)
ANY_LOAD_DONE = """
OPTIONAL MATCH (r:LoadRun {job: 'load'})
WITH r ORDER BY r.started_at DESC
WITH collect(r.status) AS statuses
RETURN any(s IN statuses WHERE s IN ['SUCCEEDED', 'SUCCEEDED_WITH_REJECTS']) AS done,
       coalesce(statuses[0] IN ['SUCCEEDED', 'SUCCEEDED_WITH_REJECTS'], false) AS last_succeeded
"""

SET_CHECKPOINT = """
MATCH (r:LoadRun {run_id: $run_id})
SET r.checkpoint_json = $checkpoint_json
"""
# takes the run's write lock (setting a label a node has does), held until the commit
LOCK_RUN = "MATCH (r:LoadRun {run_id: $run_id}) SET r:LoadRun"
RUN_CHECKPOINT = "MATCH (r:LoadRun {run_id: $run_id}) RETURN r.checkpoint_json"

# Every load run, kept across an offline import (which replaces the database: etl/batches.py).
ALL_RUNS = "MATCH (r:LoadRun) RETURN properties(r) AS props"
RESTORE_RUNS = "UNWIND $runs AS props MERGE (r:LoadRun {run_id: props.run_id}) SET r = props"

# Whether the graph holds anything but load runs (an offline import needs it empty).
HOLDS_DATA = "MATCH (n) WHERE NOT n:LoadRun RETURN n LIMIT 1"

# Whether any customer holds any account (before a load: whether its accounts can have holders
# it does not bring itself, etl/loader.py's home branches).
ANY_HOLDING = "MATCH ()-[h:HOLDS]->() RETURN 1 AS one LIMIT 1"

FINISH_RUN = """
MATCH (r:LoadRun {run_id: $run_id})
SET r.finished_at = $finished_at, r.status = $status, r.counts_json = $counts_json,
    r.rows_read = $rows_read, r.rows_loaded = $rows_loaded, r.rows_rejected = $rows_rejected,
    r.rejects_dir = $rejects_dir, r.error = $error,
    r.extract_files = $extract_files, r.extract_rows = $extract_rows,
    r.shrink_allowed = $shrink_allowed,
    r.rejects_by_reason_json = $rejects_by_reason_json,
    r.warnings_by_reason_json = $warnings_by_reason_json,
    r.delta = $delta, r.rows_written = $rows_written, r.rows_unchanged = $rows_unchanged
"""

# per extract file ("core/customers.csv"), the rows of the latest finished load that read it
PREVIOUS_EXTRACT_ROWS = """
UNWIND $files AS file
CALL (file) {
  MATCH (r:LoadRun {job: 'load'})
  WHERE r.status IN ['SUCCEEDED', 'SUCCEEDED_WITH_REJECTS'] AND file IN r.extract_files
  RETURN r
  ORDER BY r.started_at DESC
  LIMIT 1
}
WITH file, r, [i IN range(0, size(r.extract_files) - 1) WHERE r.extract_files[i] = file][0] AS i
RETURN file, r.run_id AS run_id, r.extract_rows[i] AS rows
"""

# source ids of one system -> the golden customer they resolve to
RESOLVE_SOURCE_IDS = """
UNWIND $ids AS id
MATCH (:SourceRecord {system: $system, source_id: id})-[:RESOLVED_TO]->(c:Customer)
RETURN id, c.customer_id AS customer_id
"""


@cache
def existing_keys(node: Node) -> str:
    """Which of ``$keys`` are keys of ``node`` (a node of graph/model.py, never from input)."""
    (key,) = node.key
    return f"UNWIND $keys AS k MATCH (n:{node.label} {{{key}: k}}) RETURN k"


def write_with_checkpoint(
    tx: ManagedTransaction,
    query: str,
    rows: list[dict[str, Any]],
    run_id: str,
    mine: dict[str, int],
) -> None:
    """Transaction work: one batch of an upsert and the load run's checkpoint that covers it,
    committed together (etl/batches.py). Several such transactions may run at once, so ``mine``
    (batches done per step, true once this one commits) is merged with the checkpoint
    committed, read under the run's write lock: each step's count is the higher of the two, as
    both are true. The lock is taken after the batch's own writes."""
    tx.run(query, rows=Rows(rows)).consume()
    tx.run(LOCK_RUN, run_id=run_id).consume()
    record = tx.run(RUN_CHECKPOINT, run_id=run_id).single()  # (None: no such run, no checkpoint)
    stored = json.loads(record[0] if record is not None and record[0] else "{}")
    merged = {s: max(stored.get(s, 0), mine.get(s, 0)) for s in stored.keys() | mine.keys()}
    tx.run(
        SET_CHECKPOINT, run_id=run_id, checkpoint_json=json.dumps(merged, sort_keys=True)
    ).consume()


# every source record already in the graph, with its customer (stable golden ids across runs)
SOURCE_RECORDS_OF = """
UNWIND $keys AS key
MATCH (s:SourceRecord {system: key[0], source_id: key[1]})-[:RESOLVED_TO]->(c:Customer)
RETURN s.system AS system, s.source_id AS source_id, c.customer_id AS customer_id
"""

# lineage of every source record (er-report)
SOURCE_RECORD_CUSTOMERS = """
MATCH (s:SourceRecord)-[:RESOLVED_TO]->(c:Customer)
RETURN s.system AS system, s.source_id AS source_id, c.customer_id AS customer_id
"""

# source records by key, with everything the source system had (survivorship across loads)
SOURCE_RECORDS_BY_KEY = """
UNWIND $keys AS key
MATCH (s:SourceRecord {system: key[0], source_id: key[1]})
RETURN s {.*} AS record
"""

# every source record behind a customer, with what identity resolution compares: the records a
# load's new records are scored against (cross-load linking) and the assignments it keeps;
# ``$this_run`` (the run's start, or null): a resumed run leaves out the records its killed
# attempt wrote, so it resolves them again exactly as a clean run would (and writes their reviews)
_FOR_MATCHING = """
RETURN s.system AS system, s.source_id AS source_id, c.customer_id AS customer_id,
       s.name AS name, s.given_name AS given_name, s.family_name AS family_name,
       s.birth_date AS birth_date, s.gender AS gender, coalesce(s.phone_e164, s.phone) AS phone, s.email AS email,
       s.address AS address, s.city AS city, s.postcode AS postcode,
       s.national_id_hash AS national_id_hash, s.national_id_type AS national_id_type
"""
_BEHIND_CUSTOMERS = """
MATCH (s:SourceRecord)-[:RESOLVED_TO]->(c:Customer)
WHERE $this_run IS NULL OR s.loaded_at IS NULL
      OR s.loaded_at.epochSeconds <> $this_run.epochSeconds
"""
SOURCE_RECORDS_FOR_MATCHING = _BEHIND_CUSTOMERS + _FOR_MATCHING
MATCHING_COLUMNS = [
    "system", "source_id", "customer_id", "name", "given_name", "family_name", "birth_date",
    "gender", "phone", "email", "address", "city", "postcode", "national_id_hash",
    "national_id_type",
]  # fmt: skip

# the keys of the same records: a load reads the fields only of those it does not bring again
# (etl/spill.CustomerSpill.add_graph_keys), by key
SOURCE_RECORD_KEYS_FOR_MATCHING = (
    _BEHIND_CUSTOMERS
    + """
RETURN s.system AS system, s.source_id AS source_id, c.customer_id AS customer_id
"""
)
SOURCE_RECORDS_FOR_MATCHING_BY_KEY = (
    """
UNWIND $keys AS key
MATCH (s:SourceRecord {system: key[0], source_id: key[1]})-[:RESOLVED_TO]->(c:Customer)
"""
    + _FOR_MATCHING
)

COUNT_SOURCE_RECORDS = "MATCH (s:SourceRecord) RETURN count(s) AS n"

# the start of the latest load run (a new run starts a second after it at the earliest)
LATEST_RUN_START = "MATCH (r:LoadRun) RETURN max(r.started_at) AS latest"


def stream_rows(
    driver: Any, database: str, query: str, batch: int, **params: Any
) -> Iterator[list[dict[str, Any]]]:
    """The records of a read query, ``batch`` at a time as dicts with Python temporal values,
    as the server streams them (memory bounded by ``batch``, not by the result)."""
    with driver.session(database=database, default_access_mode=READ_ACCESS) as session:
        result = session.run(query, quiet(params))
        rows: list[dict[str, Any]] = []
        for record in result:
            rows.append(native(record.data()))
            if len(rows) >= batch:
                yield rows
                rows = []
        if rows:
            yield rows


# every node and relationship (the FEBRL benchmark's fresh graph per set)
WIPE_GRAPH = "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS"


def wipe(driver: Any, database: str) -> None:
    """Delete everything (``CALL ... IN TRANSACTIONS`` needs an auto-commit transaction)."""
    with driver.session(database=database) as session:
        session.run(WIPE_GRAPH).consume()
