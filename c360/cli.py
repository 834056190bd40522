"""The one command line: ``c360 --help``."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from neo4j import Driver
from rich.console import Console
from rich.markup import escape

from core.settings import Settings, get_settings

if TYPE_CHECKING:
    from graph.local_server import Fetched

app = typer.Typer(
    help="Customer Graph 360: a bank's customers as one graph behind a role-secured GraphQL API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
neo4j_app = typer.Typer(
    help="The local Neo4j 5.26 server (development and tests).", no_args_is_help=True
)
graph_app = typer.Typer(help="The graph schema.", no_args_is_help=True)
documents_app = typer.Typer(
    help="Trusted documents: the persisted operations the API runs with TRUSTED_DOCUMENTS=true.",
    no_args_is_help=True,
)
app.add_typer(neo4j_app, name="neo4j")
app.add_typer(graph_app, name="graph")
app.add_typer(documents_app, name="documents")

console = Console(stderr=True)


@contextlib.contextmanager
def _connected(settings: Settings) -> Iterator[Driver]:
    """A verified driver for a command, or a clear exit saying why the graph cannot be reached."""
    from graph.driver import GraphUnavailable, create_sync_driver, verify

    with create_sync_driver(settings) as driver:
        try:
            verify(driver, settings)
        except GraphUnavailable as exc:
            _fail(str(exc))
        yield driver


def _fail(message: str, code: int = 2) -> NoReturn:
    # (the message is text, not markup: a value or a log line may hold brackets)
    console.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def _settings() -> Settings:
    """The configuration (environment variables, ``.env``), as a command reads it: a value it
    cannot take fails the command naming the variable, not with a traceback. Commands that need
    no configuration (and ``--help``) never read it."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    try:
        return get_settings()
    except ValidationError as exc:
        said = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            where = error["loc"]
            said.append(f"{str(where[0]).upper()}: {message}" if where else message)
        _fail("configuration: " + "; ".join(said))
    except SettingsError as exc:  # (a value that is not the JSON a list or map is read from)
        field = re.search(r'field "([^"]+)"', str(exc))
        name = field.group(1).upper() if field else "a variable"
        _fail(
            f"configuration: {name}: its value cannot be read (a list or a map is written as "
            'JSON, e.g. ["https://a.example", "https://b.example"])'
        )


@contextlib.contextmanager
def _download_progress() -> Iterator[Callable[[Fetched], None]]:
    """Maven's downloads as they happen: files and megabytes fetched, and the latest file.

    A live line on a terminal; elsewhere (make test's log, CI) a plain line every 10 seconds.
    """
    import time

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from graph.local_server import FIRST_DOWNLOAD_MB

    def line(fetched: Fetched) -> str:
        return (
            f"Maven: {fetched.files} files, {fetched.bytes / 1e6:.1f} MB of about "
            f"{FIRST_DOWNLOAD_MB} MB"
        )

    if not console.is_terminal:
        last = [time.monotonic()]

        def print_now_and_then(fetched: Fetched) -> None:
            if time.monotonic() - last[0] >= 10:
                last[0] = time.monotonic()
                console.print(
                    f"{line(fetched)} (latest {fetched.last})", highlight=False, soft_wrap=True
                )

        yield print_now_and_then
        return
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("Maven: resolving", total=None)
        yield lambda fetched: progress.update(
            task, description=f"{line(fetched)} [dim]{fetched.last[:48]}[/]"
        )


@neo4j_app.command("prepare")
def neo4j_prepare() -> None:
    """Download Neo4j's jars (once, about 150 MB) and compile the launcher; nothing is started.

    `make test` and `make demo` run it first. Example: `c360 neo4j prepare`.
    """
    from graph import local_server

    settings = _settings()
    if not settings.uses_local_server:
        console.print(f"NEO4J_URI is set ({settings.neo4j_uri}): no local runtime needed.")
        return
    if local_server.runtime_ready(settings):
        console.print("The local Neo4j runtime is ready (nothing to download).")
        return
    try:
        with _download_progress() as on_fetch:
            local_server.prepare(settings, echo=console.print, on_fetch=on_fetch)
    except local_server.LocalServerError as exc:
        _fail(str(exc))


