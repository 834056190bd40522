"""An extract shaped like a real bank's, written here (not by our generator), loads by mapping alone.

The shapes are those of the public Czech bank dataset of the PKDD'99 challenge ("Berka"):
semicolon-separated files whose strings are quoted and numbers not; ``client`` with a
``birth_number`` YYMMDD in which a woman's month is plus 50 and the two-digit years are of the
1900s; the branch's city only in ``district`` (columns A1..A16, A2 the name); current accounts,
loans and cards in three files whose ids overlap; a loan's maturity as its start date plus a
duration in months; holders as OWNER/DISPONENT rows of ``disp``; no names; amounts in CZK; the
balance only in the transactions. The mapping (SQL form, below) is the only thing written for
it: seven steps of a pre-processing script become queries.

The expected graph is computed here from the rows written, in Python (the birth number decoded,
months added, holders joined through the dispositions), never copied from the loader's output.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from neo4j import Driver, RoutingControl

from core.settings import Settings
from etl.loader import LoadResult
from tests.etl_support import load, reset

pytestmark = pytest.mark.graph

CLIENTS = [  # client_id, birth_number, district_id
    (1, "706213", 18), (2, "450204", 1), (3, "406009", 1), (4, "561201", 5),
    (5, "605703", 5), (6, "190922", 12), (7, "785910", 18),
]  # fmt: skip
DISTRICTS = [  # A1, A2 (the district's name, its city), A3 (region) ...
    (1, "Hl.m. Praha", "Prague"), (5, "Kolin", "central Bohemia"),
    (12, "Pribram", "central Bohemia"), (18, "Pisek", "south Bohemia"),
]  # fmt: skip
ACCOUNTS = [  # account_id, district_id, frequency, date
    (1, 18, "POPLATEK MESICNE", "950324"), (2, 1, "POPLATEK MESICNE", "930226"),
    (3, 5, "POPLATEK PO OBRATU", "970707"), (4, 12, "POPLATEK TYDNE", "960221"),
    (5, 18, "POPLATEK MESICNE", "980101"),
]  # fmt: skip
DISPS = [  # disp_id, client_id, account_id, type
    (1, 1, 1, "OWNER"), (2, 2, 2, "OWNER"), (3, 3, 2, "DISPONENT"), (4, 4, 3, "OWNER"),
    (5, 5, 3, "DISPONENT"), (6, 6, 4, "OWNER"), (7, 7, 5, "OWNER"),
]  # fmt: skip
LOANS = [  # loan_id, account_id, date, amount, duration, payments, status (ids overlap accounts)
    (1, 2, "940105", 80952, 24, 3373.0, "A"), (2, 4, "960229", 30276, 12, 2523.0, "C"),
]  # fmt: skip
CARDS = [  # card_id, disp_id, type, issued (ids overlap accounts and loans)
    (1, 1, "gold", "931107 00:00:00"), (2, 5, "classic", "980117 00:00:00"),
    (5, 7, "junior", "980301 00:00:00"),
]  # fmt: skip
TRANS = [  # trans_id, account_id, date, type, amount, balance
    (1, 1, "950324", "PRIJEM", 1000.0, 1000.0), (2, 1, "950424", "PRIJEM", 500.0, 1500.0),
    (3, 2, "930226", "PRIJEM", 700.0, 700.0), (4, 3, "970707", "PRIJEM", 900.0, 900.0),
    (5, 4, "960221", "PRIJEM", 300.0, 300.0), (6, 3, "970801", "VYDAJ", 150.5, 749.5),
    (7, 5, "980101", "PRIJEM", 42.0, 42.0),
]  # fmt: skip

MAPPING = """
# The PKDD'99 Czech bank: every entity a query over the files (each a view named after it)
system: berka
read:
  delimiter: ";"
date_format: "%y%m%d"
reference:
  product_table:
    columns: [product_code, name, product_type, category]
    rows:
      - [CZ-CURRENT, Current account, CURRENT, DEPOSIT]
      - [CZ-LOAN, Loan, LOAN, LOAN]
      - [CZ-CARD-JUNIOR, Junior card, CREDIT_CARD, CARD]
      - [CZ-CARD-CLASSIC, Classic card, CREDIT_CARD, CARD]
      - [CZ-CARD-GOLD, Gold card, CREDIT_CARD, CARD]
