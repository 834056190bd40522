"""``c360 load``: read → map → validate → resolve → write, for a folder of extracts.

The folder holds one sub-folder per source system (``core/``, ``card/``, ``crm/`` ...), each with
the files its mapping reads (CSV, Parquet or JSON). Each system's files become views of one
in-process DuckDB and each entity a query over them (etl/engine.py): a file's rows for the simple
form of a mapping, a ``SELECT`` for the SQL form. Entities load in
:data:`etl.entities.LOAD_ORDER`; customers of every system first go through identity resolution
together, while the entities that refer to no customer (households, accounts:
:data:`ALONGSIDE_CUSTOMERS`) load on a thread of their own. The engine's batches go through the
mapping's formats (etl/mapping.apply_mapping), validation, the rejects files and the
checkpointed writer, one batch at a time on each of the two threads; only one of them hands
batches to the writer at a time (the customers are written once the steps alongside are done).

Resumable: a run is identified by a fingerprint of the files the mappings read, the mappings and
the batch size; re-running the same command after a crash finds the unfinished ``LoadRun`` and
continues it (see etl/batches.py). Exit codes: 0 success, 1 success with rejects, 2 failure.

Before anything is written, the mappings are checked against the folder (a missing system folder
or file, a query naming a file or column that is not there, a query outputting a column the
entity does not have) and every file the load reads is checked (etl/extracts.py): a corrupt,
cut or unreadable file, columns that are not the mapped ones, a manifest mismatch, or a file far
shorter than its previous load (unless ``allow_shrink``) fails the load, naming the file. During
the load, a file or query whose rows are all refused fails it (exit 2), naming the entity and the
top reasons: a load that keeps nothing of a source is a broken mapping, not a success.

Birth-date problems of customers are warnings when etl/validation.validate accepts
``warnings=``: the row loads with the date null and ``<rejects_dir>/warnings.csv`` says why. A row absent from an extract never erases
what the graph knows: survivorship reads every record already behind a customer, and the links of
a customer whose records this load does not all bring stay as they are.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import hashlib
import inspect
import json
import resource
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from neo4j import Driver
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn
from rich.text import Text

from core.memory import give_back
from core.settings import Settings
from etl import delta, records
from etl.batches import BulkImportWriter, CheckpointedWriter
from etl.engine import Engine, Source, SystemPlan
from etl.entities import CUSTOMER_REF_TARGET, ENTITIES, LOAD_ORDER, Entity
from etl.extracts import (
    ExtractError,
    Scan,
    check_columns,
    check_manifest,
    read_manifest,
    scan,
    shrunk_files,
)
from etl.identity import IdentityConfig, golden_records, load_identity_config
from etl.linkage_frame import compose_name
from etl.linkage_model import model_for_load, model_path
from etl.mapping import (
    MAPPINGS_DIR,
    EntityMapping,
    Errors,
    SystemMapping,
    apply_mapping,
    load_mapping,
)
from etl.normalise import stored_phone
from etl.rejects import RejectsWriter
from etl.sources import extract_files
from etl.spill import CustomerSpill, size_bytes
from etl.validation import validate
from graph import local_server, migrate, session
from graph.bulk_import import import_log as bulk_import_log
from graph.model import LOADED_CUSTOMER_FIELDS, Node
from graph.queries import identity as iq
from graph.queries import loads as lq
from graph.queries import upserts as uq

# what the loader keeps of a source customer record (etl/records.prepare_customers): its key, what
# matching and the SourceRecord need besides the stored fields, and every loaded stored field
KEPT_CUSTOMER_COLUMNS = [
    "system", "source_id", "name_norm", "phone_raw",
    *(f.name for f in LOADED_CUSTOMER_FIELDS), records.HOME_BRANCH,
]  # fmt: skip
EXIT_OK, EXIT_REJECTS, EXIT_FAILED = 0, 1, 2
# etl/validation.validate takes ``warnings=`` (customers' birth-date problems) once it can
VALIDATE_TAKES_WARNINGS = "warnings" in inspect.signature(validate).parameters
TOP_REASONS = 3  # reasons named when every row of a source is refused
Unit = tuple[SystemMapping, EntityMapping, Source]  # a source of an entity, with its mapping
# The entities after customers in the load order that refer to nothing loaded from customers on
# (households, accounts): they load on a thread of their own while the customers are read and
# resolved (Loader._meanwhile). Neo4j would otherwise wait idle for identity resolution: at
# 100,000 customers it wrote nothing for the first 50 of 210 seconds.
_AFTER = LOAD_ORDER[LOAD_ORDER.index("customers") + 1 :]
_BEFORE = set(LOAD_ORDER[: LOAD_ORDER.index("customers")])
ALONGSIDE_CUSTOMERS = tuple(
    e for e in _AFTER if {*ENTITIES[e].refs.values(), *ENTITIES[e].soft_refs.values()} <= _BEFORE
)


def _ref_targets() -> dict[str, Node]:
    """Entities another entity's rows name, with the node their keys are looked up on (not
    customers: their refs are resolved to customer ids). The loader keeps the keys of those it
    loads, so a reference to a row of this run is found without asking the graph."""
    found = {}
    for spec in ENTITIES.values():
        for target in (*spec.refs.values(), *spec.soft_refs.values()):
            upsert = ENTITIES[target].upsert
            if upsert is not None and upsert.node is not None:
                found[target] = upsert.node
    return found


REF_TARGETS = _ref_targets()
# spill key scope: customers with records in the graph that this load does not bring
PARTIAL = "customers:partial"
# spill key scopes: the customers and the accounts of this load, whose home branch it may change
HOME_CUSTOMERS, HOME_ACCOUNTS = "home_branch:customers", "home_branch:accounts"
# ... and of them, those a delta load wrote (etl/delta.py): the ones whose home branch it changes
TOUCHED_CUSTOMERS, TOUCHED_ACCOUNTS = "touched:customers", "touched:accounts"


class _Stopped(Exception):
    """A thread of the load stops because the other failed (Loader._meanwhile)."""


class LoadError(RuntimeError):
    """The load cannot go on (bad folder, bad mapping): exit code 2."""


def check_delivered(source: Source, delivered: int) -> None:
    """A file's rows as the engine delivered them must be the rows its scan counted
    (etl/extracts.py): DuckDB skipping rows on its own (a sniffed comment character, a line it
    took for something else) would lose them silently. A query's rows are not counted."""
    if source.rows is not None and delivered != source.rows:
        raise LoadError(
            f"{source.system}/{source.name}: the engine delivered {delivered:,} rows where the "
            f"extract scan counted {source.rows:,} data rows; the file was not read as scanned "
            "(check its read options and re-run): the load fails rather than miss rows silently"
        )


