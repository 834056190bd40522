"""First loads through Neo4j's offline importer (``neo4j-admin database import full``).

A load into an empty local graph need not go through Cypher at all: the rows the loader hands to
the upserts of graph/queries/upserts.py become the importer's CSV files instead (:class:`ImportFiles`),
one node or relationship per row with the same keys and properties the upsert's ``MERGE`` and
``SET`` would write, and the importer builds the store in one pass. What the files cannot say
exactly is left to Cypher after the import (:meth:`ImportFiles.deferred`, replayed by the loader
in the order it came): a row whose node or relationship an earlier row of the load already wrote
(the online path merges the second into the first: ``SET +=`` of the later row wins), and every
query without a translation here (the home branches, derived from the graph; the review queue).

The files: one per label or relationship type and *shape* (the properties a row has, with their
types), so every column of a file is set in every row and typed in its header: a missing value is
a missing property, as ``SET n += row`` leaves it, and an ``int`` stays a long, a ``float`` a
double, a ``date`` a date (tests/test_bulk_import.py compares the graph with the online path's,
types included).

:func:`run_import` runs the importer of the Neo4j the project resolved from Maven Central (the
classes of ``neo4j-import-tool`` are on the local server's classpath: no distribution to
download) on the local server's database while the server is stopped
(graph/local_server.restart_around).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import numbers
import os
import pickle
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

import numpy as np
import pandas as pd
from neo4j import Driver

from core.keyset import KeySet
from core.memory import meminfo_kib
from core.settings import Settings
from graph import local_server, model
from graph.queries import upserts as uq

Row = dict[str, Any]
# Inside a CSV field holding an array: a character no key or text of ours contains.
ARRAY_DELIMITER = "\x1f"


class BulkImportError(RuntimeError):
    """The importer failed, or a value cannot be written to its files."""


@dataclass(frozen=True)
class _Node:
    label: str
    id: str
    props: Row


@dataclass(frozen=True)
class _Rel:
    type: str
    start: tuple[str, str]  # (label, node id)
    end: tuple[str, str]
    props: Row


def node_id(node: model.Node, values: list[Any]) -> str:
    """The importer's id of a node: its key (one string as it is, else JSON of the parts)."""
    if len(values) == 1 and isinstance(values[0], str):
        return values[0]
    return json.dumps([v.isoformat() if isinstance(v, dt.date) else v for v in values])


def _ref(node: model.Node, *values: Any) -> tuple[str, str] | None:
    """The endpoint of a relationship (None when a key part is missing: ``MATCH`` finds none)."""
    if len(values) == 1:  # (the common case, without a generator per row)
        value = values[0]
        if value is None:
            return None
        return node.label, value if type(value) is str else node_id(node, [value])
    if any(v is None for v in values):
        return None
    return node.label, node_id(node, list(values))


def _node(node: model.Node, props: Row) -> _Node:
    return _Node(node.label, node_id(node, [props[k] for k in node.key]), props)


def _rel(type_: str, start: tuple[str, str] | None, end: tuple[str, str] | None, props: Row):
    return [] if start is None or end is None else [_Rel(type_, start, end, props)]


# A translation: a row → the nodes and relationships its upsert writes, and the key that makes
# the row a repeat (a node's label and id, or a relationship's type and ends).
Translation = tuple[list[_Node], list[_Rel], str]


def _key(n: _Node) -> str:
    return f"{n.label}\t{n.id}"


def _plain(node: model.Node) -> Callable[[Row], Translation]:
    """``MERGE (x:Label {key: row.key}) SET x += row``."""

    def translate(row: Row) -> Translation:
        n = _node(node, row)
        return [n], [], _key(n)

    return translate


def _fx_rate(row: Row) -> Translation:
    n = _node(
        model.FX_RATE, {k: row.get(k) for k in ("currency", "rate_date", "rate", "content_hash")}
    )
    return [n], [], _key(n)


def _employee(row: Row) -> Translation:
    n = _node(model.EMPLOYEE, row)
    return (
        [n],
        _rel("WORKS_AT", (n.label, n.id), _ref(model.BRANCH, row.get("branch_id")), {}),
        _key(n),
    )


def _account(row: Row) -> Translation:
    props = {**row["props"], "account_id": row["account_id"]}
    n = _node(model.ACCOUNT, props)
    product = _ref(model.PRODUCT, props.get("product_code"))
    return [n], _rel("OF_PRODUCT", (n.label, n.id), product, {}), _key(n)


