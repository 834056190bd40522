"""Management KPIs (`kpis`) on a generated bank: every figure equals a computation written here in
Python from the graph's raw rows (complaints, scores, tier changes, accounts, interactions,
recommendations), for the bank, a branch and an RM; each role is held to its own scope; one
graph read per report; the follow-up coverage is followUpCoverage's; and the period arithmetic
at quarter, half-year and year boundaries."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver, RoutingControl
from starlette.testclient import TestClient

from core import followups
from core.errors import BadUserInput
from core.kpis import definitions, personalised_service_kinds
from core.periods import Period, PeriodKind, containing, last_complete, parse
from core.quality import quality_config
from core.settings import Settings
from scoring.config import load_config
from scoring.job import run_scoring
from synthetic import GenerateOptions, generate_bank
from tests.etl_support import load, reset
from tests.round_trips import CountingSession, count_queries

KPIS = """query K($scope: KpiScopeInput, $period: KpiPeriodInput) {
  kpis(scope: $scope, period: $period) {
    scope scopeId period { label from to } previousPeriod { label from to }
    kpis { code value target met previous unit live definition } } }"""


# -- period arithmetic (no graph) ---------------------------------------------------------------


def test_quarters_halves_and_years() -> None:
    q1 = parse("2026Q1")
    assert (q1.start, q1.end, q1.days) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31), 90)
    assert q1.previous() == Period(PeriodKind.QUARTER, dt.date(2025, 10, 1), dt.date(2025, 12, 31))
    assert parse("2024Q1").days == 91  # a leap year's February
    assert parse("2026H1").previous().label == "2025H2"
    assert parse("2026H2").end == dt.date(2026, 12, 31)
    assert parse("2026").previous().label == "2025"
    assert containing(PeriodKind.QUARTER, dt.date(2026, 9, 30)).label == "2026Q3"
    assert containing(PeriodKind.QUARTER, dt.date(2026, 10, 1)).label == "2026Q4"
    assert last_complete(PeriodKind.QUARTER, dt.date(2026, 11, 30)).label == "2026Q3"
    assert last_complete(PeriodKind.QUARTER, dt.date(2026, 1, 1)).label == "2025Q4"
    span = parse("2026-07-10..2026-07-19")
    assert span.days == 10 and span.previous().end == dt.date(2026, 7, 9)
    assert span.previous().days == 10
    assert [p.label for p in parse("2026Q2").back(3)] == ["2025Q4", "2026Q1", "2026Q2"]
    lo, hi = q1.instants()
    assert lo == dt.datetime(2026, 1, 1, tzinfo=dt.UTC) and hi == dt.datetime(
        2026, 4, 1, tzinfo=dt.UTC
    )
    for bad in ("2026Q5", "26Q1", "2026-13-01..2026-12-31", "2026-02-01..2026-01-01"):
        with pytest.raises(BadUserInput, match="period"):
            parse(bad)


# -- the generated bank -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bank(tmp_path_factory, driver: Driver, settings: Settings) -> dict[str, Any]:
    out: Path = tmp_path_factory.mktemp("kpis") / "bank"
    generate_bank(GenerateOptions(customers=700, seed=23, out=out))
    reset(driver, settings)
    load(driver, settings, out)
    summary = run_scoring(driver, database=settings.neo4j_database, cfg=load_config())
    # The generated bank has no customer who left: some leave now, in this year and the last
    # (every account closed), CORE, KEY and ORDINARY ones, so the churn rates measure something.
    year = summary.as_of.year
    driver.execute_query(
        """MATCH (c:Customer)-[:HOLDS]->(:Account)
        WHERE c.onboarded_at < date({year: $year - 1, month: 1, day: 1})
        WITH DISTINCT c ORDER BY c.customer_id
        WITH c.tier AS tier, collect(c)[0..4] AS chosen
        UNWIND range(0, size(chosen) - 1) AS k
        WITH chosen[k] AS c, k
        MATCH (c)-[:HOLDS]->(a:Account)
        SET a.status = 'CLOSED',
            a.closed_at = date({year: $year - k % 2, month: 2 + k, day: 10})""",
        year=year,
        database_=settings.neo4j_database,
    )
    # The generated accounts all predate the scoring run's recommendations: some customers (of
    # the busiest RM and of BR0001 among them) now open a recommended product after it was
    # recommended, and one opens it the day before (not a conversion).
    planted = driver.execute_query(
        """MATCH (r:Recommendation)-[:FOR]->(c:Customer)-[:HOLDS]->(:Account {status: 'OPEN'})
        WITH DISTINCT c, r ORDER BY c.customer_id, r.product_code
        WITH c, collect(r)[0] AS r
        WITH c, r, EXISTS { (:Branch {branch_id: 'BR0001'})<-[:WORKS_AT]-(:Employee)
                              -[:MANAGES]->(c) } AS in_branch,
             COUNT { (c)<-[:MANAGES]-(:Employee) } > 0 AS managed
        ORDER BY in_branch DESC, managed DESC, c.customer_id
        WITH collect([c, r])[0..12] AS chosen
        UNWIND range(0, size(chosen) - 1) AS k
        WITH chosen[k][0] AS c, chosen[k][1] AS r, k
        CREATE (c)-[:HOLDS {role: 'PRIMARY'}]->(a:Account {
          account_id: 'KPI-PLANTED-' + toString(k), product_code: r.product_code,
          product_type: 'FUND', currency: 'CNY', balance: 1000.0, status: 'OPEN',
          opened_at: r.made_on + duration({days: CASE WHEN k = 0 THEN -1 ELSE k END})})
        RETURN count(a) AS n""",
        database_=settings.neo4j_database,
    ).records[0]["n"]
    assert planted >= 6
    return {"as_of": summary.as_of}


@pytest.fixture(scope="module")
def client(settings: Settings, bank) -> Iterator[TestClient]:
    from c360.app import create_app

    with TestClient(create_app(settings)) as c:
        count_queries(c.app.state.driver)  # type: ignore[attr-defined]
        yield c


def _rows(driver: Driver, settings: Settings, query: str, **params: Any) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        query, params, database_=settings.neo4j_database, routing_=RoutingControl.READ
    )
    return [r.data() for r in records]


def _ask(client: TestClient, auth_header, role: str, variables: dict, **claims: Any) -> dict:
    resp = client.post(
        "/graphql",
        json={"query": KPIS, "variables": variables},
        headers=auth_header(role, **claims),
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


def _native(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


def expected_kpis(rows: dict[str, Any], ids: set[str], period: Period, settings) -> dict:
    """Every KPI of ``period`` over the customers ``ids``, in plain Python from raw rows."""
    lo, hi = period.instants()
    now = dt.datetime.now(dt.UTC)
    response = dt.timedelta(hours=settings.sla_first_response_hours)
    out: dict[str, float | None] = {}

    def pct(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 2) if whole else None

    complaints = [r for r in rows["complaints"] if r["id"] in ids and lo <= _native(r["at"]) < hi]
    counted = answered = major_counted = major_in_time = 0
    hours: list[float] = []
    for r in complaints:
        opened = _native(r["at"])
        resolved = _native(r["resolved"])
        responded = _native(r["first_response"]) or resolved
        if responded is not None or now > opened + response:
            counted += 1
            answered += responded is not None and responded <= opened + response
        if resolved is not None:
            hours.append((resolved - opened).total_seconds() / 3600)
        if r["severity"] == "MAJOR":
            due = opened + dt.timedelta(hours=settings.sla_major_resolution_hours)
            if resolved is not None or now > due:
                major_counted += 1
                major_in_time += resolved is not None and resolved <= due
    out["COMPLAINTS_OPENED"] = float(len(complaints))
    out["FIRST_RESPONSE_24H_PCT"] = pct(answered, counted)
    out["AVERAGE_HANDLING_HOURS"] = round(statistics.fmean(hours), 2) if hours else None
    if hours:
        ordered = sorted(hours)
        k = 0.9 * (len(ordered) - 1)
        f = int(k)
        p90 = ordered[f] + (ordered[min(f + 1, len(ordered) - 1)] - ordered[f]) * (k - f)
        out["P90_HANDLING_HOURS"] = round(p90, 2)
    else:
        out["P90_HANDLING_HOURS"] = None
    out["MAJOR_WITHIN_4H_PCT"] = pct(major_in_time, major_counted)

    scored = [r for r in rows["scores"] if r["id"] in ids and lo <= _native(r["at"]) < hi]
    csat = [r["csat"] for r in scored if r["csat"] is not None]
    core = [r["csat"] for r in scored if r["csat"] is not None and r["tier"] == "CORE"]
    nps = [r["nps"] for r in scored if r["nps"] is not None]
    out["CSAT_PCT"] = pct(sum(s >= 4 for s in csat), len(csat))
    out["CSAT_PCT_CORE"] = pct(sum(s >= 4 for s in core), len(core))
    out["CSAT_AVERAGE"] = round(statistics.fmean(csat), 2) if csat else None
    out["NPS"] = (
        round(100 * (sum(n >= 9 for n in nps) - sum(n <= 6 for n in nps)) / len(nps), 2)
        if nps
        else None
    )

    annual = 365 / period.days
    at_start = {"all": 0, "high": 0, "core": 0}
    left = {"all": 0, "high": 0, "core": 0}
    for c in rows["customers"]:
        if c["id"] not in ids:
            continue
        statuses = c["statuses"]
        left_on = max(c["closed"]) if statuses and all(s == "CLOSED" for s in statuses) else None
        onboarded = c["onboarded"]
        if onboarded is not None and onboarded >= period.start:
            continue
        if left_on is not None and left_on < period.start:
            continue
        tier = c["tier"]
        if left_on is not None and tier == "ORDINARY" and c["previous_tier"]:
            tier = c["previous_tier"]
        gone = left_on is not None and left_on <= period.end
        for group, member in (
            ("all", True),
            ("high", tier in ("CORE", "KEY")),
            ("core", tier == "CORE"),
        ):
            if member:
                at_start[group] += 1
                left[group] += gone
    for code, group in (
        ("CHURN_RATE_PCT", "all"),
        ("CHURN_RATE_HIGH_VALUE_PCT", "high"),
        ("CHURN_RATE_CORE_PCT", "core"),
    ):
        rate = pct(left[group], at_start[group])
        out[code] = None if rate is None else round(rate * annual, 2)

    changes = [
        t for t in rows["changes"] if t["id"] in ids and period.start <= t["on"] <= period.end
    ]
    out["TIER_UPGRADES"] = float(sum(t["direction"] == "UP" for t in changes))
    out["TIER_DOWNGRADES"] = float(sum(t["direction"] == "DOWN" for t in changes))
    out["TIER_DOWNGRADES_CORE"] = float(
        sum(t["direction"] == "DOWN" and t["from"] == "CORE" for t in changes)
    )
    out["TIER_DOWNGRADES_KEY"] = float(
        sum(t["direction"] == "DOWN" and t["from"] == "KEY" for t in changes)
    )

    mine = [c for c in rows["customers"] if c["id"] in ids]
    risky = [c for c in mine if c["downgrade"] in ("HIGH", "MEDIUM")]
    out["DOWNGRADE_RISK_CUSTOMERS"] = float(len(risky))
    out["AUM_AT_RISK"] = round(sum(c["aum"] or 0.0 for c in risky), 2)
    fields = [f.property for f in quality_config().fields]
    shares = (
        [
            sum(
                1
                for c in mine
                if c["fields"].get(p) not in (None, "") and str(c["fields"][p]).strip()
            )
            / len(mine)
            for p in fields
        ]
        if mine
        else []
    )
    out["DATA_COMPLETENESS_PCT"] = round(100 * sum(shares) / len(shares), 2) if shares else None

    # follow-ups: core/followups.toml's rule, applied here row by row
    cfg = followups.load()
    day = min(period.end, now.date())
    until = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    kinds = personalised_service_kinds()
    tier_of = {c["id"]: c["tier"] for c in mine}
    planned = {"CORE": 0, "KEY": 0}
    covered = {"CORE": 0, "KEY": 0}
    core_contacts = core_services = 0
    for cid, tier in tier_of.items():
        if tier not in planned:
            continue
        done = rows["interactions"].get(cid, [])
        contacts = [i for i in done if cfg.counts(kind=i["kind"], channel=i["channel"])]
        if tier in cfg.intervals:
            planned[tier] += 1
            last = max((i["at"] for i in contacts if i["at"] < until), default=None)
            interval = dt.timedelta(days=cfg.intervals[tier])
            covered[tier] += last is not None and last.date() + interval >= day
        if tier == "CORE":
            core_contacts += sum(lo <= i["at"] < hi for i in contacts)
            core_services += sum(
                lo <= i["at"] < hi and i["kind"] in kinds and i["handled"] for i in done
            )
    out["FOLLOW_UP_COVERAGE_CORE_PCT"] = pct(covered["CORE"], planned["CORE"])
    out["FOLLOW_UP_COVERAGE_KEY_PCT"] = pct(covered["KEY"], planned["KEY"])
    core_n = sum(t == "CORE" for t in tier_of.values())
    months = period.days * 12 / 365
    out["FOLLOW_UPS_PER_CORE_CUSTOMER_MONTH"] = (
        round(core_contacts / core_n / months, 2) if core_n else None
    )
    out["PERSONALISED_SERVICES_PER_CORE_CUSTOMER_YEAR"] = (
        round(core_services / core_n * annual, 2) if core_n else None
    )

    # recommendations: open (made by the period's end, not converted before its start) and
    # converted in it (an account of the product opened on or after made_on)
    opened = rows["openings"]
    open_n = converted_n = 0
    for r in rows["recommendations"]:
        if r["id"] not in ids or r["made_on"] > period.end:
            continue
        on = min(
            (d for d in opened.get((r["id"], r["product"]), []) if d >= r["made_on"]),
            default=None,
        )
        if on is not None and on < period.start:
            continue
        open_n += 1
        converted_n += on is not None and on <= period.end
    out["RECOMMENDATION_CONVERSION_PCT"] = pct(converted_n, open_n)
    return out


@pytest.fixture(scope="module")
def raw(driver: Driver, settings: Settings, bank) -> dict[str, Any]:
    props = [f.property for f in quality_config().fields]
    return {
        "complaints": _rows(
            driver,
            settings,
            """
            MATCH (c:Customer)-[:HAD]->(i:Interaction {kind: 'COMPLAINT'})
            RETURN c.customer_id AS id, i.occurred_at AS at, i.first_response_at AS first_response,
                   i.resolved_at AS resolved, i.severity AS severity""",
        ),
        "scores": _rows(
            driver,
            settings,
            """
            MATCH (c:Customer)-[:HAD]->(i:Interaction)
            WHERE i.satisfaction IS NOT NULL OR i.nps IS NOT NULL
            RETURN c.customer_id AS id, i.occurred_at AS at, i.satisfaction AS csat, i.nps AS nps,
                   c.tier AS tier""",
        ),
        "changes": _rows(
            driver,
            settings,
            """
            MATCH (t:TierChange)-[:OF]->(c:Customer)
            RETURN c.customer_id AS id, t.changed_at AS on, t.direction AS direction,
                   t.from_tier AS from""",
        ),
        "interactions": _by_customer(
            _rows(
                driver,
                settings,
                """
            MATCH (c:Customer)-[:HAD]->(i:Interaction)
            RETURN c.customer_id AS id, i.kind AS kind, i.channel AS channel,
                   i.occurred_at AS at, EXISTS { (i)-[:HANDLED_BY]->(:Employee) } AS handled""",
            )
        ),
        "recommendations": [
            {**r, "made_on": _native(r["made_on"])}
            for r in _rows(
                driver,
                settings,
                """
            MATCH (r:Recommendation)-[:FOR]->(c:Customer)
            RETURN c.customer_id AS id, r.product_code AS product, r.made_on AS made_on""",
            )
        ],
        "openings": _openings(
            _rows(
                driver,
                settings,
                """
            MATCH (c:Customer)-[:HOLDS]->(a:Account)
            RETURN c.customer_id AS id, a.product_code AS product, a.opened_at AS opened""",
            )
        ),
        "customers": [
            {
                **r,
                "onboarded": _native(r["onboarded"]),
                "closed": [_native(d) for d in r["closed"]],
                "fields": dict(zip(props, r["values"], strict=True)),
            }
            for r in _rows(
                driver,
                settings,
                """
            MATCH (c:Customer)
            OPTIONAL MATCH (c)-[:HOLDS]->(a:Account)
            RETURN c.customer_id AS id, c.onboarded_at AS onboarded, c.tier AS tier,
                   c.previous_tier AS previous_tier, c.downgrade_risk_level AS downgrade,
                   c.aum AS aum, collect(a.status) AS statuses, collect(a.closed_at) AS closed,
                   [p IN $props | c[p]] AS values""",
                props=props,
            )
        ],
    }


def _by_customer(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["id"], []).append({**r, "at": _native(r["at"])})
    return out


def _openings(rows: list[dict]) -> dict[tuple[str, str], list[dt.date]]:
    out: dict[tuple[str, str], list[dt.date]] = {}
    for r in rows:
        if r["opened"] is not None:
            out.setdefault((r["id"], r["product"]), []).append(_native(r["opened"]))
    return out


def _dates(rows: list[dict]) -> None:
    for r in rows:
        if "on" in r:
            r["on"] = _native(r["on"])


def _check(body: dict, expected: dict, label: str) -> None:
    assert "errors" not in body, body
    got = {k["code"]: k for k in body["data"]["kpis"]["kpis"]}
    assert set(got) == set(expected)
    for code, value in expected.items():
        assert got[code]["value"] == pytest.approx(value, abs=0.011), (label, code)
        k = got[code]
        if k["target"] is not None and k["value"] is not None:
            higher = code not in ("AVERAGE_HANDLING_HOURS",) and not code.startswith("CHURN")
            assert k["met"] is (k["value"] >= k["target"] if higher else k["value"] <= k["target"])


def test_every_kpi_equals_the_python_computation(
    client: TestClient, auth_header, driver: Driver, settings: Settings, bank, raw
) -> None:
    _dates(raw["changes"])
    year = containing(PeriodKind.YEAR, bank["as_of"])
    everyone = {c["id"] for c in raw["customers"]}
    branch = "BR0001"
    in_branch = {
        r["id"]
        for r in _rows(
            driver,
            settings,
            """
        MATCH (c:Customer)
        WHERE EXISTS { (:Branch {branch_id: $b})<-[:WORKS_AT]-(:Employee)-[:MANAGES]->(c) }
           OR EXISTS { (c)-[:HOME_BRANCH]->(:Branch {branch_id: $b}) }
        RETURN c.customer_id AS id""",
            b=branch,
        )
    }
    [rm] = _rows(
        driver,
        settings,
        """
        MATCH (e:Employee)-[:MANAGES]->(c:Customer) WITH e, count(c) AS n
        RETURN e.employee_id AS id ORDER BY n DESC, id LIMIT 1""",
    )
    book = {
        r["id"]
        for r in _rows(
            driver,
            settings,
            """
        MATCH (:Employee {employee_id: $e})-[:MANAGES]->(c:Customer) RETURN c.customer_id AS id""",
            e=rm["id"],
        )
    }
    assert len(in_branch) > 20 and len(book) > 10
    for label, scope, ids, role, claims in (
        ("bank", {"bank": True}, everyone, "admin", {}),
        ("branch", {"branchId": branch}, in_branch, "branch_manager", {"branch_id": branch}),
        (
            "rm",
            {"relationshipManagerId": rm["id"]},
            book,
            "relationship_manager",
            {"employee_id": rm["id"]},
        ),
    ):
        CountingSession.queries = []
        body = _ask(
            client, auth_header, role, {"scope": scope, "period": {"label": year.label}}, **claims
        )
        assert len(CountingSession.queries) <= 3, CountingSession.queries
        expected = expected_kpis(raw, ids, year, settings)
        _check(body, expected, label)
        previous = {k["code"]: k["previous"] for k in body["data"]["kpis"]["kpis"]}
        before = expected_kpis(raw, ids, year.previous(), settings)
        for code, value in before.items():
            if code in ("DOWNGRADE_RISK_CUSTOMERS", "AUM_AT_RISK", "DATA_COMPLETENESS_PCT"):
                assert previous[code] is None  # live figures have no previous period
            else:
                assert previous[code] == pytest.approx(value, abs=0.011), (label, code)
    # the bank-wide year has complaints, scores and customers to measure: not all nulls
    bank_body = _ask(client, auth_header, "admin", {"period": {"label": year.label}})
    values = {k["code"]: k["value"] for k in bank_body["data"]["kpis"]["kpis"]}
    assert values["COMPLAINTS_OPENED"] and values["CSAT_PCT"] is not None
    assert values["CHURN_RATE_PCT"] and values["CHURN_RATE_CORE_PCT"]
    assert values["DOWNGRADE_RISK_CUSTOMERS"] and values["DATA_COMPLETENESS_PCT"]
    assert (
        values["FOLLOW_UPS_PER_CORE_CUSTOMER_MONTH"]
        and values["PERSONALISED_SERVICES_PER_CORE_CUSTOMER_YEAR"]
    )
    assert values["RECOMMENDATION_CONVERSION_PCT"]  # the planted openings


COVERAGE = """query($branchId: ID) {
  followUpCoverage(branchId: $branchId) { asOf tiers { tier customers covered } } }"""


BUSIEST_RM = """
    MATCH (e:Employee)-[:MANAGES]->(c:Customer) WHERE c.tier IN ['CORE', 'KEY']
    WITH e, count(c) AS n RETURN e.employee_id AS id ORDER BY n DESC, id LIMIT 1"""


@pytest.fixture
def visits_from_today(driver: Driver, settings: Settings, bank) -> Iterator[list[str]]:
    """A visit an hour ago by the real clock for a CORE and a KEY customer of the busiest RM
    and of the staff of BR0001 and BR0002, removed afterwards: the generated bank's contacts are
    dated from its as-of (2026-10-31), and months later nobody would be covered today."""
    [rm] = _rows(driver, settings, BUSIEST_RM)
    chosen = _rows(
        driver,
        settings,
        """
        MATCH (e:Employee)-[:MANAGES]->(c:Customer) WHERE c.tier IN ['CORE', 'KEY']
        OPTIONAL MATCH (e)-[:WORKS_AT]->(b:Branch)
        WITH c, CASE WHEN e.employee_id = $rm THEN $rm ELSE b.branch_id END AS owner
        WHERE owner IN [$rm, 'BR0001', 'BR0002']
        WITH c.tier AS tier, owner, min(c.customer_id) AS id
        RETURN DISTINCT id ORDER BY id""",
        rm=rm["id"],
    )
    ids = [r["id"] for r in chosen]
    at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    driver.execute_query(
        """UNWIND $ids AS id MATCH (c:Customer {customer_id: id})
        CREATE (c)-[:HAD]->(:Interaction {interaction_id: 'KPI-TODAY-' + id, kind: 'VISIT',
                                          channel: 'VISIT', occurred_at: $at})""",
        ids=ids, at=at, database_=settings.neo4j_database, routing_=RoutingControl.WRITE,
    )  # fmt: skip
    yield ids
    driver.execute_query(
        "MATCH (i:Interaction) WHERE i.interaction_id STARTS WITH 'KPI-TODAY-' DETACH DELETE i",
        database_=settings.neo4j_database, routing_=RoutingControl.WRITE,
    )  # fmt: skip


def test_follow_up_coverage_is_follow_up_coverage_s_figure(
    client: TestClient, auth_header, driver: Driver, settings: Settings, bank, visits_from_today
) -> None:
    """The KPI of the period running today is followUpCoverage's share today, per scope."""
    quarter = containing(PeriodKind.QUARTER, dt.datetime.now(dt.UTC).date())
    [rm] = _rows(driver, settings, BUSIEST_RM)
    assert len(visits_from_today) >= 2, visits_from_today
    seen = 0
    for scope, role, claims, coverage_args in (
        ({"bank": True}, "admin", {}, {}),
        ({"branchId": "BR0001"}, "admin", {}, {"branchId": "BR0001"}),
        ({"branchId": "BR0002"}, "branch_manager", {"branch_id": "BR0002"}, {}),
        (
            {"relationshipManagerId": rm["id"]},
            "relationship_manager",
            {"employee_id": rm["id"]},
            {},
        ),
    ):
        body = _ask(
            client,
            auth_header,
            role,
            {"scope": scope, "period": {"label": quarter.label}},
            **claims,
        )
        values = {k["code"]: k for k in body["data"]["kpis"]["kpis"]}
        got = _post(client, auth_header, role, COVERAGE, coverage_args, **claims)
        assert "errors" not in got, got
        tiers = {t["tier"]: t for t in got["data"]["followUpCoverage"]["tiers"]}
        for tier in ("CORE", "KEY"):
            t = tiers[tier]
            want = round(100 * t["covered"] / t["customers"], 2) if t["customers"] else None
            k = values[f"FOLLOW_UP_COVERAGE_{tier}_PCT"]
            assert k["value"] == want, (scope, tier)
            assert k["target"] == 100 * followups.load().target
            seen += t["covered"]
    assert seen  # somebody is covered: the comparison is not between zeros


