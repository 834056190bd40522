"""The mapping engine: a load's extracts as views of an in-process DuckDB, each entity a query.

Per load, one DuckDB database (``memory_limit`` :data:`MEMORY_LIMIT`, spilling to a temporary
folder beyond it) holds a schema per source system. In it, every extract file of the system's
folder (CSV, Parquet, JSON) is a view named after the file without its extension, read with the
mapping's read options for that file (delimiter, quote, header or ``names``, skipped lines,
decimal comma in the columns a simple-form entity maps to numbers; CSV columns are text, Parquet
and JSON keep their types), and every reference table of the mapping (``reference:``) is a table
of text. Then each entity is one query:

- the **simple form** is ``SELECT * FROM <file>``: the renames, codes, units, defaults and the
  date/number/list formats stay in Python (etl/mapping.apply_mapping). Compiling them to SQL was
  possible, but pandas' strftime parsing, rounding and list splitting are what the three
  existing systems were validated against, and the rejects carry the file's whole row: one
  parser for text keeps every existing load identical, row for row and reject for reject;
- the **SQL form** is the mapping's ``SELECT``, wrapped as ``SELECT * FROM (...) ORDER BY`` the
  entity's key and then every output column: join and aggregate orders are not stable between
  runs, and a resumed load must meet its rows in the same batches (checkpoints count batches).
  Its output columns are canonical names (a missing one is null, an extra one is an error naming
  it); typed values are kept (a DATE is a date, never reparsed), text goes through the mapping's
  formats like a file's.

A mapping's SQL is one ``SELECT`` (checked with ``duckdb.extract_statements`` before anything
runs), and from the first plan on the database reaches only the folder of systems and its own
work folder (``allowed_directories``, ``enable_external_access = false``, then
``lock_configuration``): a query cannot write files, nor read ``/proc/self/environ`` or any file
beside the extracts into a customer's name.

Rows leave as Arrow record batches of about the load's batch size (``to_arrow_reader``), read
ahead on a thread while the loader maps and validates the previous batch, and numbered from 1
per source: the data row of a file, the output row of a query. Memory is bounded by the batches
in flight and DuckDB's limit (sorts and joins spill to disk).

Encodings: DuckDB's CSV reader decodes UTF-8, UTF-16 and Latin-1 itself. Any other encoding
(GBK/GB18030 and everything Python's codecs know) would need DuckDB's ``encodings`` extension,
which is downloaded at run time, which a bank's server (and this project's CI) cannot: such a file
is transcoded to UTF-8 first, streaming, into the engine's temporary folder
(etl/sources.transcode). So is a UTF-8 file with a few undecodable lines (rows to refuse as
``broken_encoding``; DuckDB would stop at the first). Extension autoinstall and autoload are off:
only what the Python wheel has built in (CSV, Parquet, JSON) is ever used.

Beyond one machine: the SQL form is ordinary SQL over views named after files. On Spark SQL the
same query runs once each file is registered under its name
(``spark.read.csv(path, sep=";", header=True).createOrReplaceTempView("client")``) and the
reference tables as ``VALUES`` views; written with the functions both dialects have (``CASE``,
``CAST``, ``||``, ``substr``, ``make_date``, ``add_months`` — defined here as a macro with
Spark's semantics —, joins, ``UNION ALL``), a mapping's queries need no change. The output,
written as Parquet files named after the entities, loads through a simple-form mapping. This
path is documented (README, "Mapping cookbook"), not built.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import os
import queue
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from etl.entities import ENTITIES
from etl.extracts import ExtractError, Scan
from etl.mapping import MappingError, ReadOptions, SystemMapping
from etl.sources import (
    EXTRACT_EXTENSIONS,
    diagnose,
    duckdb_encoding,
    extract_files,
    is_text,
    sniff,
    transcode,
)
from graph.local_server import pid_alive

MEMORY_LIMIT = "1GB"  # DuckDB's own; the loader's Python side peaks near 1 GiB at bank size
PREFIX = "c360-engine"
PREFETCH = 2  # batches read ahead
# Spark SQL's add_months (the last day of a shorter month when the day does not exist)
MACROS = (
    "CREATE OR REPLACE MACRO add_months(d, n) AS "
    "CAST(CAST(d AS DATE) + to_months(CAST(n AS INTEGER)) AS DATE)"
)


@dataclass(frozen=True)
class Source:
    """What one entity of one system reads: a file (simple form) or a query (SQL form)."""

    system: str
    entity: str
    name: str  # "customers.csv", or "customers (SQL)": the rejects' source_file is system/name
    query: str
    rows: int | None  # a file's data rows; None for a query (not counted in advance)
    files: tuple[Path, ...]  # the extract files it reads


@dataclass
class SystemPlan:
    """A system's folder as its mapping reads it: checked before anything is scanned."""

    mapping: SystemMapping
    folder: Path
    files: dict[str, Path]  # every extract file of the folder, by view name
    reads: dict[str, tuple[str, ...]]  # entity -> the files it reads, by view name
    options: dict[str, ReadOptions]  # read options of the CSV files read (delimiter resolved)

    @property
    def system(self) -> str:
        return self.mapping.system

    def read_files(self) -> list[str]:
        return sorted({name for names in self.reads.values() for name in names})

    def label(self, name: str) -> str:
        """``<system>/<file>``, as the rejects and the LoadRun name a file."""
        return f"{self.system}/{self.files[name].name}"


