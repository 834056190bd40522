"""The one writer of a load: UNWIND batches in write transactions, each with its checkpoint.

Every batch of a step has a number; the batch and the run's checkpoint (``{step: batches
done}`` on the ``LoadRun``) commit in the same transaction. A resumed run replays the same steps
in the same order, skips the batches the checkpoint covers and writes the rest: killed at any
point, the graph ends as an uninterrupted load leaves it (and a batch written twice would change
nothing anyway, every write being a MERGE on keys).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from neo4j import Driver, ManagedTransaction

from graph.queries import loads as q

Row = dict[str, Any]


class CheckpointedWriter:
    def __init__(
        self, driver: Driver, *, database: str, run_id: str, done: dict[str, int], batch_size: int
    ) -> None:
        self.session = driver.session(database=database)
        self.run_id = run_id
        self.done = dict(done)
        self.batch_size = batch_size
        self._next: dict[str, int] = defaultdict(int)
        self._buffers: dict[str, tuple[str, list[Row]]] = {}
        self.batches_written = 0
        self.batches_skipped = 0

    def add(self, step: str, query: str, rows: list[Row]) -> None:
        """Buffer rows of a step; full batches are written as they fill."""
        buffered = self._buffers.setdefault(step, (query, []))[1]
        buffered.extend(rows)
        while len(buffered) >= self.batch_size:
            self._write(step, query, buffered[: self.batch_size])
            del buffered[: self.batch_size]

    def flush(self, step: str) -> None:
        query, buffered = self._buffers.pop(step, ("", []))
        if buffered:
            self._write(step, query, buffered)

    def _write(self, step: str, query: str, rows: list[Row]) -> None:
        number = self._next[step]
        self._next[step] += 1
        if number < self.done.get(step, 0):
            self.batches_skipped += 1
            return
        checkpoint = json.dumps({**self.done, step: number + 1}, sort_keys=True)

        def work(tx: ManagedTransaction) -> None:
            tx.run(query, rows=rows).consume()
            tx.run(q.SET_CHECKPOINT, run_id=self.run_id, checkpoint_json=checkpoint).consume()

        self.session.execute_write(work)
        self.done[step] = number + 1
        self.batches_written += 1

    def close(self) -> None:
        self.session.close()
