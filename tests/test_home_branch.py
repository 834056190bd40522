"""Home branches through the real loader and Neo4j: every customer's ``home_branch_id`` and its
``HOME_BRANCH`` relationship, from the source's own field, else the oldest open PRIMARY account.

Expected values are computed here from the extracts themselves (pandas over the CSV files), never
from the graph; a re-load, an incremental load, an older export without the column and a bank
whose extract carries the branch on the customer (written below) each get the same check.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from neo4j import Driver, RoutingControl

from core.settings import Settings
from synthetic import GenerateOptions, generate_bank
from tests.etl_support import load, reset

pytestmark = pytest.mark.graph


def q(driver: Driver, settings: Settings, query: str, **params: object) -> list:
    return driver.execute_query(
        query, params, database_=settings.neo4j_database, routing_control=RoutingControl.READ
    ).records


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding_errors="replace")


def expected_homes(core: Path) -> dict[str, str]:
    """core source id -> the branch of its oldest open PRIMARY account, from the extracts (the
    planted bad rows, which the loader refuses, left out by the same rules it uses)."""
    accounts = _csv(core / "accounts.csv")
    branches = set(_csv(core / "branches.csv")["branch_code"])
    holdings = _csv(core / "holdings.csv")
    customers = set(_csv(core / "customers.csv")["cust_no"])
    good = accounts[
        accounts["acct_no"].str.fullmatch(r"6222\d{12}")
        & accounts["open_dt"].str.fullmatch(r"\d{4}-\d{2}-\d{2}")
        & ~accounts["open_dt"].str.contains("-13-")
        & (accounts["prod_type"] != "")
        & (accounts["prod_code"] != "XX-UNKNOWN")
        & ~accounts["bal"].str.contains("O")
        & ~accounts["bal"].str.startswith("-")
        & accounts["branch_code"].isin(branches)
    ].drop_duplicates("acct_no")
    primary = holdings[(holdings["holder_role"] == "PRIMARY") & holdings["cust_no"].isin(customers)]
    held = primary.merge(good, on="acct_no")
    held = held.assign(closed=(held["acct_status"] == "CLOSED") | (held["close_dt"] != ""))
    held = held.sort_values(["cust_no", "closed", "open_dt", "acct_no"])
    return dict(held.groupby("cust_no")["branch_code"].first())


def graph_homes(driver: Driver, settings: Settings) -> dict[str, str | None]:
    """core source id -> the home branch in the graph, checking the property and the one
    HOME_BRANCH relationship agree."""
    rows = q(
        driver,
        settings,
        """MATCH (s:SourceRecord {system: 'core'})-[:RESOLVED_TO]->(c:Customer)
        RETURN s.source_id AS id, c.home_branch_id AS home,
               [(c)-[:HOME_BRANCH]->(b:Branch) | b.branch_id] AS linked""",
    )
    out = {}
    for r in rows:
        assert r["linked"] == ([r["home"]] if r["home"] else []), r
        out[r["id"]] = r["home"]
    return out


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("home") / "bank"
    generate_bank(GenerateOptions(customers=600, seed=23, out=out))
    return out


@pytest.fixture(scope="module")
def loaded(driver: Driver, settings: Settings, bank: Path) -> dict[str, str | None]:
    reset(driver, settings)
    load(driver, settings, bank)
    return graph_homes(driver, settings)


def test_every_core_customer_gets_the_branch_of_their_oldest_open_primary_account(
    loaded: dict[str, str | None], bank: Path
) -> None:
    expected = expected_homes(bank / "core")
    assert len(expected) > 550
    got = {cif: loaded.get(cif) for cif in expected}
    assert got == expected


def test_customers_of_a_relationship_manager_mostly_belong_to_the_managers_branch(
    loaded: dict[str, str | None], driver: Driver, settings: Settings
) -> None:
    [row] = q(
        driver,
        settings,
        """MATCH (b:Branch)<-[:WORKS_AT]-(:Employee)-[:MANAGES]->(c:Customer)
        RETURN count(c) AS managed,
               count(CASE WHEN (c)-[:HOME_BRANCH]->(b) THEN 1 END) AS at_home""",
    )
    assert row["managed"] > 300
    assert row["at_home"] >= 0.75 * row["managed"]
    # and the unassigned customers have home branches too
    [un] = q(
        driver,
        settings,
        """MATCH (c:Customer) WHERE NOT EXISTS { (:Employee)-[:MANAGES]->(c) }
           AND EXISTS { (:SourceRecord {system: 'core'})-[:RESOLVED_TO]->(c) }
        RETURN count(c) AS n, count(c.home_branch_id) AS homed""",
    )
    assert un["n"] > 100 and un["homed"] >= 0.95 * un["n"]


def test_a_reload_keeps_and_an_older_export_without_branches_never_erases_home_branches(
    loaded: dict[str, str | None], driver: Driver, settings: Settings, bank: Path, tmp_path: Path
) -> None:
    load(driver, settings, bank)
    assert graph_homes(driver, settings) == loaded
    older = tmp_path / "older"
    shutil.copytree(bank, older)
    accounts = _csv(older / "core" / "accounts.csv")
    accounts.drop(columns=["branch_code"]).to_csv(older / "core" / "accounts.csv", index=False)
    result = load(driver, settings, older)
    assert result.counts["accounts"].loaded > 1000
    assert graph_homes(driver, settings) == loaded
    [row] = q(driver, settings, "MATCH (a:Account) RETURN count(a.branch_id) AS n")
    assert row["n"] >= result.counts["accounts"].loaded - 1000  # the card accounts have none


def test_an_incremental_load_that_closes_the_oldest_account_moves_the_home_branch(
    loaded: dict[str, str | None], driver: Driver, settings: Settings, bank: Path, tmp_path: Path
) -> None:
    load(driver, settings, bank)  # from the state of the first load
    accounts = _csv(bank / "core" / "accounts.csv")
    holdings = _csv(bank / "core" / "holdings.csv")
    primary = holdings[holdings["holder_role"] == "PRIMARY"].merge(accounts, on="acct_no")
    primary = primary[
        (primary["acct_status"] == "OPEN") & primary["acct_no"].str.fullmatch(r"6222\d{12}")
    ].sort_values(["cust_no", "open_dt", "acct_no"])
    # a customer whose two oldest open accounts were opened at different branches
    pick = None
    for cif, own in primary.groupby("cust_no"):
        if len(own) >= 2 and own.iloc[0]["branch_code"] != own.iloc[1]["branch_code"]:
            if loaded.get(str(cif)) == own.iloc[0]["branch_code"]:
                pick = (str(cif), own.iloc[0]["acct_no"], own.iloc[1]["branch_code"])
                break
    assert pick is not None
    cif, oldest, next_branch = pick
    later = tmp_path / "later" / "core"
    later.mkdir(parents=True)
    for f in (bank / "core").glob("*.csv"):
        shutil.copy(f, later / f.name)
    row = accounts[accounts["acct_no"] == oldest].copy()
    row[["acct_status", "close_dt", "bal"]] = ["CLOSED", "2026-10-20", "0.00"]
    row.to_csv(later / "accounts.csv", index=False)  # the delta: this one account
    load(driver, settings, later.parent, source_system="core", allow_shrink=True)
    homes = graph_homes(driver, settings)
    assert homes[cif] == next_branch
    changed = {k for k in loaded if homes.get(k) != loaded[k]}
    assert changed == {cif}


# A bank whose customer master carries the branch that owns the customer (归属机构) and whose
# account file has no branch at all: pipe-delimited, GB18030, Chinese headers, as exported from
# the core's data warehouse layer.
REAL_MAPPING = """
system: ods
date_format: "%Y%m%d"
datetime_format: "%Y%m%d%H%M%S"
timezone: Asia/Shanghai
read: {delimiter: "|", encoding: gb18030}
entities:
  branches:
    file: org
    columns: {机构号: branch_id, 机构名称: name, 所在城市: city}
  products:
    file: prod
    columns: {产品代码: product_code, 产品名称: name, 产品类型: product_type}
  customers:
    file: cust
    columns: {客户号: source_id, 客户名称: name, 证件号码: national_id, 手机号码: phone,
              归属机构: home_branch_id, 最后更新: updated_at}
  accounts:
    file: acct
    columns: {账号: account_id, 产品代码: product_code, 产品类型: product_type, 余额: balance,
              开户日期: opened_at, 账户状态: status}
    defaults: {currency: CNY}
    codes: {status: {正常: OPEN, 销户: CLOSED}}
  holdings:
    file: acct_rel
    columns: {账号: account_id, 客户号: customer_ref, 关系: role}
    codes: {role: {主: PRIMARY, 联名: JOINT}}
