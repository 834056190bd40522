"""KPI snapshots (scoring/kpi_snapshots.py): what the scoring job counts ahead for the standard
periods is, for every KPI, scope and period, what a live count gives; reports read it in one round
trip and say so; a load after it makes figures live until the next run; a run in progress is
never read; a new run replaces the old one's nodes.

The KPI codes, the periods and the groups compared are not listed here: they come from
core/kpis.toml, the snapshot's own period list and the graph's branches and RMs, so a KPI added
later is held to the same rule."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver, RoutingControl
from starlette.testclient import TestClient

from core.kpis import definitions
from core.periods import Period, PeriodKind, last_complete, parse
from core.settings import Settings
from graph.driver import create_async_driver
from graph.queries import kpi_snapshots as sq
from resolvers import kpis as k
from scoring.config import load_config
from scoring.job import run_scoring
from scoring.kpi_snapshots import snapshot_periods, write_snapshots
from synthetic import GenerateOptions, generate_bank
from tests.etl_support import load, reset
from tests.round_trips import CountingSession, count_queries

pytestmark = pytest.mark.graph

KPIS = """query K($scope: KpiScopeInput, $period: KpiPeriodInput) {
  kpis(scope: $scope, period: $period) { source computedAt kpis { code value previous } } }"""
RANKING = """query R($code: String!, $period: KpiPeriodInput) {
  kpiRanking(code: $code, by: BRANCH, period: $period) { source entries { id value } } }"""
TREND = """query T($code: String!) {
  kpiTrend(code: $code, scope: {bank: true}, periods: 8) { source points { value } } }"""


def _rows(driver: Driver, settings: Settings, query: str, **params: Any) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        query, params, database_=settings.neo4j_database, routing_=RoutingControl.READ
    )
    return [r.data() for r in records]


@pytest.fixture(scope="module")
def bank(tmp_path_factory, driver: Driver, settings: Settings) -> dict[str, Any]:
    out: Path = tmp_path_factory.mktemp("snapshots") / "bank"
    # The bank's date is the end of the last quarter complete by the real clock: its complaints
    # (3 to 60 days before it) stay in the periods a snapshot counts. The generator's own date
    # (2026-10-31) would leave every one of them from 2032-01-01 on (20 quarters back).
    as_of = last_complete(PeriodKind.QUARTER, dt.datetime.now(dt.UTC).date()).end
    generate_bank(GenerateOptions(customers=500, seed=31, out=out, as_of=as_of))
    reset(driver, settings)
    load(driver, settings, out)
    run_scoring(driver, database=settings.neo4j_database, cfg=load_config())
    summary = write_snapshots(driver, database=settings.neo4j_database, settings=settings)
    branches = [
        r["id"] for r in _rows(driver, settings, "MATCH (b:Branch) RETURN b.branch_id AS id")
    ]
    rms = [
        r["id"]
        for r in _rows(
            driver,
            settings,
            "MATCH (e:Employee) WHERE (e)-[:MANAGES]->() RETURN e.employee_id AS id",
        )
    ]
    return {"summary": summary, "branches": branches, "rms": rms, "out": out}


@pytest.fixture(scope="module")
def client(settings: Settings, bank) -> Iterator[TestClient]:
    from c360.app import create_app

    with TestClient(create_app(settings)) as c:
        count_queries(c.app.state.driver)  # type: ignore[attr-defined]
        yield c


def _both(
    settings: Settings, groups: k.KpiGroups, group_id: str | None, periods: dict[str, Period]
) -> tuple[k.Counts, k.Counts]:
    """The same counts from the snapshot and live."""

    async def go() -> tuple[k.Counts, k.Counts]:
        driver = create_async_driver(settings)
        try:
            reader = k.DriverReader(driver, settings)
            snap = await k.count(reader, groups, group_id, periods)
            live = await k.count(reader, groups, group_id, periods, live=True)
            return snap, live
        finally:
            await driver.close()

    return asyncio.run(go())


def _assert_same_figures(snap: k.Counts, live: k.Counts, periods: dict[str, Period]) -> int:
    """Every KPI of every group and period; returns how many figures were compared."""
    compared = 0
    for key, period in periods.items():
        groups = set(snap.windows[key]) | set(live.windows[key])
        for group in groups:
            a = k._figures_of(snap.windows[key], group, period)
            b = k._figures_of(live.windows[key], group, period)
            for code in definitions():
                assert (
                    a[code] == pytest.approx(b[code], abs=1e-9)
                    if b[code] is not None
                    else (a[code] is None)
                ), (code, key, group)
                compared += 1
    return compared


def test_the_snapshot_holds_what_a_live_count_gives(settings: Settings, bank) -> None:
    periods = {p.label: p for p in snapshot_periods(dt.datetime.now(dt.UTC).date())}
    assert len(periods) == bank["summary"].periods >= 12
    compared = 0
    cases: list[tuple[k.KpiGroups, str | None]] = [
        (k.KpiGroups.BANK, None),
        (k.KpiGroups.EVERY_BRANCH, None),
        (k.KpiGroups.EVERY_RELATIONSHIP_MANAGER, None),
        *[(k.KpiGroups.BRANCH, b) for b in bank["branches"]],
        *[(k.KpiGroups.RELATIONSHIP_MANAGER, e) for e in bank["rms"][:5]],
        *[(k.KpiGroups.BRANCH_RELATIONSHIP_MANAGERS, b) for b in bank["branches"]],
    ]
    assert len(bank["branches"]) >= 2 and len(bank["rms"]) >= 5
    for groups, group_id in cases:
        snap, live = _both(settings, groups, group_id, periods)
        assert snap.source is k.KpiSource.SNAPSHOT and live.source is k.KpiSource.LIVE
        if groups in k.SCOPES:
            assert all(set(snap.windows[key]) <= {"all"} for key in periods)
        compared += _assert_same_figures(snap, live, periods)
    # every KPI of every period was compared, and not all of them are empty
    assert compared >= len(cases) * len(periods) * len(definitions())
    bank_counts = _both(settings, k.KpiGroups.BANK, None, periods)[0]
    assert sum(c["all"]["complaints"] for c in bank_counts.windows.values() if c) > 0


def test_reports_read_the_snapshot_in_one_round_trip(
    client: TestClient, auth_header, settings: Settings, bank
) -> None:
    today = dt.datetime.now(dt.UTC).date()
    quarter = [p for p in snapshot_periods(today) if p.kind.value == "QUARTER"][-1]
    for query, variables in (
        (KPIS, {"scope": {"bank": True}, "period": {"label": quarter.label}}),
        (KPIS, {"scope": {"branchId": bank["branches"][0]}, "period": {"label": quarter.label}}),
        (RANKING, {"code": "FIRST_RESPONSE_24H_PCT", "period": {"label": quarter.label}}),
        (TREND, {"code": "CSAT_PCT"}),
    ):
        CountingSession.queries = []
        body = client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers=auth_header("admin"),
        ).json()
        assert "errors" not in body, body
        [answer] = body["data"].values()
        assert answer["source"] == "SNAPSHOT", (query, answer)
        assert len(CountingSession.queries) == 1
    # not a standard period, or older than the snapshot: counted live, and said so
    for period in (
        {
            "from": quarter.start.isoformat(),
            "to": (quarter.start + dt.timedelta(days=9)).isoformat(),
        },
        {"label": parse(quarter.label).back(30)[0].label},
    ):
        body = client.post(
            "/graphql",
            json={"query": KPIS, "variables": {"scope": {"bank": True}, "period": period}},
            headers=auth_header("admin"),
        ).json()
        assert body["data"]["kpis"]["source"] == "LIVE", period
    # a role still sees only its scope: the snapshot holds every branch, the answer does not
    other = bank["branches"][1]
    refused = client.post(
        "/graphql",
        json={"query": KPIS, "variables": {"scope": {"branchId": other}}},
        headers=auth_header("branch_manager", branch_id=bank["branches"][0]),
    ).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_a_run_in_progress_is_never_read_and_a_new_run_replaces_the_old(
    client: TestClient, auth_header, driver: Driver, settings: Settings, bank
) -> None:
    before = _rows(driver, settings, sq.LATEST)[0]
    driver.execute_query(
        sq.BEGIN,
        run_id="in-progress",
        now=dt.datetime.now(dt.UTC),
        periods=[p.label for p in snapshot_periods(dt.datetime.now(dt.UTC).date())],
        database_=settings.neo4j_database,
    )
    body = client.post(
        "/graphql", json={"query": KPIS, "variables": {"scope": {"bank": True}}},
        headers=auth_header("admin"),
    ).json()  # fmt: skip
    assert body["data"]["kpis"]["source"] == "SNAPSHOT"
    assert body["data"]["kpis"]["computedAt"] == before["computed_at"].to_native().isoformat()
    # a load still running (one that started before the snapshot too) makes figures live
    driver.execute_query(
        "CREATE (:LoadRun {run_id: 'still-running', status: 'RUNNING', started_at: $at})",
        at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
        database_=settings.neo4j_database,
    )
    running = client.post(
        "/graphql", json={"query": KPIS, "variables": {"scope": {"bank": True}}},
        headers=auth_header("admin"),
    ).json()  # fmt: skip
    assert running["data"]["kpis"]["source"] == "LIVE"
    driver.execute_query(
        "MATCH (l:LoadRun {run_id: 'still-running'}) DELETE l", database_=settings.neo4j_database
    )
    again = write_snapshots(driver, database=settings.neo4j_database, settings=settings)
    # the run that started first was pruned under it: it can neither write nor finish
    assert not driver.execute_query(
        sq.FINISH, run_id="in-progress", computed_at=dt.datetime.now(dt.UTC), snapshots=0,
        database_=settings.neo4j_database,
    ).summary.counters.properties_set  # fmt: skip
    runs = _rows(
        driver,
        settings,
        "MATCH (s:KpiSnapshot) RETURN s.run_id AS run, count(*) AS n "
        "UNION ALL MATCH (r:KpiSnapshotRun) RETURN r.run_id AS run, -1 AS n",
    )
    assert {r["run"] for r in runs} == {again.run_id}
    assert sum(r["n"] for r in runs if r["n"] > 0) == again.snapshots == bank["summary"].snapshots


def test_a_load_after_the_snapshot_makes_figures_live_until_the_next_run(
    client: TestClient, auth_header, driver: Driver, settings: Settings, bank
) -> None:
    def bank_report() -> dict:
        body = client.post(
            "/graphql", json={"query": KPIS, "variables": {"scope": {"bank": True}}},
            headers=auth_header("admin"),
        ).json()  # fmt: skip
        assert "errors" not in body, body
        return body["data"]["kpis"]

    before = bank_report()
    assert before["source"] == "SNAPSHOT"
    # a scoring run without new snapshots (`c360 score --no-kpi-snapshots`): live until the next
    run_scoring(driver, database=settings.neo4j_database, cfg=load_config())
    assert bank_report()["source"] == "LIVE"
    write_snapshots(driver, database=settings.neo4j_database, settings=settings)
    assert bank_report()["source"] == "SNAPSHOT"
    load(driver, settings, bank["out"])  # a re-run: a load run, the same data
    after_load = bank_report()
    assert after_load["source"] == "LIVE"
    run_scoring(driver, database=settings.neo4j_database, cfg=load_config())
    write_snapshots(driver, database=settings.neo4j_database, settings=settings)
    rerun = bank_report()
    assert rerun["source"] == "SNAPSHOT"
    for report in (after_load, rerun):
        # the same data counted three times: live, and by two snapshot runs
        values = {x["code"]: x["value"] for x in report["kpis"]}
        for x in before["kpis"]:
            expected = values[x["code"]]
            assert (
                x["value"] == pytest.approx(expected, abs=1e-9)
                if expected is not None
                else x["value"] is None
            ), x["code"]


def test_a_live_count_beyond_the_api_s_limit_says_what_to_ask_instead(
    settings: Settings, auth_header, bank
) -> None:
    """At bank size a live count takes minutes; the API's query timeout ends it. The answer names
    the period and what to do, not a bare 'unavailable' (here: a 1 ms limit on a small bank)."""
    from c360.app import create_app

    hurried = settings.model_copy(update={"graph_query_timeout_s": 0.001})
    with TestClient(create_app(hurried)) as c:
        period = {"from": "2026-07-01", "to": "2026-07-10"}  # not a standard period: live
        body = c.post(
            "/graphql",
            json={"query": KPIS, "variables": {"scope": {"bank": True}, "period": period}},
            headers=auth_header("admin"),
        ).json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED", error
    assert error["message"].startswith("period: counting 2026-07-01..2026-07-10")
    assert "c360 kpis --live" in error["message"] and "MATCH" not in error["message"]


def test_every_quarter_the_dashboard_offers_has_its_trend_in_the_snapshot() -> None:
    """console/src/dashboard.js offers QUARTERS_OFFERED quarters, each with a TREND_PERIODS trend
    and a comparison with the quarter before: all of it must be in the snapshot, or the
    dashboard counts live (minutes at bank size, LIMIT_EXCEEDED through the API)."""
    import re

    source = (Path(__file__).resolve().parent.parent / "console/src/dashboard.js").read_text()
    offered = int(re.search(r"const QUARTERS_OFFERED = (\d+);", source).group(1))  # type: ignore[union-attr]
    trend = int(re.search(r"const TREND_PERIODS = (\d+);", source).group(1))  # type: ignore[union-attr]
    today = dt.datetime.now(dt.UTC).date()
    held = {p.label for p in snapshot_periods(today)}
    newest = [p for p in snapshot_periods(today) if p.kind.value == "QUARTER"][-1]
    for quarter in newest.back(offered):
        needed = {p.label for p in quarter.back(trend)} | {quarter.previous().label}
        assert needed <= held, (quarter.label, sorted(needed - held))


def test_a_single_scope_needs_its_id(settings: Settings, bank) -> None:
    from core.errors import BadUserInput

    async def go(groups: k.KpiGroups) -> None:
        driver = create_async_driver(settings)
        try:
            await k.count(k.DriverReader(driver, settings), groups, None, {"q": parse("2026Q3")})
        finally:
            await driver.close()

    for groups in (k.KpiGroups.BRANCH, k.KpiGroups.RELATIONSHIP_MANAGER):
        with pytest.raises(BadUserInput, match="scope"):
            asyncio.run(go(groups))