def _sweep(directory: Path) -> None:
    """Delete the folders of engines whose load died without cleaning up (SIGKILL)."""
    for old in directory.glob(f"{PREFIX}-*-*"):
        pid = old.name.split("-")[2]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _message(exc: BaseException, lines: int = 2) -> str:
    text = [line for line in str(exc).strip().splitlines() if line.strip()]
    return " ".join(text[:lines]) or type(exc).__name__


class Engine:
    """One DuckDB database for a load. Use as a context manager (deletes its temporary files)."""

    def __init__(self, *, memory_limit: str = MEMORY_LIMIT, directory: Path | None = None) -> None:
        base = Path(directory or tempfile.gettempdir())
        _sweep(base)
        self._tmp = tempfile.TemporaryDirectory(prefix=f"{PREFIX}-{os.getpid()}-", dir=base)
        self.workdir = Path(self._tmp.name)
        self._cursor_lock = threading.Lock()
        self.con = duckdb.connect(
            config={
                "memory_limit": memory_limit,
                "temp_directory": str(self.workdir / "spill"),
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
            }
        )
        self.con.execute(MACROS)
        self.plans: dict[str, SystemPlan] = {}
        self.sources: dict[tuple[str, str], Source] = {}
        self._confined: str | None = None  # the folder of systems, once :meth:`plan` is called

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(duckdb.Error):
            self.con.close()
        self._tmp.cleanup()

    def _confine(self, directory: Path) -> None:
        """From the first plan on, the database reads and writes only the folder of systems and
        its own work folder, and its configuration is locked: a mapping's SQL cannot read
        ``/proc/self/environ`` (the ID pepper, the Neo4j password) into a customer's name, nor
        turn the restriction off."""
        folders = [str(Path(directory).resolve()), str(Path(directory).absolute())]
        if self._confined is not None:
            if self._confined != folders[0]:
                raise MappingError(
                    f"{directory}: this load's engine reads {self._confined} only (one folder "
                    "of systems per load)"
                )
            return
        allowed = sorted({*folders, str(self.workdir.resolve()), str(self.workdir)})
        listing = ", ".join(literal(os.path.join(f, "")) for f in allowed)
        self.con.execute(f"SET allowed_directories = [{listing}]")
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")
        self._confined = folders[0]

    # -- planning: what each entity reads ---------------------------------------------------------
    def plan(self, mapping: SystemMapping, directory: Path) -> SystemPlan:
        """The files each entity reads; a missing folder or file, or a query naming something
        the folder does not hold, is a :class:`MappingError` naming it and listing what is
        there."""
        system = mapping.system
        folder = directory / system
        self._confine(directory)
        if not folder.is_dir():
            raise MappingError(_no_folder(mapping, directory))
        files = extract_files(folder)
        clash = sorted(set(files) & set(mapping.reference))
        if clash:
            raise MappingError(
                f"{system}: the reference table(s) {', '.join(clash)} have the name of a file of "
                f"{system}/ ({', '.join(files[c].name for c in clash)}); rename the table"
            )
        reads: dict[str, tuple[str, ...]] = {}
        for entity, em in mapping.entities.items():
            if em.sql is None:
                if em.file not in files:
                    if em.optional:
                        continue
                    raise MappingError(_missing_file(system, entity, em.file, files, folder))
                reads[entity] = (em.file,)
                continue
            _one_select(system, entity, em.sql)
            try:
                names = self.con.get_table_names(em.sql, qualified=False)
            except duckdb.PermissionException as exc:
                raise MappingError(f"{system}/{entity} (SQL): {_outside(exc)}") from None
            except duckdb.Error as exc:
                raise MappingError(f"{system}/{entity} (SQL): {_message(exc, 4)}") from None
            unknown = sorted(n for n in names if n not in files and n not in mapping.reference)
            if unknown:
                raise MappingError(
                    f"{system}/{entity} (SQL) reads {', '.join(unknown)}, which {system}/ does "
                    f"not hold ({_views(files, mapping)}"
                    f"{_closest(unknown, [*files, *mapping.reference])})"
                )
            reads[entity] = tuple(sorted(n for n in names if n in files))
        if not any(reads.values()):
            raise MappingError(
                f"{folder} holds no file the {system} mapping reads ({_views(files, mapping)}); "
                "nothing would be loaded"
            )
        plan = SystemPlan(mapping, folder, files, reads, {})
        for name in plan.read_files():
            if is_text(files[name]):
                opts = mapping.read_options(name)
                if opts.delimiter is None:
                    found = sniff(self.con, files[name], opts.encoding, opts.skip, self.workdir)
                    opts = dataclasses.replace(opts, delimiter=found.delimiter)
                plan.options[name] = opts
        self.plans[system] = plan
        return plan

    def diagnose(self, plan: SystemPlan, name: str, mapped: list[str]) -> str:
        """What DuckDB's sniffer and the bytes say of a file whose columns are not the mapped."""
        opts = plan.options[name]
        return diagnose(self.con, plan.files[name], opts, mapped, self.workdir, name)

    # -- registration: views, reference tables, the entities' queries -----------------------------
    def register(self, plan: SystemPlan, scans: dict[Path, Scan]) -> None:
        """The system's views and tables, and a :class:`Source` per entity; a query that does not
        bind (a missing column, a type error) or outputs a non-canonical column is a
        :class:`MappingError` naming the system, the entity and the name."""
        m = plan.mapping
        schema = self._schema(m.system)
        self.con.execute(f"CREATE SCHEMA {schema}")
        read = set(plan.read_files())
        for name, path in plan.files.items():
            try:
                self._view(plan, name, scans.get(path) if name in read else None)
            except duckdb.Error as exc:
                if name in read:
                    raise ExtractError(
                        f"{plan.label(name)} cannot be read ({_message(exc)}); fix or re-export it"
                    ) from None
                # a file no entity reads: it stays out of the views
        for ref in m.reference.values():
            columns = ", ".join(f"{ident(c)} VARCHAR" for c in ref.columns)
            self.con.execute(f"CREATE TABLE {schema}.{ident(ref.name)} ({columns})")
            if ref.rows:
                marks = ", ".join("?" for _ in ref.columns)
                self.con.executemany(
                    f"INSERT INTO {schema}.{ident(ref.name)} VALUES ({marks})",  # noqa: S608
                    [list(r) for r in ref.rows],
                )
        for entity, em in m.entities.items():
            if entity not in plan.reads:
                continue
            if em.sql is None:
                path = plan.files[em.file]
                source = Source(
                    m.system,
                    entity,
                    path.name,
                    f"SELECT * FROM {schema}.{ident(em.file)}",  # noqa: S608
                    scans[path].rows,
                    (path,),
                )
            else:
                source = self._sql_source(plan, entity, em.sql)
            self.sources[m.system, entity] = source

    def _schema(self, system: str) -> str:
        return ident(f"sys_{system}")

    def _view(self, plan: SystemPlan, name: str, scanned: Scan | None) -> None:
        path = plan.files[name]
        schema = self._schema(plan.system)
        if path.suffix == ".parquet":
            reader = f"read_parquet({literal(str(path))})"
        elif path.suffix in EXTRACT_EXTENSIONS and not is_text(path):
            reader = f"read_json_auto({literal(str(path))})"
        else:
            opts = plan.options.get(name) or plan.mapping.read_options(name)
            encoding = duckdb_encoding(opts.encoding)
            if encoding is None or (scanned is not None and scanned.undecodable):
                if scanned is None:
                    return  # not read, not worth transcoding
                target = self.workdir / f"{plan.system}-{name}.utf8.csv"
                transcode(path, target, opts.encoding)
                path, encoding = target, "utf-8"
            reader = _read_csv(path, opts, encoding, scanned)
            numeric = _numeric_columns(plan.mapping, name)
            if scanned is not None and opts.decimal == "," and numeric:
                cols = ", ".join(
                    _decimal_comma(c, opts.thousands) if c in numeric else ident(c)
                    for c in scanned.columns
                )
                reader = f"(SELECT {cols} FROM {reader})"  # noqa: S608
        self.con.execute(
            f"CREATE VIEW {schema}.{ident(name)} AS SELECT * FROM {reader}"  # noqa: S608
        )

    def _cursor(self, system: str) -> duckdb.DuckDBPyConnection:
        with self._cursor_lock:  # (DuckDB refuses a cursor of a connection another thread uses)
            cur = self.con.cursor()
        cur.execute(f"SET search_path = {literal(f'sys_{system},main')}")
        return cur

    def _sql_source(self, plan: SystemPlan, entity: str, sql: str) -> Source:
        sql = sql.strip().rstrip(";").strip()
        cur = self._cursor(plan.system)
        try:
            columns = list(cur.sql(sql).columns)
        except duckdb.Error as exc:
            raise MappingError(self._sql_error(plan, entity, exc)) from None
        finally:
            cur.close()
        spec = ENTITIES[entity]
        files = ", ".join(plan.label(n) for n in plan.reads[entity]) or "no file"
        extra = [c for c in columns if c not in spec.columns]
        if extra:
            raise MappingError(
                f"{plan.system}/{entity} (SQL, reading {files}) outputs column(s) that "
                f"{entity} does not have: {', '.join(extra)}{_closest(extra, spec.columns)}; "
                f"the columns of {entity}: {', '.join(spec.columns)}"
            )
        doubled = sorted({c for c in columns if columns.count(c) > 1})
        if doubled:
            raise MappingError(
                f"{plan.system}/{entity} (SQL, reading {files}) outputs {', '.join(doubled)} twice"
            )
        order = [c for c in spec.key if c in columns] + [c for c in columns if c not in spec.key]
        query = (
            f"SELECT * FROM ({sql}\n) AS _mapped ORDER BY "  # noqa: S608
            + ", ".join(ident(c) for c in order)
        )
        paths = tuple(plan.files[n] for n in plan.reads[entity])
        return Source(plan.system, entity, f"{entity} (SQL)", query, None, paths)

    def _sql_error(self, plan: SystemPlan, entity: str, exc: duckdb.Error) -> str:
        files = ", ".join(plan.label(n) for n in plan.reads[entity]) or "no file"
        said = f"{plan.system}/{entity} (SQL, reading {files}): {_message(exc)}"
        missing = re.search(r'column "([^"]+)" not found|column named "([^"]+)"', str(exc))
        if missing:
            name = missing.group(1) or missing.group(2)
            columns = {
                n: self._columns(plan.system, n)
                for n in [*plan.reads[entity], *plan.mapping.reference]
            }
            listing = "; ".join(f"{n}: {', '.join(cols)}" for n, cols in columns.items())
            said += (
                f" — no column {name!r} in what it reads ({listing})"
                f"{_closest([name], [c for cols in columns.values() for c in cols])}"
            )
        elif isinstance(exc, duckdb.CatalogException):
            said += f" — {_views(plan.files, plan.mapping)}"
        elif isinstance(exc, duckdb.PermissionException):
            said = f"{said.split(': Permission Error')[0]}: {_outside(exc)}"
        return said

    def _columns(self, system: str, name: str) -> list[str]:
        cur = self._cursor(system)
        try:
            return list(cur.sql(f"SELECT * FROM {ident(name)} LIMIT 0").columns)  # noqa: S608
        except duckdb.Error:
            return []
        finally:
            cur.close()

    # -- reading ----------------------------------------------------------------------------
    def batches(self, source: Source, rows: int) -> Iterator[pd.DataFrame]:
        """The source's rows, ``rows`` at a time (about: DuckDB cuts batches its own way),
        indexed by row number from 1. DuckDB reads the next batch on a thread of its own while
        the caller maps and validates this one (it releases the GIL): at most
        :data:`PREFETCH` batches wait."""
        cur = self._cursor(source.system)
        waiting: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=PREFETCH)
        stop = threading.Event()

        def hand(kind: str, item: Any) -> None:
            while not stop.is_set():
                with contextlib.suppress(queue.Full):
                    waiting.put((kind, item), timeout=0.1)
                    return

        def produce() -> None:
            try:
                for batch in cur.sql(source.query).to_arrow_reader(rows):
                    hand("batch", batch)
                    if stop.is_set():
                        return
                hand("end", None)
            except BaseException as exc:  # handed to the reading thread
                hand("error", exc)

        reader = threading.Thread(target=produce, name=f"engine-{source.entity}", daemon=True)
        reader.start()
        start = 1
        try:
            while True:
                kind, item = waiting.get()
                if kind == "end":
                    return
                if kind == "error":
                    raise item
                frame = _frame(item, start)
                start += len(frame)
                yield frame
        except duckdb.Error as exc:
            where = ", ".join(f"{source.system}/{p.name}" for p in source.files)
            if source.name.endswith("(SQL)") and isinstance(exc, duckdb.PermissionException):
                raise MappingError(
                    f"{source.system}/{source.entity} (SQL, reading {where}): {_outside(exc)}"
                ) from None
            if source.name.endswith("(SQL)"):
                raise MappingError(
                    f"{source.system}/{source.entity} (SQL, reading {where}) failed at output "
                    f"row {start} or after{_offending(exc)}"
                ) from None
            raise ExtractError(
                f"{where} cannot be read ({_message(exc)}); fix or re-export it"
            ) from None
        finally:
            stop.set()
            reader.join()
            cur.close()