def _source_record(row: Row) -> Translation:
    props = {**row["props"], "system": row["system"], "source_id": row["source_id"]}
    n = _node(model.SOURCE_RECORD, props)
    link = {k: row.get(k) for k in ("rule", "confidence", "match_weight", "comparisons_json")}
    customer = _ref(model.CUSTOMER, row.get("customer_id"))
    return [n], _rel("RESOLVED_TO", (n.label, n.id), customer, link), _key(n)


def _interaction(row: Row) -> Translation:
    props = {**row["props"], "interaction_id": row["interaction_id"]}
    n = _node(model.INTERACTION, props)
    customer = _ref(model.CUSTOMER, row.get("customer_id"))
    if customer is None:  # (MATCH finds no customer: the row writes the node alone)
        return [n], [], _key(n)
    rels = _rel("HAD", customer, (n.label, n.id), {"origin": row.get("customer_id_origin")})
    rels += _rel("HANDLED_BY", (n.label, n.id), _ref(model.EMPLOYEE, row.get("employee_id")), {})
    return [n], rels, _key(n)


def _between(
    type_: str, start: tuple[model.Node, str], end: tuple[model.Node, str], props: dict[str, str]
) -> Callable[[Row], Translation]:
    """A relationship between two nodes written before, its properties from the row's fields
    (``props``: property → field)."""

    def translate(row: Row) -> Translation:
        a, b = _ref(start[0], row.get(start[1])), _ref(end[0], row.get(end[1]))
        rels = _rel(type_, a, b, {p: row.get(f) for p, f in props.items()})
        return [], rels, f"{type_}\t{a}\t{b}"

    return translate


_COMMON = {"origin": "customer_id_origin", "content_hash": "content_hash"}
TRANSLATIONS: dict[str, Callable[[Row], Translation]] = {
    uq.UPSERT_FX_RATES: _fx_rate,
    uq.UPSERT_BRANCHES: _plain(model.BRANCH),
    uq.UPSERT_EMPLOYEES: _employee,
    uq.UPSERT_PRODUCTS: _plain(model.PRODUCT),
    uq.UPSERT_CUSTOMERS: _plain(model.CUSTOMER),
    uq.UPSERT_ACCOUNTS: _account,
    uq.UPSERT_HOLDINGS: _between(
        "HOLDS", (model.CUSTOMER, "customer_id"), (model.ACCOUNT, "account_id"),
        {"role": "role", "ended_at": "ended_at", **_COMMON},
    ),
    uq.UPSERT_HOUSEHOLDS: _plain(model.HOUSEHOLD),
    uq.UPSERT_MEMBERSHIPS: _between(
        "MEMBER_OF", (model.CUSTOMER, "customer_id"), (model.HOUSEHOLD, "household_id"),
        {"role": "role", "since": "since", "ended_at": "ended_at", **_COMMON},
    ),
    uq.UPSERT_MANAGES: _between(
        "MANAGES", (model.EMPLOYEE, "employee_id"), (model.CUSTOMER, "customer_id"),
        {"since": "since", **_COMMON},
    ),
    uq.UPSERT_SOURCE_RECORDS: _source_record,
    uq.UPSERT_REFERRALS: _between(
        "REFERRED", (model.CUSTOMER, "referrer_id"), (model.CUSTOMER, "referred_id"),
        {"referred_at": "referred_at", "channel": "channel", "status": "status",
         "origin": "referrer_id_origin", "origin_to": "referred_id_origin",
         "content_hash": "content_hash"},
    ),
    uq.UPSERT_INTERACTIONS: _interaction,
}  # fmt: skip