entities:
  branches:
    sql: SELECT A1 AS branch_id, 'Branch ' || A2 AS name, A2 AS city FROM district
  products:
    sql: SELECT product_code, name, product_type, category FROM product_table
  customers:
    # birth_number YYMMDD: a woman's month is + 50; the years are of the 1900s
    sql: |
      WITH c AS (
        SELECT client_id, district_id,
               CAST(substr(birth_number, 1, 2) AS INTEGER) AS yy,
               CAST(substr(birth_number, 3, 2) AS INTEGER) AS mm,
               CAST(substr(birth_number, 5, 2) AS INTEGER) AS dd
        FROM client
      )
      SELECT c.client_id AS source_id,
             'Client ' || c.client_id AS name,
             CASE WHEN c.mm > 50 THEN 'F' ELSE 'M' END AS gender,
             make_date(1900 + c.yy, CASE WHEN c.mm > 50 THEN c.mm - 50 ELSE c.mm END, c.dd)
               AS birth_date,
             d.A2 AS city,
             'RETAIL' AS segment,
             'ACTIVE' AS status
      FROM c JOIN district d ON d.A1 = c.district_id
  accounts:
    # three files whose ids overlap: prefixes keep them apart; the balance of an account is its
    # latest transaction's; a loan matures its duration in months after its start
    sql: |
      SELECT 'A-' || a.account_id AS account_id, 'CZ-CURRENT' AS product_code,
             'CURRENT' AS product_type, 'CZK' AS currency, b.balance, a.date AS opened_at,
             NULL AS maturity_date, 'OPEN' AS status
      FROM account a
      LEFT JOIN (
        SELECT account_id, max_by(balance, date || lpad(trans_id, 12, '0')) AS balance
        FROM trans GROUP BY account_id
      ) b ON b.account_id = a.account_id
      UNION ALL
      SELECT 'L-' || loan_id, 'CZ-LOAN', 'LOAN', 'CZK', amount, date,
             add_months(strptime(date, '%y%m%d'), duration),
             CASE WHEN status IN ('A', 'B') THEN 'CLOSED' ELSE 'OPEN' END
      FROM loan
      UNION ALL
      SELECT 'C-' || card_id, 'CZ-CARD-' || upper(type), 'CREDIT_CARD', 'CZK', '0',
             substr(issued, 1, 6), NULL, 'OPEN'
      FROM card
  holdings:
    # an account's holders are its dispositions; a loan's, its account's; a card's, the client
    # of its disposition
    sql: |
      SELECT 'A-' || account_id AS account_id, client_id AS customer_ref,
             CASE type WHEN 'OWNER' THEN 'PRIMARY' ELSE 'JOINT' END AS role
      FROM disp
      UNION ALL
      SELECT 'L-' || l.loan_id, d.client_id,
             CASE d.type WHEN 'OWNER' THEN 'PRIMARY' ELSE 'JOINT' END
      FROM loan l JOIN disp d ON d.account_id = l.account_id
      UNION ALL
      SELECT 'C-' || c.card_id, d.client_id, 'PRIMARY'
      FROM card c JOIN disp d ON d.disp_id = c.disp_id
  households:
    # derived by rule: the OWNER and a DISPONENT of one account form a household
    sql: |
      SELECT DISTINCT 'H-' || o.account_id AS household_id,
             'Household of client ' || o.client_id AS name
      FROM disp o JOIN disp u ON u.account_id = o.account_id AND u.type = 'DISPONENT'
      WHERE o.type = 'OWNER'
  memberships:
    sql: |
      SELECT 'H-' || account_id AS household_id, client_id AS customer_ref,
             CASE type WHEN 'OWNER' THEN 'HEAD' ELSE 'OTHER' END AS role
      FROM disp
      WHERE account_id IN (SELECT account_id FROM disp WHERE type = 'DISPONENT')
