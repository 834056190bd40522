"""The mapping engine (etl/engine.py): files as DuckDB views read with their options, entities as
queries, batches into the mapping's formats; and the README's mapping cookbook, run from the
README itself.

The expected values are the data each test encodes into its files (names in GB18030, numbers with
decimal commas, rows after a banner): what went in must come out.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pytest
from neo4j import Driver, RoutingControl

from core.settings import Settings
from etl import loader
from etl.engine import Engine, Source
from etl.extracts import scan
from etl.mapping import MappingError, apply_mapping, load_mapping, parse_mapping
from etl.records import accounts as accounts_rows
from etl.sources import read_chunks
from etl.validation import validate
from synthetic import GenerateOptions, generate_bank
from synthetic.legacy import FILES as LEGACY_FILES
from tests.etl_support import ROOT, c360, canonical_dump, cli_env, load, reset
from tests.test_real_bank_shapes import add_months, decode_birth_number, write_berka

README = ROOT / "README.md"


def run_mapping(
    root: Path, text: str, files: Mapping[str, str | bytes] | None = None
) -> dict[str, tuple[pd.DataFrame, dict]]:
    """Each entity of the mapping as the loader maps it: (canonical frame, parse errors)."""
    m = parse_mapping(text)
    folder = root / m.system
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in (files or {}).items():
        (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    out = {}
    with Engine(directory=root) as engine:
        plan = engine.plan(m, root)
        scans = {
            plan.files[n]: scan(plan.files[n], plan.label(n), options=plan.options.get(n))
            for n in plan.read_files()
        }
        engine.register(plan, scans)
        for entity, em in m.entities.items():
            frames: list = []
            errors: dict = {}
            for chunk in engine.batches(engine.sources[m.system, entity], 2):
                mapped, errs = apply_mapping(chunk, em)
                frames.append(mapped)
                errors |= errs
            out[entity] = (pd.concat(frames) if frames else pd.DataFrame(), errors)
    return out


def records(frame: pd.DataFrame, *columns: str) -> list[tuple]:
    return list(frame[list(columns)].itertuples(index=False, name=None))


# -- the simple form through DuckDB: the loads of the three systems as they were -------------------
def test_the_simple_form_through_duckdb_maps_exactly_as_the_pandas_reader(tmp_path: Path) -> None:
    generate_bank(GenerateOptions(customers=300, seed=7, out=tmp_path / "bank", chunk_size=100))
    with Engine(directory=tmp_path) as engine:
        for system in ("core", "card", "crm"):
            m = load_mapping(system)
            plan = engine.plan(m, tmp_path / "bank")
            scans = {
                plan.files[n]: scan(plan.files[n], plan.label(n), options=plan.options.get(n))
                for n in plan.read_files()
            }
            engine.register(plan, scans)
            broken = 0
            for entity, em in m.entities.items():
                path = plan.files[em.file]
                old = list(read_chunks(path, 97, encoding=em.encoding))
                new = list(engine.batches(engine.sources[system, entity], 97))
                assert [len(c) for c in old] == [len(c) for c in new], (system, entity)
                for a, b in zip(old, new, strict=True):
                    mapped_a, errors_a = apply_mapping(a, em)
                    mapped_b, errors_b = apply_mapping(b, em)
                    pd.testing.assert_frame_equal(mapped_a, mapped_b)
                    assert errors_a == errors_b
                broken += scans[path].undecodable
            assert broken > 0, f"{system}: the planted undecodable rows reach validation as U+FFFD"


# -- read options -------------------------------------------------------------------------------
BRANCHES = [
    ("B1", "北京分行", "北京"),
    ("B2", '上海 "浦东"; 分行', "上海"),
    ("B3", "䶮𠀀支行", "深圳"),
]
EUROPE = [("B1", "Müller", "Zürich"), ("B2", 'José; "Pepe"', "Málaga"), ("B3", "Ångström", "Åre")]


def _csv(rows: list[tuple], sep: str, quote: str = '"', header: bool = True) -> str:
    def cell(v: str) -> str:
        if sep in v or quote in v or "\n" in v:
            return quote + v.replace(quote, quote * 2) + quote
        return v

    lines = [sep.join(("code", "name", "city"))] if header else []
    lines += [sep.join(cell(v) for v in row) for row in rows]
    return "\n".join(lines) + "\n"


READ_CASES = {
    # name: (read options in YAML, the rows written, the file's bytes)
    "semicolon": ("{delimiter: ';'}", EUROPE, _csv(EUROPE, ";").encode()),
    "sniffed delimiter": ("{delimiter: auto}", EUROPE, _csv(EUROPE, "|").encode()),
    "GB18030 with Chinese names": (
        "{delimiter: ';', encoding: gb18030}",
        BRANCHES,
        _csv(BRANCHES, ";").encode("gb18030"),
    ),
    "GBK": ("{encoding: gbk}", BRANCHES[:2], _csv(BRANCHES[:2], ",").encode("gbk")),
    "Big5": ("{encoding: big5}", [("B1", "臺北分行", "臺北")], _csv([("B1", "臺北分行", "臺北")], ",").encode("big5")),
    "Latin-1": ("{delimiter: ';', encoding: latin-1}", EUROPE, _csv(EUROPE, ";").encode("latin-1")),
    "UTF-16": ("{encoding: utf-16}", BRANCHES, _csv(BRANCHES, ",").encode("utf-16")),
    "UTF-8 with a byte-order mark": ("{}", EUROPE, b"\xef\xbb\xbf" + _csv(EUROPE, ",").encode()),
    "no header": (
        "{header: false, names: [code, name, city]}",
        EUROPE,
        _csv(EUROPE, ",", header=False).encode(),
    ),
    "rows to skip": ("{skip: 3}", EUROPE, b"EXPORT 2026-11-30\nbranches\n\n" + _csv(EUROPE, ",").encode()),
    "quoted fields with delimiters, quotes and a newline": (
        "{delimiter: ';'}",
        [*EUROPE, ("B4", "two\nlines", "Brno")],
        _csv([*EUROPE, ("B4", "two\nlines", "Brno")], ";").encode(),
    ),
    "another quote character": (
        "{quote: \"'\"}",
        [("B1", "O'Brien, Dublin", "Cork")],
        _csv([("B1", "O'Brien, Dublin", "Cork")], ",", quote="'").encode(),
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(READ_CASES))
def test_each_read_option_reads_the_values_written(tmp_path: Path, case: str) -> None:
    options, rows, data = READ_CASES[case]
    for where in ("read", "files"):  # the system's options, or the file's
        read = f"read: {options}\n" if where == "read" else f"files:\n  branch: {options}\n"
        text = (
            f"system: shop\n{read}entities:\n  branches:\n    file: branch\n"
            "    columns: {code: branch_id, name: name, city: city}\n"
        )
        frame, errors = run_mapping(tmp_path / where, text, {"branch.csv": data})["branches"]
        assert errors == {}
        expected = [tuple(v.strip() for v in row) for row in rows]
        assert records(frame, "branch_id", "name", "city") == expected, case


def test_decimal_commas_and_thousands_separators_become_numbers(tmp_path: Path) -> None:
    balances = ["1.234,56", "-7,25", "12", "1.000.000,5", "0,01"]
    rows = "".join(f"D{k};P1;{b};01.02.2024\n" for k, b in enumerate(balances))
    text = """