def encode(value: Any) -> tuple[str, str] | None:
    """A property value → (the importer's type, the field's text); None: no property (what
    ``SET n += row`` does with a null). A value the importer cannot hold raises."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return "boolean", "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return "long", str(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "double", "NaN"
        if math.isinf(value):
            return "double", "Infinity" if value > 0 else "-Infinity"
        return "double", repr(float(value))
    if isinstance(value, str) and "\0" not in value:  # (a NUL: Cypher's, after)
        return "string", value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return "localdatetime", value.isoformat()
        zone = getattr(value.tzinfo, "key", None) or getattr(value.tzinfo, "zone", None)
        return "datetime", value.isoformat() + (f"[{zone}]" if zone else "")
    if isinstance(value, dt.date):
        return "date", value.isoformat()
    if isinstance(value, list | tuple) and value:
        parts = [encode(v) for v in value]
        types = {p[0] if p else None for p in parts}
        if len(types) == 1 and None not in types:
            texts = [p[1] for p in parts if p]
            if not any(ARRAY_DELIMITER in t for t in texts):
                return f"{types.pop()}[]", ARRAY_DELIMITER.join(texts)
    raise BulkImportError(f"the importer cannot hold the value {value!r} ({type(value).__name__})")


OPEN_FILES = 200  # files kept open at once (the others are opened again to append)


@dataclass
class _File:
    kind: str  # "nodes" or "relationships"
    name: str  # label or type
    path: Path
    handle: IO[str] | None = None
    writer: Any = None
    rows: int = 0

    def open(self, mode: str) -> Any:
        self.handle = open(self.path, mode, newline="", encoding="utf-8")  # noqa: SIM115
        self.writer = csv.writer(self.handle, quoting=csv.QUOTE_ALL, lineterminator="\n")
        return self.writer

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
        self.handle = self.writer = None


@dataclass
class ImportFiles:
    """The importer's CSV files of one load, written in ``folder`` as the loader's rows come,
    and the rows left to Cypher (a pickle stream of ``(query, rows)``). A load writes them in a
    process of its own (etl/batches.FilesProcess), which hands back :meth:`written`."""

    folder: Path
    files: dict[tuple, _File] = field(default_factory=dict)
    _open: dict[tuple, _File] = field(default_factory=dict)
    seen: KeySet = field(default_factory=KeySet)  # the keys written so far
    nodes: int = 0
    relationships: int = 0
    deferred_rows: int = 0
    _last: _File | None = None  # the file written last (kept at the end of ``_open``)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.csv"):
            old.unlink()
        self._deferred: BinaryIO = open(self.folder / "deferred.pickle", "wb")  # noqa: SIM115

    def add(self, query: str, rows: list[Row]) -> None:
        translate = TRANSLATIONS.get(query)
        if translate is None:
            self._defer(query, rows)
            return
        done = [translate(row) for row in rows]
        later = []
        for row, (nodes, rels, _), new in zip(
            rows, done, self.seen.first_time([key for _, _, key in done]), strict=True
        ):
            if not new:
                later.append(row)
                continue
            # A value the files cannot hold (an empty list, say) is left out and the row goes
            # to Cypher after as well: its MERGE finds what the files wrote and its SET adds
            # the rest (a node is written all the same, so what the files relate to it finds it).
            complete = True
            for n in nodes:
                typed, texts, whole = _typed(n.props)
                self._write(("nodes", n.label, typed), n.id, texts)
                complete &= whole
            for r in rels:
                typed, texts, whole = _typed(r.props)
                self._write(("relationships", r.type, r.start[0], r.end[0], typed),
                            r.start[1], texts, r.end[1])  # fmt: skip
                complete &= whole
            if not complete:
                later.append(row)
            self.nodes += len(nodes)
            self.relationships += len(rels)
        if later:
            self._defer(query, later)

    def _defer(self, query: str, rows: list[Row]) -> None:
        if rows:
            pickle.dump((query, rows), self._deferred, protocol=pickle.HIGHEST_PROTOCOL)
            self.deferred_rows += len(rows)

    def _write(self, shape: tuple, start: str, texts: list[str], end: str | None = None) -> None:
        """One row of the file of its ``shape``: ``("nodes", label, typed)`` with the node's id,
        or ``("relationships", type, start label, end label, typed)`` with both ends' ids."""
        out = self.files.get(shape)
        if out is None:
            kind, name, typed = shape[0], shape[1], shape[-1]
            head = (
                [f":ID({name})"]
                if kind == "nodes"
                else [f":START_ID({shape[2]})", f":END_ID({shape[3]})"]
            )
            path = self.folder / f"{kind}-{name}-{len(self.files):04d}.csv"
            out = self.files[shape] = _File(kind, name, path)
            out.open("w").writerow([*head, *(f"{p}:{t}" for p, t in typed)])
        elif out.handle is None:
            out.open("a")
        if self._last is not out:  # (rows of one shape come together: the order kept as is)
            self._open.pop(shape, None)
            self._open[shape] = out  # (the most recently written last)
            while len(self._open) > OPEN_FILES:  # sparse data: many shapes, a bounded few open
                self._open.pop(next(iter(self._open))).close()
            self._last = out
        assert out.writer is not None
        out.writer.writerow([start, *texts] if end is None else [start, end, *texts])
        out.rows += 1

    def close(self) -> None:
        for f in self.files.values():
            f.close()
        self._open.clear()
        self._deferred.close()

    def written(self) -> Written:
        """What the files hold so far (all of it once closed)."""
        return Written(
            self.folder,
            tuple((f.kind, f.name, f.path) for f in self.files.values()),
            self.nodes,
            self.relationships,
            self.deferred_rows,
        )

    def deferred(self, batch_size: int) -> Iterator[tuple[str, list[Row]]]:
        return self.written().deferred(batch_size)


