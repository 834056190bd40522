"""A real Neo4j 5.26 Community server for development and tests, started by the project.

Neo4j's jars come from Maven Central through Maven (``graph/server/pom.xml``, a pinned 5.26.x);
the resolved classpath and the compiled launcher are cached in ``C360_CACHE_DIR`` so a second
start downloads and compiles nothing. The server is Neo4j's embedded
``DatabaseManagementServiceBuilder`` with the Bolt connector on 127.0.0.1 only and native auth on.

The first resolution downloads about 150 MB once (Maven's own repository, ``~/.m2`` or
``-Dmaven.repo.local`` in ``MAVEN_OPTS``). :func:`prepare` does it with progress and retries, and
``make test`` / ``make demo`` call it (``c360 neo4j prepare``) before anything that starts a
server, so no test's timeout runs while jars download. A server can be tied to the process that
asked for it (``stop_with_pid``): it stops when that process ends, however it ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from core.settings import Settings

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


FIRST_DOWNLOAD_MB = 150  # measured: 144 MB, Neo4j 5.26.30's jars and Maven's dependency plugin
RESOLVE_ATTEMPTS = 3
_RETRY_PAUSE_S = (5.0, 20.0)
# Maven (batch mode) logs one line per file: "Downloaded from central: URL (1.2 MB at 3 MB/s)".
_DOWNLOADED = re.compile(r"Downloaded from [^:]+: (\S+) \(([\d.,]+) (B|kB|KB|MB|GB)")
_UNITS = {"B": 1, "kB": 1000, "KB": 1000, "MB": 1000**2, "GB": 1000**3}


@dataclass
class Fetched:
    """What the resolution has downloaded so far (for a progress display)."""

    files: int = 0
    bytes: int = 0
    last: str = ""


OnFetch = Callable[[Fetched], None]


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


def _runtime_dir(settings: Settings) -> Path:
    return settings.neo4j_cache_dir / f"neo4j-runtime-{_fingerprint()}"


def runtime_ready(settings: Settings) -> bool:
    """Whether the classpath is resolved and the launcher compiled (nothing to download)."""
    return _cached_runtime(_runtime_dir(settings)) is not None


def prepare(
    settings: Settings, *, echo: Callable[[str], object] = print, on_fetch: OnFetch | None = None
) -> tuple[str, Path]:
    """Resolve Neo4j's classpath with Maven and compile the launcher, both cached.

    Returns the Java classpath and the directory of the compiled launcher. The first call on a
    machine downloads about 150 MB; ``on_fetch`` is called after every downloaded file. A failed
    download is retried (``RESOLVE_ATTEMPTS`` in all) before :class:`LocalServerError` names it.
    """
    cache = _runtime_dir(settings)
    ready = _cached_runtime(cache)
    if ready:
        return ready
    cache.mkdir(parents=True, exist_ok=True)
    # Two first starts at once (tests and a benchmark, say) resolve one after the other.
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _cached_runtime(cache) or _resolve_runtime(cache, echo, on_fetch)


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


def _maven_command(mvn: str, out: Path, pom: Path, *, retry: bool) -> list[str]:
    return [
        mvn,
        # A retry re-asks the repository for what failed (else Maven reports the cached failure).
        *(["-U"] if retry else []),
        "-B",  # batch mode: one log line per downloaded file, no colour, no prompts
        "-Dstyle.color=never",
        "-Dmaven.wagon.http.retryHandler.count=3",  # transient HTTP failures, per request
        "-f",
        str(pom),
        "dependency:build-classpath",
        f"-Dmdep.outputFile={out}",
    ]


def _run_maven(command: list[str], fetched: Fetched, on_fetch: OnFetch | None) -> tuple[int, str]:
    """Run Maven, counting downloads as its log reports them; (exit code, log tail)."""
    tail: list[str] = []
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        tail = [*tail[-59:], line.rstrip()]
        found = _DOWNLOADED.search(line)
        if found:
            fetched.files += 1
            size = float(found.group(2).replace(",", ""))
            fetched.bytes += int(size * _UNITS[found.group(3)])
            fetched.last = found.group(1).rsplit("/", 1)[-1]
            if on_fetch:
                on_fetch(fetched)
    return proc.wait(), "\n".join(tail)


def _maven_failure(log_tail: str) -> str:
    """The line of Maven's log that names what failed, else its last error lines."""
    errors = [ln for ln in log_tail.splitlines() if ln.startswith("[ERROR]")]
    named = [
        ln for ln in errors if "Could not" in ln or "Failed to" in ln or "resolve" in ln.lower()
    ]
    return "\n".join((named or errors or log_tail.splitlines())[:6])[-1500:]


