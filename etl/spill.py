"""The customer records of one load, on disk: a DuckDB database in the load's temporary folder.

:class:`CustomerSpill` is where identity resolution of a whole load happens with bounded memory
(DuckDB's ``memory_limit``, spilling to ``temp_directory`` beside the database file):

1. :meth:`add`: the prepared records of every system as the chunks are read (each row kept as
   the loader prepared it, for the golden records and the SourceRecords, plus the compared
   columns of etl/linkage_frame.py);
2. :meth:`add_known`: the records already behind golden customers in the graph (earlier loads,
   other systems): a record this load brings again takes the customer it has (its assignment),
   the others are scored against this load's new records (cross-load linking). The loader gives
   their keys first (:meth:`add_graph_keys`), then the fields of those this load does not bring
   (:meth:`absent_graph_keys`), then :meth:`keep_assignments` for the others;
   :meth:`add_not_same_as`: the pairs data stewards said are different people;
3. :meth:`resolve`: etl/linkage.py scores, clusters and names the customers;
4. the outputs, in bounded slices: golden-record slices (:meth:`records_of`), the records in load
   order with their customer and link (:meth:`in_load_order`), the review pairs.

It also keeps the bounded lookups the loader needs after the customers: (system, source_id) ->
customer_id for the references of accounts, holdings, interactions..., and sets of keys
(duplicate detection within a file, keys loaded in this run).

Two threads may use one spill: the loader reads and resolves the customers on its main thread
while the entities that refer to no customer load on another (etl/loader.py). A DuckDB
connection is not to be shared by threads; each other thread gets a cursor of its own (a
connection to the same database: DuckDB's transactions keep their appends apart). Adding keys to
a scope and reading them into memory take a lock; the records, the customer ids and the
resolution belong to the main thread.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from core import keyset
from etl import linkage
from etl.identity import IdentityConfig, Link
from etl.linkage_frame import match_frame
from etl.linkage_model import Model
from etl.records import MATCHING_FIELDS
from graph.local_server import pid_alive

BATCH = 20_000  # rows per insert / per graph query
CHECKPOINT_THRESHOLD = "256MB"  # (CustomerSpill.__init__)
MATCH_ONLY = (*MATCHING_FIELDS, "national_id_type")
# the compared columns (etl/linkage_frame.MATCH_COLUMNS) and the record's customer if resolved
MATCH_DDL = """
    unique_id BIGINT, system VARCHAR, source_id VARCHAR, given_name VARCHAR, family_name VARCHAR,
    given_hz VARCHAR, family_hz VARCHAR, birth_date DATE, gender VARCHAR, phone VARCHAR,
    email VARCHAR, address VARCHAR, address_words VARCHAR[], city VARCHAR, postcode VARCHAR,
    id_hash VARCHAR, id_type VARCHAR, cid VARCHAR, fresh BOOLEAN
