"""Alerts for relationship managers: the kinds, their configuration and their ids.

An alert is computed from the graph as of a date (graph/queries/alerts.py), never stored; only
its dismissal is. Its id is stable for as long as the thing it is about does not change:
``KIND:customer_id:subject``, the subject naming what it is about and when (an account and its
maturity date, a birthday's date, a tier change's date and tiers, a scoring run's date and
levels, a complaint and its due time). The same deposit maturing on the same day is the same
alert today and next week, so a dismissal holds; a new maturity date is a new alert.

The windows and product types live in ``core/alerts.toml``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from core.products import PRODUCT_TYPES

ALERTS_CONFIG = Path(__file__).resolve().parent / "alerts.toml"
MAX_ID_LENGTH = 400


class AlertKind(StrEnum):
    TIME_DEPOSIT_MATURING = "TIME_DEPOSIT_MATURING"
    WEALTH_MATURING = "WEALTH_MATURING"
    LOAN_MATURING = "LOAN_MATURING"
    BIRTHDAY = "BIRTHDAY"
    TIER_CHANGED = "TIER_CHANGED"
    DOWNGRADE_RISK_RAISED = "DOWNGRADE_RISK_RAISED"
    CHURN_RISK_RAISED = "CHURN_RISK_RAISED"
    COMPLAINT_AT_RISK = "COMPLAINT_AT_RISK"


MATURITY_KINDS = (
    AlertKind.TIME_DEPOSIT_MATURING,
    AlertKind.WEALTH_MATURING,
    AlertKind.LOAN_MATURING,
)
# Risk levels in rank order: a level "raised" is one of higher rank than the previous run's.
RISK_RANK = {"NONE": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3}


@dataclass(frozen=True)
class Maturity:
    kind: AlertKind
    product_types: tuple[str, ...]
    windows: tuple[int, ...]  # ascending; the last is how far ahead the alert is shown


@dataclass(frozen=True)
class AlertConfig:
    urgency: tuple[AlertKind, ...]
    maturities: tuple[Maturity, ...]
    birthday_days: int
    tier_review_days: int

    def urgency_rank(self) -> dict[str, int]:
        return {kind.value: n for n, kind in enumerate(self.urgency)}


def _days(path: Path, name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{path}: {name} must be a whole number of days >= 0, not {value!r}")
    return value


def parse_config(data: dict[str, Any], path: Path = ALERTS_CONFIG) -> AlertConfig:
    """The configuration, checked: every error names the file and the field."""
    kinds = {k.value for k in AlertKind}
    urgency = data.get("urgency")
    if not isinstance(urgency, list) or sorted(urgency) != sorted(kinds):
        raise ValueError(f"{path}: urgency must list each alert kind once ({', '.join(kinds)})")
    maturities = []
    for name, entry in (data.get("maturity") or {}).items():
        if name not in {k.value for k in MATURITY_KINDS}:
            raise ValueError(
                f"{path}: [maturity.{name}] is not a maturity alert "
                f"({', '.join(k.value for k in MATURITY_KINDS)})"
            )
        types = entry.get("product_types")
        unknown = sorted(set(types or ()) - set(PRODUCT_TYPES))
        if not types or unknown:
            raise ValueError(
                f"{path}: maturity.{name}.product_types must be product types "
                f"({', '.join(PRODUCT_TYPES)}); unknown: {unknown}"
            )
        windows = [_days(path, f"maturity.{name}.windows", w) for w in entry.get("windows") or ()]
        if not windows:
            raise ValueError(f"{path}: maturity.{name}.windows must name at least one window")
        maturities.append(Maturity(AlertKind(name), tuple(types), tuple(sorted(windows))))
    return AlertConfig(
        urgency=tuple(AlertKind(k) for k in urgency),
        maturities=tuple(maturities),
        birthday_days=_days(path, "birthday.days", (data.get("birthday") or {}).get("days")),
        tier_review_days=_days(
            path, "tier_change.review_days", (data.get("tier_change") or {}).get("review_days")
        ),
    )


@cache
def load_config(path: Path = ALERTS_CONFIG) -> AlertConfig:
    with Path(path).open("rb") as fh:
        return parse_config(tomllib.load(fh), Path(path))


def alert_id(kind: str, customer_id: str, subject: str) -> str:
    """The id graph/queries/alerts.py builds (kept here to read ids back)."""
    return f"{kind}:{customer_id}:{subject}"


def parse_alert_id(text: str) -> tuple[AlertKind, list[str]] | None:
    """The kind of an alert id and the customer ids it may name (a customer id may itself hold
    a colon: every prefix of the rest up to a colon), or None when it is not an alert id."""
    if not text or len(text) > MAX_ID_LENGTH:
        return None
    kind, sep, rest = text.partition(":")
    if not sep or kind not in AlertKind.__members__ or ":" not in rest:
        return None
    parts = rest.split(":")
    candidates = [":".join(parts[:n]) for n in range(1, len(parts))]
    return AlertKind(kind), [c for c in candidates if c]