def _frame(batch: pa.RecordBatch, start: int) -> pd.DataFrame:
    """A batch as the loader's raw chunk: Python values (None for null), rows numbered. An
    integer column with a null stays Python ints (pandas would make it float: ``123.0`` keys,
    and ids beyond 2**53 rounded)."""
    frame = batch.to_pandas(integer_object_nulls=True)
    if any(dtype.kind != "O" for dtype in frame.dtypes):
        frame = frame.astype(object)
        frame = frame.where(frame.notna(), None)
    frame.index = pd.RangeIndex(start, start + len(frame))
    return frame


def _read_csv(path: Path, opts: ReadOptions, encoding: str, scanned: Scan | None) -> str:
    args = [
        literal(str(path)),
        "all_varchar = true",
        f"header = {str(opts.header).lower()}",
        f"skip = {opts.skip}",
        f"encoding = {literal(encoding)}",
        f"quote = {literal(opts.quote)}",
        f"escape = {literal(opts.quote)}",
        "comment = ''",  # never sniffed: a row starting with "#" is data, not a comment
    ]
    if opts.delimiter is not None:
        args.append(f"delim = {literal(opts.delimiter)}")
    if opts.names:
        args.append(f"names = [{', '.join(literal(n) for n in opts.names)}]")
    if scanned is not None and scanned.short_rows:
        # pad short rows with nulls (as pandas did); DuckDB pads only when reading in one thread
        args += ["null_padding = true", "parallel = false"]
    return f"read_csv({', '.join(args)})"


