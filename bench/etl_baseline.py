"""The ETL baseline: the loader's batches written again with nothing but the driver.

``python -m bench.etl_baseline SPOOL`` reads the spool a ``c360 load --spool SPOOL`` run wrote
(``(step, query, rows)`` pickles, one per batch, in the order the loader committed them) and
writes every batch into the graph the server holds now as one ``UNWIND $rows ... MERGE`` write
transaction, in the same order, on one session. No reading of extracts, mapping, validation,
identity resolution, checkpoints or rejects: the same rows and the same MERGE statements, so
loader time / baseline time is what our pipeline costs on top of the database's own work.
Prints one JSON line: seconds, batches, rows, and rows and write seconds per entity.
"""

from __future__ import annotations

import json
import pickle
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from neo4j import ManagedTransaction

from core.settings import get_settings
from graph.driver import create_sync_driver
from graph.session import Rows


def _write_batch(tx: ManagedTransaction, query: str, rows: list[dict[str, Any]]) -> None:
    # as the loader sends them: the driver's debug line names the batch, not every row
    tx.run(query, rows=Rows(rows)).consume()


def replay(spool: Path) -> dict:
    settings = get_settings()
    rows_by_step: Counter[str] = Counter()
    seconds_by_step: dict[str, float] = {}
    batches = 0
    started = time.perf_counter()
    with (
        create_sync_driver(settings) as driver,
        driver.session(database=settings.neo4j_database) as session,
        open(spool, "rb") as f,
    ):
        while True:
            try:
                step, query, rows = pickle.load(f)  # noqa: S301 (our own loader wrote it)
            except EOFError:
                break
            t0 = time.perf_counter()
            session.execute_write(_write_batch, query, rows)
            entity = step.split(":")[0]
            seconds_by_step[entity] = seconds_by_step.get(entity, 0.0) + time.perf_counter() - t0
            batches += 1
            rows_by_step[entity] += len(rows)
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "batches": batches,
        "rows": sum(rows_by_step.values()),
        "rows_by_entity": dict(rows_by_step),
        "seconds_by_entity": {k: round(v, 2) for k, v in seconds_by_step.items()},
    }


if __name__ == "__main__":
    print(json.dumps(replay(Path(sys.argv[1]))))