system: shop
read: {delimiter: ";", decimal: ",", thousands: "."}
date_format: "%d.%m.%Y"
entities:
  accounts:
    file: deposit
    columns: {no: account_id, product: product_code, balance: balance, opened: opened_at}
"""
    frame, errors = run_mapping(
        tmp_path,
        text.replace("{no:", "{'no':"),
        {"deposit.csv": "no;product;balance;opened\n" + rows},
    )["accounts"]
    assert errors == {}
    expected = [round(float(b.replace(".", "").replace(",", ".")), 2) for b in balances]
    assert list(frame["balance"]) == expected
    assert set(frame["opened_at"]) == {dt.date(2024, 2, 1)}, "a date's dots are not thousands"


def test_a_queries_typed_values_are_kept_and_its_text_parsed_with_the_formats(
    tmp_path: Path,
) -> None:
    text = """
system: shop
date_format: "%d/%m/%Y"
datetime_format: "%d/%m/%Y %H:%M"
timezone: Asia/Shanghai
entities:
  customers:
    sql: |
      SELECT id AS source_id, name,
             CAST(make_date(1980, 5, 17) AS VARCHAR) AS occupation,
             make_date(1980, 5, 17) AS birth_date,
             TIMESTAMP '2026-01-02 08:00:00' AS updated_at,
             TIMESTAMP '2020-03-04 23:30:00' AS onboarded_at
      FROM people
  interactions:
    sql: |
      SELECT 'I' || id AS interaction_id, id AS customer_ref, 'APP' AS channel,
             'SERVICE' AS kind, '02/01/2026 08:00' AS occurred_at,
             strptime('2026-01-02 08:00:00+08', '%Y-%m-%d %H:%M:%S%z') AS first_response_at,
             DATE '2026-01-03' AS resolved_at, 4 AS satisfaction
      FROM people
  accounts:
    sql: |
      SELECT 'A1' AS account_id, 'P' AS product_code, 1234.5::DOUBLE AS balance,
             42::INTEGER AS credit_limit, DATE '2024-01-31' AS opened_at,
             [1.5, 2.25] AS monthly_balances, 7 AS product_type
"""
    mapped = run_mapping(tmp_path, text, {"people.csv": "id,name\n1,Li\n2,Wang\n"})
    eight_utc = dt.datetime(2026, 1, 2, 0, 0, tzinfo=dt.UTC)
    customers, errors = mapped["customers"]
    assert errors == {}
    row = customers.iloc[0]
    assert row["birth_date"] == dt.date(1980, 5, 17), "a DATE, not reparsed with date_format"
    assert row["occupation"] == "1980-05-17", "a text column keeps its text"
    assert row["updated_at"] == eight_utc, "a naive TIMESTAMP is the system's local time"
    assert row["onboarded_at"] == dt.date(2020, 3, 4), "a TIMESTAMP in a date column: its date"
    interactions, errors = mapped["interactions"]
    assert errors == {}
    row = interactions.iloc[0]
    assert row["occurred_at"] == eight_utc, "text goes through datetime_format"
    assert row["first_response_at"] == eight_utc, "a TIMESTAMPTZ is converted"
    assert row["resolved_at"] == dt.datetime(2026, 1, 2, 16, 0, tzinfo=dt.UTC), "local midnight"
    assert row["satisfaction"] == 4
    accounts, errors = mapped["accounts"]
    assert errors == {}
    row = accounts.iloc[0]
    assert (row["balance"], row["credit_limit"], row["opened_at"]) == (
        1234.5,
        42.0,
        dt.date(2024, 1, 31),
    )
    assert row["monthly_balances"] == [1.5, 2.25] and row["product_type"] == "7"


def test_a_query_gives_its_rows_in_key_order_the_same_every_time(tmp_path: Path) -> None:
    write_berka(tmp_path / "berka")
    text = """
