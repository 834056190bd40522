"""The one writer of a load: UNWIND batches in write transactions, each with its checkpoint.

Every batch of a step has a number; the batch and the run's checkpoint (``{step: batches
done}`` on the ``LoadRun``) commit in the same transaction. A resumed run replays the same steps
in the same order, skips the batches the checkpoint covers and writes the rest: killed at any
point, the graph ends as an uninterrupted load leaves it (and a batch written twice would change
nothing anyway, every write being a MERGE on keys).

The writes run on background threads, so the graph commits batch *n* while the loader reads,
maps and validates the next ones. One Neo4j transaction works on one core: with
``LOAD_WRITE_TRANSACTIONS`` above 1, as many threads write batches of the same step at once,
each the rows of its own customers (:class:`CheckpointedWriter`), for a server with cores to
spare. On the 2-core machine with the loader beside the server, 2 gave the same time as 1 at
100,000 customers (the interactions alone, replayed: 0.69-0.82x; the whole load: 1.01x, with
1.21x the CPU in Neo4j; bench/results/2026-12-03-write-transactions.md), so 1 is the default.
At most ``depth`` batches per thread wait in its queue (bounded memory). One thread of the
loader at a time hands it batches (etl/loader.py: the customers are written after the steps
alongside them). ``flush`` waits until a step's batches are committed; a failed write stops
the writing and is raised in the loader at its next ``add``/``flush``, and no batch starts
after it (the checkpoint keeps the run resumable).
The transaction work is graph/queries/loads.write_with_checkpoint.
A delta load (etl/delta.py) writes a step with :meth:`CheckpointedWriter.write_chunk`: one
numbered batch per chunk the loader read (the changed rows of the chunk, however few, and none
written for a chunk without any), so the numbering does not depend on what the graph holds and a
resumed delta run skips exactly the chunks its killed attempt committed.
Optionally every batch is also appended to a spool file as ``(step, query, rows)`` pickles: the
benchmark replays them as its bare UNWIND+MERGE baseline (bench/etl_baseline.py).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import multiprocessing
import pickle
import queue
import resource
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, BinaryIO

from neo4j import Driver, ManagedTransaction, Session
from neo4j.exceptions import TransientError

from core.memory import PeakTogether
from core.settings import Settings
from etl import delta
from graph import bulk_import, local_server, migrate, session
from graph.bulk_import import ImportFiles, ImportReport, Written
from graph.queries import loads as q
from graph.queries import upserts as uq

Row = dict[str, Any]

# rounds of the driver's retries a batch deadlocked with another thread's gets (CheckpointedWriter)
DEADLOCK_ROUNDS = 3


class CheckpointedWriter:
    """The graph's writer of an online load (the module docstring).

    ``writers`` transactions at once: each row goes to one of ``writers`` threads by the
    customer it is about (``customer_id``, a referral's ``referrer_id``; else the key of the
    node it writes, else the first thread), each with a session and a queue of its own. So the
    rows of one key are written by one thread in the order they came (the last row wins, as
    with one transaction), and two transactions seldom lock the same node: they still may where
    a row touches a node of another thread's (an account's holders stamped with the run, a
    referral's referred customer, a household's members, the employee of interactions, a
    record moving to another customer). Neo4j then makes one wait or, in a cycle, ends one as
    deadlocked; the driver runs it again (``attempts`` counts the transactions run).

    A step's rows on thread *p* of *n* are a step of their own in the checkpoint
    (``step@p/n``), numbered and committed in order by that thread; a run resumed with another
    number of threads finds none of those and writes them all again (which changes nothing).
    Batches start in the order they were handed over, and a batch of another step or query
    only once every batch before it has committed. A step must be flushed before the next is
    added (as the loader does): the rows a step still buffers are handed over at its flush. A
    delta load's chunks (:meth:`write_chunk`) are written by the first thread alone, as before.
    """

    def __init__(
        self,
        driver: Driver,
        *,
        database: str,
        run_id: str,
        done: dict[str, int],
        batch_size: int,
        depth: int = 2,
        spool: BinaryIO | None = None,
        writers: int = 1,
    ) -> None:
        assert writers >= 1, writers
        self.run_id = run_id
        self.done = dict(done)  # the resumed checkpoint: batches below it are skipped
        self.batch_size = batch_size
        self.writers = writers
        self.spool = spool
        self.spool_seconds = 0.0  # time the loader spent writing the spool (benchmark only)
        self._next: dict[str, int] = defaultdict(int)
        self._buffers: dict[str, tuple[str, list[list[Row]]]] = {}
        self._routes: dict[str, Callable[[Row], int]] = {}
        self.batches_written = 0
        self.rows_written = 0
        self.batches_skipped = 0
        self.attempts = 0  # transactions run, those run again after a deadlock included
        self._error: BaseException | None = None
        # true claims: batches done per (sub)step, raised as each thread commits in order
        self._claims: dict[str, int] = dict(done)
        # batches handed over change "epoch" when the step or query changes: a batch starts
        # once no batch of an earlier epoch is outstanding
        self._unit: tuple[str, str] | None = None
        self._epoch = 0
        self._outstanding: dict[int, int] = defaultdict(int)
        self._state = threading.Condition()
        self._queues: list[queue.Queue[_Batch | None]] = [
            queue.Queue(maxsize=depth) for _ in range(writers)
        ]
        self._sessions = [driver.session(database=database) for _ in range(writers)]
        self._threads = [
            threading.Thread(target=self._drain, args=(i,), name=f"graph-writer-{i}", daemon=True)
            for i in range(writers)
        ]
        for thread in self._threads:
            thread.start()

    def add(self, step: str, query: str, rows: list[Row], stamp: uq.Upsert | None = None) -> None:
        """Buffer rows of a step; full batches are written as they fill. ``stamp``: the rows'
        upsert, to put each row's content hash in first (etl/delta.stamp)."""
        if stamp is not None:
            delta.stamp(stamp, rows)
        if not rows:
            return
        buffers = self._buffers.setdefault(step, (query, [[] for _ in range(self.writers)]))[1]
        if self.writers == 1:
            buffers[0].extend(rows)
        else:
            route = self._routes.get(step) or self._routes.setdefault(step, _route(rows, stamp))
            for row in rows:
                buffers[route(row) % self.writers].append(row)
        for p, buffered in enumerate(buffers):
            while len(buffered) >= self.batch_size:
                self._write(step, p, query, buffered[: self.batch_size])
                del buffered[: self.batch_size]

    def pending(self, step: str) -> bool:
        """Whether the next chunk of ``step`` (:meth:`write_chunk`) is to be written (not
        covered by the checkpoint)."""
        return self._next[step] >= self.done.get(step, 0)

    def write_chunk(self, step: str, query: str, rows: list[Row]) -> None:
        """One numbered batch of ``step`` holding ``rows`` (a delta load's changed rows of one
        chunk), on the first thread; none is written when ``rows`` is empty, but the number is
        taken (and claimed once the batches before it committed)."""
        assert step not in self._buffers, f"{step} is written by chunks, not buffered"
        self._write(step, 0, query, rows, sub=step)

    def flush(self, step: str) -> None:
        """Write what a step still buffers and wait until all its batches are committed."""
        query, buffers = self._buffers.pop(step, ("", []))
        self._routes.pop(step, None)
        for p, buffered in enumerate(buffers):
            if buffered:
                self._write(step, p, query, buffered)
        for q_ in self._queues:
            q_.join()
        self._raise_failure()

    def _write(
        self, step: str, p: int, query: str, rows: list[Row], sub: str | None = None
    ) -> None:
        self._raise_failure()
        sub = sub or _part(step, p, self.writers)
        number = self._next[sub]
        self._next[sub] += 1
        if number < self.done.get(sub, 0):
            self.batches_skipped += bool(rows)
            return
        if self.spool is not None and rows:
            t0 = time.perf_counter()
            pickle.dump((step, query, rows, p), self.spool, protocol=pickle.HIGHEST_PROTOCOL)
            self.spool_seconds += time.perf_counter() - t0
        with self._state:
            if rows and (step, query) != self._unit:
                self._unit = (step, query)
                self._epoch += 1
            self._outstanding[self._epoch] += 1
            batch = _Batch(self._epoch, sub, number, query, rows)
        self._queues[p].put(batch)

    def _may_start(self, batch: _Batch) -> bool:
        """No batch of an earlier epoch outstanding (under ``_state``); after a failure, at
        once (to be dropped)."""
        return self._error is not None or all(
            n == 0 for e, n in self._outstanding.items() if e < batch.epoch
        )

    def _drain(self, p: int) -> None:
        own, todo = self._sessions[p], self._queues[p]
        while (batch := todo.get()) is not None:
            with self._state:
                self._state.wait_for(functools.partial(self._may_start, batch))
                failed = self._error is not None
            try:
                if not failed and batch.rows:
                    self._write_batch(own, batch)
            except BaseException as exc:  # handed to the loader's thread
                failed = True
                with self._state:
                    self._error = self._error or exc
            with self._state:
                if not failed:
                    # this thread commits its steps in order: every batch up to this one is in
                    self._claims[batch.sub] = batch.number + 1
                    if batch.rows:
                        self.batches_written += 1
                        self.rows_written += len(batch.rows)
                self._outstanding[batch.epoch] -= 1
                if not self._outstanding[batch.epoch]:
                    del self._outstanding[batch.epoch]
                self._state.notify_all()
            todo.task_done()
        todo.task_done()

    def _write_batch(self, own: Session, batch: _Batch) -> None:
        """The batch's transaction, run again by the driver after a transient error for up to
        its retry time (30 s); a deadlock with the other threads' transactions gets
        :data:`DEADLOCK_ROUNDS` more such rounds before it fails the load."""
        for round_ in itertools.count(1):
            try:
                own.execute_write(self._attempt, batch)
                return
            except TransientError as exc:
                if round_ > DEADLOCK_ROUNDS or "DeadlockDetected" not in (exc.code or ""):
                    raise

    def _attempt(self, tx: ManagedTransaction, batch: _Batch) -> None:
        with self._state:
            self.attempts += 1
            claims = {**self._claims, batch.sub: batch.number + 1}
        q.write_with_checkpoint(tx, batch.query, batch.rows, self.run_id, claims)

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        """Let queued batches finish (or be dropped after a failure), then end the sessions."""
        for todo in self._queues:
            todo.put(None)
        for thread in self._threads:
            thread.join()
        for own in self._sessions:
            own.close()


