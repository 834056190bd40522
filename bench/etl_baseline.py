"""The ETL baseline: the loader's batches written again with nothing but the driver.

``python -m bench.etl_baseline SPOOL`` reads the spool a ``c360 load --spool SPOOL`` run wrote
(``(step, query, rows)`` pickles, one per batch, in the order the loader committed them) and
writes every batch into the graph the server holds now as one ``UNWIND $rows ... MERGE`` write
transaction, in the same order, on one session. No reading of extracts, mapping, validation,
identity resolution, checkpoints or rejects: the same rows and the same MERGE statements, so
loader time / baseline time is what our pipeline costs on top of the database's own work.
Prints one JSON line: seconds, batches, rows, rows per step.
"""

from __future__ import annotations

import json
import pickle
import sys
import time
from collections import Counter
from pathlib import Path

from c360.settings import get_settings
from graph.driver import create_sync_driver


def replay(spool: Path) -> dict:
    settings = get_settings()
    rows_by_step: Counter[str] = Counter()
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
            session.execute_write(lambda tx, q=query, r=rows: tx.run(q, rows=r).consume())
            batches += 1
            rows_by_step[step.split(":")[0]] += len(rows)
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "batches": batches,
        "rows": sum(rows_by_step.values()),
        "rows_by_entity": dict(rows_by_step),
    }


if __name__ == "__main__":
    print(json.dumps(replay(Path(sys.argv[1]))))
