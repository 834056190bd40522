"""The API's AUM before any scoring run, in the reporting currency: each open asset account
converted at its currency's newest FxRate dated today or earlier, an account in the reporting
currency 1:1, one whose currency has no rate left out (as the scoring job does, scoring/job.Money).

The bank is tests/steward_bank.py loaded by the real loader, with 陈静 also holding a Hong Kong
dollar and a Czech koruna savings account; the rates are FxRate nodes as graph/MODEL.md declares
them (HKD at three dates, one of them in the future; no CZK rate). The expected figure is
computed here from the stored accounts and rates, never written down.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from pathlib import Path

import pytest
from neo4j import Driver, RoutingControl
from starlette.testclient import TestClient

from core.products import ASSET_TYPES
from core.settings import Settings
from graph.queries.customers import reporting_currency
from tests import steward_bank as bank

CUSTOMER = "C-0000300"  # 陈静
FOREIGN = [("6222020000000301", "HKD", "10000.00"), ("6222020000000302", "CZK", "5000.00")]
TODAY = dt.date.today()
HKD_RATES = [  # (rate_date, rate): the one in force today is the middle one
    (TODAY - dt.timedelta(days=40), 0.88),
    (TODAY - dt.timedelta(days=2), 0.9213),
    (TODAY + dt.timedelta(days=5), 5.0),
]
AUM = """query($id: ID!) { customer(id: $id) { aum } }"""
AUM_WITH_ACCOUNTS = """query($id: ID!) { customer(id: $id) { aum accounts { id currency } } }"""


@pytest.fixture(scope="module")
def fx_bank(driver: Driver, settings: Settings, tmp_path_factory) -> None:
    systems = copy.deepcopy(bank.SYSTEMS)
    core = systems["core"]
    template = next(a for a in core["accounts"] if a["acct_no"] == "6222020000000300")
    for acct_no, currency, balance in FOREIGN:
        core["accounts"].append({**template, "acct_no": acct_no, "ccy": currency, "bal": balance})
        core["holdings"].append(
            {"acct_no": acct_no, "cust_no": "0000300", "holder_role": "PRIMARY", "end_dt": ""}
        )
    root = bank.write_extracts(tmp_path_factory.mktemp("fx") / "bank", systems)
    bank.load_steward_bank(driver, settings, root)
    driver.execute_query(
        "UNWIND $rows AS row CREATE (:FxRate {currency: 'HKD', rate_date: row[0], rate: row[1]})",
        rows=[list(r) for r in HKD_RATES],
        database_=settings.neo4j_database,
        routing_control=RoutingControl.WRITE,
    )


@pytest.fixture(scope="module")
def client(settings: Settings):
    from c360.app import create_app

    with TestClient(create_app(settings)) as c:
        yield c


def expected_aum(driver: Driver, settings: Settings) -> tuple[float, set[str]]:
    """The AUM from the stored accounts and rates, and the currencies held."""
    accounts = driver.execute_query(
        "MATCH (:Customer {customer_id: $id})-[:HOLDS]->(a:Account) RETURN a {.*} AS a",
        id=CUSTOMER,
        database_=settings.neo4j_database,
        routing_control=RoutingControl.READ,
    ).records
    rates = driver.execute_query(
        "MATCH (f:FxRate) RETURN f.currency AS c, f.rate_date AS d, f.rate AS r",
        database_=settings.neo4j_database,
        routing_control=RoutingControl.READ,
    ).records
    newest: dict[str, tuple] = {}
    for r in rates:
        day = r["d"].to_native()
        if day <= TODAY and (r["c"] not in newest or day > newest[r["c"]][0]):
            newest[r["c"]] = (day, r["r"])
    total, held = 0.0, set()
    for rec in accounts:
        a = rec["a"]
        held.add(a["currency"])
        if a["product_type"] not in ASSET_TYPES or a.get("status") == "CLOSED":
            continue
        if a["currency"] == reporting_currency():
            total += a["balance"]
        elif a["currency"] in newest:
            total += a["balance"] * newest[a["currency"]][1]
    return round(total, 2), held


@pytest.mark.parametrize("document", [AUM, AUM_WITH_ACCOUNTS], ids=["aum", "aum-with-accounts"])
def test_unscored_aum_converts_each_currency_and_leaves_out_one_without_a_rate(
    client, auth_header, driver, settings, fx_bank, document
):
    want, held = expected_aum(driver, settings)
    assert {"HKD", "CZK", reporting_currency()} <= held  # the case is really there
    headers = {**auth_header("admin"), "X-Request-ID": uuid.uuid4().hex}
    resp = client.post("/graphql", json={"query": document, "variables": {"id": CUSTOMER}},
                       headers=headers)  # fmt: skip
    body = resp.json()
    assert "errors" not in body, body
    got = body["data"]["customer"]["aum"]
    assert got == pytest.approx(want, abs=0.005)
    # not the plain sum of balances in three currencies
    plain = sum(float(b) for _, _, b in FOREIGN) + 900000.0
    assert got != pytest.approx(plain, abs=1.0)


def test_the_reporting_currency_is_read_from_the_money_config(tmp_path: Path):
    config = tmp_path / "scoring.toml"
    config.write_text('[money]\nreporting_currency = "HKD"\n', encoding="utf-8")
    assert reporting_currency(config) == "HKD"
    config.write_text('[money]\nreporting_currency = "hk dollars"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="ISO 4217"):
        reporting_currency(config)