def _numeric_columns(mapping: SystemMapping, name: str) -> set[str]:
    """The columns of the file ``name`` that a simple-form entity maps to a number (or a list of
    numbers): the only ones ``decimal: ","`` and ``thousands`` rewrite. A code ``1.234`` or a
    text ``1,2`` stays as written, and a query reads every column as written (it converts its
    own with ``replace``)."""
    numeric: set[str] = set()
    for em in mapping.entities.values():
        if em.sql is None and em.file == name:
            spec = ENTITIES[em.entity]
            targets = {*spec.floats, *spec.ints, *spec.float_lists}
            numeric |= {src for src, dst in em.columns.items() if dst in targets}
    return numeric


def _decimal_comma(column: str, thousands: str | None) -> str:
    """A text column of a decimal-comma file: numbers such as ``-1.234,5`` become ``-1234.5``."""
    col = ident(column)
    value = f"trim({col})"
    pattern = "[+-]?[0-9]+(,[0-9]+)?"
    cleaned = f"replace({value}, ',', '.')"
    if thousands:
        pattern = f"[+-]?[0-9]{{1,3}}({re.escape(thousands)}[0-9]{{3}})*(,[0-9]+)?|{pattern}"
        cleaned = f"replace(replace({value}, {literal(thousands)}, ''), ',', '.')"
    return (
        f"CASE WHEN regexp_full_match({value}, {literal(pattern)}) THEN {cleaned} "
        f"ELSE {col} END AS {col}"
    )


