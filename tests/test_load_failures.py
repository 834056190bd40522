"""`c360 load` never succeeds silently: each way a mapping and a folder can fail to fit together
ends with exit code 2 and a message naming the file (or the query), what was found, and what to
change. Run through the CLI itself (typer's CliRunner) against the test graph."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from neo4j import Driver, RoutingControl
from typer.testing import CliRunner

from c360.cli import app
from core import settings as settings_module
from core.settings import Settings
from etl.mapping import MAPPINGS_DIR
from tests.etl_support import reset

pytestmark = pytest.mark.graph
Run = Callable[..., tuple[int, str]]

CLIENTS = "client_id;birth_number;district_id\n1;706213;18\n2;450204;1\n3;406009;1\n"
SIMPLE = """
system: shop
entities:
  customers:
    file: {file}
    columns: {{client_id: source_id, birth_number: occupation, district_id: city}}
    defaults: {{name: someone}}
"""


@pytest.fixture
def c360_load(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, driver: Driver, tmp_path: Path
) -> Run:
    """``c360_load(folder, *options)`` -> (exit code, the output with its whitespace joined)."""
    reset(driver, settings)

    def invoke(*args: str | Path) -> tuple[int, str]:
        monkeypatch.setenv("C360_ENV", "test")
        monkeypatch.setenv("COLUMNS", "400")  # rich wraps at the terminal's width
        monkeypatch.setenv("NEO4J_LOCAL_PORT", str(settings.neo4j_local_port))
        if settings.neo4j_uri:
            monkeypatch.setenv("NEO4J_URI", settings.neo4j_uri)
        else:
            monkeypatch.delenv("NEO4J_URI", raising=False)
        settings_module.get_settings.cache_clear()
        try:
            result = CliRunner().invoke(
                app,
                ["load", *map(str, args), "--no-progress", "--rejects-dir", str(tmp_path / "rj")],
            )
        finally:
            settings_module.get_settings.cache_clear()
        return result.exit_code, " ".join(result.output.split())

    return invoke


def folder_with(tmp_path: Path, files: dict[str, str | bytes], system: str = "shop") -> Path:
    root = tmp_path / "extracts"
    (root / system).mkdir(parents=True)
    for name, data in files.items():
        path = root / system / name
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    return root


def mapping_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_mapping_naming_a_missing_file_fails_naming_it_and_listing_the_folder(
    c360_load: Run, tmp_path: Path
) -> None:
    root = folder_with(tmp_path, {"client.csv": CLIENTS.replace(";", ","), "README.txt": "hi"})
    mapping = mapping_file(tmp_path, SIMPLE.format(file="clients"))
    code, said = c360_load(root, "--source-system", "shop", "--mapping", mapping)
    assert code == 2, said
    assert "shop/clients.csv not found" in said
    assert f"{root / 'shop'} holds client.csv (and README.txt, not extracts)" in said
    assert "did you mean `file: client` (client.csv)?" in said


def test_load_pointed_at_a_system_folder_itself_fails_saying_so(
    c360_load: Run, tmp_path: Path
) -> None:
    root = folder_with(tmp_path, {"client.csv": CLIENTS.replace(";", ",")})
    mapping = mapping_file(tmp_path, SIMPLE.format(file="client"))
    code, said = c360_load(root / "shop", "--source-system", "shop", "--mapping", mapping)
    assert code == 2, said
    assert (
        f"{root / 'shop'} has no folder shop/, but holds extract files itself (client.csv)" in said
    )
    assert f"point it at {root} (with --source-system shop)" in said
    # a known system's folder, without --source-system
    core = folder_with(tmp_path / "b", {"customers.csv": "cust_no,cust_name\nC1,Li\n"}, "core")
    code, said = c360_load(core / "core")
    assert code == 2, said
    assert "holds no folder of a known source system" in said and "customers.csv" in said
    assert f"point it at {core} (or add --source-system core with that folder)" in said


def test_a_folder_holding_no_file_the_mapping_reads_fails(c360_load: Run, tmp_path: Path) -> None:
    root = folder_with(tmp_path, {"notes.csv": "a,b\n1,2\n"})
    text = SIMPLE.format(file="client").replace(
        "    file: client", "    file: client\n    optional: true"
    )
    code, said = c360_load(
        root, "--source-system", "shop", "--mapping", mapping_file(tmp_path, text)
    )
    assert code == 2, said
    assert (
        f"{root / 'shop'} holds no file the shop mapping reads (the views: notes (notes.csv))"
        in said
    )


def test_semicolon_file_read_as_comma_separated_says_the_delimiter_is_the_likely_cause(
    c360_load: Run, tmp_path: Path
) -> None:
    root = folder_with(tmp_path, {"client.csv": CLIENTS})
    mapping = mapping_file(tmp_path, SIMPLE.format(file="client"))
    code, said = c360_load(root, "--source-system", "shop", "--mapping", mapping)
    assert code == 2, said
    assert "shop/client.csv lacks the columns its mapping reads: client_id, birth_number, " in said
    assert "(its 1 column(s): client_id;birth_number;district_id)" in said
    assert "read as delimiter ',', encoding utf-8" in said
    assert "DuckDB's sniffer reads it with delimiter ';' into 3 column(s)" in said
    assert "its bytes look like utf-8" in said
    assert "The delimiter is the likely cause" in said and "`read: {delimiter: ';'}`" in said
    # read right, a misspelt column gets the closest name
    text = "read: {delimiter: ';'}\n" + SIMPLE.format(file="client").replace(
        "birth_number:", "birth_numbr:"
    )
    code, said = c360_load(
        root, "--source-system", "shop", "--mapping", mapping_file(tmp_path, text)
    )
    assert code == 2, said
    assert "lacks the columns its mapping reads: birth_numbr" in said
    assert "closest names: birth_numbr ~ birth_number" in said


def test_a_gbk_file_read_as_utf8_names_the_file_and_suggests_gb18030(
    c360_load: Run, tmp_path: Path
) -> None:
    rows = "".join(f"{k},客户{k},北京\n" for k in range(6))
    root = folder_with(tmp_path, {"client.csv": ("client_id,name,city\n" + rows).encode("gbk")})
    text = (
        "system: shop\nentities:\n  customers:\n    file: client\n"
        "    columns: {client_id: source_id, name: name, city: city}\n"
    )
    code, said = c360_load(
        root, "--source-system", "shop", "--mapping", mapping_file(tmp_path, text)
    )
    assert code == 2, said
    assert (
        "shop/client.csv is not UTF-8: 6 of its 6 lines with non-ASCII bytes do not decode" in said
    )
    assert "it reads as GBK/GB18030" in said and "`encoding: gb18030`" in said


def test_an_entity_whose_rows_are_all_refused_fails_the_load_naming_the_top_reasons(
    c360_load: Run, tmp_path: Path, driver: Driver, settings: Settings
) -> None:
    root = folder_with(
        tmp_path,
        {
            "client.csv": "id,name,sex\n1,Li,M\n2,Wang,F\n",
            "branch.csv": "code,name\nB1,\nB2,\nB3,North\n",
            "staff.csv": "emp_no,name,branch\nE1,,B1\nE2,Zhao,B9\nE3,,B1\n",
        },
    )
    text = """
