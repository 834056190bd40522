"""Households and accounts load on a thread of their own while the customers are read and resolved
(etl/loader.Loader._meanwhile). Told as a user sees it: the graph is written in that order (the
spool records every batch as it is handed to the writer), a failure on either side fails the
load naming its file, stops the other side and never hangs it; and the spill, used by both
threads at once, keeps each thread's appends apart (checked against plain Python sets). A load
killed while both threads run resumes to the graph of a clean load:
tests/test_etl_load.py::test_load_killed_with_sigkill_resumes_to_the_same_graph_as_a_clean_load."""

from __future__ import annotations

import pickle
import threading
from collections import Counter
from pathlib import Path

import pytest
from neo4j import Driver, RoutingControl

from core.settings import Settings
from etl.loader import LoadError
from etl.mapping import MappingError
from etl.spill import CustomerSpill
from tests.etl_support import load, reset

CUSTOMERS = "id,name,sex,born\n" + "".join(
    f"{i},Person {i},{'MF'[i % 2]},19{50 + i % 40}-0{1 + i % 9}-1{i % 10}\n" for i in range(1, 401)
)
PRODUCTS = "code,name,type\nCUR,Current account,CURRENT\nTD1,Term deposit,TIME_DEPOSIT\n"
HOUSEHOLDS = "hh,name\n" + "".join(f"H{i},House {i}\n" for i in range(1, 51))
MAPPING = """
system: shop
entities:
  products:
    file: product
    columns: {code: product_code, name: name, type: product_type}
  customers:
    file: client
    columns: {id: source_id, name: name, sex: gender, born: birth_date}
  households:
    file: household
    columns: {hh: household_id, name: name}
  accounts:
    file: account
    columns: {acc: account_id, product: product_code, type: product_type, balance: balance,
              opened: opened_at}
    defaults: {currency: CNY}
"""


def accounts(rows: int = 600) -> str:
    return "acc,product,type,balance,opened\n" + "".join(
        f"A{i},{'CUR,CURRENT' if i % 3 else 'TD1,TIME_DEPOSIT'},{i * 10}.5,2020-01-0{1 + i % 9}\n"
        for i in range(1, rows + 1)
    )


def extracts(tmp_path: Path, account_rows: str, name: str = "extracts") -> Path:
    root = tmp_path / name
    (root / "shop").mkdir(parents=True)
    files = {
        "client.csv": CUSTOMERS,
        "product.csv": PRODUCTS,
        "household.csv": HOUSEHOLDS,
        "account.csv": account_rows,
    }
    for file, text in files.items():
        (root / "shop" / file).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


def runs(driver: Driver, settings: Settings) -> list[dict]:
    return [
        r.data()
        for r in driver.execute_query(
            "MATCH (r:LoadRun) RETURN r.status AS status, r.error AS error ORDER BY r.started_at",
            database_=settings.neo4j_database,
            routing_control=RoutingControl.READ,
        ).records
    ]


def test_accounts_are_written_before_the_customers_and_the_graph_is_whole(
    driver: Driver, settings: Settings, tmp_path: Path, mapping: Path
) -> None:
    reset(driver, settings)
    spool = tmp_path / "batches.spool"
    result = load(
        driver,
        settings,
        extracts(tmp_path, accounts()),
        source_system="shop",
        mapping_file=mapping,
        batch_size=50,
        spool=spool,
    )
    assert result.status == "SUCCEEDED", result.error
    steps: list[str] = []
    rows: Counter[str] = Counter()
    with spool.open("rb") as f:
        while True:
            try:
                step, _, batch, _ = pickle.load(f)  # noqa: S301 (the loader's own spool)
            except EOFError:
                break
            steps.append(step)
            rows[step] += len(batch)
    first = {s: steps.index(s) for s in dict.fromkeys(steps)}
    # households and accounts are handed to the writer before the first golden customer: they
    # load while the customers are read and resolved, not after
    last_account = max(i for i, s in enumerate(steps) if s == "accounts:shop")
    assert last_account < first["customers:golden"] < first["customers:source_records"]
    assert first["households:shop"] < first["customers:golden"]
    # (in batches of at most 50 rows, on each of the writer's threads: etl/batches.py)
    assert rows["accounts:shop"] == 600 and rows["households:shop"] == 50
    counts = {e: (c.read, c.loaded, c.rejected) for e, c in result.counts.items()}
    assert counts["accounts"] == (600, 600, 0) and counts["households"] == (50, 50, 0)
    assert counts["customers"] == (400, 400, 0)
    assert list(result.counts) == ["products", "customers", "households", "accounts"]
    graph = driver.execute_query(
        "MATCH (a:Account)-[:OF_PRODUCT]->(p:Product) RETURN p.product_code AS p, count(a) AS n",
        database_=settings.neo4j_database,
        routing_control=RoutingControl.READ,
    ).records
    assert {r["p"]: r["n"] for r in graph} == {"CUR": 400, "TD1": 200}


