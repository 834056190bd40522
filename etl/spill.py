"""Identity resolution of a whole load with bounded memory: the records live in SQLite on disk.

:class:`CustomerSpill` is the out-of-core twin of ``etl.identity.resolve`` +
``assign_customer_ids`` + the golden slices: the prepared customer records of every system are
appended to a temporary SQLite file as the chunks are read, blocks are streamed from an indexed
table in the order the in-memory :func:`etl.identity.resolve` visits them, and only a few bytes per
record stay in memory (the union-find parents, each record's best link, three "block already
compared" flags). The results are the same, record for record: the same clusters, links, review
pairs in the same order, customer ids and golden records (tests/test_etl_units.py compares them).

It also keeps the bounded lookups the loader needs after the customers: (system, source_id) ->
customer_id for the references of accounts, holdings, interactions..., and sets of keys
(duplicate detection within a file, keys loaded in this run).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import sqlite3
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import TypeVar

import pandas as pd

from etl.identity import Candidate, IdentityConfig, Link, confidence, score_pair
from graph.local_server import pid_alive

# block kinds, in the order etl.identity.block_keys lists a record's keys
BIRTH, PHONE, EMAIL, ID = 0, 1, 2, 3
RULES = ("SINGLETON", "NATIONAL_ID", "PROBABILISTIC", "ANCHOR")
SINGLETON, NATIONAL_ID, PROBABILISTIC, ANCHOR = range(4)
BATCH = 20_000  # rows per executemany / per graph query
T = TypeVar("T")
IN_STEP = 900  # parameters of one ``IN (...)`` list


def _block_keys(c: Candidate) -> list[tuple[int, str]]:
    """etl.identity.block_keys as (kind, text): equal text exactly when the keys are equal."""
    keys: list[tuple[int, str]] = []
    if c.birth and c.name:
        keys.append((BIRTH, f"{type(c.birth).__name__}\x1f{c.birth}\x1f{c.name[0]}"))
    if c.phone:
        keys.append((PHONE, c.phone))
    if c.email:
        keys.append((EMAIL, c.email))
    if c.id_hash:
        keys.append((ID, c.id_hash))
    return keys


def _shares(kind: int, a: Candidate, b: Candidate) -> bool:
    """Whether a and b have the same block key of this kind."""
    if kind == BIRTH:
        return bool(a.birth and a.name and b.birth and b.name) and (
            a.birth == b.birth and a.name[0] == b.name[0]
        )
    if kind == PHONE:
        return bool(a.phone) and a.phone == b.phone
    return bool(a.email) and a.email == b.email


class _UnionFind:
    """etl.identity._UnionFind in a compact array (4 bytes per record)."""

    def __init__(self, n: int) -> None:
        self.parent = array("i", range(n))

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)


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
    """The customer records of one load, on disk. Use as a context manager (deletes the file)."""

    def __init__(self, columns: list[str], directory: Path | None = None) -> None:
        self.columns = list(columns)
        _sweep(Path(directory or tempfile.gettempdir()))
        self._tmp = tempfile.TemporaryDirectory(prefix=f"c360-spill-{os.getpid()}-", dir=directory)
        self.path = Path(self._tmp.name) / "load.sqlite"
        self.db = sqlite3.connect(self.path, isolation_level=None)
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "temp_store=FILE",
            "cache_size=-131072",  # 128 MiB of page cache
        ):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(
            """
            CREATE TABLE rec (idx INTEGER PRIMARY KEY, system TEXT, source_id TEXT,
                              id_hash TEXT, cand BLOB, row BLOB);
            CREATE TABLE bkey (kind INTEGER, key TEXT, idx INTEGER);
            CREATE TABLE blk (first INTEGER, kind INTEGER, key TEXT);
            CREATE TABLE review (seq INTEGER PRIMARY KEY, i INTEGER, j INTEGER, s REAL);
            CREATE TABLE existing (idx INTEGER PRIMARY KEY, cid TEXT);
            CREATE TABLE byhash (h TEXT PRIMARY KEY, cid TEXT) WITHOUT ROWID;
            CREATE TABLE clus (root INTEGER, idx INTEGER, PRIMARY KEY (root, idx)) WITHOUT ROWID;
            CREATE TABLE out (idx INTEGER PRIMARY KEY, cid TEXT);
            CREATE TABLE keyset (scope INTEGER, k TEXT, PRIMARY KEY (scope, k)) WITHOUT ROWID;
            """
        )
        self.n = 0
        self._scopes: dict[str, int] = {}
        self.rule = array("b")
        self.conf = array("d")
        self.root = array("i")
        self.review_count = 0
        self.has_ids = False

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One transaction around many inserts. The connection is in autocommit mode, where
        every INSERT of an ``executemany`` would be a transaction of its own that writes its
        pages out (6x the time, mostly in the kernel)."""
        self.db.execute("BEGIN")
        try:
            yield
        finally:
            self.db.execute("COMMIT")  # journal_mode=OFF: nothing to roll back to anyway

    def _insert(self, sql: str, rows: Iterable[tuple]) -> None:
        with self._transaction():
            self.db.executemany(sql, rows)

    def __enter__(self) -> CustomerSpill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()
        self._tmp.cleanup()

    # -- 1. the records ---------------------------------------------------------------------
    def add(self, frame: pd.DataFrame) -> None:
        """Append prepared records (columns ``self.columns``, in load order)."""
        recs: list[tuple[int, str, str, str | None, bytes, bytes]] = []
        keys: list[tuple[int, str, int]] = []
        for values in frame[self.columns].itertuples(index=False, name=None):
            r = dict(zip(self.columns, values, strict=True))
            c = Candidate(
                r["system"], r["source_id"], r["name_norm"], r["birth_date"],
                r["national_id_hash"], r["phone"], r["email"], r["address"], r["gender"],
            )  # fmt: skip
            idx = self.n
            self.n += 1
            recs.append(
                (idx, c.system, c.source_id, c.id_hash, pickle.dumps(tuple(c), 5),
                 pickle.dumps(values, 5))
            )  # fmt: skip
            keys.extend((kind, key, idx) for kind, key in _block_keys(c))
        with self._transaction():
            self.db.executemany("INSERT INTO rec VALUES (?,?,?,?,?,?)", recs)
            self.db.executemany("INSERT INTO bkey VALUES (?,?,?)", keys)

    def _cand(self, blob: bytes) -> Candidate:
        return Candidate(*pickle.loads(blob))  # noqa: S301 - our own temporary file

    # -- 2. resolution (etl.identity.resolve) ------------------------------------------------
    def resolve(self, cfg: IdentityConfig) -> None:
        n = self.n
        db = self.db
        db.execute("CREATE INDEX bkey_ix ON bkey (kind, key, idx)")
        uf = _UnionFind(n)
        self.rule = array("b", bytes(n))
        self.conf = array("d", bytes(8 * n))
        rule, conf = self.rule, self.conf

        def note(i: int, code: int, c: float) -> None:  # the first of the best links wins
            if rule[i] == SINGLETON or c > conf[i]:
                rule[i], conf[i] = code, c

        # the national-ID blocks first: resolve() notes their links before any scored pair's
        prev, head = None, -1
        for key, idx in db.execute(
            "SELECT key, idx FROM bkey WHERE kind = ? ORDER BY key, idx", (ID,)
        ):
            if key != prev:
                prev, head = key, idx
                continue
            uf.union(head, idx)
            note(idx, NATIONAL_ID, 1.0)
            note(head, NATIONAL_ID, 1.0)
        # the blocks to compare, in the order resolve() meets them: by first record, then kind
        db.execute(
            "INSERT INTO blk SELECT MIN(idx), kind, key FROM bkey WHERE kind != ? "
            "GROUP BY kind, key HAVING COUNT(*) BETWEEN 2 AND ?",
            (ID, cfg.max_block_size),
        )
        db.execute("CREATE INDEX blk_ix ON blk (first, kind)")
        done = [bytearray(n), bytearray(n), bytearray(n)]  # record's block of kind k compared
        w = cfg.weights
        review: list[tuple[int, int, float]] = []

        def compare(kind: int, members: list[tuple[int, Candidate]]) -> None:
            earlier = [k for k in (BIRTH, PHONE, EMAIL) if k != kind]
            for x, (i, a) in enumerate(members):
                for j, b in members[x + 1 :]:
                    if not cfg.compare_within_system and a.system == b.system:
                        continue
                    if any(done[k][i] and _shares(k, a, b) for k in earlier):
                        continue  # compared in an earlier block
                    if a.id_hash and b.id_hash:
                        continue
                    s = score_pair(a, b, w)
                    if s >= cfg.match_threshold:
                        uf.union(i, j)
                        c = confidence(s, cfg)
                        note(i, PROBABILISTIC, c)
                        note(j, PROBABILISTIC, c)
                    elif s >= cfg.review_threshold:
                        review.append((i, j, s))
            for i, _ in members:
                done[kind][i] = 1

        cur: tuple[int, int] | None = None
        members: list[tuple[int, Candidate]] = []
        rows = db.execute(
            "SELECT b.first, b.kind, k.idx, r.cand FROM blk b "
            "JOIN bkey k ON k.kind = b.kind AND k.key = b.key "
            "JOIN rec r ON r.idx = k.idx ORDER BY b.first, b.kind, k.idx"
        )
        for first, kind, idx, blob in rows:
            if (first, kind) != cur:
                if members:
                    compare(cur[1], members)  # type: ignore[index]
                cur, members = (first, kind), []
            members.append((idx, self._cand(blob)))
            if len(review) >= BATCH:
                self._keep_review(review)
        if members:
            compare(cur[1], members)  # type: ignore[index]
        self._keep_review(review)
        self.root = array("i", (uf.find(i) for i in range(n)))

    def _keep_review(self, review: list[tuple[int, int, float]]) -> None:
        self._insert("INSERT INTO review (i, j, s) VALUES (?,?,?)", review)
        review.clear()

    # -- 3. customer ids (etl.identity.assign_customer_ids) ----------------------------------
    def keys_of_records(self) -> Iterator[list[tuple[str, str]]]:
        """(system, source_id) of the records in load order, ``BATCH`` at a time."""
        rows = self.db.execute("SELECT system, source_id FROM rec ORDER BY idx")
        yield from _batches(((system, source_id) for system, source_id in rows), BATCH)

    def id_hashes(self) -> Iterator[list[str]]:
        """The distinct national-ID hashes, sorted, ``BATCH`` at a time."""
        rows = self.db.execute("SELECT DISTINCT key FROM bkey WHERE kind = ? ORDER BY key", (ID,))
        yield from _batches((h for (h,) in rows), BATCH)

    def assign(
        self,
        cfg: IdentityConfig,
        existing: Callable[[list[tuple[str, str]]], dict[tuple[str, str], str]],
        by_id_hash: Callable[[list[str]], dict[str, str]],
    ) -> None:
        """Give every record its customer id. ``existing``/``by_id_hash`` ask the graph for a
        batch of record keys / ID hashes (as the loader's queries do)."""
        db = self.db
        start = 0
        for keys in self.keys_of_records():
            found = existing(keys)
            self._insert(
                "INSERT INTO existing VALUES (?,?)",
                [(start + k, found[key]) for k, key in enumerate(keys) if key in found],
            )
            start += len(keys)
        for hashes in self.id_hashes():
            self._insert(
                "INSERT OR REPLACE INTO byhash VALUES (?,?)", list(by_id_hash(hashes).items())
            )
        root = self.root
        for s in range(0, self.n, BATCH):
            self._insert(
                "INSERT INTO clus VALUES (?,?)",
                [(root[i], i) for i in range(s, min(s + BATCH, self.n))],
            )
        rule, conf = self.rule, self.conf
        first_system = cfg.system_priority[0]
        out: list[tuple[int, str]] = []

        def settle(group: list[tuple[int, str, str, str | None, str | None, str | None]]) -> None:
            anchor = min(group, key=lambda g: (cfg.rank(g[1]), g[2]))
            known = sorted(g[4] for g in group if g[4] is not None)
            hashed = sorted(g[5] for g in group if g[5] is not None)
            _, a_system, a_source, *_ = anchor
            own = f"C-{a_source}" if a_system == first_system else f"C-{a_system}-{a_source}"
            cid = known[0] if known else own
            if not known and hashed and hashed[0] != own:
                cid = hashed[0]
                for g in group:
                    if g[5] is not None:
                        rule[g[0]], conf[g[0]] = NATIONAL_ID, 1.0
            out.extend((g[0], cid) for g in group)
            if len(group) > 1:
                rule[anchor[0]], conf[anchor[0]] = ANCHOR, 1.0

        rows = db.execute(
            "SELECT c.root, c.idx, r.system, r.source_id, r.id_hash, e.cid, h.cid FROM clus c "
            "JOIN rec r ON r.idx = c.idx LEFT JOIN existing e ON e.idx = c.idx "
            "LEFT JOIN byhash h ON h.h = r.id_hash ORDER BY c.root, c.idx"
        )
        cur = None
        group: list[tuple[int, str, str, str | None, str | None, str | None]] = []
        for r, idx, system, source_id, id_hash, known, hashed in rows:
            if r != cur and group:
                settle(group)
                group = []
                if len(out) >= BATCH:
                    self._insert("INSERT INTO out VALUES (?,?)", out)
                    out.clear()
            cur = r
            group.append((idx, system, source_id, id_hash, known, hashed))
        if group:
            settle(group)
        self._insert("INSERT INTO out VALUES (?,?)", out)
        db.execute("CREATE INDEX out_cid ON out (cid, idx)")
        db.execute("CREATE INDEX rec_key ON rec (system, source_id)")
        db.execute("DROP TABLE clus")
        self.has_ids = True

    def link(self, idx: int) -> Link:
        code = self.rule[idx]
        return Link(RULES[code], self.conf[idx] if code != SINGLETON else 1.0)

    # -- 4. outputs -------------------------------------------------------------------------
    def review_rows(self) -> Iterator[tuple[str, str, str, str, str, str, float]]:
        """The review pairs in resolve()'s order, still in two clusters: the er_review.csv rows."""
        root = self.root
        rows = self.db.execute(
            "SELECT v.i, v.j, v.s, a.system, a.source_id, oa.cid, b.system, b.source_id, ob.cid "
            "FROM review v JOIN rec a ON a.idx = v.i JOIN out oa ON oa.idx = v.i "
            "JOIN rec b ON b.idx = v.j JOIN out ob ON ob.idx = v.j ORDER BY v.seq"
        )
        for i, j, s, sa, ia, ca, sb, ib, cb in rows:
            if root[i] != root[j]:
                yield sa, ia, ca, sb, ib, cb, round(s, 2)

    def _frame(self, rows: Iterable[tuple[int, str, bytes]]) -> tuple[pd.DataFrame, list[int]]:
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
        rows = self.db.execute("SELECT DISTINCT cid FROM out ORDER BY cid")
        yield from _batches((cid for (cid,) in rows), size)

    def records_of(self, lo: str, hi: str) -> pd.DataFrame:
        """The records of the customers lo..hi, by customer id then load order."""
        frame, _ = self._frame(
            self.db.execute(
                "SELECT o.idx, o.cid, r.row FROM out o JOIN rec r ON r.idx = o.idx "
                "WHERE o.cid BETWEEN ? AND ? ORDER BY o.cid, o.idx",
                (lo, hi),
            )
        )
        return frame

    def in_load_order(self, size: int) -> Iterator[tuple[pd.DataFrame, list[str], list[Link]]]:
        """(records, customer ids, links) in load order, ``size`` records at a time."""
        for start in range(0, self.n, size):
            frame, idxs = self._frame(
                self.db.execute(
                    "SELECT r.idx, o.cid, r.row FROM rec r JOIN out o ON o.idx = r.idx "
                    "WHERE r.idx >= ? AND r.idx < ? ORDER BY r.idx",
                    (start, start + size),
                )
            )
            yield frame, list(frame["customer_id"]), [self.link(i) for i in idxs]

    # -- 5. lookups for the other entities --------------------------------------------------
    def customer_ids(self, system: str, source_ids: list[str]) -> dict[str, str]:
        """source_id -> customer_id of this load's records of ``system``."""
        found: dict[str, str] = {}
        if not self.has_ids:
            return found
        for s in range(0, len(source_ids), IN_STEP):
            part = source_ids[s : s + IN_STEP]
            marks = ",".join("?" * len(part))
            q = (
                "SELECT r.source_id, o.cid FROM rec r JOIN out o ON o.idx = r.idx "  # noqa: S608 - placeholders only
                f"WHERE r.system = ? AND r.source_id IN ({marks})"
            )
            found.update(self.db.execute(q, [system, *part]))
        return found

    def known(self, scope: str, keys: list[str]) -> set[str]:
        """Which of these keys were added to ``scope``."""
        found: set[str] = set()
        for s in range(0, len(keys), IN_STEP):
            part = keys[s : s + IN_STEP]
            marks = ",".join("?" * len(part))
            q = f"SELECT k FROM keyset WHERE scope = ? AND k IN ({marks})"  # noqa: S608 - placeholders only
            found.update(k for (k,) in self.db.execute(q, [self._scope(scope), *part]))
        return found

    def add_keys(self, scope: str, keys: Iterable[str]) -> None:
        number = self._scope(scope)
        self._insert("INSERT OR IGNORE INTO keyset VALUES (?,?)", ((number, k) for k in keys))

    def _scope(self, scope: str) -> int:
        """A small number per scope name: the key index does not repeat the name in every row."""
        return self._scopes.setdefault(scope, len(self._scopes))