@neo4j_app.command("start")
def neo4j_start(
    stop_with: Annotated[
        int | None,
        typer.Option(
            "--stop-with",
            metavar="PID",
            help="Stop the server by itself when process PID ends (however it ends).",
        ),
    ] = None,
) -> None:
    """Fetch (first time), start and wait for the local Neo4j. Example: `c360 neo4j start`."""
    from graph import local_server

    settings = _settings()
    if not settings.uses_local_server:
        console.print(
            f"NEO4J_URI is set ({settings.neo4j_uri}): using that server, nothing to start."
        )
        return
    try:
        if not local_server.runtime_ready(settings):
            with _download_progress() as on_fetch:
                local_server.prepare(settings, echo=console.print, on_fetch=on_fetch)
        st = local_server.start(settings, echo=console.print, stop_with_pid=stop_with)
    except local_server.LocalServerError as exc:
        _fail(str(exc))
    console.print(f"Neo4j {st.describe()}")


@neo4j_app.command("stop")
def neo4j_stop() -> None:
    """Shut the local Neo4j down cleanly; its data is kept. Example: `c360 neo4j stop`."""
    from graph import local_server

    settings = _settings()
    try:
        stopped = local_server.stop(settings)
    except local_server.LocalServerError as exc:
        _fail(str(exc))
    console.print("Neo4j stopped." if stopped else "Neo4j was not running.")


@neo4j_app.command("status")
def neo4j_status() -> None:
    """Whether the local Neo4j runs, where, and which version. Exit 0 running, 3 stopped."""
    from graph import local_server

    settings = _settings()
    if not settings.uses_local_server:
        console.print(f"NEO4J_URI is set: using {settings.neo4j_uri} (not managed here).")
        return
    st = local_server.status(settings)
    typer.echo(f"Neo4j {st.describe()}")
    if not st.running:
        raise typer.Exit(3)


@graph_app.command("migrate")
def graph_migrate() -> None:
    """Create every constraint and index of the model (idempotent). Example: `c360 graph migrate`."""
    from graph import migrate

    settings = _settings()
    with _connected(settings) as driver:
        count = migrate.apply(driver, database=settings.neo4j_database)
        names = migrate.describe(driver, database=settings.neo4j_database)
    console.print(
        f"Applied {count} schema statements: {len(names['constraints'])} constraints, "
        f"{len(names['indexes'])} indexes online."
    )


