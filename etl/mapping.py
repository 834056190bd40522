"""Source-system mappings: a YAML file per system turns its columns into the canonical entities.

A new source system is a new mapping file, not new code. Per entity a mapping gives the file
name (without extension), column renames, constant defaults, code value maps, and unit factors;
per system the date and datetime formats, the time zone, the list separator and the encoding of
its CSV files (default UTF-8; each but the separator may be overridden per entity).

:func:`apply_mapping` is pure: a raw chunk (all text) in, the typed canonical frame plus the parse
errors per row out. A value that cannot be parsed becomes null and its row gets a
``bad_date``/``wrong_type`` error, so validation can reject the row with the reason.
"""

from __future__ import annotations

import codecs
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from etl.entities import ENTITIES, Entity

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
Errors = dict[int, list[tuple[str, str]]]  # frame index -> [(reason code, message)]


class MappingError(ValueError):
    """A mapping file or an extract does not fit together (a whole-file failure)."""


@dataclass(frozen=True)
class EntityMapping:
    entity: str
    file: str
    columns: dict[str, str]
    defaults: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    units: dict[str, float] = field(default_factory=dict)
    date_format: str = "%Y-%m-%d"
    datetime_format: str = "%Y-%m-%d %H:%M:%S"
    timezone: str = "UTC"
    list_separator: str = "|"
    encoding: str = "utf-8"


@dataclass(frozen=True)
class SystemMapping:
    system: str
    entities: dict[str, EntityMapping]
    source: str = ""  # the YAML text, part of a load's fingerprint


def parse_mapping(text: str, *, system: str | None = None) -> SystemMapping:
    doc = yaml.safe_load(text) or {}
    name = system or doc.get("system")
    if not name:
        raise MappingError("the mapping names no `system`")
    defaults = {
        k: doc[k]
        for k in ("date_format", "datetime_format", "timezone", "list_separator", "encoding")
        if k in doc
    }
    entities = {}
    for entity, spec in (doc.get("entities") or {}).items():
        if entity not in ENTITIES:
            raise MappingError(f"unknown entity {entity!r} (known: {', '.join(ENTITIES)})")
        unknown = set(spec.get("columns", {}).values()) - set(ENTITIES[entity].columns)
        if unknown:
            raise MappingError(f"{entity}: unknown target columns {sorted(unknown)}")
        codes = {
            col: {str(k): str(v) for k, v in values.items()}
            for col, values in (spec.get("codes") or {}).items()
        }
        entities[entity] = EntityMapping(
            entity=entity,
            file=spec.get("file", entity),
            columns={str(k): str(v) for k, v in spec["columns"].items()},
            defaults=spec.get("defaults") or {},
            codes=codes,
            units={k: float(v) for k, v in (spec.get("units") or {}).items()},
            **{
                **defaults,
                **{
                    k: spec[k]
                    for k in ("date_format", "datetime_format", "timezone", "encoding")
                    if k in spec
                },
            },
        )
        _check_encoding(entities[entity])
    return SystemMapping(system=name, entities=entities, source=text)


def _check_encoding(m: EntityMapping) -> None:
    try:
        codecs.lookup(m.encoding)
    except LookupError:
        raise MappingError(f"{m.entity}: unknown encoding {m.encoding!r}") from None


def load_mapping(system: str, path: Path | None = None) -> SystemMapping:
    path = path or MAPPINGS_DIR / f"{system}.yaml"
    if not path.exists():
        raise MappingError(f"no mapping for source system {system!r}: {path} does not exist")
    return parse_mapping(path.read_text(encoding="utf-8"), system=system)


def _add(errors: Errors, mask: pd.Series, code: str, message: str, raw: pd.Series) -> None:
    for idx in mask[mask].index:
        errors.setdefault(idx, []).append((code, f"{message}: {raw.at[idx]!r}"))


def _parse_dates(col: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(col, format=fmt, errors="coerce")


def _to_date(value: Any) -> dt.date | None:
    return None if pd.isna(value) else value.date()


def _parse_list(value: Any, sep: str, factor: float) -> list[float] | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return [round(float(v) * factor, 2) for v in str(value).split(sep)]


def _blank(v: Any) -> Any:
    """A cell with its spaces stripped; empty and missing cells are None."""
    if isinstance(v, str):
        return v.strip() or None
    return None if v is None or v is pd.NA or v != v else v


def apply_mapping(raw: pd.DataFrame, m: EntityMapping) -> tuple[pd.DataFrame, Errors]:
    """Rename, default, decode, parse and scale one raw chunk; return it with parse errors."""
    entity: Entity = ENTITIES[m.entity]
    missing = [c for c in m.columns if c not in raw.columns]
    if missing:
        raise MappingError(f"{m.entity}: the extract lacks the mapped columns {missing}")
    frame = pd.DataFrame(
        {
            canonical: pd.Series([_blank(v) for v in raw[col].tolist()], raw.index, object)
            for col, canonical in m.columns.items()
        },
        index=raw.index,
    )
    for col in entity.columns:
        if col not in frame.columns:
            frame[col] = m.defaults.get(col)
    frame = frame[list(entity.columns)]
    for col, values in m.codes.items():
        frame[col] = frame[col].map(lambda v, values=values: values.get(v, v) if v else v)
    errors: Errors = {}
    for cols, fmt, code, kind in (
        (entity.dates, m.date_format, "bad_date", "date"),
        (entity.datetimes, m.datetime_format, "bad_date", "datetime"),
    ):
        for col in cols:
            parsed = _parse_dates(frame[col], fmt)
            _add(
                errors,
                parsed.isna() & frame[col].notna(),
                code,
                f"{col} is not a {kind} ({fmt})",
                frame[col],
            )
            if kind == "date":
                frame[col] = pd.Series(
                    [_to_date(v) for v in parsed], index=frame.index, dtype=object
                )
            else:
                utc = parsed.dt.tz_localize(
                    m.timezone, ambiguous="NaT", nonexistent="NaT"
                ).dt.tz_convert("UTC")
                frame[col] = pd.Series(
                    [None if pd.isna(v) else v.to_pydatetime() for v in utc],
                    index=frame.index,
                    dtype=object,
                )
    for col in (*entity.floats, *entity.ints):
        parsed = pd.to_numeric(frame[col], errors="coerce")
        _add(
            errors,
            parsed.isna() & frame[col].notna(),
            "wrong_type",
            f"{col} is not a number",
            frame[col],
        )
        if col in entity.ints:
            whole = parsed.notna() & (parsed % 1 != 0)
            _add(errors, whole, "wrong_type", f"{col} is not a whole number", frame[col])
        parsed = parsed * m.units.get(col, 1.0)
        frame[col] = parsed.round(2).astype(object).where(parsed.notna(), None)
        if col in entity.ints:
            frame[col] = frame[col].map(lambda v: None if v is None else int(v))
    for col in entity.float_lists:
        lists: list[list[float] | None] = []
        for idx, v in frame[col].items():
            try:
                lists.append(_parse_list(v, m.list_separator, m.units.get(col, 1.0)))
            except ValueError:
                errors.setdefault(idx, []).append(
                    ("wrong_type", f"{col} is not a list of numbers: {v!r}")
                )
                lists.append(None)
        frame[col] = pd.Series(lists, index=frame.index, dtype=object)
    return frame.astype(object).where(frame.notna(), None), errors
