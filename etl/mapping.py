"""Source-system mappings: a YAML file per system turns its extracts into the canonical entities.

A new source system is a new mapping file, not new code. A mapping declares, per system:

- how its files are read (``read:``, overridden per file under ``files:``): delimiter (or
  ``auto``: DuckDB's sniffer decides), encoding, quote, header or ``names``, rows to skip,
  decimal comma (:class:`ReadOptions`);
- small reference tables written in the mapping itself (``reference:``), queried like files;
- per entity, one of two forms:

  * the **simple form**: the file name (without extension), column renames, constant
    ``defaults``, ``codes`` value maps and ``units`` factors;
  * the **SQL form**: ``sql:`` a ``SELECT`` over the system's files (each one a view named after
    the file) and reference tables, producing canonical column names: computed columns, ``CASE``,
    date arithmetic, joins and lookups, ``UNION ALL`` of several files (etl/engine.py runs it on
    DuckDB). ``defaults``, ``codes`` and ``units`` apply to its output as to a file's columns.

- the date and datetime formats, the time zone and the list separator text is parsed with.

:func:`apply_mapping` is pure: a raw chunk in (a file's text, or a query's output, whose values
may be typed: a DATE stays a date, a DOUBLE a number), the typed canonical frame plus the parse
errors per row out. Text that cannot be parsed becomes null and its row gets a
``bad_date``/``wrong_type`` error, so validation can reject the row with the reason.
"""

from __future__ import annotations

import codecs
import dataclasses
import datetime as dt
import functools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from etl.entities import ENTITIES, Entity

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
Errors = dict[int, list[tuple[str, str]]]  # frame index -> [(reason code, message)]
FORMATS = ("date_format", "datetime_format", "timezone", "list_separator")
SIMPLE_KEYS = {
    "file", "columns", "optional_columns", "defaults", "codes", "units", "encoding", "optional",
}  # fmt: skip
SQL_KEYS = {"sql", "defaults", "codes", "units", "optional"}
SYSTEM_KEYS = {"system", "read", "files", "reference", "entities", "encoding", *FORMATS}


class MappingError(ValueError):
    """A mapping file or an extract does not fit together (a whole-file failure)."""


@dataclass(frozen=True)
class ReadOptions:
    """How one delimited text file is read. Parquet and JSON files carry their own structure."""

    delimiter: str | None = ","  # None: sniffed (``delimiter: auto``)
    encoding: str = "utf-8"
    quote: str = '"'  # "" for none
    header: bool = True
    names: tuple[str, ...] = ()  # the columns of a file without a header
    skip: int = 0  # lines before the header (or the first row)
    decimal: str = "."  # "," for a decimal comma
    thousands: str | None = None  # a group separator inside numbers ("." or " ")

    def describe(self) -> str:
        sep = "auto" if self.delimiter is None else self.delimiter.replace("\t", "\\t")
        return f"delimiter {sep!r}, encoding {self.encoding}"


READ_KEYS = {f.name for f in dataclasses.fields(ReadOptions)}


@dataclass(frozen=True)
class Reference:
    """A small table written in the mapping (``reference:``): text values, like a CSV file's."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str | None, ...], ...]


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
    encoding: str = "utf-8"  # of its file (simple form)
    sql: str | None = None  # the SQL form's query (then ``file`` is "" and ``columns`` empty)
    optional: bool = False  # a missing file skips the entity instead of failing the load
    # source columns an extract may lack (an older export): then their targets take the default
    optional_columns: frozenset[str] = frozenset()

    def over(self, columns: Iterable[str]) -> EntityMapping:
        """This mapping applied to a query's output: each output column is its canonical one."""
        return dataclasses.replace(self, columns={c: c for c in columns})


@dataclass(frozen=True)
class SystemMapping:
    system: str
    entities: dict[str, EntityMapping]
    source: str = ""  # the YAML text, part of a load's fingerprint
    read: ReadOptions = ReadOptions()
    files: dict[str, ReadOptions] = field(default_factory=dict)  # per file, as ``read`` merged
    reference: dict[str, Reference] = field(default_factory=dict)

    def read_options(self, name: str) -> ReadOptions:
        """How the file ``name`` (without extension) is read."""
        return self.files.get(name, self.read)


def _unknown_keys(where: str, given: Iterable[str], known: set[str]) -> None:
    unknown = sorted(set(given) - known)
    if unknown:
        raise MappingError(
            f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )


def _read_options(where: str, spec: Any, base: ReadOptions) -> ReadOptions:
    if not isinstance(spec, dict):
        raise MappingError(f"{where} must be a mapping of read options ({', '.join(READ_KEYS)})")
    _unknown_keys(where, spec, READ_KEYS)
    values = dict(spec)
    if "delimiter" in values:
        d = values["delimiter"]
        values["delimiter"] = None if d == "auto" else str(d)
        if values["delimiter"] is not None and len(values["delimiter"]) != 1:
            raise MappingError(f"{where}: delimiter must be one character or `auto`, not {d!r}")
    if "names" in values:
        values["names"] = tuple(str(n) for n in values["names"] or ())
    if "header" in values and not isinstance(values["header"], bool):
        raise MappingError(f"{where}: header must be true or false")
    if "skip" in values and (not isinstance(values["skip"], int) or values["skip"] < 0):
        raise MappingError(f"{where}: skip must be a whole number of lines")
    if values.get("decimal", ".") not in (".", ","):
        raise MappingError(f"{where}: decimal must be '.' or ','")
    if "quote" in values:
        values["quote"] = str(values["quote"] or "")
        if len(values["quote"]) > 1:
            raise MappingError(f"{where}: quote must be one character or empty")
    opts = dataclasses.replace(base, **values)
    _check_encoding(where, opts.encoding)
    if not opts.header and not opts.names:
        raise MappingError(f"{where}: a file without a header needs `names:` (its columns)")
    return opts