@dataclass(frozen=True)
class LoadOptions:
    directory: Path
    source_system: str | None = None
    mapping_file: Path | None = None
    batch_size: int = 5000
    rejects_dir: Path | None = None
    show_progress: bool = True
    identity_config: Path | None = None
    spool: Path | None = None  # also append every written batch here (the benchmark's baseline)
    allow_shrink: bool = False  # load a file far shorter than its previous load
    full: bool = False  # write every row, changed or not (no delta: etl/delta.py)
    # a first load into an empty local graph through Neo4j's offline importer (etl/batches.py)
    bulk_import: bool = False


@dataclass
class Counts:
    read: int = 0
    loaded: int = 0
    rejected: int = 0
    unchanged: int = 0  # valid rows a delta load did not write (their content hash is stored)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0


@dataclass
class LoadResult:
    run_id: str
    status: str
    resumed: bool
    rejects_dir: Path
    counts: dict[str, Counts] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)
    warnings_by_reason: dict[str, int] = field(default_factory=dict)
    review: int = 0
    seconds: float = 0.0
    batches_written: int = 0
    batches_skipped: int = 0
    error: str | None = None
    spool_seconds: float = 0.0  # of ``seconds``, spent writing the benchmark's spool
    delta: bool = False  # only changed rows written (etl/delta.py)
    rows_written: int = 0  # rows of the committed batches (golden customers, home branches too)
    # transactions run again after a transient error (two at once deadlocked: etl/batches.py)
    write_retries: int = 0
    golden: Counts = field(default_factory=Counts)  # golden customers written / unchanged
    # the offline importer's figures (``--bulk-import``), or why the load went online instead
    bulk_import: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The figures of the run, as ``c360 load --report-json`` writes them."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "seconds": round(self.seconds, 2),
            "entities": {
                k: {
                    "read": c.read,
                    "loaded": c.loaded,
                    "rejected": c.rejected,
                    "unchanged": c.unchanged,
                    "seconds": round(c.seconds, 2),
                    "rows_per_s": round(c.rate, 1),
                }
                for k, c in self.counts.items()
            },
            "rows_read": sum(c.read for c in self.counts.values()),
            "rejects_by_reason": self.by_reason,
            "warnings_by_reason": self.warnings_by_reason,
            "identity_review_pairs": self.review,
            "batches_written": self.batches_written,
            "delta": self.delta,
            "rows_written": self.rows_written,
            "write_retries": self.write_retries,
            "rows_unchanged": sum(c.unchanged for c in self.counts.values()),
            "golden_customers": {"written": self.golden.loaded, "unchanged": self.golden.unchanged},
            "spool_seconds": round(self.spool_seconds, 2),
            "bulk_import": self.bulk_import,
            "exit_code": self.exit_code,
        }

    @property
    def exit_code(self) -> int:
        if self.status == "FAILED":
            return EXIT_FAILED
        return EXIT_REJECTS if any(c.rejected for c in self.counts.values()) else EXIT_OK


# customers whose golden records are computed together: a slice's records are Python objects in
# pandas frames, copied by the survivorship's sorts (at 50,000 the loader's memory rose by about
# 500 MiB while each slice was computed, its highest point at 100,000 customers)
GOLDEN_SLICE = 10_000
AFTER_RESOLUTION_MEMORY = "384MB"  # DuckDB's bound once identities are resolved
# what a bulk load's files process holds while identities are resolved (its interpreter with
# pandas, the keys written so far: 250-300 MiB at a million customers), taken from DuckDB's bound
FILES_PROCESS_MEMORY = "256MB"
BATCH_OF_IDS = 20_000  # ids per lookup of the home-branch step


def _golden_in_slices(
    spill: CustomerSpill,
    other_records: Callable[[list[str]], pd.DataFrame],
    cfg: IdentityConfig,
) -> Iterable[pd.DataFrame]:
    """Golden records in ascending customer_id, ``GOLDEN_SLICE`` customers at a time: a slice's
    records are read from the spill (by customer id, then load order) with the records
    ``other_records`` gives for those ids (same rows, same order as one call over everything)."""
    for ids in spill.customer_ids_in_slices(GOLDEN_SLICE):
        part = pd.concat([spill.records_of(ids[0], ids[-1]), other_records(ids)])
        yield golden_records(part, cfg)


class RateColumn(ProgressColumn):
    def render(self, task: Any) -> Text:
        return Text(f"{task.speed or 0:>9,.0f} rows/s", style="progress.data.speed")


def discover_mappings(opts: LoadOptions) -> list[SystemMapping]:
    """The mappings of the systems to load, in identity-priority order."""
    if opts.mapping_file and not opts.source_system:
        from etl.mapping import parse_mapping

        return [parse_mapping(opts.mapping_file.read_text(encoding="utf-8"))]
    if opts.source_system:
        return [load_mapping(opts.source_system, opts.mapping_file)]
    known = sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml") if p.stem != "identity")
    systems = sorted(
        p.name
        for p in opts.directory.iterdir()
        if p.is_dir() and (MAPPINGS_DIR / f"{p.name}.yaml").exists()
    )
    if not systems:
        said = f"{opts.directory} holds no folder of a known source system ({', '.join(known)})"
        files = extract_files(opts.directory)
        if files:
            said += (
                f"; it holds extract files itself ({', '.join(p.name for p in files.values())}), "
                "as a system's folder does: c360 load reads a folder of system folders, so "
                f"point it at {opts.directory.parent}"
            )
            if opts.directory.name in known:
                said += f" (or add --source-system {opts.directory.name} with that folder)"
        raise LoadError(said)
    priority = load_identity_config(opts.identity_config).system_priority
    systems.sort(key=lambda s: (priority.index(s) if s in priority else len(priority), s))
    return [load_mapping(s) for s in systems]


def fingerprint(
    opts: LoadOptions, mappings: list[SystemMapping], identity_text: str, read: list[Path]
) -> str:
    """The identity of a load: every file the mappings read (by a file or through a query), the
    mappings' text (their reference tables included), the identity config and the batch size."""
    files = []
    for path in sorted(set(read)):
        st = path.stat()
        files.append([str(path.resolve()), st.st_size, st.st_mtime_ns])
    doc = {
        "files": sorted(files),
        "mappings": [m.source for m in mappings],
        "identity": identity_text,
        "batch_size": opts.batch_size,
    }
    if opts.full:  # (absent otherwise: the fingerprints of earlier runs stay what they were)
        doc["full"] = True
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