@dataclass(frozen=True)
class Written:
    """The files of a load as :class:`ImportFiles` wrote them (possibly in another process:
    etl/batches.py): what the importer and the rows left to Cypher need."""

    folder: Path
    files: tuple[tuple[str, str, Path], ...]  # (kind, label or type, path)
    nodes: int
    relationships: int
    deferred_rows: int

    def arguments(self) -> list[str]:
        """The importer's ``--nodes``/``--relationships`` arguments for the files written."""
        return [f"--{kind}={name}={path}" for kind, name, path in self.files]

    def deferred(self, batch_size: int) -> Iterator[tuple[str, list[Row]]]:
        """The rows left to Cypher, in the order they came, ``batch_size`` at most at a time
        (consecutive rows of one query together: the review queue comes a row at a time)."""
        query, rows = "", list[Row]()
        with open(self.folder / "deferred.pickle", "rb") as handle:
            while True:
                try:
                    q, more = pickle.load(handle)  # noqa: S301 (this run's own file)
                except EOFError:
                    break
                if q != query and rows:
                    yield query, rows
                    rows = []
                query = q
                rows.extend(more)
                while len(rows) >= batch_size:
                    yield query, rows[:batch_size]
                    rows = rows[batch_size:]
        if rows:
            yield query, rows


def _typed(props: Row) -> tuple[tuple[tuple[str, str], ...], list[str], bool]:
    """The (property, type) and the text of the values the files can hold, in the order of
    the properties' names, and whether that is all of them. (Strings, whole numbers and finite
    floats, most of a load's values, are typed here without :func:`encode`'s checks in turn.)"""
    typed, texts, whole = [], [], True
    for prop in sorted(props):
        value = props[prop]
        kind = type(value)
        if kind is str and "\0" not in value:
            typed.append((prop, "string"))
            texts.append(value)
            continue
        if kind is int:
            typed.append((prop, "long"))
            texts.append(str(value))
            continue
        if kind is float:
            typed.append((prop, "double"))
            texts.append(repr(value) if math.isfinite(value) else encode(value)[1])  # type: ignore[index]
            continue
        if value is None:
            continue
        if kind is dt.date:
            typed.append((prop, "date"))
            texts.append(value.isoformat())
            continue
        if kind is list and value and all(type(v) is str for v in value):
            text = ARRAY_DELIMITER.join(value)
            if "\0" not in text and text.count(ARRAY_DELIMITER) == len(value) - 1:
                typed.append((prop, "string[]"))
                texts.append(text)
                continue
        if kind is list and value and all(type(v) is float and math.isfinite(v) for v in value):
            typed.append((prop, "double[]"))
            texts.append(ARRAY_DELIMITER.join(map(repr, value)))
            continue
        try:
            encoded = encode(value)
        except BulkImportError:
            whole = False
            continue
        if encoded is not None:
            typed.append((prop, encoded[0]))
            texts.append(encoded[1])
    return tuple(typed), texts, whole


def reconnect(driver: Driver, database: str) -> None:
    """After the import the server is a new one and the database's transaction ids start over:
    the connections pooled before are dead, and a bookmark the driver's ``execute_query`` kept
    names a transaction the new database does not have yet (it would wait for it and fail).
    A retried read drops the dead connections; the kept bookmarks are replaced by the new one."""
    with driver.session(database=database) as s:
        s.execute_read(lambda tx: tx.run("RETURN 1").consume())
        fresh = s.last_bookmarks()
    manager = driver.execute_query_bookmark_manager
    manager.update_bookmarks(manager.get_bookmarks(), fresh.raw_values)


