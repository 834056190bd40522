"""Delta loads (etl/delta.py) against the real Neo4j: a later extract with about 1 % of its rows
changed writes about those rows, and leaves the graph a full load of the same extract leaves.

The bank is generated (synthetic/), loaded, then changed the way a source system's next extract
changes: pandas edits about 1 % of the rows of several files (a customer's e-mail, an account's
balance, a holding's end date, a membership's role, an interaction's summary, a CRM contact's
address), rows a reader of the CSV picks, not rows the generator planted.

Run as a module, it measures a full reload against a delta reload of a bigger bank, side by side:
``PYTHONPATH=. python -m tests.test_delta_load --customers 20000`` (the test server's port from
``C360_TEST_NEO4J_PORT``; see README "Delta loads").
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from neo4j import Driver, RoutingControl
from starlette.testclient import TestClient

from bench.delta_extract import change_rows, read_csv
from core.settings import Settings
from etl.loader import LoadResult
from synthetic import GenerateOptions, generate_bank
from tests.etl_support import c360, canonical_dump, cli_env, load, reset

pytestmark = pytest.mark.graph

LINK_EVIDENCE = {"rule", "confidence", "match_weight", "comparisons_json"}
REVIEW_EVIDENCE = {"match_weight", "probability", "comparisons_json"}


def rows_of(result: LoadResult) -> tuple[int, int, int]:
    """(rows read, written, unchanged) over the entities of a load."""
    c = result.counts.values()
    return sum(x.read for x in c), sum(x.loaded for x in c), sum(x.unchanged for x in c)


def q(driver: Driver, settings: Settings, query: str, **params: object) -> list:
    return driver.execute_query(
        query, params, database_=settings.neo4j_database, routing_control=RoutingControl.READ
    ).records


def same(a: tuple[list, list], b: tuple[list, list]) -> None:
    for part in (0, 1):
        extra, missing = set(a[part]) - set(b[part]), set(b[part]) - set(a[part])
        assert not extra and not missing, (part, sorted(extra)[:3], sorted(missing)[:3])


def without_link_evidence(dump: tuple[list, list]) -> tuple[list, list]:
    """``dump`` without the evidence of RESOLVED_TO links and of identity reviews (rule,
    weights, comparison levels): a record the graph has resolved is not scored again (etl/
    linkage.py), so that evidence is from the load that scored the pair; a record that counts
    as fresh again (a load killed and resumed) is scored with its values of then."""
    nodes, rels = dump
    nodes = [
        (labels, tuple(p for p in props if p[0] not in REVIEW_EVIDENCE))
        if labels == ("IdentityReview",)
        else (labels, props)
        for labels, props in nodes
    ]
    return nodes, [
        (
            a,
            t,
            b,
            tuple(p for p in props if p[0] not in LINK_EVIDENCE) if t == "RESOLVED_TO" else props,
        )
        for a, t, b, props in rels
    ]


@pytest.fixture(scope="session")  # (session: the driver fixture asks for settings too)
def settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The tests' settings with a data folder of this module's own: the identity model is the
    one the first load here trains, whichever test loaded before. Identity resolution is
    incremental (a resolved record is not scored again), so the graph a history of loads leaves
    may differ from the last extract's alone where a change moves a pair across a threshold; with
    a model trained on these extracts no change here does (the end of the first test)."""
    return settings.model_copy(update={"c360_home": tmp_path_factory.mktemp("delta-home")})


@pytest.fixture(scope="module")
def banks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, int]]:
    root = tmp_path_factory.mktemp("delta")
    generate_bank(GenerateOptions(customers=1000, seed=23, out=root / "a"))
    changed = change_rows(root / "a", root / "a2")
    return root / "a", root / "a2", changed