def test_each_role_keeps_to_its_scope(client: TestClient, auth_header, bank) -> None:
    def codes(body: dict) -> list[str]:
        return [e["extensions"]["code"] for e in body.get("errors") or []]

    rm = {"employee_id": "E00002"}
    assert codes(
        _ask(
            client,
            auth_header,
            "relationship_manager",
            {"scope": {"relationshipManagerId": "E00003"}},
            **rm,
        )
    ) == ["FORBIDDEN"]
    assert codes(
        _ask(client, auth_header, "relationship_manager", {"scope": {"bank": True}}, **rm)
    ) == ["FORBIDDEN"]
    assert codes(
        _ask(client, auth_header, "relationship_manager", {"scope": {"branchId": "BR0001"}}, **rm)
    ) == ["FORBIDDEN"]
    own = _ask(client, auth_header, "relationship_manager", {}, **rm)
    assert (
        own["data"]["kpis"]["scope"] == "RELATIONSHIP_MANAGER"
        and own["data"]["kpis"]["scopeId"] == "E00002"
    )
    bm = {"branch_id": "BR0001"}
    assert codes(
        _ask(client, auth_header, "branch_manager", {"scope": {"branchId": "BR0002"}}, **bm)
    ) == ["FORBIDDEN"]
    assert (
        _ask(client, auth_header, "branch_manager", {}, **bm)["data"]["kpis"]["scopeId"] == "BR0001"
    )
    for role in ("channel_service", "data_engineer"):
        assert codes(_ask(client, auth_header, role, {})) == ["FORBIDDEN"], role
    auditor = _ask(client, auth_header, "auditor", {"scope": {"branchId": "BR0002"}})
    assert auditor["data"]["kpis"]["scope"] == "BRANCH"
    bad = _ask(client, auth_header, "admin", {"period": {"label": "2026Q9"}})
    assert codes(bad) == ["BAD_USER_INPUT"] and "period.label" in bad["errors"][0]["message"]
    both = _ask(client, auth_header, "admin", {"scope": {"bank": True, "branchId": "BR0001"}})
    assert codes(both) == ["BAD_USER_INPUT"] and "scope" in both["errors"][0]["message"]


