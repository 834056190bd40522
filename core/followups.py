"""Follow-up plans by tier (core/followups.toml): how often each tier is contacted, which
interactions count as a contact, and the coverage target.

Pure configuration and date arithmetic: the due list and the coverage are computed in the graph
(graph/queries/followups.py) from the values read here, so the rule lives in one place.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

CONFIG = Path(__file__).resolve().parent / "followups.toml"
TIERS = ("CORE", "KEY", "ORDINARY")
CODE = re.compile(r"[A-Z][A-Z_]{1,30}")


class FollowUpConfigError(ValueError):
    """core/followups.toml is missing a value or has one of the wrong kind (names the field)."""


@dataclass(frozen=True)
class FollowUpConfig:
    intervals: dict[str, int]  # tier -> days between contacts; tiers without a plan absent
    contact_kinds: tuple[str, ...]
    contact_channels: tuple[str, ...]
    never_kinds: tuple[str, ...]
    upcoming_days: int
    target: float

    @property
    def planned_tiers(self) -> list[str]:
        return [t for t in TIERS if t in self.intervals]

    def counts(self, *, kind: str | None, channel: str | None) -> bool:
        """Whether an interaction of this kind and channel is a plan contact."""
        if kind in self.never_kinds:
            return False
        return kind in self.contact_kinds or channel in self.contact_channels

    def params(self) -> dict[str, Any]:
        """The query parameters of graph/queries/followups.py."""
        return {
            "intervals": dict(self.intervals),
            "planned_tiers": self.planned_tiers,
            "contact_kinds": list(self.contact_kinds),
            "contact_channels": list(self.contact_channels),
            "never_kinds": list(self.never_kinds),
        }


def due_date(
    *, interval_days: int, last_contact: dt.date | None, onboarded: dt.date | None, as_of: dt.date
) -> dt.date:
    """When the next contact is due: one interval after the last contact; never contacted, one
    interval after onboarding; without either, the as-of date itself (due now). The graph query
    computes the same (tests/test_followups.py holds the two together)."""
    start = last_contact or onboarded
    return as_of if start is None else start + dt.timedelta(days=interval_days)


def _codes(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(
        isinstance(v, str) and CODE.fullmatch(v) for v in value
    ):
        raise FollowUpConfigError(f"{where} must be a list of upper-case codes, got {value!r}")
    return tuple(value)


def _positive_int(where: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise FollowUpConfigError(f"{where} must be a whole number of days >= 0, got {value!r}")
    return value


def parse(data: dict[str, Any], source: str = "core/followups.toml") -> FollowUpConfig:
    """The configuration from the parsed TOML; FollowUpConfigError names the field at fault."""
    plans = data.get("plans")
    if not isinstance(plans, dict):
        raise FollowUpConfigError(f"{source}: [plans.<TIER>] tables are required")
    intervals: dict[str, int] = {}
    for tier, plan in plans.items():
        if tier not in TIERS:
            raise FollowUpConfigError(f"{source}: [plans.{tier}]: not a tier ({', '.join(TIERS)})")
        if not isinstance(plan, dict):
            raise FollowUpConfigError(f"{source}: plans.{tier} must be a table")
        if "interval_days" in plan:
            days = _positive_int(f"{source}: plans.{tier}.interval_days", plan["interval_days"])
            if days == 0:
                raise FollowUpConfigError(
                    f"{source}: plans.{tier}.interval_days must be at least 1 (leave it out for "
                    "a tier without a plan)"
                )
            intervals[tier] = days
    contacts = data.get("contacts") or {}
    target = (data.get("coverage") or {}).get("target")
    if not isinstance(target, int | float) or isinstance(target, bool) or not 0 < target <= 1:
        raise FollowUpConfigError(
            f"{source}: coverage.target must be a share in (0, 1], got {target!r}"
        )
    return FollowUpConfig(
        intervals=intervals,
        contact_kinds=_codes(f"{source}: contacts.kinds", contacts.get("kinds", [])),
        contact_channels=_codes(f"{source}: contacts.channels", contacts.get("channels", [])),
        never_kinds=_codes(f"{source}: contacts.never", contacts.get("never", [])),
        upcoming_days=_positive_int(
            f"{source}: due.upcoming_days", (data.get("due") or {}).get("upcoming_days", 0)
        ),
        target=float(target),
    )


@lru_cache(maxsize=4)
def load(path: Path = CONFIG) -> FollowUpConfig:
    return parse(tomllib.loads(Path(path).read_text(encoding="utf-8")), str(path))


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def last_reviews(day: dt.date, period_months: int) -> tuple[dt.date, dt.date]:
    """The last two tier reviews on or before ``day`` (period ends: quarter ends for 3 months,
    as scoring.rules.is_evaluation_date has them), earlier first."""
    year, month = day.year, day.month
    ends: list[dt.date] = []
    while len(ends) < 2:
        if month % period_months == 0 and _month_end(year, month) <= day:
            ends.append(_month_end(year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return ends[1], ends[0]
