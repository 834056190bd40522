"""Money: a bank whose balances are in CZK lands its customers in the tiers the floors (in CNY,
the reporting currency) and the exchange rate in force give; an account without a rate is left
out and said; overdrafts load where the product allows them. Real Neo4j, the real loader.

Expected values are computed here from the configuration's floors and the bank's rate file
(tests/money_banks.py), never written down as tiers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from neo4j import Driver, RoutingControl

from core import products
from core.settings import Settings
from scoring.config import DEFAULT_CONFIG, load_config
from scoring.job import ScoringSummary, run_scoring
from tests import money_banks as banks
from tests.etl_support import load, reset

CFG = load_config()
AS_OF = dt.date(1998, 10, 31)  # the end of the month of the data's newest date (A9 closed)


def q(driver: Driver, settings: Settings, query: str, **params: Any) -> list[dict[str, Any]]:
    records = driver.execute_query(
        query, params, database_=settings.neo4j_database, routing_control=RoutingControl.READ
    ).records
    return [r.data() for r in records]


def rate_in_force(currency: str, day: dt.date) -> float | None:
    """The rate file's newest rate of ``currency`` dated on or before ``day``."""
    dated = [
        (dt.date.fromisoformat(d), float(r))
        for c, d, r in banks.CZ_RATES
        if c == currency and dt.date.fromisoformat(d) <= day
    ]
    return max(dated)[1] if dated else None


def tier_of(aum: float) -> str:
    """The highest tier whose floor (scoring.toml, in the reporting currency) the AUM reaches."""
    floors = CFG["tier"]["floors"]
    return max((t for t in floors if aum >= floors[t]), key=lambda t: floors[t])


def expected_aum(client: str, rates: dict[str, float]) -> float:
    """Assets in CNY: positive balances of asset accounts at their rate; none without a rate."""
    total = 0.0
    for _, kind, ccy, balance in banks.CZ_HOLDINGS[client]:
        rate = 1.0 if ccy == CFG.reporting_currency else rates.get(ccy)
        if kind in CFG.asset_types and rate is not None:
            total += max(balance, 0.0) * rate
    return total


@pytest.fixture(scope="module")
def czbank(
    tmp_path_factory: pytest.TempPathFactory, driver: Driver, settings: Settings
) -> tuple[Any, ScoringSummary]:
    root = tmp_path_factory.mktemp("money") / "extracts"
    mapping = banks.write_bank(root, "czbank", banks.czbank(), banks.CZ_MAPPING)
    reset(driver, settings)
    result = load(driver, settings, root, source_system="czbank", mapping_file=mapping)
    summary = run_scoring(driver, database=settings.neo4j_database, cfg=CFG)
    return result, summary


def _customers(driver: Driver, settings: Settings) -> dict[str, dict[str, Any]]:
    rows = q(
        driver,
        settings,
        "MATCH (s:SourceRecord {system: 'czbank'})-[:RESOLVED_TO]->(c:Customer) "
        "RETURN s.source_id AS client, c {.*} AS c",
    )
    return {r["client"]: r["c"] for r in rows}


def test_rates_load_and_broken_rows_of_the_bank_are_refused(czbank, driver, settings):
    result, _ = czbank
    rates = q(
        driver,
        settings,
        "MATCH (f:FxRate) RETURN f.currency AS c, toString(f.rate_date) AS d, f.rate AS r "
        "ORDER BY c, d",
    )
    assert [(r["c"], r["d"], str(r["r"])) for r in rates] == [
        (c, d, str(float(r))) for c, d, r in banks.CZ_RATES
    ]
    # a zero rate, a second rate for the same day, an overdrawn term deposit, a currency that
    # is not an ISO code: refused, each with its reason; the overdrawn current account loads
    assert result.by_reason == {
        "duplicate_key": 1,
        "invalid_code": 1,
        "negative_amount": 1,
        "out_of_range": 1,
    }
    [overdraft] = q(driver, settings, "MATCH (a:Account {account_id: 'A4C'}) RETURN a.balance AS b")
    assert overdraft["b"] == -20_000.0