def test_a_delta_load_writes_the_changed_rows_and_equals_a_full_load(
    auth_header, driver: Driver, settings: Settings, banks: tuple[Path, Path, dict[str, int]]
) -> None:
    a, a2, changed = banks
    reset(driver, settings)
    first = load(driver, settings, a)
    assert not first.delta and first.counts["customers"].unchanged == 0  # a first load: all
    delta = load(driver, settings, a2)
    assert delta.delta and delta.status == first.status
    after_delta = canonical_dump(driver, settings.neo4j_database)

    read, written, unchanged = rows_of(delta)
    read_first, loaded_first, _ = rows_of(first)
    assert loaded_first + sum(c.rejected for c in first.counts.values()) == read_first
    # nothing lost (an edit may also mend a planted bad row, or spoil a good one)
    rejected = sum(c.rejected for c in delta.counts.values())
    assert read == read_first and written + unchanged + rejected == read
    assert abs(written + unchanged - loaded_first) <= sum(changed.values())
    assert sum(changed.values()) * 0.5 <= written <= 0.02 * read, (written, read, changed)
    for entity in ("customers", "accounts", "holdings", "memberships", "interactions"):
        c = delta.counts[entity]
        assert 0 < c.loaded <= 0.02 * c.read + 2, (entity, c)
    for entity in ("branches", "products", "employees", "households", "manages"):
        assert delta.counts[entity].loaded == 0, (entity, delta.counts[entity])
    # the source records written are the changed ones (the customers' records change an e-mail
    # or an address; a record re-linked by the change would be written too)
    written_records = (
        "MATCH (r:LoadRun {run_id: $id}) MATCH (s:SourceRecord) "
        "WHERE s.loaded_at.epochSeconds = r.started_at.epochSeconds "
        "RETURN s.system AS system, s.source_id AS id"
    )
    wrote = {(r["system"], r["id"]) for r in q(driver, settings, written_records, id=delta.run_id)}
    assert len(wrote) == delta.counts["customers"].loaded
    edited = set()
    for system, name, key, column in (
        ("core", "core/customers.csv", "cust_no", "email"),
        ("crm", "crm/customers.csv", "contact_id", "address"),
    ):
        before, after = read_csv(a / name), read_csv(a2 / name)
        diff = before[column] != after[column]
        edited |= {(system, k) for k in after.loc[diff, key]}
    assert wrote <= edited and len(wrote) >= 0.8 * len(edited), (len(wrote), len(edited))
    stored = q(driver, settings, "MATCH (r:LoadRun {run_id: $id}) RETURN r", id=delta.run_id)[0]
    counts = json.loads(stored["r"]["counts_json"])
    assert counts["accounts"]["unchanged"] == delta.counts["accounts"].unchanged > 0
    assert stored["r"]["delta"] is True and stored["r"]["rows_written"] == delta.rows_written
    # and the API says so to data engineers: a delta run, what each entity wrote and left alone
    from c360.app import create_app

    with TestClient(create_app(settings)) as client:
        body = client.post(
            "/graphql",
            json={"query": "{ loadRunsConnection(first: 1) { nodes { id delta "
                  "counts { entity loaded unchanged } } } }"},
            headers=auth_header("data_engineer"),
        ).json()  # fmt: skip
    [run] = body["data"]["loadRunsConnection"]["nodes"]
    assert run["id"] == delta.run_id and run["delta"] is True
    shown = {c["entity"]: (c["loaded"], c["unchanged"]) for c in run["counts"]}
    assert shown["accounts"] == (
        delta.counts["accounts"].loaded,
        delta.counts["accounts"].unchanged,
    )

    # the same extract again: nothing to write but the identity review queue
    again = load(driver, settings, a2)
    assert again.delta and rows_of(again)[1] == 0 and again.golden.loaded == 0
    assert canonical_dump(driver, settings.neo4j_database) == after_delta

    # the same history with a full write of the later extract
    reset(driver, settings)
    load(driver, settings, a)
    full = load(driver, settings, a2, full=True)
    assert not full.delta and rows_of(full)[1] == written + unchanged
    same(after_delta, canonical_dump(driver, settings.neo4j_database))

    # and the later extract loaded alone into an empty graph: the same nodes, relationships and
    # properties, but for the evidence of a RESOLVED_TO link (rule, weights), which a record
    # already resolved keeps from the load that first resolved it (in a full reload as well)
    reset(driver, settings)
    load(driver, settings, a2)
    same(
        without_link_evidence(after_delta),
        without_link_evidence(canonical_dump(driver, settings.neo4j_database)),
    )


def test_a_delta_load_killed_with_sigkill_resumes_to_the_graph_of_a_full_load(
    driver: Driver, settings: Settings, banks: tuple[Path, Path, dict[str, int]], tmp_path: Path
) -> None:
    a, _, _ = banks
    much = tmp_path / "much"
    change_rows(a, much, share=0.3, seed=9)  # enough changed batches to kill the load among
    reset(driver, settings)
    load(driver, settings, a)
    env = cli_env(settings, settings.c360_home)  # (its identity model, as the loads here)
    cmd = c360("load", str(much), "--batch-size", "200", "--no-progress")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    done = 0
    find = "MATCH (r:LoadRun {status: 'RUNNING'}) RETURN r.checkpoint_json AS c, r.delta AS d"
    while time.monotonic() < deadline and proc.poll() is None:
        rows = q(driver, settings, find)
        done = sum(json.loads(rows[0]["c"] or "{}").values()) if rows else 0
        if done >= 12:
            assert rows[0]["d"] is True
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the load finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode in (0, 1), rerun.stderr[-2000:]
    assert "Resuming load run" in rerun.stderr and "delta load:" in rerun.stdout + rerun.stderr
    resumed = canonical_dump(driver, settings.neo4j_database)

    reset(driver, settings)
    load(driver, settings, a)
    load(driver, settings, much, full=True)
    same(
        without_link_evidence(resumed),
        without_link_evidence(canonical_dump(driver, settings.neo4j_database)),
    )