def _resolve_runtime(
    cache: Path,
    echo,
    on_fetch: OnFetch | None,
    *,
    pom: Path = POM,
    pauses: tuple[float, ...] = _RETRY_PAUSE_S,
) -> tuple[str, Path]:
    cp_file, classes = cache / "classpath.txt", cache / "classes"
    echo(
        f"Preparing the local Neo4j 5.26: the first run on a machine downloads about "
        f"{FIRST_DOWNLOAD_MB} MB of jars from Maven Central, once (cached in Maven's repository "
        f"and {cache})."
    )
    mvn = _need("mvn")
    tmp_cp = cache / "classpath.tmp"
    fetched = Fetched()
    for attempt in range(1, RESOLVE_ATTEMPTS + 1):
        tmp_cp.unlink(missing_ok=True)
        code, log_tail = _run_maven(
            _maven_command(mvn, tmp_cp, pom, retry=attempt > 1), fetched, on_fetch
        )
        if code == 0 and tmp_cp.exists():
            break
        failure = _maven_failure(log_tail)
        if attempt == RESOLVE_ATTEMPTS:
            raise LocalServerError(
                f"Maven could not resolve Neo4j 5.26 after {RESOLVE_ATTEMPTS} attempts "
                f"({fetched.files} files, {fetched.bytes / 1e6:.1f} MB fetched before failing):\n"
                f"{failure}\nWhat was downloaded is kept; retry with `c360 neo4j prepare` "
                "(check that Maven Central is reachable, or set NEO4J_URI to use another server)."
            )
        pause = pauses[min(attempt, len(pauses)) - 1]
        echo(f"Maven failed (attempt {attempt} of {RESOLVE_ATTEMPTS}): {failure.splitlines()[0]}")
        echo(f"Retrying in {pause:.0f} s; files already downloaded are kept.")
        time.sleep(pause)
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
    echo(f"Neo4j runtime ready ({fetched.files} files, {fetched.bytes / 1e6:.1f} MB downloaded).")
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


def _is_our_server(pid: int, data_dir: Path) -> bool:
    """Whether the process is this project's launcher serving ``data_dir`` (not a reused pid)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"Launcher" in args and os.fsencode(str(data_dir)) in args


def _server_port(pid: int) -> int | None:
    """The Bolt port our launcher was started with (its argument after the data directory)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        return int(args[args.index(b"Launcher") + 2])
    except (OSError, ValueError, IndexError):
        return None


def _read_pid(settings: Settings) -> int | None:
    """The pid of the server of this data directory, if it runs; a stale pid file is removed."""
    pid_file = _pid_file(settings)
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    if pid_alive(pid) and _is_our_server(pid, settings.local_data_dir):
        return pid
    pid_file.unlink(missing_ok=True)
    return None


