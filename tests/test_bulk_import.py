"""A first load through Neo4j's offline importer (``c360 load --bulk-import``) leaves the graph
the online path leaves: the same nodes, relationships and properties, of the same types.

It runs on a Neo4j server of its own (the import stops and starts it), on a bank generated with
the usual noise: duplicate records of one person in one system, bad rows, several systems."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from neo4j import Driver

from core.settings import PROJECT_ROOT, Settings
from etl.identity import load_identity_config
from etl.mapping import MAPPINGS_DIR
from etl.spill import size_bytes
from graph import bulk_import, local_server, migrate
from graph.driver import create_sync_driver
from graph.model import NODES
from graph.queries import identity as iq
from graph.queries import upserts
from synthetic import GenerateOptions, generate_bank
from tests.conftest import TEST_PORT, server_owner, wipe
from tests.etl_support import c360, canonical_dump, cli_env, load

pytestmark = pytest.mark.graph
IMPORT_PORT = int(os.environ.get("C360_TEST_IMPORT_PORT", str(TEST_PORT + 3)))


@pytest.fixture(scope="module")
def own(settings: Settings) -> Iterator[Settings]:
    """A server of this module's own: the import replaces its database."""
    s = settings.model_copy(
        update={
            "neo4j_local_port": IMPORT_PORT,
            "neo4j_data_dir": PROJECT_ROOT / ".c360" / f"neo4j-test-import-{IMPORT_PORT}",
            "bulk_import_heap": "384m",  # (the importer's own, not the server's NEO4J_HEAP)
        }
    )
    started = not local_server.status(s).running
    local_server.start(s, stop_with_pid=server_owner(), download=False)
    yield s
    if started and server_owner() is not None:
        local_server.stop(s)


@pytest.fixture(scope="module")
def own_driver(own: Settings) -> Iterator[Driver]:
    with create_sync_driver(own) as drv:
        yield drv


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bulk") / "bank"
    generate_bank(GenerateOptions(customers=600, seed=13, out=out))
    return out


def _typed(v: Any) -> Any:
    """A value with its type: a long and a double of the same number differ here."""
    if isinstance(v, list):
        return ("list", tuple(_typed(x) for x in v))
    if hasattr(v, "iso_format"):
        return (type(v).__name__, v.iso_format(), str(getattr(v, "tzinfo", None)))
    return (type(v).__name__, v)


def typed_dump(driver: Driver, database: str) -> tuple[list, list]:
    return canonical_dump(driver, database, value=_typed)


def _labels(driver: Driver, database: str) -> list[list[str]]:
    """The graph's sets of labels: [["LoadRun"]] when a failed import left it as it was."""
    return driver.execute_query(
        "MATCH (n) RETURN collect(DISTINCT labels(n)) AS l", database_=database
    ).records[0]["l"]


def _empty(driver: Driver, s: Settings) -> None:
    wipe(driver, s.neo4j_database)
    migrate.apply(driver, database=s.neo4j_database)


def test_a_bulk_imported_first_load_equals_the_online_load_and_a_reload_changes_nothing(
    own: Settings, own_driver: Driver, bank: Path
) -> None:
    db = own.neo4j_database
    home = own.model_copy(update={"c360_home": bank.parent / "home"})  # one identity model
    _empty(own_driver, own)
    online = load(own_driver, home, bank)
    assert online.bulk_import is None
    expected = typed_dump(own_driver, db)
    assert len(expected[0]) > 2000 and len(expected[1]) > 2000

    _empty(own_driver, own)
    bulk = load(own_driver, home, bank, bulk_import=True)
    assert bulk.bulk_import is not None and bulk.bulk_import["imported"], bulk.bulk_import
    assert bulk.status == online.status
    assert {k: (c.read, c.loaded, c.rejected) for k, c in bulk.counts.items()} == {
        k: (c.read, c.loaded, c.rejected) for k, c in online.counts.items()
    }
    got = typed_dump(own_driver, db)
    assert got[0] == expected[0]
    assert got[1] == expected[1]
    # the files wrote most of it; what they could not say exactly went through Cypher
    assert bulk.bulk_import["nodes"] > len(expected[0]) // 2
    # the loader's memory is its own and its files process's at once, measured by the system;
    # DuckDB resolved the identities within less than the identity config's bound, the files
    # process's share taken off
    figures = bulk.bulk_import
    assert figures["loader_peak_rss_mib"] >= figures["loader_own_peak_rss_mib"] > 0
    assert figures["loader_peak_rss_mib"] <= (  # (not more than both peaks added)
        figures["loader_own_peak_rss_mib"] + figures["files_process_peak_rss_mib"]
    )
    assert figures["loader_peak_rss_mib"] > figures["files_process_peak_rss_mib"] > 50
    assert figures["importer_max_heap"] == "384.0MiB"  # (the importer's log says so)
    assert figures["importer_peak_rss_mib"] > 0
    configured = load_identity_config(MAPPINGS_DIR / "identity.yaml").memory_limit
    assert size_bytes(figures["resolution_memory_limit"]) < size_bytes(configured)

    # the constraints are back, and the run is a finished first load: the same extracts again
    # are a delta load that writes nothing
    names = {r["name"] for r in own_driver.execute_query("SHOW CONSTRAINTS", database_=db).records}
    assert {n.constraint for n in NODES} <= names
    again = load(own_driver, home, bank)
    assert again.delta and again.rows_written == 0, again.to_dict()
    assert typed_dump(own_driver, db) == got


