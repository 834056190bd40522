"""``make bench [SIZE=small|bank]``: ETL, scoring and API benchmarks on a bank of a given size.

    python -m bench.run --size small            # 10,000 customers, a few minutes
    python -m bench.run --size medium           # 200,000 customers: profiling at a middle size
    python -m bench.run --size bank             # 1,000,000 customers (~15 M source rows)
    python -m bench.run --size smoke --out DIR  # 1,000 customers: the CI smoke check

Runs its own Neo4j (port ``BENCH_NEO4J_PORT``, default 7697; data in ``.c360/bench/<size>/``),
so the demo and test graphs are never touched, and wipes it before each load. Phases:

1. generate: the synthetic bank's extracts (``c360 generate --shape bank``), once per size.
2. load: ``c360 load`` as a separate process on an empty graph, with the full pipeline (mapping,
   validation, identity resolution, checkpoints, rejects) and ``--spool``; wall time, rows/s per
   entity, peak RSS of the loader and of Neo4j.
   delta: the same bank re-loaded into the graph the load left, with about 1 % of the rows of
   six files changed (bench/delta_extract.py): wall time, rows read, written and unchanged.
   import: the same first load with ``--bulk-import`` (Neo4j's offline importer, then the
   constraints and the rows left to Cypher): wall time, the importer's own time, peak RSS of the
   loader and of the importer, and whether the graph's counts equal the online load's.
3. baseline: a fresh empty graph, the schema migration, then bench/etl_baseline.py replays the
   loader's spooled batches as bare UNWIND+MERGE transactions: ratio loader / baseline. The
   graph it leaves holds the same nodes and relationships as the load's.
4. score: ``c360 score`` on that graph (scoring and its KPI snapshots): wall time, peak RSS.
5. kpis: the management KPI reads (bench/kpis.py: a bank-wide quarter, a branch, an RM, a
   ranking, a trend), each counted live once, then the snapshots written again (timed) and each
   read from them: seconds side by side.
6. api: ``c360 serve`` in its own process and an asyncio load generator (bench/api_load.py):
   the channel mix at 8, 32 and 64 clients, then the same reads as raw Cypher at the same
   concurrency; throughput, p50/p95/p99, errors, the API's RSS, overhead ratio per operation.
7. compare: the customer-360 read of RMs' own customers through our API and through
   @neo4j/graphql on the same graph (bench/compare_graphql.py: Neo4j restarted with APOC for
   it, removed after), at 8 and 32 clients, interleaved rounds; ratios ours ÷ library of req/s,
   p50/p95/p99 and CPU per request of each server and of Neo4j; a same-data and refusal check.

The graph stays in ``.c360/bench/<size>/neo4j`` after the run (the server is stopped), so
``--phases api`` measures the API again without loading again.

The report (JSON and a markdown table) is rewritten after every phase, so a run cut short still
leaves its figures: ``<out>/<date>-<size>.json`` and ``.md``. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from bench import targets

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Size:
    customers: int
    api_seconds: float
    clients: tuple[int, ...]
    heap: str
    pagecache: str
    batch_size: int = 5000


SIZES = {
    "smoke": Size(1_000, 2, (8,), "512m", "256m"),
    "small": Size(10_000, 15, (8, 32, 64), "1g", "1g"),
    "medium": Size(200_000, 15, (8, 32, 64), "2g", "3g", 10_000),  # profiling the loader
    "bank": Size(1_000_000, 30, (8, 32, 64), "4g", "8g", 10_000),
}
SEED = 7
PHASES = ("generate", "load", "delta", "import", "baseline", "score", "kpis", "api", "compare")


def log(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", flush=True)


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def mib(kib: int) -> float:
    return round(kib / 1024, 1)


class Bench:
    def __init__(self, size_name: str, out: Path, work: Path) -> None:
        self.size_name = size_name
        self.size = SIZES[size_name]
        self.work = work
        self.extracts = work / "extracts"
        self.data_dir = work / "neo4j"
        self.spool = work / "load.spool"
        today = dt.date.today().isoformat()
        self.json_path = out / f"{today}-{size_name}.json"
        self.md_path = out / f"{today}-{size_name}.md"
        out.mkdir(parents=True, exist_ok=True)
        work.mkdir(parents=True, exist_ok=True)
        os.environ.pop("NEO4J_URI", None)
        os.environ.update(
            NEO4J_LOCAL_PORT=os.environ.get("BENCH_NEO4J_PORT", "7697"),
            NEO4J_DATA_DIR=str(self.data_dir),
            NEO4J_HEAP=self.size.heap,
            NEO4J_PAGECACHE=self.size.pagecache,
            C360_HOME=str(work),
            LOAD_BATCH_SIZE=str(self.size.batch_size),
        )
        self.c360 = str(Path(sys.executable).parent / "c360")
        self.api_workers = 1
        self.compare_rounds = 3
        self.report: dict = {
            "size": size_name,
            "customers": self.size.customers,
            "date": today,
            "command": " ".join(["python -m bench.run", *sys.argv[1:]]),
            "machine": machine(),
            "versions": versions(),
            "phases": {},
        }
        if self.json_path.exists():  # a run of some phases adds to the day's report
            self.report["phases"] = json.loads(self.json_path.read_text()).get("phases", {})

    # -- processes --------------------------------------------------------------------------
    def neo4j_pid(self) -> int | None:
        pid_file = self.data_dir / "c360-neo4j.pid"
        return int(pid_file.read_text()) if pid_file.exists() else None

    def cli(self, *args: str, check: bool = True) -> None:
        """``c360 ARGS`` quietly; on failure its output is shown and the run stops."""
        done = subprocess.run([self.c360, *args], capture_output=True, text=True)
        if check and done.returncode != 0:
            log(f"c360 {' '.join(args)} failed (exit {done.returncode}):")
            print(done.stdout + done.stderr, file=sys.stderr, flush=True)
            raise SystemExit(1)

    def start_neo4j(self) -> None:
        """Start (or reuse) the bench server, tied to this process: it stops when the run ends,
        even when the run is killed (a smoke test's timeout, say)."""
        self.cli("neo4j", "start", "--stop-with", str(os.getpid()))

    def fresh_graph(self) -> None:
        """Stop the bench server, delete its data, start it empty."""
        self.cli("neo4j", "stop", check=False)
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.start_neo4j()

    def measured(self, args: list[str], logfile: Path, *, ok=(0,)) -> dict:
        """Run a command; wall time, peak RSS of it and of Neo4j; a heartbeat every minute."""
        neo = self.neo4j_pid()
        if neo:  # reset Neo4j's peak RSS so the figure is this phase's
            Path(f"/proc/{neo}/clear_refs").write_text("5")
        started = time.perf_counter()
        with open(logfile, "w") as out:
            proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
            beat = started
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                time.sleep(0.5)
                if time.perf_counter() - beat >= 60:
                    beat = time.perf_counter()
                    log(
                        f"    … {beat - started:,.0f} s, {Path(args[1]).name if len(args) > 1 else ''}"
                        f" RSS {mib(_status_kib(proc.pid, 'VmRSS'))} MiB,"
                        f" Neo4j RSS {mib(_status_kib(neo, 'VmRSS')) if neo else 0} MiB"
                    )
        seconds = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        if code not in ok:
            tail = logfile.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(args)} exited {code}; log {logfile}:\n{tail}")
        return {
            "seconds": round(seconds, 1),
            "peak_rss_mib": mib(usage.ru_maxrss),
            "neo4j_peak_rss_mib": mib(_status_kib(neo, "VmHWM")) if neo else None,
            "exit_code": code,
        }

    def save(self) -> None:
        try:
            self.report["targets"] = [asdict(t) for t in targets.evaluate(self.report)]
        except Exception as exc:  # noqa: BLE001 - the figures are saved whatever the table does
            self.report["targets"] = []
            self.report["targets_error"] = repr(exc)
        self.json_path.write_text(json.dumps(self.report, indent=2, ensure_ascii=False))
        self.md_path.write_text(markdown(self.report))

    # -- phases -----------------------------------------------------------------------------
    def generate(self) -> None:
        stamp = self.extracts / ".complete"
        wanted = {"customers": self.size.customers, "seed": SEED, "shape": "bank"}
        if stamp.exists() and json.loads(stamp.read_text()) == wanted:
            log(f"generate: reusing {self.extracts}")
            self.report["phases"]["generate"] = {"reused": True}
        else:
            shutil.rmtree(self.extracts, ignore_errors=True)
            log(f"generate: {self.size.customers:,} customers into {self.extracts}")
            figures = self.measured(
                [self.c360, "generate", "--customers", str(self.size.customers), "--seed",
                 str(SEED), "--shape", "bank", "--chunk-size", "10000", "--no-legacy",
                 "--out", str(self.extracts)],
                self.work / "generate.log",
            )  # fmt: skip
            stamp.write_text(json.dumps(wanted))
            self.report["phases"]["generate"] = figures
        rows = {}
        for f in sorted(self.extracts.glob("*/*.csv")):
            if f.parent.name != "ground_truth":
                with open(f, "rb") as fh:
                    rows[f"{f.parent.name}/{f.stem}"] = sum(1 for _ in fh) - 1
        self.report["extract_rows"] = rows
        self.report["extract_rows_total"] = sum(rows.values())
        log(f"generate: {sum(rows.values()):,} source rows")

    def load(self) -> None:
        log("load: fresh graph, then c360 load (full pipeline) …")
        self.fresh_graph()
        report_json = self.work / "load-report.json"
        figures = self.measured(
            [self.c360, "load", str(self.extracts), "--no-progress", "--report-json",
             str(report_json), "--spool", str(self.spool)],
            self.work / "load.log",
            ok=(0, 1),  # 1: loaded, with the planted bad rows refused
        )  # fmt: skip
        figures["loader"] = json.loads(report_json.read_text())
        rows = figures["loader"]["rows_read"]
        figures["rows_per_s"] = round(rows / figures["seconds"], 1)
        figures["graph"] = self.graph_counts()
        self.report["phases"]["load"] = figures
        log(
            f"load: {rows:,} rows in {figures['seconds']:,} s ({figures['rows_per_s']:,} rows/s), "
            f"loader peak {figures['peak_rss_mib']} MiB, Neo4j peak {figures['neo4j_peak_rss_mib']} MiB"
        )

    def delta(self) -> None:
        """The next extract (about 1 % of the rows of six files changed) loaded into the graph
        that the load left: a delta load writes only the changed rows (etl/delta.py)."""
        from bench.delta_extract import change_rows

        changed_dir = self.work / "extracts-delta"
        stamp = changed_dir / ".changed.json"
        if not stamp.exists():
            shutil.rmtree(changed_dir, ignore_errors=True)
            log("delta: the next extract, about 1 % of the rows of six files changed …")
            stamp_text = json.dumps(change_rows(self.extracts, changed_dir))
            stamp.write_text(stamp_text)
        changed = json.loads(stamp.read_text())
        self.start_neo4j()  # `--phases delta` on the graph an earlier run left
        log(f"delta: c360 load of the next extract ({sum(changed.values()):,} rows changed) …")
        report_json = self.work / "delta-report.json"
        figures = self.measured(
            [self.c360, "load", str(changed_dir), "--no-progress", "--report-json",
             str(report_json)],
            self.work / "delta.log",
            ok=(0, 1),
        )  # fmt: skip
        loader = json.loads(report_json.read_text())
        figures |= {
            "loader": loader,
            "rows_changed": changed,
            "rows_read": loader["rows_read"],
            "rows_written": loader["rows_written"],
            "rows_unchanged": loader["rows_unchanged"],
            "delta": loader["delta"],
        }
        self.report["phases"]["delta"] = figures
        log(
            f"delta: {loader['rows_read']:,} rows read, {loader['rows_written']:,} written, "
            f"{loader['rows_unchanged']:,} unchanged in {figures['seconds']:,} s"
        )

    def bulk(self) -> None:
        """The same first load through Neo4j's offline importer (``--bulk-import``): the server
        is stopped for the import and started again, so Neo4j's peak is not this phase's."""
        log("import: fresh graph, then c360 load --bulk-import …")
        self.fresh_graph()
        report_json = self.work / "import-report.json"
        figures = self.measured(
            [self.c360, "load", str(self.extracts), "--no-progress", "--bulk-import",
             "--report-json", str(report_json)],
            self.work / "import.log",
            ok=(0, 1),
        )  # fmt: skip
        figures.pop("neo4j_peak_rss_mib")
        loader = json.loads(report_json.read_text())
        figures["loader"] = loader
        figures |= loader["bulk_import"] or {}
        figures["graph"] = self.graph_counts()
        online = self.report["phases"].get("load")
        if online:
            figures["same_counts_as_online"] = figures["graph"] == online["graph"]
            figures["online_over_import"] = round(online["seconds"] / figures["seconds"], 2)
        self.report["phases"]["import"] = figures
        log(
            f"import: {loader['rows_read']:,} rows in {figures['seconds']:,} s (importer "
            f"{figures.get('import_seconds')} s), loader peak "
            f"{figures.get('loader_peak_rss_mib')} MiB, importer peak "
            f"{figures.get('importer_peak_rss_mib')} MiB"
            + (f" (heap {h})" if (h := figures.get("importer_max_heap")) else "")
            + ", same graph counts as online: "
            f"{figures.get('same_counts_as_online')}"
        )

    def graph_counts(self) -> dict:
        from core.settings import get_settings
        from graph import session
        from graph.driver import create_sync_driver
        from graph.queries import bench as bq

        settings = get_settings()
        with create_sync_driver(settings) as d:
            db = settings.neo4j_database
            nodes = {  # count-store lookups, not scans
                r["label"]: session.rows(d, db, bq.label_count(r["label"]))[0]["n"]
                for r in session.rows(d, db, bq.LABELS)
            }
            rels = session.rows(d, db, bq.RELATIONSHIPS)[0]["n"]
        return {"nodes": nodes, "relationships": rels}

    def score(self) -> None:
        self.start_neo4j()  # `--phases score …` on the graph an earlier run left
        log("score: c360 score …")
        figures = self.measured([self.c360, "score"], self.work / "score.log")
        self.report["phases"]["score"] = figures
        log(f"score: {figures['seconds']:,} s, peak {figures['peak_rss_mib']} MiB")

    def kpis(self) -> None:
        from bench.kpis import measure
        from core.periods import PeriodKind, last_complete
        from core.settings import get_settings
        from graph.driver import create_sync_driver

        self.start_neo4j()
        settings = get_settings()
        # the generated bank's data ends on its as-of date (2026-10-31): its last full quarter
        period = last_complete(PeriodKind.QUARTER, dt.date(2026, 10, 31))
        log(f"kpis: the KPI reads of {period.label}, live and from the snapshots …")
        with create_sync_driver(settings) as driver:
            self.report["phases"]["kpis"] = measure(
                driver, settings, period, repeat=5, live_repeat=1
            )
        bank = self.report["phases"]["kpis"]["reads"]["bank, quarter vs previous"]
        log(
            f"kpis: bank quarter live {bank.get('live', 0):.1f} s, snapshot {bank['snapshot']:.3f} s"
        )

    def api(self) -> None:
        from bench.api_load import run_levels
        from core.settings import get_settings

        self.start_neo4j()
        log(
            f"api: channel mix at {self.size.clients} clients, {self.size.api_seconds} s each, "
            f"{self.api_workers} API worker process(es) …"
        )
        self.report["phases"]["api"] = run_levels(
            get_settings(),
            self.size.clients,
            self.size.api_seconds,
            1_000_000,
            workers=self.api_workers,
            echo=log,
            profile_dir=self.work,
        )
        prof = self.report["phases"]["api"].get("profile_32_clients")
        if prof:
            log(f"api: py-spy profile at 32 clients: {prof['file']}")

    def compare(self) -> None:
        from bench.compare_graphql import run_compare
        from core.settings import get_settings

        clients = tuple(c for c in self.size.clients if c in (8, 32)) or self.size.clients[:1]
        log(
            f"compare: our API and @neo4j/graphql, customer-360 reads at {clients} clients, "
            f"{self.compare_rounds} interleaved rounds of {self.size.api_seconds} s …"
        )
        self.cli("neo4j", "stop", check=False)  # restarted with APOC by the comparison
        self.report["phases"]["compare"] = run_compare(
            get_settings(),
            self.work,
            clients,
            self.size.api_seconds,
            self.compare_rounds,
            echo=log,
            profile_dir=self.work,
        )

    def baseline(self) -> None:
        log("baseline: fresh graph, migration, replay of the loader's batches …")
        self.fresh_graph()
        self.cli("graph", "migrate")
        out = self.work / "baseline.log"
        figures = self.measured([sys.executable, "-m", "bench.etl_baseline", str(self.spool)], out)
        figures |= json.loads(out.read_text().strip().splitlines()[-1])
        load = self.report["phases"].get("load")
        if load:
            figures["loader_over_baseline"] = round(load["seconds"] / figures["seconds"], 2)
        self.report["phases"]["baseline"] = figures
        log(
            f"baseline: {figures['rows']:,} rows in {figures['seconds']:,} s; "
            f"loader / baseline = {figures.get('loader_over_baseline')}"
        )

    def run(self, phases: list[str]) -> None:
        try:
            for phase in PHASES:
                if phase in phases:
                    getattr(self, "bulk" if phase == "import" else phase)()
                    self.save()
        finally:
            self.cli("neo4j", "stop", check=False)
            self.spool.unlink(missing_ok=True)
            self.save()
        log(f"report: {self.json_path} and {self.md_path}")
        print(self.md_path.read_text())