def _check_encoding(where: str, encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise MappingError(f"{where}: unknown encoding {encoding!r}") from None


def _reference(name: str, spec: Any) -> Reference:
    where = f"reference {name}"
    if not isinstance(spec, dict) or "columns" not in spec or "rows" not in spec:
        raise MappingError(f"{where}: give `columns: [...]` and `rows: [[...], ...]`")
    _unknown_keys(where, spec, {"columns", "rows"})
    columns = tuple(str(c) for c in spec["columns"])
    rows = []
    for k, row in enumerate(spec["rows"] or [], 1):
        if not isinstance(row, list) or len(row) != len(columns):
            raise MappingError(f"{where}: row {k} has not the {len(columns)} values of {columns}")
        rows.append(tuple(None if v is None else str(v) for v in row))
    return Reference(name, columns, tuple(rows))


def parse_mapping(text: str, *, system: str | None = None) -> SystemMapping:
    doc = yaml.safe_load(text) or {}
    name = system or doc.get("system")
    if not name:
        raise MappingError("the mapping names no `system`")
    _unknown_keys(f"mapping {name}", doc, SYSTEM_KEYS)
    formats = {k: doc[k] for k in FORMATS if k in doc}
    base = ReadOptions()
    if "encoding" in doc:  # the older spelling of read: {encoding: ...}
        base = _read_options(f"mapping {name}", {"encoding": doc["encoding"]}, base)
    read = _read_options(f"mapping {name}: read", doc.get("read") or {}, base)
    overrides: dict[str, dict[str, Any]] = {
        str(f): dict(spec or {}) for f, spec in (doc.get("files") or {}).items()
    }
    entities = {}
    for entity, spec in (doc.get("entities") or {}).items():
        where = f"mapping {name}: {entity}"
        if entity not in ENTITIES:
            raise MappingError(f"unknown entity {entity!r} (known: {', '.join(ENTITIES)})")
        spec = spec or {}
        if ("sql" in spec) == ("columns" in spec):
            raise MappingError(f"{where}: give either `columns:` (renames) or `sql:` (a query)")
        _unknown_keys(where, spec, SQL_KEYS if "sql" in spec else SIMPLE_KEYS)
        if "sql" in spec:
            common: dict[str, Any] = {"file": "", "columns": {}, "sql": str(spec["sql"])}
        else:
            unknown = set(spec["columns"].values()) - set(ENTITIES[entity].columns)
            if unknown:
                raise MappingError(f"{entity}: unknown target columns {sorted(unknown)}")
            for column in [*spec["columns"], *spec["columns"].values()]:
                if not isinstance(column, str):
                    raise MappingError(
                        f"{where}: the column name {column!r} is not text (YAML reads no, yes, "
                        "on, off as true/false and 01 as a number): quote it"
                    )
            file = str(spec.get("file", entity))
            if "encoding" in spec:  # an entity's encoding is its file's, unless files: says
                overrides[file] = {"encoding": spec["encoding"], **overrides.get(file, {})}
            common = {"file": file, "columns": {str(k): str(v) for k, v in spec["columns"].items()}}
            optional_columns = [str(c) for c in spec.get("optional_columns") or ()]
            if stray := sorted(set(optional_columns) - set(common["columns"])):
                raise MappingError(
                    f"{where}: optional_columns {stray} are not among its `columns` (the source "
                    "columns it reads)"
                )
            common["optional_columns"] = frozenset(optional_columns)
        extra = set(spec.get("defaults") or {}) - set(ENTITIES[entity].columns)
        if extra:
            raise MappingError(f"{where}: defaults for unknown columns {sorted(extra)}")
        entities[entity] = EntityMapping(
            entity=entity,
            defaults=spec.get("defaults") or {},
            codes={
                col: {str(k): str(v) for k, v in values.items()}
                for col, values in (spec.get("codes") or {}).items()
            },
            units={k: float(v) for k, v in (spec.get("units") or {}).items()},
            optional=bool(spec.get("optional", False)),
            **formats,
            **common,
        )
    files = {
        f: _read_options(f"mapping {name}: files: {f}", spec, read) for f, spec in overrides.items()
    }
    for entity, em in entities.items():
        if em.sql is None:
            opts = files.get(em.file, read)
            entities[entity] = dataclasses.replace(em, encoding=opts.encoding)
    reference = {
        str(r): _reference(str(r), spec) for r, spec in (doc.get("reference") or {}).items()
    }
    return SystemMapping(
        system=name, entities=entities, source=text, read=read, files=files, reference=reference
    )


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


def _dates_of(parsed: pd.Series) -> list[dt.date | None]:
    """Parsed dates as Python dates (None for NaT). A naive column goes through numpy, which
    makes the dates in C (0.004 s for 100,000 against 0.098 s by a pandas Timestamp per value);
    a column with offsets (a ``%z`` format) keeps each value's own local date."""
    if parsed.dtype == "datetime64[ns]":
        out: list[dt.date | None] = parsed.to_numpy("datetime64[D]").astype(object).tolist()
        return out
    return [_to_date(v) for v in parsed]


def _utc_datetimes_of(utc: pd.Series) -> list[dt.datetime | None]:
    """A UTC column as Python datetimes with ``datetime.UTC`` (None for NaT), made in C by numpy
    (microseconds: what ``Timestamp.to_pydatetime`` keeps too). A Timestamp per value took 3.9 s
    of a 100,000-customer load's main thread."""
    naive = utc.dt.tz_convert(None).to_numpy("datetime64[us]").astype(object).tolist()
    return [None if v is None else v.replace(tzinfo=dt.UTC) for v in naive]


_INT_LIMIT = 2.0**63


# A number of at most 12 digits before the point and 2 after, nothing else (no sign of an
# exponent, "inf", "nan" or "_"): such a text's float is its own round(x, 2) (x is within half a
# unit in the last place of the text's value, far below 0.005) and finite
_PLAIN_NUMBER = r"\s*[-+]?(?:\d{1,12}(?:\.\d{0,2})?|\.\d{1,2})\s*"


@functools.cache
def _plain_list(sep: str) -> re.Pattern[str]:
    """A list of :data:`_PLAIN_NUMBER` joined by ``sep``. A separator that shares a character with
    a number (a digit, a space, a point, a sign) matches nothing: the pattern could then find its
    items elsewhere than ``str.split`` does ("1...149" split at ".." is "1." and ".149")."""
    if not sep or re.search(r"[\d\s.+-]", sep):
        return re.compile(r"(?!)")
    return re.compile(f"{_PLAIN_NUMBER}(?:{re.escape(sep)}{_PLAIN_NUMBER})*")


def _parse_list(value: Any, sep: str, factor: float) -> list[float] | None:
    """round(float(v) * factor, 2) of each item of a list in one text (``sep`` between), or of a
    query's LIST. A text of plain amounts in the source's own unit (the usual monthly balances)
    skips the rounding, which changes none of them: 13.4 to 6.1 us for 12 balances (the items of
    an account row's list took 46 s of a 1 M-customer load, py-spy)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, str) and factor == 1.0 and _plain_list(sep).fullmatch(value):
        return list(map(float, value.split(sep)))
    items = value.split(sep) if isinstance(value, str) else value  # text, or a query's LIST
    out = [round(float(v) * factor, 2) for v in items]
    if not all(math.isfinite(v) for v in out):
        raise ValueError("not finite")
    return out


def _blank(v: Any) -> Any:
    """A cell with its spaces stripped; empty and missing cells are None."""
    if isinstance(v, str):
        return v.strip() or None
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and v != v:
        return None
    return v


def _text(v: Any) -> str | None:
    """A cell of a text column: stripped, None when empty; a typed value (a query's number) as
    its text, so that codes map it and keys compare as text."""
    if isinstance(v, str):
        return v.strip() or None
    v = _blank(v)
    return None if v is None else str(v)


def _split_typed(col: pd.Series) -> tuple[pd.Series, dict[Any, Any]]:
    """A date or datetime column as its text (to parse with the mapping's format) and the values
    a query gave typed (dates, timestamps), by index. Other values (a number) count as text."""
    typed: dict[Any, Any] = {}
    if all(v is None or isinstance(v, str) for v in col.tolist()):
        return col, typed  # a file's column: all text
    text = col.copy()
    for idx, v in col.items():
        if isinstance(v, dt.date):  # datetime and pandas' Timestamp are dates too
            typed[idx] = v
            text[idx] = None
        elif v is not None and not isinstance(v, str):
            text[idx] = str(v)
    return text, typed


def _as_date(v: dt.date) -> dt.date:
    return v.date() if isinstance(v, dt.datetime) else v


def _as_utc(v: dt.date, timezone: str) -> dt.datetime:
    """A query's DATE/TIMESTAMP in a datetime column: naive values are local to the system."""
    stamp = pd.Timestamp(v)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
    return stamp.tz_convert("UTC").to_pydatetime()


def apply_mapping(raw: pd.DataFrame, m: EntityMapping) -> tuple[pd.DataFrame, Errors]:
    """Rename, default, decode, parse and scale one raw chunk; return it with parse errors. The
    chunk of a SQL-form entity is its query's output: its columns are already canonical."""
    if m.sql is not None:
        m = m.over(raw.columns)
    entity: Entity = ENTITIES[m.entity]
    missing = [c for c in m.columns if c not in raw.columns and c not in m.optional_columns]
    if missing:
        raise MappingError(f"{m.entity}: the extract lacks the mapped columns {missing}")
    present = {col: canonical for col, canonical in m.columns.items() if col in raw.columns}
    not_text = {*entity.dates, *entity.datetimes, *entity.floats, *entity.ints, *entity.float_lists}
    frame = pd.DataFrame(
        {
            canonical: pd.Series(
                [(_blank if canonical in not_text else _text)(v) for v in raw[col].tolist()],
                raw.index,
                object,
            )
            for col, canonical in present.items()
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
            text, typed = _split_typed(frame[col])
            parsed = _parse_dates(text, fmt)
            _add(errors, parsed.isna() & text.notna(), code, f"{col} is not a {kind} ({fmt})", text)
            out: list[dt.date | None] | list[dt.datetime | None]
            if kind == "date":
                out = _dates_of(parsed)
            else:
                utc = parsed.dt.tz_localize(
                    m.timezone, ambiguous="NaT", nonexistent="NaT"
                ).dt.tz_convert("UTC")
                out = _utc_datetimes_of(utc)
            frame[col] = pd.Series(out, index=frame.index, dtype=object)
            for idx, v in typed.items():
                frame.at[idx, col] = _as_date(v) if kind == "date" else _as_utc(v, m.timezone)
    for col in (*entity.floats, *entity.ints):
        number = pd.to_numeric(frame[col], errors="coerce")
        parsed = number * m.units.get(col, 1.0)
        # "inf" and "nan" parse as numbers, and a huge one can overflow in its unit: no amounts,
        # refused, never kept as a balance
        parsed = parsed.where(parsed.abs() != float("inf"))
        _add(
            errors,
            parsed.isna() & frame[col].notna(),
            "wrong_type",
            f"{col} is not a number",
            frame[col],
        )
        if col in entity.ints:
            whole = parsed.notna() & (number % 1 != 0)
            _add(errors, whole, "wrong_type", f"{col} is not a whole number", frame[col])
            # Neo4j's integers (and the content hash's) are 64-bit: "1e300" is whole, not one
            wide = parsed.notna() & (parsed.abs() >= _INT_LIMIT)
            _add(errors, wide, "wrong_type", f"{col} is beyond a 64-bit integer", frame[col])
            parsed = parsed.where(~wide)
        frame[col] = parsed.round(2).astype(object).where(parsed.notna(), None)
        if col in entity.ints:
            frame[col] = frame[col].map(lambda v: None if v is None else int(v))
    for col in entity.float_lists:
        lists: list[list[float] | None] = []
        for idx, v in frame[col].items():
            try:
                lists.append(_parse_list(v, m.list_separator, m.units.get(col, 1.0)))
            except (ValueError, TypeError):
                errors.setdefault(idx, []).append(
                    ("wrong_type", f"{col} is not a list of numbers: {v!r}")
                )
                lists.append(None)
        frame[col] = pd.Series(lists, index=frame.index, dtype=object)
    return frame.astype(object).where(frame.notna(), None), errors
