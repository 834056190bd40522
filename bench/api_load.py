"""API load benchmark: a channel mix at several concurrency levels, against a raw-Cypher baseline.

Usage: python bench/api_load.py [--clients 8 32 64] [--seconds 20] [--out bench/results/api.json]

Serves the API in a separate process (`c360 serve` on a free loopback port, same settings and
graph as `make demo`) and drives it with an asyncio client: customer(id) full profiles 60 %,
customers search 15 %, household/network 15 %, an RM's atRiskCustomers 10 %. The baseline sends
the same reads as raw Cypher through the async driver, with no HTTP or GraphQL. Prints a table and
writes JSON. Request loops are bounded in time and count; only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import httpx
from graphql import OperationDefinitionNode, parse
from neo4j import READ_ACCESS

from auth.policy import Role
from auth.tokens import DevTokenRequest, issue_dev_token
from core.settings import get_settings
from graph import session
from graph.driver import create_async_driver, create_sync_driver
from graph.queries import bench as bq
from graph.queries.customers import parts_for, profile_query
from graph.queries.network import NETWORK_QUERIES
from graph.queries.scope import ScopeKind
from graph.queries.search import COUNT_QUERIES, SearchMode, SortKey, page_query
from resolvers.search import CustomerFilterArgs
from schema.selection import names_under

PROFILE = """query Profile($id: ID!) { customer(id: $id) {
  id name phone email city segment status aum
  accounts { id productType balance } household { id name role aum tier }
  value { tier score components { name score } } risk { downgrade { level reasons } churn { level } }
  recommendations { productCode } relationshipManager { id name } referrals { id }
} }"""
SEARCH = """query Search($q: String) { customers(search: $q, first: 20) { totalCount edges { node { id name aum } } } }"""
NETWORK = """query Net($id: ID!) { network(customerId: $id, depth: 2, maxNodes: 60) { truncated nodes { id kind } edges { source target type } } }"""
AT_RISK = """{ atRiskCustomers(first: 20) { edges { node { id name risk { downgrade { level reasons } } } } } }"""
MIX = [("profile", 60), ("search", 15), ("network", 15), ("at_risk", 10)]
# every filter parameter the search queries take, unset (the resolver's own list: a filter added
# there is a parameter here too)
FILTERS = CustomerFilterArgs().params()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mib(pid: int) -> float:
    """Resident memory of the server and its worker processes."""
    total = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total += int(line.split()[1]) / 1024
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for child in children.read_text().split() if children.exists() else []:
        total += _rss_mib(int(child))
    return total


def _pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else (values or [0.0])[0]


PROFILE_ONLY = [("profile", 100)]  # the issue's target: full profiles at 32 clients


def _pick(rng: random.Random, mix=MIX) -> str:
    r = rng.randrange(100)
    for name, weight in mix:
        if r < weight:
            return name
        r -= weight
    return mix[0][0]


async def _run_api(url, tokens, sample, clients, seconds, max_requests, mix=MIX):
    lat: dict[str, list[float]] = {name: [] for name, _ in mix}
    errors = 0
    deadline = time.monotonic() + seconds
    count = 0

    async def worker(n: int) -> None:
        nonlocal errors, count
        rng = random.Random(n)
        # aiohttp, not httpx: on these 2 shared cores httpx's client cost 1.5 ms of CPU per
        # request against aiohttp's 0.3 ms, CPU the API and Neo4j then did not get.
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as client:
            while time.monotonic() < deadline and count < max_requests:
                count += 1
                op = _pick(rng, mix)
                cid = rng.choice(sample["customers"])
                if op == "profile":
                    body, who = {"query": PROFILE, "variables": {"id": cid}}, "admin"
                elif op == "search":
                    body, who = (
                        {"query": SEARCH, "variables": {"q": rng.choice(sample["names"])}},
                        "admin",
                    )
                elif op == "network":
                    body, who = {"query": NETWORK, "variables": {"id": cid}}, "admin"
                else:
                    body, who = {"query": AT_RISK}, "rm"
                started = time.perf_counter()
                try:
                    async with client.post(
                        url, json=body, headers={"Authorization": f"Bearer {tokens[who]}"}
                    ) as resp:
                        answer = await resp.json()
                        failed = resp.status != 200 or bool(answer.get("errors"))
                except (aiohttp.ClientError, TimeoutError, ValueError):  # counted, the run goes on
                    failed = True
                lat[op].append((time.perf_counter() - started) * 1000)
                errors += failed

    started = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(clients)))
    return lat, errors, time.monotonic() - started


def _node_parts(document: str, path: tuple[str, ...]) -> frozenset[str]:
    """The profile parts the API fetches for a bench document (same selection reading)."""
    op = parse(document).definitions[0]
    if not isinstance(op, OperationDefinitionNode):
        raise ValueError(f"not an operation: {document[:40]!r}")
    return parts_for(names_under([op.selection_set], {}, path))


async def raw_op(
    read, op: str, cid: str, rm: str, rng: random.Random, name: str | None = None
) -> None:
    """One channel operation as the raw Cypher the API runs for it (no HTTP, no GraphQL): the
    same query texts, parts and parameters, as many queries as the API's resolver sends. A search
    looks for ``name``, or for a prefix drawn from the sample."""
    scope_any = {"own_customer_id": None, "employee_id": None, "branch_id": None}
    params: dict[str, object]  # the Cypher parameters of the operation's queries
    if op == "profile":
        parts = _node_parts(PROFILE, ("customer",))
        await read(profile_query(ScopeKind.ANY, parts), customer_id=cid, **scope_any)
    elif op == "search":
        params = dict(
            term='"' + (name or rng.choice(SAMPLE_NAMES)) + '"',
            after_k=None,
            after_id=None,
            limit=21,
            **scope_any,
            **FILTERS,
        )
        parts = _node_parts(SEARCH, ("customers", "edges", "node"))
        await read(
            page_query(SearchMode.NAME, SortKey.CUSTOMER_ID, False, ScopeKind.ANY, parts), **params
        )
        await read(COUNT_QUERIES[(SearchMode.NAME, ScopeKind.ANY)], **params)
    elif op == "network":
        params = dict(customer_id=cid, types=["MEMBER_OF", "HOLDS", "REFERRED"], cap=60)
        await read(session.scoped(ScopeKind.ANY, "RETURN access"), **params, **scope_any)
        await read(NETWORK_QUERIES[(2, ScopeKind.ANY)], **params, **scope_any)
    else:
        params = dict(
            term=None,
            after_k=None,
            after_id=None,
            limit=21,
            **{**scope_any, "employee_id": rm},
            **{**FILTERS, "direct_only": True, "risk_levels": ["HIGH", "MEDIUM", "LOW"]},
        )
        parts = _node_parts(AT_RISK, ("atRiskCustomers", "edges", "node"))
        await read(
            page_query(SearchMode.ALL, SortKey.DOWNGRADE_RISK, True, ScopeKind.BOOK, parts),
            **params,
        )
        await read(COUNT_QUERIES[(SearchMode.ALL, ScopeKind.BOOK)], **params)


SAMPLE_NAMES: list[str] = []


def _reader(driver, settings):
    """An auto-commit read in a read session, as the API's Context.read."""

    async def read(query: str, **params):
        async with driver.session(
            database=settings.neo4j_database, default_access_mode=READ_ACCESS
        ) as s:
            return [r async for r in await s.run(query, params)]

    return read