def test_c360_kpis_prints_the_api_figures(
    client: TestClient, auth_header, settings: Settings, bank, tmp_path: Path
) -> None:
    import json
    import subprocess

    from tests.etl_support import c360, cli_env

    year = str(bank["as_of"].year)
    env = cli_env(settings, tmp_path)
    out = subprocess.run(
        c360("kpis", "--scope", "branch:BR0001", "--period", year, "--json"),
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    printed = json.loads(out.stdout)["kpis"]
    body = _ask(
        client, auth_header, "admin", {"scope": {"branchId": "BR0001"}, "period": {"label": year}}
    )
    for k in body["data"]["kpis"]["kpis"]:
        assert printed[k["code"]]["value"] == k["value"], k["code"]
        assert printed[k["code"]]["previous"] == k["previous"], k["code"]
    table = subprocess.run(
        c360("kpis", "--scope", "bank", "--period", year), env=env, capture_output=True, text=True
    )
    assert table.returncode == 0 and "FIRST_RESPONSE_24H_PCT" in table.stdout
    bad = subprocess.run(
        c360("kpis", "--scope", "region:east"), env=env, capture_output=True, text=True
    )
    assert bad.returncode == 2 and "--scope" in bad.stderr


def test_every_kpi_is_defined_in_the_readme() -> None:
    from core.kpis import definitions

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for code, d in definitions().items():
        assert f"| `{code}` |" in readme and d.definition in readme, code


RANKING = """query R($code: String!, $by: KpiRankBy!, $period: KpiPeriodInput) {
  kpiRanking(code: $code, by: $by, period: $period) {
    code by period { label } target higherIsBetter entries { rank id value met } } }"""
TREND = """query T($code: String!, $scope: KpiScopeInput, $period: KpiPeriodInput, $n: Int!) {
  kpiTrend(code: $code, scope: $scope, period: $period, periods: $n) {
    code scope scopeId target points { period { label from to } value met } } }"""


def _post(client: TestClient, auth_header, role: str, query: str, variables: dict, **claims):
    resp = client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers=auth_header(role, **claims),
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.mark.parametrize("code", ["CSAT_PCT", "AVERAGE_HANDLING_HOURS", "DOWNGRADE_RISK_CUSTOMERS"])
def test_rankings_agree_with_each_scope_report(
    client: TestClient, auth_header, driver: Driver, settings: Settings, bank, code: str
) -> None:
    """Each branch's and RM's ranked value is what kpis gives for that branch or RM alone; best
    first by the target's direction; one graph read for the whole ranking."""
    year = {"label": str(bank["as_of"].year)}
    branches = [
        r["id"] for r in _rows(driver, settings, "MATCH (b:Branch) RETURN b.branch_id AS id")
    ]
    for by, scope_key, members in (
        ("BRANCH", "branchId", branches),
        ("RM", "relationshipManagerId", None),
    ):
        CountingSession.queries = []
        body = _post(
            client, auth_header, "admin", RANKING, {"code": code, "by": by, "period": year}
        )
        assert "errors" not in body, body
        assert len(CountingSession.queries) <= 3
        entries = body["data"]["kpiRanking"]["entries"]
        assert [e["rank"] for e in entries] == list(range(1, len(entries) + 1))
        if members is not None:
            assert {e["id"] for e in entries} <= set(members) and len(entries) >= 2
        for e in entries[:6]:
            alone = _ask(
                client, auth_header, "admin", {"scope": {scope_key: e["id"]}, "period": year}
            )
            value = {k["code"]: k["value"] for k in alone["data"]["kpis"]["kpis"]}[code]
            assert (
                e["value"] == pytest.approx(value, abs=1e-9)
                if value is not None
                else e["value"] is None
            )
        valued = [e["value"] for e in entries if e["value"] is not None]
        higher = body["data"]["kpiRanking"]["higherIsBetter"]
        assert valued == sorted(valued, reverse=higher is not False)


def test_a_branch_manager_ranks_their_own_rms_only(
    client: TestClient, auth_header, driver: Driver, settings: Settings, bank
) -> None:
    staff = {
        r["id"]
        for r in _rows(
            driver,
            settings,
            """
        MATCH (:Branch {branch_id: 'BR0001'})<-[:WORKS_AT]-(e:Employee)-[:MANAGES]->()
        RETURN DISTINCT e.employee_id AS id""",
        )
    }
    bm = {"branch_id": "BR0001"}
    body = _post(
        client, auth_header, "branch_manager", RANKING, {"code": "CSAT_PCT", "by": "RM"}, **bm
    )
    assert {e["id"] for e in body["data"]["kpiRanking"]["entries"]} == staff
    refused = _post(
        client, auth_header, "branch_manager", RANKING, {"code": "CSAT_PCT", "by": "BRANCH"}, **bm
    )
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    rm = _post(
        client,
        auth_header,
        "relationship_manager",
        RANKING,
        {"code": "CSAT_PCT", "by": "RM"},
        employee_id="E00002",
    )
    assert [e["extensions"]["code"] for e in rm["errors"]] == ["FORBIDDEN"]
    bad = _post(client, auth_header, "admin", RANKING, {"code": "NOT_A_KPI", "by": "RM"})
    assert [e["extensions"]["code"] for e in bad["errors"]] == ["BAD_USER_INPUT"]
    assert "NOT_A_KPI" in bad["errors"][0]["message"]


def test_a_trend_is_each_period_s_report(client: TestClient, auth_header, bank) -> None:
    last = containing(PeriodKind.QUARTER, bank["as_of"]).label
    CountingSession.queries = []
    body = _post(
        client, auth_header, "admin", TREND, {"code": "CSAT_PCT", "period": {"label": last}, "n": 4}
    )
    assert "errors" not in body, body
    assert len(CountingSession.queries) <= 3
    points = body["data"]["kpiTrend"]["points"]
    assert [p["period"]["label"] for p in points] == [p.label for p in parse(last).back(4)]
    for p in points:
        alone = _ask(client, auth_header, "admin", {"period": {"label": p["period"]["label"]}})
        value = {k["code"]: k["value"] for k in alone["data"]["kpis"]["kpis"]}["CSAT_PCT"]
        assert p["value"] == value
    assert sum(p["value"] is not None for p in points) >= 2
    too_many = _post(client, auth_header, "admin", TREND, {"code": "CSAT_PCT", "n": 40})
    assert [e["extensions"]["code"] for e in too_many["errors"]] == ["BAD_USER_INPUT"]


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / f"kpis-{len(list(tmp_path.iterdir()))}.toml"  # the loaders cache by path
    path.write_text(body, encoding="utf-8")
    return path


def test_targets_absolute_from_another_file_or_relative(tmp_path: Path) -> None:
    """A target is a number, read from core/followups.toml (once), or a change on the previous
    period; the loader refuses a malformed one naming the file and the KPI."""
    d = definitions()
    assert d["FOLLOW_UP_COVERAGE_CORE_PCT"].target == 100 * followups.load().target
    conversion = d["RECOMMENDATION_CONVERSION_PCT"]
    assert conversion.target is None and conversion.target_change_pct == 20.0
    assert conversion.met(12.0, 10.0) is True and conversion.met(11.9, 10.0) is False
    assert conversion.met(12.0) is None and conversion.met(5.0, 0.0) is None
    head = '[X]\nunit = "pct"\ndefinition = "x"\n'
    for body, message in (
        ('better = "higher"\n', "needs a target"),
        ('better = "higher"\ntarget_from = "elsewhere"\n', "target_from must be one of"),
        ('better = "higher"\ntarget_change_pct = -5\n', "target_change_pct must be"),
        ('better = "higher"\ntarget = 3\ntarget_change_pct = 5\n', "not both"),
        (
            'better = "higher"\ntarget = 3\ntarget_from = "core/followups.toml coverage.target"\n',
            "not both",
        ),
        ('better = "none"\ntarget_change_pct = 5\n', "needs a target"),
    ):
        path = _config(tmp_path, head + body)
        with pytest.raises(ValueError, match=message) as err:
            definitions(path)
        assert str(path) in str(err.value) and "X" in str(err.value)
    lower = definitions(_config(tmp_path, head + 'better = "lower"\ntarget_change_pct = 10\n'))
    assert lower["X"].met(9.0, 10.0) is True and lower["X"].met(9.5, 10.0) is False
    with pytest.raises(ValueError, match="kinds"):
        personalised_service_kinds(
            _config(tmp_path, '[PERSONALISED_SERVICES_PER_CORE_CUSTOMER_YEAR]\nkinds = ["x"]\n')
        )
