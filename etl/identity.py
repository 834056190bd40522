"""Identity resolution: its configuration, the golden ids and the golden records (pure, no driver).

Which records are one person is decided by the linkage model (etl/linkage*.py: Splink's
Fellegi-Sunter model on DuckDB, configured in etl/mappings/identity.yaml); etl/spill.py runs it
over a load. What is decided here:

1. **Rules of a link** (``RESOLVED_TO.rule``): ``NATIONAL_ID`` (equal national-ID hash of one type:
   always merged), ``PROBABILISTIC`` (match probability at or above the ``link`` threshold),
   ``ANCHOR`` (the record a new customer's id comes from), ``SINGLETON`` (linked to no other
   record), ``STEWARD`` (a data steward's decision, written by the API). Two records whose
   national-ID hashes of a type in ``national_id_veto`` differ are never merged.
2. **Golden id**, stable across re-runs and resumes (:func:`customer_id_for`): a record already
   resolved in the graph keeps its customer, and a new record joins the customer of the resolved
   records it links to; a cluster of new records only takes ``C-<source_id>`` of its anchor when
   the anchor is from the first system of ``system_priority`` (the core CIF number), else
   ``C-<system>-<source_id>``. The anchor is the record of the highest-priority system with the
   smallest source id.
3. **Survivorship** (:func:`golden_records`): per field the first non-empty value in system
   priority order, except the ``recent`` fields (phone, email, address, city: the most recently
   updated non-empty value wins, so a move is picked up) and per-field orders (occupation: CRM first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import yaml

from etl.mapping import MAPPINGS_DIR
from graph.model import GOLDEN_CUSTOMER_FIELDS

RULES = ("SINGLETON", "NATIONAL_ID", "PROBABILISTIC", "ANCHOR", "STEWARD")


class IdentityConfigError(ValueError):
    """identity.yaml is not usable; the message names the file and the key."""


@dataclass(frozen=True)
class Thresholds:
    """Match probabilities: ``link`` merges, ``review`` lists the pair for a steward,
    below ``separate`` two records are never in one customer (not even through others)."""

    link: float = 0.9
    review: float = 0.5
    separate: float = 0.001


@dataclass(frozen=True)
class ModelOptions:
    file: str = "er-model.json"
    min_training_records: int = 1000
    max_training_records: int = 250_000
    u_max_pairs: float = 5e6
    seed: int = 42
    em_blocks: tuple[str, ...] = ()
    prior_rules: tuple[str, ...] = ()
    prior_recall: float = 0.8
    m_floor: float = 0.001


@dataclass(frozen=True)
class IdentityConfig:
    system_priority: tuple[str, ...] = ("core", "card", "crm")
    dedupe_default: bool = True
    dedupe_systems: dict[str, bool] = field(default_factory=dict)
    thresholds: Thresholds = Thresholds()
    national_id_veto: tuple[str, ...] = ("CN_RESIDENT",)
    blocking_rules: tuple[str, ...] = ()
    comparisons: tuple[dict[str, Any], ...] = ()
    model: ModelOptions = ModelOptions()
    memory_limit: str = "1GB"
    threads: int = 2
    recent_fields: tuple[str, ...] = ("phone", "email", "address", "city")
    field_priority: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def rank(self, system: str) -> int:
        p = self.system_priority
        return p.index(system) if system in p else len(p)

    def dedupes(self, system: str) -> bool:
        """Whether the records of ``system`` are compared with each other."""
        return self.dedupe_systems.get(system, self.dedupe_default)


def load_identity_config(path: Path | None = None) -> IdentityConfig:
    path = path or MAPPINGS_DIR / "identity.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        surv = doc.get("survivorship") or {}
        dedupe = dict(doc.get("dedupe_within_system") or {})
        th = doc.get("thresholds") or {}
        thresholds = Thresholds(
            link=float(th.get("link", 0.9)),
            review=float(th.get("review", 0.5)),
            separate=float(th.get("separate", 0.001)),
        )
        if not 0 <= thresholds.separate <= thresholds.review <= thresholds.link <= 1:
            raise IdentityConfigError(
                f"{path}: thresholds must be 0 <= separate <= review <= link <= 1, got {th}"
            )
        m = doc.get("model") or {}
        model = ModelOptions(
            file=str(m.get("file", "er-model.json")),
            min_training_records=int(m.get("min_training_records", 1000)),
            max_training_records=int(m.get("max_training_records", 250_000)),
            u_max_pairs=float(m.get("u_max_pairs", 5e6)),
            seed=int(m.get("seed", 42)),
            em_blocks=tuple(m.get("em_blocks") or ()),
            prior_rules=tuple(m.get("prior_rules") or ()),
            prior_recall=float(m.get("prior_recall", 0.8)),
            m_floor=float(m.get("m_floor", 0.001)),
        )
        duck = doc.get("duckdb") or {}
        comparisons = tuple(dict(c) for c in doc.get("comparisons") or ())
        for c in comparisons:
            if "name" not in c or "kind" not in c:
                raise IdentityConfigError(f"{path}: comparisons: each needs a name and a kind: {c}")
        return IdentityConfig(
            system_priority=tuple(doc["system_priority"]),
            dedupe_default=bool(dedupe.pop("default", True)),
            dedupe_systems={str(k): bool(v) for k, v in dedupe.items()},
            thresholds=thresholds,
            national_id_veto=tuple(doc.get("national_id_veto") or ()),
            blocking_rules=tuple(str(r) for r in doc.get("blocking_rules") or ()),
            comparisons=comparisons,
            model=model,
            memory_limit=str(duck.get("memory_limit", "1GB")),
            threads=int(duck.get("threads", 2)),
            recent_fields=tuple(surv.get("recent", ())),
            field_priority={k: tuple(v) for k, v in (surv.get("fields") or {}).items()},
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, IdentityConfigError):
            raise
        raise IdentityConfigError(f"{path}: {type(exc).__name__}: {exc}") from None


class Link(NamedTuple):
    """How a record joined its customer: the ``RESOLVED_TO`` properties."""

    rule: str
    confidence: float
    match_weight: float | None = None
    comparisons_json: str | None = None


def customer_id_for(
    anchor_system: str, anchor_source_id: str, known: list[str], cfg: IdentityConfig
) -> str:
    """The golden id of a cluster: the customer its resolved records already have (one at most:
    etl/linkage.py never joins two), else one made from its anchor record."""
    if known:
        return min(known)
    if anchor_system == cfg.system_priority[0]:
        return f"C-{anchor_source_id}"
    return f"C-{anchor_system}-{anchor_source_id}"


# the stored fields survivorship chooses (graph/model.py); of the loaded fields not among them,
# ``updated_at`` is the latest of the cluster
GOLDEN_FIELDS = GOLDEN_CUSTOMER_FIELDS


def golden_records(records: pd.DataFrame, cfg: IdentityConfig) -> pd.DataFrame:
    """One row per ``customer_id`` by the survivorship rules (module docstring, point 5).

    ``records`` has columns customer_id, system, updated_at and the :data:`GOLDEN_FIELDS`
    (normalised: phone as 11 digits, no raw national ID). Returns customer_id, the fields and
    updated_at (the latest of the cluster)."""
    frame = records.copy()
    frame["_rank"] = frame["system"].map(cfg.rank)
    frame["_updated"] = pd.to_datetime(frame["updated_at"], utc=True)
    out = pd.DataFrame(index=pd.Index(sorted(frame["customer_id"].unique()), name="customer_id"))
    by_rank = frame.sort_values(["customer_id", "_rank", "_updated"], ascending=[True, True, False])
    by_recent = frame.sort_values(
        ["customer_id", "_updated", "_rank"], ascending=[True, False, True]
    )
    # the fields that survive by the same ordering are taken in one groupby (first non-null)
    orderings: dict[str | tuple[str, ...], list[str]] = {}
    for col in GOLDEN_FIELDS:
        if col in cfg.recent_fields:
            orderings.setdefault("recent", []).append(col)
        elif col in cfg.field_priority:
            orderings.setdefault(cfg.field_priority[col], []).append(col)
        else:
            orderings.setdefault("rank", []).append(col)
    for how, cols in orderings.items():
        if how == "recent":
            source = by_recent
        elif how == "rank":
            source = by_rank
        else:
            order = {system: k for k, system in enumerate(how)}
            source = frame.assign(_r=frame["system"].map(lambda s, order=order: order.get(s, 99)))
            source = source.sort_values(
                ["customer_id", "_r", "_updated"], ascending=[True, True, False]
            )
        firsts = source.groupby("customer_id", sort=True)[cols].first()
        for col in cols:
            out[col] = firsts[col]
    out = out[list(GOLDEN_FIELDS)]
    out["updated_at"] = frame.groupby("customer_id")["_updated"].max()
    out = out.astype(object).where(out.notna(), None)
    return out.reset_index()
