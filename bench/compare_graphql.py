"""Our API against @neo4j/graphql on the same graph: the customer-360 read of an RM's own customers.

Usage (on a graph our tools loaded and scored, the bench server's environment set as bench/run.py
sets it; ``python -m bench.run --phases compare`` does all of that):

    python -m bench.compare_graphql [--clients 8 32] [--seconds 10] [--rounds 3] [--rms 4]
                                    [--interactions 10 100] [--accounts 100]

Issue 24's measuring stick, not a dependency of the product. The library (bench/graphql_lib:
pinned @neo4j/graphql 7 behind Apollo Server, an ``@authorization`` rule that shows an RM the
customers they MANAGE) and ``c360 serve`` answer the same read (name, phone, e-mail, city,
accounts, household, relationship manager, last 10 interactions) for the same customers, with
the same HS256 token (our development secret), driven by the same asyncio client. Steps:

1. Neo4j restarted with APOC core on its classpath and as its plugins folder (the library's
   Cypher calls ``apoc.date.convertFormat``): jars from Maven Central (graph_lib/apoc/pom.xml),
   given to the server for this phase only (``C360_NEO4J_EXTRA_CLASSPATH``,
   ``C360_NEO4J_PLUGINS``), so the bench server is left as the product runs it.
2. The sample: the books of the ``--rms`` relationship managers with the most customers, read
   through our API as admin (``customers(filter: {relationshipManagerId})``); 100 foreign
   customers (managed by someone else) for the refusal check.
3. The check: every book customer through both servers with their RM's token, answers compared
   field by field; each foreign customer asked by the first RM: both must give nothing.
4. Interleaved rounds: each round measures every level on both servers (which one goes first
   alternates), ``--seconds`` each; req/s, p50/p95/p99, and the CPU per request of each server
   process and of Neo4j from /proc (utime+stime deltas over the requests: on a shared machine the
   fair figure, where req/s also measures the neighbours). In each round, the same level also
   as raw Cypher (the ``raw`` arm): the very reads our API sent the graph for each of the
   jobs (recorded from the app run in this process), replayed through the async driver at the
   same concurrency, without HTTP, GraphQL or the audit: our p99 ÷ its p99 per round.
5. Larger answers (``--interactions 10 100``): steps 3 and 4 again after each book customer is
   given that many interactions (older than its own, ids ``BENCH-…``; deleted at the end), so
   how each server's cost grows with the answer is measured too; then (``--accounts 100``) the
   same with the first size of interactions and each book customer holding that many accounts
   (ids ``BENCH-…``, deleted at the end too).

Prints a table of ratios ours ÷ library, median [min-max] over the rounds, and returns the
figures as a dict (bench/run.py puts them in its report). Only 127.0.0.1 is contacted, apart from
npm's and Maven Central's registries on the first run.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import httpx
from neo4j import Query

from auth.policy import Role
from auth.tokens import DevTokenRequest, issue_dev_token
from bench.api_load import start_api, start_profiler, summarise_profile
from core.settings import Settings, get_settings
from graph import local_server
from graph.queries import bench as bq

LIB_DIR = Path(__file__).resolve().parent / "graphql_lib"
# The larger answers: (what gives the books' customers more of it, what removes it again).
PADDING = {
    "interactions": (bq.PAD_INTERACTIONS, bq.UNPAD_INTERACTIONS),
    "accounts": (bq.PAD_ACCOUNTS, bq.UNPAD_ACCOUNTS),
}
APOC_POM = LIB_DIR / "apoc" / "pom.xml"
CLK_TCK = os.sysconf("SC_CLK_TCK")

OURS = """query C360($id: ID!, $n: Int!) { customer(id: $id) {
  id name phone email city
  accounts { id productType balance }
  householdMembership { household { id name } }
  relationshipManager { id name }
  timeline(first: $n) { edges { node { id channel kind occurredAt summary } } }
} }"""
LIBRARY = """query C360($id: ID!, $n: Int!) { customers(where: { id: { eq: $id } }) {
  id name phone email city
  accounts { id productType balance }
  households { id name }
  relationshipManager { id name }
  interactions(sort: [{ occurredAt: DESC }, { id: DESC }], limit: $n) {
    id channel kind occurredAt summary
  }
} }"""
BOOK = """query Book($rm: ID!, $after: String) {
  customers(filter: { relationshipManagerId: $rm }, first: 100, after: $after) {
    pageInfo { hasNextPage endCursor } edges { node { id } } } }"""
SOME_CUSTOMERS = """query Some($after: String) { customers(first: 100, after: $after) {
  pageInfo { hasNextPage endCursor } edges { node { id relationshipManager { id } } } } }"""


# -- the two answers, in one shape ----------------------------------------------------------------
def _instant(text: str | None) -> str | None:
    return None if text is None else dt.datetime.fromisoformat(text).isoformat()


def _interaction(i: dict) -> tuple:
    return (i["id"], i["channel"], i["kind"], _instant(i["occurredAt"]), i["summary"])


def _common(c: dict, household: dict | None, rm: dict | None, interactions: list[dict]) -> dict:
    return {
        "id": c["id"],
        "name": c["name"],
        "phone": c["phone"],
        "email": c["email"],
        "city": c["city"],
        "accounts": sorted((a["id"], a["productType"], a["balance"]) for a in c["accounts"]),
        "household": household and (household["id"], household["name"]),
        "rm": rm and (rm["id"], rm["name"]),
        "interactions": [_interaction(i) for i in interactions],
    }


def ours_profile(answer: dict) -> dict | None:
    """Our answer in the common shape; None when the customer was refused (not visible)."""
    c = (answer.get("data") or {}).get("customer")
    if c is None:
        return None
    membership = c["householdMembership"]
    edges = c["timeline"]["edges"] if c["timeline"] else []
    return _common(
        c,
        membership and membership["household"],
        c["relationshipManager"],
        [e["node"] for e in edges],
    )


def library_profile(answer: dict) -> dict | None:
    """The library's answer in the common shape; None when it returned no customer."""
    found = (answer.get("data") or {}).get("customers") or []
    if not found:
        return None
    c = found[0]
    if len(c["households"]) > 1 or len(c["relationshipManager"]) > 1:
        raise ValueError(f"{c['id']}: more than one household or manager: {c}")
    return _common(
        c,
        (c["households"] or [None])[0],
        (c["relationshipManager"] or [None])[0],
        c["interactions"],
    )


