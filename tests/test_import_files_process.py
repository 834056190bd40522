"""The import files of a bulk load, written by a process of their own (etl/batches.FilesProcess),
are the files the loader's own process wrote before: the same bytes, the same rows left to
Cypher, the same counts; a failure there is raised in the loader; a killed loader does not leave
the process behind. (The whole path, import included, is compared with the online load in
tests/test_bulk_import.py.)"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core import memory
from core.settings import PROJECT_ROOT
from etl import delta
from etl.batches import FilesProcess
from graph import bulk_import
from graph.queries import upserts as uq

Row = dict[str, Any]


def _chunks(seed: int) -> list[tuple[uq.Upsert, list[Row]]]:
    """Chunks of rows as the loader hands them to its writer, of several upserts, with what
    the files cannot say: a repeated key, an empty list, a NUL, a time, numpy's floats."""
    rnd = random.Random(seed)
    out: list[tuple[uq.Upsert, list[Row]]] = []
    for chunk in range(6):
        customers = [
            {
                "customer_id": f"C{rnd.randrange(400):04d}",  # (repeats: left to Cypher)
                "name": rnd.choice(["Wang Fang", "Li Na", 'Zoë "Q" O\'Neil', "a\0b", "多\n行"]),
                "birth_date": dt.date(1950 + rnd.randrange(50), 1 + rnd.randrange(12), 1),
                "aum": rnd.choice([1.5, np.float64(2.25), 0.0, -0.0]),
                "tags": rnd.choice([[], ["vip"], ["a", "b"]]),
                "customer_id_origin": ["core", f"S{chunk}-{i}"],
            }
            for i in range(150)
        ]
        out.append((uq.CUSTOMERS, customers))
        interactions = [
            {
                "interaction_id": f"I{chunk}-{i}",
                "customer_id": rnd.choice([f"C{rnd.randrange(400):04d}", None]),
                "customer_id_origin": ["crm", f"X{i}"],
                "employee_id": rnd.choice(["E1", "E2", None]),
                "props": {
                    "channel": rnd.choice(["BRANCH", "APP"]),
                    "occurred_at": dt.datetime(2024, 1, 1 + chunk, 9, i % 60),
                    "at_time": rnd.choice([None, dt.time(10, 30)]),
                    "score": rnd.random(),
                },
            }
            for i in range(200)
        ]
        out.append((uq.INTERACTIONS, interactions))
        holdings = [
            {
                "customer_id": f"C{rnd.randrange(400):04d}",
                "account_id": f"A{rnd.randrange(300)}",
                "role": rnd.choice(["PRIMARY", "JOINT"]),
                "ended_at": rnd.choice([None, dt.date(2023, 5, 1)]),
                "customer_id_origin": ["core", f"H{i}"],
            }
            for i in range(120)
        ]
        out.append((uq.HOLDINGS, holdings))
    return out


def _files(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.suffix in {".csv", ".pickle"}
    }


def test_the_process_writes_what_the_loaders_own_process_wrote(tmp_path: Path) -> None:
    chunks = _chunks(seed=11)
    here = bulk_import.ImportFiles(tmp_path / "here")
    for upsert, rows in copy.deepcopy(chunks):
        delta.stamp(upsert, rows)
        here.add(upsert.query, rows)
    here.close()
    process = FilesProcess(tmp_path / "there")
    for upsert, rows in chunks:
        process.add(upsert.query, rows, upsert)
    there = process.close()
    # the loader's memory: its own and the process's at once (the process: an interpreter with
    # pandas, over 50 MiB however little it writes)
    assert process.peak_rss_mib > 50
    assert process.together_peak_rss_mib >= memory.rss_mib() + 50
    expected = here.written()
    assert (there.nodes, there.relationships, there.deferred_rows) == (
        expected.nodes,
        expected.relationships,
        expected.deferred_rows,
    )
    assert expected.deferred_rows > 0 and expected.relationships > 0  # (the cases are there)
    assert [(k, n, p.name) for k, n, p in there.files] == [
        (k, n, p.name) for k, n, p in expected.files
    ]
    assert _files(tmp_path / "there") == _files(tmp_path / "here")
    assert list(there.deferred(50)) == list(expected.deferred(50))


def test_rows_changed_after_they_were_handed_over_are_written_as_they_were(
    tmp_path: Path,
) -> None:
    process = FilesProcess(tmp_path / "files")
    rows = [{"customer_id": "C1", "name": "before"}]
    process.add(uq.UPSERT_CUSTOMERS, rows)
    rows[0]["name"] = "after"  # (the loader's rows are its own again once add returns)
    written = process.close()
    (path,) = [p for _, _, p in written.files]
    assert path.read_text(encoding="utf-8").splitlines()[1] == '"C1","C1","before"'


