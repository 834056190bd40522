"""Unit tests of the scoring rules: hand-built facts, hand-computed expectations, no driver."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import pytest

from auth.masking import Mask
from auth.policy import VIEWS, View
from core.messages import Reason, catalogue, render_reason
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
SCORING_CATALOGUE = Path(__file__).resolve().parents[1] / "core" / "messages" / "scoring.toml"
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


def en(reasons) -> list[str]:
    return [render_reason(r, "en") for r in reasons]


def zh(reasons) -> list[str]:
    return [render_reason(r, "zh-CN") for r in reasons]


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
    fell, projected = risk.reasons
    assert fell == Reason("AUM_FELL", {"pct": 23, "months": 3, "from": 500_000.0, "to": 384_000.0})
    assert projected.code == "DOWNGRADE_PROJECTED_BELOW_FLOOR"
    assert projected.params["projected"] == pytest.approx(risk.projected_aum, abs=0.01)
    assert en(risk.reasons) == [
        "AUM fell 23 % in 3 months (500,000 → 384,000)",
        "At this pace 285,512 by 2026-12-31, below the KEY floor of 300,000",
    ]
    assert zh(risk.reasons) == [
        "近3个月资产下降23%（500,000 → 384,000）",
        "按当前趋势，2026-12-31资产预计为285,512，低于重点客户门槛300,000",
    ]


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
    assert "already below the KEY floor of 300,000" in en(risk.reasons)[0]
    assert "已低于重点客户门槛300,000" in zh(risk.reasons)[0]


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
    assert en(risk.reasons) == [
        "250,000 of deposits mature by 2026-12-01; if withdrawn, AUM falls to 100,000, "
        "below the KEY floor of 300,000",
    ]
    assert zh(risk.reasons) == [
        "2026-12-01前有250,000存款到期；如到期支取，资产将降至100,000，低于重点客户门槛300,000"
    ]


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
        Reason("COMPLAINTS_OPEN", {"count": 2}),
        Reason("SATISFACTION_FELL", {"from": 4.5, "to": 3.0, "months": 6}),
    )
    assert en(risk.reasons) == [
        "Unresolved complaints: 2",
        "Satisfaction fell from 4.5 to 3.0 (out of 5) in 6 months",
    ]


# -- churn ---------------------------------------------------------------------------------------


FALLING = [100_000.0] * 6 + [100_000.0, 90_000.0, 80_000.0, 70_000.0, 60_000.0, 50_000.0]


def churn(f: CustomerFacts, series: list[float]) -> tuple[str, list[str]]:
    risk = churn_risk(f, series, CFG)
    return risk.level, [r.code for r in risk.reasons]


def test_no_contact_alone_is_no_churn_risk():
    assert churn(facts(savings(10_000)), [10_000.0] * 12) == ("NONE", [])
    # 303 days without a contact, money moving: a follow-up is due, the customer is not leaving
    moving = (10_000.0, 10_400.0, 9_800.0) * 4
    idle = facts(savings(10_000, moving), last_interaction_at=dt.date(2026, 1, 1))
    assert churn(idle, list(moving)) == ("NONE", [])
    never = facts(savings(10_000, moving), last_interaction_at=None)
    assert churn(never, list(moving)) == ("NONE", [])


def test_a_steep_fall_is_strong_and_no_contact_beside_it_counts():
    f = facts(savings(50_000, tuple(FALLING)))
    assert churn(f, FALLING) == ("MEDIUM", ["AUM_FELL"])
    # the steeper of the 3- and 6-month windows: -50 % over 6 months
    assert churn_risk(f, FALLING, CFG).reasons[0].params == {
        "pct": 50, "months": 6, "from": 100_000.0, "to": 50_000.0,
    }  # fmt: skip
    idle = dataclasses.replace(f, last_interaction_at=dt.date(2026, 1, 1))
    level, codes = churn(idle, FALLING)
    assert (level, codes) == ("MEDIUM", ["AUM_FELL", "NO_CONTACT"])
    assert en(churn_risk(idle, FALLING, CFG).reasons)[1] == (
        "No interaction for 303 days (since 2026-01-01)"
    )
    unhappy = dataclasses.replace(idle, satisfaction_recent=2.0)
    assert churn(unhappy, FALLING)[0] == "HIGH"  # strong + weak of two more families


def test_a_fall_of_small_money_is_no_signal():
    small = [v / 100 for v in FALLING]  # 1,000 → 500: less than decline_min_amount left
    assert churn(facts(savings(500, tuple(small))), small) == ("NONE", [])


def test_complaints_and_satisfaction():
    open_complaint = facts(
        savings(10_000), open_complaints=1, oldest_open_complaint_at=dt.date(2026, 10, 1)
    )
    assert churn(open_complaint, [10_000.0] * 12) == ("MEDIUM", ["COMPLAINT_UNRESOLVED"])
    assert churn(dataclasses.replace(open_complaint, accounts=(savings(50_000, tuple(FALLING)),)),
                 FALLING)[0] == "HIGH"  # fmt: skip
    # unhappy, and complained lately: no money signal, so LOW
    unhappy = facts(savings(10_000), satisfaction_recent=2.0, nps_recent=3, recent_complaints=1)
    level, codes = churn(unhappy, [10_000.0] * 12)
    assert level == "LOW"
    assert sorted(codes) == ["COMPLAINTS_RECENT", "NPS_DETRACTOR", "SATISFACTION_LOW"]


def test_a_reason_never_states_a_number_on_the_wrong_side_of_its_threshold():
    """NPS_DETRACTOR fires below detractor_nps (7), SATISFACTION_LOW below low_satisfaction (3.0):
    means of 6.96 and 2.96, rounded, would be told as "NPS 7.0" and "satisfaction 3.0"."""
    assert CFG["churn"]["detractor_nps"] == 7 and CFG["churn"]["low_satisfaction"] == 3.0
    for nps, satisfaction, shown in ((6.96, 2.96, ("6.9", "2.9")), (6.6, 2.04, ("6.6", "2.0"))):
        f = facts(savings(10_000), nps_recent=nps, satisfaction_recent=satisfaction)
        reasons = {r.code: r for r in churn_risk(f, [10_000.0] * 12, CFG).reasons}
        assert reasons["NPS_DETRACTOR"].params == {"nps": float(shown[0])}
        assert en([reasons["NPS_DETRACTOR"]]) == [f"NPS {shown[0]} (a detractor)"]
        assert reasons["SATISFACTION_LOW"].params == {"score": float(shown[1])}
        assert en([reasons["SATISFACTION_LOW"]]) == [
            f"Average satisfaction {shown[1]} out of 5 in the last 6 months"
        ]
    for exact in (6.0, 5.3):  # no float noise below a value already one decimal
        f = facts(savings(10_000), nps_recent=exact)
        [nps] = churn_risk(f, [10_000.0] * 12, CFG).reasons
        assert nps.params == {"nps": exact}


def test_a_scalar_decline_months_is_refused_when_the_config_is_read(tmp_path):
    """[churn] decline_months is a list of windows; ``decline_months = 6`` would be read and fail
    mid-run (a TypeError in churn_signals, naming nothing)."""
    path = tmp_path / "scoring.toml"
    for bad in ("6", "[]", "[3, 0]", "[3, 6.5]", '["6"]'):
        path.write_text(f"[churn]\ndecline_months = {bad}\n", encoding="utf-8")
        with pytest.raises(ValueError, match="churn.decline_months") as e:
            load_config(path)
        assert str(path) in str(e.value)
    path.write_text("[churn]\ndecline_months = [6]\n", encoding="utf-8")
    assert load_config(path)["churn"]["decline_months"] == [6]


def test_closures_and_dormancy():
    closed = AccountFacts("TIME_DEPOSIT", 0.0, status="CLOSED", closed_at=dt.date(2026, 9, 1))
    moving = savings(10_000, (10_000.0, 10_400.0, 9_800.0) * 4)
    one = facts(moving, closed, last_interaction_at=None)
    assert churn(one, [10_000.0] * 12) == ("MEDIUM", ["PRODUCTS_CLOSED", "NO_CONTACT_EVER"])
    old = dataclasses.replace(closed, closed_at=dt.date(2025, 1, 1))  # before closure_months
    assert churn(facts(moving, old, last_interaction_at=None), [10_000.0] * 12) == ("NONE", [])
    gone = facts(dataclasses.replace(closed, product_type="SAVINGS"))
    assert churn(gone, [0.0] * 12) == ("MEDIUM", ["ALL_PRODUCTS_CLOSED"])
    dormant = facts(savings(500), last_interaction_at=dt.date(2025, 6, 1))
    assert churn(dormant, [500.0] * 12) == ("MEDIUM", ["BALANCE_UNMOVED_NO_CONTACT"])
    assert zh(churn_risk(dormant, [500.0] * 12, CFG).reasons) == [
        "近12个月余额无变动，且已517天未与我行往来（最近一次：2025-06-01）"
    ]


# Hand-built facts that between them give every reason code of core/messages/scoring.toml.
_FLAT = (500.0,) * 12
EVERY_REASON = [
    facts(savings(384_000, (620_000.0,) * 8 + (500_000.0, 440_000.0, 400_000.0, 384_000.0))),
    facts(savings(330_000, (400_000.0,) * 6 + (380_000.0, 370_000.0, 360_000.0, 350_000.0,
                                              340_000.0, 330_000.0))),  # fmt: skip
    facts(savings(280_000), AccountFacts("TIME_DEPOSIT", 120_000, maturity_date=dt.date(2026, 12, 1))),
    facts(savings(800_000), AccountFacts("TIME_DEPOSIT", 120_000, maturity_date=dt.date(2026, 12, 1)),
          open_complaints=1, oldest_open_complaint_at=dt.date(2026, 9, 1), recent_complaints=0,
          satisfaction_recent=2.0, satisfaction_earlier=4.0, nps_recent=2),  # fmt: skip
    facts(savings(500, _FLAT), last_interaction_at=None, recent_complaints=1),
    facts(savings(500, _FLAT), last_interaction_at=dt.date(2025, 1, 1)),
    facts(savings(500, (500.0, 800.0) * 6), last_interaction_at=None),
    facts(savings(500, (500.0, 800.0) * 6), last_interaction_at=dt.date(2025, 1, 1)),
    facts(AccountFacts("SAVINGS", 5_000), last_interaction_at=None),  # no balance history
    facts(AccountFacts("SAVINGS", 5_000), last_interaction_at=dt.date(2025, 1, 1)),
    facts(savings(280_000), previous_tier="KEY"),  # mid-quarter: held KEY, below its floor
    facts(savings(500, _FLAT), interaction_source=False),
    facts(savings(500, _FLAT), status="DORMANT"),
    facts(AccountFacts("SAVINGS", 0, status="CLOSED", closed_at=dt.date(2026, 10, 1))),
    facts(savings(100_000, tuple(FALLING)), last_interaction_at=dt.date(2026, 1, 1),
          accounts=(savings(50_000, tuple(FALLING)),
                    AccountFacts("FUND", 0, status="CLOSED", closed_at=dt.date(2026, 10, 1)))),
    facts(savings(100_000, tuple(FALLING)), last_interaction_at=None,
          accounts=(savings(50_000, tuple(FALLING)),
                    AccountFacts("FUND", 0, status="CLOSED", closed_at=dt.date(2026, 10, 1)))),
]  # fmt: skip


def test_every_reason_code_is_given_and_renders_with_its_own_parameters():
    """The codes the rules give are exactly the scoring catalogue's, and each reason's params fill
    every placeholder of both its texts (a renamed param would leave a dash, "—")."""
    given: dict[str, Reason] = {}
    for f in EVERY_REASON:
        s = score_customer(f, CFG)
        for r in (*s.downgrade.reasons, *s.churn.reasons):
            given.setdefault(r.code, r)
    groups = [
        PeerGroup("TIER_CITY", 9, {"A": 0.5}, tier="KEY", city="上海"),
        PeerGroup("TIER_CITY", 9, {"B": 0.6}, tier="KEY", city=None),
        PeerGroup("HOUSEHOLD", 9, {"C": 0.7}),
        PeerGroup("REFERRAL", 9, {"D": 0.8}),
    ]
    for group in groups:
        [item] = recommend(set(), [group], {}, CFG)
        reason = Reason.from_dict(item["reason"])  # type: ignore[arg-type]
        given.setdefault(reason.code, reason)
    scoring_codes = set(tomllib.loads(SCORING_CATALOGUE.read_text(encoding="utf-8")))
    assert set(given) == scoring_codes - {"PEERS_HOLD"}  # PEERS_HOLD: stored before codes
    for code, reason in given.items():
        for lang in ("zh-CN", "en"):
            text = render_reason(reason, lang)
            assert "—" not in text and code not in text, (code, lang, text)
        assert set(catalogue()[code]) == {"zh", "en"}


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
        PeerGroup(
            "TIER_CITY", 50, {"WM-STEADY": 0.64, "SAV-STD": 0.9, "FUND-A": 0.2}, "KEY", "上海"
        ),
        PeerGroup("HOUSEHOLD", 2, {"INS-LIFE": 1.0}),  # too few peers
        PeerGroup("REFERRAL", 6, {"FUND-A": 0.5}),
    ]
    out = recommend({"SAV-STD"}, groups, {"WM-STEADY": "稳健理财"}, CFG)
    assert out == [
        {
            "product_code": "WM-STEADY",
            "name": "稳健理财",
            "reason": {
                "code": "PEERS_TIER_CITY",
                "params": {
                    "pct": 64,
                    "peers": 50,
                    "group": "TIER_CITY",
                    "tier": "KEY",
                    "city": "上海",
                },
            },
            "support": 0.64,
        },
        {
            "product_code": "FUND-A",
            "name": "FUND-A",
            "reason": {
                "code": "PEERS_REFERRAL",
                "params": {"pct": 50, "group": "REFERRAL"},
            },
            "support": 0.5,
        },
    ]
    reasons = [r["reason"] for r in out]
    assert zh(reasons) == ["上海重点客户中64%持有该产品", "推荐关系客户中50%持有该产品"]
    assert en(reasons) == [
        "Held by 64 % of KEY customers in 上海",
        "Held by 50 % of the customers they referred or who referred them",
    ]
    assert recommend({"SAV-STD"}, [], {}, CFG) == []


def test_a_relation_groups_reason_does_not_tell_its_size():
    """The size of a household or referral circle is a count of the customer's relations: views
    that hide the referrals (channel_service, data_engineer, auditor) show the recommendations as
    stored, so the reason must not carry it; a tier's group may."""
    circle = 7  # customers one referral hop away
    hidden = [
        view
        for view, fields in VIEWS.items()
        if fields["recommendations"] is Mask.CLEAR and fields["referrals"] is Mask.HIDDEN
    ]
    assert View.MASKED_CONTACT in hidden and View.PSEUDONYMISED in hidden
    for kind in ("REFERRAL", "HOUSEHOLD"):
        [rec] = recommend(set(), [PeerGroup(kind, circle, {"WM": 4 / 7})], {"WM": "WM"}, CFG)
        assert rec["reason"]["params"] == {"pct": 57, "group": kind}  # type: ignore[index]
    [rec] = recommend(set(), [PeerGroup("TIER_CITY", 40, {"WM": 0.5}, "KEY", None)], {}, CFG)
    assert rec["reason"]["params"]["peers"] == 40  # type: ignore[index]


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
    assert "already below the CORE floor of 1,000,000" in en(s.downgrade.reasons)[0]
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