@app.command("sample")
def load_sample() -> None:
    """Load the minimal sample bank (3 customers, 5 accounts, 1 household). Example: `c360 sample`."""
    from etl.sample import load_sample as load
    from graph import migrate

    settings = _settings()
    with _connected(settings) as driver:
        migrate.apply(driver, database=settings.neo4j_database)
        counts = load(driver, database=settings.neo4j_database)
    console.print("Sample loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@app.command("generate")
def generate(
    customers: int = typer.Option(2000, help="number of people in the bank"),
    seed: int = typer.Option(42, help="random seed: the same seed writes the same files"),
    out: Annotated[Path, typer.Option(help="folder to write the extracts to")] = Path(".c360/bank"),
    parquet: bool = typer.Option(False, "--parquet", help="write Parquet instead of CSV"),
    as_of: str = typer.Option("2026-10-31", help="the date the extracts are as of"),
    chunk_size: int = typer.Option(5000, help="people generated (and held in memory) at a time"),
    shape: str = typer.Option(
        "demo",
        help="demo: ~0.13 households and ~2 interactions per customer; "
        "bank: ~0.3 households and ~5 interactions per customer (the benchmark's bank)",
    ),
    legacy: bool = typer.Option(
        True,
        help="also write the legacy subsidiary's extracts (legacy/: semicolons, GB18030, "
        "birth numbers, HKD amounts; loaded by the SQL mapping etl/mappings/legacy.yaml)",
    ),
) -> None:
    """Write a synthetic bank as core/card/crm/legacy extracts plus ground truth.

    Example: `c360 generate --customers 10000 --seed 7 --out /tmp/bank --parquet`
    """
    from rich.progress import Progress

    from synthetic import GenerateOptions, generate_bank

    shapes = {"demo": {}, "bank": {"household_share": 0.83, "interaction_mean": 6.5}}
    if shape not in shapes:
        raise typer.BadParameter(f"unknown shape {shape!r}: one of {', '.join(shapes)}")
    opts = GenerateOptions(
        **shapes[shape],
        customers=customers,
        seed=seed,
        out=out,
        parquet=parquet,
        as_of=dt.date.fromisoformat(as_of),
        chunk_size=chunk_size,
        legacy=legacy,
    )
    with Progress(console=console) as progress:
        task = progress.add_task("people", total=customers)
        written = generate_bank(opts, on_chunk=lambda n: progress.advance(task, n))
    console.print(
        f"Wrote {sum(written.values()):,} rows to {out}: "
        + ", ".join(f"{k} {v:,}" for k, v in written.items())
    )


@app.command("load")
def load(
    directory: Annotated[Path, typer.Argument(help="folder with one sub-folder per source system")],
    source_system: str = typer.Option(None, help="load only this system's sub-folder"),
    mapping: Annotated[
        Path | None, typer.Option(help="mapping YAML to use instead of etl/mappings/<system>.yaml")
    ] = None,
    batch_size: int = typer.Option(
        None, help="rows per write transaction (default LOAD_BATCH_SIZE)"
    ),
    rejects_dir: Annotated[
        Path | None, typer.Option(help="where refused rows go (default .c360/rejects/<run_id>)")
    ] = None,
    progress: bool = typer.Option(True, help="show progress bars"),
    report_json: Annotated[
        Path | None, typer.Option(help="also write the run's figures to this JSON file")
    ] = None,
    spool: Annotated[
        Path | None,
        typer.Option(help="also write every batch to this file (the benchmark's ETL baseline)"),
    ] = None,
    allow_shrink: bool = typer.Option(
        False,
        "--allow-shrink",
        help="load files with far fewer rows than their previous load (LOAD_SHRINK_TOLERANCE); "
        "a file cut mid-row is refused all the same",
    ),
    identity_config: Annotated[
        Path | None,
        typer.Option(
            "--identity-config",
            help="identity resolution config to use instead of etl/mappings/identity.yaml",
        ),
    ] = None,
    full: bool = typer.Option(
        False,
        "--full",
        help="write every row, changed or not (by default a load after a successful one writes "
        "only the rows whose content changed)",
    ),
    bulk_import: bool = typer.Option(
        False,
        "--bulk-import",
        help="a first load into an empty local graph through Neo4j's offline importer (the "
        "server is stopped during the import and started again); otherwise it loads online",
    ),
) -> None:
    """Load source extracts into the graph; resumable, idempotent; after a first load, only the
    rows whose content changed are written (delta; `--full` writes every row).

    Each system's files are views of an in-process DuckDB and each entity of its mapping a
    query (a file's rows, or the mapping's SQL). Every mapping and file is checked first: a
    missing system folder or file, a query naming what the folder does not hold, columns that are
    not the mapped ones, an empty, cut, unreadable or wrongly encoded file, a mismatch with the
    system folder's manifest.json, or a file far shorter than its previous load fails the load
    before anything is written. A file or query whose rows are all refused fails it too.

    Exit codes: 0 loaded, 1 loaded with rejected rows, 2 failed (re-run the same command to resume).
    Example: `c360 load .c360/bank` or `c360 load /tmp/x --source-system legacy --mapping legacy.yaml`
    """
    import logging

    from etl.loader import EXIT_FAILED, Loader, LoadError, LoadOptions
    from etl.mapping import MappingError
    from etl.summary import load_summary
    from graph.driver import GraphUnavailable, create_sync_driver, verify

    # "unknown property key" notices on a fresh graph are noise for a loader
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    settings = _settings()
    opts = LoadOptions(
        directory=directory,
        source_system=source_system,
        mapping_file=mapping,
        batch_size=batch_size or settings.load_batch_size,
        rejects_dir=rejects_dir,
        show_progress=progress,
        spool=spool,
        allow_shrink=allow_shrink,
        identity_config=identity_config,
        full=full,
        bulk_import=bulk_import,
    )
    with create_sync_driver(settings) as driver:
        try:
            verify(driver, settings)
            result = Loader(driver, settings, opts, console).run()
        except (GraphUnavailable, LoadError, MappingError, OSError) as exc:
            _fail(str(exc), EXIT_FAILED)
        except Exception as exc:  # the LoadRun records it; the same command resumes
            _fail(f"load failed: {type(exc).__name__}: {exc}", EXIT_FAILED)
    console.print(load_summary(result))
    if report_json:
        report_json.write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
    raise typer.Exit(result.exit_code)


@app.command("er-report")
def er_report(
    directory: Annotated[
        Path, typer.Argument(help="a generated bank (with ground_truth/) that was loaded")
    ],
) -> None:
    """Pairwise precision, recall and F1 of identity resolution in the graph against the ground truth.

    Example: `c360 er-report .c360/bank`
    """
    from etl.er_report import score_graph

    settings = _settings()
    with _connected(settings) as driver:
        s = score_graph(driver, directory, database=settings.neo4j_database)
    typer.echo(
        f"records {s.records:,}  true pairs {s.true_pairs:,}  predicted pairs {s.predicted_pairs:,}  "
        f"true positives {s.true_positives:,}\n"
        f"precision {s.precision:.4f}  recall {s.recall:.4f}  F1 {s.f1:.4f}"
    )


@app.command("er-review")
def er_review(
    run_id: str = typer.Argument(None, help="load run (default: the latest)"),
    limit: int = typer.Option(50, help="pairs to show"),
) -> None:
    """List the uncertain identity pairs a load did not merge. Example: `c360 er-review`"""
    import csv

    from rich.table import Table

    settings = _settings()
    root = settings.rejects_root
    runs = sorted((p for p in root.glob("*/er_review.csv")), key=lambda p: p.stat().st_mtime)
    path = root / run_id / "er_review.csv" if run_id else (runs[-1] if runs else None)
    if path is None or not path.exists():
        _fail(f"no review list under {root}", 1)
    table = Table(title=f"Uncertain pairs ({path})")
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for col in rows[0].keys() if rows else ["(none)"]:
        table.add_column(col)
    for row in sorted(rows, key=lambda r: -float(r["probability"]))[:limit]:
        table.add_row(*row.values())
    Console().print(table)
    console.print(f"{len(rows)} pairs in all")


@app.command("dq")
def data_quality(
    as_json: bool = typer.Option(False, "--json", help="print the figures as JSON instead"),
) -> None:
    """Customer data quality: completeness per field and source against the 98 % target, the
    identity review backlog and the newest load's refusals. Example: `c360 dq`"""
    import dataclasses

    from rich.table import Table

    from core.quality import quality_config
    from graph.queries import quality as q

    settings = _settings()
    cfg = quality_config()
    with _connected(settings) as driver:
        records, _, _ = driver.execute_query(
            q.DATA_QUALITY, q.parameters(cfg), database_=settings.neo4j_database, routing_="r"
        )
    r = q.report(records[0].data() if records else None, cfg)
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(r), indent=2, ensure_ascii=False))
        return

    def pct(share: float | None) -> str:
        if share is None:
            return "-"
        text = f"{share * 100:.1f} %"
        return text if share >= r.target else f"[red]{text} ✗[/red]"

    systems = sorted({s for f in r.fields for s in f.by_source})
    table = Table(
        title=f"Customer data completeness ({r.customers:,} customers; target "
        f"{r.target * 100:.0f} %, below it in red)"
    )
    table.add_column("field")
    table.add_column("golden", justify="right")
    for system in systems:
        table.add_column(system, justify="right")
    for f in r.fields:
        table.add_row(f.name, pct(f.completeness), *(pct(f.by_source.get(s)) for s in systems))
    table.add_row("[b]all fields[/b]", pct(r.overall), *([""] * len(systems)))
    out = Console()
    out.print(table)
    out.print(
        f"identity: {r.review_pairs:,} pairs waiting for review; "
        f"{r.merged_last_load:,} records merged by the newest load ({r.last_load_run or 'none'})"
    )
    if r.rejects_by_reason or r.warnings_by_reason:
        rejects = Table(title="The newest load's refusals and warnings")
        rejects.add_column("kind")
        rejects.add_column("reason code")
        rejects.add_column("rows", justify="right")
        for kind, counts in (("refused", r.rejects_by_reason), ("warning", r.warnings_by_reason)):
            for code, rows in sorted(counts.items(), key=lambda kv: -kv[1]):
                rejects.add_row(kind, code, f"{rows:,}")
        out.print(rejects)