def test_an_importer_out_of_heap_fails_naming_the_setting_and_keeps_its_log(
    own: Settings, own_driver: Driver, bank: Path, tmp_path: Path
) -> None:
    """The importer with too small a heap: the load fails naming BULK_IMPORT_HEAP and the
    importer's own error, its whole log is kept (the load's folder of files is removed), the
    graph is as it was, and the same load with the heap raised resumes the run and imports."""
    db = own.neo4j_database
    home = tmp_path / "home"
    _empty(own_driver, own)
    small = own.model_copy(update={"c360_home": home, "bulk_import_heap": "24m"})
    with pytest.raises(bulk_import.BulkImportError) as failed:
        load(own_driver, small, bank, bulk_import=True)
    said = str(failed.value)
    assert "java.lang.OutOfMemoryError" in said and "BULK_IMPORT_HEAP" in said, said
    assert "(24m)" in said and "\tat " not in said  # (the error, not the stack's last frames)
    [log] = home.glob("logs/bulk-import-*.log")
    assert str(log) in said and "OutOfMemoryError" in log.read_text(errors="replace")
    assert not list(home.glob("bulk-import/*"))  # (the load's files are gone, the log kept)
    bulk_import.reconnect(own_driver, db)
    assert _labels(own_driver, db) == [["LoadRun"]]

    again = load(own_driver, small.model_copy(update={"bulk_import_heap": "384m"}), bank,
                 bulk_import=True)  # fmt: skip
    assert again.resumed and again.bulk_import is not None and again.bulk_import["imported"]
    assert again.bulk_import["importer_log"] == str(log)
    # (384m is below what the importer asks for even on a small bank: it said so, as a size
    # the hint turns into a setting the JVM takes)
    suggested = again.bulk_import["importer_suggested_heap"]
    assert suggested and int(bulk_import.xmx(suggested).removesuffix("m")) > 384, suggested
    attempts = log.read_text(errors="replace").count("# c360: the importer, started")
    assert attempts == 2 and "IMPORT DONE" in log.read_text(errors="replace")
    assert own_driver.execute_query("MATCH (c:Customer) RETURN count(c) AS n",
                                    database_=db).records[0]["n"] > 500  # fmt: skip


@pytest.mark.parametrize(
    ("said", "setting"),
    [("1.005GiB", "1030m"), ("1.000GiB", "1024m"), ("900.0MiB", "900m"), ("2048KiB", "2m")],
)
def test_the_importers_suggested_size_becomes_a_heap_setting(said: str, setting: str) -> None:
    assert bulk_import.xmx(said) == setting


def test_a_graph_that_holds_data_is_loaded_online_and_says_why(
    own: Settings, own_driver: Driver, bank: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _empty(own_driver, own)
    home = own.model_copy(update={"c360_home": bank.parent / "home"})
    own_driver.execute_query("CREATE (:Branch {branch_id: 'B-X'})", database_=own.neo4j_database)
    result = load(own_driver, home, bank, bulk_import=True)
    assert result.bulk_import is None
    assert result.status.startswith("SUCCEEDED")
    n = own_driver.execute_query(
        "MATCH (b:Branch {branch_id: 'B-X'}) RETURN count(b) AS n", database_=own.neo4j_database
    ).records[0]["n"]
    assert n == 1  # nothing was replaced


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, ("boolean", "true")),
        (3, ("long", "3")),
        (0.1 + 0.2, ("double", "0.30000000000000004")),
        (float("nan"), ("double", "NaN")),
        ("", ("string", "")),
        (dt.date(1899, 12, 31), ("date", "1899-12-31")),
        (
            dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            ("datetime", "2026-01-02T03:04:05+00:00"),
        ),
        (dt.datetime(2026, 1, 2, 3, 4, 5), ("localdatetime", "2026-01-02T03:04:05")),
        (["core", "C1;2"], ("string[]", "core\x1fC1;2")),
    ],
)
def test_values_are_written_with_the_type_cypher_would_store(value: Any, expected: Any) -> None:
    assert bulk_import.encode(value) == expected