system: berka
read: {delimiter: ";"}
entities:
  holdings:
    sql: |
      SELECT 'L-' || l.loan_id AS account_id, d.client_id AS customer_ref, 'PRIMARY' AS role
      FROM loan l JOIN disp d ON d.account_id = l.account_id
      UNION ALL
      SELECT 'A-' || account_id, client_id, 'JOINT' FROM disp
"""
    runs = [
        records(run_mapping(tmp_path, text)["holdings"][0], "account_id", "customer_ref")
        for _ in range(3)
    ]
    assert runs[0] == runs[1] == runs[2]
    assert runs[0] == sorted(runs[0])


def test_the_fingerprint_counts_every_file_a_query_reads(tmp_path: Path) -> None:
    write_berka(tmp_path / "bank" / "berka")
    text = """
system: berka
read: {delimiter: ";"}
entities:
  customers:
    sql: |
      SELECT c.client_id AS source_id, 'x' AS name, d.A2 AS city
      FROM client c JOIN district d ON d.A1 = c.district_id
"""
    m = parse_mapping(text)
    opts = loader.LoadOptions(directory=tmp_path / "bank")

    def fingerprint() -> str:
        with Engine(directory=tmp_path) as engine:
            plan = engine.plan(m, tmp_path / "bank")
            assert plan.read_files() == ["client", "district"]
            read = [plan.files[n] for n in plan.read_files()]
            return loader.fingerprint(opts, [m], "identity", read)

    before = fingerprint()
    assert fingerprint() == before
    district = tmp_path / "bank" / "berka" / "district.csv"
    district.write_text(district.read_text() + '99;"Brno";"south Moravia"\n')
    assert fingerprint() != before, "a file read only through a join is part of the load"
    (tmp_path / "bank" / "berka" / "unrelated.csv").write_text("a\n1\n")
    after = fingerprint()
    (tmp_path / "bank" / "berka" / "unrelated.csv").write_text("a\n1\n2\n")
    assert fingerprint() == after, "a file no query reads is not"


def test_the_engine_spills_to_its_own_folder_installs_nothing_and_cleans_up(tmp_path: Path) -> None:
    stale = tmp_path / "c360-engine-999999999-x"
    stale.mkdir()
    with Engine(directory=tmp_path, memory_limit="256MB") as engine:
        settings = dict(
            engine.con.execute(
                "SELECT name, value FROM duckdb_settings() WHERE name IN ('memory_limit', "
                "'temp_directory', 'autoinstall_known_extensions', 'autoload_known_extensions')"
            ).fetchall()
        )
        assert settings["memory_limit"] in ("244.1 MiB", "256.0 MB", "256MB"), settings
        assert settings["temp_directory"].startswith(str(engine.workdir))
        assert settings["autoinstall_known_extensions"] == "false"
        assert settings["autoload_known_extensions"] == "false"
        assert not stale.exists(), "the folder of a load that died is swept"
        workdir = engine.workdir
    assert not workdir.exists()


def test_column_names_yaml_reads_as_booleans_are_refused(tmp_path: Path) -> None:
    text = "system: x\nentities:\n  branches:\n    columns: {no: branch_id, name: name}\n"
    with pytest.raises(MappingError, match="the column name False is not text .*: quote it"):
        parse_mapping(text)


# -- the README's cookbook ------------------------------------------------------------------------
def cookbook() -> dict[str, str]:
    """The YAML blocks of the README's "Mapping cookbook" section, by the case their first line
    names."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### Mapping cookbook", 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)
    found = {}
    for block in blocks:
        first = block.splitlines()[0]
        assert first.startswith("# cookbook: "), f"a cookbook block without its case: {first}"
        found[first.removeprefix("# cookbook: ")] = block
    return found


def _berka(root: Path) -> None:
    write_berka(root / "berka")


def _check_rename(out: dict) -> None:
    frame, errors = out["accounts"]
    assert errors == {}
    assert records(
        frame, "account_id", "status", "balance", "opened_at", "product_type", "currency"
    ) == [
        ("CC1", "OPEN", 1234.56, dt.date(2024, 1, 31), "CREDIT_CARD", "CNY"),
        ("CC2", "CLOSED", -0.5, dt.date(2023, 1, 1), "CREDIT_CARD", "CNY"),
    ]


def _check_dates(out: dict) -> None:
    frame, errors = out["interactions"]
    assert errors == {}
    assert records(frame, "occurred_at", "resolved_at") == [
        (
            dt.datetime(2026, 1, 2, 0, 30, tzinfo=dt.UTC),
            dt.datetime(2026, 1, 3, 1, 0, tzinfo=dt.UTC),
        )
    ]


def _check_birth(out: dict) -> None:
    from tests.test_real_bank_shapes import CLIENTS

    frame, errors = out["customers"]
    assert errors == {}
    got = {r[0]: (r[1], r[2]) for r in records(frame, "source_id", "birth_date", "gender")}
    assert got == {str(c): decode_birth_number(b) for c, b, _ in CLIENTS}


