"""The management KPIs: their definitions and targets (kpis.toml) and the arithmetic from the
graph's counts (graph/queries/kpis.py) to figures. Pure: no I/O but reading the config.

A target is absolute (``target``: a floor or a ceiling), taken from another config file
(``target_from``: the follow-up coverage target lives in core/followups.toml, once), or relative
to the previous period (``target_change_pct``: met when the value is at least that many per cent
above the previous period's, for ``better = "higher"``; below it for "lower")."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from core import followups
from core.periods import Period

KPI_CONFIG = Path(__file__).resolve().parent / "kpis.toml"
UNITS = ("pct", "hours", "count", "cny", "ratio")
BETTER = ("higher", "lower", "none")
MONTHS_PER_DAY = 12 / 365.0


def _followup_coverage_target() -> float:
    return round(100.0 * followups.load().target, 2)


# target_from: where a target kept in another config file is read (in the KPI's unit)
TARGET_SOURCES = {"core/followups.toml coverage.target": _followup_coverage_target}


@dataclass(frozen=True)
class KpiDefinition:
    code: str
    unit: str
    better: str
    target: float | None
    live: bool  # as of now / the last scoring run, not per period
    definition: str
    # relative target: the value must beat the previous period's by this many per cent
    target_change_pct: float | None = None

    def met(self, value: float | None, previous: float | None = None) -> bool | None:
        """Whether ``value`` meets the target; a relative target needs the previous period's
        value (None without it, or when it is 0 or missing: no base to grow from)."""
        if value is None or self.better == "none":
            return None
        target = self.target
        if self.target_change_pct is not None:
            if not previous:
                return None
            sign = 1 if self.better == "higher" else -1
            target = previous * (1 + sign * self.target_change_pct / 100.0)
        if target is None:
            return None
        return value >= target if self.better == "higher" else value <= target


@cache
def definitions(path: Path = KPI_CONFIG) -> dict[str, KpiDefinition]:
    """Every KPI in the file's order; a malformed entry is refused naming the file and code."""
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    out: dict[str, KpiDefinition] = {}
    for code, entry in data.items():
        unit, better = entry.get("unit"), entry.get("better", "none")
        if unit not in UNITS:
            raise ValueError(f"{path}: {code}.unit must be one of {', '.join(UNITS)}")
        if better not in BETTER:
            raise ValueError(f"{path}: {code}.better must be one of {', '.join(BETTER)}")
        target, source = entry.get("target"), entry.get("target_from")
        change = entry.get("target_change_pct")
        if source is not None:
            if source not in TARGET_SOURCES:
                raise ValueError(
                    f"{path}: {code}.target_from must be one of {', '.join(TARGET_SOURCES)}"
                )
            if target is not None:
                raise ValueError(f"{path}: {code}: give target or target_from, not both")
            target = TARGET_SOURCES[source]()
        if change is not None and (
            isinstance(change, bool) or not isinstance(change, int | float) or change <= 0
        ):
            raise ValueError(f"{path}: {code}.target_change_pct must be a number > 0")
        if change is not None and target is not None:
            raise ValueError(f"{path}: {code}: give an absolute or a relative target, not both")
        if (target is None and change is None) != (better == "none"):
            raise ValueError(
                f"{path}: {code} needs a target (target, target_from or target_change_pct) "
                "exactly when better is not 'none'"
            )
        if not entry.get("definition"):
            raise ValueError(f"{path}: {code}.definition is missing")
        out[code] = KpiDefinition(
            code,
            unit,
            better,
            None if target is None else float(target),
            bool(entry.get("live", False)),
            str(entry["definition"]),
            None if change is None else float(change),
        )
    return out


PERSONALISED = "PERSONALISED_SERVICES_PER_CORE_CUSTOMER_YEAR"


