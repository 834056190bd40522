"""Data quality read from the graph in one query: field completeness of golden customers and of
each source system's records, the identity review backlog and the newest load's refusals.

Field names arrive as a parameter (``$properties``) and are read with ``c[p]``: nothing is
spliced into the text. :func:`report` turns the row into the figures the API and ``c360 dq``
show, so both say the same."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from core.quality import QualityConfig

DATA_QUALITY = """
CALL () {
  MATCH (c:Customer)
  UNWIND $properties AS p
  WITH p, count(*) AS records,
       count(CASE WHEN c[p] IS NOT NULL AND trim(toString(c[p])) <> '' THEN 1 END) AS filled
  RETURN collect({property: p, records: records, filled: filled}) AS golden
}
CALL () {
  MATCH (s:SourceRecord)
  UNWIND $properties AS p
  WITH s.system AS system, p, count(*) AS records,
       count(CASE WHEN s[p] IS NOT NULL AND trim(toString(s[p])) <> '' THEN 1 END) AS filled
  RETURN collect({system: system, property: p, records: records, filled: filled}) AS sources
}
CALL () {
  OPTIONAL MATCH (r:IdentityReview {status: 'OPEN'})
  RETURN count(r) AS review_pairs
}
CALL () {
  OPTIONAL MATCH (run:LoadRun {job: 'load'})
  WHERE run.status IN ['SUCCEEDED', 'SUCCEEDED_WITH_REJECTS']
  WITH run ORDER BY run.started_at DESC LIMIT 1
  OPTIONAL MATCH (s:SourceRecord)-[r:RESOLVED_TO]->(:Customer)
  WHERE s.loaded_at.epochMillis = run.started_at.epochMillis AND r.rule IN ['NATIONAL_ID', 'PROBABILISTIC']
  RETURN run {.run_id, .rejects_by_reason_json, .warnings_by_reason_json} AS last_load,
         count(s) AS merged_last_load
}
CALL () {
  MATCH (c:Customer)
  RETURN count(c) AS customers
}
RETURN customers, golden, sources, review_pairs, last_load, merged_last_load
"""


@dataclass(frozen=True)
class FieldQuality:
    name: str
    completeness: float | None  # None: no records to measure
    by_source: dict[str, float]  # system -> completeness of that system's records


@dataclass(frozen=True)
class QualityReport:
    target: float
    customers: int
    fields: list[FieldQuality]
    overall: float | None  # mean completeness of the fields over golden customers
    review_pairs: int
    merged_last_load: int
    last_load_run: str | None
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    warnings_by_reason: dict[str, int] = field(default_factory=dict)


def _share(filled: int, records: int) -> float | None:
    return round(filled / records, 6) if records else None


def report(row: dict[str, Any] | None, cfg: QualityConfig) -> QualityReport:
    """The figures from :data:`DATA_QUALITY`'s row, fields in the order of quality.toml."""
    row = row or {}
    golden = {g["property"]: g for g in row.get("golden") or []}
    sources: dict[str, dict[str, float]] = {}
    for s in row.get("sources") or []:
        share = _share(int(s["filled"]), int(s["records"]))
        if share is not None:
            sources.setdefault(s["property"], {})[str(s["system"])] = share
    fields = []
    for f in cfg.fields:
        g = golden.get(f.property)
        fields.append(
            FieldQuality(
                name=f.name,
                completeness=_share(int(g["filled"]), int(g["records"])) if g else None,
                by_source=dict(sorted(sources.get(f.property, {}).items())),
            )
        )
    measured = [f.completeness for f in fields if f.completeness is not None]
    last = row.get("last_load") or {}
    return QualityReport(
        target=cfg.target,
        customers=int(row.get("customers") or 0),
        fields=fields,
        overall=round(sum(measured) / len(measured), 6) if measured else None,
        review_pairs=int(row.get("review_pairs") or 0),
        merged_last_load=int(row.get("merged_last_load") or 0),
        last_load_run=last.get("run_id"),
        rejects_by_reason=json.loads(last.get("rejects_by_reason_json") or "{}"),
        warnings_by_reason=json.loads(last.get("warnings_by_reason_json") or "{}"),
    )


def parameters(cfg: QualityConfig) -> dict[str, Any]:
    return {"properties": [f.property for f in cfg.fields]}
