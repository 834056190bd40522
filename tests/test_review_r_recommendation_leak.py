"""Review of branch `reasons`: a recommendation's reason must not tell a role more than its view.

Views that hide the referral relations (MASKED_CONTACT, PSEUDONYMISED) show recommendations as
stored; since reasons became codes, a PEERS_REFERRAL reason carries ``peers``: the exact number of
customers one referral hop away (graph/queries/scoring.py PEER_PRODUCTS_PAGE, referral_size).
"""

from __future__ import annotations

from auth.masking import Mask
from auth.policy import VIEWS, View
from scoring.config import load_config
from scoring.rules import PeerGroup, recommend


def test_referral_reason_does_not_carry_the_hidden_referral_count():
    cfg = load_config()
    circle = 7  # customers one referral hop away
    [rec] = recommend(set(), [PeerGroup("REFERRAL", circle, {"WM": 4 / 7})], {"WM": "WM"}, cfg)
    for view in (View.MASKED_CONTACT, View.PSEUDONYMISED):
        shown = VIEWS[view]["recommendations"] is Mask.CLEAR
        referrals_hidden = VIEWS[view]["referrals"] is Mask.HIDDEN
        if shown and referrals_hidden:
            params = rec["reason"]["params"]  # type: ignore[index]
            assert "peers" not in params, (view, params)


def test_a_reason_never_states_a_number_on_the_wrong_side_of_its_threshold():
    """NPS_DETRACTOR fires for nps_recent < detractor_nps (7) but stores round(nps): an average
    of 6.6 is told as "NPS 7 (a detractor)"; SATISFACTION_LOW fires below 3.0 and renders 2.96
    with one decimal as 3.0."""
    import datetime as dt

    from core.messages import render_reason
    from scoring.rules import AccountFacts, CustomerFacts, churn_risk

    cfg = load_config()
    f = CustomerFacts(
        customer_id="C1",
        as_of=dt.date(2026, 10, 31),
        accounts=(AccountFacts("SAVINGS", 10_000.0, monthly_balances=(10_000.0,) * 12),),
        onboarded_at=dt.date(2015, 1, 1),
        last_interaction_at=dt.date(2026, 10, 1),
        nps_recent=6.6,
        satisfaction_recent=2.96,
    )
    texts = [render_reason(r, "en") for r in churn_risk(f, [10_000.0] * 12, cfg).reasons]
    assert "NPS 7 (a detractor)" not in texts, texts
    assert "Average satisfaction 3.0 out of 5 in the last 6 months" not in texts, texts


def test_a_scalar_decline_months_is_refused_when_the_config_is_read(tmp_path):
    """[churn] decline_months became a list; a bank config saying ``decline_months = 6`` is
    accepted by load_config and fails mid-run (TypeError in churn_signals), naming nothing."""
    import datetime as dt

    import pytest

    from scoring.rules import AccountFacts, CustomerFacts, churn_risk

    path = tmp_path / "scoring.toml"
    path.write_text("[churn]\ndecline_months = 6\n", encoding="utf-8")
    try:
        cfg = load_config(path)
    except ValueError as e:
        assert "decline_months" in str(e)
        return
    f = CustomerFacts(
        customer_id="C1",
        as_of=dt.date(2026, 10, 31),
        accounts=(AccountFacts("SAVINGS", 10_000.0, monthly_balances=(10_000.0,) * 12),),
    )
    with pytest.raises(ValueError, match="decline_months"):
        churn_risk(f, [10_000.0] * 12, cfg)