def _check_lookup(out: dict) -> None:
    from tests.test_real_bank_shapes import CLIENTS, DISTRICTS

    city = {a1: a2 for a1, a2, _ in DISTRICTS}
    frame, _ = out["customers"]
    assert dict(records(frame, "source_id", "city")) == {str(c): city[d] for c, _, d in CLIENTS}


def _check_union(out: dict) -> None:
    from tests.test_real_bank_shapes import ACCOUNTS, LOANS

    frame, errors = out["accounts"]
    assert errors == {}
    got = {
        r[0]: r[1:] for r in records(frame, "account_id", "opened_at", "maturity_date", "currency")
    }
    expected: dict[str, tuple[dt.date, dt.date | None, str]] = {
        f"A-{a}": (dt.datetime.strptime(day, "%y%m%d").date(), None, "CZK")
        for a, _, _, day in ACCOUNTS
    }
    for loan_id, _, day, _, months, _, _ in LOANS:
        start = dt.datetime.strptime(day, "%y%m%d").date()
        expected[f"L-{loan_id}"] = (start, add_months(start, months), "CZK")
    assert got == expected


def _check_reference(out: dict) -> None:
    from tests.test_real_bank_shapes import DISTRICTS

    city = {str(a1): a2 for a1, a2, _ in DISTRICTS}
    branches, _ = out["branches"]
    assert records(branches, "branch_id", "city") == [("KOL-1", city["5"]), ("PRG-1", city["1"])]
    products, _ = out["products"]
    assert records(products, "product_code", "product_type") == [
        ("CZ-CURRENT", "CURRENT"),
        ("CZ-LOAN", "LOAN"),
    ]


def _check_households(out: dict) -> None:
    from tests.test_real_bank_shapes import DISPS

    sharing = {a for _, _, a, t in DISPS if t == "DISPONENT"}
    households, _ = out["households"]
    assert set(households["household_id"]) == {f"H-{a}" for a in sharing}
    members, _ = out["memberships"]
    assert set(records(members, "household_id", "customer_ref", "role")) == {
        (f"H-{a}", str(c), "HEAD" if t == "OWNER" else "OTHER")
        for _, c, a, t in DISPS
        if a in sharing
    }


CLIENTS_NEW = [("1", "张伟", "北京"), ("2", "䶮𠀀", "深圳")]
CLIENTS_OLD = [("7", "Müller", "Zürich"), ("8", "José", "Málaga")]
DEPOSITS = [("D1", "1.234,50"), ("D2", "-7,25")]


def _read_options(root: Path) -> None:
    folder = root / "legacy"
    folder.mkdir(parents=True)
    client = "client_id;name;city\n" + "".join(";".join(r) + "\n" for r in CLIENTS_NEW)
    (folder / "client.csv").write_bytes(client.encode("gb18030"))
    old = "OLD SYSTEM EXPORT\n2019-12-31\n" + "".join(",".join(r) + "\n" for r in CLIENTS_OLD)
    (folder / "old_clients.csv").write_bytes(old.encode("latin-1"))
    deposit = "deposit_no;balance\n" + "".join(";".join(r) + "\n" for r in DEPOSITS)
    (folder / "deposit.csv").write_bytes(deposit.encode("gb18030"))


def _check_read_options(out: dict) -> None:
    customers, errors = out["customers"]
    assert errors == {}
    assert records(customers, "source_id", "name", "city") == [
        *((f"N-{i}", n, c) for i, n, c in CLIENTS_NEW),
        *((f"O-{i}", n, c) for i, n, c in CLIENTS_OLD),
    ]
    accounts, _ = out["accounts"]
    assert list(accounts["balance"]) == [1234.5, -7.25]


COOKBOOK_CASES = {
    # case: (writes its files into the root, checks the mapped entities)
    "rename-codes-units": (
        lambda root: _write(
            root / "cards" / "card_accounts.csv",
            "acct,product,state,balance_fen,opened\nCC1,CC-GOLD,A,123456,20240131\n"
            "CC2,CC-GOLD,C,-50,20230101\n",
        ),
        _check_rename,
    ),
    "date-formats": (
        lambda root: _write(
            root / "crm" / "contacts.csv",
            "id,who,channel,kind,at,due\nI1,C1,APP,SERVICE,02/01/2026 08:30,03/01/2026 09:00\n",
        ),
        _check_dates,
    ),
    "birth-number": (_berka, _check_birth),
    "lookup-join": (_berka, _check_lookup),
    "union-prefixes": (_berka, _check_union),
    "reference-rows": (_berka, _check_reference),
    "households": (_berka, _check_households),
    "read-options": (_read_options, _check_read_options),
}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")


def test_the_cookbook_has_a_test_for_every_example_and_an_example_for_every_test() -> None:
    assert set(cookbook()) == set(COOKBOOK_CASES)


@pytest.mark.parametrize("case", list(COOKBOOK_CASES))
def test_each_cookbook_example_of_the_readme_maps_its_extract(tmp_path: Path, case: str) -> None:
    write, check = COOKBOOK_CASES[case]
    write(tmp_path)
    check(run_mapping(tmp_path, cookbook()[case]))


# -- through the loader and the graph -------------------------------------------------------------
def q(driver: Driver, settings: Settings, query: str, **params: object) -> list:
    return driver.execute_query(
        query, params, database_=settings.neo4j_database, routing_control=RoutingControl.READ
    ).records