@app.command("kpis")
def kpis_command(
    scope: str = typer.Option(
        "bank", help="bank, branch:<branch id> or rm:<employee id>", show_default=True
    ),
    period: str = typer.Option(
        None,
        help="2026Q3, 2026H1, 2026 or 2026-07-01..2026-09-30 (default: the last complete quarter)",
    ),
    as_json: bool = typer.Option(False, "--json", help="print the figures as JSON instead"),
    live: bool = typer.Option(
        False, "--live", help="count now rather than read the last scoring run's snapshot"
    ),
) -> None:
    """The bank's service targets for a scope and period, against the period before, as the
    API's `kpis` gives them. Example: `c360 kpis --scope branch:BR0001 --period 2026Q3`"""
    import asyncio

    from rich.table import Table

    from core.errors import BadUserInput
    from core.periods import PeriodKind, last_complete, parse
    from resolvers import kpis as k

    kind, _, scope_id = scope.partition(":")
    kinds = {
        "bank": k.KpiGroups.BANK,
        "branch": k.KpiGroups.BRANCH,
        "rm": k.KpiGroups.RELATIONSHIP_MANAGER,
    }
    if kind not in kinds or (kind == "bank") != (scope_id == ""):
        _fail(f"--scope: {scope!r} is not bank, branch:<branch id> or rm:<employee id>")
    now = dt.datetime.now(dt.UTC)
    try:
        when = (
            parse(period, argument="--period")
            if period
            else last_complete(PeriodKind.QUARTER, now.date())
        )
    except BadUserInput as exc:
        _fail(str(exc))
    settings = _settings()

    async def counted() -> k.KpiReport:
        from graph.driver import create_async_driver

        driver = create_async_driver(settings)
        try:
            return await k.kpis(
                k.DriverReader(driver, settings),
                scope=kinds[kind],
                scope_id=scope_id or None,
                period=when,
                compare=True,
                live=live,
                now=now,
            )
        finally:
            await driver.close()

    with _connected(settings):  # a clear exit when the graph cannot be reached
        pass
    r = asyncio.run(counted())
    if as_json:
        figures = {
            f.definition.code: {
                "value": f.value,
                "target": f.definition.target,
                "targetChangePct": f.definition.target_change_pct,
                "met": f.met,
                "previous": f.previous,
                "unit": f.definition.unit,
            }
            for f in r.figures
        }
        typer.echo(
            json.dumps(
                {
                    "scope": scope,
                    "period": when.label,
                    "source": r.source.value,
                    "computedAt": r.computed_at.isoformat(),
                    "kpis": figures,
                },
                indent=2,
            )
        )
        return

    def shown(value: float | None, unit: str) -> str:
        if value is None:
            return "-"
        return {"pct": f"{value:.1f} %", "hours": f"{value:.1f} h", "cny": f"{value:,.0f}"}.get(
            unit, f"{value:,.2f}".rstrip("0").rstrip(".")
        )

    table = Table(
        title=f"KPIs of {scope}, {when.label} ({when.start}..{when.end}); previous "
        f"{when.previous().label}; misses in red",
        caption=f"{r.source.value.lower()}: counted {r.computed_at:%Y-%m-%d %H:%M} UTC"
        + (" by the last scoring run" if r.source is k.KpiSource.SNAPSHOT else ""),
    )
    for col in ("KPI", "value", "target", "previous", ""):
        table.add_column(col, justify="left" if col == "KPI" else "right")
    for f in r.figures:
        d = f.definition
        value = shown(f.value, d.unit)
        arrow = ""
        if f.value is not None and f.previous is not None:
            arrow = "↑" if f.value > f.previous else "↓" if f.value < f.previous else "→"
        target = (
            f"{'+' if d.better == 'higher' else '-'}{d.target_change_pct:g} % vs previous"
            if d.target_change_pct is not None
            else ""
            if d.target is None
            else ("≥ " if d.better == "higher" else "≤ ") + shown(d.target, d.unit)
        )
        table.add_row(
            d.code + (" (live)" if d.live else ""),
            f"[red]{value}[/red]" if f.met is False else value,
            target,
            shown(f.previous, d.unit),
            arrow,
        )
    Console().print(table)