def _part(step: str, p: int, writers: int) -> str:
    """The checkpoint's name of thread ``p``'s part of ``step`` (:class:`CheckpointedWriter`)."""
    return step if writers == 1 else f"{step}@{p}/{writers}"


def _route(rows: list[Row], upsert: uq.Upsert | None) -> Callable[[Row], int]:
    """Which thread a step's row goes to (:class:`CheckpointedWriter`), from its first rows:
    by the customer the row is about, else by the key of the node it writes, else the first."""
    names: tuple[str, ...] = tuple(n for n in ("customer_id", "referrer_id") if n in rows[0])[:1]
    if not names and upsert is not None and upsert.node is not None:
        names = upsert.node.key
    if not names:
        return lambda row: 0
    return lambda row: zlib.crc32("\x1f".join(str(row[n]) for n in names).encode())


@dataclass(frozen=True)
class _Batch:
    """A batch handed to a thread of the writer: its ``epoch`` (the order of the steps and
    queries), the checkpoint's name of its step on that thread and its number there."""

    epoch: int
    sub: str
    number: int
    query: str
    rows: list[Row]


def _write_files(folder: str, chunks: Connection, result: Connection) -> None:
    """The process writing a bulk load's files (:class:`FilesProcess`): each ``(query, rows,
    stamp)`` pickle read from ``chunks`` is stamped with its content hashes and written, until
    an empty message; then what was written (or why it failed) is sent on ``result``. The end
    of ``chunks`` before that is the loader gone (killed): the process ends, nobody will read."""
    try:
        files = ImportFiles(Path(folder))
        while True:
            try:
                chunk = chunks.recv_bytes()
            except (EOFError, OSError):  # (OSError: the pipe ended in the middle of a chunk)
                return
            if not chunk:
                break
            query, rows, stamp = pickle.loads(chunk)  # noqa: S301 (the loader's own rows)
            if stamp is not None:
                delta.stamp(stamp, rows)
            files.add(query, rows)
        files.close()
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # (KiB)
        result.send(("written", (files.written(), peak_mib)))
    except BaseException as exc:  # noqa: BLE001 (handed to the loader, which raises it)
        with contextlib.suppress(OSError):
            result.send(("failed", f"{type(exc).__name__}: {exc}"))


