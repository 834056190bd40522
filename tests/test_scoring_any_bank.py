"""Scoring works on any loaded bank: as of the data's newest month-end (not today), without
holding a missing CRM against anyone, over one system's or one load's customers when asked.

Two banks (tests/money_banks.py), loaded in two runs into one real graph: a mainland bank with
month-end balances and a CRM, and a Czech bank of the 1990s without either. Expected dates are
computed here from the banks' own rows.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver, RoutingControl

from core.settings import Settings
from scoring.config import load_config
from scoring.job import NO_DATED_DATA, Basis, ScoringError, combine, data_as_of, run_scoring
from tests import money_banks as banks
from tests.etl_support import c360, cli_env, load, reset

CFG = load_config()
NO_INTERACTION = "NO_CONTACT_EVER"
CONTACT_CODES = {"NO_CONTACT_EVER", "NO_CONTACT"}


def q(driver: Driver, settings: Settings, query: str, **params: Any) -> list[dict[str, Any]]:
    records = driver.execute_query(
        query, params, database_=settings.neo4j_database, routing_control=RoutingControl.READ
    ).records
    return [r.data() for r in records]


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def newest_date(files: dict[str, list[dict[str, Any]]], columns: tuple[str, ...]) -> dt.date:
    """The newest of these columns' dates that is not after today (a later one is a keying error:
    the Czech bank has an account "opened" years ahead, banks.FUTURE_OPENED)."""
    today = dt.datetime.now(dt.UTC).date()
    dates = [
        dt.date.fromisoformat(str(row[c])[:10])
        for rows in files.values()
        for row in rows
        for c in columns
        if row.get(c)
    ]
    return max(d for d in dates if d <= today)


@pytest.fixture(scope="module")
def two_banks(
    tmp_path_factory: pytest.TempPathFactory, driver: Driver, settings: Settings
) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("anybank") / "extracts"
    cn_mapping = banks.write_bank(root, "cnbank", banks.cnbank(), banks.CN_MAPPING)
    cz_mapping = banks.write_bank(root, "czbank", banks.czbank(), banks.CZ_MAPPING)
    reset(driver, settings)
    cn = load(driver, settings, root, source_system="cnbank", mapping_file=cn_mapping)
    cz = load(driver, settings, root, source_system="czbank", mapping_file=cz_mapping)
    return {"root": root, "cn_run": cn.run_id, "cz_run": cz.run_id}


def _by_system(driver: Driver, settings: Settings, system: str) -> dict[str, dict[str, Any]]:
    rows = q(
        driver,
        settings,
        "MATCH (s:SourceRecord {system: $system})-[:RESOLVED_TO]->(c:Customer) "
        "RETURN s.source_id AS id, c {.*} AS c",
        system=system,
    )
    return {r["id"]: r["c"] for r in rows}


def test_as_of_defaults_to_the_newest_month_end_of_the_data(two_banks, driver, settings):
    summary = run_scoring(driver, database=settings.neo4j_database, cfg=CFG)
    newest_balance = newest_date(banks.cnbank(), ("hist_end",))
    # two systems: each has its own as-of, the summary names them and gives the newest
    assert summary.as_of == newest_balance
    assert f"cnbank {newest_balance} (newest month-end balance)" in summary.as_of_basis
    assert summary.as_of != dt.date.today()
    # the Czech bank alone has no month-end balances: the end of its newest month
    cz = run_scoring(driver, database=settings.neo4j_database, cfg=CFG, system="czbank")
    newest = newest_date(banks.czbank(), ("opened", "closed"))
    assert cz.as_of == month_end(newest) and cz.as_of_basis == "end of the newest data month"
    assert cz.customers == len(banks.CZ_CLIENTS)
    stored = {
        c["scored_as_of"].to_native() for c in _by_system(driver, settings, "czbank").values()
    }
    assert stored == {cz.as_of}


def _churn_codes(c: dict[str, Any]) -> list[str]:
    return [r["code"] for r in json.loads(c["churn_reasons_json"])]


def test_no_interaction_source_is_no_churn_signal(two_banks, driver, settings):
    cz = run_scoring(driver, database=settings.neo4j_database, cfg=CFG, system="czbank")
    assert not cz.interaction_source
    for client, c in _by_system(driver, settings, "czbank").items():
        codes = _churn_codes(c)
        assert not CONTACT_CODES & set(codes), client
        # what risk there is comes from their own accounts (a closure), never from silence
        assert (c["churn_risk_level"] == "NONE") is (not codes), (client, codes)
        assert c["lifecycle_stage"] != "DORMANT", client
    # the mainland bank has a CRM: a customer it never contacted may be told so, beside another
    # signal (never alone: a lack of contact alone is no churn risk)
    cn = run_scoring(driver, database=settings.neo4j_database, cfg=CFG, system="cnbank")
    assert cn.interaction_source
    contacted = {row["cif"] for row in banks.cnbank()["contacts"]}
    for cif, c in _by_system(driver, settings, "cnbank").items():
        codes = _churn_codes(c)
        if NO_INTERACTION in codes:
            assert cif not in contacted, cif
        assert not codes or set(codes) - CONTACT_CODES, (cif, codes)
        assert (c["churn_risk_level"] == "NONE") is (not codes), (cif, c["churn_risk_level"])


def test_a_load_run_or_a_system_scores_its_customers_only(two_banks, driver, settings):
    clear = "MATCH (c:Customer) REMOVE c.scored_at"
    scored = "MATCH (c:Customer) WHERE c.scored_at IS NOT NULL RETURN c.customer_id AS id"
    for selection, system in (
        ({"run_id": two_banks["cz_run"]}, "czbank"),
        ({"run_id": two_banks["cn_run"]}, "cnbank"),
        ({"system": "cnbank"}, "cnbank"),
    ):
        driver.execute_query(clear, database_=settings.neo4j_database)
        summary = run_scoring(driver, database=settings.neo4j_database, cfg=CFG, **selection)
        expected = {c["customer_id"] for c in _by_system(driver, settings, system).values()}
        assert {r["id"] for r in q(driver, settings, scored)} == expected, selection
        assert summary.customers == len(expected)
    with pytest.raises(ScoringError, match="no such load run"):
        run_scoring(driver, database=settings.neo4j_database, cfg=CFG, run_id="nope")


def test_the_cli_scores_a_system_and_names_what_it_cannot_find(two_banks, settings, tmp_path: Path):
    env = cli_env(settings, tmp_path / "home")

    def score(*args: str) -> tuple[int, str]:
        done = subprocess.run(
            c360("score", *args), env=env, capture_output=True, text=True, timeout=300
        )
        return done.returncode, " ".join((done.stdout + done.stderr).split())  # unwrapped

    code, out = score("--system", "czbank")
    assert code == 0, out[-2000:]
    newest = newest_date(banks.czbank(), ("opened", "closed"))
    assert f"Scored {len(banks.CZ_CLIENTS)} customers as of {month_end(newest)}" in out
    assert "EUR accounts with no FX rate" in out
    assert "No interactions in the data scored" in out
    for args, message in (
        (("--system", "nowhere"), "(systems in the graph: cnbank, czbank)"),
        (("--run", "nope"), "--run 'nope': no such load run"),
        (("--system", "czbank", "--run", "x"), "give one of --customer, --system and --run"),
    ):
        code, out = score(*args)
        assert code == 2 and message in out, out[-2000:]


HOUSEHOLDS = "MATCH (h:Household) RETURN h.household_id AS id, h {.aum, .tier, .scored_at} AS h"
COMPARED = (
    "scored_as_of", "aum", "tier", "value_score", "churn_risk_level", "churn_reasons_json",
    "lifecycle_stage", "downgrade_risk_level", "aum_unconverted_currencies",
)  # fmt: skip


def test_scoring_one_system_leaves_the_households_of_the_other_alone(two_banks, driver, settings):
    """The Czech household is rolled up at the Czech as-of rate; scoring the mainland bank (as of
    2026, when another CZK rate is in force) must not roll it up again."""
    run_scoring(driver, database=settings.neo4j_database, cfg=CFG, system="czbank")
    before = {r["id"]: r["h"] for r in q(driver, settings, HOUSEHOLDS)}
    assert before[banks.CZ_HOUSEHOLD[0]]["aum"] is not None
    run_scoring(driver, database=settings.neo4j_database, cfg=CFG, system="cnbank")
    after = {r["id"]: r["h"] for r in q(driver, settings, HOUSEHOLDS)}
    assert after == before


def test_default_scoring_of_two_banks_scores_each_as_its_own_system(two_banks, driver, settings):
    """Every customer at once gives the Czech customers what scoring their system alone gives:
    their own as-of (1998, not the mainland's 2026) and no missing-CRM flag."""
    db = settings.neo4j_database
    alone_cz = run_scoring(driver, database=db, cfg=CFG, system="czbank")
    cz = {
        k: {f: c.get(f) for f in COMPARED}
        for k, c in _by_system(driver, settings, "czbank").items()
    }
    alone_cn = run_scoring(driver, database=db, cfg=CFG, system="cnbank")
    cn = {
        k: {f: c.get(f) for f in COMPARED}
        for k, c in _by_system(driver, settings, "cnbank").items()
    }
    households = {r["id"]: r["h"] for r in q(driver, settings, HOUSEHOLDS)}
    everyone = run_scoring(driver, database=db, cfg=CFG)
    assert everyone.customers == alone_cz.customers + alone_cn.customers
    for system, alone in (("czbank", cz), ("cnbank", cn)):
        now = {
            k: {f: c.get(f) for f in COMPARED}
            for k, c in _by_system(driver, settings, system).items()
        }
        assert now == alone, system
    after = {r["id"]: r["h"] for r in q(driver, settings, HOUSEHOLDS)}
    assert {k: (h["aum"], h["tier"]) for k, h in after.items()} == {
        k: (h["aum"], h["tier"]) for k, h in households.items()
    }


def test_a_date_after_today_does_not_move_the_as_of_date():
    today = dt.date(2026, 11, 30)
    assert data_as_of(None, [dt.date(1998, 10, 7), dt.date(2031, 3, 1), None], today) == (
        dt.date(1998, 10, 31),
        "end of the newest data month",
    )
    # a month-end balance dated after today is no month-end of the data either
    assert data_as_of(dt.date(2031, 1, 31), [dt.date(1998, 10, 7)], today)[0] == dt.date(
        1998, 10, 31
    )
    assert data_as_of(None, [dt.date(2031, 3, 1)], today) == (today, "today (no dated data)")


def test_an_account_opened_years_ahead_leaves_the_1998_bank_in_1998(two_banks, driver, settings):
    [future] = q(
        driver,
        settings,
        "MATCH (a:Account {account_id: 'A10'}) RETURN a.opened_at AS opened",
    )
    assert future["opened"].iso_format() == banks.FUTURE_OPENED  # loaded as it came
    cz = run_scoring(driver, database=settings.neo4j_database, cfg=CFG, system="czbank")
    assert (
        cz.as_of
        == dt.date(1998, 10, 31)
        == month_end(newest_date(banks.czbank(), ("opened", "closed")))
    )


def test_a_customer_of_several_systems_takes_the_newest_dated_as_of_and_any_crm():
    today = dt.date(2026, 11, 30)
    old = Basis(dt.date(1998, 10, 31), "end of the newest data month", False)
    new = Basis(dt.date(2026, 9, 30), "newest month-end balance", True)
    contacts = Basis(today, NO_DATED_DATA, False)  # a system with no dated data at all
    assert combine(old, new) == combine(new, old) == new
    assert combine(old, contacts) == combine(contacts, old) == old
    assert combine(contacts, Basis(today, NO_DATED_DATA, True)).interaction_source
    assert combine(old, Basis(dt.date(1990, 1, 31), "given", True)) == Basis(
        old.as_of, old.how, True
    )