def _importer_of(loader: subprocess.Popen[bytes], home: Path, deadline_s: float) -> int:
    """The pid of the importer the loader ``loader`` (of ``C360_HOME`` ``home``) runs, stopped
    (SIGSTOP) as soon as its log says it imports nodes (waits at most ``deadline_s``)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert loader.poll() is None, f"the load ended first (exit {loader.returncode})"
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
                cmdline = (stat.parent / "cmdline").read_bytes()
            except (OSError, IndexError, ValueError):
                continue
            if ppid != loader.pid or b"org.neo4j.cli.AdminTool" not in cmdline:
                continue
            logs = list(home.glob("logs/bulk-import-*.log"))
            if any("Node import" in p.read_text(errors="replace") for p in logs):
                os.kill(int(stat.parent.name), signal.SIGSTOP)
                return int(stat.parent.name)
        time.sleep(0.02)
    raise AssertionError(f"the importer did not start writing within {deadline_s} s")


def _gone(pid: int, deadline_s: float) -> bool:
    """Whether the process ``pid`` ended (a zombie counts) within ``deadline_s``."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return True
        except (OSError, IndexError):
            return True
        time.sleep(0.05)
    return False


def test_an_import_killed_half_way_leaves_the_graph_as_it_was_and_the_same_command_loads_it(
    own: Settings, own_driver: Driver, bank: Path, tmp_path: Path
) -> None:
    db = own.neo4j_database
    home = tmp_path / "home"
    home_settings = own.model_copy(update={"c360_home": home})
    _empty(own_driver, own)
    load(own_driver, home_settings, bank)
    expected = typed_dump(own_driver, db)

    _empty(own_driver, own)
    env = cli_env(own, home) | {"NEO4J_DATA_DIR": str(own.local_data_dir)}
    command = c360(
        "load", str(bank), "--bulk-import", "--no-progress", "--rejects-dir", str(tmp_path)
    )
    with open(tmp_path / "load.log", "wb") as out:
        loader = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            importer = _importer_of(loader, home, deadline_s=300)
            os.killpg(loader.pid, signal.SIGKILL)  # the loader and its importer, half-way
        finally:
            loader.kill()
            loader.wait()
    assert _gone(importer, deadline_s=30)
    logs = list(home.glob("logs/bulk-import-*.log"))
    assert logs and not any("IMPORT DONE" in p.read_text(errors="replace") for p in logs)
    assert not local_server.status(own).running  # (stopped for the import, never started again)

    local_server.start(own, stop_with_pid=server_owner(), download=False)
    bulk_import.reconnect(own_driver, db)
    # the graph as the killed run left it before its import
    assert _labels(own_driver, db) == [["LoadRun"]]
    data = own.local_data_dir / "data"
    assert not list(data.glob(f"*/{local_server.staged_database(own)}"))

    again = load(own_driver, home_settings, bank, bulk_import=True)
    assert again.resumed and again.bulk_import is not None and again.bulk_import["imported"]
    assert typed_dump(own_driver, db) == expected
    # both attempts in the run's log, the second's header on a line of its own
    [log] = logs
    headers = [x for x in log.read_text(errors="replace").splitlines() if "# c360: the imp" in x]
    assert len(headers) == 2 and all(x.startswith("# c360: the importer") for x in headers)


def _old_and_imported(data_dir: Path) -> Path:
    """A data folder with a database ``graph`` (its store and logs "old") and a finished import
    beside it ("new"); its ``data`` folder."""
    data = data_dir / "data"
    for kind in ("databases", "transactions"):
        for name, text in (("graph", "old"), ("graph-import", "new")):
            (data / kind / name).mkdir(parents=True)
            (data / kind / name / "store").write_text(text)
    return data


def _stores(data: Path) -> dict[str, str]:
    return {str(p.relative_to(data)): p.read_text() for p in data.rglob("store")}


NEW = {"databases/graph/store": "new", "transactions/graph/store": "new"}