async def run_raw(
    settings, sample, rm, clients: int, seconds: float, max_requests: int, mix=MIX
) -> tuple[dict[str, list[float]], int, float]:
    """The same mix as the API load, as raw Cypher through the async driver, same concurrency."""
    SAMPLE_NAMES[:] = sample["names"]
    driver = create_async_driver(settings)
    lat: dict[str, list[float]] = {name: [] for name, _ in mix}
    deadline = time.monotonic() + seconds
    count = 0
    errors = 0

    read = _reader(driver, settings)

    async def worker(n: int) -> None:
        nonlocal count, errors
        rng = random.Random(n)
        while time.monotonic() < deadline and count < max_requests:
            count += 1
            op = _pick(rng, mix)
            started = time.perf_counter()
            try:
                await raw_op(read, op, rng.choice(sample["customers"]), rm, rng)
            except Exception:  # counted, like the API's errors
                errors += 1
            lat[op].append((time.perf_counter() - started) * 1000)

    try:
        started = time.monotonic()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        elapsed = time.monotonic() - started
    finally:
        await driver.close()
    return lat, errors, elapsed


async def warm_up(settings, sample, rm, clients: int, seconds: float) -> dict:
    """Every read a level can make, once, as raw Cypher: each sample customer's profile and
    network, each search prefix and the RM's at-risk page, stopping after ``seconds``.

    Without it the first level measured a cold page cache: at bank size, after a Neo4j restart,
    the 8-client channel mix ran at 26 req/s against 159 in a run that came straight after
    scoring. And each API level, measured before its raw baseline, warmed the cache for it."""
    SAMPLE_NAMES[:] = sample["names"]
    work = [("profile", c, None) for c in sample["customers"]]
    work += [("network", c, None) for c in sample["customers"]]
    work += [("search", "", n) for n in sample["names"]] + [("at_risk", "", None)]
    driver = create_async_driver(settings)
    deadline = time.monotonic() + seconds
    done = 0

    read = _reader(driver, settings)

    async def worker(n: int) -> None:
        nonlocal done
        rng = random.Random(n)
        for op, cid, name in work[n::clients]:
            if time.monotonic() >= deadline:
                return
            await raw_op(read, op, cid, rm, rng, name)
            done += 1

    started = time.monotonic()
    try:
        await asyncio.gather(*(worker(i) for i in range(clients)))
    finally:
        await driver.close()
    return {"reads": done, "of": len(work), "seconds": round(time.monotonic() - started, 1)}


