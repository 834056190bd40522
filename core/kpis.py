"""The management KPIs: their definitions and targets (kpis.toml) and the arithmetic from the
graph's counts (graph/queries/kpis.py) to figures. Pure: no I/O but reading the config."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from core.periods import Period

KPI_CONFIG = Path(__file__).resolve().parent / "kpis.toml"
UNITS = ("pct", "hours", "count", "cny", "ratio")
BETTER = ("higher", "lower", "none")


@dataclass(frozen=True)
class KpiDefinition:
    code: str
    unit: str
    better: str
    target: float | None
    live: bool  # as of now / the last scoring run, not per period
    definition: str

    def met(self, value: float | None) -> bool | None:
        if value is None or self.target is None or self.better == "none":
            return None
        return value >= self.target if self.better == "higher" else value <= self.target


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
        target = entry.get("target")
        if (target is None) != (better == "none"):
            raise ValueError(f"{path}: {code} needs a target exactly when better is not 'none'")
        if not entry.get("definition"):
            raise ValueError(f"{path}: {code}.definition is missing")
        out[code] = KpiDefinition(
            code,
            unit,
            better,
            None if target is None else float(target),
            bool(entry.get("live", False)),
            str(entry["definition"]),
        )
    return out


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
    shares = [int(f["filled"]) / customers for f in completeness] if customers else []
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
        "DATA_COMPLETENESS_PCT": round(100.0 * sum(shares) / len(shares), 2) if shares else None,
    }