"""


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    lines = ["|".join(header), *("|".join(r) for r in rows)]
    path.write_bytes(("\n".join(lines) + "\n").encode("gb18030"))


def test_a_bank_with_the_branch_on_the_customer_uses_the_customers_own_field(
    driver: Driver, settings: Settings, tmp_path: Path
) -> None:
    reset(driver, settings)
    folder = tmp_path / "real" / "ods"
    folder.mkdir(parents=True)
    _write(
        folder / "org.csv",
        ["机构号", "机构名称", "所在城市"],
        [["0101", "杭州分行营业部", "杭州"], ["0102", "杭州西湖支行", "杭州"],
         ["0201", "宁波分行营业部", "宁波"]],
    )  # fmt: skip
    _write(
        folder / "prod.csv",
        ["产品代码", "产品名称", "产品类型"],
        [["101", "活期储蓄", "SAVINGS"], ["201", "整存整取", "TIME_DEPOSIT"]],
    )
    people = [  # 客户号, 名称, 证件, 手机, 归属机构 (blank: none kept), 更新
        ["880001", "陈建国", "330106198003152314", "13905710001", "0102", "20261001093000"],
        ["880002", "王丽华", "330106198507201124", "13905710002", "", "20261002093000"],
        ["880003", "赵敏", "330203199001011148", "13905710003", "0201", "20261003093000"],
        ["880004", "孙强", "330203197512121235", "13905710004", "9999", "20261004093000"],
    ]
    _write(
        folder / "cust.csv",
        ["客户号", "客户名称", "证件号码", "手机号码", "归属机构", "最后更新"],
        people,
    )
    _write(
        folder / "acct.csv",
        ["账号", "产品代码", "产品类型", "余额", "开户日期", "账户状态"],
        [["62170001", "101", "SAVINGS", "5000.00", "20150301", "正常"],
         ["62170002", "201", "TIME_DEPOSIT", "200000.00", "20180301", "正常"],
         ["62170003", "101", "SAVINGS", "100.00", "20190301", "正常"],
         ["62170004", "101", "SAVINGS", "800.00", "20200301", "正常"]],
    )  # fmt: skip
    _write(
        folder / "acct_rel.csv",
        ["账号", "客户号", "关系"],
        [["62170001", "880001", "主"], ["62170002", "880002", "主"],
         ["62170002", "880001", "联名"], ["62170003", "880003", "主"],
         ["62170004", "880004", "主"]],
    )  # fmt: skip
    mapping = tmp_path / "ods.yaml"
    mapping.write_text(REAL_MAPPING, encoding="utf-8")
    result = load(driver, settings, tmp_path / "real", source_system="ods", mapping_file=mapping)
    assert result.counts["customers"].loaded == 4
    assert result.counts["holdings"].loaded == 5
    # the unknown branch is set aside with a warning naming the column and the value
    warnings = pd.read_csv(result.rejects_dir / "warnings.csv", dtype=str)
    said = warnings[warnings["reason_code"] == "unknown_ref"]
    assert said["file"].tolist() == ["ods/cust.csv"]
    assert "home_branch_id '9999'" in said["message"].iloc[0]
    rows = q(
        driver,
        settings,
        """MATCH (s:SourceRecord {system: 'ods'})-[:RESOLVED_TO]->(c:Customer)
        OPTIONAL MATCH (c)-[:HOME_BRANCH]->(b:Branch)
        RETURN s.source_id AS id, c.home_branch_id AS home, b.name AS branch""",
    )
    got = {r["id"]: (r["home"], r["branch"]) for r in rows}
    # 880001 and 880003: their own field; 880002 and 880004 (a branch the bank does not know):
    # no branch on their accounts either, so none
    assert got == {
        "880001": ("0102", "杭州西湖支行"),
        "880002": (None, None),
        "880003": ("0201", "宁波分行营业部"),
        "880004": (None, None),
    }