def _one_select(system: str, entity: str, sql: str) -> None:
    """A mapping's query is one SELECT: COPY, ATTACH, SET, INSTALL, PRAGMA... are refused
    before anything runs (etl/engine.Engine._confine also keeps a SELECT inside the folder)."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise MappingError(f"{system}/{entity} (SQL): {_message(exc, 4)}") from None
    kinds = [st.type.name for st in statements]
    if kinds != ["SELECT"]:
        found = f"{len(kinds)} statements" if len(kinds) != 1 else f"a {kinds[0]} statement"
        raise MappingError(
            f"{system}/{entity} (SQL): a mapping's query must be exactly one SELECT (WITH ... "
            f"SELECT, UNION ALL allowed), found {found} ({', '.join(kinds) or 'none'})"
        )


def _offending(exc: duckdb.Error) -> str:
    """What a query's run-time error says of the value (and column) it stopped at, and how to
    write the query so that a bad value becomes a null (then a reject or a warning) instead."""
    text = str(exc)
    value = re.search(r"""(?:string|format:) (["'])(.*?)\1""", text)
    column = re.search(r'(?:converting column "([^"]+)"|from source column (\w+))', text)
    said = ""
    if value:
        said += f" on the value {value.group(2)!r}"
    if column:
        said += f" (column {column.group(1) or column.group(2)})"
    said += f": {_message(exc, 1)}"
    lines = [line.strip() for line in text.splitlines()]
    said += next((f" [{line}]" for line in lines if line.startswith("LINE ")), "")
    if isinstance(exc, duckdb.ConversionException | duckdb.InvalidInputException):
        said += (
            ". One bad value fails the whole query: write TRY_CAST(x AS type) and "
            "try_strptime(x, format) so that it becomes a null, which validation turns into a "
            "reject or a warning for its row"
        )
    return said


def _outside(exc: duckdb.Error) -> str:
    """A query that reached for a file outside the folder of systems: which file, and why not."""
    found = re.search(r'file "([^"]+)"', str(exc))
    what = f"the file {found.group(1)}" if found else "a file"
    return (
        f"reads {what}, outside the folder of extracts; a mapping's SQL reads only the files "
        "of its folder (by their view names) and its reference tables"
    )


def _views(files: dict[str, Path], mapping: SystemMapping) -> str:
    views = [f"{n} ({p.name})" for n, p in files.items()]
    views += [f"{n} (reference table)" for n in mapping.reference]
    return f"the views: {', '.join(views)}" if views else "no file and no reference table"


def _closest(names: list[str], candidates: list[str] | tuple[str, ...]) -> str:
    pairs = [
        f"{n} ~ {match[0]}"
        for n in names
        if (match := difflib.get_close_matches(n, list(candidates), n=1, cutoff=0.6))
    ]
    return f"; closest: {', '.join(pairs)}" if pairs else ""


def _missing_file(system: str, entity: str, file: str, files: dict[str, Path], folder: Path) -> str:
    held = ", ".join(p.name for p in files.values()) or "no extract file"
    others = sorted(p.name for p in folder.iterdir() if p.suffix not in EXTRACT_EXTENSIONS)
    if others:
        held += f" (and {', '.join(others[:10])}, not extracts)"
    close = difflib.get_close_matches(file, list(files), n=1, cutoff=0.5)
    hint = f"; did you mean `file: {close[0]}` ({files[close[0]].name})?" if close else ""
    return (
        f"{system}/{file}.csv not found (nor {file}.parquet or {file}.json): the {system} "
        f"mapping's {entity} reads the file `{file}`, and {folder} holds {held}{hint} (an "
        "entity whose file may be absent says `optional: true`)"
    )


def _no_folder(mapping: SystemMapping, directory: Path) -> str:
    system = mapping.system
    here = extract_files(directory) if directory.is_dir() else {}
    wanted = {em.file for em in mapping.entities.values() if em.sql is None}
    if here and (wanted & set(here) or directory.name == system):
        return (
            f"{directory} has no folder {system}/, but holds extract files itself "
            f"({', '.join(p.name for p in here.values())}): it looks like the {system} system's "
            f"folder. c360 load reads a folder of system folders: point it at "
            f"{directory.parent} (with --source-system {system})"
        )
    held = sorted(p.name + ("/" if p.is_dir() else "") for p in directory.iterdir())
    return (
        f"{directory} has no folder {system}/ for the {system} mapping (it holds: "
        f"{', '.join(held[:20]) or 'nothing'})"
    )
