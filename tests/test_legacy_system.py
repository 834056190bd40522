"""The legacy subsidiary's extracts (synthetic/legacy.py) load through its SQL mapping alone.

The oracle is the files themselves, read here with Python's csv module in GB18030: each expected
value is computed from a file's row (the birth number decoded, a loan's maturity from its start
and duration, holders through the dispositions), never written down by hand.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from neo4j import Driver, RoutingControl

from core.settings import Settings
from etl.er_report import score_graph
from synthetic import GenerateOptions, generate_bank
from synthetic.legacy import DELIMITER, ENCODING, decode_birth_number
from tests.etl_support import load, reset

pytestmark = pytest.mark.graph


def rows_of(folder: Path, name: str) -> list[dict[str, str]]:
    with open(folder / "legacy" / f"{name}.csv", encoding=ENCODING, newline="") as f:
        return list(csv.DictReader(f, delimiter=DELIMITER))


def q(driver: Driver, settings: Settings, query: str, **params: object) -> list:
    return driver.execute_query(
        query, params, database_=settings.neo4j_database, routing_control=RoutingControl.READ
    ).records


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError(day)


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory, driver: Driver, settings: Settings) -> Path:
    out = tmp_path_factory.mktemp("legacy") / "bank"
    generate_bank(GenerateOptions(customers=600, seed=11, out=out, legacy=True))
    reset(driver, settings)
    # a data folder of its own: the identity model is trained on this load, as on a first
    # load at a bank, whichever test loaded before
    result = load(driver, settings.model_copy(update={"c360_home": out.parent / "home"}), out)
    assert result.status in ("SUCCEEDED", "SUCCEEDED_WITH_REJECTS"), result.error
    return out


def test_every_legacy_client_loads_with_gender_and_birth_date_decoded_from_the_birth_number(
    bank: Path, driver: Driver, settings: Settings
) -> None:
    clients = rows_of(bank, "client")
    city_of = {d["district_id"]: d["city"] for d in rows_of(bank, "district")}
    found = {
        r["id"]: r
        for r in q(
            driver,
            settings,
            "MATCH (s:SourceRecord {system: 'legacy'}) RETURN s.source_id AS id, "
            "s.birth_date AS birth, s.gender AS gender, s.city AS city, s.name AS name",
        )
    }
    assert len(clients) > 50 and set(found) == {c["client_id"] for c in clients}
    women = 0
    for c in clients:
        birth, gender = decode_birth_number(c["birth_number"])
        got = found[c["client_id"]]
        assert got["birth"].to_native() == birth, c
        assert got["gender"] == gender, c
        assert got["city"] == city_of[c["district_id"]], c
        assert got["name"] == c["name"]  # traditional characters survive GB18030
        women += gender == "F"
    assert 0 < women < len(clients)


def test_deposits_loans_and_cards_with_overlapping_ids_load_apart_with_their_holders(
    bank: Path, driver: Driver, settings: Settings
) -> None:
    deposits, loans, cards = (rows_of(bank, n) for n in ("deposit", "loan", "card"))
    disp = rows_of(bank, "disp")
    assert {d["account_id"] for d in deposits} & {loan["loan_id"] for loan in loans}  # overlap
    accounts = {
        r["id"]: r
        for r in q(
            driver,
            settings,
            "MATCH (a:Account) WHERE a.product_code STARTS WITH 'LG-' RETURN a.account_id AS id, "
            "a.balance AS balance, a.currency AS currency, a.maturity_date AS maturity",
        )
    }
    assert len(accounts) == len(deposits) + len(loans) + len(cards)
    for d in deposits:
        got = accounts[f"A-{d['account_id']}"]
        assert got["balance"] == pytest.approx(float(d["balance"].replace(",", ".")))
        assert got["currency"] == "HKD"
    assert any(float(d["balance"].replace(",", ".")) < 0 for d in deposits)  # overdrawn loaded
    for loan in loans:
        start = dt.datetime.strptime(loan["granted"], "%y%m%d").date()
        maturity = accounts[f"L-{loan['loan_id']}"]["maturity"].to_native()
        assert maturity == add_months(start, int(loan["duration"]))
    holders = {
        (r["account"], r["source_id"])
        for r in q(
            driver,
            settings,
            "MATCH (s:SourceRecord {system: 'legacy'})-[:RESOLVED_TO]->(:Customer)-[:HOLDS]->"
            "(a:Account) WHERE a.product_code STARTS WITH 'LG-' "
            "RETURN a.account_id AS account, s.source_id AS source_id",
        )
    }
    client_of_disp = {d["disp_id"]: d["client_id"] for d in disp}
    owner_of_account = {d["account_id"]: d["client_id"] for d in disp if d["type"] == "OWNER"}
    for card in cards:
        assert (f"K-{card['card_id']}", client_of_disp[card["disp_id"]]) in holders
    for loan in loans:
        assert (f"L-{loan['loan_id']}", owner_of_account[loan["account_id"]]) in holders


def test_owner_and_disponent_of_one_account_form_a_household(
    bank: Path, driver: Driver, settings: Settings
) -> None:
    disp = rows_of(bank, "disp")
    shared = {d["account_id"] for d in disp if d["type"] == "DISPONENT"}
    expected = {
        (f"LH-{d['account_id']}", d["client_id"]) for d in disp if d["account_id"] in shared
    }
    assert expected
    found = {
        (r["household"], r["source_id"])
        for r in q(
            driver,
            settings,
            "MATCH (s:SourceRecord {system: 'legacy'})-[:RESOLVED_TO]->(:Customer)"
            "-[:MEMBER_OF]->(h:Household) WHERE h.household_id STARTS WITH 'LH-' "
            "RETURN h.household_id AS household, s.source_id AS source_id",
        )
    }
    assert found == expected


def test_legacy_clients_link_to_the_same_people_in_the_other_systems(
    bank: Path, driver: Driver, settings: Settings
) -> None:
    score = score_graph(driver, bank, database=settings.neo4j_database)
    assert score.precision >= 0.99 and score.recall >= 0.95, score