class FilesProcess:
    """:class:`graph.bulk_import.ImportFiles` in a process of its own: the rows' content hashes,
    their translation to nodes and relationships and the CSV text (some 30 µs a row) run on the
    second core while the loader reads, maps and validates on the first; the loader only
    pickles each chunk (some 4 µs a row). Chunks are written in the order they were added: a
    thread of the loader sends them, at most ``depth`` waiting (bounded memory), on a pipe only
    the process reads; a failure there is raised here at the next :meth:`add` or at
    :meth:`close`. Each side holds only its own end of each pipe, so the process sees the end of
    its input when the loader is killed (and the loader sees the process's end)."""

    def __init__(self, folder: Path, *, depth: int = 4) -> None:
        ctx = multiprocessing.get_context("spawn")  # (the loader has threads: no fork)
        self.folder = folder
        chunks_in, self._chunks_out = ctx.Pipe(duplex=False)
        self._result_in, result_out = ctx.Pipe(duplex=False)
        self._process = ctx.Process(
            target=_write_files,
            args=(str(folder), chunks_in, result_out),
            name="c360-import-files",
            daemon=True,
        )
        self._process.start()
        chunks_in.close()  # (the process's ends)
        result_out.close()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._send_error: OSError | None = None
        self._sender = threading.Thread(target=self._send, name="import-files", daemon=True)
        self._sender.start()
        self._lock = threading.Lock()  # (two threads of the loader add)
        self._written: Written | None = None
        self._failure: str | None = None
        self.peak_rss_mib = 0.0  # the process's, once it has finished
        # what the loader and this process hold at once (the loader's memory target)
        self._together = PeakTogether(lambda: [self._process.pid] if self._process.pid else [])

    def add(self, query: str, rows: list[Row], stamp: uq.Upsert | None = None) -> None:
        self._check()
        # pickled here, now: the rows may change after this returns
        self._queue.put(pickle.dumps((query, rows, stamp), protocol=pickle.HIGHEST_PROTOCOL))

    def _send(self) -> None:
        """The sending thread: after a failed send, the chunks are taken and dropped (so that
        ``add`` never waits on a full queue); None ends it."""
        while (chunk := self._queue.get()) is not None:
            if self._send_error is None:
                try:
                    self._chunks_out.send_bytes(chunk)
                except OSError as exc:  # (the process ended: it says why on its result pipe)
                    self._send_error = exc
        self._chunks_out.close()

    def _check(self, wait: bool = False) -> None:
        """Raise what the process reported, or its end before it reported; ``wait``: until it
        has reported or ended."""
        with self._lock:
            if self._written is None and self._failure is None:
                ended = self._send_error is not None or not self._process.is_alive()
                if wait or ended or self._result_in.poll():
                    self._receive()
            if self._failure is not None:
                raise bulk_import.BulkImportError(
                    f"writing the import files in {self.folder} {self._failure}"
                )

    def _receive(self) -> None:
        """The process's word, waiting for it: what it wrote, why it failed, or its end
        without a word (killed, say)."""
        try:
            kind, value = self._result_in.recv()
        except EOFError:
            self._process.join()
            self._failure = f"stopped (exit code {self._process.exitcode})"
            return
        if kind == "failed":
            self._failure = f"failed: {value}"
        else:
            self._written, self.peak_rss_mib = value

    def close(self) -> Written:
        """Wait until every chunk is written; what the files hold."""
        if self._written is None:
            self._check()
            self._queue.put(b"")  # (the last chunk)
            self._queue.put(None)
            self._sender.join()
            self._check(wait=True)
            self._together.stop()  # (before the join: a reaped pid may be another process's)
            self._process.join()
        assert self._written is not None
        return self._written

    @property
    def together_peak_rss_mib(self) -> float:
        """The most the loader and this process held at once (sampled, while it ran)."""
        return self._together.peak_mib

    def stop(self) -> None:
        """End the process at once (a load that failed: its files are not wanted)."""
        self._together.stop()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        if self._sender.is_alive():
            self._queue.put(None)  # (its sends fail now: it drops what waits and ends)
            self._sender.join()
        self._result_in.close()