@pytest.mark.graph
def test_a_system_of_gb18030_and_latin1_files_loads_its_names_and_its_query_rejects_name_the_row(
    driver: Driver, settings: Settings, tmp_path: Path
) -> None:
    reset(driver, settings)
    _read_options(tmp_path / "bank")
    bad = (tmp_path / "bank" / "legacy" / "client.csv").read_bytes() + "3;;广州\n".encode("gb18030")
    (tmp_path / "bank" / "legacy" / "client.csv").write_bytes(bad)
    (tmp_path / "bank" / "legacy" / "deposit.csv").unlink()  # no products to refer to here
    mapping = tmp_path / "legacy.yaml"
    mapping.write_text(
        cookbook()["read-options"].replace(
            "    file: deposit\n", "    file: deposit\n    optional: true\n"
        ),
        encoding="utf-8",
    )
    result = load(driver, settings, tmp_path / "bank", source_system="legacy", mapping_file=mapping)
    assert result.status == "SUCCEEDED_WITH_REJECTS", result.to_dict()
    names = {
        r["id"]: (r["name"], r["city"])
        for r in q(
            driver,
            settings,
            "MATCH (s:SourceRecord {system: 'legacy'})-[:RESOLVED_TO]->(c:Customer) "
            "RETURN s.source_id AS id, c.name AS name, c.city AS city",
        )
    }
    assert names == {
        **{f"N-{i}": (n, c) for i, n, c in CLIENTS_NEW},
        **{f"O-{i}": (n, c) for i, n, c in CLIENTS_OLD},
    }
    rejects = pd.read_csv(result.rejects_dir / "customers.csv", dtype=str)
    assert records(rejects, "source_file", "row_number", "reason_code") == [
        ("legacy/customers (SQL)", "3", "missing_required")
    ]
    assert json.loads(rejects.at[0, "row"]) == {"source_id": "N-3", "name": None, "city": "广州"}


@pytest.mark.graph
def test_birth_date_problems_are_warnings_when_validation_takes_them(
    driver: Driver, settings: Settings, tmp_path: Path
) -> None:
    """The loader's side of the contract: ``warnings=`` passed when etl/validation.validate takes
    it, the rows then loaded with a warnings.csv line each; refused as before otherwise."""
    reset(driver, settings)
    folder = tmp_path / "bank" / "shop"
    folder.mkdir(parents=True)
    born_later = dt.date(dt.date.today().year + 5, 1, 1)  # after today by the real clock
    (folder / "client.csv").write_text(
        f"id,name,born\n1,Li,1980-05-17\n2,Wang,{born_later}\n3,Zhao,1980-13-40\n", encoding="utf-8"
    )
    mapping = tmp_path / "shop.yaml"
    mapping.write_text(
        "system: shop\nentities:\n  customers:\n    file: client\n"
        "    columns: {id: source_id, name: name, born: birth_date}\n",
        encoding="utf-8",
    )
    result = load(driver, settings, tmp_path / "bank", source_system="shop", mapping_file=mapping)
    c = result.counts["customers"]
    if loader.VALIDATE_TAKES_WARNINGS:
        assert (c.read, c.loaded, c.rejected) == (3, 3, 0)
        warned = pd.read_csv(result.rejects_dir / "warnings.csv", dtype=str)
        assert list(warned.columns) == ["file", "row", "reason_code", "message"]
        assert set(zip(warned["file"], warned["row"], strict=True)) == {
            ("shop/client.csv", "2"),
            ("shop/client.csv", "3"),
        }
        assert sum(result.to_dict()["warnings_by_reason"].values()) == 2
    else:
        assert (c.read, c.loaded, c.rejected) == (3, 1, 2)
        assert result.to_dict()["warnings_by_reason"] == {}


SQL_CORE = """
# the core system's extracts, mapped by queries instead of renames
system: core
date_format: "%Y-%m-%d"
datetime_format: "%Y-%m-%d %H:%M:%S"
timezone: Asia/Shanghai
entities:
  branches:
    sql: SELECT branch_code AS branch_id, branch_name AS name, city FROM branches
  products:
    sql: |
      SELECT prod_code AS product_code, prod_name AS name, prod_type AS product_type, category,
             min_tier
      FROM products
  customers:
    sql: |
      SELECT cust_no AS source_id, cust_name AS name,
             CASE gender WHEN '男' THEN 'M' WHEN '女' THEN 'F' ELSE gender END AS gender,
             birth_dt AS birth_date, id_no AS national_id, mobile AS phone, email, city,
             last_upd AS updated_at
      FROM customers
  accounts:
    sql: |
      SELECT acct_no AS account_id, prod_code AS product_code, prod_type AS product_type,
             ccy AS currency, bal AS balance, open_dt AS opened_at, acct_status AS status
      FROM accounts
  holdings:
    sql: |
      SELECT h.acct_no AS account_id, h.cust_no AS customer_ref, h.holder_role AS role
      FROM holdings h JOIN accounts a ON a.acct_no = h.acct_no
"""


