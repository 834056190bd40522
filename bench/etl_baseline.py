"""The ETL baseline: the loader's batches written again with nothing but the driver.

``python -m bench.etl_baseline SPOOL`` reads the spool a ``c360 load --spool SPOOL`` run wrote
(``(step, query, rows, thread)`` pickles, one per batch, in the order the loader handed them
to its writer) and writes every batch into the graph the server holds now as one ``UNWIND
$rows ... MERGE`` write transaction, as the loader's writer does (etl/batches.CheckpointedWriter):
each batch on the thread the writer gave it (as many threads as the loader had, a session
each), in order on each, batches of one step and query at a time. No reading of extracts, mapping, validation,
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
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from neo4j import ManagedTransaction, Session

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
    threads: dict[int, tuple[ThreadPoolExecutor, Session]] = {}
    started = time.perf_counter()
    with create_sync_driver(settings) as driver, open(spool, "rb") as f:
        pending: list[Future[None]] = []
        unit: tuple[str, str] | None = None
        unit_started = 0.0

        def finish() -> None:  # every batch of the unit committed
            for future in pending:
                future.result()
            pending.clear()
            if unit is not None:
                entity = unit[0].split(":")[0]
                seconds = time.perf_counter() - unit_started
                seconds_by_step[entity] = seconds_by_step.get(entity, 0.0) + seconds

        try:
            while True:
                try:
                    step, query, rows, p = pickle.load(f)  # noqa: S301 (our own loader wrote it)
                except EOFError:
                    break
                if (step, query) != unit:
                    finish()
                    unit, unit_started = (step, query), time.perf_counter()
                if p not in threads:
                    session = driver.session(database=settings.neo4j_database)
                    threads[p] = (
                        ThreadPoolExecutor(1, thread_name_prefix=f"baseline-{p}"),
                        session,
                    )
                pool, session = threads[p]
                while len(pending) > 2 * len(threads):  # bounded memory: the oldest first
                    pending.pop(0).result()
                pending.append(pool.submit(session.execute_write, _write_batch, query, rows))
                batches += 1
                rows_by_step[step.split(":")[0]] += len(rows)
            finish()
        finally:
            for pool, session in threads.values():
                pool.shutdown(cancel_futures=True)
                session.close()
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "batches": batches,
        "write_transactions": len(threads),
        "rows": sum(rows_by_step.values()),
        "rows_by_entity": dict(rows_by_step),
        "seconds_by_entity": {k: round(v, 2) for k, v in seconds_by_step.items()},
    }


if __name__ == "__main__":
    print(json.dumps(replay(Path(sys.argv[1]))))
