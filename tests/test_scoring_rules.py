"""Unit tests of the scoring rules: hand-built facts, hand-computed expectations, no driver."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from scoring.config import load_config
from scoring.rules import (
    AccountFacts,
    CustomerFacts,
    PeerGroup,
    assign_tier,
    aum_and_liabilities,
    aum_series,
    change_over,
    churn_risk,
    downgrade_risk,
    is_evaluation_date,
    lifecycle_stage,
    lifetime_value,
    next_evaluation_date,
    recommend,
    score_customer,
    slope_per_month,
    tier_by_aum,
)

CFG = load_config()
AS_OF = dt.date(2026, 10, 31)


def facts(*accounts: AccountFacts, **kw: Any) -> CustomerFacts:
    base = CustomerFacts(
        customer_id="C1",
        as_of=AS_OF,
        accounts=accounts,
        onboarded_at=dt.date(2015, 1, 1),
        last_interaction_at=dt.date(2026, 10, 1),
        interactions_12m=6,
    )
    return dataclasses.replace(base, **kw)


def savings(balance: float, history: tuple[float, ...] = (), **kw) -> AccountFacts:
    return AccountFacts("SAVINGS", balance, monthly_balances=history or (balance,) * 12, **kw)


# -- AUM ---------------------------------------------------------------------------------------


def test_aum_counts_assets_and_keeps_liabilities_apart():
    accounts = [
        savings(100_000),
        AccountFacts("WEALTH", 50_000),
        AccountFacts("CREDIT_CARD", 8_000),
        AccountFacts("MORTGAGE", 900_000),
        AccountFacts("FUND", 10_000, status="CLOSED"),
    ]
    assert aum_and_liabilities(accounts, CFG) == (150_000.0, 908_000.0)


def test_zero_aum_and_no_accounts():
    assert aum_and_liabilities([], CFG) == (0.0, 0.0)
    assert aum_series([], CFG) == []


def test_series_aligns_shorter_histories_on_the_newest_month():
    a = AccountFacts("SAVINGS", 3, monthly_balances=(1, 2, 3))
    b = AccountFacts("FUND", 10, monthly_balances=(10,))
    loan = AccountFacts("LOAN", 5, monthly_balances=(5, 5, 5))
    assert aum_series([a, b, loan], CFG) == [1.0, 2.0, 13.0]


def test_change_and_slope_edge_cases():
    assert change_over([100.0], 3) is None  # a single month
    assert change_over([0.0, 0.0, 0.0, 50.0], 3) is None  # from zero: undefined
    assert change_over([200.0, 150.0, 100.0, 100.0], 3) == pytest.approx(-0.5)
    assert slope_per_month([5.0], 6) == 0.0
    assert slope_per_month([10.0, 20.0, 30.0], 6) == pytest.approx(10.0)


# -- evaluation dates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (dt.date(2026, 10, 31), dt.date(2026, 12, 31)),
        (dt.date(2026, 12, 15), dt.date(2027, 3, 31)),  # 16 days to year end: too close
        (dt.date(2026, 3, 31), dt.date(2026, 6, 30)),
        (dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
    ],
)
def test_next_evaluation_is_the_next_quarter_end_far_enough(as_of, expected):
    assert next_evaluation_date(as_of, CFG) == expected


# -- tier --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("aum", "tier"),
    [
        (0, "ORDINARY"),
        (299_999.99, "ORDINARY"),
        (300_000, "KEY"),
        (999_999, "KEY"),
        (1_000_000, "CORE"),
    ],
)
def test_tier_bands(aum, tier):
    assert tier_by_aum(aum, CFG) == tier


def test_hysteresis_holds_the_tier_inside_the_margin_and_drops_below_it():
    # KEY floor 300,000, margin 10 %: held down to 270,000.
    assert assign_tier(280_000, "KEY", activity=0, products=1, cfg=CFG) == "KEY"
    assert assign_tier(270_000, "KEY", activity=0, products=1, cfg=CFG) == "KEY"
    assert assign_tier(269_999, "KEY", activity=0, products=1, cfg=CFG) == "ORDINARY"
    # An upgrade needs the full floor; a first score has no previous tier.
    assert assign_tier(295_000, "ORDINARY", activity=0, products=1, cfg=CFG) == "ORDINARY"
    assert assign_tier(280_000, None, activity=0, products=1, cfg=CFG) == "ORDINARY"
    # CORE held down to 900,000.
    assert assign_tier(950_000, "CORE", activity=0, products=1, cfg=CFG) == "CORE"
    assert assign_tier(899_000, "CORE", activity=0, products=1, cfg=CFG) == "KEY"


def test_no_flip_flop_near_the_edge_over_runs():
    tier = None
    tiers = []
    for aum in [305_000, 296_000, 302_000, 291_000, 299_000, 301_000]:
        tier = assign_tier(aum, tier, activity=0, products=1, cfg=CFG)
        tiers.append(tier)
    assert tiers == ["KEY"] * 6


def test_potential_promotes_an_active_deep_customer_near_the_floor():
    # 80 % of the KEY floor is 240,000; activity >= 70 and 4 products.
    assert assign_tier(250_000, None, activity=75, products=4, cfg=CFG) == "KEY"
    assert assign_tier(250_000, None, activity=60, products=4, cfg=CFG) == "ORDINARY"
    assert assign_tier(230_000, None, activity=90, products=6, cfg=CFG) == "ORDINARY"


# -- downgrade risk ------------------------------------------------------------------------------


def test_decliner_projected_below_floor_is_high_with_numbers_in_the_reason():
    history = (620_000.0,) * 6 + (620_000.0, 560_000.0, 500_000.0, 440_000.0, 400_000.0, 384_000.0)
    f = facts(savings(384_000, history))
    risk = downgrade_risk(f, "KEY", 384_000, list(history), CFG)
    assert risk.level == "HIGH"
    assert risk.floor == 300_000
    assert risk.evaluation_date == dt.date(2026, 12, 31)
    # least-squares slope of 620,560,500,440,400,384 (thousands): -860 / 17.5 = -49,142.86 a
    # month; 61 days ahead = 2.0041 months: 384,000 - 98,487.7 = 285,512
    assert risk.projected_aum == pytest.approx(384_000 - 860_000 / 17.5 * 61 / 30.4375, abs=1)
    assert risk.reasons[0] == (
        "AUM fell 23 % in 3 months (500,000 → 384,000); at this pace 285,512 by 2026-12-31, "
        "below the KEY floor of 300,000"
    )


def test_stable_customer_has_no_downgrade_risk():
    f = facts(savings(500_000))
    assert downgrade_risk(f, "KEY", 500_000, [500_000.0] * 12, CFG).level == "NONE"


def test_ordinary_customers_cannot_be_downgraded():
    f = facts(savings(1_000))
    assert downgrade_risk(f, "ORDINARY", 1_000, [9_000.0, 1_000.0], CFG).level == "NONE"


def test_inside_the_hysteresis_band_is_high():
    f = facts(savings(280_000))
    risk = downgrade_risk(f, "KEY", 280_000, [280_000.0] * 12, CFG)
    assert risk.level == "HIGH"
    assert "already below the KEY floor of 300,000" in risk.reasons[0]


def test_a_large_maturing_deposit_that_would_breach_the_floor_is_medium():
    deposit = AccountFacts(
        "TIME_DEPOSIT",
        250_000,
        monthly_balances=(250_000.0,) * 12,
        maturity_date=dt.date(2026, 12, 1),
    )
    f = facts(savings(100_000), deposit)
    risk = downgrade_risk(f, "KEY", 350_000, [350_000.0] * 12, CFG)
    assert risk.level == "MEDIUM"
    assert risk.reasons == (
        "250,000 of deposits mature by 2026-12-01; if withdrawn, AUM falls to 100,000, "
        "below the KEY floor of 300,000",
    )


def test_a_closed_deposit_does_not_count_as_maturing():
    deposit = AccountFacts(
        "TIME_DEPOSIT", 250_000, status="CLOSED", maturity_date=dt.date(2026, 12, 1)
    )
    f = facts(savings(400_000), deposit)
    assert downgrade_risk(f, "KEY", 400_000, [400_000.0] * 12, CFG).level == "NONE"


def test_unresolved_complaints_and_falling_satisfaction_are_low():
    f = facts(
        savings(500_000), open_complaints=2, satisfaction_recent=3.0, satisfaction_earlier=4.5
    )
    risk = downgrade_risk(f, "KEY", 500_000, [500_000.0] * 12, CFG)
    assert risk.level == "LOW"
    assert risk.reasons == (
        "2 unresolved complaints",
        "Satisfaction fell from 4.5 to 3.0 (out of 5)",
    )


# -- churn ---------------------------------------------------------------------------------------


def test_churn_levels():
    active = facts(savings(10_000))
    assert churn_risk(active, [10_000.0] * 12, CFG).level == "NONE"
    idle = facts(savings(10_000), last_interaction_at=dt.date(2026, 1, 1))
    assert churn_risk(idle, [10_000.0] * 12, CFG).level == "MEDIUM"
    series = [100.0] * 6 + [100.0, 90.0, 80.0, 70.0, 60.0, 50.0]
    idle_and_falling = facts(savings(50), last_interaction_at=dt.date(2026, 1, 1))
    risk = churn_risk(idle_and_falling, series, CFG)
    assert risk.level == "HIGH"
    assert risk.reasons == (
        "No interaction for 303 days (since 2026-01-01)",
        "AUM down 50 % in 6 months",
    )
    unhappy = facts(savings(10_000), satisfaction_recent=2.0, nps_recent=3)
    assert churn_risk(unhappy, [10_000.0] * 12, CFG).level == "MEDIUM"


# -- lifecycle -------------------------------------------------------------------------------------


def test_lifecycle_rules():
    assert lifecycle_stage(facts(), 0, [], CFG) == "PROSPECT"
    closed = facts(AccountFacts("SAVINGS", 0, status="CLOSED"))
    assert lifecycle_stage(closed, 0, [0.0] * 12, CFG) == "CHURNED"
    dormant = facts(savings(500), last_interaction_at=dt.date(2025, 6, 1))
    assert lifecycle_stage(dormant, 500, [500.0] * 12, CFG) == "DORMANT"
    never_seen = facts(savings(500), last_interaction_at=None)
    assert lifecycle_stage(never_seen, 500, [500.0] * 12, CFG) == "DORMANT"
    new = facts(savings(5_000), onboarded_at=dt.date(2026, 8, 1))
    assert lifecycle_stage(new, 5_000, [5_000.0] * 3, CFG) == "NEW"
    falling = [100.0] * 6 + [100.0, 90.0, 80.0, 75.0, 70.0, 70.0]
    assert lifecycle_stage(facts(savings(70)), 70, falling, CFG) == "DECLINING"
    rising = [100.0] * 6 + [100.0, 105.0, 110.0, 115.0, 118.0, 120.0]
    assert lifecycle_stage(facts(savings(120)), 120, rising, CFG) == "GROWING"
    assert lifecycle_stage(facts(savings(100)), 100, [100.0] * 12, CFG) == "MATURE"


# -- lifetime value --------------------------------------------------------------------------------


def test_lifetime_value_formula():
    # margin = 1,000,000 * 1.2 % = 12,000 a year; retention 0.92, discount 8 %, 5 years.
    expected = sum(12_000 * 0.92**t / 1.08**t for t in range(1, 6))
    assert lifetime_value(1_000_000, 0, "NONE", CFG) == pytest.approx(expected, abs=0.01)
    assert lifetime_value(0, 0, "HIGH", CFG) == 0.0
    assert lifetime_value(1_000_000, 0, "HIGH", CFG) < lifetime_value(1_000_000, 0, "NONE", CFG)


# -- recommendations -------------------------------------------------------------------------------


def test_recommendations_take_products_peers_hold():
    groups = [
        PeerGroup("KEY customers in 上海", 50, {"WM-STEADY": 0.64, "SAV-STD": 0.9, "FUND-A": 0.2}),
        PeerGroup("your household", 2, {"INS-LIFE": 1.0}),  # too few peers
        PeerGroup("customers you referred or who referred you", 6, {"FUND-A": 0.5}),
    ]
    out = recommend({"SAV-STD"}, groups, {"WM-STEADY": "稳健理财"}, CFG)
    assert out == [
        {
            "product_code": "WM-STEADY",
            "name": "稳健理财",
            "reason": "held by 64 % of KEY customers in 上海",
            "support": 0.64,
        },
        {
            "product_code": "FUND-A",
            "name": "FUND-A",
            "reason": "held by 50 % of customers you referred or who referred you",
            "support": 0.5,
        },
    ]
    assert recommend({"SAV-STD"}, [], {}, CFG) == []


# -- the whole score -------------------------------------------------------------------------------


def test_first_score_uses_last_quarter_tier_as_baseline_and_records_the_change():
    history = (1_500_000.0,) * 8 + (1_200_000.0, 1_000_000.0, 850_000.0, 800_000.0)
    # At a quarter end the downgrade takes effect.
    s = score_customer(facts(savings(800_000, history), as_of=dt.date(2026, 9, 30)), CFG)
    assert s.previous_tier == "CORE"  # 3 months ago AUM was 1,500,000
    assert s.tier == "KEY" and s.tier_changed
    assert 0 <= s.value_score <= 100
    assert [c.name for c in s.components] == [
        "aum",
        "activity",
        "product_depth",
        "tenure",
        "influence",
    ]
    assert sum(c.weight for c in s.components) == pytest.approx(1.0)


def test_mid_period_the_tier_is_held_and_the_coming_downgrade_is_high():
    history = (1_500_000.0,) * 8 + (1_200_000.0, 1_000_000.0, 850_000.0, 800_000.0)
    s = score_customer(facts(savings(800_000, history)), CFG)  # 2026-10-31: not a quarter end
    assert (s.previous_tier, s.tier, s.tier_changed) == ("CORE", "CORE", False)
    assert s.downgrade.level == "HIGH"
    assert "already below the CORE floor of 1,000,000" in s.downgrade.reasons[0]
    assert (
        assign_tier(100_000, "KEY", activity=0, products=1, cfg=CFG, at_evaluation=False) == "KEY"
    )


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2026, 9, 30), True),
        (dt.date(2026, 12, 31), True),
        (dt.date(2026, 10, 31), False),
        (dt.date(2026, 9, 29), False),
    ],
)
def test_evaluation_dates_are_quarter_ends(day, expected):
    assert is_evaluation_date(day, CFG) is expected


def test_a_joint_account_moved_by_its_co_holder_does_not_wake_a_dormant_customer():
    own = AccountFacts("SAVINGS", 640.0, monthly_balances=(640.0,) * 12)
    joint = AccountFacts(
        "SAVINGS", 4_000.0, holder_role="JOINT", monthly_balances=(4_100.0, 4_300.0, 3_900.0) * 4
    )
    f = facts(own, joint, last_interaction_at=None)
    series = aum_series(f.accounts, CFG)
    assert lifecycle_stage(f, 4_640.0, series, CFG) == "DORMANT"


def test_score_with_no_history_and_no_accounts():
    s = score_customer(facts(), CFG)
    assert (s.aum, s.tier, s.previous_tier, s.tier_changed) == (0.0, "ORDINARY", None, False)
    assert s.downgrade.level == "NONE"
    assert s.lifecycle_stage == "PROSPECT"