system: shop
entities:
  branches:
    file: branch
    columns: {code: branch_id, name: name}
  customers:
    file: client
    columns: {id: source_id, name: name, sex: gender}
  employees:
    file: staff
    columns: {emp_no: employee_id, name: name, branch: branch_id}
"""
    code, said = c360_load(
        root, "--source-system", "shop", "--mapping", mapping_file(tmp_path, text)
    )
    assert code == 2, said
    assert (
        "every row of shop/staff.csv (employees, 3 rows) was refused; top reasons: "
        "missing_required 2, unknown_fk 1 (the first: row 1: name is required)"
    ) in said
    assert str(tmp_path / "rj" / "employees.csv") in said
    runs = driver.execute_query(
        "MATCH (r:LoadRun) RETURN r.status AS status, r.error AS error",
        database_=settings.neo4j_database,
        routing_control=RoutingControl.READ,
    ).records
    assert [r["status"] for r in runs] == ["FAILED"] and "shop/staff.csv" in runs[0]["error"]


def test_sql_naming_an_unknown_table_or_column_names_it_and_lists_what_there_is(
    c360_load: Run, tmp_path: Path
) -> None:
    root = folder_with(tmp_path, {"client.csv": CLIENTS, "district.csv": "A1;A2\n1;Praha\n"})
    base = "system: shop\nread: {delimiter: ';'}\nentities:\n  customers:\n    sql: |\n      "
    code, said = c360_load(
        root,
        "--source-system",
        "shop",
        "--mapping",
        mapping_file(tmp_path, base + "SELECT client_id AS source_id FROM clients\n"),  # noqa: S608
    )
    assert code == 2, said
    assert (
        "shop/customers (SQL) reads clients, which shop/ does not hold (the views: client "
        "(client.csv), district (district.csv); closest: clients ~ client)"
    ) in said
    sql = "SELECT c.client_id AS source_id, c.birth_numbr AS name FROM client c"
    code, said = c360_load(
        root, "--source-system", "shop", "--mapping", mapping_file(tmp_path, base + sql + "\n")
    )
    assert code == 2, said
    assert "shop/customers (SQL, reading shop/client.csv): Binder Error" in said
    assert (
        "no column 'birth_numbr' in what it reads (client: client_id, birth_number, district_id)"
    ) in said
    assert "closest: birth_numbr ~ birth_number" in said


def test_sql_outputting_a_column_the_entity_does_not_have_fails_naming_it(
    c360_load: Run, tmp_path: Path
) -> None:
    root = folder_with(tmp_path, {"client.csv": CLIENTS})
    text = (
        "system: shop\nread: {delimiter: ';'}\nentities:\n  customers:\n    sql: |\n"
        "      SELECT client_id AS source_id, 'x' AS name, birth_number AS birthdate FROM client\n"
    )
    code, said = c360_load(
        root, "--source-system", "shop", "--mapping", mapping_file(tmp_path, text)
    )
    assert code == 2, said
    assert (
        "shop/customers (SQL, reading shop/client.csv) outputs column(s) that customers does not "
        "have: birthdate; closest: birthdate ~ birth_date"
    ) in said


def test_a_misspelt_key_of_a_mapping_is_refused_naming_it(c360_load: Run, tmp_path: Path) -> None:
    root = folder_with(tmp_path, {"client.csv": CLIENTS})
    text = SIMPLE.format(file="client").replace("columns:", "colums:")
    code, said = c360_load(
        root, "--source-system", "shop", "--mapping", mapping_file(tmp_path, text)
    )
    assert code == 2, said
    assert "mapping shop: customers: give either `columns:` (renames) or `sql:` (a query)" in said


def test_the_identity_config_option_is_read(
    c360_load: Run, tmp_path: Path, driver: Driver, settings: Settings
) -> None:
    """The config's ``system_priority`` decides the golden ids (etl/identity.py: ``C-<source_id>``
    when a cluster's anchor is of the first system, else ``C-<system>-<source_id>``): a config
    putting the shop system first must change them."""
    root = folder_with(tmp_path, {"client.csv": CLIENTS})
    mapping = mapping_file(tmp_path, "read: {delimiter: ';'}\n" + SIMPLE.format(file="client"))
    missing = tmp_path / "nowhere.yaml"
    code, said = c360_load(
        root, "--source-system", "shop", "--mapping", mapping, "--identity-config", missing
    )
    assert code == 2 and str(missing) in said, said

    def customer_ids() -> set[str]:
        found = driver.execute_query(
            "MATCH (c:Customer) RETURN c.customer_id AS id",
            database_=settings.neo4j_database,
            routing_control=RoutingControl.READ,
        ).records
        return {r["id"] for r in found}

    code, said = c360_load(root, "--source-system", "shop", "--mapping", mapping)
    assert code == 0, said
    assert customer_ids() == {"C-shop-1", "C-shop-2", "C-shop-3"}, "the default: core first"
    reset(driver, settings)
    default = (MAPPINGS_DIR / "identity.yaml").read_text(encoding="utf-8")
    config = tmp_path / "identity.yaml"
    config.write_text(
        default.replace("system_priority: [core, card, crm]", "system_priority: [shop, core]")
    )
    assert config.read_text() != default
    code, said = c360_load(
        root, "--source-system", "shop", "--mapping", mapping, "--identity-config", config
    )
    assert code == 0, said
    assert customer_ids() == {"C-1", "C-2", "C-3"}, "shop first: its ids are the golden ids"


def test_a_query_failing_on_a_value_names_the_entity_its_files_and_the_value(
    c360_load: Run, tmp_path: Path
) -> None:
    root = folder_with(tmp_path, {"client.csv": CLIENTS + "4;7O6213;18\n"})
    text = (
        "system: shop\nread: {delimiter: ';'}\nentities:\n  customers:\n    sql: |\n"
        "      SELECT client_id AS source_id, 'x' AS name,\n"
        "             make_date(1900 + CAST(substr(birth_number, 1, 2) AS INTEGER), 1, 1)\n"
        "               AS birth_date\n"
        "      FROM client\n"
    )
    code, said = c360_load(
        root, "--source-system", "shop", "--mapping", mapping_file(tmp_path, text)
    )
    assert code == 2, said
    assert "shop/customers (SQL, reading shop/client.csv) failed at output row 1 or after" in said
    assert "Could not convert string '7O' to INT32" in said


def test_a_query_giving_no_rows_from_files_that_hold_some_is_a_warning_naming_the_entity(
    c360_load: Run, tmp_path: Path
) -> None:
    root = folder_with(tmp_path, {"client.csv": CLIENTS, "branch.csv": "code;name\nB1;North\n"})
    branches = (
        "  branches:\n    sql: SELECT code AS branch_id, name FROM branch WHERE code = 'B9'\n"
    )
    text = "read: {delimiter: ';'}\n" + SIMPLE.format(file="client") + branches
    report = tmp_path / "report.json"
    code, said = c360_load(
        root,
        "--source-system",
        "shop",
        "--mapping",
        mapping_file(tmp_path, text),
        "--report-json",
        report,
    )
    assert code == 0, said
    assert json.loads(report.read_text())["warnings_by_reason"] == {"no_rows": 1}
    with open(tmp_path / "rj" / "warnings.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["file"], r["reason_code"]) for r in rows] == [("shop/branches (SQL)", "no_rows")]
    assert "branches" in rows[0]["message"] and "shop/branch.csv" in rows[0]["message"]
