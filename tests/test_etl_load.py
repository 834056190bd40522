"""The loader against the real Neo4j: ground truth, identity resolution, idempotence, deltas,
custom mappings, Parquet and resume after SIGKILL."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from neo4j import Driver, RoutingControl

from core.settings import Settings
from etl.er_report import score_graph
from etl.loader import LoadResult
from synthetic import GenerateOptions, generate_bank
from tests.etl_support import c360, canonical_dump, cli_env, load, reset

pytestmark = pytest.mark.graph
ENTITY_OF_FILE = {
    "customers": "customers", "accounts": "accounts", "holdings": "holdings",
    "household_members": "memberships", "rm_assignments": "manages", "interactions": "interactions",
    "referrals": "referrals", "households": "households", "branches": "branches",
    "employees": "employees", "products": "products",
}  # fmt: skip


def q(driver: Driver, settings: Settings, query: str, **params: object) -> list:
    return driver.execute_query(
        query, params, database_=settings.neo4j_database, routing_control=RoutingControl.READ
    ).records


def birth_date_warnings(bad: pd.DataFrame) -> pd.Series:
    """The planted bad rows that load with a warning: a customer's unreadable or impossible birth
    date loads the row without it (``warnings.csv``), every other defect refuses the row."""
    return bad["file"].str.contains("/customers[.]") & bad["kind"].isin(
        ["bad_date", "impossible_age"]
    )


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bank") / "bank"
    generate_bank(GenerateOptions(customers=1000, seed=11, out=out))
    return out


@pytest.fixture(scope="module")
def loaded(driver: Driver, settings: Settings, bank: Path) -> LoadResult:
    reset(driver, settings)
    # a data folder of its own: the identity model is trained on this load, as on a first
    # load at a bank, whichever test loaded before
    return load(driver, settings.model_copy(update={"c360_home": bank.parent / "home"}), bank)


def test_every_planted_bad_row_is_rejected_with_its_kind_and_every_good_row_loaded(
    loaded: LoadResult, bank: Path
) -> None:
    bad = pd.read_csv(bank / "ground_truth" / "bad_rows.csv")
    warned = birth_date_warnings(bad)
    rejects = pd.concat(
        pd.read_csv(p)
        for p in loaded.rejects_dir.glob("*.csv")
        if p.name not in ("er_review.csv", "warnings.csv")
    )
    got = rejects.set_index(["source_file", "row_number"])["reason_code"].to_dict()
    want = bad[~warned].set_index(["file", "row_number"])["kind"].to_dict()
    assert got == want
    warnings = pd.read_csv(loaded.rejects_dir / "warnings.csv")
    got_warnings = warnings.set_index(["file", "row"])["reason_code"].to_dict()
    assert got_warnings == bad[warned].set_index(["file", "row_number"])["kind"].to_dict()
    assert warned.sum() > 0
    assert rejects["reason"].str.len().min() > 5 and rejects["row"].notna().all()
    for entity, counts in loaded.counts.items():
        files = [
            p
            for p in bank.glob("*/*.csv")
            if ENTITY_OF_FILE.get(p.stem) == entity and p.parent.name != "ground_truth"
        ]
        total = sum(len(pd.read_csv(p, dtype=str, encoding_errors="replace")) for p in files)
        planted = sum((bad[~warned]["file"] == f"{p.parent.name}/{p.name}").sum() for p in files)
        assert (counts.read, counts.rejected, counts.loaded) == (total, planted, total - planted)
    assert loaded.exit_code == 1 and loaded.status == "SUCCEEDED_WITH_REJECTS"


def test_graph_holds_the_loaded_rows(
    loaded: LoadResult, driver: Driver, settings: Settings
) -> None:
    n = {
        r["label"]: r["n"]
        for r in q(driver, settings, "MATCH (n) RETURN labels(n)[0] AS label, count(*) AS n")
    }
    assert n["SourceRecord"] == loaded.counts["customers"].loaded
    assert n["Account"] == loaded.counts["accounts"].loaded
    assert n["Interaction"] == loaded.counts["interactions"].loaded
    run = q(driver, settings, "MATCH (r:LoadRun {run_id: $id}) RETURN r", id=loaded.run_id)[0]["r"]
    counts = json.loads(run["counts_json"])
    assert run["status"] == "SUCCEEDED_WITH_REJECTS" and counts["accounts"]["rejected"] > 0
    bad_balance = q(
        driver, settings,
        "MATCH (a:Account) WHERE a.balance < 0 OR size(a.monthly_balances) < 12 RETURN count(*) AS n",
    )  # fmt: skip
    assert bad_balance[0]["n"] == 0
    types = q(driver, settings, "MATCH (a:Account) RETURN collect(DISTINCT a.product_type) AS t")
    assert len(types[0]["t"]) == 9
    raw_ids = q(
        driver,
        settings,
        "MATCH (s:SourceRecord) WHERE s.national_id IS NOT NULL RETURN count(*) AS n",
    )
    assert raw_ids[0]["n"] == 0, "the raw national ID is never stored"


def test_identity_resolution_meets_the_targets(
    loaded: LoadResult, driver: Driver, settings: Settings, bank: Path
) -> None:
    score = score_graph(driver, bank, database=settings.neo4j_database)
    assert score.precision >= 0.98 and score.recall >= 0.95, score


def test_planted_people_exist_in_core_and_decliners_decline(
    loaded: LoadResult, driver: Driver, settings: Settings, bank: Path
) -> None:
    sc = pd.read_csv(bank / "ground_truth" / "scenarios.csv", dtype=str)
    rows = q(
        driver, settings,
        """UNWIND $ids AS id
        MATCH (:SourceRecord {system: 'core', source_id: id})-[:RESOLVED_TO]->(c:Customer)
        OPTIONAL MATCH (c)-[:HOLDS {role: 'PRIMARY'}]->(a:Account)
        WHERE a.product_type IN ['SAVINGS','TIME_DEPOSIT','WEALTH','FUND','CURRENT','INSURANCE']
        RETURN id, collect(a.monthly_balances) AS balances""",
        ids=list(sc["core_source_id"]),
    )  # fmt: skip
    assert len(rows) == len(sc)
    aum = {r["id"]: [sum(m[k] for m in r["balances"]) for k in range(12)] for r in rows}
    for sid in sc[sc["scenario"] == "DECLINER"]["core_source_id"]:
        assert aum[sid][0] >= 300_000 and aum[sid][-1] <= 0.75 * aum[sid][0]


def test_rerun_of_the_same_extract_changes_nothing(
    loaded: LoadResult, driver: Driver, settings: Settings, bank: Path
) -> None:
    before = canonical_dump(driver, settings.neo4j_database)
    again = load(driver, settings, bank)
    assert again.run_id != loaded.run_id and not again.resumed
    assert canonical_dump(driver, settings.neo4j_database) == before


def test_later_extract_updates_fields_closes_accounts_and_ends_memberships(
    loaded: LoadResult, driver: Driver, settings: Settings, bank: Path, tmp_path: Path
) -> None:
    later = tmp_path / "later"
    shutil.copytree(bank, later)
    cust = pd.read_csv(
        later / "core" / "customers.csv",
        dtype=str,
        keep_default_na=False,
        encoding_errors="replace",
    )
    cust.loc[0, "segment"] = "PRIVATE" if cust.loc[0, "segment"] != "PRIVATE" else "SME"
    new_segment, cif = cust.loc[0, "segment"], cust.loc[0, "cust_no"]
    cust.to_csv(later / "core" / "customers.csv", index=False)
    acc = pd.read_csv(later / "core" / "accounts.csv", dtype=str, keep_default_na=False)
    i = acc.index[(acc["acct_status"] == "OPEN") & (acc["prod_type"] == "SAVINGS")][0]
    acc.loc[i, ["acct_status", "close_dt", "bal"]] = ["CLOSED", "2026-10-15", "0.00"]
    acct = acc.loc[i, "acct_no"]
    # another account moves to another product of its type (SAV-STD <-> SAV-PLUS)
    k = acc.index[(acc["prod_type"] == "SAVINGS") & (acc.index != i)][0]
    moved, new_code = acc.loc[k, "acct_no"], "SAV-PLUS"
    new_code = "SAV-STD" if acc.loc[k, "prod_code"] == new_code else new_code
    acc.loc[k, "prod_code"] = new_code
    acc.to_csv(later / "core" / "accounts.csv", index=False)
    mem = pd.read_csv(later / "core" / "household_members.csv", dtype=str, keep_default_na=False)
    j = mem.index[(mem["end_dt"] == "") & (mem["member_role"] != "HEAD")][0]
    mem.loc[j, "end_dt"] = "2026-09-30"
    mem.to_csv(later / "core" / "household_members.csv", index=False)

    load(driver, settings, later)
    seg = q(
        driver,
        settings,
        "MATCH (:SourceRecord {system:'core', source_id:$id})-[:RESOLVED_TO]->(c) RETURN c.segment AS s",
        id=cif,
    )
    assert seg[0]["s"] == new_segment
    a = q(
        driver,
        settings,
        "MATCH (c:Customer)-[:HOLDS]->(a:Account {account_id: $id}) RETURN a",
        id=acct,
    )
    assert a and a[0]["a"]["status"] == "CLOSED" and str(a[0]["a"]["closed_at"]) == "2026-10-15"
    m = q(
        driver, settings,
        "MATCH (:SourceRecord {system:'core', source_id:$c})-[:RESOLVED_TO]->(:Customer)"
        "-[m:MEMBER_OF]->(:Household {household_id:$h}) RETURN m.ended_at AS e",
        c=mem.loc[j, "cust_no"], h=mem.loc[j, "hh_no"],
    )  # fmt: skip
    assert str(m[0]["e"]) == "2026-09-30"
    products = q(
        driver,
        settings,
        "MATCH (:Account {account_id: $id})-[:OF_PRODUCT]->(p:Product) RETURN p.product_code AS p",
        id=moved,
    )
    assert [r["p"] for r in products] == [new_code]  # the old product's edge is gone


LEGACY_MAPPING = """
system: legacy
date_format: "%Y-%m-%d"
datetime_format: "%Y-%m-%d %H:%M:%S"
timezone: Asia/Shanghai
entities:
  customers:
    file: clients
    columns: {CLIENT_NO: source_id, CLIENT_NAME: name, SEX: gender, DOB: birth_date,
              ID_CARD: national_id, TEL: phone, MAIL: email, ADDRESS: address, UPDATED: updated_at}
    codes: {gender: {男: M, 女: F}}
  accounts:
    file: deposits
    columns: {DEPOSIT_NO: account_id, PRODUCT: product_code, BALANCE_WAN: balance, OPENED: opened_at}
    defaults: {product_type: SAVINGS, currency: CNY}
    units: {balance: 10000}