def test_a_delta_load_after_a_failed_one_recomputes_every_home_branch(
    driver: Driver, settings: Settings, banks: tuple[Path, Path, dict[str, int]], tmp_path: Path
) -> None:
    """A load that fails after writing accounts (moved to other branches) never reaches its
    home-branch step; the next extract holds the same accounts, so a delta finds their hashes
    unchanged and writes nothing: it must still give every customer the home branch a full load
    gives (a second reader's case)."""

    from etl.loader import LoadError

    a = banks[0]
    reset(driver, settings)
    assert load(driver, settings, a).status.startswith("SUCCEEDED")
    moved = tmp_path / "moved"
    shutil.copytree(a, moved)
    accounts = read_csv(moved / "core/accounts.csv")
    branches = sorted(set(read_csv(moved / "core/branches.csv")["branch_code"]))
    accounts["branch_code"] = [
        branches[(branches.index(b) + 1) % len(branches)] if b else b
        for b in accounts["branch_code"]
    ]
    accounts.to_csv(moved / "core/accounts.csv", index=False)
    interactions = read_csv(moved / "crm/interactions.csv")
    interactions["contact_id"] = "NOBODY"  # every row refused: the load fails there
    interactions.to_csv(moved / "crm/interactions.csv", index=False)
    with pytest.raises(LoadError):
        load(driver, settings, moved)
    shutil.copy(a / "crm/interactions.csv", moved / "crm/interactions.csv")
    homes = (
        "MATCH (c:Customer) OPTIONAL MATCH (c)-[:HOME_BRANCH]->(b:Branch) "
        "RETURN c.customer_id AS id, c.home_branch_id AS home, b.branch_id AS linked ORDER BY id"
    )
    after = load(driver, settings, moved)
    assert after.delta and not after.resumed
    delta_homes = q(driver, settings, homes)
    load(driver, settings, moved, full=True)
    full_homes = q(driver, settings, homes)
    assert delta_homes == full_homes
    assert sum(r[1] is not None for r in full_homes) > len(full_homes) // 2  # homes to compare


def measure(customers: int, out: Path) -> dict[str, object]:
    """A full reload against a delta reload of a generated bank with 1 % of rows changed, on the
    tests' Neo4j (``C360_TEST_NEO4J_PORT``, running): load A into an empty graph, then time a
    full load of A' (A with 1 % of rows changed: every row written), then a delta load of A
    (the same 1 % changed back: only those written)."""
    from graph.driver import create_sync_driver
    from tests.conftest import _test_settings

    settings = _test_settings()
    driver = create_sync_driver(settings)
    if not (out / "a").exists():
        generate_bank(GenerateOptions(customers=customers, seed=23, out=out / "a"))
    if not (out / "a2").exists():
        change_rows(out / "a", out / "a2")
    reset(driver, settings)
    figures: dict[str, object] = {"customers": customers}
    for name, folder, full in (("first", "a", False), ("full", "a2", True), ("delta", "a", False)):
        t0 = time.perf_counter()
        r = load(driver, settings, out / folder, full=full)
        read, written, unchanged = rows_of(r)
        figures[name] = {
            "seconds": round(time.perf_counter() - t0, 1),
            "delta": r.delta,
            "source_rows_read": read,
            "source_rows_written": written,
            "source_rows_unchanged": unchanged,
            "golden_customers_written": r.golden.loaded,
            "graph_rows_written": r.rows_written,
            "seconds_by_entity": {k: round(c.seconds, 1) for k, c in r.counts.items()},
        }
        print(name, figures[name], flush=True)
    driver.close()
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=measure.__doc__)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument(
        "--out", type=Path, default=Path(tempfile.gettempdir()) / "c360-delta-figure"
    )
    args = parser.parse_args()
    print(json.dumps(measure(args.customers, args.out), indent=2))
