"""Row validation: one pandera schema per canonical entity, every failure named by a reason code.

:func:`validate` is pure: a mapped chunk (and the parse errors of the mapping) in, the good rows
and a reason per refused row out. One bad row never takes a good neighbour with it. The checks
that depend on another column of the row are plain Python next to the schema: a customer's phone
(read in its ``phone_region``), national ID (by its ``national_id_type`` and country) and birth
date; an account's negative balance (allowed by product type: core/products.negative_allowed).

A customer's birth date is a fact about them, not what the row stands or falls by: given a
``warnings`` dict, a birth date that cannot be parsed (the mapping's ``bad_date`` on
``birth_date``) or is impossible (after ``today``, or before :data:`MIN_BIRTH_DATE`) becomes
null and ``(code, message)`` goes into ``warnings`` under the row's index; the row is kept (and
refused only if something else is wrong with it). Without ``warnings`` such a row is refused.

Reason codes (``reason_code`` in the rejects files), in the order the first one is reported:
broken_encoding, bad_date, wrong_type, missing_required, invalid_code, malformed_phone,
malformed_id, negative_amount, out_of_range, impossible_age; then, outside this module,
unknown_fk (a reference to a customer/account/... neither in this load nor in the graph) and
duplicate_key (a key already seen in this file: the first occurrence wins).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from core.products import negative_allowed
from etl.entities import ENTITIES, Entity
from etl.mapping import Errors
from etl.normalise import COUNTRIES, national_id_problem, phone_e164

PRIORITY = (
    "broken_encoding", "bad_date", "wrong_type", "missing_required", "invalid_code",
    "malformed_phone", "malformed_id", "negative_amount", "out_of_range", "impossible_age",
    "unknown_fk", "duplicate_key",
)  # fmt: skip
# The oldest birth date believed: real registers hold people born in the 1900s (FEBRL's records
# have births from 1900-1905, which an age limit of 120 years refused); 1850 only catches typos.
MIN_BIRTH_DATE = dt.date(1850, 1, 1)
# the mapping's parse error on the birth date (etl/mapping.py: "birth_date is not a date ...")
_BIRTH_DATE_ERROR = re.compile(r"\bbirth_date\b")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _non_negative(values: pd.Series) -> pd.Series:
    def ok(v: object) -> bool:
        if v is None:
            return True
        if isinstance(v, list):
            return all(x >= 0 for x in v)
        return float(v) >= 0  # type: ignore[arg-type]

    return values.map(ok)


def _no_broken_text(frame: pd.DataFrame) -> pd.Series:
    """False on the rows with an undecodable character (U+FFFD) in any text cell; a column at a
    time (DataFrame.map per cell took 3.8x as long on the bank's chunks)."""
    broken = [False] * len(frame)
    for col in frame.columns:
        for i, v in enumerate(frame[col].tolist()):
            if isinstance(v, str) and "\ufffd" in v:
                broken[i] = True
    return pd.Series([not b for b in broken], index=frame.index, dtype=bool)


@lru_cache(maxsize=64)
def schema_for(entity_name: str, today: dt.date) -> pa.DataFrameSchema:
    entity: Entity = ENTITIES[entity_name]
    columns = {}
    for col in entity.columns:
        checks = []
        if col in entity.codes:
            allowed = set(entity.codes[col])
            checks.append(
                pa.Check(
                    lambda s, allowed=allowed: s.map(lambda v: v is None or v in allowed),
                    name="invalid_code",
                    error=f"invalid_code: {col} not one of {sorted(allowed)}",
                )
            )
        if col in entity.non_negative:
            checks.append(
                pa.Check(_non_negative, name="negative_amount", error=f"negative_amount: {col} < 0")
            )
        if col in entity.positive:
            checks.append(
                pa.Check(
                    lambda s: s.map(lambda v: v is None or v > 0),
                    name="out_of_range",
                    error=f"out_of_range: {col} must be above 0",
                )
            )
        if col in entity.currencies:
            checks.append(
                pa.Check(
                    lambda s: s.map(lambda v: v is None or bool(_CURRENCY.match(str(v)))),
                    name="invalid_code",
                    error=f"invalid_code: {col} is not an ISO 4217 code (three capital letters)",
                )
            )
        if col in entity.ranges:
            lo, hi = entity.ranges[col]
            checks.append(
                pa.Check(
                    lambda s, lo=lo, hi=hi: s.map(lambda v: v is None or lo <= v <= hi),
                    name="out_of_range",
                    error=f"out_of_range: {col} outside {lo}..{hi}",
                )
            )
        columns[col] = pa.Column(
            nullable=col not in entity.required, checks=checks, required=True, coerce=False
        )
    return pa.DataFrameSchema(
        columns,
        checks=[
            pa.Check(
                _no_broken_text,
                name="broken_encoding",
                error="broken_encoding: undecodable text (U+FFFD) in the row",
            )
        ],
        strict=False,
    )


def first_reason(reasons: list[tuple[str, str]]) -> tuple[str, str]:
    """The reason code reported for a row (see :data:`PRIORITY`) and every message joined."""
    ordered = sorted(reasons, key=lambda r: PRIORITY.index(r[0]) if r[0] in PRIORITY else 99)
    return ordered[0][0], "; ".join(dict.fromkeys(m for _, m in ordered))


def _add(errors: Errors, index: object, code: str, message: str) -> None:
    errors.setdefault(int(index), []).append((code, f"{code}: {message}"))  # type: ignore[call-overload]


def _code(value: object, default: str) -> str:
    """A type, country or region code as given (upper case), or the default when missing."""
    return str(value).strip().upper() if value else default


def _customer_checks(
    frame: pd.DataFrame, errors: Errors, warnings: Errors | None, today: dt.date
) -> pd.DataFrame:
    """Phone, national ID and birth date of each row; returns the frame with the birth dates
    moved to ``warnings`` set to null (a copy when any is)."""
    defaults = ENTITIES["customers"].defaults
    births = frame["birth_date"].tolist()
    nulled: list[object] = []
    columns = ("phone", "phone_region", "national_id", "national_id_type", "national_id_country")
    for idx, phone, region, national_id, id_type, country in zip(
        frame.index, *(frame[c].tolist() for c in columns), strict=True
    ):
        if phone is not None:
            region = _code(region, defaults["phone_region"])
            if region not in COUNTRIES:
                _add(errors, idx, "malformed_phone", f"phone_region {region!r} is not a country")
            elif phone_e164(str(phone), region) is None:
                _add(
                    errors,
                    idx,
                    "malformed_phone",
                    f"phone is not a valid number in region {region}",
                )
        if national_id is not None:
            problem = national_id_problem(
                str(national_id),
                _code(id_type, defaults["national_id_type"]),
                _code(country, defaults["national_id_country"]),
            )
            if problem:
                _add(errors, idx, "malformed_id", problem)
    for idx, born in zip(frame.index, births, strict=True):
        if born is None or MIN_BIRTH_DATE <= born <= today:  # type: ignore[operator]
            continue
        message = f"birth_date {born} is before {MIN_BIRTH_DATE} or after {today}"
        if warnings is None:
            _add(errors, idx, "impossible_age", message)
        else:
            _add(warnings, idx, "impossible_age", message + ": set to null, the row kept")
            nulled.append(idx)
    if warnings is not None:
        for idx in list(errors):
            if idx not in frame.index:
                continue
            moved = [
                (code, message)
                for code, message in errors[idx]
                if code == "bad_date" and _BIRTH_DATE_ERROR.search(message)
            ]
            if moved:
                warnings.setdefault(idx, []).extend(
                    (code, f"{message}: set to null, the row kept") for code, message in moved
                )
                errors[idx] = [e for e in errors[idx] if e not in moved]
                if not errors[idx]:
                    del errors[idx]
                nulled.append(idx)
    if nulled:
        frame = frame.copy()
        frame.loc[nulled, "birth_date"] = None
    return frame


def _signed_amount_checks(frame: pd.DataFrame, entity: Entity, errors: Errors) -> None:
    """A negative amount where the row's product type may not have one (an overdrawn current
    account is normal, an overdrawn term deposit is a broken extract)."""
    allowed = negative_allowed()
    types = frame["product_type"].tolist()
    for col in entity.negative_by_product:
        for idx, product_type, value in zip(frame.index, types, frame[col].tolist(), strict=True):
            if value is None or product_type in allowed:
                continue
            values = value if isinstance(value, list) else [value]
            if any(v is not None and float(v) < 0 for v in values):
                _add(
                    errors,
                    idx,
                    "negative_amount",
                    f"{col} < 0, and a {product_type} balance cannot be negative "
                    f"(scoring.toml [money] negative_allowed: {', '.join(sorted(allowed))})",
                )


def validate(
    frame: pd.DataFrame,
    entity_name: str,
    *,
    parse_errors: Errors,
    today: dt.date,
    warnings: Errors | None = None,
) -> tuple[pd.DataFrame, Errors]:
    """Split a mapped chunk into its valid rows and the reasons of the others (by index).

    ``warnings``: where a customer's birth-date problems go instead of refusing the row (the
    module docstring); the field is then null in the rows returned."""
    errors: Errors = {k: list(v) for k, v in parse_errors.items()}
    entity = ENTITIES[entity_name]
    try:
        schema_for(entity_name, today).validate(frame, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        for check, column, index in zip(
            cases["check"], cases["column"], cases["index"], strict=True
        ):
            if index is None or pd.isna(index):
                continue
            check = str(check)
            if check == "not_nullable":
                code, message = "missing_required", f"{column} is required"
            else:
                code, message = check.split(":")[0].strip(), check
            errors.setdefault(int(index), []).append((code, message))
    if entity_name == "customers":
        frame = _customer_checks(frame, errors, warnings, today)
    if entity.negative_by_product:
        _signed_amount_checks(frame, entity, errors)
    bad = frame.index.isin(list(errors))
    return frame[~bad], errors