def port_holder(port: int) -> int | None:
    """The pid of the process listening on TCP ``port`` (any address), from /proc; else None."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(cols[9])
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in wanted:
                    return int(proc.name)
        except OSError:
            continue
    return -1  # listening, but the holder is not visible to us


def check_port(settings: Settings) -> None:
    """Refuse, naming the port and its holder, when the Bolt port is held by another process
    than this data directory's own server."""
    if not settings.uses_local_server:
        return
    port = settings.neo4j_local_port
    holder = port_holder(port)
    if holder is None or holder == _read_pid(settings):
        return
    who = "a process not visible to this user" if holder < 0 else f"pid {holder}"
    if holder > 0:
        try:
            cmd = Path(f"/proc/{holder}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            who += f" ({cmd.strip()[:160]})"
        except OSError:
            pass
    raise LocalServerError(
        f"port {port} is held by {who}, which is not the Neo4j of {settings.local_data_dir}. "
        "Stop that process or choose another port (NEO4J_LOCAL_PORT; for the tests "
        "C360_TEST_NEO4J_PORT and C360_TEST_BENCH_PORT)."
    )


def _version_from_log(settings: Settings, since: int = 0) -> str | None:
    """The version the server printed when ready; ``since``: the log's size before this start
    (the log is appended to, and an earlier start's "ready" line must not count)."""
    try:
        with _log_file(settings).open("rb") as fh:
            fh.seek(since)
            text = fh.read().decode(errors="replace")
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


def start(
    settings: Settings,
    *,
    echo=print,
    stop_with_pid: int | None = None,
    download: bool = True,
    on_fetch: OnFetch | None = None,
) -> ServerStatus:
    """Start the local server (or report the running one) and wait until Bolt answers.

    ``stop_with_pid``: the server stops by itself when that process ends (killed or not); without
    it the server runs until ``stop``. ``download=False`` refuses to start when the runtime is not
    prepared yet instead of downloading it (tests: a one-time download is no test's business).
    """
    if not settings.uses_local_server:
        raise LocalServerError(f"NEO4J_URI is set ({settings.neo4j_uri}); nothing to start")
    current = status(settings)
    if current.running and current.pid is not None and _shutting_down(settings):
        # the previous server of this data directory is on its way out (its owner was stopped:
        # Ctrl-C of `make demo` and the same command again): let it go, then start anew
        _wait_for_exit(current.pid, settings.neo4j_start_timeout_s)
        current = status(settings)
    if current.running:
        port = _server_port(current.pid) if current.pid else None
        if port is not None and port != settings.neo4j_local_port:
            raise LocalServerError(
                f"the Neo4j of {settings.local_data_dir} already runs (pid {current.pid}) on "
                f"port {port}, not on {settings.neo4j_local_port}; stop it (`c360 neo4j stop`) "
                "or use its port"
            )
        _wait_for_bolt(settings, current.pid, _after_last_stop(settings))
        return status(settings)
    check_port(settings)
    if not download and not runtime_ready(settings):
        raise LocalServerError(
            "the local Neo4j runtime is not prepared (a one-time download of about "
            f"{FIRST_DOWNLOAD_MB} MB); run `c360 neo4j prepare` first (`make test` and "
            "`make demo` do)"
        )
    classpath, classes = prepare(settings, echo=echo, on_fetch=on_fetch)
    data_dir = settings.local_data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    _refuse_during_offline_work(settings)
    settle_import(settings)
    java = _need("java")
    env = {**os.environ, "C360_NEO4J_PASSWORD": settings.neo4j_password.get_secret_value()}
    env.pop("C360_NEO4J_STOP_WITH_PID", None)
    if stop_with_pid is not None:
        env["C360_NEO4J_STOP_WITH_PID"] = str(stop_with_pid)
    heap = settings.neo4j_heap
    command = [
        java,
        f"-Xms{heap}",
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        "-XX:+ExitOnOutOfMemoryError",
        "-Dfile.encoding=UTF-8",
        "-cp",
        os.pathsep.join([str(classes), classpath, *_extra_classpath()]),
        "Launcher",
        str(data_dir),
        str(settings.neo4j_local_port),
        settings.neo4j_pagecache,
    ]
    pid, since = _launch(settings, command, env)
    tied = f", stops with pid {stop_with_pid}" if stop_with_pid is not None else ""
    echo(f"Starting Neo4j (pid {pid}{tied}), waiting for Bolt on {settings.bolt_uri}...")
    _wait_for_bolt(settings, pid, since)
    return status(settings)


def _launch(settings: Settings, command: list[str], env: dict[str, str]) -> tuple[int, int]:
    """Start the server process, its output appended to the log: its pid, and where its own
    lines begin in the log."""
    log = _log_file(settings)
    since = log.stat().st_size if log.exists() else 0
    with open(log, "ab") as log_fh:
        # (a server still starting is not the previous one shutting down: _shutting_down)
        log_fh.write(STARTING + b"\n")
        log_fh.flush()
        proc = subprocess.Popen(
            command,
            stdout=log_fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    _pid_file(settings).write_text(str(proc.pid))
    return proc.pid, since


# the launcher's two ways of saying it stops: its owner ended, or a signal ran its shutdown hook
_STOPPING = re.compile(rb"c360-neo4j: (?:process \S+ ended; )?shutting down")
STARTING = b"c360-neo4j: starting"  # written to the log before the launcher starts


def _shutting_down(settings: Settings) -> bool:
    """Whether the server's log says it is shutting down since it last started or said it was
    ready (before either, the lines are an earlier server's)."""
    try:
        log = _log_file(settings).read_bytes()
    except OSError:
        return False
    since = max(log.rfind(b"c360-neo4j: ready"), log.rfind(STARTING), 0)
    return _STOPPING.search(log, since) is not None


def _wait_for_exit(pid: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while pid_alive(pid):
        if time.monotonic() > deadline:
            raise LocalServerError(
                f"the previous Neo4j of this data directory (pid {pid}) is shutting down and did "
                f"not end within {timeout_s:.0f}s; stop it (`c360 neo4j stop`) and start again"
            )
        time.sleep(0.2)


def _extra_classpath() -> list[str]:
    """Jars a benchmark adds to the server (``C360_NEO4J_EXTRA_CLASSPATH``, path-separated: the
    comparison with @neo4j/graphql adds APOC; with ``C360_NEO4J_PLUGINS`` naming a folder of
    procedures outside the data directory, a killed run leaves nothing behind)."""
    extra = os.environ.get("C360_NEO4J_EXTRA_CLASSPATH", "")
    return [jar for jar in extra.split(os.pathsep) if jar]


def _after_last_stop(settings: Settings) -> int:
    """Where in the log the running server's own lines begin: after the last "shutting down"
    (a server started by another process may still be starting; an earlier one's "ready"
    line must not count)."""
    try:
        data = _log_file(settings).read_bytes()
    except OSError:
        return 0
    stops = list(_STOPPING.finditer(data))
    return stops[-1].start() if stops else 0


def _wait_for_bolt(settings: Settings, pid: int | None, since: int = 0) -> None:
    deadline = time.monotonic() + settings.neo4j_start_timeout_s
    while time.monotonic() < deadline:
        if pid is not None and not pid_alive(pid):
            tail = _log_file(settings).read_text(errors="replace")[-3000:]
            raise LocalServerError(f"Neo4j exited during start-up. Log tail:\n{tail}")
        if _version_from_log(settings, since) and _bolt_answers(settings):
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


T = TypeVar("T")


def restart_around(settings: Settings, work: Callable[[], T], *, echo=print) -> T:
    """Stop the running local server, run ``work`` on its stopped database (the offline
    importer: graph/bulk_import.py), and start the same server again: the same command line and
    environment, so a server tied to a test run or a benchmark stays tied to it. The server is
    started again whether ``work`` succeeds or fails."""
    pid = _read_pid(settings)
    if pid is None:
        raise LocalServerError(f"no local Neo4j of {settings.local_data_dir} runs")
    command = [a.decode() for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    environ = dict(
        item.decode().split("=", 1)
        for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        if b"=" in item
    )
    # (held until the server runs again: a start meanwhile is refused)
    with _offline_work(
        settings, f"another offline import into {settings.local_data_dir} is running"
    ):
        echo(f"Stopping Neo4j (pid {pid}) for the offline import …")
        stop(settings)
        try:
            return work()
        finally:
            settle_import(settings)  # (never a start beside a replacement left half-done)
            pid, since = _launch(settings, command, environ)
            echo(f"Starting Neo4j again (pid {pid}), waiting for Bolt on {settings.bolt_uri}...")
            _wait_for_bolt(settings, pid, since)


# An offline import (graph/bulk_import.py) builds its database beside the server's, under this
# name, and only a finished import takes the server's database's place: an import killed half-way
# leaves the server's database as it was.
STAGED_SUFFIX = "-import"
_KINDS = ("databases", "transactions")  # the store's folder and its transaction logs' folder
# Neo4j's rule for a database name, once lower-cased (as it names the database's folders)
_DATABASE_NAME = re.compile(r"[a-z][a-z0-9.\-]{2,62}")


def _folder(settings: Settings) -> str | None:
    """The name of the database's folders (Neo4j lower-cases the name), or None for a name
    Neo4j would not take (no folder of ours can exist beside it)."""
    name = settings.neo4j_database.lower()
    return name if _DATABASE_NAME.fullmatch(name + STAGED_SUFFIX) else None


def staged_database(settings: Settings) -> str:
    """The name the offline importer writes the database under (``neo4j-import``)."""
    folder = _folder(settings)
    if folder is None:
        raise LocalServerError(
            f"NEO4J_DATABASE={settings.neo4j_database!r}: an offline import needs a name of "
            f"letters, digits, dots and dashes, starting with a letter, of at most "
            f"{63 - len(STAGED_SUFFIX)} characters"
        )
    return folder + STAGED_SUFFIX


def _imported_marker(data: Path, folder: str) -> Path:
    return data / f"{folder}{STAGED_SUFFIX}.imported"


def clear_staged(settings: Settings) -> None:
    """Remove what an earlier import left beside the database (the server is stopped)."""
    data, folder = settings.local_data_dir / "data", _folder(settings)
    if folder is None:
        return
    _imported_marker(data, folder).unlink(missing_ok=True)
    for kind in _KINDS:
        shutil.rmtree(data / kind / (folder + STAGED_SUFFIX), ignore_errors=True)
        shutil.rmtree(data / kind / f"{folder}.replaced", ignore_errors=True)


def replace_database(settings: Settings) -> None:
    """The database the importer finished takes the place of the server's (stopped) one."""
    data, staged = settings.local_data_dir / "data", staged_database(settings)
    missing = [kind for kind in _KINDS if not (data / kind / staged).is_dir()]
    if missing:
        raise LocalServerError(
            f"the importer ended without writing {' and '.join(missing)} of {data / '*' / staged}; "
            "the server's database is left as it was"
        )
    _imported_marker(data, staged.removesuffix(STAGED_SUFFIX)).write_text(
        settings.neo4j_database, encoding="utf-8"
    )
    settle_import(settings)


def settle_import(settings: Settings) -> None:
    """Before a start: finish a replacement of the database that was cut short (the marker says
    the import had finished), and remove what an unfinished import left. Each step is a rename
    within one folder, so a process killed between two steps leaves a state this resumes from."""
    data, folder = settings.local_data_dir / "data", _folder(settings)
    if folder is None:
        return
    if _imported_marker(data, folder).exists():
        for kind in _KINDS:
            live, old = data / kind / folder, data / kind / f"{folder}.replaced"
            new = data / kind / (folder + STAGED_SUFFIX)
            if not new.exists():  # (moved before the cut)
                continue
            if live.exists():
                shutil.rmtree(old, ignore_errors=True)
                live.rename(old)
            new.rename(live)
    clear_staged(settings)


@contextlib.contextmanager
def _offline_work(settings: Settings, busy: str) -> Iterator[None]:
    """Held while a load has the server stopped to import into its database (restart_around);
    raises ``busy`` (a LocalServerError) when another process holds it."""
    with open(settings.local_data_dir / "c360-offline.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LocalServerError(busy) from None
        yield


def _refuse_during_offline_work(settings: Settings) -> None:
    """A start while a load has stopped the server to import into its database is refused
    (the import would replace the database under the started server)."""
    with _offline_work(
        settings,
        f"an offline import into {settings.local_data_dir} is running (`c360 load "
        "--bulk-import` stopped the server and starts it again when it ends)",
    ):
        pass


def classpath(settings: Settings) -> str:
    """The Java classpath of the resolved Neo4j (its admin tool and importer included)."""
    return prepare(settings)[0]