def test_customers_land_in_the_tiers_of_their_converted_aum(czbank, driver, settings):
    _, summary = czbank
    assert summary.as_of == AS_OF and summary.reporting_currency == CFG.reporting_currency
    rates = {"CZK": rate_in_force("CZK", AS_OF)}
    assert rates["CZK"] is not None
    customers = _customers(driver, settings)
    assert set(customers) == set(banks.CZ_HOLDINGS)
    for client, c in customers.items():
        aum = expected_aum(client, rates)  # type: ignore[arg-type]
        assert c["aum"] == pytest.approx(aum, abs=0.01), client
        assert c["tier"] == tier_of(aum), (client, aum)
        assert c["aum_currency"] == CFG.reporting_currency
    # the test tells the right rate from its neighbours and from ignoring the currency
    for wrong in ({"CZK": 0.30}, {"CZK": 0.50}, {"CZK": 1.0}):
        assert any(
            tier_of(expected_aum(client, wrong)) != customers[client]["tier"]
            for client in customers
        ), wrong


def test_an_account_in_a_currency_without_a_rate_is_left_out_and_said(czbank, driver, settings):
    _, summary = czbank
    customers = _customers(driver, settings)
    eur = [c for c, held in banks.CZ_HOLDINGS.items() if any(h[2] == "EUR" for h in held)]
    assert eur and summary.unconverted == {"EUR": len(eur)}
    for client, c in customers.items():
        assert c["aum_unconverted_currencies"] == (["EUR"] if client in eur else []), client


def test_an_overdraft_adds_nothing_to_aum_and_counts_as_owed(czbank, driver, settings):
    rate = rate_in_force("CZK", AS_OF)
    assert rate is not None
    [k4] = [c for c, held in banks.CZ_HOLDINGS.items() if any(h[3] < 0 for h in held)]
    owed = sum(-b for _, kind, _, b in banks.CZ_HOLDINGS[k4] if b < 0) * rate
    c = _customers(driver, settings)[k4]
    assert c["liabilities"] == pytest.approx(owed, abs=0.01)
    assert c["aum"] == pytest.approx(expected_aum(k4, {"CZK": rate}), abs=0.01)


def test_the_household_rollup_converts_too(czbank, driver, settings):
    rate = rate_in_force("CZK", AS_OF)
    assert rate is not None
    household, members = banks.CZ_HOUSEHOLD
    aum = sum(expected_aum(m, {"CZK": rate}) for m in members)
    [h] = q(
        driver,
        settings,
        "MATCH (h:Household {household_id: $id}) RETURN h.aum AS aum, h.tier AS tier",
        id=household,
    )
    assert h["aum"] == pytest.approx(aum, abs=0.01) and h["tier"] == tier_of(aum)


def test_a_later_as_of_date_takes_the_rate_then_in_force(czbank, driver, settings):
    """Scored as of a later day, the later rate is the one in force (last in the module: the
    stored tiers are now this run's)."""
    later = dt.date(1999, 1, 31)
    summary = run_scoring(driver, database=settings.neo4j_database, cfg=CFG, as_of=later)
    assert summary.as_of == later and summary.as_of_basis == "given"
    rate = rate_in_force("CZK", later)
    assert rate is not None and rate != rate_in_force("CZK", AS_OF)
    for client, c in _customers(driver, settings).items():
        assert c["aum"] == pytest.approx(expected_aum(client, {"CZK": rate}), abs=0.01), client


def test_the_loader_reads_negative_allowed_from_the_default_scoring_file(tmp_path):
    """The load-time rule comes from scoring/scoring.toml whatever `c360 score --config` says."""
    assert products.MONEY_CONFIG.resolve() == DEFAULT_CONFIG.resolve()
    default = load_config().negative_allowed
    assert products.negative_allowed() == default and default
    other = tmp_path / "scoring.toml"
    other.write_text('[money]\nnegative_allowed = ["CURRENT", "LOAN"]\n', encoding="utf-8")
    scoring_rule = load_config(other).negative_allowed
    assert scoring_rule == {"CURRENT", "LOAN"} != default
    assert products.negative_allowed() == default  # the loader's rule is unchanged
    # a rule naming what is not a product type is refused, the file named
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[money]\nnegative_allowed = ["OVERDRAFT"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"wrong.toml: \[money\] negative_allowed names unknown"):
        products.negative_allowed(wrong)
