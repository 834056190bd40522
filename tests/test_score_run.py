"""`c360 score --run` after a delta load, against the real Neo4j: a run's customers are every
customer it wrote anything of (graph/queries/scoring.CUSTOMERS_OF_RUN, the ``load_run_id`` stamp
of graph/queries/upserts.py), not only those whose customer record changed.

A generated bank is loaded and scored; the next extract changes rows that are not customer
records (account balances; then holdings, memberships, RM assignments, interactions and
referrals), and is loaded as a delta, which writes no customer record at all. Which customers
the run must select is read from the graph (who holds each changed account, whose each changed
row is); what their scores must be is what scoring every customer gives.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from neo4j import Driver, RoutingControl

from core.settings import Settings
from etl.loader import LoadResult
from scoring.config import load_config
from scoring.job import run_scoring, select_customers
from synthetic import GenerateOptions, generate_bank
from tests.etl_support import c360, cli_env, load, reset

pytestmark = pytest.mark.graph

CFG = load_config()
AS_OF = dt.date(2026, 10, 31)  # the generated bank's date: every scoring here is as of it
NEW_BALANCE = 5_000_000.0  # above the CORE floor: a holder's tier must show it
# what a score is made of, compared between a --run scoring and scoring everyone
SCORED = (
    "aum", "liabilities", "tier", "value_score", "clv", "lifecycle_stage",
    "downgrade_risk_level", "churn_risk_level", "projected_aum",
)  # fmt: skip
ASSETS = sorted(CFG.asset_types)
# the key columns of the extracts, as choose() names them (a customer column: its golden id)
_ALIASES = {
    "acct_no": "acct",
    "cust_no": "cust",
    "hh_no": "hh",
    "emp_no": "emp",
    "referrer_contact": "referrer_cust",
    "referred_contact": "referred_cust",
    "interaction_no": "interaction",
}


def q(driver: Driver, settings: Settings, query: str, **params: Any) -> list[dict[str, Any]]:
    records = driver.execute_query(
        query, params, database_=settings.neo4j_database, routing_control=RoutingControl.READ
    ).records
    return [r.data() for r in records]


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding_errors="replace")


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("score-run") / "a"
    generate_bank(GenerateOptions(customers=300, seed=41, out=out))
    return out


@pytest.fixture
def own(settings: Settings, bank: Path) -> Settings:
    """The tests' settings with a data folder of this module's own (the identity model trained
    on this bank's first load, whichever test loaded before)."""
    return settings.model_copy(update={"c360_home": bank.parent / "home"})


def golden_ids(driver: Driver, settings: Settings) -> dict[tuple[str, str], str]:
    """(system, source_id) -> the customer it resolves to."""
    rows = q(
        driver,
        settings,
        "MATCH (s:SourceRecord)-[:RESOLVED_TO]->(c:Customer) "
        "RETURN s.system AS system, s.source_id AS id, c.customer_id AS customer",
    )
    return {(r["system"], r["id"]): r["customer"] for r in rows}


def clean_rows(bank: Path, name: str, key: list[str]) -> pd.DataFrame:
    """The rows of an extract that loaded as they are: not a planted bad row, and a key no other
    row of the file has (a duplicate is refused)."""
    frame = read_csv(bank / name)
    bad = read_csv(bank / "ground_truth" / "bad_rows.csv")
    planted = {int(n) - 1 for n in bad.loc[bad["file"] == name, "row_number"]}
    unique = ~frame.duplicated(subset=key, keep=False)
    return frame[unique & ~frame.index.isin(planted)]


def scores(driver: Driver, settings: Settings) -> dict[str, dict[str, Any]]:
    fields = ", ".join(f".{f}" for f in SCORED)
    query = f"MATCH (c:Customer) RETURN c.customer_id AS id, c {{{fields}}} AS s"
    rows = q(driver, settings, query)
    return {r["id"]: r["s"] for r in rows}


def households(driver: Driver, settings: Settings) -> dict[str, tuple]:
    query = "MATCH (h:Household) RETURN h.household_id AS id, h.aum AS aum, h.tier AS tier"
    rows = q(driver, settings, query)
    return {r["id"]: (r["aum"], r["tier"]) for r in rows}


def scored_customers(driver: Driver, settings: Settings) -> set[str]:
    query = "MATCH (c:Customer) WHERE c.scored_at IS NOT NULL RETURN c.customer_id AS id"
    rows = q(driver, settings, query)
    return {r["id"] for r in rows}


def forget_scoring_times(driver: Driver, settings: Settings) -> None:
    driver.execute_query(
        "MATCH (c:Customer) REMOVE c.scored_at",
        database_=settings.neo4j_database,
        routing_control=RoutingControl.WRITE,
    )


def load_scored(driver: Driver, settings: Settings, bank: Path) -> None:
    """The bank loaded into an empty graph and every customer scored."""
    reset(driver, settings)
    first = load(driver, settings, bank)
    assert first.status.startswith("SUCCEEDED") and not first.delta, first.error
    run_scoring(driver, database=settings.neo4j_database, cfg=CFG, as_of=AS_OF)


def delta_of(
    driver: Driver, settings: Settings, bank: Path, out: Path, edit: Callable[[Path], None]
) -> LoadResult:
    """``bank`` edited by ``edit`` and loaded as a delta. The delta writes no customer record:
    the old selection (the customers of the records the run wrote) finds nobody."""
    shutil.copytree(bank, out)
    edit(out)
    result = load(driver, settings, out)
    assert result.delta and result.status.startswith("SUCCEEDED"), (result.status, result.error)
    assert result.counts["customers"].loaded == 0 and result.golden.loaded == 0
    wrote_records = q(
        driver,
        settings,
        "MATCH (r:LoadRun {run_id: $id}) MATCH (s:SourceRecord) WHERE s.loaded_at = r.started_at "
        "RETURN count(s) AS n",
        id=result.run_id,
    )
    assert wrote_records == [{"n": 0}]
    return result


def test_score_run_after_a_delta_of_balances_rescores_the_holders_of_those_accounts(
    driver: Driver, own: Settings, bank: Path, tmp_path: Path
) -> None:
    load_scored(driver, own, bank)
    # open CNY asset accounts some customer holds as PRIMARY or JOINT today, whose extract row
    # loaded as it is: a new balance of 5 million makes each such holder CORE
    eligible = q(
        driver,
        own,
        """MATCH (c:Customer)-[h:HOLDS]->(a:Account)
           WHERE a.product_type IN $assets AND a.status = 'OPEN' AND a.currency = 'CNY'
             AND h.role IN ['PRIMARY', 'JOINT'] AND h.ended_at IS NULL
           RETURN DISTINCT a.account_id AS id""",
        assets=ASSETS,
    )
    clean = set(clean_rows(bank, "core/accounts.csv", ["acct_no"])["acct_no"])
    candidates = sorted({r["id"] for r in eligible} & clean)
    changed = random.Random(3).sample(candidates, 8)

    def new_balances(folder: Path) -> None:
        frame = read_csv(folder / "core/accounts.csv")
        rows = frame["acct_no"].isin(changed)
        assert (frame.loc[rows, "bal"].astype(float) != NEW_BALANCE).all()
        frame.loc[rows, "bal"] = f"{NEW_BALANCE:.2f}"
        frame.to_csv(folder / "core/accounts.csv", index=False)

    before = scores(driver, own)
    delta = delta_of(driver, own, bank, tmp_path / "balances", new_balances)
    run_id = delta.run_id
    assert delta.counts["accounts"].loaded == len(changed)
    assert all(delta.counts[e].loaded == 0 for e in delta.counts if e != "accounts")

    # the customers holding the changed accounts, in any role, and nobody else
    holders = q(
        driver,
        own,
        """MATCH (c:Customer)-[h:HOLDS]->(a:Account) WHERE a.account_id IN $ids
           RETURN c.customer_id AS id, h.role IN ['PRIMARY', 'JOINT'] AND h.ended_at IS NULL
                  AS counted""",
        ids=changed,
    )
    expected = {r["id"] for r in holders}
    counted = {r["id"] for r in holders if r["counted"]}
    assert len(counted) >= len(changed) // 2 and len(expected) < len(before) // 10
    assert set(select_customers(driver, own.neo4j_database, run_id=run_id)) == expected
    # their stored scores are stale until the run is scored
    assert all(before[c]["aum"] < NEW_BALANCE for c in counted), [before[c] for c in counted]

    # `c360 score --run` scores exactly them
    forget_scoring_times(driver, own)
    done = subprocess.run(
        c360("score", "--run", run_id, "--as-of", AS_OF.isoformat(), "--no-kpi-snapshots"),
        env=cli_env(own, own.c360_home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    said = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 0, said[-2000:]
    assert re.search(rf"Scored {len(expected)} customers as of {AS_OF}", said), said[-2000:]
    assert scored_customers(driver, own) == expected
    after = scores(driver, own)
    for c in counted:  # the new balance is in their AUM
        assert after[c]["aum"] >= NEW_BALANCE and after[c]["tier"] == "CORE", after[c]
    assert {c for c in after if after[c] != before[c]} <= expected

    # and what they got is what scoring every customer gives: nobody else needed it
    homes = households(driver, own)
    run_scoring(driver, database=own.neo4j_database, cfg=CFG, as_of=AS_OF)
    assert scores(driver, own) == after
    assert households(driver, own) == homes


def test_score_run_selects_the_customers_of_every_kind_of_row_a_delta_wrote(
    driver: Driver, own: Settings, bank: Path, tmp_path: Path
) -> None:
    """Holdings, memberships, RM assignments, interactions and referrals: each changed row
    selects the customers it is about (a referral both of its customers)."""
    load_scored(driver, own, bank)
    ids = golden_ids(driver, own)
    pick = random.Random(5)
    expected: set[str] = set()
    edits: list[tuple[str, list[int], str, str]] = []  # (file, rows, column, new value)

    def choose(
        name: str, key: list[str], column: str, value: str, exists: str, n: int = 3
    ) -> list[dict[str, Any]]:
        """``n`` clean rows of ``name`` whose ``column`` is not ``value`` yet and whose
        relationship the graph holds (``exists``: Cypher over $keys, returning ``i``); the
        rows are edited, and the customers they are about returned."""
        frame = clean_rows(bank, name, key)
        frame = frame[frame[column] != value]
        system = name.split("/")[0]
        keys = [
            {"i": int(i), **{k: (ids.get((system, v)) if k.endswith("cust") else v)
                             for k, v in row.items()}}
            for i, row in frame[key].rename(columns=_ALIASES).iterrows()
        ]  # fmt: skip
        found = sorted(r["i"] for r in q(driver, own, exists, keys=keys))
        rows = pick.sample(found, n)
        edits.append((name, rows, column, value))
        return [k for k in keys if k["i"] in rows]

    for k in choose(
        "core/holdings.csv", ["acct_no", "cust_no"], "end_dt", "2026-06-30",
        "UNWIND $keys AS k MATCH (:Customer {customer_id: k.cust})-[:HOLDS]->"
        "(a:Account {account_id: k.acct}) WHERE a.opened_at < date('2026-06-30') "
        "RETURN k.i AS i",
    ):  # fmt: skip
        expected.add(k["cust"])
    # members with assets who leave their household: it must be rolled up without them
    for k in choose(
        "core/household_members.csv", ["hh_no", "cust_no"], "end_dt", "2026-06-30",
        "UNWIND $keys AS k MATCH (c:Customer {customer_id: k.cust})-[m:MEMBER_OF]->"
        "(:Household {household_id: k.hh}) WHERE m.ended_at IS NULL AND c.aum > 0 "
        "AND coalesce(m.since < date('2026-06-30'), true) RETURN k.i AS i",
    ):  # fmt: skip
        expected.add(k["cust"])
    for k in choose(
        "core/rm_assignments.csv", ["emp_no", "cust_no"], "since_dt", "2020-01-02",
        "UNWIND $keys AS k MATCH (:Employee {employee_id: k.emp})-[:MANAGES]->"
        "(:Customer {customer_id: k.cust}) RETURN k.i AS i",
    ):  # fmt: skip
        expected.add(k["cust"])
    for k in choose(
        "crm/referrals.csv", ["referrer_contact", "referred_contact"], "status", "CHANGED",
        "UNWIND $keys AS k MATCH (:Customer {customer_id: k.referrer_cust})-[:REFERRED]->"
        "(:Customer {customer_id: k.referred_cust}) RETURN k.i AS i",
    ):  # fmt: skip
        expected |= {k["referrer_cust"], k["referred_cust"]}
    interactions = choose(
        "crm/interactions.csv", ["interaction_no"], "summary", "changed summary",
        "UNWIND $keys AS k MATCH (:Customer)-[:HAD]->(:Interaction {interaction_id: k.interaction})"
        " RETURN k.i AS i",
    )  # fmt: skip
    had = q(
        driver,
        own,
        "UNWIND $ids AS id MATCH (c:Customer)-[:HAD]->(:Interaction {interaction_id: id}) "
        "RETURN c.customer_id AS id",
        ids=[k["interaction"] for k in interactions],
    )
    expected |= {r["id"] for r in had}
    assert len(expected) >= 10

    def apply_edits(folder: Path) -> None:
        for name, rows, column, value in edits:
            frame = read_csv(folder / name)
            frame.loc[rows, column] = value
            frame.to_csv(folder / name, index=False)

    run_id = delta_of(driver, own, bank, tmp_path / "rows", apply_edits).run_id
    assert set(select_customers(driver, own.neo4j_database, run_id=run_id)) == expected
    forget_scoring_times(driver, own)
    homes = households(driver, own)
    summary = run_scoring(driver, database=own.neo4j_database, cfg=CFG, run_id=run_id, as_of=AS_OF)
    assert summary.customers == len(expected)
    assert scored_customers(driver, own) == expected
    members = read_csv(bank / "core/household_members.csv")
    [ended] = [rows for name, rows, _, _ in edits if name == "core/household_members.csv"]
    left = {members.at[r, "hh_no"] for r in ended}
    after, after_homes = scores(driver, own), households(driver, own)
    assert any(after_homes[h] != homes[h] for h in left), "no household lost a member's assets"

    # what they got is what scoring every customer gives, households included
    run_scoring(driver, database=own.neo4j_database, cfg=CFG, as_of=AS_OF)
    assert scores(driver, own) == after
    assert households(driver, own) == after_homes