# -- processes ------------------------------------------------------------------------------------
def cpu_ticks(pid: int) -> int:
    """utime + stime of a process and of its child processes (uvicorn workers), in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for child in children.read_text().split() if children.exists() else []:
        with contextlib.suppress(OSError):
            ticks += cpu_ticks(int(child))
    return ticks


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def install_library(echo: Callable[[str], object] = print) -> None:
    """``npm ci`` of the pinned packages, once (node_modules kept next to the lock file)."""
    stamp = LIB_DIR / "node_modules" / ".package-lock.json"
    lock = LIB_DIR / "package-lock.json"
    if stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    npm = shutil.which("npm")
    if not npm:
        raise SystemExit("compare: `npm` (Node.js 18 or later) is needed for the library's server")
    echo("compare: npm ci in bench/graphql_lib (the pinned @neo4j/graphql, once) …")
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=LIB_DIR, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"compare: npm ci failed:\n{(done.stdout + done.stderr)[-2000:]}")


def apoc_jars(work: Path, echo: Callable[[str], object] = print) -> list[Path]:
    """APOC core and what it needs, from Maven Central (apoc/pom.xml), into ``work/apoc-jars``."""
    out = work / "apoc-jars"
    stamp = out / ".pom"
    if stamp.exists() and stamp.read_text() == APOC_POM.read_text():
        return sorted(out.glob("*.jar"))
    shutil.rmtree(out, ignore_errors=True)
    echo("compare: APOC core from Maven Central (once) …")
    done = subprocess.run(
        ["mvn", "-B", "-q", "-Dstyle.color=never", "-f", str(APOC_POM),
         "dependency:copy-dependencies", f"-DoutputDirectory={out}", "-DincludeScope=runtime"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"compare: Maven could not fetch APOC:\n{done.stdout[-2000:]}")
    stamp.write_text(APOC_POM.read_text())
    return sorted(out.glob("*.jar"))


@contextlib.contextmanager
def neo4j_with_apoc(settings: Settings, work: Path, echo=print) -> Iterator[int]:
    """The bench server restarted with APOC; yields its pid; restarted without it after.

    APOC's extension (its ApocConfig) is found on the JVM classpath only and its procedures in
    the plugins folder, so the jars go in both: ``C360_NEO4J_EXTRA_CLASSPATH`` and
    ``C360_NEO4J_PLUGINS`` (graph/local_server.py, graph/server/Launcher.java), a folder under
    ``work``: nothing is written into the data directory, so a killed run leaves nothing that
    a normal start would load."""
    jars = apoc_jars(work, echo)
    plugins = work / "apoc-plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    for jar in jars:
        shutil.copy2(jar, plugins / jar.name)
    local_server.stop(settings)
    os.environ["C360_NEO4J_EXTRA_CLASSPATH"] = os.pathsep.join(map(str, jars))
    os.environ["C360_NEO4J_PLUGINS"] = str(plugins)
    try:
        status = local_server.start(settings, echo=echo, stop_with_pid=os.getpid())
        assert status.pid is not None
        yield status.pid
    finally:
        local_server.stop(settings)
        os.environ.pop("C360_NEO4J_EXTRA_CLASSPATH", None)
        os.environ.pop("C360_NEO4J_PLUGINS", None)


def start_library(settings: Settings) -> tuple[subprocess.Popen, str]:
    """``node server.mjs`` on a free loopback port, once it answers a query."""
    node = shutil.which("node")
    if not node:
        raise SystemExit("compare: `node` is needed for the library's server")
    port = _free_port()
    env = {
        **os.environ,
        "NEO4J_URI": settings.bolt_uri,
        "NEO4J_USER": settings.neo4j_user,
        "NEO4J_PASSWORD": settings.neo4j_password.get_secret_value(),
        "PORT": str(port),
        "JWT_SECRET": settings.hs256_secret or "",
        "JWT_ISSUER": settings.jwt_issuer,
        "JWT_AUDIENCE": settings.jwt_audience,
        "NODE_ENV": "production",
    }
    log = open(Path(settings.local_data_dir).parent / "graphql-lib.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [node, str(LIB_DIR / "server.mjs")], cwd=LIB_DIR, env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}/graphql"
    for _ in range(200):
        with contextlib.suppress(httpx.HTTPError):
            if httpx.post(url, json={"query": "{ __typename }"}, timeout=2).status_code == 200:
                return server, url
        if server.poll() is not None:
            break
        time.sleep(0.3)
    server.terminate()
    raise SystemExit(f"compare: the library's server did not start; see {log.name}")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


# -- the sample and the check ---------------------------------------------------------------------
def _post(url: str, token: str, query: str, variables: dict, attempts: int = 6) -> dict:
    """One query; retried while our API answers SERVICE_UNAVAILABLE (its 4 s bound on a read
    meets a cold page cache after the restart on a busy machine)."""
    for attempt in range(attempts):
        r = httpx.post(
            url,
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        r.raise_for_status()
        answer = r.json()
        codes = {e.get("extensions", {}).get("code") for e in answer.get("errors") or []}
        if "SERVICE_UNAVAILABLE" not in codes or attempt == attempts - 1:
            return answer
        time.sleep(2)
    raise AssertionError("unreachable")


def _pages(url: str, token: str, query: str, field: str, variables: dict, limit: int):
    after, seen = None, 0
    while seen < limit:
        answer = _post(url, token, query, {**variables, "after": after})
        if answer.get("errors"):
            raise SystemExit(f"compare: our API refused the sample query: {answer['errors']}")
        page = answer["data"][field]
        for edge in page["edges"]:
            seen += 1
            yield edge["node"]
        if not page["pageInfo"]["hasNextPage"]:
            return
        after = page["pageInfo"]["endCursor"]


def sample(url: str, settings: Settings, rms: int, foreign: int = 100) -> dict:
    """The books of the ``rms`` RMs with most customers among the first 3,000, as our API lists
    them to an admin, and ``foreign`` customers none of those RMs manages."""
    admin = issue_dev_token(settings, DevTokenRequest(role=Role.ADMIN, subject="bench-compare"))
    managers: dict[str, list[str]] = {}
    unmanaged: list[str] = []
    for node in _pages(url, admin, SOME_CUSTOMERS, "customers", {}, 3000):
        rm = node["relationshipManager"]
        if rm:
            managers.setdefault(rm["id"], []).append(node["id"])
        else:
            unmanaged.append(node["id"])
    chosen = sorted(managers, key=lambda e: (-len(managers[e]), e))[:rms]
    books = {
        rm: [n["id"] for n in _pages(url, admin, BOOK, "customers", {"rm": rm}, 100_000)]
        for rm in chosen
    }
    others = [c for rm, ids in managers.items() if rm not in chosen for c in ids] + unmanaged
    rng = random.Random(24)
    return {
        "books": books,
        "foreign": rng.sample(others, min(foreign, len(others))),
        "tokens": {
            rm: issue_dev_token(
                settings, DevTokenRequest(role=Role.RELATIONSHIP_MANAGER, employee_id=rm)
            )
            for rm in chosen
        },
    }


async def _ask_all(
    url: str, query: str, jobs: list[tuple[str, str]], n: int, clients: int = 8
) -> list:
    """Each (token, customer id) once, ``clients`` at a time; the JSON answers in order. An
    answer of SERVICE_UNAVAILABLE (our 4 s bound on a read, on a cold cache) is asked again."""
    out: list = [None] * len(jobs)
    queue = list(enumerate(jobs))

    async def worker(session: aiohttp.ClientSession) -> None:
        while queue:
            i, (token, cid) = queue.pop()
            for _ in range(5):
                async with session.post(
                    url,
                    json={"query": query, "variables": {"id": cid, "n": n}},
                    headers={"Authorization": f"Bearer {token}"},
                ) as resp:
                    out[i] = await resp.json()
                codes = {e.get("extensions", {}).get("code") for e in out[i].get("errors") or []}
                if "SERVICE_UNAVAILABLE" not in codes:
                    break

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        await asyncio.gather(*(worker(session) for _ in range(clients)))
    return out


def check(ours_url: str, lib_url: str, s: dict, n: int = 10) -> dict:
    """Both servers on every book customer (same data?) and on the foreign ones (refused?),
    with the last ``n`` interactions."""
    jobs = [(s["tokens"][rm], cid) for rm, ids in s["books"].items() for cid in ids]
    ours_answers = asyncio.run(_ask_all(ours_url, OURS, jobs, n))
    ours = [ours_profile(a) for a in ours_answers]
    lib = [library_profile(a) for a in asyncio.run(_ask_all(lib_url, LIBRARY, jobs, n))]
    differ = [
        {"customer": cid, "ours": o, "library": li}
        for (_, cid), o, li in zip(jobs, ours, lib, strict=True)
        if o != li or o is None
    ]
    first = next(iter(s["tokens"].values()))
    far = [(first, cid) for cid in s["foreign"]]
    ours_far = [ours_profile(a) for a in asyncio.run(_ask_all(ours_url, OURS, far, n))]
    lib_far = [library_profile(a) for a in asyncio.run(_ask_all(lib_url, LIBRARY, far, n))]
    fields: dict[str, int] = {}
    masked = 0  # differences where each of our differing values is masked (a '*' in it)
    for d in differ:
        o, li = d["ours"] or {}, d["library"] or {}
        keys = [k for k in o.keys() | li.keys() if o.get(k) != li.get(k)]
        for k in keys:
            fields[k] = fields.get(k, 0) + 1
        masked += bool(keys) and all("*" in json.dumps(o.get(k), ensure_ascii=False) for k in keys)
    return {
        "customers": len(jobs),
        "identical": len(jobs) - len(differ),
        "differing_fields": fields,
        "differences_masked_by_ours": masked,
        "own_refused_ours": sum(p is None for p in ours),
        "own_refused_library": sum(p is None for p in lib),
        "errors_ours": sorted({e["message"] for a in ours_answers for e in a.get("errors") or []})[
            :5
        ],
        "differences": differ[:5],
        "foreign": len(far),
        "foreign_refused_ours": sum(p is None for p in ours_far),
        "foreign_refused_library": sum(p is None for p in lib_far),
        # our scope is wider (the RM's households, one referral hop): a foreign customer in it
        "foreign_shown_by_ours": [cid for (_, cid), p in zip(far, ours_far, strict=True) if p],
        # the size of the answers (the fewest over the book's customers, in ours)
        "fewest_accounts": min((len(p["accounts"]) for p in ours if p), default=0),
        "fewest_interactions": min((len(p["interactions"]) for p in ours if p), default=0),
    }


# -- the load -------------------------------------------------------------------------------------
def _pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else (values or [0.0])[0]


async def _drive(
    url: str, query: str, jobs: list[tuple[str, str]], clients: int, seconds: float, n: int
):
    lat: list[float] = []
    errors = 0
    kinds: collections.Counter[str] = collections.Counter()  # what the failed answers said
    deadline = time.monotonic() + seconds

    async def worker(seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            while time.monotonic() < deadline:
                token, cid = rng.choice(jobs)
                started = time.perf_counter()
                try:
                    async with session.post(
                        url,
                        json={"query": query, "variables": {"id": cid, "n": n}},
                        headers={"Authorization": f"Bearer {token}"},
                    ) as resp:
                        answer = await resp.json()
                        failed = resp.status != 200 or bool(answer.get("errors"))
                        if failed:
                            codes = [
                                e.get("extensions", {}).get("code") or e.get("message", "")[:60]
                                for e in answer.get("errors")
                                or [{"message": f"HTTP {resp.status}"}]
                            ]
                            kinds.update(codes)
                except (aiohttp.ClientError, TimeoutError, ValueError) as exc:  # counted, goes on
                    failed = True
                    kinds[type(exc).__name__] += 1
                lat.append((time.perf_counter() - started) * 1000)
                errors += failed

    started = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(clients)))
    return lat, errors, dict(kinds), time.monotonic() - started


def our_reads(settings: Settings, jobs: list[tuple[str, str]], n: int) -> list[list[tuple]]:
    """Per job (token, customer), the reads our API sends the graph for the customer-360 read
    with the last ``n`` interactions (the audit's write left out): recorded on the wire side from
    the app itself, run in this process (c360.app.create_app behind starlette's TestClient),
    its driver's sessions a recording subclass of the driver's own class. The raw-Cypher arm
    replays exactly these: the query texts, timeouts and parameters the resolvers chose, not a
    copy. A job our API cannot answer (a graph busy after the padding: retried like
    :func:`_post`) is left out of the replay; none answered stops the phase."""
    from neo4j import READ_ACCESS, AsyncSession
    from starlette.testclient import TestClient

    from c360.app import create_app

    recorded: list[tuple[str, float | None, dict]] = []

    class Recording(AsyncSession):
        async def run(self, query, parameters=None, **kwargs):  # type: ignore[override]
            if self._config.default_access_mode == READ_ACCESS:
                text = getattr(query, "text", query)
                recorded.append(
                    (text, getattr(query, "timeout", None), {**(parameters or {}), **kwargs})
                )
            return await super().run(query, parameters, **kwargs)

    unlimited = settings.model_copy(
        update={"rate_limit_per_second": 1e9, "rate_limit_burst": 1_000_000_000}
    )
    out = []
    with TestClient(create_app(unlimited, apply_migration=False)) as client:
        driver = client.app.state.driver  # type: ignore[attr-defined]

        class RecordingDriver(type(driver)):  # type: ignore[misc]
            def _session(self, session_config):
                return Recording(self._pool, session_config)

        driver.__class__ = RecordingDriver
        for token, cid in jobs:
            for attempt in range(6):
                recorded.clear()
                answer = client.post(
                    "/graphql",
                    json={"query": OURS, "variables": {"id": cid, "n": n}},
                    headers={"Authorization": f"Bearer {token}"},
                )
                body = answer.json() if answer.status_code == 200 else {}
                if body.get("data") and not body.get("errors") and recorded:
                    out.append(list(recorded))
                    break
                time.sleep(0.5 * (attempt + 1))
    if not out:
        raise RuntimeError("our API answered none of the jobs in process: no raw arm")
    return out


async def _drive_raw(settings: Settings, reads: list[list[tuple]], clients: int, seconds: float):
    """``clients`` workers, each replaying a random job's reads through the async driver, one
    auto-commit read session per query (as the API's Context.read), until ``seconds`` pass."""
    from neo4j import READ_ACCESS

    from graph.driver import create_async_driver

    lat: list[float] = []
    errors = 0
    kinds: collections.Counter[str] = collections.Counter()
    driver = create_async_driver(settings)

    async def replay(job: list[tuple]) -> None:
        for text, timeout, params in job:
            async with driver.session(
                database=settings.neo4j_database, default_access_mode=READ_ACCESS
            ) as session:
                result = await session.run(Query(text, timeout=timeout), params)
                [r async for r in result]  # every record, as the resolvers take them

    try:
        # a connection per worker opened before the clock starts: the API's pool is warm too
        await asyncio.gather(*(replay(random.Random(i).choice(reads)) for i in range(clients)))
        deadline = time.monotonic() + seconds

        async def worker(seed: int) -> None:
            nonlocal errors
            rng = random.Random(seed)
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    async with asyncio.timeout(60):
                        await replay(rng.choice(reads))
                except Exception as exc:  # noqa: BLE001 - counted, goes on
                    errors += 1
                    kinds[type(exc).__name__] += 1
                lat.append((time.perf_counter() - started) * 1000)

        started = time.monotonic()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        return lat, errors, dict(kinds), time.monotonic() - started
    finally:
        await driver.close()


def measure_raw(settings: Settings, reads, clients: int, seconds: float, neo4j_pid: int) -> dict:
    """The raw-Cypher arm at one level: latency, throughput, Neo4j's CPU per request (the
    driver runs in this process, the load generator's: no server CPU of its own)."""
    neo0 = cpu_ticks(neo4j_pid)
    lat, errors, kinds, elapsed = asyncio.run(_drive_raw(settings, reads, clients, seconds))
    return _figures(lat, errors, kinds, elapsed) | {
        "neo4j_cpu_ms": _per_request(cpu_ticks(neo4j_pid) - neo0, lat)
    }


def _figures(lat: list[float], errors: int, kinds: dict, elapsed: float) -> dict:
    """A level's requests, errors, throughput and latency percentiles (ms)."""
    return {
        "requests": len(lat),
        "errors": errors,
        "error_kinds": kinds,
        "rps": round(len(lat) / elapsed, 1),
        "p50": round(_pct(lat, 50), 1),
        "p95": round(_pct(lat, 95), 1),
        "p99": round(_pct(lat, 99), 1),
    }


def _per_request(ticks: int, lat: list[float]) -> float:
    """CPU ms per request from a process's clock ticks over a level."""
    return round(ticks * 1000 / CLK_TCK / max(len(lat), 1), 2)


def _median_spread(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
    }


def p99_over_raw(rounds: list[dict], clients: int) -> dict | None:
    """Per round: our p99 ÷ the raw-Cypher arm's, and their median, min and max (rounds where
    either arm had a failed request left out)."""
    values = [
        r[str(clients)]["ours"]["p99"] / r[str(clients)]["raw"]["p99"]
        for r in rounds
        if (r[str(clients)].get("raw") or {}).get("p99")
        and not r[str(clients)]["raw"]["errors"]
        and not r[str(clients)]["ours"]["errors"]
    ]
    return _median_spread(values) if values else None


def measure(url, query, jobs, clients, seconds, server_pid, neo4j_pid, n: int = 10) -> dict:
    """One level on one server, the last ``n`` interactions per profile: latency, throughput,
    CPU per request of the server and Neo4j."""
    server0, neo0 = cpu_ticks(server_pid), cpu_ticks(neo4j_pid)
    lat, errors, kinds, elapsed = asyncio.run(_drive(url, query, jobs, clients, seconds, n))
    return _figures(lat, errors, kinds, elapsed) | {
        "server_cpu_ms": _per_request(cpu_ticks(server_pid) - server0, lat),
        "neo4j_cpu_ms": _per_request(cpu_ticks(neo4j_pid) - neo0, lat),
    }


FIGURES = ("rps", "p50", "p95", "p99", "server_cpu_ms", "neo4j_cpu_ms")


def ratios(rounds: list[dict], clients: int) -> dict:
    """Per figure: ours ÷ library in each round, and their median, min and max."""
    out = {}
    for f in FIGURES:
        values = [
            r[str(clients)]["ours"][f] / r[str(clients)]["library"][f]
            for r in rounds
            if r[str(clients)]["library"][f]
        ]
        if values:
            out[f] = _median_spread(values)
    return out


def run_compare(
    settings: Settings,
    work: Path,
    clients_levels=(8, 32),
    seconds: float = 10.0,
    rounds: int = 3,
    rms: int = 4,
    echo: Callable[[str], object] = print,
    profile_dir: Path | None = None,
    answers: tuple[int, ...] = (10, 100),
    accounts: tuple[int, ...] = (100,),
) -> dict:
    """Everything of the module docstring; the figures as a dict. With ``profile_dir``, one
    more level of ours at the highest concurrency after the rounds (not in the figures), with
    py-spy sampling our server: where its time goes."""
    install_library(echo)
    out: dict = {"clients": list(clients_levels), "seconds": seconds}
    with neo4j_with_apoc(settings, work, echo) as neo4j_pid:
        api, api_port = start_api()
        lib, lib_url = start_library(settings)
        ours_url = f"http://127.0.0.1:{api_port}/graphql"
        try:
            s = sample(ours_url, settings, rms)
            jobs = [(s["tokens"][rm], cid) for rm, ids in s["books"].items() for cid in ids]
            out["sample"] = {"rms": {rm: len(ids) for rm, ids in s["books"].items()}}
            echo(f"compare: {len(jobs)} customers of {len(s['books'])} RMs' books; checking …")
            arms = {"ours": (ours_url, OURS, api.pid), "library": (lib_url, LIBRARY, lib.pid)}
            book = [cid for _, cid in jobs]
            unpad(settings)  # what a killed run may have left
            for n in answers:
                if n > 10:  # the books' customers given n interactions (removed after)
                    unpad(settings)
                    pad(settings, "interactions", book, n, echo)
                part = _compare_at(arms, s, jobs, n, clients_levels, seconds, rounds, neo4j_pid,
                                   echo, settings=settings)  # fmt: skip
                if profile_dir is not None and n in (answers[0], answers[-1]):
                    part |= _profile_ours(arms["ours"], jobs, n, max(clients_levels), seconds,
                                          neo4j_pid, profile_dir, echo)  # fmt: skip
                if n == answers[0]:
                    out |= part
                else:
                    out.setdefault("larger_answers", {})[str(n)] = part
            for m in accounts:  # the same read, the books' customers holding m accounts each
                unpad(settings)
                pad(settings, "accounts", book, m, echo)
                n = answers[0]
                label = f"{n} interactions and {m} accounts"
                part = _compare_at(arms, s, jobs, n, clients_levels, seconds, rounds, neo4j_pid,
                                   echo, label, settings=settings)  # fmt: skip
                part["accounts"] = m
                if profile_dir is not None:
                    part |= _profile_ours(arms["ours"], jobs, n, max(clients_levels), seconds,
                                          neo4j_pid, profile_dir, echo, f"accounts-{m}")  # fmt: skip
                out.setdefault("larger_accounts", {})[str(m)] = part
        finally:
            stop(api)
            stop(lib)
            unpad(settings)
    return out


def _profile_ours(ours, jobs, n, clients, seconds, neo4j_pid, profile_dir, echo, tag=None) -> dict:
    """One more level of ours at ``clients`` with py-spy sampling our server (not in the
    figures): where its time goes, with the last ``n`` interactions per profile (``tag``: the
    file's, ``n`` by default)."""
    url, query, pid = ours
    spy_out = profile_dir / f"compare-ours-profile-{tag or n}.txt"
    spy = start_profiler(pid, seconds, spy_out)
    measure(url, query, jobs, clients, seconds, pid, neo4j_pid, n)
    if spy is None:
        return {}
    spy.wait(timeout=120)
    if not spy_out.exists():
        return {}
    echo(f"compare: py-spy profile of our server, {tag or n} ({n} interactions): {spy_out}")
    return {
        "profile_ours": {"file": str(spy_out), "clients": clients, "interactions": n, "tag": tag}
        | summarise_profile(spy_out)
    }


def _compare_at(  # noqa: PLR0917
    arms, s, jobs, n, clients_levels, seconds, rounds, neo4j_pid, echo, label=None, settings=None
) -> dict:
    """The check and the interleaved rounds with the last ``n`` interactions per profile; with
    ``settings``, each level of each round also replays our reads as raw Cypher (the ``raw``
    arm: :func:`our_reads`), its place among the arms turning from round to round."""
    label = label or f"{n} interactions"
    part: dict = {"interactions": n, "rounds": []}
    part["check"] = check(arms["ours"][0], arms["library"][0], s, n)  # also warms both
    c = part["check"]
    echo(
        f"compare, {label}: identical answers for {c['identical']} of "
        f"{c['customers']}; foreign refused by ours {c['foreign_refused_ours']}/{c['foreign']}, "
        f"by the library {c['foreign_refused_library']}/{c['foreign']}"
    )
    for url, query, pid in arms.values():  # both processes warm before round 1
        measure(url, query, jobs, 8, min(seconds, 5.0), pid, neo4j_pid, n)
    reads = our_reads(settings, jobs, n) if settings is not None else None
    for r in range(rounds):
        this: dict = {}
        order = ["ours", "library"] if r % 2 == 0 else ["library", "ours"]
        if reads is not None:  # the raw arm's place turns too: first, between, last
            order.insert(r % 3, "raw")
        for clients in clients_levels:
            level = this.setdefault(str(clients), {})
            for arm in order:
                if arm == "raw":
                    level["raw"] = m = measure_raw(settings, reads, clients, seconds, neo4j_pid)
                    echo(
                        f"  round {r + 1}, {label}, {clients:>2} clients raw    : "
                        f"{m['rps']:>6} req/s p50 {m['p50']} p95 {m['p95']} p99 {m['p99']} ms, "
                        f"CPU/req Neo4j {m['neo4j_cpu_ms']} ms, errors {m['errors']}"
                    )
                    continue
                url, query, pid = arms[arm]
                level[arm] = m = measure(url, query, jobs, clients, seconds, pid, neo4j_pid, n)
                echo(
                    f"  round {r + 1}, {label}, {clients:>2} clients {arm:<7}: "
                    f"{m['rps']:>6} req/s p50 {m['p50']} p95 {m['p95']} p99 {m['p99']} ms, "
                    f"CPU/req server {m['server_cpu_ms']} ms Neo4j {m['neo4j_cpu_ms']} ms, "
                    f"errors {m['errors']}"
                )
        part["rounds"].append(this)
    part["ratios"] = {str(c): ratios(part["rounds"], c) for c in clients_levels}
    if reads is not None:
        part["p99_over_raw"] = {str(c): p99_over_raw(part["rounds"], c) for c in clients_levels}
    return part


def pad(settings: Settings, what: str, customer_ids: list[str], n: int, echo=print) -> None:
    """Give each of ``customer_ids`` at least ``n`` ``what`` (PADDING: interactions older than
    any it has, or accounts), ids BENCH-…, on the bench server only; :func:`unpad` removes them."""
    from graph import session
    from graph.driver import create_sync_driver
    from graph.queries.customers import reporting_currency

    driver = create_sync_driver(settings)
    try:
        for start in range(0, len(customer_ids), 200):
            session.run(
                driver,
                settings.neo4j_database,
                PADDING[what][0],
                customer_ids=customer_ids[start : start + 200],
                n=n,
                currency=reporting_currency(),
            )
    finally:
        driver.close()
    echo(f"compare: {len(customer_ids)} customers given {n} {what} each")


def unpad(settings: Settings) -> None:
    """What :func:`pad` made (every kind), deleted."""
    from graph import session
    from graph.driver import create_sync_driver

    driver = create_sync_driver(settings)
    try:
        for _, remove in PADDING.values():
            while session.run(driver, settings.neo4j_database, remove).nodes_deleted:
                pass
    finally:
        driver.close()


_LABELS = {
    "rps": "throughput (req/s)",
    "p50": "p50 latency",
    "p95": "p95 latency",
    "p99": "p99 latency",
    "server_cpu_ms": "server CPU per request",
    "neo4j_cpu_ms": "Neo4j CPU per request",
}


def table(r: dict) -> str:
    """Markdown: ratios ours ÷ library with the median of each arm's own figure beside them."""
    levels = [str(c) for c in r["clients"]]
    head = "| figure: ours ÷ @neo4j/graphql, median [min-max] of rounds | " + " | ".join(
        f"{c} clients (ours / library)" for c in levels
    )
    lines = [head + " |", "|---" + "|---" * len(levels) + "|"]
    for f, label in _LABELS.items():
        cells = []
        for c in levels:
            q = r["ratios"][c].get(f)
            med = {
                arm: statistics.median(rd[c][arm][f] for rd in r["rounds"])
                for arm in ("ours", "library")
            }
            cells.append(
                f"{q['median']} [{q['min']}-{q['max']}] ({med['ours']:g} / {med['library']:g})"
                if q
                else ""
            )
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if r.get("p99_over_raw"):  # ours ÷ our own reads as raw Cypher, not ÷ the library
        cells = []
        for c in levels:
            q = r["p99_over_raw"].get(c)
            raw = [rd[c]["raw"]["p99"] for rd in r["rounds"] if rd[c].get("raw")]
            cells.append(
                f"{q['median']} [{q['min']}-{q['max']}] (raw p99 {statistics.median(raw):g})"
                if q and raw
                else ""
            )
        lines.append(
            "| p99 ÷ our reads as raw Cypher (not ÷ the library) | " + " | ".join(cells) + " |"
        )
    c = r.get("check", {})
    if c:
        lines += [
            "",
            f"Same data for {c['identical']} of {c['customers']} customers of "
            f"{len(r['sample']['rms'])} RMs' books (fields that differ: "
            f"{c['differing_fields'] or 'none'}; {c['differences_masked_by_ours']} of them only "
            f"where ours masks; own customers refused: ours {c.get('own_refused_ours')}, "
            f"library {c.get('own_refused_library')}); foreign customers refused: ours "
            f"{c['foreign_refused_ours']}/{c['foreign']} (ours also shows the RM's households and "
            f"one referral hop), library {c['foreign_refused_library']}/{c['foreign']}. "
            "Latency and CPU in ms; "
            f"{len(r['rounds'])} interleaved rounds of {r['seconds']:g} s per level and server.",
        ]
    for n, part in (r.get("larger_answers") or {}).items():
        shared = {k: r[k] for k in ("clients", "seconds", "sample")}
        lines += ["", f"The same read with the last {n} interactions per profile:", ""]
        lines.append(table(shared | part))
    for m, part in (r.get("larger_accounts") or {}).items():
        shared = {k: r[k] for k in ("clients", "seconds", "sample")}
        lines += ["", f"The same read with {m} accounts per customer:", ""]
        lines.append(table(shared | part))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, nargs="+", default=[8, 32])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rms", type=int, default=4, help="relationship managers whose books to read")
    ap.add_argument(
        "--interactions", type=int, nargs="+", default=[10, 100],
        help="interactions per profile, one set of rounds each (at most MAX_PAGE_SIZE)",
    )  # fmt: skip
    ap.add_argument(
        "--accounts", type=int, nargs="*", default=[100],
        help="accounts per customer, one more set of rounds each (none: --accounts)",
    )  # fmt: skip
    ap.add_argument("--work", type=Path, default=Path(".c360/compare"))
    ap.add_argument("--out", type=Path, help="write the figures here as JSON")
    ap.add_argument("--profile", action="store_true", help="py-spy our server, one more level")
    args = ap.parse_args()
    if args.rounds < 1 or args.seconds <= 0:
        sys.exit("--rounds must be at least 1 and --seconds positive")
    if sorted(set(args.interactions)) != args.interactions or args.interactions[0] < 1:
        sys.exit("--interactions: positive numbers in increasing order, e.g. 10 100")
    work = args.work.resolve()
    report = run_compare(
        get_settings(),
        work,
        args.clients,
        args.seconds,
        args.rounds,
        args.rms,
        profile_dir=work if args.profile else None,
        answers=tuple(args.interactions),
        accounts=tuple(args.accounts),
    )
    print(table(report))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