class Loader:
    def __init__(
        self, driver: Driver, settings: Settings, opts: LoadOptions, console: Console | None = None
    ) -> None:
        self.driver = driver
        self.settings = settings
        self.db = settings.neo4j_database
        self.opts = opts
        self.console = console or Console(stderr=True)
        self.today = dt.date.today()
        id_path = opts.identity_config or MAPPINGS_DIR / "identity.yaml"
        self.identity_text = id_path.read_text(encoding="utf-8")
        self.identity: IdentityConfig = load_identity_config(id_path)
        self.counts: dict[str, Counts] = {}
        self.scans: dict[Path, Scan] = {}
        # rows read per (entity, "<system>/<source name>"), to find a source whose rows all failed
        self.read_by_source: dict[tuple[str, str], int] = {}
        self.engine: Engine
        # the customer records, customer ids and key sets of the run, on disk (etl/spill.py)
        self.spill: CustomerSpill
        self.resolution_memory = self.identity.memory_limit  # DuckDB's bound while resolving
        # the steps alongside the customers stop; they failed (Loader._meanwhile)
        self._cancelled, self._alongside_failed = threading.Event(), threading.Event()

    # -- graph helpers ----------------------------------------------------------------------
    def _read(self, query: str, **params: Any) -> list[dict[str, Any]]:
        return session.rows(self.driver, self.db, query, **params)

    def _write(self, query: str, **params: Any) -> None:
        session.run(self.driver, self.db, query, **params)

    # -- the run ----------------------------------------------------------------------------
    def run(self) -> LoadResult:
        if not self.opts.directory.is_dir():
            raise LoadError(f"{self.opts.directory} is not a folder of extracts")
        mappings = discover_mappings(self.opts)
        with Engine() as self.engine:
            return self._run(mappings)

    def _run(self, mappings: list[SystemMapping]) -> LoadResult:
        started = time.perf_counter()
        plans = [self.engine.plan(m, self.opts.directory) for m in mappings]
        try:
            self.scans = self._check_extracts(plans)
            for plan in plans:
                self.engine.register(plan, self.scans)
        except ExtractError as exc:
            raise LoadError(str(exc)) from None
        self._check_shrink(list(self.scans.values()))
        migrate.apply(self.driver, database=self.db)
        read = [p for source in self.engine.sources.values() for p in source.files]
        fp = fingerprint(self.opts, mappings, self.identity_text, read)
        found = self._read(lq.FIND_RESUMABLE_RUN, fingerprint=fp)
        last_failed = False
        if found:
            run_id, done = found[0]["run_id"], json.loads(found[0]["checkpoint_json"] or "{}")
            loaded_at = found[0]["started_at"]
            self.delta = bool(found[0]["delta"])  # as the killed attempt decided
            self.console.print(f"Resuming load run {run_id} ({sum(done.values())} batches done)")
        else:
            loaded_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
            # the records of this run are told from earlier ones by their loaded_at (to the
            # second: graph/queries/loads._BEHIND_CUSTOMERS): a run started within the second
            # of the last one would take that one's records for its own and not link to them
            latest = self._read(lq.LATEST_RUN_START)[0]["latest"]
            latest = latest.to_native() if hasattr(latest, "to_native") else latest
            if latest is not None and loaded_at <= latest:
                loaded_at = latest + dt.timedelta(seconds=1)
            run_id = f"{loaded_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
            done = {}
            # a first load writes everything without asking the graph for hashes
            before = self._read(lq.ANY_LOAD_DONE)[0]
            self.delta = not self.opts.full and before["done"]
            last_failed = not before["last_succeeded"]
            self._write(
                lq.CREATE_RUN,
                run_id=run_id,
                source=str(self.opts.directory.resolve()),
                fingerprint=fp,
                started_at=loaded_at,
                delta=self.delta,
            )
        self.loaded_at = loaded_at
        bulk = self._bulk_import(found)
        if bulk:
            self.delta = False  # (an empty graph: every row is new)
        rejects_dir = self.opts.rejects_dir or self.settings.rejects_root / run_id
        result = LoadResult(
            run_id=run_id,
            status="RUNNING",
            resumed=bool(found),
            rejects_dir=rejects_dir,
            delta=self.delta,
        )
        # home branches of every customer of the load (as a full load) unless a delta load
        # knows which it changed: not when a branch changed, a killed attempt wrote rows, or the
        # newest load before this one failed or was killed (its rows are in, its home branches
        # perhaps not, and their hashes now match)
        self.all_home_branches = not self.delta or bool(found) or last_failed
        # before a first attempt into a graph where nobody holds an account, the holders of the
        # load's accounts are those of its own holdings, which the home branches take anyway:
        # neither they nor the accounts' keys are gathered
        self.holders_known = not found and not self._read(lq.ANY_HOLDING)
        self.golden = result.golden
        self.rejects = RejectsWriter(rejects_dir)
        spool = open(self.opts.spool, "wb") if self.opts.spool else None  # noqa: SIM115
        self.writer: CheckpointedWriter | BulkImportWriter
        if bulk:
            folder = self.settings.c360_home / "bulk-import" / run_id
            self.writer = BulkImportWriter(
                folder,
                run_id=run_id,
                batch_size=self.opts.batch_size,
                writers=self.settings.load_write_transactions,
            )
        else:
            self.writer = CheckpointedWriter(
                self.driver,
                database=self.db,
                run_id=run_id,
                done=done,
                batch_size=self.opts.batch_size,
                spool=spool,
                writers=self.settings.load_write_transactions,
            )
        self.spill = CustomerSpill(KEPT_CUSTOMER_COLUMNS)
        self.lookahead = delta.LookAhead(self._read)  # a delta load's lookups of stored hashes
        columns = [
            TextColumn("{task.description:<14}"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn(),
        ]
        try:
            with Progress(
                *columns, console=self.console, disable=not self.opts.show_progress, transient=False
            ) as progress:
                self.progress = progress
                # (mapping, entity mapping, source) per entity: a source has the ``name`` the
                # rejects give as the file (``customers.csv``, ``customers (SQL)``)
                steps = {
                    entity: units
                    for entity in LOAD_ORDER
                    if (
                        units := [
                            (m, m.entities[entity], self.engine.sources[m.system, entity])
                            for m in mappings
                            if (m.system, entity) in self.engine.sources
                        ]
                    )
                }
                for entity in steps:  # (the report's order)
                    self.counts.setdefault(entity, Counts())
                alongside = {
                    e: steps[e] for e in ALONGSIDE_CUSTOMERS if e in steps and "customers" in steps
                }
                for entity, units in steps.items():
                    if entity == "customers":
                        t0 = time.perf_counter()
                        result.review = self._load_customers(units, self.counts[entity], alongside)
                        self.counts[entity].seconds += time.perf_counter() - t0
                    elif entity not in alongside:
                        self._load_step(entity, units)
                self._home_branches()
                if isinstance(self.writer, BulkImportWriter):
                    result.bulk_import = self._imported(self.writer)
            result.status = "SUCCEEDED"
        except Exception as exc:
            result.status, result.error = "FAILED", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self.lookahead.close()
            self.spill.close()
            self.writer.close()
            if isinstance(self.writer, BulkImportWriter):  # (a resumed run writes them anew)
                shutil.rmtree(self.writer.files.folder, ignore_errors=True)
            if spool:
                spool.close()
            self.rejects.close()
            if bulk and result.bulk_import is None:
                result.bulk_import = {"imported": False}
                log = bulk_import_log(self.settings, run_id)
                if log.exists():  # (the importer ran and failed: its log says why)
                    result.bulk_import["importer_log"] = str(log)
            result.counts = self.counts
            result.by_reason = dict(sorted(self.rejects.by_reason.items()))
            result.warnings_by_reason = dict(sorted(self.rejects.warnings_by_reason.items()))
            result.seconds = time.perf_counter() - started
            result.batches_written = self.writer.batches_written
            result.rows_written = self.writer.rows_written
            result.batches_skipped = self.writer.batches_skipped
            result.write_retries = max(0, self.writer.attempts - self.writer.batches_written)
            result.spool_seconds = self.writer.spool_seconds
            if result.status == "SUCCEEDED" and result.exit_code == EXIT_REJECTS:
                result.status = "SUCCEEDED_WITH_REJECTS"
            self._finish(result)
        return result

    def _bulk_import(self, resumed: list[dict[str, Any]]) -> bool:
        """Whether this load goes through the offline importer: asked for, the local server,
        and a graph that holds nothing but load runs (a run killed before its import finished
        left nothing else). Otherwise it loads online, saying why."""
        if not self.opts.bulk_import:
            return False
        why = None
        if not self.settings.uses_local_server:
            why = f"the graph is not the local server (NEO4J_URI={self.settings.neo4j_uri})"
        elif not local_server.status(self.settings).running:
            why = "the local server this project started does not serve this port"
        elif self._read(lq.HOLDS_DATA):
            why = "the graph is not empty (an offline import replaces the whole database)"
        if why:
            self.console.print(f"bulk import: not possible, {why}; loading online")
            return False
        return True

    def _imported(self, writer: BulkImportWriter) -> dict[str, Any]:
        """Import the files, start the server again, write the rows left to Cypher."""

        def say(message: str) -> None:
            if self.opts.show_progress:
                self.console.print(message, highlight=False)

        report = writer.finish(self.driver, self.settings, say)
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # (KiB)
        assert writer.written is not None
        return {
            "imported": True,
            "nodes": writer.written.nodes,
            "relationships": writer.written.relationships,
            "rows_left_to_cypher": writer.written.deferred_rows,
            "import_seconds": round(report.seconds, 2),
            "skipped_relationships": report.skipped_relationships,
            "importer_peak_rss_mib": report.peak_rss_mib,
            "importer_max_heap": report.max_heap,  # (BULK_IMPORT_HEAP, as the importer saw it)
            "importer_suggested_heap": report.suggested_heap,  # (when it found that small)
            "importer_log": str(report.log),
            # the loader's memory: the most it and the process writing the files held at once
            # (sampled), or its own peak when higher (after that process ended); the importer's
            # is not in it. Each process's own peak beside it.
            "loader_peak_rss_mib": round(max(own, writer.files.together_peak_rss_mib), 1),
            "loader_own_peak_rss_mib": round(own, 1),
            "files_process_peak_rss_mib": round(writer.files.peak_rss_mib, 1),
            "resolution_memory_limit": self.resolution_memory,  # (DuckDB's, for both to fit)
        }

    def _finish(self, result: LoadResult) -> None:
        counts = {
            k: {"read": c.read, "loaded": c.loaded, "rejected": c.rejected}
            | ({"unchanged": c.unchanged} if result.delta else {})
            for k, c in result.counts.items()
        }
        with contextlib.suppress(Exception):  # the graph may be what failed; the exit code says so
            self._write(
                lq.FINISH_RUN,
                run_id=result.run_id,
                finished_at=dt.datetime.now(dt.UTC),
                status=result.status,  # FAILED stays resumable, like a killed RUNNING run
                counts_json=json.dumps(counts, sort_keys=True),
                rows_read=sum(c.read for c in result.counts.values()),
                rows_loaded=sum(c.loaded for c in result.counts.values()),
                rows_rejected=sum(c.rejected for c in result.counts.values()),
                rejects_dir=str(result.rejects_dir),
                error=result.error,
                extract_files=[s.name for s in self.scans.values()],
                extract_rows=[s.rows for s in self.scans.values()],
                shrink_allowed=self.opts.allow_shrink,
                rejects_by_reason_json=json.dumps(result.by_reason, sort_keys=True),
                warnings_by_reason_json=json.dumps(result.warnings_by_reason, sort_keys=True),
                delta=result.delta,
                rows_written=result.rows_written,
                rows_unchanged=sum(c.unchanged for c in result.counts.values()),
            )

    # -- checks before the load ----------------------------------------------------------------
    def _check_extracts(self, plans: list[SystemPlan]) -> dict[Path, Scan]:
        """Scan every file the load will read (with its read options), check the columns the
        simple-form entities read and the system's manifest."""
        scans: dict[Path, Scan] = {}
        for plan in plans:
            m = plan.mapping
            manifest = read_manifest(plan.folder, m.system)
            by_name: dict[str, Scan] = {}
            for name in plan.read_files():
                path = plan.files[name]
                opts = plan.options.get(name)
                scans[path] = scan(
                    path, plan.label(name), digest=manifest is not None, options=opts
                )
                by_name[path.name] = scans[path]
            for entity, em in m.entities.items():
                if em.sql is None and entity in plan.reads:
                    mapped = [c for c in em.columns if c not in em.optional_columns]
                    check_columns(
                        scans[plan.files[em.file]],
                        mapped,
                        diagnose=functools.partial(self.engine.diagnose, plan, em.file, mapped),
                    )
            if manifest is not None:
                check_manifest(plan.folder, m.system, manifest, by_name)
        return scans

    def _check_shrink(self, scans: list[Scan]) -> None:
        """Refuse files far shorter than their previous load: the missing rows are far more
        likely a partial extract than people the source system dropped."""
        tolerance = self.settings.load_shrink_tolerance
        previous = {
            r["file"]: (r["rows"], r["run_id"])
            for r in self._read(lq.PREVIOUS_EXTRACT_ROWS, files=[s.name for s in scans])
            if r["rows"] is not None
        }
        shrunk = shrunk_files(scans, previous, tolerance)
        if shrunk and not self.opts.allow_shrink:
            raise LoadError(
                f"{'; '.join(shrunk)}: more than LOAD_SHRINK_TOLERANCE ({tolerance:.0%}) fewer "
                "rows. A partial extract is refused so that nothing is loaded from it; check the "
                "extract, and if the rows are really gone, re-run with --allow-shrink"
            )
        for line in shrunk:
            self.console.print(f"{line}: loaded (--allow-shrink)")

    # -- stages -----------------------------------------------------------------------------
    def _chunks(self, label: str, source: Source, em: EntityMapping) -> Iterable[pd.DataFrame]:
        """The source's rows a batch at a time (etl/engine.py), counted for the progress bar
        and for :meth:`_check_all_refused`."""
        task = self.progress.add_task(label, total=source.rows)
        key = (source.entity, f"{source.system}/{source.name}")
        self.read_by_source.setdefault(key, 0)
        for chunk in self.engine.batches(source, self.opts.batch_size):
            self.read_by_source[key] += len(chunk)
            yield chunk
            self.progress.advance(task, len(chunk))
        check_delivered(source, self.read_by_source[key])
        if not self.read_by_source[key] and any(self.scans[p].rows for p in source.files):
            said = (
                f"{source.entity}: {key[1]} gave no rows although "
                f"{', '.join(f'{source.system}/{p.name}' for p in source.files)} hold some: "
                "check its joins and filters"
            )
            self.rejects.warn(key[1], {0: ("no_rows", said)})  # row 0: the whole source
            self.console.print(f"warning: {said}")

    def _validate(
        self, entity: str, mapped: pd.DataFrame, parse_errors: Errors, source_file: str
    ) -> tuple[pd.DataFrame, Errors]:
        """etl/validation.validate, with the warnings it gives (customers' birth dates, once it
        takes ``warnings=``) written to warnings.csv."""
        if not VALIDATE_TAKES_WARNINGS:
            return validate(mapped, entity, parse_errors=parse_errors, today=self.today)
        warnings: Errors = {}
        extra: dict[str, Any] = {"warnings": warnings}  # (typed so before validate takes it)
        good, errors = validate(
            mapped, entity, parse_errors=parse_errors, today=self.today, **extra
        )
        self.rejects.warn(source_file, warnings)
        return good, errors

    def _check_all_refused(self, entity: str) -> None:
        """A source of ``entity`` that read rows and kept none fails the load: the mapping (or
        the extract) is wrong, and loading what depends on it would only refuse more."""
        # (a copy: the other thread of the load adds its sources meanwhile)
        for (ent, source_file), read in list(self.read_by_source.items()):
            refused: dict[str, int] = self.rejects.by_source.get((entity, source_file), {})
            if ent != entity or not read or sum(refused.values()) < read:
                continue
            top = sorted(refused.items(), key=lambda kv: -kv[1])[:TOP_REASONS]
            first = self.rejects.first_reason.get((entity, source_file), "")
            raise LoadError(
                f"every row of {source_file} ({entity}, {read:,} rows) was refused; top reasons: "
                + ", ".join(f"{code} {n:,}" for code, n in top)
                + f" (the first: {first}); see {self.rejects.directory / f'{entity}.csv'}. "
                "The load stops there: fix the mapping or the extract and load again"
            )

    def _dedupe(self, entity: str, good: pd.DataFrame, errors: Errors, scope: str) -> pd.DataFrame:
        """Refuse a row whose key an earlier row of the file had (the file's keys so far are in
        the spill's ``scope``, in memory as 128-bit hashes: core/keyset.py)."""
        key = ENTITIES[entity].key
        rows = list(zip(*(good[c].tolist() for c in key), strict=True))
        keep = self.spill.first_time(scope, ["\x1f".join(map(str, values)) for values in rows])
        for idx, values, new in zip(good.index, rows, keep, strict=True):
            if not new:
                errors.setdefault(idx, []).append(
                    ("duplicate_key", f"duplicate_key: {key} {values} seen earlier in the file")
                )
        # a mask, not a list: an all-False list is empty, and good[[]] would drop every column
        return good[pd.Series(keep, index=good.index, dtype=bool)]

    def _load_step(self, entity: str, units: list[Unit]) -> None:
        """Load every source of an entity other than customers."""
        t0 = time.perf_counter()
        counts = self.counts[entity]
        for unit in units:
            self._load_entity(entity, *unit, counts)
        counts.seconds += time.perf_counter() - t0
        self._check_all_refused(entity)

    @contextlib.contextmanager
    def _meanwhile(self, steps: dict[str, list[Unit]]) -> Iterator[None]:
        """Load ``steps`` (entities that refer to no customer: :data:`ALONGSIDE_CUSTOMERS`) on a
        thread of their own while the body reads and resolves the customers: the graph writes
        them while it would otherwise wait for identity resolution. Their failure is raised when
        the body ends; a failure of the body stops them at their next chunk."""
        if not steps:
            yield
            return
        failures: list[BaseException] = []

        def run() -> None:
            try:
                for entity, units in steps.items():
                    self._load_step(entity, units)
            except _Stopped:
                pass
            except BaseException as exc:  # raised on the loader's thread
                failures.append(exc)
                self._alongside_failed.set()

        thread = threading.Thread(target=run, name="loader-alongside", daemon=True)
        thread.start()
        try:
            yield
        except BaseException as exc:
            self._cancelled.set()
            thread.join()
            if isinstance(exc, _Stopped) and failures:
                raise failures[0] from None
            for failure in failures:  # (both failed: the body's failure is raised, with a note)
                exc.add_note(f"meanwhile the steps alongside the customers failed: {failure}")
            raise
        thread.join()
        if failures:
            raise failures[0]

    def _raise_if_alongside_failed(self) -> None:
        """Stop reading and resolving the customers when a step alongside failed (its failure
        is what :meth:`_meanwhile` raises)."""
        if self._alongside_failed.is_set():
            raise _Stopped

    def _load_customers(
        self, units: list[Unit], counts: Counts, alongside: dict[str, list[Unit]] | None = None
    ) -> int:
        """Read, resolve and write the customers of every system. The records go to the spill's
        DuckDB database as they are read (etl/spill.py), with the records already behind golden
        customers in the graph; identity resolution runs there (etl/linkage.py), out of core.
        Meanwhile the ``alongside`` steps load (:meth:`_meanwhile`); the customers are written
        once they are done."""
        with self._meanwhile(alongside or {}):
            self._read_and_resolve(units, counts)
        return self._write_customers(counts)

    def _read_and_resolve(self, units: list[Unit], counts: Counts) -> None:
        """The customer records of every system into the spill, with those of earlier loads;
        identity resolution."""
        spill = self.spill
        cfg = self.identity
        self.resolution_memory = self._resolution_memory()
        spill.configure(memory_limit=self.resolution_memory, threads=cfg.threads)
        for m, em, source in units:
            scope = f"dedupe:customers:{m.system}/{source.name}"
            source_file = f"{m.system}/{source.name}"
            for chunk in self._chunks(f"customers/{m.system}", source, em):
                self._raise_if_alongside_failed()
                mapped, parse_errors = apply_mapping(chunk, em)
                mapped = compose_name(mapped)
                good, errors = self._validate("customers", mapped, parse_errors, source_file)
                good = self._dedupe("customers", good, errors, scope)
                good = self._check_soft_refs("customers", good, source_file)
                self.rejects.write("customers", source_file, chunk, errors)
                counts.read += len(chunk)
                counts.rejected += len(errors)
                prepared = records.prepare_customers(
                    good, m.system, self.settings.id_pepper.get_secret_value()
                )
                spill.add(prepared)
            spill.forget(scope)
        # (before resolution: a customers source that kept nothing stops the steps alongside)
        self._check_all_refused("customers")
        self._add_graph_records()
        task = self.progress.add_task("customers/match", total=None)

        def echo(message: str) -> None:
            self.progress.update(task, description=f"customers/{message.split()[0]}")
            if not self.opts.show_progress:
                return
            self.console.print(f"identity resolution: {message}", highlight=False)

        path = model_path(self.settings.c360_home, cfg)
        self._raise_if_alongside_failed()
        give_back()  # (the chunks read so far are freed: DuckDB's resolution needs the room)
        spill.resolve(cfg, model_for_load(path, cfg, echo), echo)
        # what DuckDB does from here (golden records by slice, records in load order, key sets)
        # needs little memory; its buffers of the resolution are given back, so the loader
        # stays within its bound while the graph is written (2.2 GiB at 1 M customers before)
        spill.configure(
            memory_limit=min(AFTER_RESOLUTION_MEMORY, cfg.memory_limit, key=size_bytes),
            threads=cfg.threads,
        )
        give_back()

    def _resolution_memory(self) -> str:
        """DuckDB's bound while the customers are read and resolved: the identity config's;
        less the share of the process writing a bulk load's files (the loader's bound is what
        both hold at once), not below :data:`AFTER_RESOLUTION_MEMORY` (nor above the config's)."""
        limit = self.identity.memory_limit
        if not isinstance(self.writer, BulkImportWriter):
            return limit
        less = size_bytes(limit) - size_bytes(FILES_PROCESS_MEMORY)
        floor = min(size_bytes(AFTER_RESOLUTION_MEMORY), size_bytes(limit))
        return f"{max(less, floor) / 1e6:.0f}MB"

    def _write_customers(self, counts: Counts) -> int:
        """The golden records, then the source records with their links; the review pairs."""
        spill, cfg = self.spill, self.identity
        task = self.progress.add_task("customers/graph", total=None)
        bs = self.opts.batch_size
        golden_count = 0

        def touched(written: list[dict[str, Any]]) -> None:
            self._touched(TOUCHED_CUSTOMERS, (r["customer_id"] for r in written))

        for golden in _golden_in_slices(spill, self._known_records, cfg):
            for start in range(0, len(golden), bs):  # rows built a batch at a time
                batch = records.customer_rows(golden.iloc[start : start + bs])
                self._put("customers:golden", uq.CUSTOMERS, batch, self.golden, touched)
                self.progress.advance(task, len(batch))
            golden_count += len(golden)
        self._flush("customers:golden")
        self.progress.update(task, total=golden_count + spill.n)
        for frame, ids, links, resolved in spill.in_load_order(bs):
            partial = spill.known(PARTIAL, list(set(ids)))
            batch = records.source_record_rows(
                frame,
                ids,
                list(links),
                self.loaded_at,
                [was or cid in partial for cid, was in zip(ids, resolved, strict=True)],
            )
            self._put("customers:source_records", uq.SOURCE_RECORDS, batch, counts, touched)
            self.progress.advance(task, len(batch))
        self._flush("customers:source_records")
        return self._write_review(spill.review_rows())

    def _add_graph_records(self) -> None:
        """The records already behind golden customers (cross-load linking: etl/spill.py) and
        the pairs data stewards said are different people, into the spill. The graph's keys
        first: of a record this load brings again only its customer is kept, so only the
        fields of the others are read (a delta load of the same systems reads almost none)."""
        if not self._read(lq.COUNT_SOURCE_RECORDS)[0]["n"]:
            return
        task = self.progress.add_task("customers/known", total=None)
        query, this_run = lq.SOURCE_RECORD_KEYS_FOR_MATCHING, self.loaded_at
        for rows in lq.stream_rows(self.driver, self.db, query, 50_000, this_run=this_run):
            self.spill.add_graph_keys(pd.DataFrame(rows))
            self.progress.advance(task, len(rows))
        on = ["system", "source_id", "customer_id"]
        for keys in self.spill.absent_graph_keys(20_000):
            found = self._read(
                lq.SOURCE_RECORDS_FOR_MATCHING_BY_KEY,
                keys=keys[["system", "source_id"]].values.tolist(),
            )
            keys = keys.rename(columns={"cid": "customer_id"})
            # in the keys' order (one row per record and customer, as the stream gave them)
            frame = keys.merge(pd.DataFrame(found, columns=lq.MATCHING_COLUMNS), on=on)
            frame["phone"] = frame["phone"].map(stored_phone)
            self.spill.add_known(frame.drop(columns="unique_id"), frame["unique_id"])
        self.spill.keep_assignments()
        pairs = self._read(iq.NOT_SAME_AS_PAIRS)
        self.spill.add_not_same_as(
            [(p["system_a"], p["source_id_a"], p["system_b"], p["source_id_b"]) for p in pairs]
        )

    def _known_records(self, ids: list[str]) -> pd.DataFrame:
        """The records earlier loads put behind these customers, of every system, except those
        this load brings again (their new row replaces them): survivorship takes them all, so a
        record absent from this load keeps its values in the golden record. The customers that
        have such records are noted in the spill (``PARTIAL``). Which records those are, the
        spill knows since :meth:`_add_graph_records` (its known records); their fields are read
        from the graph by key."""
        absent = self.spill.known_of(sorted(set(ids)))  # (customer_id, system, source_id)
        step = 20_000
        rows = []
        for start in range(0, len(absent), step):
            part = absent[start : start + step]
            found = self._read(lq.SOURCE_RECORDS_BY_KEY, keys=[[s, i] for _, s, i in part])
            cid_of = {(s, i): cid for cid, s, i in part}
            for r in found:
                rec = r["record"]
                rec["phone"] = stored_phone(rec.get("phone_e164") or rec.get("phone"))
                rows.append(rec | {"customer_id": cid_of[rec["system"], rec["source_id"]]})
        frame = pd.DataFrame(rows, columns=[*self.spill.columns, "customer_id"])
        self.spill.add_keys(PARTIAL, sorted({cid for cid, _, _ in absent}))
        return frame.astype(object).where(frame.notna(), None)

    def _write_review(self, rows: Iterable[dict[str, Any]]) -> int:
        """The uncertain pairs: ``er_review.csv`` in the rejects folder and the graph's review
        queue (``IdentityReview``, contract item 5: a decided review is never reopened)."""
        self.rejects.directory.mkdir(parents=True, exist_ok=True)
        count = 0
        created = dt.datetime.now(dt.UTC).replace(microsecond=0)
        columns = [
            "system_a", "source_id_a", "customer_id_a", "system_b", "source_id_b",
            "customer_id_b", "probability", "match_weight", "comparisons",
        ]  # fmt: skip
        with open(self.rejects.directory / "er_review.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(columns)
            for row in rows:
                comparisons = json.dumps(row["comparisons"], ensure_ascii=False)
                w.writerow([*(row[c] for c in columns[:-1]), comparisons])
                a, b = (row["system_a"], row["source_id_a"]), (row["system_b"], row["source_id_b"])
                graph_row = {
                    "review_id": iq.review_id(a, b),
                    "a": list(a),
                    "b": list(b),
                    "match_weight": row["match_weight"],
                    "probability": row["probability"],
                    "comparisons_json": comparisons,
                    "run_id": self.writer.run_id,
                    "created_at": created,
                }
                self.writer.add("customers:reviews", iq.UPSERT_REVIEWS, [graph_row])
                count += 1
        self.writer.flush("customers:reviews")
        return count

    def _load_entity(
        self, entity: str, m: SystemMapping, em: EntityMapping, source: Source, counts: Counts
    ) -> None:
        spec = ENTITIES[entity]
        source_file = f"{m.system}/{source.name}"
        scope = f"dedupe:{entity}:{source_file}"
        step = f"{entity}:{m.system}"
        for chunk in self._chunks(f"{entity}/{m.system}", source, em):
            if self._cancelled.is_set():  # (the customers read alongside failed)
                raise _Stopped
            mapped, parse_errors = apply_mapping(chunk, em)
            good, errors = self._validate(entity, mapped, parse_errors, source_file)
            good = self._check_refs(entity, m.system, good, errors)
            good = self._dedupe(entity, good, errors, scope)
            good = self._check_soft_refs(entity, good, source_file)
            self.rejects.write(entity, source_file, chunk, errors)
            counts.read += len(chunk)
            counts.rejected += len(errors)
            if entity in REF_TARGETS:
                self.spill.add_keys(f"keys:{entity}", good[spec.key[0]])
            if entity == "accounts" and not self.holders_known:
                self.spill.add_keys(HOME_ACCOUNTS, good["account_id"])
            elif entity == "holdings":
                self.spill.add_keys(HOME_CUSTOMERS, good["customer_id"])
            assert spec.upsert is not None  # every entity but customers has one
            rows = self._with_origins(spec, m.system, good)
            self._put(step, spec.upsert, rows, counts, functools.partial(self._wrote, entity))
        self._flush(step)
        self.spill.forget(scope)

    def _wrote(self, entity: str, written: list[dict[str, Any]]) -> None:
        """Note what was written of ``entity`` whose customers' home branch may change."""
        if entity == "accounts":
            self._touched(TOUCHED_ACCOUNTS, (r["account_id"] for r in written))
        elif entity == "holdings":
            self._touched(TOUCHED_CUSTOMERS, (r["customer_id"] for r in written))
        elif entity == "branches" and written:
            self.all_home_branches = True  # a new branch may be anyone's home branch

    def _touched(self, scope: str, keys: Iterable[str]) -> None:
        """Note what a delta load wrote whose customers' home branch may change."""
        if not self.all_home_branches:
            self.spill.add_keys(scope, keys)

    def _put(
        self,
        step: str,
        upsert: uq.Upsert,
        rows: list[dict[str, Any]],
        counts: Counts,
        then: Callable[[list[dict[str, Any]]], None] = lambda written: None,
    ) -> None:
        """Write a chunk's rows of ``step``, each with its content hash; a delta load writes only
        those whose hash the graph does not hold already (etl/delta.py), as one batch per chunk,
        and counts the others ``unchanged``. ``then`` gets the rows written: at once, or in a
        delta load once the chunk's lookup is settled (at the next chunk's ``_put`` or at
        :meth:`_flush`, in the order the chunks came). A customer's data carries the run's id,
        which the upsert stamps on the customers it writes of (``load_run_id``: what
        ``c360 score --run`` selects; graph/queries/upserts.py)."""
        if upsert.stamps_run:
            for row in rows:
                row["load_run_id"] = self.writer.run_id  # (not hashed: etl/delta.NOT_HASHED)
        if not self.delta:  # the writer hashes (a bulk load's in the process writing its files)
            self.writer.add(step, upsert.query, rows, stamp=upsert)
            counts.loaded += len(rows)
            then(rows)
            return
        hashes = delta.stamp(upsert, rows)
        self.lookahead.settle()  # (the chunk before is numbered before this one is looked at)
        if not rows or not self.writer.pending(step):  # (committed by a killed attempt)
            self.writer.write_chunk(step, upsert.query, rows)
            counts.loaded += len(rows)
            then(rows)
            return

        def decide(changed: set[int]) -> None:
            # a key an earlier row of the run wrote is written again (the last row wins, as in
            # a full load), whatever the graph held before
            scope = f"written:{upsert.match}"
            texts = [delta.key_text(upsert, r) for r in rows]
            again = self.spill.known(scope, list(dict.fromkeys(texts)))
            written, keys = [], []
            for i, (row, text) in enumerate(zip(rows, texts, strict=True)):
                if i in changed or text in again:
                    written.append(row)
                    keys.append(text)
                    again.add(text)
            self.spill.add_keys(scope, keys)
            self.writer.write_chunk(step, upsert.query, written)
            counts.loaded += len(written)
            counts.unchanged += len(rows) - len(written)
            then(written)

        query = uq.changed_query(upsert)
        self.lookahead.submit(query, delta.lookup_rows(upsert, rows, hashes), decide)

    def _flush(self, step: str) -> None:
        """Settle the chunk whose lookup is in flight, then wait until ``step`` is committed."""
        self.lookahead.settle()
        self.writer.flush(step)

    def _home_branches(self) -> None:
        """The last step: the home branch of every customer this load may have changed (its
        records, its holdings, the holders of its accounts), derived from the graph as it now
        is (graph/queries/upserts.UPSERT_HOME_BRANCHES)."""
        spill, bs = self.spill, self.opts.batch_size
        customers, accounts = HOME_CUSTOMERS, HOME_ACCOUNTS
        if not self.all_home_branches:  # a delta load: the customers of what it wrote
            customers, accounts = TOUCHED_CUSTOMERS, TOUCHED_ACCOUNTS
        elif spill.has_ids:  # (no customers in this load: none resolved)
            for ids in spill.customer_ids_in_slices(BATCH_OF_IDS):
                spill.add_keys(customers, ids)
        if not self.holders_known:
            for account_ids in spill.keys_in_slices(accounts, BATCH_OF_IDS):
                holders = self._read(uq.HOLDERS_OF_ACCOUNTS, account_ids=account_ids)
                spill.add_keys(customers, (r["customer_id"] for r in holders))
        task = self.progress.add_task("home branches", total=None)
        step = "home_branches"
        for ids in spill.keys_in_slices(customers, bs):
            self.writer.add(step, uq.UPSERT_HOME_BRANCHES, [{"customer_id": i} for i in ids])
            self.progress.advance(task, len(ids))
        self.writer.flush(step)

    @staticmethod
    def _with_origins(spec: Entity, system: str, good: pd.DataFrame) -> list[dict[str, Any]]:
        """The entity's graph rows, each relationship to a customer stamped with the source
        record it came from (``customer_id_origin``: [system, source_id] ...): a steward's
        split of a customer sends each relationship to the customer of its record."""
        rows = spec.graph_rows(good)
        for col, target in spec.refs.items():
            if target != "customers":
                continue
            key = f"{CUSTOMER_REF_TARGET[col]}_origin"
            for row, ref in zip(rows, good[col].tolist(), strict=True):
                row[key] = [system, ref]
        return rows

    def _check_refs(
        self, entity: str, system: str, good: pd.DataFrame, errors: Errors
    ) -> pd.DataFrame:
        spec = ENTITIES[entity]
        good = good.copy()
        for col, target in spec.refs.items():
            values = good[col]
            present = values.notna()
            wanted = set(values[present])
            if target == "customers":
                found = self._resolve_customers(system, wanted)
                good[CUSTOMER_REF_TARGET[col]] = values.map(lambda v, found=found: found.get(v))
                missing = present & good[CUSTOMER_REF_TARGET[col]].isna()
                what = f"no {system} customer"
            else:
                known = self._existing(target, wanted)
                missing = present & ~values.isin(known)
                what = f"no known {target[:-1]}"
            for idx in missing[missing].index:
                errors.setdefault(idx, []).append(
                    ("unknown_fk", f"unknown_fk: {col} {values.at[idx]!r} names {what}")
                )
            good = good[~missing]
        return good

    def _check_soft_refs(self, entity: str, good: pd.DataFrame, source_file: str) -> pd.DataFrame:
        """A value of a soft reference (etl/entities.Entity.soft_refs) that names nothing the
        graph or this load knows is set aside: the row loads without it, with a warning."""
        spec = ENTITIES[entity]
        if not spec.soft_refs or good.empty:
            return good
        good = good.copy()
        warnings: dict[int, list[tuple[str, str]]] = {}
        for col, target in spec.soft_refs.items():
            if col not in good.columns:
                continue
            values = good[col]
            present = values.notna()
            known = self._existing(target, set(values[present]))
            unknown = present & ~values.isin(known)
            for idx in unknown[unknown].index:
                warnings.setdefault(int(idx), []).append(
                    (
                        "unknown_ref",
                        f"unknown_ref: {col} {values.at[idx]!r} names no known {target[:-1]}; "
                        f"loaded without it",
                    )
                )
            good.loc[unknown, col] = None
        self.rejects.warn(source_file, warnings)
        return good

    def _resolve_customers(self, system: str, wanted: set[str]) -> dict[str, str]:
        found = self.spill.customer_ids(system, list(wanted))
        rest = [v for v in wanted if v not in found]
        if rest:
            for r in self._read(lq.RESOLVE_SOURCE_IDS, system=system, ids=rest):
                found[r["id"]] = r["customer_id"]
        return found

    def _existing(self, target: str, wanted: set[str]) -> set[str]:
        found = self.spill.known(f"keys:{target}", list(wanted))
        rest = [v for v in wanted if v not in found]
        if rest:
            query = lq.existing_keys(REF_TARGETS[target])
            found.update(r["k"] for r in self._read(query, keys=rest))
        return found