@dataclass(frozen=True)
class ImportReport:
    seconds: float
    peak_rss_mib: float
    log: Path
    # relationships to a node the load did not write (online, their MATCH finds nothing)
    skipped_relationships: int = 0
    max_heap: str | None = None  # the importer's own word on its heap ("512.0MiB")
    suggested_heap: str | None = None  # its suggestion when it finds the heap small ("1.005GiB")


def run_import(
    settings: Settings,
    files: Written,
    *,
    run_id: str,
    classpath: str,
    echo: Callable[[str], None] = print,
) -> ImportReport:
    """``neo4j-admin database import full`` of ``files`` into the local server's database
    (which must be stopped), replacing what it held. The importer writes a database beside it
    (:func:`graph.local_server.staged_database`) that takes its place once the importer has
    finished: a run killed during the import leaves the server's database as it was."""
    java = os.environ.get("JAVA", "java")
    # the importer's log outlives the load's folder of files (removed when the load ends,
    # whether it succeeded or not): a failed import is diagnosed from it
    log = import_log(settings, run_id)
    log.parent.mkdir(parents=True, exist_ok=True)
    report = files.folder / "import.report"
    home = settings.local_data_dir
    argfile = files.folder / "import.args"
    argfile.write_text("\n".join(_quoted(a) for a in files.arguments()) + "\n", encoding="utf-8")
    staged = local_server.staged_database(settings)
    local_server.clear_staged(settings)
    args = [
        java,
        # its own heap, not the server's: its caches are off-heap; a larger heap saves time
        # (about a fifth of the importer's at a million customers) and costs memory
        f"-Xmx{settings.bulk_import_heap}",
        "-XX:+UseG1GC",  # (as the server: not a collector the JVM picks by the machine's size)
        # out of heap, end at once saying so (a thread of the importer that caught the error
        # could otherwise carry on, or a heap just too small thrash on)
        "-XX:+ExitOnOutOfMemoryError",
        "-Dfile.encoding=UTF-8",
        "-cp",
        classpath,
        "org.neo4j.cli.AdminTool",
        "database",
        "import",
        "full",
        staged,  # (beside the server's database, which it replaces once finished)
        "--overwrite-destination=true",
        "--multiline-fields=true",
        f"--array-delimiter={ARRAY_DELIMITER}",
        # a relationship to a node the load did not write: online, its MATCH finds nothing
        "--skip-bad-relationships=true",
        "--bad-tolerance=1000000000",
        f"--report-file={report}",
        f"--threads={os.cpu_count() or 2}",
        f"@{argfile}",  # (picocli's argument file: as many files as the load wrote)
    ]
    env = {**os.environ, "NEO4J_HOME": str(home), "NEO4J_CONF": str(files.folder / "conf")}
    (files.folder / "conf").mkdir(exist_ok=True)
    echo(f"bulk import: {files.nodes:,} nodes, {files.relationships:,} relationships …")
    started = time.perf_counter()
    with open(log, "ab") as out:  # (a resumed run's attempts one after the other)
        if out.tell():  # (a killed attempt's last line may have no end)
            with open(log, "rb") as before:
                before.seek(-1, os.SEEK_END)
                if before.read(1) != b"\n":
                    out.write(b"\n")
        when = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        out.write(
            f"# c360: the importer, started {when}, heap {settings.bulk_import_heap}\n".encode()
        )
        out.flush()
        start = out.tell()
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # (Ctrl-C: the importer ends before the server starts again)
            proc.kill()
            proc.wait()
            raise
        proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    code = proc.returncode
    with open(log, "rb") as f:  # (this attempt's part)
        f.seek(start)
        text = f.read().decode("utf-8", errors="replace")
    suggested = _SUGGESTED_HEAP.search(text)
    size = suggested.group(1) if suggested else None
    if code != 0:
        how = f"was killed by {_signal_name(-code)}" if code < 0 else f"exited with {code}"
        hint = ""
        if code == -signal.SIGKILL:
            hint = killed_hint(settings, held_mib=usage.ru_maxrss / 1024)
        elif "OutOfMemoryError: Java heap space" in text:
            hint = (
                f"\nthe importer ran out of heap ({settings.bulk_import_heap}): set "
                "BULK_IMPORT_HEAP higher"
                + (f" (it suggested {size}: BULK_IMPORT_HEAP={xmx(size)})" if size else "")
                + " and run the same command again"
            )
        raise BulkImportError(
            f"neo4j-admin database import {how} (its whole log: {log}):\n"
            + "\n".join(failure_lines(text) or ["(its log is empty)"])
            + hint
        )
    local_server.replace_database(settings)
    skipped = 0
    if report.exists():
        with open(report, encoding="utf-8", errors="replace") as lines:
            skipped = sum(1 for _ in lines)
    heap = _MAX_HEAP.search(text)
    return ImportReport(
        seconds,
        round(usage.ru_maxrss / 1024, 1),  # (KiB)
        log,
        skipped,
        heap.group(1) if heap else None,
        size,
    )


