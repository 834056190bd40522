"""The local server's first run and its life cycle, as a new machine and a killed run meet them.

Each test that starts a server uses its own free port and data directory, never the session's.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest

from core.settings import Settings
from graph import local_server
from graph.local_server import Fetched, LocalServerError

DATA = Path(__file__).resolve().parent / "data"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spare(settings: Settings, tmp_path: Path, **update: object) -> Settings:
    """The session's settings with a port and data directory of this test's own."""
    base = {"neo4j_local_port": _free_port(), "neo4j_data_dir": tmp_path / "neo4j"}
    return settings.model_copy(update=base | update)


def test_a_server_stops_when_the_process_it_is_tied_to_is_killed(settings, tmp_path):
    spare = _spare(settings, tmp_path, neo4j_heap="512m", neo4j_pagecache="64m")
    owner = subprocess.Popen(["sleep", "600"])
    try:
        started = local_server.start(spare, stop_with_pid=owner.pid, download=False)
        assert started.running and started.pid is not None
        assert local_server.port_holder(spare.neo4j_local_port) == started.pid
        owner.kill()  # SIGKILL: no exit handler of the owner runs
        owner.wait()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and local_server.status(spare).running:
            time.sleep(0.5)
        assert not local_server.status(spare).running, "the server outlived its owner"
        assert local_server.port_holder(spare.neo4j_local_port) is None
        log = (spare.local_data_dir / "c360-neo4j.log").read_text()
        assert f"process {owner.pid} ended; shutting down" in log
    finally:
        owner.kill()
        local_server.stop(spare)


def test_a_start_while_the_previous_server_shuts_down_waits_for_it_and_starts_anew(
    settings, tmp_path
):
    """`make demo`, Ctrl-C, `make demo` again at once: the first server is still shutting down
    (its owner has ended) when the second start looks; that start must not take the dying server
    for its own, nor fail with its log, but wait for it and start a new one."""
    spare = _spare(settings, tmp_path, neo4j_heap="512m", neo4j_pagecache="64m")
    first_owner = subprocess.Popen(["sleep", "600"])
    second_owner = subprocess.Popen(["sleep", "600"])
    try:
        first = local_server.start(spare, stop_with_pid=first_owner.pid, download=False)
        first_owner.kill()
        first_owner.wait()
        log = spare.local_data_dir / "c360-neo4j.log"
        # the first of the launcher's two lines, and no later: CI once started again between
        # the two, and the start took the dying server for a running one
        said = f"process {first_owner.pid} ended; shutting down"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and said not in log.read_text():
            time.sleep(0.01)
        assert said in log.read_text() and local_server.pid_alive(first.pid or 0)
        second = local_server.start(spare, stop_with_pid=second_owner.pid, download=False)
        assert second.running and second.pid != first.pid
        assert local_server.port_holder(spare.neo4j_local_port) == second.pid
    finally:
        first_owner.kill()
        second_owner.kill()
        local_server.stop(spare)


def test_either_of_the_launchers_stop_lines_counts_as_shutting_down(settings, tmp_path):
    """The launcher says it stops in two lines, a moment apart, when its owner ends: the first
    alone must count (a start between the two took the dying server for a running one). Lines
    from before the last "ready", or before a start still under way, belong to an earlier server
    and do not count."""
    spare = _spare(settings, tmp_path)
    spare.local_data_dir.mkdir(parents=True)
    log = spare.local_data_dir / "c360-neo4j.log"
    ready = "c360-neo4j: ready version=5.26.0 bolt=127.0.0.1:1 home=x\n"
    cases = {
        ready: False,
        ready + "c360-neo4j: process 4242 ended; shutting down\n": True,
        ready + "c360-neo4j: shutting down\n": True,
        "c360-neo4j: process 1 ended; shutting down\nc360-neo4j: shutting down\n" + ready: False,
        ready + "c360-neo4j: shutting down\nc360-neo4j: starting\n": False,
        ready
        + "c360-neo4j: shutting down\nc360-neo4j: starting\nc360-neo4j: shutting down\n": True,
    }
    for text, stopping in cases.items():
        log.write_text(text)
        assert local_server._shutting_down(spare) is stopping, text


def test_a_port_held_by_another_process_is_refused_naming_port_and_pid(settings, tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        spare = _spare(settings, tmp_path, neo4j_local_port=port)
        with pytest.raises(LocalServerError) as refused:
            local_server.start(spare, download=False)
    message = str(refused.value)
    assert f"port {port} is held by pid {os.getpid()}" in message
    assert "C360_TEST_NEO4J_PORT" in message
    assert not (spare.local_data_dir / "c360-neo4j.pid").exists()


def test_a_stale_pid_file_is_neither_trusted_nor_signalled(settings, tmp_path):
    """A pid file whose pid now belongs to another process (here: this test's own) means
    'stopped'; stopping must not send that process SIGTERM."""
    spare = _spare(settings, tmp_path)
    spare.local_data_dir.mkdir(parents=True)
    pid_file = spare.local_data_dir / "c360-neo4j.pid"
    pid_file.write_text(str(os.getpid()))
    assert local_server.status(spare).running is False
    assert not pid_file.exists()
    pid_file.write_text(str(os.getpid()))
    assert local_server.stop(spare) is False  # and this process is still here to say so


def test_a_test_start_never_downloads(settings, tmp_path):
    empty_cache = tmp_path / "no-runtime"
    spare = _spare(settings, tmp_path, neo4j_cache_dir=empty_cache)
    assert local_server.runtime_ready(spare) is False
    with pytest.raises(LocalServerError, match=r"run `c360 neo4j prepare` first"):
        local_server.start(spare, download=False)
    assert not empty_cache.exists()


def test_download_progress_is_counted_from_mavens_own_log():
    """A slice of a real first resolution (empty Maven repository, 2026-11-29)."""
    log = DATA / "maven-resolve.log"
    lines = [ln for ln in log.read_text().splitlines() if "Downloaded from" in ln]
    seen: list[tuple[int, int]] = []
    fetched = Fetched()
    code, tail = local_server._run_maven(
        ["cat", str(log)], fetched, lambda f: seen.append((f.files, f.bytes))
    )
    assert code == 0 and "BUILD SUCCESS" in tail
    assert fetched.files == len(lines) == len(seen)
    sizes = [re.search(r"\(([\d.]+) (B|kB|MB)", ln) for ln in lines]
    unit = {"B": 1, "kB": 1000, "MB": 1000**2}
    expected = sum(int(float(m.group(1)) * unit[m.group(2)]) for m in sizes if m)
    assert fetched.bytes == expected
    assert fetched.last == lines[-1].split(" (")[0].rsplit("/", 1)[-1]


def test_a_failed_resolution_is_retried_then_named(tmp_path):
    """Real Maven against the real repository, asked for an artifact that does not exist."""
    pom = tmp_path / "pom.xml"
    pom.write_text(
        local_server.POM.read_text()
        .replace("<groupId>org.neo4j</groupId>", "<groupId>org.c360.absent</groupId>")
        .replace("<artifactId>neo4j</artifactId>", "<artifactId>no-such-artifact</artifactId>")
        .replace("${neo4j.version}", "1.0")
    )
    said: list[str] = []
    with pytest.raises(LocalServerError) as failed:
        runtime = tmp_path / "runtime"
        runtime.mkdir()
        local_server._resolve_runtime(runtime, said.append, None, pom=pom, pauses=(0,))
    message = str(failed.value)
    assert f"after {local_server.RESOLVE_ATTEMPTS} attempts" in message
    assert "org.c360.absent:no-such-artifact:jar:1.0" in message
    assert "retry with `c360 neo4j prepare`" in message
    assert said[0].startswith("Preparing the local Neo4j 5.26: the first run on a machine")
    retries = [s for s in said if s.startswith("Maven failed (attempt")]
    assert len(retries) == local_server.RESOLVE_ATTEMPTS - 1
    assert not (tmp_path / "runtime" / "classpath.txt").exists()