def machine() -> dict:
    from core.memory import meminfo_kib

    mem = meminfo_kib("MemTotal") or 0
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {"cores": os.cpu_count(), "memory_gib": round(mem / 1024 / 1024, 1), "cpu": cpu}


def versions() -> dict:
    from core.settings import get_settings

    out: dict[str, str | None] = {"python": platform.python_version()}
    for pkg in ("neo4j", "strawberry-graphql", "starlette", "uvicorn", "pandas", "authlib"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = None
    found = [
        m
        for cp in get_settings().neo4j_cache_dir.glob("neo4j-runtime-*/classpath.txt")
        for m in re.findall(r"neo4j-kernel-([0-9.]+)\.jar", cp.read_text())
    ]
    out["neo4j_server"] = found[0] if found else None
    try:
        out["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        out["git_commit"] = None
    return out


def markdown(r: dict) -> str:
    m, v = r["machine"], r["versions"]
    lines = [
        f"# Benchmark `{r['size']}`: {r['customers']:,} customers, {r['date']}",
        "",
        f"Machine: {m['cores']} cores, {m['memory_gib']} GiB, {m['cpu']}. Neo4j "
        f"{v.get('neo4j_server')} on the same machine; Python {v['python']}, driver {v['neo4j']}, "
        f"strawberry {v['strawberry-graphql']}; commit {v.get('git_commit')}.",
        f"Command: `{r['command']}`",
        "",
    ]
    p = r["phases"]
    if "extract_rows_total" in r:
        lines.append(f"Source rows: {r['extract_rows_total']:,}")
        lines.append("")
    try:
        lines += [targets.table(r), ""]
    except Exception as exc:  # noqa: BLE001 - the rest of the report is written all the same
        lines += [f"Targets: not evaluated ({exc!r}).", ""]
    if "load" in p:
        ld = p["load"]
        # the baseline's write seconds per entity (runs from 2026-11-23 on have them)
        base = p.get("baseline", {}).get("seconds_by_entity", {})
        lines += [
            "## ETL",
            "",
            "| step | rows read | loaded | rejected | seconds | rows/s | baseline s | ratio |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, e in ld["loader"]["entities"].items():
            b = base.get(name)
            bs, ratio = ("", "") if not b else (f"{b:,}", f"{e['seconds'] / b:.2f}")
            lines.append(
                f"| {name} | {e['read']:,} | {e['loaded']:,} | {e['rejected']:,} "
                f"| {e['seconds']:,} | {e['rows_per_s']:,.0f} | {bs} | {ratio} |"
            )
        tb = p.get("baseline", {}).get("seconds")
        bs, ratio = ("", "") if not tb else (f"{tb:,}", f"{ld['seconds'] / tb:.2f}")
        lines.append(
            f"| **load, end to end** | {ld['loader']['rows_read']:,} | | | {ld['seconds']:,} "
            f"| {ld['rows_per_s']:,.0f} | {bs} | {ratio} |"
        )
        lines.append("")
        lines.append(
            f"Peak RSS: loader {ld['peak_rss_mib']:,} MiB, Neo4j {ld['neo4j_peak_rss_mib']:,} MiB. "
            f"Graph: {sum(ld['graph']['nodes'].values()):,} nodes, "
            f"{ld['graph']['relationships']:,} relationships."
        )
        if "baseline" in p:
            b = p["baseline"]
            lines.append(
                f"Baseline (the same {b['rows']:,} rows as bare UNWIND+MERGE batches): "
                f"{b['seconds']:,} s; **loader / baseline = {b.get('loader_over_baseline')}**."
            )
        if ld["loader"].get("spool_seconds"):
            lines.append(
                f"The loader's time includes {ld['loader']['spool_seconds']:,} s of writing the "
                "batches to the spool the baseline replays (benchmark only)."
            )
        if ld["loader"].get("write_retries"):
            lines.append(
                f"{ld['loader']['write_retries']:,} write transactions ran again after a "
                "transient error (two at once deadlocked)."
            )
        lines.append("")
    if "delta" in p:
        d = p["delta"]
        steps = ", ".join(
            f"{k} {e['seconds']:,} s" for k, e in d["loader"]["entities"].items() if e["read"]
        )
        lines += [
            "## The next extract, 1 % of rows changed (delta load into the loaded graph)",
            "",
            f"{sum(d['rows_changed'].values()):,} rows changed in "
            f"{len(d['rows_changed'])} files; {d['rows_read']:,} rows read, "
            f"{d['rows_written']:,} graph rows written, {d['rows_unchanged']:,} unchanged "
            f"(delta: {d['delta']}): **{d['seconds']:,} s** end to end; loader peak RSS "
            f"{d['peak_rss_mib']:,} MiB. By step: {steps}.",
            "",
        ]
    if "import" in p:
        im = p["import"]
        same = im.get("same_counts_as_online")
        lines += [
            "## First load through the offline importer (`c360 load --bulk-import`)",
            "",
            f"End to end (read, map, validate, resolve, import, constraints, the rows left to "
            f"Cypher, home branches): **{im['seconds']:,} s**"
            + (
                f", {im['online_over_import']}× faster than the online load"
                if same is not None
                else ""
            )
            + f". The importer itself: {im.get('import_seconds')} s for {im.get('nodes', 0):,} "
            f"nodes and {im.get('relationships', 0):,} relationships; "
            f"{im.get('rows_left_to_cypher', 0):,} rows left to Cypher.",
            f"Peak RSS: loader {im.get('loader_peak_rss_mib')} MiB"
            + (
                f" (the higher of its own peak and what it and its files process held at"
                f" once, sampled; the files process alone {fp} MiB)"
                if (fp := im.get("files_process_peak_rss_mib")) is not None
                else ""
            )
            + f", importer {im.get('importer_peak_rss_mib')} MiB"
            + (f" (heap {h})" if (h := im.get("importer_max_heap")) else "")
            + (f" (it suggested {g})" if (g := im.get("importer_suggested_heap")) else "")
            + "."
            + (
                ""
                if same is None
                else f" Node and relationship counts equal the online load's: {same}."
            ),
            "",
        ]
    if "score" in p:
        s = p["score"]
        lines += [
            f"Scoring: {s['seconds']:,} s, peak RSS {s['peak_rss_mib']:,} MiB.",
            "",
        ]
    if "kpis" in p:
        from bench.kpis import table

        lines += ["## Management KPIs", "", table(p["kpis"], r["customers"]), ""]
    if "api" in p:
        lines += [
            "## API (channel mix; raw = the same Cypher through the driver, same concurrency)",
            "",
            f"API worker processes: {p['api'].get('workers', 1)}."
            + _warm_up_note(p["api"].get("warm_up")),
            "",
            "| clients | op | req/s | p50 ms | p95 ms | p99 ms | raw p50 | raw p99 | overhead p50 |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        levels = list(p["api"]["levels"])
        if p["api"].get("profile_only_32"):
            levels.append(p["api"]["profile_only_32"] | {"clients": "32, profiles only"})
        for lv in levels:
            for op, o in lv["ops"].items():
                raw = lv["raw"]["ops"].get(op, {})
                lines.append(
                    f"| {lv['clients']} | {op} | {o['rps']} | {o['p50']} | {o['p95']} | {o['p99']} "
                    f"| {raw.get('p50', '')} | {raw.get('p99', '')} "
                    f"| {lv['overhead_p50'].get(op, '')}× |"
                )
            lines.append(
                f"| {lv['clients']} | **all** | **{lv['rps']}** | | | | raw {lv['raw']['rps']}/s | "
                f"errors {lv['errors']} | RSS {lv['api_rss_mib']} MiB |"
            )
        lines.append("")
        prof = p["api"].get("profile_32_clients")
        if prof:
            lines += _profile_table(
                f"### Where the API process spends its time at 32 clients (py-spy, "
                f"{prof['samples']:,} samples)",
                prof,
            )
    if "compare" in p and p["compare"].get("ratios"):
        from bench.compare_graphql import table as compare_table

        lines += [
            "## Against @neo4j/graphql (customer-360 read of RMs' own customers, one client)",
            "",
            compare_table(p["compare"]),
            "",
        ]
        larger = [
            *(p["compare"].get("larger_answers") or {}).values(),
            *(p["compare"].get("larger_accounts") or {}).values(),
        ]
        profiles = [
            (x["profile_ours"], x.get("accounts"))
            for x in (p["compare"], *larger)
            if "profile_ours" in x
        ]
        for prof, accounts in profiles:
            held = f" and {accounts} accounts" if accounts else ""
            lines += _profile_table(
                f"Where our server spends its time on this read at {prof['clients']} clients, "
                f"{prof.get('interactions', 10)} interactions{held} (py-spy, "
                f"{prof['samples']:,} samples, one more level after the rounds):",
                prof,
            )
    return "\n".join(lines) + "\n"


def _profile_table(title: str, prof: dict) -> list[str]:
    """A py-spy profile's top 15 frames: on the stack and own time, side by side."""
    lines = [title, "", "| on the stack | % | | own time (leaf) | % |", "|---|---:|---|---|---:|"]
    for (inc, ip), (own, op) in zip(
        prof["inclusive_pct"][:15], prof["self_pct"][:15], strict=False
    ):
        lines.append(f"| `{inc}` | {ip} | | `{own}` | {op} |")
    return [*lines, ""]


def _warm_up_note(w: dict | None) -> str:
    if not w:
        return ""
    return (
        f" Before the first level, {w['reads']:,} of the {w['of']:,} distinct reads the levels"
        f" make (every sample customer's profile and network, each search prefix, the RM's"
        f" at-risk page) ran once as raw Cypher, {w['seconds']} s"
        + (
            ", so no level meets a cold page cache."
            if w["reads"] == w["of"]
            else "; it stopped at its time limit, so the first level may still meet cold pages."
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=SIZES, default="small")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--work", type=Path, help="work folder (default .c360/bench/<size>)")
    ap.add_argument("--phases", nargs="+", choices=PHASES, default=list(PHASES))
    ap.add_argument("--api-seconds", type=float, help="seconds per API level (default: the size's)")
    ap.add_argument("--api-workers", type=int, default=1, help="API worker processes (c360 serve)")
    ap.add_argument(
        "--compare-rounds", type=int, default=3, help="interleaved rounds of the compare phase"
    )
    args = ap.parse_args()
    work = args.work or ROOT / ".c360" / "bench" / args.size
    bench = Bench(args.size, args.out, work.resolve())
    if args.api_seconds:
        bench.size = replace(bench.size, api_seconds=args.api_seconds)
    bench.api_workers = args.api_workers
    bench.compare_rounds = args.compare_rounds
    bench.run(args.phases)


if __name__ == "__main__":
    main()