_MAX_HEAP = re.compile(r"Max heap memory\s*:\s*(\S+)")  # (the importer's summary, at its start)
# its warning when the heap looks small for the files: "... Suggested heap size is 1.005GiB"
_SUGGESTED_HEAP = re.compile(r"Suggested heap size is\s+([0-9.]+\s*[KMGT]?i?B)")
_STACK_FRAME = re.compile(r"^\s+(at |\.\.\. \d+ more)")


def _signal_name(number: int) -> str:
    try:
        return f"signal {number} ({signal.Signals(number).name})"
    except ValueError:
        return f"signal {number}"


def killed_hint(settings: Settings, *, held_mib: float) -> str:
    """What to do about an importer killed by SIGKILL, which it cannot catch or log: unless
    someone killed it, that is Linux's out-of-memory killer. Says what the importer held at its
    highest and what the machine has free now."""
    free = meminfo_kib("MemAvailable")
    return (
        "\nthe importer cannot log a SIGKILL; one nobody sent is most often the system's "
        'out-of-memory killer (`dmesg` or `journalctl -k` then shows "Out of memory: Killed '
        f'process … (java)"). The importer held {held_mib:,.0f} MiB at its highest'
        + (f"; the machine has {free / 1024:,.0f} MiB available now" if free is not None else "")
        + ". Its memory is its heap (BULK_IMPORT_HEAP, now "
        f"{settings.bulk_import_heap}) and caches outside it sized to the data: free memory "
        "on the machine (or lower BULK_IMPORT_HEAP) and run the same command again, which "
        "resumes the run"
    )


def import_log(settings: Settings, run_id: str) -> Path:
    """Where the importer's log of a load run is kept (``C360_HOME/logs``)."""
    return settings.c360_home / "logs" / f"bulk-import-{run_id}.log"


def failure_lines(text: str, most: int = 10) -> list[str]:
    """What a failed importer's log says went wrong: each line naming an error or exception
    (a cause in a stack trace included, its frames left out) with the line before it (the
    importer's own words often precede its "Error ..." line), else its last three lines."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if not _STACK_FRAME.match(line)]
    picked: list[int] = []
    for i, line in enumerate(lines):
        if re.search(r"(Error|Exception)\b|ERROR", line):
            picked += [j for j in (i - 1, i) if j >= 0 and j not in picked]
    return [lines[i] for i in picked][-most:] if picked else lines[-3:]


def xmx(size: str) -> str:
    """The importer's size ("1.005GiB", "900.0MiB") as a heap setting the JVM takes, rounded
    up to whole megabytes ("1030m")."""
    found = re.fullmatch(r"([0-9.]+)\s*([KMGT]i?B|B)", size.strip())
    if not found:
        return size
    power = {"B": 0, "K": 1, "M": 2, "G": 3, "T": 4}[found.group(2)[0]]
    return f"{math.ceil(float(found.group(1)) * 1024**power / 1024**2)}m"


def _quoted(arg: str) -> str:
    """One argument of an argument file (picocli: quoted, backslashes and quotes escaped)."""
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def restorable(props: Row) -> Row:
    """A node's properties as read, ready to be written again as they were: a time read with
    offset zero comes back with pytz's UTC zone, which the driver would write as the zone
    ``UTC``; it is written with offset zero again."""
    out = {}
    for k, v in props.items():
        tz = getattr(v, "tzinfo", None)
        if tz is not None and getattr(tz, "zone", None) == "UTC" and hasattr(v, "replace"):
            v = v.replace(tzinfo=dt.UTC)
        out[k] = v
    return out
