"""core/followups.py without a driver: the plan configuration, its errors (naming the field),
what counts as a contact, due dates and the last two reviews."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest

from core import followups as plans
from schema.interactions.types import Channel, InteractionKind

VALID = {
    "plans": {"CORE": {"interval_days": 30}, "KEY": {"interval_days": 90}, "ORDINARY": {}},
    "contacts": {"kinds": ["VISIT", "CALL"], "channels": ["VISIT", "PHONE"], "never": ["SURVEY"]},
    "due": {"upcoming_days": 7},
    "coverage": {"target": 0.95},
}


def test_the_shipped_configuration():
    cfg = plans.load()
    assert cfg.intervals == {"CORE": 30, "KEY": 90}
    assert cfg.planned_tiers == ["CORE", "KEY"]
    assert cfg.target == 0.95
    # every code it names is a kind or channel the API knows
    assert set(cfg.contact_kinds) | set(cfg.never_kinds) <= {k.value for k in InteractionKind}
    assert set(cfg.contact_channels) <= {c.value for c in Channel}


@pytest.mark.parametrize(
    ("kind", "channel", "counts"),
    [
        ("VISIT", "BRANCH", True),
        ("CALL", "APP", True),
        ("FOLLOW_UP", "PHONE", True),
        ("SERVICE", "VISIT", True),
        ("SURVEY", "PHONE", False),
        ("FOLLOW_UP", "WECHAT", False),
        ("SALES", "APP", False),
    ],
)
def test_what_counts_as_a_contact(kind, channel, counts):
    assert plans.parse(VALID).counts(kind=kind, channel=channel) is counts


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"plans": {"GOLD": {"interval_days": 30}}}, "plans.GOLD"),
        ({"plans": {"CORE": {"interval_days": "monthly"}}}, "plans.CORE.interval_days"),
        ({"plans": {"CORE": {"interval_days": 0}}}, "plans.CORE.interval_days"),
        ({"contacts": {"kinds": "VISIT"}}, "contacts.kinds"),
        ({"contacts": {"channels": ["phone"]}}, "contacts.channels"),
        ({"coverage": {"target": 95}}, "coverage.target"),
        ({"due": {"upcoming_days": -1}}, "due.upcoming_days"),
    ],
)
def test_a_bad_value_is_refused_naming_the_field(change, named):
    with pytest.raises(plans.FollowUpConfigError, match=named.replace(".", r"\.")):
        plans.parse({**VALID, **change}, "followups.toml")


def test_a_tier_can_be_given_a_plan_by_configuration():
    text = plans.CONFIG.read_text().replace(
        "# by campaign: no individual plan", "interval_days = 180"
    )
    cfg = plans.parse(tomllib.loads(text))
    assert cfg.intervals["ORDINARY"] == 180
    assert cfg.planned_tiers == ["CORE", "KEY", "ORDINARY"]


def test_due_dates():
    as_of = dt.date(2026, 10, 31)
    last = dt.date(2026, 9, 10)
    assert plans.due_date(interval_days=30, last_contact=last, onboarded=None, as_of=as_of) == (
        dt.date(2026, 10, 10)
    )
    onboarded = dt.date(2026, 1, 15)
    assert plans.due_date(
        interval_days=90, last_contact=None, onboarded=onboarded, as_of=as_of
    ) == dt.date(2026, 4, 15)
    assert plans.due_date(interval_days=90, last_contact=None, onboarded=None, as_of=as_of) == as_of


@pytest.mark.parametrize(
    ("day", "period", "reviews"),
    [
        (dt.date(2026, 10, 31), 3, (dt.date(2026, 6, 30), dt.date(2026, 9, 30))),
        (dt.date(2026, 9, 30), 3, (dt.date(2026, 6, 30), dt.date(2026, 9, 30))),
        (dt.date(2026, 9, 29), 3, (dt.date(2026, 3, 31), dt.date(2026, 6, 30))),
        (dt.date(2026, 1, 5), 3, (dt.date(2025, 9, 30), dt.date(2025, 12, 31))),
        (dt.date(2026, 3, 1), 1, (dt.date(2026, 1, 31), dt.date(2026, 2, 28))),
        (dt.date(2026, 10, 31), 6, (dt.date(2025, 12, 31), dt.date(2026, 6, 30))),
    ],
)
def test_the_last_two_reviews(day, period, reviews):
    assert plans.last_reviews(day, period) == reviews