class BulkImportWriter:
    """The writer of a first load into an empty local graph (``c360 load --bulk-import``): the
    rows go to the offline importer's files (graph/bulk_import.py, written by a process of their
    own: :class:`FilesProcess`) instead of Cypher, and :meth:`finish` imports them, then writes
    what the files left to Cypher. Same interface as :class:`CheckpointedWriter`; the checkpoint
    is written once, when all is in (a run killed before that starts over: the graph holds
    nothing of it but its ``LoadRun``)."""

    def __init__(self, folder: Path, *, run_id: str, batch_size: int, writers: int = 1) -> None:
        self.files = FilesProcess(folder)
        self.written: Written | None = None
        self.run_id = run_id
        self.batch_size = batch_size
        self.writers = writers
        self.done: dict[str, int] = {}
        self._rows: dict[str, list[int]] = {}
        self._routes: dict[str, Callable[[Row], int]] = {}
        self.batches_written = 0
        self.rows_written = 0
        self.batches_skipped = 0
        self.spool_seconds = 0.0
        self.attempts = 0  # (no transactions: the importer writes the files)

    def add(self, step: str, query: str, rows: list[Row], stamp: uq.Upsert | None = None) -> None:
        self.files.add(query, rows, stamp)
        counts = self._rows.setdefault(step, [0] * self.writers)
        if self.writers == 1:
            counts[0] += len(rows)
        elif rows:  # (per thread of the online writer, routed as it routes them)
            route = self._routes.get(step) or self._routes.setdefault(step, _route(rows, stamp))
            for row in rows:
                counts[route(row) % self.writers] += 1

    def pending(self, step: str) -> bool:
        return True

    def write_chunk(self, step: str, query: str, rows: list[Row]) -> None:
        raise AssertionError("a delta load writes online")

    def flush(self, step: str) -> None:
        # the batches the online writer would have numbered (the checkpoint a resume reads)
        for p, n in enumerate(self._rows.pop(step, [])):
            self.done[_part(step, p, self.writers)] = -(-n // self.batch_size)
        self._routes.pop(step, None)

    def close(self) -> None:
        if self.written is None:  # (not finished: a failed load)
            self.files.stop()

    def finish(
        self, driver: Driver, settings: Settings, echo: Callable[[str], None]
    ) -> ImportReport:
        """Import the files into the stopped local server and start it again, put back the load
        runs, create the constraints, write the rows left to Cypher, and set the run's
        checkpoint. The load runs are put back whether the import succeeds or not."""
        database = settings.neo4j_database
        written = self.written = self.files.close()
        if session.rows(driver, database, q.HOLDS_DATA):  # (written by another since it began)
            raise bulk_import.BulkImportError(
                "the graph received data during the load and an import would replace it; "
                "load again without --bulk-import"
            )
        runs = [
            bulk_import.restorable(r["props"]) for r in session.rows(driver, database, q.ALL_RUNS)
        ]
        try:
            report = local_server.restart_around(
                settings,
                lambda: bulk_import.run_import(
                    settings,
                    written,
                    run_id=self.run_id,
                    classpath=local_server.classpath(settings),
                    echo=echo,
                ),
                echo=echo,
            )
        finally:
            bulk_import.reconnect(driver, database)
            session.run(driver, database, q.RESTORE_RUNS, runs=runs)
        echo(f"bulk import: {report.seconds:,.1f} s; constraints and indexes …")
        migrate.apply(driver, database=database)
        echo(f"bulk import: {written.deferred_rows:,} rows left to Cypher …")
        for query, rows in written.deferred(self.batch_size):
            session.run(driver, database, query, rows=rows)
            self.batches_written += 1
        checkpoint = json.dumps(self.done, sort_keys=True)
        session.run(
            driver, database, q.SET_CHECKPOINT, run_id=self.run_id, checkpoint_json=checkpoint
        )
        self.rows_written = written.nodes + written.relationships + written.deferred_rows
        return report