def test_a_failure_in_the_process_is_raised_in_the_loader_naming_the_folder(
    tmp_path: Path,
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    folder = tmp_path / "a-file" / "files"
    process = FilesProcess(folder)
    with pytest.raises(
        bulk_import.BulkImportError, match=f"{re.escape(str(folder))}.*failed: .*Error"
    ):
        process.add(uq.UPSERT_CUSTOMERS, [{"customer_id": "C1"}])
        process.close()
    process.stop()


_LOADER = """\
import os, signal, sys
from pathlib import Path
from etl.batches import FilesProcess
from graph.bulk_import import BulkImportError

if __name__ == "__main__":  # (the files process imports this module again: spawn)
    p = FilesProcess(Path(sys.argv[1]))
    print(p._process.pid, flush=True)
    rows = [{"customer_id": f"C{i}", "name": "x" * 20} for i in range(int(sys.argv[2]))]
    try:
        for _ in range(8):
            p.add("UNWIND $rows AS row MERGE (c:Customer {customer_id: row.customer_id})", rows)
    except BulkImportError as exc:
        print("raised:", exc, flush=True)
"""


def _loader(tmp_path: Path, folder: Path, rows: int, then: str) -> subprocess.CompletedProcess:
    """A loader in a process of its own that hands ``rows`` rows over eight times, then
    ``then`` (Python, in the main guard)."""
    script = tmp_path / "loader.py"
    script.write_text(_LOADER + "".join(f"    {line}\n" for line in then.splitlines()))
    run = subprocess.run(
        [sys.executable, str(script), str(folder), str(rows)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},  # (this checkout's code)
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert "Traceback" not in run.stderr, run.stderr
    return run


@pytest.mark.parametrize("rows", [1, 50_000])  # (50,000: killed in the middle of a chunk)
def test_the_process_ends_when_the_loader_is_killed(tmp_path: Path, rows: int) -> None:
    run = _loader(tmp_path, tmp_path / "files", rows, "os.kill(os.getpid(), signal.SIGKILL)\n")
    assert run.returncode == -9, run.stderr
    pid = int(run.stdout.split()[0])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.5)
    assert not _alive(pid), f"the files process {pid} outlived its loader"


@pytest.mark.parametrize("fails", ["loader", "process"])
def test_a_failed_load_stops_the_process_and_exits(tmp_path: Path, fails: str) -> None:
    """A load that fails (in the loader, or in the process: its folder cannot be made) with
    chunks still waiting exits at once after ``stop`` (a subprocess: a hang fails the test by
    its timeout instead of hanging the suite)."""
    folder = tmp_path / "files"
    if fails == "process":
        (tmp_path / "a-file").write_text("not a folder")
        folder = tmp_path / "a-file" / "files"
    started = time.monotonic()
    run = _loader(tmp_path, folder, 20_000, "p.stop()\nprint('stopped', flush=True)\n")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "stopped"
    assert ("raised:" in run.stdout) == (fails == "process"), run.stdout
    assert time.monotonic() - started < 60
    assert not _alive(int(run.stdout.split()[0]))


def test_a_killed_process_is_raised_in_the_loader(tmp_path: Path) -> None:
    process = FilesProcess(tmp_path / "files")
    process.add(uq.UPSERT_CUSTOMERS, [{"customer_id": "C1"}])
    assert process._process.pid is not None
    os.kill(process._process.pid, signal.SIGKILL)
    process._process.join()
    with pytest.raises(bulk_import.BulkImportError, match=r"files.* stopped \(exit code -9\)"):
        process.add(uq.UPSERT_CUSTOMERS, [{"customer_id": "C2"}])
    process.stop()


def _alive(pid: int) -> bool:
    """Running (a zombie nobody reaps in a container counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_two_threads_handing_chunks_over_lose_none(tmp_path: Path) -> None:
    process = FilesProcess(tmp_path / "files", depth=1)

    def hand(prefix: str) -> None:
        for i in range(40):
            process.add(uq.UPSERT_BRANCHES, [{"branch_id": f"{prefix}{i}-{j}"} for j in range(50)])

    threads = [threading.Thread(target=hand, args=(p,)) for p in "xy"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    written = process.close()
    assert written.nodes == 2 * 40 * 50
    ids = {
        line.split(",")[0].strip('"')
        for _, _, p in written.files
        for line in p.read_text(encoding="utf-8").splitlines()[1:]
    }
    assert ids == {f"{p}{i}-{j}" for p in "xy" for i in range(40) for j in range(50)}