@pytest.mark.parametrize("cut", ["before", "databases", "both", "after"])
def test_a_replacement_cut_short_is_finished_before_the_server_starts(
    tmp_path: Path, cut: str
) -> None:
    s = Settings(neo4j_data_dir=tmp_path, neo4j_database="graph")
    data = _old_and_imported(tmp_path)
    # the steps of replace_database, up to the cut
    (data / "graph-import.imported").write_text("graph")
    moved = {"before": [], "databases": ["databases"], "both": ["databases", "transactions"]}
    for kind in moved.get(cut, ["databases", "transactions"]):
        (data / kind / "graph").rename(data / kind / "graph.replaced")
        (data / kind / "graph-import").rename(data / kind / "graph")
    if cut == "after":
        (data / "graph-import.imported").unlink()
    local_server.settle_import(s)
    assert _stores(data) == NEW
    assert sorted(p.name for p in data.iterdir()) == ["databases", "transactions"]


def test_the_folders_are_the_lower_cased_name_neo4j_gives_them(tmp_path: Path) -> None:
    s = Settings(neo4j_data_dir=tmp_path, neo4j_database="Graph")
    data = _old_and_imported(tmp_path)
    assert local_server.staged_database(s) == "graph-import"
    local_server.replace_database(s)
    assert _stores(data) == NEW


def test_an_import_that_left_no_transaction_logs_does_not_replace_the_database(
    tmp_path: Path,
) -> None:
    s = Settings(neo4j_data_dir=tmp_path, neo4j_database="graph")
    data = tmp_path / "data"
    for name in ("graph", "graph-import"):
        (data / "databases" / name).mkdir(parents=True)
    (data / "databases" / "graph" / "store").write_text("old")
    with pytest.raises(local_server.LocalServerError, match="transactions"):
        local_server.replace_database(s)
    assert (data / "databases" / "graph" / "store").read_text() == "old"
    assert not list(data.glob("*.imported"))


def test_a_start_during_an_offline_import_is_refused(settings: Settings, tmp_path: Path) -> None:
    s = settings.model_copy(
        update={"neo4j_local_port": IMPORT_PORT + 1, "neo4j_data_dir": tmp_path}
    )
    with open(tmp_path / "c360-offline.lock", "a") as lock:  # (as restart_around holds it)
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            with pytest.raises(local_server.LocalServerError, match="offline import .* is running"):
                local_server.start(s, stop_with_pid=server_owner(), download=False)
        finally:
            started = local_server.status(s).running
            local_server.stop(s)
    assert not started


def test_an_unfinished_import_is_removed_and_the_database_kept(tmp_path: Path) -> None:
    s = Settings(neo4j_data_dir=tmp_path, neo4j_database="graph")
    data = tmp_path / "data"
    for name, text in (("graph", "old"), ("graph-import", "half")):
        (data / "databases" / name).mkdir(parents=True)
        (data / "databases" / name / "store").write_text(text)
    local_server.settle_import(s)  # (no marker: the importer did not finish)
    assert _stores(data) == {"databases/graph/store": "old"}


# Every shape of value a row can carry, the edge ones of each fast path of ``_typed`` included
# (a subclass takes ``encode``'s way: numpy's float, pandas' timestamp, a datetime that is a date).
FIELD_VALUES: list[Any] = [
    None, True, np.bool_(False), 0, -7, 2**62, np.int64(5), 0.5, -0.0, 1e300, float("nan"),
    float("inf"), float("-inf"), np.float64(2.5), "", "a;b", "x\0y", "\x1f",
    dt.date(1899, 12, 31), dt.datetime(2026, 1, 2, 3, 4, 5), pd.Timestamp("2026-01-02"),
    dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), ["core", "C1;2"], ["a\x1fb", "c"],
    ["a\0"], [0.5, 1.5], [0.5, float("nan")], [1, 2], [], [1, "a"], dt.time(1, 2),
]  # fmt: skip


def test_a_rows_fields_are_typed_as_encode_types_each_value() -> None:
    props = {f"p{i:02d}": v for i, v in enumerate(FIELD_VALUES)}
    expected, held = [], True
    for prop in sorted(props):
        try:
            encoded = bulk_import.encode(props[prop])
        except bulk_import.BulkImportError:
            held = False
            continue
        if encoded is not None:
            expected.append((prop, *encoded))
    typed, texts, whole = bulk_import._typed(dict(reversed(props.items())))
    assert [(p, t, text) for (p, t), text in zip(typed, texts, strict=True)] == expected
    assert whole is held is False
    assert bulk_import._typed({"a": "x", "b": 1}) == (
        (("a", "string"), ("b", "long")),
        ["x", "1"],
        True,
    )