"""


def write_berka(folder: Path) -> None:
    """The files as the dataset has them: ``;``, strings quoted, numbers bare, a header line."""
    district_rows = [
        (a1, a2, a3, 100_000 + a1, 10, 5, 2, 1, 4, 75.5, 12_000 - a1, 1.2, 1.5, 120, 5_000, 6_000)
        for a1, a2, a3 in DISTRICTS
    ]
    files: dict[str, tuple[list[str], list[tuple]]] = {
        "client": (["client_id", "birth_number", "district_id"], CLIENTS),
        "district": ([f"A{k}" for k in range(1, 17)], district_rows),
        "account": (["account_id", "district_id", "frequency", "date"], ACCOUNTS),
        "disp": (["disp_id", "client_id", "account_id", "type"], DISPS),
        "loan": (
            ["loan_id", "account_id", "date", "amount", "duration", "payments", "status"],
            LOANS,
        ),
        "card": (["card_id", "disp_id", "type", "issued"], CARDS),
        "trans": (["trans_id", "account_id", "date", "type", "amount", "balance"], TRANS),
    }
    folder.mkdir(parents=True)
    for name, (header, rows) in files.items():
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, delimiter=";", quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows)


# -- the oracle: the dataset's documented encodings, decoded in Python --------------------------
def decode_birth_number(text: str) -> tuple[dt.date, str]:
    yy, mm, dd = int(text[:2]), int(text[2:4]), int(text[4:])
    return dt.date(1900 + yy, mm - 50 if mm > 50 else mm, dd), "F" if mm > 50 else "M"


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError(day)


def q(driver: Driver, settings: Settings, query: str, **params: object) -> list:
    return driver.execute_query(
        query, params, database_=settings.neo4j_database, routing_control=RoutingControl.READ
    ).records


@pytest.fixture(scope="module")
def berka(
    tmp_path_factory: pytest.TempPathFactory, driver: Driver, settings: Settings
) -> LoadResult:
    root = tmp_path_factory.mktemp("berka")
    write_berka(root / "bank" / "berka")
    mapping = root / "berka.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    reset(driver, settings)
    return load(driver, settings, root / "bank", source_system="berka", mapping_file=mapping)


def test_everything_loads_without_a_reject(berka: LoadResult) -> None:
    assert berka.status == "SUCCEEDED" and berka.exit_code == 0, berka.to_dict()
    counts = {k: (c.read, c.loaded) for k, c in berka.counts.items()}
    sharing = {a for _, _, a, t in DISPS if t == "DISPONENT"}
    assert counts == {
        "branches": (len(DISTRICTS), len(DISTRICTS)),
        "products": (5, 5),
        "customers": (len(CLIENTS), len(CLIENTS)),
        "households": (len(sharing), len(sharing)),
        "accounts": (len(ACCOUNTS) + len(LOANS) + len(CARDS),) * 2,
        "holdings": (
            len(DISPS) + sum(a == loan[1] for loan in LOANS for _, _, a, _ in DISPS) + len(CARDS),
        )
        * 2,
        "memberships": (2 * len(sharing),) * 2,
    }


def test_birth_date_and_gender_are_decoded_and_the_city_looked_up(
    berka: LoadResult, driver: Driver, settings: Settings
) -> None:
    city = {a1: a2 for a1, a2, _ in DISTRICTS}
    found = {
        r["id"]: r
        for r in q(
            driver,
            settings,
            "MATCH (s:SourceRecord {system: 'berka'})-[:RESOLVED_TO]->(c:Customer) "
            "RETURN s.source_id AS id, c.birth_date AS birth, c.gender AS gender, c.city AS city, "
            "c.name AS name",
        )
    }
    assert set(found) == {str(c) for c, _, _ in CLIENTS}
    for client_id, birth_number, district in CLIENTS:
        birth, gender = decode_birth_number(birth_number)
        got = found[str(client_id)]
        assert (got["birth"].to_native(), got["gender"]) == (birth, gender)
        assert got["city"] == city[district] and got["name"] == f"Client {client_id}"
    # a woman: her month carries + 50 (706213 is 13 December 1970)
    assert (found["1"]["birth"].to_native(), found["1"]["gender"]) == (dt.date(1970, 12, 13), "F")


def test_accounts_loans_and_cards_with_overlapping_ids_load_apart(
    berka: LoadResult, driver: Driver, settings: Settings
) -> None:
    accounts = {
        r["id"]: r
        for r in q(
            driver,
            settings,
            "MATCH (a:Account) RETURN a.account_id AS id, a.product_type AS type, "
            "a.balance AS balance, a.currency AS currency, a.opened_at AS opened, "
            "a.maturity_date AS maturity",
        )
    }
    assert {k for k in accounts if k.endswith("-1")} == {"A-1", "L-1", "C-1"}
    latest: dict[int, tuple[str, int, float]] = {}
    for trans_id, account, day, _, _, balance in TRANS:
        latest[account] = max(latest.get(account, ("", 0, 0.0)), (day, trans_id, balance))
    for account_id, _, _, day in ACCOUNTS:
        got = accounts[f"A-{account_id}"]
        assert got["balance"] == latest[account_id][2] and got["currency"] == "CZK"
        assert got["opened"].to_native() == dt.datetime.strptime(day, "%y%m%d").date()
    for loan_id, _, day, amount, months, _, _ in LOANS:
        got = accounts[f"L-{loan_id}"]
        start = dt.datetime.strptime(day, "%y%m%d").date()
        assert got["maturity"].to_native() == add_months(start, months)
        assert (got["type"], got["balance"]) == ("LOAN", float(amount))
    # 29 February 1996 + 12 months is the last day of February 1997
    assert accounts["L-2"]["maturity"].to_native() == dt.date(1997, 2, 28)
    assert {accounts[f"C-{c}"]["type"] for c, *_ in CARDS} == {"CREDIT_CARD"}


def test_holders_of_loans_and_cards_come_through_the_dispositions(
    berka: LoadResult, driver: Driver, settings: Settings
) -> None:
    holders: dict[str, set[tuple[str, str]]] = {}
    for r in q(
        driver,
        settings,
        "MATCH (s:SourceRecord {system: 'berka'})-[:RESOLVED_TO]->(:Customer)-[h:HOLDS]->"
        "(a:Account) RETURN a.account_id AS account, s.source_id AS client, h.role AS role",
    ):
        holders.setdefault(r["account"], set()).add((r["client"], r["role"]))
    role = {"OWNER": "PRIMARY", "DISPONENT": "JOINT"}
    client_of_disp = {d: str(c) for d, c, _, _ in DISPS}
    for card_id, disp_id, _, _ in CARDS:
        assert holders[f"C-{card_id}"] == {(client_of_disp[disp_id], "PRIMARY")}
    for loan_id, account, *_ in LOANS:
        expected = {(str(c), role[t]) for _, c, a, t in DISPS if a == account}
        assert holders[f"L-{loan_id}"] == expected
    assert holders["L-1"] == {("2", "PRIMARY"), ("3", "JOINT")}  # account 2: owner + disponent


def test_owner_and_disponent_of_one_account_form_a_household(
    berka: LoadResult, driver: Driver, settings: Settings
) -> None:
    members: dict[str, set[tuple[str, str]]] = {}
    for r in q(
        driver,
        settings,
        "MATCH (s:SourceRecord {system: 'berka'})-[:RESOLVED_TO]->(:Customer)-[m:MEMBER_OF]->"
        "(h:Household) RETURN h.household_id AS household, s.source_id AS client, m.role AS role",
    ):
        members.setdefault(r["household"], set()).add((r["client"], r["role"]))
    sharing = {a for _, _, a, t in DISPS if t == "DISPONENT"}
    expected = {
        f"H-{a}": {
            (str(c), "HEAD" if t == "OWNER" else "OTHER") for _, c, acc, t in DISPS if acc == a
        }
        for a in sharing
    }
    assert members == expected
    assert members["H-2"] == {("2", "HEAD"), ("3", "OTHER")}  # a household of two