@cache
def personalised_service_kinds(path: Path = KPI_CONFIG) -> tuple[str, ...]:
    """The interaction kinds that make a personalised service (``kinds`` of the KPI's entry),
    when handled by a named employee; refused naming the file when missing or not codes."""
    with path.open("rb") as fh:
        kinds = tomllib.load(fh).get(PERSONALISED, {}).get("kinds")
    if (
        not isinstance(kinds, list)
        or not kinds
        or not all(isinstance(k, str) and followups.CODE.fullmatch(k) for k in kinds)
    ):
        raise ValueError(f"{path}: {PERSONALISED}.kinds must be a list of upper-case codes")
    return tuple(kinds)


def _pct(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def _round(value: Any, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


def figures(counts: Mapping[str, Any], period: Period) -> dict[str, float | None]:
    """Each KPI's value from one period's counts (a row of graph/queries/kpis.KPI_COUNTS)."""
    c = counts
    annual = 365.0 / period.days

    def churn(left: int, at_start: int) -> float | None:
        rate = _pct(left, at_start)
        return None if rate is None else round(rate * annual, 2)

    completeness = c.get("completeness") or []
    customers = int(c.get("customers") or 0)
    # filled fields over customers × fields, in whole numbers: a sum of per-field shares followed
    # the order the fields came in, and a snapshot and a live count of one group differed
    fields = len(completeness) if customers else 0
    filled = sum(int(f["filled"]) for f in completeness)
    return {
        "COMPLAINTS_OPENED": float(c["complaints"]),
        "FIRST_RESPONSE_24H_PCT": _pct(c["responded_in_time"], c["response_counted"]),
        "AVERAGE_HANDLING_HOURS": _round(c["handling_avg"]) if c["handled"] else None,
        "P90_HANDLING_HOURS": _round(c["handling_p90"]) if c["handled"] else None,
        "MAJOR_WITHIN_4H_PCT": _pct(c["major_in_time"], c["major_counted"]),
        "CSAT_PCT": _pct(c["csat_good"], c["csat_n"]),
        "CSAT_PCT_CORE": _pct(c["core_csat_good"], c["core_csat_n"]),
        "CSAT_AVERAGE": _round(c["csat_avg"]) if c["csat_n"] else None,
        "NPS": (
            round(100.0 * (c["promoters"] - c["detractors"]) / c["nps_n"], 2)
            if c["nps_n"]
            else None
        ),
        "CHURN_RATE_PCT": churn(c["left"], c["at_start"]),
        "CHURN_RATE_HIGH_VALUE_PCT": churn(c["high_value_left"], c["high_value_at_start"]),
        "CHURN_RATE_CORE_PCT": churn(c["core_left"], c["core_at_start"]),
        "TIER_UPGRADES": float(c["upgrades"]),
        "TIER_DOWNGRADES": float(c["downgrades"]),
        "TIER_DOWNGRADES_CORE": float(c["downgrades_core"]),
        "TIER_DOWNGRADES_KEY": float(c["downgrades_key"]),
        "DOWNGRADE_RISK_CUSTOMERS": float(c["risk_customers"]),
        "AUM_AT_RISK": _round(c["aum_at_risk"]),
        "DATA_COMPLETENESS_PCT": _pct(filled, customers * fields),
        "FOLLOW_UP_COVERAGE_CORE_PCT": _pct(c["core_covered"], c["core_planned"]),
        "FOLLOW_UP_COVERAGE_KEY_PCT": _pct(c["key_covered"], c["key_planned"]),
        "FOLLOW_UPS_PER_CORE_CUSTOMER_MONTH": (
            round(c["core_contacts"] / c["core_customers"] / (period.days * MONTHS_PER_DAY), 2)
            if c["core_customers"]
            else None
        ),
        PERSONALISED: (
            round(c["core_services"] / c["core_customers"] * annual, 2)
            if c["core_customers"]
            else None
        ),
        "RECOMMENDATION_CONVERSION_PCT": _pct(
            c["recommendations_converted"], c["recommendations_open"]
        ),
    }