@pytest.mark.parametrize("value", [[], [1, "a"], {"a": 1}, dt.time(1, 2)])
def test_a_value_the_importer_cannot_hold_is_refused_by_name(value: Any) -> None:
    with pytest.raises(bulk_import.BulkImportError, match="cannot hold"):
        bulk_import.encode(value)


def test_what_the_files_cannot_say_goes_to_cypher_after_and_the_node_is_written_all_the_same(
    tmp_path: Path,
) -> None:
    files = bulk_import.ImportFiles(tmp_path / "files")
    customers = upserts.UPSERT_CUSTOMERS
    files.add(customers, [{"customer_id": "C1", "tags": []}, {"customer_id": "C2", "n": 1}])
    files.add(customers, [{"customer_id": "C1", "n": 2}])  # a repeat: the later SET wins online
    files.add(upserts.UPSERT_HOME_BRANCHES, [{"customer_id": "C1"}])  # no translation
    for i in range(3):
        files.add(iq.UPSERT_REVIEWS, [{"review_id": f"R{i}"}])  # one row at a time
    files.close()
    assert files.nodes == 2
    written = {
        p.name: p.read_text(encoding="utf-8").splitlines() for p in files.folder.glob("*.csv")
    }
    assert sorted(written.values()) == [
        ['":ID(Customer)","customer_id:string"', '"C1","C1"'],
        ['":ID(Customer)","customer_id:string","n:long"', '"C2","C2","1"'],
    ]
    assert list(files.deferred(batch_size=2)) == [
        (customers, [{"customer_id": "C1", "tags": []}, {"customer_id": "C1", "n": 2}]),
        (upserts.UPSERT_HOME_BRANCHES, [{"customer_id": "C1"}]),
        (iq.UPSERT_REVIEWS, [{"review_id": "R0"}, {"review_id": "R1"}]),
        (iq.UPSERT_REVIEWS, [{"review_id": "R2"}]),
    ]


def test_an_importer_killed_by_sigkill_fails_saying_what_usually_sends_it_and_the_same_command_imports(
    own: Settings, own_driver: Driver, bank: Path, tmp_path: Path
) -> None:
    """Only the importer killed (as the kernel's out-of-memory killer does, which leaves nothing
    in its log): `c360 load` exits 2 naming the signal, the likely sender, the importer's memory
    and the setting; the server is up again with the graph as it was, and the same command
    resumes the run through the importer."""
    db = own.neo4j_database
    home = tmp_path / "home"
    _empty(own_driver, own)
    env = cli_env(own, home) | {
        "NEO4J_DATA_DIR": str(own.local_data_dir),
        "BULK_IMPORT_HEAP": own.bulk_import_heap,
    }
    command = c360(
        "load", str(bank), "--bulk-import", "--no-progress", "--rejects-dir", str(tmp_path)
    )
    loader = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        importer = _importer_of(loader, home, deadline_s=300)
        os.kill(importer, signal.SIGKILL)  # (stopped: a SIGKILL ends it all the same)
        out, err = loader.communicate(timeout=300)
    finally:
        loader.kill()
        loader.wait()
    said = " ".join(err.decode().split())  # (the terminal's line breaks undone)
    assert loader.returncode == 2, (out.decode()[-2000:], said[-2000:])
    assert "killed by signal 9 (SIGKILL)" in said and "out-of-memory killer" in said, said
    assert re.search(
        r"The importer held [\d,]+ MiB at its highest; the machine has [\d,]+ MiB", said
    )
    assert "BULK_IMPORT_HEAP, now 384m" in said and "Traceback" not in said, said
    [log] = home.glob("logs/bulk-import-*.log")
    assert str(log) in said.replace(" ", "") and "IMPORT DONE" not in log.read_text(
        errors="replace"
    )

    assert local_server.status(own).running  # (started again after the failed import)
    bulk_import.reconnect(own_driver, db)
    assert _labels(own_driver, db) == [["LoadRun"]]

    again = subprocess.run(command, env=env, capture_output=True, check=False)
    assert again.returncode in (0, 1), again.stderr.decode()[-2000:]  # (1: the bank's bad rows)
    assert "IMPORT DONE" in log.read_text(errors="replace")
    bulk_import.reconnect(own_driver, db)
    customers = own_driver.execute_query(
        "MATCH (c:Customer) RETURN count(c) AS n", database_=db
    ).records[0]["n"]
    assert customers > 500