def summarise(lat: dict[str, list[float]], errors: int, elapsed: float, clients: int) -> dict:
    total = sum(len(v) for v in lat.values())
    ops: dict[str, dict[str, float]] = {}
    level = {
        "clients": clients,
        "requests": total,
        "rps": round(total / elapsed, 1),
        "errors": errors,
        "ops": ops,
    }
    for op, values in lat.items():
        if values:
            ops[op] = {
                "n": len(values),
                "rps": round(len(values) / elapsed, 1),
                "p50": round(_pct(values, 50), 1),
                "p95": round(_pct(values, 95), 1),
                "p99": round(_pct(values, 99), 1),
            }
    return level


def bench_sample(settings) -> tuple[dict, str]:
    """Customer ids and name prefixes to ask for, and the RM with the largest book."""
    with create_sync_driver(settings) as d:
        rows = session.rows(d, settings.neo4j_database, bq.SAMPLE_CUSTOMERS)
        rm = session.rows(d, settings.neo4j_database, bq.LARGEST_BOOK)[0]["id"]
    if not rows:
        sys.exit("the graph is empty: run `make demo` (or c360 load) first")
    sample = {
        "customers": [r["id"] for r in rows],
        "names": sorted({r["name"][:2] for r in rows if r["name"]}),
    }
    return sample, rm


def bench_tokens(settings, rm: str) -> dict[str, str]:
    return {
        "admin": issue_dev_token(settings, DevTokenRequest(role=Role.ADMIN, subject="bench")),
        "rm": issue_dev_token(
            settings, DevTokenRequest(role=Role.RELATIONSHIP_MANAGER, employee_id=rm)
        ),
    }


def start_api(workers: int = 1) -> tuple[subprocess.Popen, int]:
    """`c360 serve` on a free loopback port (rate limit lifted), once it answers ready."""
    port = _free_port()
    env = {**os.environ, "RATE_LIMIT_PER_SECOND": "1000000", "RATE_LIMIT_BURST": "1000000"}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "c360"), "serve", "--port", str(port)]
        + (["--workers", str(workers)] if workers > 1 else []),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                return server, port
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            break
        time.sleep(0.3)
    server.terminate()
    raise RuntimeError("the API did not become ready")


def start_profiler(pid: int, seconds: float, out: Path) -> subprocess.Popen | None:
    """py-spy sampling the API process (collapsed stacks), when py-spy is installed."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        return None
    return subprocess.Popen(
        [spy, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))),
         "--rate", "200", "--format", "raw", "--nonblocking", "--subprocesses", "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


# Frames nearly every sample shares (process start, CLI, event loop, the ASGI middleware
# layers): left out of the report's inclusive table, so it starts where the work differs.
_LAUNCH_FRAMES = ("process ", "<module>", "_main ", "run (main.py")
_LAUNCH_FILES = (
    "core.py", "main.py", "runners.py", "_compat.py", "server.py", "cli.py", "middleware.py",
    "cors.py", "errors.py", "applications.py", "routing.py", "proxy_headers.py",
    "exceptions.py", "_exception_handler.py", "httptools_impl.py",
)  # fmt: skip


def summarise_profile(path: Path, top: int = 25) -> dict:
    """Shares of samples by function: inclusive (on the stack, less the launch frames) and self
    (the leaf)."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        count = int(n)
        total += count
        frames = [f.split(" (")[0] + " (" + f.split(" (")[1].split(":")[0].rsplit("/", 1)[-1] + ")"
                  if " (" in f else f for f in stack.split(";")]  # fmt: skip
        for f in set(frames):
            if not f.startswith(_LAUNCH_FRAMES) and not any(f"({x}" in f for x in _LAUNCH_FILES):
                inclusive[f] = inclusive.get(f, 0) + count
        own[frames[-1]] = own.get(frames[-1], 0) + count

    def share(d: dict[str, int]) -> list[list]:
        ranked = sorted(d.items(), key=lambda kv: -kv[1])[:top]
        return [[name, round(100 * n / total, 1)] for name, n in ranked]

    return {"samples": total, "inclusive_pct": share(inclusive), "self_pct": share(own)}


