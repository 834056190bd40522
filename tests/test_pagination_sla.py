from __future__ import annotations

import datetime as dt

import pytest

from core.errors import BadUserInput
from core.settings import Settings
from core.sla import SlaStatus, SlaTargets, sla_status
from resolvers.pagination import DEFAULT_PAGE, page_size


@pytest.mark.parametrize("maximum", [50, 100])
def test_page_size_bounds(maximum):
    settings = Settings(max_page_size=maximum)
    assert page_size(settings, None) == DEFAULT_PAGE
    assert page_size(settings, maximum) == maximum
    for bad in (0, -1, maximum + 1):
        with pytest.raises(BadUserInput, match="^first must be between 1 and"):
            page_size(settings, bad)


T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("severity", "first", "resolved", "now", "expected"),
    [
        ("MINOR", None, None, T0 + 2 * H, SlaStatus.ON_TRACK),
        ("MINOR", None, None, T0 + 13 * H, SlaStatus.RESOLUTION_BREACHED),
        ("MAJOR", None, None, T0 + 5 * H, SlaStatus.RESOLUTION_BREACHED),
        ("MINOR", T0 + 1 * H, T0 + 11 * H, T0 + 30 * H, SlaStatus.MET),
        ("MINOR", T0 + 1 * H, T0 + 13 * H, T0 + 30 * H, SlaStatus.BREACHED),
        ("MAJOR", T0 + 1 * H, T0 + 3 * H, T0 + 30 * H, SlaStatus.MET),
        ("MAJOR", T0 + 1 * H, T0 + 5 * H, T0 + 30 * H, SlaStatus.BREACHED),
        ("MINOR", None, T0 + 2 * H, T0 + 30 * H, SlaStatus.MET),  # resolving answers too
    ],
)
def test_sla_status(severity, first, resolved, now, expected):
    got = sla_status(
        opened_at=T0,
        severity=severity,
        first_response_at=first,
        resolved_at=resolved,
        now=now,
        targets=SlaTargets(),
    )
    assert got is expected


def test_response_breach_with_a_long_resolution_target():
    targets = SlaTargets(first_response=dt.timedelta(hours=2), resolution=dt.timedelta(hours=48))
    got = sla_status(
        opened_at=T0,
        severity="MINOR",
        first_response_at=None,
        resolved_at=None,
        now=T0 + 3 * H,
        targets=targets,
    )
    assert got is SlaStatus.RESPONSE_BREACHED