"""


def test_an_extract_with_renamed_columns_loads_through_a_custom_mapping(
    driver: Driver, settings: Settings, bank: Path, tmp_path: Path
) -> None:
    reset(driver, settings)
    folder = tmp_path / "x" / "legacy"
    folder.mkdir(parents=True)
    core = pd.read_csv(
        bank / "core" / "customers.csv", dtype=str, nrows=40, encoding_errors="replace"
    )
    core = core[~core["cust_no"].str.contains("X")]
    core.rename(
        columns={"cust_no": "CLIENT_NO", "cust_name": "CLIENT_NAME", "gender": "SEX", "birth_dt": "DOB",
                 "id_no": "ID_CARD", "mobile": "TEL", "email": "MAIL", "addr": "ADDRESS", "last_upd": "UPDATED"}
    )[["CLIENT_NO", "CLIENT_NAME", "SEX", "DOB", "ID_CARD", "TEL", "MAIL", "ADDRESS", "UPDATED"]].to_csv(
        folder / "clients.csv", index=False
    )  # fmt: skip
    pd.DataFrame(
        {"DEPOSIT_NO": ["D1", "D2"], "PRODUCT": ["SAV-STD", "SAV-STD"], "BALANCE_WAN": ["1.5", "-2"],
         "OPENED": ["2020-01-01", "2020-01-01"]}
    ).to_csv(folder / "deposits.csv", index=False)  # fmt: skip
    mapping = tmp_path / "legacy.yaml"
    mapping.write_text(LEGACY_MAPPING, encoding="utf-8")
    # products come from the core extract (references are checked against the graph)
    load(driver, settings, bank, source_system="core", batch_size=2000)
    result = load(driver, settings, tmp_path / "x", source_system="legacy", mapping_file=mapping)
    assert result.counts["customers"].loaded == len(core)
    assert (result.counts["accounts"].loaded, result.counts["accounts"].rejected) == (1, 1)
    bal = q(driver, settings, "MATCH (a:Account {account_id:'D1'}) RETURN a.balance AS b")
    assert bal[0]["b"] == 15000.0
    # the legacy records resolve to the core customers by national ID
    same = q(
        driver, settings,
        "MATCH (:SourceRecord {system:'legacy'})-[r:RESOLVED_TO]->(c:Customer)<-[:RESOLVED_TO]-"
        "(:SourceRecord {system:'core'}) RETURN count(DISTINCT c) AS n",
    )  # fmt: skip
    assert same[0]["n"] == len(core)


def test_parquet_extract_loads_like_csv(driver: Driver, settings: Settings, tmp_path: Path) -> None:
    reset(driver, settings)
    out = tmp_path / "pq"
    generate_bank(GenerateOptions(customers=200, seed=5, out=out, parquet=True))
    result = load(driver, settings, out)
    bad = pd.read_csv(out / "ground_truth" / "bad_rows.csv")
    warned = birth_date_warnings(bad)
    assert sum(c.rejected for c in result.counts.values()) == len(bad) - warned.sum()
    assert result.counts["customers"].loaded == warned.sum() + len(
        pd.read_csv(out / "ground_truth" / "identities.csv")
    )


def test_load_killed_with_sigkill_resumes_to_the_same_graph_as_a_clean_load(
    driver: Driver, settings: Settings, bank: Path, tmp_path: Path
) -> None:
    reset(driver, settings)
    env = cli_env(settings, tmp_path / "home")
    env["TMPDIR"] = str(tmp_path / "tmp")  # where the load spills its customer records
    (tmp_path / "tmp").mkdir()
    cmd = c360("load", str(bank), "--batch-size", "300", "--no-progress")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        rows = q(driver, settings, "MATCH (r:LoadRun) RETURN r.checkpoint_json AS c")
        done = sum(json.loads(rows[0]["c"] or "{}").values()) if rows else 0
        if done >= 8:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the load finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert done >= 8
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 1, rerun.stderr[-2000:]
    assert "Resuming load run" in rerun.stderr
    assert not list((tmp_path / "tmp").iterdir()), "the killed load's spill was not swept"
    resumed = canonical_dump(driver, settings.neo4j_database)

    reset(driver, settings)
    clean = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert clean.returncode == 1, clean.stderr[-2000:]
    again = canonical_dump(driver, settings.neo4j_database)
    for part in (0, 1):
        extra, missing = (
            set(again[part]) - set(resumed[part]),
            set(resumed[part]) - set(again[part]),
        )
        assert not extra and not missing, (sorted(extra)[:5], sorted(missing)[:5])


def test_cli_fails_with_exit_code_2_on_a_missing_folder(settings: Settings, tmp_path: Path) -> None:
    r = subprocess.run(
        c360("load", str(tmp_path / "nope"), "--no-progress"),
        env=cli_env(settings, tmp_path / "home"), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 2 and "not a folder" in " ".join(r.stderr.split())


def test_a_chunk_whose_rows_are_all_rejected_is_loaded_as_rejects(
    driver: Driver, settings: Settings, tmp_path: Path
) -> None:
    """A chunk of refused rows among good ones (a source whose rows are all refused fails the
    load: tests/test_load_failures.py)."""
    reset(driver, settings)
    folder = tmp_path / "x" / "legacy"
    folder.mkdir(parents=True)
    pd.DataFrame(
        {"CLIENT_NO": ["L1", "L2", "L3", "L4", "L5"], "CLIENT_NAME": ["", "", "", "Li", "Wang"],
         "SEX": ["男", "女", "男", "男", "女"], "DOB": ["1980-01-01"] * 5, "ID_CARD": [""] * 5,
         "TEL": [""] * 5, "MAIL": [""] * 5, "ADDRESS": [""] * 5,
         "UPDATED": ["2026-01-01 08:00:00"] * 5}
    ).to_csv(folder / "clients.csv", index=False)  # fmt: skip
    mapping = tmp_path / "legacy.yaml"
    # no deposits file this time: the accounts entity says it may be absent
    optional = LEGACY_MAPPING.replace("file: deposits", "file: deposits\n    optional: true")
    mapping.write_text(optional, encoding="utf-8")
    result = load(
        driver, settings, tmp_path / "x", source_system="legacy", mapping_file=mapping, batch_size=3
    )
    c = result.counts["customers"]
    assert (c.read, c.rejected, c.loaded, result.exit_code) == (5, 3, 2, 1)
    assert result.by_reason == {"missing_required": 3}