def run_levels(
    settings, clients_levels, seconds, max_requests, workers=1, echo=print, profile_dir=None
) -> dict:
    """API levels and the raw baseline at each level, with per-operation overhead ratios.
    With ``profile_dir``, py-spy samples the API process during the 32-client level."""
    sample, rm = bench_sample(settings)
    tokens = bench_tokens(settings, rm)
    server, port = start_api(workers)
    url = f"http://127.0.0.1:{port}/graphql"
    out: dict = {"workers": workers, "levels": []}
    try:
        # the page cache first (see warm_up), then the API process (imports, parse cache)
        out["warm_up"] = asyncio.run(warm_up(settings, sample, rm, 8, max(20.0, 4 * seconds)))
        echo(
            "  warm-up: {reads:,} of {of:,} reads as raw Cypher in {seconds} s".format(
                **out["warm_up"]
            )
        )
        asyncio.run(_run_api(url, tokens, sample, 4, 10, 2000))

        def measure(clients: int, mix, spy_out: Path | None = None) -> dict:
            spy = start_profiler(server.pid, seconds, spy_out) if spy_out else None
            lat, errors, elapsed = asyncio.run(
                _run_api(url, tokens, sample, clients, seconds, max_requests, mix)
            )
            if spy is not None and spy_out is not None:
                spy.wait(timeout=120)
                if spy_out.exists():
                    out["profile_32_clients"] = {"file": str(spy_out)} | summarise_profile(spy_out)
            level = summarise(lat, errors, elapsed, clients)
            level["api_rss_mib"] = round(_rss_mib(server.pid), 1)
            raw = summarise(
                *asyncio.run(run_raw(settings, sample, rm, clients, seconds, max_requests, mix)),
                clients,
            )
            level["raw"] = raw
            level["overhead_p50"] = {
                op: round(o["p50"] / raw["ops"][op]["p50"], 2)
                for op, o in level["ops"].items()
                if op in raw["ops"] and raw["ops"][op]["p50"]
            }
            what = "channel mix" if mix is MIX else "profiles only"
            echo(
                f"  API {clients:>3} clients, {what}: {level['rps']} req/s, errors {errors}, "
                f"API RSS {level['api_rss_mib']} MiB; raw Cypher {raw['rps']} req/s, errors {raw['errors']}"
            )
            for op, o in level["ops"].items():
                r = raw["ops"].get(op, {})
                echo(
                    f"      {op:<8} n={o['n']:<6} p50 {o['p50']:>7} p95 {o['p95']:>7} p99 {o['p99']:>7} ms"
                    f" | raw p50 {r.get('p50', 0):>6} p99 {r.get('p99', 0):>6} ms"
                    f" | overhead x{level['overhead_p50'].get(op, 0)}"
                )
            return level

        for clients in clients_levels:
            spy_out = (
                Path(profile_dir) / "api-profile-32.txt" if profile_dir and clients == 32 else None
            )
            out["levels"].append(measure(clients, MIX, spy_out))
        if 32 in clients_levels:  # the target's own measure: nothing but full profiles
            out["profile_only_32"] = measure(32, PROFILE_ONLY)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, nargs="+", default=[8, 32, 64])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--max-requests", type=int, default=50_000)
    ap.add_argument("--out", type=Path, default=Path("bench/results/api-latest.json"))
    ap.add_argument("--workers", type=int, default=1, help="API worker processes")
    ap.add_argument("--profile-dir", type=Path, help="py-spy the API at 32 clients, stacks here")
    args = ap.parse_args()
    report = {
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "command": " ".join(sys.argv),
        **run_levels(
            get_settings(),
            args.clients,
            args.seconds,
            args.max_requests,
            args.workers,
            profile_dir=args.profile_dir,
        ),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print("report:", args.out)


if __name__ == "__main__":
    main()