@app.command("er-train")
def er_train(
    directory: Annotated[
        Path | None,
        typer.Argument(help="folder of extracts, one sub-folder per system (default: the graph)"),
    ] = None,
    source_system: str = typer.Option(None, help="train on this system's sub-folder only"),
    mapping: Annotated[
        Path | None, typer.Option(help="mapping YAML to use instead of etl/mappings/<system>.yaml")
    ] = None,
    identity_config: Annotated[
        Path | None, typer.Option(help="identity YAML (default etl/mappings/identity.yaml)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="model file (default .c360/er-model.json, what loads use)")
    ] = None,
) -> None:
    """Estimate the identity-resolution model without labels and print its match weights.

    u by random sampling of record pairs, m by expectation maximisation on the EM blocks of
    identity.yaml; saved as a versioned JSON file that `c360 load` then uses. Without a model, a
    load trains one on its own records (or, for a few records, uses the shipped
    etl/mappings/er-model.json). Example: `c360 er-train .c360/bank`
    """
    from rich.table import Table

    from etl.identity import IdentityConfigError, load_identity_config
    from etl.linkage_model import level_weights, model_path
    from etl.linkage_train import train_on_folder, train_on_graph
    from etl.loader import LoadOptions
    from etl.mapping import MappingError

    settings = _settings()
    try:
        cfg = load_identity_config(identity_config)
    except (IdentityConfigError, OSError) as exc:
        _fail(str(exc))
    path = out or model_path(settings.c360_home, cfg)
    echo = lambda line: console.print(line, highlight=False)  # noqa: E731
    try:
        if directory is None:
            with _connected(settings) as driver:
                model = train_on_graph(driver, settings.neo4j_database, cfg, echo)
        else:
            if not directory.is_dir():
                _fail(f"{directory} is not a folder of extracts")
            opts = LoadOptions(
                directory=directory,
                source_system=source_system,
                mapping_file=mapping,
                identity_config=identity_config,
            )
            model = train_on_folder(opts, cfg, settings.id_pepper.get_secret_value(), echo)
    except (MappingError, ValueError, OSError) as exc:
        _fail(str(exc))
    model.save(path)
    table = Table(title=f"Match weights ({model.meta['records']:,} records; saved to {path})")
    for col in ("comparison", "level", "m", "u", "match weight"):
        table.add_column(col, justify="right" if col in ("m", "u", "match weight") else "left")
    for name, level, m, u, weight in level_weights(model):
        table.add_row(
            name,
            level,
            "-" if m is None else f"{m:.4f}",
            "-" if u is None else f"{u:.6f}",
            "untrained" if weight is None else f"{weight:+.2f}",
        )
    Console().print(table)
    prior = model.splink.get("probability_two_random_records_match")
    console.print(f"probability that two random records match: {prior:.3g}")


@app.command("score")
def score(
    config: Path = typer.Option(None, help="scoring config (default scoring/scoring.toml)"),
    as_of: str = typer.Option(
        None, help="score as of this date (default: the newest month-end in the data scored)"
    ),
    customer: list[str] = typer.Option(None, help="score only these customer ids (repeatable)"),
    system: str = typer.Option(
        None, "--system", help="score only the customers with records of this source system"
    ),
    run: str = typer.Option(
        None,
        "--run",
        help="score only the customers this load run wrote anything of (records, accounts "
        "held, holdings, memberships, referrals, interactions)",
    ),
    batch_size: int = typer.Option(2000, min=100, max=50_000),
    kpi_snapshots: bool = typer.Option(
        True,
        "--kpi-snapshots/--no-kpi-snapshots",
        help="then count the management KPIs of the standard periods for the API to read "
        "(scoring/kpi_snapshots.py)",
    ),
) -> None:
    """Score value, tier and risks of every customer (or some), then snapshot the management
    KPIs. Example: `c360 score`, `c360 score --system legacy`,
    `c360 score --run 20261201T020000Z-1a2b3c`."""
    import datetime as dt

    from rich.progress import Progress, TaskID
    from rich.table import Table

    from graph import migrate
    from scoring.config import load_config
    from scoring.job import ScoringError, run_scoring
    from scoring.kpi_snapshots import write_snapshots

    settings = _settings()
    try:
        cfg = load_config(config)
        day = dt.date.fromisoformat(as_of) if as_of else None
    except (OSError, ValueError, KeyError) as exc:
        _fail(f"bad option: {exc}")
    if sum(bool(x) for x in (customer, system, run)) > 1:
        _fail("bad option: give one of --customer, --system and --run")
    with _connected(settings) as driver:
        migrate.apply(driver, database=settings.neo4j_database)
        with Progress(console=console, transient=True) as bar:
            tasks: dict[str, TaskID] = {}

            def tick(stage: str, n: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=None)
                bar.advance(tasks[stage], n)

            try:
                summary = run_scoring(
                    driver,
                    database=settings.neo4j_database,
                    cfg=cfg,
                    as_of=day,
                    ids=customer or None,
                    system=system or None,
                    run_id=run or None,
                    batch_size=batch_size,
                    progress=tick,
                )
            except ScoringError as exc:
                _fail(str(exc))
            snapshots = (
                write_snapshots(
                    driver, database=settings.neo4j_database, settings=settings, progress=tick
                )
                if kpi_snapshots
                else None
            )
    table = Table(
        title=f"Scored {summary.customers} customers as of {summary.as_of} "
        f"({summary.as_of_basis}) in {summary.seconds}s; amounts in {summary.reporting_currency}"
    )
    for col in ("", "counts"):
        table.add_column(col)
    for name, counts in (
        ("tier", summary.tiers),
        ("downgrade risk", summary.downgrade),
        ("churn risk", summary.churn),
        ("lifecycle", summary.lifecycle),
    ):
        table.add_row(name, ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    table.add_row("tier changes", str(summary.tier_changes))
    if snapshots is not None:
        table.add_row(
            "KPI snapshots",
            f"{snapshots.snapshots:,} (groups x periods, {snapshots.periods} periods) in "
            f"{snapshots.seconds:.1f}s",
        )
    console.print(table)
    if not summary.interaction_source:
        console.print("No interactions in the data scored: churn and activity leave them out.")
    for currency, n in sorted(summary.unconverted.items()):
        console.print(
            f"[yellow]warning:[/] {n} customers hold {currency} accounts with no FX rate on or "
            f"before {summary.as_of}: left out of their AUM (aum_unconverted_currencies); load "
            f"an fx_rates extract with {currency}"
        )


@app.command("token")
def token(
    role: str = typer.Option(
        ...,
        help="customer, channel_service, relationship_manager, "
        "branch_manager, data_engineer, auditor or admin",
    ),
    employee: str = typer.Option(
        None, "--employee", help="employee_id claim (relationship_manager)"
    ),
    customer: str = typer.Option(None, "--customer", help="customer_id claim (customer)"),
    branch: str = typer.Option(None, "--branch", help="branch_id claim (branch_manager)"),
    subject: str = typer.Option(None, help="sub claim (default dev-ROLE)"),
    ttl: str = typer.Option("1h", help="lifetime: 90s, 15m, 1h, 2d"),
) -> None:
    """Print an HS256 development token (refused in production).

    Example: `c360 token --role relationship_manager --employee E0001 --ttl 1h`
    """
    from auth.policy import ROLES, Role
    from auth.tokens import DevTokenRequest, issue_dev_token, parse_ttl

    settings = _settings()
    if not settings.hs256_secret:
        _fail("development tokens are refused in production (C360_ENV=production)")
    try:
        chosen = Role(role)
    except ValueError:
        _fail(f"unknown role {role!r}; one of: {', '.join(r.value for r in Role)}")
    try:
        ttl_s = parse_ttl(ttl)
    except ValueError:
        _fail(f"bad --ttl {ttl!r}; use e.g. 90s, 15m, 1h, 2d")
    request = DevTokenRequest(
        role=chosen,
        subject=subject,
        employee_id=employee,
        customer_id=customer,
        branch_id=branch,
        ttl_s=ttl_s,
    )
    missing = [c for c in ROLES[chosen].requires_claims if not getattr(request, c)]
    if missing:
        flag = {"employee_id": "--employee", "customer_id": "--customer", "branch_id": "--branch"}
        _fail(f"role {chosen.value} needs {', '.join(flag[m] for m in missing)}")
    typer.echo(issue_dev_token(settings, request))


@app.command("serve")
def serve(
    host: str = typer.Option(None, help="bind address (default API_HOST)"),
    port: int = typer.Option(None, help="port (default API_PORT)"),
    workers: int = typer.Option(None, min=1, max=64, help="worker processes (default API_WORKERS)"),
) -> None:
    """Serve the GraphQL API (GraphiQL in development). Example: `c360 serve --port 8000`.

    The API is stateless: several workers (or replicas) share the load. Each worker has its own
    driver and its own in-process rate-limit buckets. A connection whose request headers lag
    more than API_HEADER_TIMEOUT_S is closed; X-Forwarded-For/-Proto are believed only from
    TRUSTED_PROXIES (none by default: uvicorn's own default trusts any local process).
    """
    import uvicorn

    from c360.app import serving_app
    from c360.http.middleware import http_protocol
    from graph.driver import GraphUnavailable

    settings = _settings()
    host = host or settings.api_host
    port = port or settings.api_port
    workers = workers or settings.api_workers
    console.print(
        f"Customer Graph 360 API on http://{host}:{port}/graphql with {workers} worker(s) "
        f"(graph: {settings.bolt_uri})"
    )
    protocol = http_protocol()
    proxies = settings.trusted_proxies
    try:
        if workers > 1:  # each worker process builds its own app from the environment
            uvicorn.run(
                "c360.app:serving_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level="info",
                http=protocol,
                proxy_headers=bool(proxies),
                forwarded_allow_ips=proxies,
            )
        else:
            uvicorn.run(
                serving_app(settings),
                host=host,
                port=port,
                log_level="info",
                http=protocol,
                proxy_headers=bool(proxies),
                forwarded_allow_ips=proxies,
            )
    except GraphUnavailable as exc:
        _fail(str(exc))


@app.command("export-schema")
def export_schema(
    check: bool = typer.Option(False, help="fail if schema/schema.graphql differs"),
) -> None:
    """Write the GraphQL SDL to schema/schema.graphql (or check it is current)."""
    from schema import SDL_PATH, sdl

    text = sdl()
    if check:
        if not SDL_PATH.exists() or SDL_PATH.read_text() != text:
            _fail("schema/schema.graphql is out of date: run `c360 export-schema`", 1)
        return
    SDL_PATH.write_text(text)
    console.print(f"Wrote {SDL_PATH}")


@documents_app.command("register")
def documents_register(
    manifest: Annotated[
        Path, typer.Argument(help="an Apollo persisted-query manifest (JSON)", exists=True)
    ],
) -> None:
    """Register a manifest's operations in the graph, where every API replica finds them.

    Each operation is checked first (its id is its body's SHA-256, one operation of the named
    type, valid against the current schema); if any is not, nothing is registered and each
    problem is named. Example: `c360 documents register persisted-query-manifest.json`."""
    from c360.documents import ManifestError, read_manifest
    from graph import migrate
    from graph.queries.documents import REGISTER
    from graph.session import rows
    from schema import build_schema

    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        _fail(f"{manifest} is not JSON: {exc}")
    try:
        documents = read_manifest(data, build_schema(introspection=False)._schema)
    except ManifestError as exc:
        for problem in exc.problems:
            console.print(f"[bold red]refused:[/] {problem}")
        _fail(f"{manifest}: nothing registered ({len(exc.problems)} problem(s))")
    settings = _settings()
    with _connected(settings) as driver:
        migrate.apply(driver, database=settings.neo4j_database)
        [result] = rows(
            driver,
            settings.neo4j_database,
            REGISTER,
            documents=[d.manifest_entry() for d in documents],
            now=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            manifest=manifest.name,
        )
    console.print(
        f"Registered {result['registered']} operations from {manifest.name} "
        f"({result['added']} new); the API replicas pick them up on first use."
    )


@documents_app.command("list")
def documents_list(
    as_json: bool = typer.Option(False, "--json", help="print an Apollo manifest instead"),
) -> None:
    """The registered operations: id, type, name and the manifest they came from."""
    from c360.documents import Document, manifest
    from graph.queries.documents import LIST
    from graph.session import rows

    settings = _settings()
    with _connected(settings) as driver:
        found = rows(driver, settings.neo4j_database, LIST, limit=100_000)
    if as_json:
        docs = [Document(id=r["id"], name=r["name"], type=r["type"], body=r["body"]) for r in found]
        typer.echo(json.dumps(manifest(docs), ensure_ascii=False, indent=2))
        return
    for r in found:
        typer.echo(
            f"{r['id']}  {r['type']:<8}  {r['name']}  ({r['manifest']}, {r['registered_at']})"
        )
    console.print(f"{len(found)} registered operations")


@documents_app.command("remove")
def documents_remove(
    ids: Annotated[list[str], typer.Argument(help="ids (SHA-256) of registered documents")],
) -> None:
    """Stop trusting registered operations: each API replica stops running them at its next
    reload of the registered documents (on a miss, at most every few seconds, or a restart).
    Example: `c360 documents remove 3f2a…`."""
    from c360.documents import is_sha256
    from graph.queries.documents import REMOVE
    from graph.session import rows

    bad = [i for i in ids if not is_sha256(i)]
    if bad:
        _fail(f"not a document id (64 hex digits): {', '.join(bad)}")
    settings = _settings()
    with _connected(settings) as driver:
        [result] = rows(driver, settings.neo4j_database, REMOVE, ids=ids)
    missing = sorted(set(ids) - set(result["removed"]))
    console.print(f"Removed {len(result['removed'])} registered operations.")
    if missing:
        _fail(f"not registered: {', '.join(missing)}", 1)


@documents_app.command("manifest")
def documents_manifest(
    sources: Annotated[
        list[Path],
        typer.Argument(help="JavaScript sources or bundles to extract from", exists=True),
    ],
) -> None:
    """Print an Apollo manifest of the GraphQL operations the given files send: in JavaScript
    each string literal that is an operation valid against the schema, in Markdown (``.md``)
    each operation of a ```graphql block and each curl ``-d '{"query": ...}'``. Example:
    `c360 documents manifest console/dist/main.js README.md > manifest.json`."""
    from c360.documents import documents_in_javascript, documents_in_markdown, manifest
    from schema import build_schema

    schema = build_schema(introspection=False)._schema
    found = {}
    for source in sources:
        text = source.read_text(encoding="utf-8")
        extract = documents_in_markdown if source.suffix == ".md" else documents_in_javascript
        for document in extract(text, schema):
            found[document.id] = document
    typer.echo(json.dumps(manifest(found.values()), ensure_ascii=False, indent=2))
    console.print(f"{len(found)} operations found in {', '.join(map(str, sources))}")


def main() -> None:  # pragma: no cover
    sys.exit(app())
