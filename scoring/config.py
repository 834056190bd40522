"""The scoring configuration: scoring.toml (documented there), read once into typed objects."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = Path(__file__).resolve().parent / "scoring.toml"
TIERS = ("CORE", "KEY", "ORDINARY")  # highest first
RISK_LEVELS = ("NONE", "LOW", "MEDIUM", "HIGH")


@dataclass(frozen=True)
class ScoringConfig:
    raw: dict[str, Any]

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.raw[section]

    @property
    def asset_types(self) -> frozenset[str]:
        return frozenset(self.raw["aum"]["asset_types"])

    @property
    def liability_types(self) -> frozenset[str]:
        return frozenset(self.raw["aum"]["liability_types"])

    def floor(self, tier: str) -> float:
        return float(self.raw["tier"]["floors"][tier])

    @property
    def reporting_currency(self) -> str:
        """The currency of AUM, tier floors and every amount of the configuration."""
        return str(self.raw["money"]["reporting_currency"])

    @property
    def negative_allowed(self) -> frozenset[str]:
        return frozenset(self.raw["money"]["negative_allowed"])


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = _merge(base[key], value)
        else:
            out[key] = value
    return out


def _check_months(value: Any, key: str, source: Path) -> None:
    """A list of month counts (``[3, 6]``): a bare number would fail only mid-run."""
    if not (
        isinstance(value, list)
        and value
        and all(isinstance(m, int) and not isinstance(m, bool) and m > 0 for m in value)
    ):
        raise ValueError(
            f"{source}: {key} must be a non-empty list of whole months above 0 "
            f"(such as [3, 6]), not {value!r}"
        )


def load_config(path: Path | None = None) -> ScoringConfig:
    """The defaults, overridden by ``path`` where it sets a key."""
    raw = tomllib.loads(DEFAULT_CONFIG.read_text())
    source = DEFAULT_CONFIG
    if path is not None and path != DEFAULT_CONFIG:
        source = Path(path)
        raw = _merge(raw, tomllib.loads(source.read_text()))
    _check_months(raw["churn"]["decline_months"], "churn.decline_months", source)
    currency = raw["money"]["reporting_currency"]
    if not (
        isinstance(currency, str)
        and len(currency) == 3
        and currency.isalpha()
        and currency.isupper()
    ):
        raise ValueError(f"money.reporting_currency must be an ISO 4217 code, not {currency!r}")
    weights = raw["value"]["weights"]
    if abs(sum(weights.values()) - 1.0) > 1e-6:
        raise ValueError(f"value.weights must add up to 1.0, not {sum(weights.values()):.3f}")
    return ScoringConfig(raw)