"""
T = TypeVar("T")
# a graph key ``g`` whose record this load brings again (etl/linkage._prepare's test)
_BROUGHT_AGAIN = "EXISTS (SELECT 1 FROM m WHERE m.system = g.system AND m.source_id = g.source_id)"


@dataclass(frozen=True)
class _Ids:
    """One system's records: (source_id hashes, sorted by the first) -> customer_id."""

    h1: np.ndarray
    h2: np.ndarray
    cids: pa.Array


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of ``size`` items (the last one shorter), as the items stream in."""
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _sweep(directory: Path) -> None:
    """Delete the spill folders of loads that died without cleaning up (SIGKILL, power loss):
    their name carries the pid of the load, which no longer runs."""
    for old in directory.glob("c360-spill-*-*"):
        pid = old.name.split("-")[2]
        if not pid.isdigit() or pid_alive(int(pid)):
            continue
        shutil.rmtree(old, ignore_errors=True)


class CustomerSpill:
    """The customer records of one load, on disk. Use as a context manager (deletes the files)."""

    def __init__(
        self,
        columns: list[str],
        directory: Path | None = None,
        *,
        memory_limit: str = "1GB",
        threads: int = 2,
    ) -> None:
        # with the columns only matching reads, when the caller's list lacks them (etl/records.py)
        self.columns = [*columns, *(c for c in MATCH_ONLY if c not in columns)]
        _sweep(Path(directory or tempfile.gettempdir()))
        self._tmp = tempfile.TemporaryDirectory(prefix=f"c360-spill-{os.getpid()}-", dir=directory)
        self.folder = Path(self._tmp.name)
        self.path = self.folder / "load.duckdb"
        # connections are made from a root one that runs nothing (DuckDB refuses to make a
        # cursor of a connection while another thread runs a statement on it)
        self._root = duckdb.connect(str(self.path))
        self._main = self._root.cursor()
        self._owner = threading.get_ident()
        self._local = threading.local()  # another thread's cursor (:attr:`db`)
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._lock = threading.Lock()
        self._sets_lock = threading.Lock()  # a scope's keys: the table and the set in memory
        self.configure(memory_limit=memory_limit, threads=threads)
        self.db.execute(f"SET temp_directory = '{self.folder / 'tmp'}'")
        self.db.execute("SET preserve_insertion_order = false")
        # DuckDB checkpoints its write-ahead log into the file every 16 MiB by default, and a
        # checkpoint compresses and writes again the row groups appended to since the last one:
        # with the spill's appends of a chunk at a time that is most of an insert's cost (the
        # loader's main thread spent 10 s in them at 100,000 customers). The file is temporary
        # and never reopened; memory stays bounded by memory_limit (blocks not yet checkpointed
        # are evicted to temp_directory like any other)
        self.db.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
        # nor a last checkpoint when it closes: the file is deleted right after
        self.db.execute("PRAGMA disable_checkpoint_on_shutdown")
        self.db.execute(
            """
            CREATE TABLE rec (idx BIGINT, system VARCHAR, source_id VARCHAR, row BLOB);
            CREATE TABLE keyset (scope INTEGER, k VARCHAR);
            CREATE TABLE nsa (system_a VARCHAR, source_id_a VARCHAR, system_b VARCHAR,
                              source_id_b VARCHAR);
            CREATE TABLE graph_keys (unique_id BIGINT, system VARCHAR, source_id VARCHAR,
                                     cid VARCHAR);
            """
        )
        for table in ("m", "known"):
            self.db.execute(f"CREATE TABLE {table} ({MATCH_DDL})")
        self.n = 0
        self.known_count = 0
        self._scopes: dict[str, int] = {}
        self._sets: dict[int, keyset.KeySet] = {}  # a scope's keys, once asked (known)
        self._ids: dict[str, _Ids] = {}  # per system: source_id -> customer_id (customer_ids)
        self.has_ids = False
        self.review_count = 0

    @property
    def db(self) -> duckdb.DuckDBPyConnection:
        """This thread's connection: the spill's own on the thread that made it, else a cursor
        made for the thread on first use."""
        if threading.get_ident() == self._owner:
            return self._main
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            with self._lock:
                cursor = self._local.cursor = self._root.cursor()
                self._cursors.append(cursor)
        return cursor

    def configure(self, *, memory_limit: str, threads: int) -> None:
        """DuckDB's memory bound (beyond it, it spills to the temporary folder) and threads."""
        self.db.execute(f"SET memory_limit = '{_size(memory_limit)}'")
        self.db.execute(f"SET threads = {int(threads)}")

    def __enter__(self) -> CustomerSpill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for cursor in [*self._cursors, self._main, self._root]:
            cursor.close()
        self._tmp.cleanup()

    def _append(self, table: str, frame: pd.DataFrame) -> None:
        """Append a frame to ``table`` (created from the frame on first use)."""
        self.db.register("_frame", frame)
        try:
            self.db.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _frame")  # noqa: S608 - our names
        finally:
            self.db.unregister("_frame")

    # -- 1. the records ---------------------------------------------------------------------
    def add(self, frame: pd.DataFrame) -> None:
        """Append prepared records (columns ``self.columns``, in load order)."""
        if frame.empty:
            return
        part = frame.reindex(columns=self.columns)
        part = part.astype(object).where(part.notna(), None)
        rows = [pickle.dumps(values, 5) for values in part.itertuples(index=False, name=None)]
        recs = pd.DataFrame(
            {
                "idx": range(self.n, self.n + len(part)),
                "system": part["system"].astype(str).to_numpy(),
                "source_id": part["source_id"].astype(str).to_numpy(),
                "row": rows,
            }
        )
        match = match_frame(frame, self.n).assign(cid=None, fresh=True)
        match["cid"] = match["cid"].astype(object)
        self._append("rec", recs)
        self._append("m", match)
        self.n += len(part)

    def add_known(self, frame: pd.DataFrame, unique_ids: Iterable[int] | None = None) -> None:
        """Records already behind golden customers (columns of the graph's SourceRecords and
        ``customer_id``); call after the last :meth:`add`. ``unique_ids``: those
        :meth:`add_graph_keys` gave them (default: the next ones)."""
        if frame.empty:
            return
        match = match_frame(frame, self.n + self.known_count).assign(
            cid=frame["customer_id"].astype(str).to_numpy(), fresh=False
        )
        if unique_ids is None:
            self.known_count += len(frame)
        else:
            match["unique_id"] = np.fromiter(unique_ids, dtype=np.int64, count=len(frame))
        self._append("known", match)

    def add_graph_keys(self, frame: pd.DataFrame) -> None:
        """The keys of the records already behind golden customers (``system``, ``source_id``,
        ``customer_id``), as the graph streams them, each given the unique id its record has
        as a known record (the ids :meth:`add_known` of all the records in full, in that order,
        would give them). Then :meth:`absent_graph_keys` gives those this load does not bring,
        whose records are compared (read them and :meth:`add_known` them with their ids), and
        :meth:`keep_assignments` the others: a record this load brings again needs nothing of
        the graph's but its customer (etl/linkage._prepare), so reading its fields is spared."""
        if frame.empty:
            return
        first = self.n + self.known_count
        self._append(
            "graph_keys",
            pd.DataFrame(
                {
                    "unique_id": np.arange(first, first + len(frame), dtype=np.int64),
                    "system": frame["system"].astype(str).to_numpy(),
                    "source_id": frame["source_id"].astype(str).to_numpy(),
                    "cid": frame["customer_id"].astype(str).to_numpy(),
                }
            ),
        )
        self.known_count += len(frame)

    def absent_graph_keys(self, size: int) -> Iterator[pd.DataFrame]:
        """The graph keys of :meth:`add_graph_keys` whose record this load does not bring, in
        their order, ``size`` at a time (``unique_id``, ``system``, ``source_id``, ``cid``)."""
        # in order: a page's ``unique_id > ?`` skips the row groups before it
        self.db.execute(
            f"""
            CREATE OR REPLACE TABLE graph_absent AS
            SELECT * FROM graph_keys g WHERE NOT {_BROUGHT_AGAIN} ORDER BY unique_id
            """  # noqa: S608 - constant SQL
        )
        last = -1
        while True:
            part = self.db.execute(
                "SELECT * FROM graph_absent WHERE unique_id > ? ORDER BY unique_id LIMIT ?",
                [last, size],
            ).df()
            if part.empty:
                break
            yield part
            last = int(part["unique_id"].iloc[-1])
        self.db.execute("DROP TABLE graph_absent")

    def keep_assignments(self) -> None:
        """The customers of the graph keys whose record this load brings again, as known
        records (with nothing else: etl/linkage._prepare takes their customer, then drops
        them)."""
        self.db.execute(
            f"""
            INSERT INTO known BY NAME
            SELECT unique_id, system, source_id, cid, false AS fresh FROM graph_keys g
            WHERE {_BROUGHT_AGAIN};
            DELETE FROM graph_keys;
            """  # noqa: S608 - constant SQL
        )

    def known_of(self, ids: list[str]) -> list[tuple[str, str, str]]:
        """(customer_id, system, source_id) of the graph's records behind the customers ``ids``
        that this load does not bring again (the known records once :meth:`resolve` has taken
        the assignments of the others), by customer, in the order the graph gave them."""
        self.db.register("_ids", pd.DataFrame({"cid": pd.Series(ids, dtype=object)}))
        try:
            rows = self.db.execute(
                "SELECT k.cid, k.system, k.source_id FROM known k "
                "WHERE k.cid IN (SELECT cid FROM _ids) ORDER BY k.cid, k.unique_id"
            ).fetchall()
        finally:
            self.db.unregister("_ids")
        return [(str(c), str(s), str(i)) for c, s, i in rows]

    def add_not_same_as(self, pairs: list[tuple[str, str, str, str]]) -> None:
        """(system_a, source_id_a, system_b, source_id_b): never in one customer."""
        if pairs:
            cols = ["system_a", "source_id_a", "system_b", "source_id_b"]
            self._append("nsa", pd.DataFrame(pairs, columns=cols))

    # -- 2. resolution ----------------------------------------------------------------------
    def resolve(
        self,
        cfg: IdentityConfig,
        model_for: Callable[[Any, str, int], Model],
        echo: Callable[[str], None] = lambda _: None,
    ) -> None:
        """Score, cluster and name this load's records (etl/linkage.py). ``model_for(db_api,
        table, records)`` gives the model (the saved one, or one trained on ``table``)."""
        self.review_count = linkage.resolve(self.db, cfg, model_for, echo=echo)
        self.db.execute("CREATE INDEX rec_key ON rec (system, source_id)")
        self.has_ids = True

    # -- 3. outputs -------------------------------------------------------------------------
    def review_rows(self) -> Iterator[dict[str, Any]]:
        """The review pairs: the two records with their customers, the pair's probability,
        match weight and comparisons (JSON), by descending probability."""
        return linkage.review_rows(self.db)

    def _frame(self, rows: list[tuple[int, str, bytes]]) -> tuple[pd.DataFrame, list[int]]:
        idxs, cids, values = [], [], []
        for idx, cid, blob in rows:
            idxs.append(idx)
            cids.append(cid)
            values.append(pickle.loads(blob))  # noqa: S301 - our own temporary file
        frame = pd.DataFrame(values, columns=self.columns, dtype=object)
        frame["customer_id"] = pd.Series(cids, dtype=object)
        return frame, idxs

    def customer_ids_in_slices(self, size: int) -> Iterator[list[str]]:
        """The distinct customer ids, ascending, ``size`` at a time."""
        rows = self.db.execute("SELECT DISTINCT cid FROM out ORDER BY cid").fetchall()
        yield from _batches((cid for (cid,) in rows), size)

    def records_of(self, lo: str, hi: str) -> pd.DataFrame:
        """The records of the customers lo..hi, by customer id then load order."""
        frame, _ = self._frame(
            self.db.execute(
                "SELECT o.idx, o.cid, r.row FROM out o JOIN rec r ON r.idx = o.idx "
                "WHERE o.cid BETWEEN ? AND ? ORDER BY o.cid, o.idx",
                [lo, hi],
            ).fetchall()
        )
        return frame

    def in_load_order(
        self, size: int
    ) -> Iterator[tuple[pd.DataFrame, list[str], list[Link], list[bool]]]:
        """(records, customer ids, links, already resolved) in load order, ``size`` records at
        a time. A record already resolved in the graph keeps its customer and its link."""
        for start in range(0, self.n, size):
            rows = self.db.execute(
                "SELECT r.idx, o.cid, r.row, l.rule, l.confidence, l.match_weight, "
                "l.comparisons_json, o.resolved FROM rec r JOIN out o ON o.idx = r.idx "
                "JOIN link l ON l.idx = r.idx WHERE r.idx >= ? AND r.idx < ? ORDER BY r.idx",
                [start, start + size],
            ).fetchall()
            frame, _ = self._frame([(r[0], r[1], r[2]) for r in rows])
            links = [Link(r[3], r[4], r[5], r[6]) for r in rows]
            yield frame, list(frame["customer_id"]), links, [bool(r[7]) for r in rows]

    # -- 4. lookups for the other entities --------------------------------------------------
    def customer_ids(self, system: str, source_ids: list[str]) -> dict[str, str]:
        """source_id -> customer_id of this load's records of ``system``: looked up in memory,
        in a table of the system's records built once after the resolution (a query per chunk
        would scan every record of the load, for every chunk)."""
        if not self.has_ids or not source_ids:
            return {}
        ids = self._ids_of(system)
        wanted = [str(v) for v in source_ids]
        at = keyset.find(ids.h1, ids.h2, *keyset.hashes(wanted))
        hits = np.flatnonzero(at >= 0)
        cids = ids.cids.take(pa.array(at[hits], pa.int64())).to_pylist()
        return {wanted[i]: cid for i, cid in zip(hits.tolist(), cids, strict=True)}

    def _ids_of(self, system: str) -> _Ids:
        """A system's table, built on first use and kept: a caller may alternate systems
        (etl/loader.py's records already in the graph). The customer ids are one Arrow string
        array (their bytes and an offset each), not a Python string each."""
        if system not in self._ids:
            table = self.db.sql(
                "SELECT r.source_id, o.cid FROM rec r JOIN out o ON o.idx = r.idx "
                "WHERE r.system = ?",
                params=[system],
            ).to_arrow_table()
            h1, h2 = keyset.hashes(table.column("source_id").to_pylist())
            order = np.argsort(h1, kind="stable")
            cids = table.column("cid").combine_chunks().take(pa.array(order))
            self._ids[system] = _Ids(h1[order], h2[order], cids)
        return self._ids[system]

    def known(self, scope: str, keys: list[str]) -> set[str]:
        """Which of these keys were added to ``scope`` (in memory: core/keyset.py)."""
        if not keys:
            return set()
        texts = [str(k) for k in keys]
        member = self._keyset(scope).contains(texts)
        return {k for k, m in zip(texts, member.tolist(), strict=True) if m}

    def _keyset(self, scope: str) -> keyset.KeySet:
        """The scope's keys in memory, read once from the key table on first use."""
        number = self._scope(scope)
        with self._sets_lock:  # (keys another thread adds meanwhile are in the table or the set)
            if number not in self._sets:
                made = keyset.KeySet()
                cursor = self.db.execute("SELECT k FROM keyset WHERE scope = ?", [number])
                while batch := cursor.fetchmany(BATCH * 10):
                    made.add(k for (k,) in batch)
                self._sets[number] = made  # (only once whole)
            return self._sets[number]

    def first_time(self, scope: str, keys: list[str]) -> list[bool]:
        """For each key, whether it is new to ``scope`` (neither added before nor earlier in
        the list), adding it: in memory only (core/keyset.py), for a scope asked of nothing but
        this (a file's keys while it is read, for its duplicates): the key table is not
        written, and each key is hashed once."""
        return self._keyset(scope).first_time(keys)  # (which takes each key's str)

    def forget(self, scope: str) -> None:
        """Drop the in-memory keys of a scope asked no more (a file's keys once it is read);
        the key table keeps those :meth:`add_keys` wrote (not those of :meth:`first_time`)."""
        self._sets.pop(self._scope(scope), None)

    def keys_in_slices(self, scope: str, size: int) -> Iterator[list[str]]:
        """The distinct keys added to ``scope``, ascending, ``size`` at a time."""
        rows = self.db.execute(
            "SELECT DISTINCT k FROM keyset WHERE scope = ? ORDER BY k", [self._scope(scope)]
        ).fetchall()
        yield from _batches((k for (k,) in rows), size)

    def add_keys(self, scope: str, keys: Iterable[str]) -> None:
        values = [str(k) for k in keys]
        if values:
            number = self._scope(scope)
            with self._sets_lock:
                self._append("keyset", pd.DataFrame({"scope": number, "k": values}))
                if (held := self._sets.get(number)) is not None:
                    held.add(values)

    def _scope(self, scope: str) -> int:
        """A small number per scope name: the key table does not repeat the name in every row."""
        with self._lock:  # (two threads naming two new scopes get two numbers)
            return self._scopes.setdefault(scope, len(self._scopes))


def size_bytes(text: str) -> float:
    """A DuckDB memory size in bytes ("384MB" → 384e6; GiB-style units in 1024s)."""
    value = _size(text)
    units = {"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "KIB": 2**10, "MIB": 2**20,
             "GIB": 2**30, "TIB": 2**40, "B": 1}  # fmt: skip
    for unit, factor in units.items():
        if value.endswith(unit):
            return float(value[: -len(unit)]) * factor
    return float(value)


def _size(text: str) -> str:
    """A DuckDB memory size ("1.5GB", "800MB"), refused when it is not one."""
    value = text.strip().upper().replace(" ", "")
    number = value.rstrip("KMGTIB")
    try:
        float(number)
    except ValueError:
        raise ValueError(f"duckdb memory_limit {text!r} is not a size like 1.5GB") from None
    return value
