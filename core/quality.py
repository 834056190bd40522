"""What data completeness means for this bank: the fields that count and the target (quality.toml).

Read by the API's ``dataQuality`` and by ``c360 dq``; the figures themselves come from the graph
(graph/queries/quality.py)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

QUALITY_CONFIG = Path(__file__).resolve().parent / "quality.toml"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class QualityField:
    name: str  # as data engineers call it (the mapping's canonical name)
    property: str  # as stored on Customer and SourceRecord


@dataclass(frozen=True)
class QualityConfig:
    target: float
    fields: tuple[QualityField, ...]


@cache
def quality_config(path: Path = QUALITY_CONFIG) -> QualityConfig:
    """The fields and the target; a malformed file is refused naming the file and the entry."""
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    target = data.get("target")
    if not isinstance(target, int | float) or not 0 < float(target) <= 1:
        raise ValueError(f"{path}: target must be a share between 0 and 1, got {target!r}")
    fields = []
    for i, entry in enumerate(data.get("fields") or []):
        name = entry.get("name")
        prop = entry.get("property", name)
        for label, value in (("name", name), ("property", prop)):
            if not isinstance(value, str) or not _NAME.match(value):
                raise ValueError(f"{path}: fields[{i}].{label} must be a snake_case name")
        fields.append(QualityField(name, prop))
    if not fields:
        raise ValueError(f"{path}: no [[fields]] listed")
    return QualityConfig(float(target), tuple(fields))