@pytest.mark.graph
def test_a_sql_mapping_load_killed_with_sigkill_resumes_to_the_same_graph(
    driver: Driver, settings: Settings, tmp_path: Path
) -> None:
    bank = tmp_path / "bank"
    generate_bank(GenerateOptions(customers=800, seed=3, out=bank, chunk_size=400))
    mapping = tmp_path / "core.yaml"
    mapping.write_text(SQL_CORE, encoding="utf-8")
    env = cli_env(settings, tmp_path / "home")
    env["TMPDIR"] = str(tmp_path / "tmp")
    (tmp_path / "tmp").mkdir()
    cmd = c360(
        "load", str(bank), "--source-system", "core", "--mapping", str(mapping),
        "--batch-size", "200", "--no-progress",
    )  # fmt: skip
    reset(driver, settings)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        rows = q(driver, settings, "MATCH (r:LoadRun) RETURN r.checkpoint_json AS c")
        done = sum(json.loads(rows[0]["c"] or "{}").values()) if rows else 0
        if done >= 12:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the load finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 1, rerun.stderr[-2000:]
    assert "Resuming load run" in rerun.stderr
    assert not list((tmp_path / "tmp").iterdir()), "the killed load's engine folder was not swept"
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
    assert len(again[0]) > 1000


# -- the extract checks read each file as its options say --------------------------------------------
def test_the_extract_checks_read_a_file_with_its_delimiter_encoding_skip_and_header(
    tmp_path: Path,
) -> None:
    from etl.extracts import ExtractError, scan_csv
    from etl.mapping import ReadOptions

    gb = ReadOptions(delimiter=";", encoding="gb18030")
    path = tmp_path / "client.csv"
    path.write_bytes(_csv(BRANCHES, ";").encode("gb18030"))
    found = scan_csv(path, "legacy/client.csv", options=gb, digest=True)
    assert (found.rows, found.columns, found.undecodable) == (3, ("code", "name", "city"), 0)
    path.write_bytes(_csv(BRANCHES, ";").encode("gb18030")[:-9])  # a copy cut in the last row
    with pytest.raises(ExtractError, match="^legacy/client.csv is cut off: its last row"):
        scan_csv(path, "legacy/client.csv", options=gb)
    path.write_bytes(_csv(BRANCHES, ";").encode("gb18030") + "B9;a;b;c\n".encode("gb18030"))
    with pytest.raises(ExtractError, match="^legacy/client.csv, line 5: 4 fields where the header"):
        scan_csv(path, "legacy/client.csv", options=gb)
    path.write_bytes(b"banner\n\n" + _csv(EUROPE, ",", header=False).encode("utf-16"))
    no_header = ReadOptions(encoding="utf-16", header=False, names=("code", "name", "city"))
    with pytest.raises(ExtractError):  # the banner is UTF-8, not UTF-16
        scan_csv(path, "legacy/client.csv", options=no_header)
    path.write_bytes(("banner\n\n" + _csv(EUROPE, ",", header=False)).encode("utf-16"))
    found = scan_csv(
        path, "legacy/client.csv", options=ReadOptions(**{**no_header.__dict__, "skip": 2})
    )
    assert (found.rows, found.columns) == (3, ("code", "name", "city"))
    path.write_bytes(_csv(BRANCHES, ";").encode("gb18030"))
    with pytest.raises(ExtractError) as wrong:  # GB18030 read as UTF-8: the verdict names it
        scan_csv(path, "legacy/client.csv", options=ReadOptions(delimiter=";"))
    assert "it reads as GBK/GB18030" in str(wrong.value)
    path.write_bytes(_csv(EUROPE, ";").encode("latin-1"))
    with pytest.raises(ExtractError) as wrong:
        scan_csv(path, "legacy/client.csv", options=ReadOptions(delimiter=";"))
    assert "it reads as latin-1" in str(wrong.value) and "`encoding: latin-1`" in str(wrong.value)


