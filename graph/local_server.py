"""A real Neo4j 5.26 Community server for development and tests, started by the project.

Neo4j's jars come from Maven Central through Maven (``graph/server/pom.xml``, newest 5.26.x);
the resolved classpath and the compiled launcher are cached in ``C360_CACHE_DIR`` so a second
start downloads and compiles nothing. The server is Neo4j's embedded
``DatabaseManagementServiceBuilder`` with the Bolt connector on 127.0.0.1 only and native auth on.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from c360.settings import Settings

SERVER_SRC = Path(__file__).resolve().parent / "server"
POM = SERVER_SRC / "pom.xml"
LAUNCHER_SRC = SERVER_SRC / "Launcher.java"


class LocalServerError(RuntimeError):
    """The local server could not be fetched, built, started or stopped; the message says why."""


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    bolt_uri: str
    data_dir: Path
    version: str | None
    log_file: Path

    def describe(self) -> str:
        if not self.running:
            return f"stopped (data in {self.data_dir})"
        return (
            f"running: Neo4j {self.version or '?'} pid {self.pid} at {self.bolt_uri}, "
            f"data in {self.data_dir}, log {self.log_file}"
        )


def _fingerprint() -> str:
    digest = hashlib.sha256(POM.read_bytes() + LAUNCHER_SRC.read_bytes())
    return digest.hexdigest()[:12]


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise LocalServerError(
            f"`{tool}` was not found on PATH; the local Neo4j needs Java 17 and Maven "
            "(or set NEO4J_URI to use an existing Neo4j server)"
        )
    return path


def ensure_runtime(settings: Settings, *, echo=print) -> tuple[str, Path]:
    """Resolve Neo4j's classpath with Maven and compile the launcher, both cached.

    Returns the Java classpath and the directory of the compiled launcher.
    """
    cache = settings.neo4j_cache_dir / f"neo4j-runtime-{_fingerprint()}"
    ready = _cached_runtime(cache)
    if ready:
        return ready
    cache.mkdir(parents=True, exist_ok=True)
    # Two first starts at once (tests and a benchmark, say) resolve one after the other.
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _cached_runtime(cache) or _resolve_runtime(cache, echo)


def _cached_runtime(cache: Path) -> tuple[str, Path] | None:
    cp_file, classes = cache / "classpath.txt", cache / "classes"
    if cp_file.exists():
        classpath = cp_file.read_text().strip()
        if (
            all(Path(jar).exists() for jar in classpath.split(os.pathsep))
            and (classes / "Launcher.class").exists()
        ):
            return classpath, classes
    return None


def _resolve_runtime(cache: Path, echo) -> tuple[str, Path]:
    cp_file, classes = cache / "classpath.txt", cache / "classes"
    echo("Resolving Neo4j Community 5.26 from Maven Central (first start only)...")
    mvn = _need("mvn")
    tmp_cp = cache / "classpath.tmp"
    proc = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:build-classpath",
            f"-Dmdep.outputFile={tmp_cp}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or not tmp_cp.exists():
        raise LocalServerError(
            "Maven could not resolve Neo4j 5.26:\n" + (proc.stdout + proc.stderr)[-2000:]
        )
    classpath = tmp_cp.read_text().strip()
    classes.mkdir(exist_ok=True)
    proc = subprocess.run(
        [_need("javac"), "-cp", classpath, "-d", str(classes), str(LAUNCHER_SRC)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise LocalServerError("Compiling the Neo4j launcher failed:\n" + proc.stderr[-2000:])
    tmp_cp.replace(cp_file)
    return classpath, classes


def _pid_file(settings: Settings) -> Path:
    return settings.local_data_dir / "c360-neo4j.pid"


def _log_file(settings: Settings) -> Path:
    return settings.local_data_dir / "c360-neo4j.log"


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited child not yet reaped) is not running.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _read_pid(settings: Settings) -> int | None:
    try:
        pid = int(_pid_file(settings).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def _version_from_log(settings: Settings) -> str | None:
    try:
        text = _log_file(settings).read_text(errors="replace")
    except OSError:
        return None
    found = re.findall(r"c360-neo4j: ready version=(\S+)", text)
    return found[-1] if found else None


def status(settings: Settings) -> ServerStatus:
    pid = _read_pid(settings)
    return ServerStatus(
        running=pid is not None,
        pid=pid,
        bolt_uri=settings.bolt_uri,
        data_dir=settings.local_data_dir,
        version=_version_from_log(settings) if pid else None,
        log_file=_log_file(settings),
    )


def _bolt_answers(settings: Settings) -> bool:
    from neo4j import GraphDatabase
    from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable

    try:
        with GraphDatabase.driver(
            settings.bolt_uri,
            auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
            connection_timeout=2.0,
        ) as driver:
            driver.verify_connectivity()
        return True
    except AuthError as exc:
        raise LocalServerError(
            "The local Neo4j answers but refuses NEO4J_PASSWORD; it keeps the password it was "
            f"first started with ({exc.message}). Use that password or a fresh data directory."
        ) from exc
    except (ServiceUnavailable, Neo4jError, OSError):
        return False


def start(settings: Settings, *, echo=print) -> ServerStatus:
    """Start the local server (or report the running one) and wait until Bolt answers."""
    if not settings.uses_local_server:
        raise LocalServerError(f"NEO4J_URI is set ({settings.neo4j_uri}); nothing to start")
    current = status(settings)
    if current.running:
        _wait_for_bolt(settings, current.pid)
        return status(settings)
    classpath, classes = ensure_runtime(settings, echo=echo)
    data_dir = settings.local_data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    java = _need("java")
    log = _log_file(settings)
    env = {**os.environ, "C360_NEO4J_PASSWORD": settings.neo4j_password.get_secret_value()}
    heap = settings.neo4j_heap
    with open(log, "ab") as log_fh:
        proc = subprocess.Popen(
            [
                java,
                f"-Xms{heap}",
                f"-Xmx{heap}",
                "-XX:+UseG1GC",
                "-XX:+ExitOnOutOfMemoryError",
                "-Dfile.encoding=UTF-8",
                "-cp",
                f"{classes}{os.pathsep}{classpath}",
                "Launcher",
                str(data_dir),
                str(settings.neo4j_local_port),
                settings.neo4j_pagecache,
            ],
            stdout=log_fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    _pid_file(settings).write_text(str(proc.pid))
    echo(f"Starting Neo4j (pid {proc.pid}), waiting for Bolt on {settings.bolt_uri}...")
    _wait_for_bolt(settings, proc.pid)
    return status(settings)


def _wait_for_bolt(settings: Settings, pid: int | None) -> None:
    deadline = time.monotonic() + settings.neo4j_start_timeout_s
    while time.monotonic() < deadline:
        if pid is not None and not pid_alive(pid):
            tail = _log_file(settings).read_text(errors="replace")[-3000:]
            raise LocalServerError(f"Neo4j exited during start-up. Log tail:\n{tail}")
        if _version_from_log(settings) and _bolt_answers(settings):
            return
        time.sleep(0.5)
    raise LocalServerError(
        f"Neo4j did not answer on {settings.bolt_uri} within {settings.neo4j_start_timeout_s:.0f}s;"
        f" see {_log_file(settings)}"
    )


def stop(settings: Settings, *, timeout_s: float = 90.0) -> bool:
    """Shut the local server down cleanly (SIGTERM → Neo4j's shutdown). Data is kept."""
    pid = _read_pid(settings)
    if pid is None:
        _pid_file(settings).unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            break
        time.sleep(0.2)
    else:
        raise LocalServerError(f"Neo4j (pid {pid}) did not stop within {timeout_s:.0f}s")
    _pid_file(settings).unlink(missing_ok=True)
    return True