def test_an_accounts_file_refused_alongside_the_customers_fails_the_load_naming_it(
    driver: Driver, settings: Settings, tmp_path: Path, mapping: Path
) -> None:
    reset(driver, settings)
    bad = "acc,product,type,balance,opened\n" + "".join(
        f"A{i},NOPE,CURRENT,1.0,2020-01-01\n" for i in range(1, 301)
    )
    with pytest.raises(LoadError) as failed:
        load(
            driver,
            settings,
            extracts(tmp_path, bad, name="all-refused"),
            source_system="shop",
            mapping_file=mapping,
            batch_size=50,
        )
    said = str(failed.value)
    assert "every row of shop/account.csv (accounts, 300 rows) was refused" in said
    assert "unknown_fk 300" in said
    assert [r["status"] for r in runs(driver, settings)] == ["FAILED"]
    assert "shop/account.csv" in runs(driver, settings)[0]["error"]


def test_a_failing_customer_query_stops_the_accounts_and_names_the_customers(
    driver: Driver, settings: Settings, tmp_path: Path
) -> None:
    reset(driver, settings)
    text = MAPPING.replace(
        "    file: client\n    columns: {id: source_id, name: name, sex: gender, born: birth_date}\n",
        "    sql: |\n      SELECT id AS source_id, name, CAST(born AS DATE) + CAST(sex AS INTEGER)"
        " AS birth_date FROM client\n",
    )
    path = tmp_path / "sql.yaml"
    path.write_text(text, encoding="utf-8")
    rows = 20_000  # (many chunks of accounts: they are stopped when the customers fail)
    with pytest.raises(MappingError) as failed:
        load(
            driver,
            settings,
            extracts(tmp_path, accounts(rows=rows)),
            source_system="shop",
            mapping_file=path,
            batch_size=50,
        )
    said = str(failed.value)
    assert "shop/customers (SQL, reading shop/client.csv) failed" in said, said
    assert "Could not convert string 'F' to INT32" in said
    # no hang, and the accounts stopped at their next chunk (the customers fail on their first)
    written = driver.execute_query(
        "MATCH (a:Account) RETURN count(a) AS n",
        database_=settings.neo4j_database,
        routing_control=RoutingControl.READ,
    ).records[0]["n"]
    assert written < rows
    assert [r["status"] for r in runs(driver, settings)] == ["FAILED"]
    assert "shop/client.csv" in runs(driver, settings)[0]["error"]


def test_two_threads_append_to_one_spill_and_each_keeps_its_own_keys() -> None:
    main_keys = [f"main-{i}" for i in range(30_000)]
    other_keys = [f"other-{i}-漢" for i in range(30_000)]
    failures: list[BaseException] = []
    seen: list[set[str]] = []
    with CustomerSpill(["system", "source_id"]) as spill:
        own = spill.db

        def other() -> None:
            try:
                assert spill.db is not own  # (a cursor of its own)
                for start in range(0, len(other_keys), 500):
                    spill.add_keys(f"other:{start % 3}", other_keys[start : start + 500])
                    seen.append(spill.known("other:0", other_keys[start : start + 500]))
            except BaseException as exc:
                failures.append(exc)

        thread = threading.Thread(target=other)
        thread.start()
        for start in range(0, len(main_keys), 500):
            spill.add_keys("main", main_keys[start : start + 500])
            assert spill.known("main", main_keys[start : start + 510]) == set(
                main_keys[start : start + 500]
            )
        thread.join()
        assert not failures, failures
        # what the other thread asked of its scope while the main thread added to another
        expected = [
            set(other_keys[start : start + 500]) if start % 3 == 0 else set()
            for start in range(0, len(other_keys), 500)
        ]
        assert seen == expected
        assert sorted(k for ks in spill.keys_in_slices("main", 7000) for k in ks) == sorted(
            main_keys
        )
        theirs = [
            k for s in range(3) for ks in spill.keys_in_slices(f"other:{s}", 7000) for k in ks
        ]
        assert sorted(theirs) == sorted(other_keys)
        assert spill.known("main", other_keys + main_keys) == set(main_keys)