def test_a_query_joins_parquet_json_and_csv_files(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "shop"
    folder.mkdir()
    pq.write_table(
        pa.table({"id": ["1", "2"], "opened": [dt.date(2020, 1, 2), dt.date(2021, 3, 4)]}),
        folder / "acct.parquet",
    )
    (folder / "owner.json").write_text(
        '[{"acct": "1", "who": "C1"}, {"acct": "2", "who": "C2"}]', encoding="utf-8"
    )
    text = """
system: shop
entities:
  accounts:
    sql: |
      SELECT a.id AS account_id, 'P' || o.who AS product_code, p.kind AS product_type,
             a.opened AS opened_at, 0 AS balance
      FROM acct a JOIN owner o ON o.acct = a.id JOIN kinds p ON true
"""
    frame, errors = run_mapping(tmp_path, text, {"kinds.csv": "kind\nSAVINGS\n"})["accounts"]
    assert errors == {}
    assert records(frame, "account_id", "product_code", "product_type", "opened_at") == [
        ("1", "PC1", "SAVINGS", dt.date(2020, 1, 2)),
        ("2", "PC2", "SAVINGS", dt.date(2021, 3, 4)),
    ]


# -- defects of the engine's first version (issue 19, second read) ---------------------------------
def test_a_row_starting_with_a_hash_is_read_and_the_rows_after_it_keep_their_numbers(
    tmp_path: Path,
) -> None:
    text = """
system: shop
entities:
  customers:
    file: people
    columns: {id: source_id, name: name}
"""
    people = "id,name\n1,Li\n#2,Wang\n3,Zhao\n"
    frame, errors = run_mapping(tmp_path, text, {"people.csv": people})["customers"]
    assert errors == {}
    assert records(frame, "source_id", "name") == [("1", "Li"), ("#2", "Wang"), ("3", "Zhao")]
    assert list(frame.index) == [1, 2, 3], "a reject names the file's data row"


def test_a_file_whose_rows_delivered_differ_from_its_scan_fails_the_load_naming_both() -> None:
    source = Source("shop", "customers", "people.csv", "SELECT 1", 3, (Path("people.csv"),))
    loader.check_delivered(source, 3)
    with pytest.raises(loader.LoadError) as caught:
        loader.check_delivered(source, 2)
    said = str(caught.value)
    assert "shop/people.csv" in said and "3" in said and "2" in said
    query = Source("shop", "customers", "customers (SQL)", "SELECT 1", None, ())
    loader.check_delivered(query, 7)  # a query's rows are not counted in advance


def test_a_queries_bigint_key_with_a_null_in_its_batch_stays_a_whole_number(tmp_path: Path) -> None:
    big = 2**53 + 1  # in the query: a float cannot hold it
    text = """
system: shop
entities:
  customers:
    sql: |
      SELECT CAST(id AS BIGINT) AS source_id, name,
             CASE WHEN id = '1' THEN NULL ELSE CAST(id AS BIGINT) END AS occupation
      FROM people
      UNION ALL SELECT 9007199254740993, 'Big', 9007199254740993
      UNION ALL SELECT NULL, 'Nobody', NULL  -- sorts last: in the batch of the big id
"""
    frame, errors = run_mapping(tmp_path, text, {"people.csv": "id,name\n1,Li\n2,Wang\n"})[
        "customers"
    ]
    assert set(frame["source_id"]) == {"1", "2", str(big), None}
    assert sorted(frame["occupation"].dropna()) == sorted(["2", str(big)])


def test_a_mappings_sql_is_one_select_and_reads_nothing_outside_the_extract_folder(
    tmp_path: Path,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text("pepper=s3cret\n")
    people = {"people.csv": "id,name\n1,Li\n"}

    def mapping(sql: str) -> str:
        body = "\n".join("      " + line for line in sql.splitlines())
        return f"system: shop\nentities:\n  customers:\n    sql: |\n{body}\n"

    copy = f"COPY (SELECT id AS source_id, name FROM people) TO '{outside / 'out.csv'}'"  # noqa: S608
    with pytest.raises(MappingError, match=r"shop/customers \(SQL\).*one SELECT.*COPY"):
        run_mapping(tmp_path / "a", mapping(copy), people)
    assert not (outside / "out.csv").exists()
    two = "SELECT id AS source_id, name FROM people;\nSELECT id AS source_id, name FROM people"
    with pytest.raises(MappingError, match=r"shop/customers \(SQL\).*one SELECT.*2 statements"):
        run_mapping(tmp_path / "b", mapping(two), people)
    for path in (secret, Path("/etc/hostname")):
        read = f"SELECT p.id AS source_id, t.content AS name FROM people p, read_text('{path}') t"  # noqa: S608
        with pytest.raises(MappingError, match=r"shop/customers \(SQL.*outside") as caught:
            run_mapping(tmp_path / "c", mapping(read), people)
        assert "s3cret" not in str(caught.value)


def test_decimal_commas_rewrite_only_the_columns_mapped_to_numbers(tmp_path: Path) -> None:
    text = """
system: shop
read: {delimiter: ";", decimal: ",", thousands: "."}
entities:
  accounts:
    file: deposit
    columns: {acct: account_id, product: product_code, balance: balance}
    defaults: {currency: CNY}
  customers:
    file: people
    columns: {id: source_id, name: name, job: occupation}
  branches:
    sql: SELECT id AS branch_id, job AS name FROM people
"""
    mapped = run_mapping(
        tmp_path,
        text,
        {
            "deposit.csv": "acct;product;balance\nD1;1.234;1.234,5\n",
            "people.csv": "id;name;job\n1;Li;1,2\n",
        },
    )
    accounts, errors = mapped["accounts"]
    assert errors == {}
    assert records(accounts, "product_code", "balance") == [("1.234", 1234.5)]
    customers, _ = mapped["customers"]
    assert records(customers, "occupation") == [("1,2",)], "a text keeps its comma"
    branches, _ = mapped["branches"]
    assert records(branches, "name") == [("1,2",)], "a query reads the file as written"


def _legacy_files(rows: dict[str, list[list[str]]]) -> dict[str, str | bytes]:
    """The legacy system's files (synthetic/legacy.FILES' columns), with these rows."""
    return {
        f"{name}.csv": ";".join(columns)
        + "\n"
        + "".join(";".join(r) + "\n" for r in rows.get(name, []))
        for name, columns in LEGACY_FILES.items()
    }


def test_the_legacy_mappings_bad_dates_and_numbers_are_nulls_not_a_failed_load(
    tmp_path: Path,
) -> None:
    text = (ROOT / "etl" / "mappings" / "legacy.yaml").read_text(encoding="utf-8")
    files = _legacy_files(
        {
            "deposit": [
                ["1", "4", "CUR", "240131", "", "10,5", "HKD", "A"],
                ["2", "4", "TD", "24X131", "12", "1,0", "HKD", "A"],
                ["3", "4", "TD", "240131", "twelve", "1,0", "HKD", "A"],
            ],
            "loan": [["9", "1", "999999", "100,0", "x", "1", "A"]],
            "card": [["5", "1", "GOLD", "2401", "50,0"]],
        }
    )
    accounts, _ = run_mapping(tmp_path, text, files)["accounts"]
    dates = dict(zip(accounts["account_id"], accounts["opened_at"], strict=True))
    assert dates["A-1"] == dt.date(2024, 1, 31)
    assert dates["A-2"] is None and dates["L-9"] is None and dates["K-5"] is None
    maturity = dict(zip(accounts["account_id"], accounts["maturity_date"], strict=True))
    assert maturity["A-1"] is None, "no term: no maturity"
    assert maturity["A-3"] is None and maturity["L-9"] is None


def test_a_query_failing_on_a_value_names_it_and_teaches_try_cast(tmp_path: Path) -> None:
    text = """
system: shop
entities:
  customers:
    sql: SELECT id AS source_id, name, CAST(age AS INTEGER) AS occupation FROM people
"""
    with pytest.raises(MappingError) as caught:
        run_mapping(tmp_path, text, {"people.csv": "id,name,age\n1,Li,30\n2,Wang,thirty\n"})
    said = str(caught.value)
    assert "shop/customers (SQL" in said and "'thirty'" in said and "TRY_CAST" in said


def test_an_account_without_a_currency_is_refused_unless_the_mapping_gives_a_default(
    tmp_path: Path,
) -> None:
    text = """
system: shop
entities:
  accounts:
    file: deposit
    columns: {no: account_id, ccy: currency}
    defaults: {product_code: P, product_type: CURRENT, balance: '1', opened_at: '2024-01-31'}
"""
    deposit = {"deposit.csv": "no,ccy\nD1,HKD\nD2,\n"}
    mapped, errors = run_mapping(tmp_path / "a", text.replace("{no:", "{'no':"), deposit)[
        "accounts"
    ]
    good, errors = validate(mapped, "accounts", parse_errors=errors, today=dt.date(2026, 1, 1))
    assert list(good["account_id"]) == ["D1"]
    assert errors[2] == [("missing_required", "currency is required")]
    assert [r["props"]["currency"] for r in accounts_rows(good)] == ["HKD"]
    defaulted = text.replace("{no: account_id, ccy: currency}", "{'no': account_id}").replace(
        "product_code: P,", "product_code: P, currency: CNY,"
    )
    mapped, errors = run_mapping(tmp_path / "b", defaulted, deposit)["accounts"]
    good, errors = validate(mapped, "accounts", parse_errors=errors, today=dt.date(2026, 1, 1))
    assert errors == {} and list(good["currency"]) == ["CNY", "CNY"]


def test_empty_cells_are_nulls_in_sql_and_the_legacy_mapping_copes_with_them(
    tmp_path: Path,
) -> None:
    files = _legacy_files(
        {
            "client": [
                ["1", "", "800101", "4", "", "", ""],
                ["2", "Wang", "855101", "4", "", "", ""],
            ],
            "deposit": [["1", "4", "CUR", "240131", "", "10,5", "HKD", "A"]],
            "disp": [["1", "1", "1", "OWNER"], ["2", "2", "1", "DISPONENT"]],
        }
    )
    probe = """
system: shop
entities:
  branches:
    sql: |
      SELECT id AS branch_id,
             CASE WHEN name IS NULL THEN 'null' WHEN name <> '' THEN 'text' ELSE 'empty' END
               AS name
      FROM people
"""
    branches, _ = run_mapping(tmp_path / "probe", probe, {"people.csv": "id,name\n1,\n2,Li\n"})[
        "branches"
    ]
    assert records(branches, "branch_id", "name") == [("1", "null"), ("2", "text")]
    text = (ROOT / "etl" / "mappings" / "legacy.yaml").read_text(encoding="utf-8")
    mapped = run_mapping(tmp_path, text, files)
    households, _ = mapped["households"]
    assert list(households["household_id"]) == ["LH-1"]
    assert households["name"].notna().all(), "a household of a nameless owner still has a name"


@pytest.mark.graph
def test_an_older_crm_export_without_the_optional_columns_loads_its_complaints(
    driver: Driver, settings: Settings, tmp_path: Path
) -> None:
    """crm.yaml reads category and cause columns that CRM exports before the service desk lack:
    `optional_columns` lets such an export load (the targets stay empty); a column not marked
    optional still fails the load naming the file, and a stray name fails the mapping."""
    reset(driver, settings)
    bank = tmp_path / "bank"
    generate_bank(GenerateOptions(customers=200, seed=5, out=bank, chunk_size=100))
    path = bank / "crm" / "interactions.csv"
    full = pd.read_csv(path, dtype=str, keep_default_na=False)
    old = full.drop(columns=["category", "cause_type", "cause_subtype"])

    def complaints() -> tuple[int, int]:
        [row] = q(
            driver,
            settings,
            "MATCH (i:Interaction) WHERE i.interaction_id IN $ids "
            "RETURN count(i) AS n, count(i.category) AS c",
            ids=old["interaction_no"].tolist(),
        )
        return row["n"], row["c"]

    assert load(driver, settings, bank).status.startswith("SUCCEEDED")
    loaded_full, categorised_full = complaints()
    reset(driver, settings)
    old.to_csv(path, index=False)
    result = load(driver, settings, bank)
    assert result.status.startswith("SUCCEEDED"), result.to_dict()
    assert complaints() == (loaded_full, 0) and categorised_full > 0 and loaded_full > 0
    # a column not marked optional is still required, named with its file
    old.drop(columns=["severity"]).to_csv(path, index=False)
    with pytest.raises(
        (loader.LoadError, ValueError), match=r"crm/interactions.csv lacks .*severity"
    ):
        load(driver, settings, bank)
    text = (ROOT / "etl" / "mappings" / "crm.yaml").read_text(encoding="utf-8")
    with pytest.raises(MappingError, match=r"optional_columns \['colour'\] are not among"):
        parse_mapping(text.replace("[category, cause_type", "[colour, cause_type"))
