"""Planted bad rows: about 2 % of each extract, each with one known defect.

A bad row is a copy of a good row of the same chunk with one defect (and, where the file has a
single key column, a fresh key, so that no good row depends on it). ``duplicate_key`` copies a
key that appears earlier in the file. Every planted row is listed in ``ground_truth/bad_rows.csv``
(file, row_number, kind); the loader must reject exactly these, with that kind as reason code.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from synthetic.layout import DATE_FORMATS, DATETIME_FORMATS

Row = dict[str, Any]
BROKEN = "\udce5\udcbc"  # lone surrogates: written as invalid UTF-8 bytes by the CSV writer
BROKEN_PARQUET = "\ufffd\ufffd"  # Arrow strings are UTF-8, so the replacement a reader would see


def _bad_date(system: str, *, datetime: bool = False) -> str:
    fmt = (DATETIME_FORMATS if datetime else DATE_FORMATS)[system]
    return dt.datetime(2021, 3, 17, 10, 30).strftime(fmt.replace("%m", "13"))


def _set(column: str, value: Callable[[str, Row], Any]) -> Callable[[Row, str], None]:
    def apply(row: Row, system: str) -> None:
        row[column] = value(system, row)

    return apply


def _old_birth(system: str, row: Row) -> str:
    return dt.date(1849, 6, 1).strftime(DATE_FORMATS[system])  # before etl MIN_BIRTH_DATE


def _customer_defects(name: str, birth: str, phone: str) -> dict[str, Callable[[Row, str], None]]:
    return {
        "bad_date": _set(birth, lambda s, r: _bad_date(s)),
        "impossible_age": _set(birth, _old_birth),
        "malformed_phone": _set(phone, lambda s, r: "138-12"),
        "broken_encoding": _set(name, lambda s, r: r[name][:1] + BROKEN),
        "missing_required": _set(name, lambda s, r: None),
        "duplicate_key": lambda r, s: None,
    }


# (system, file) -> (key column or None, {kind: defect})
DEFECTS: dict[tuple[str, str], tuple[str | None, dict[str, Callable[[Row, str], None]]]] = {
    ("core", "customers"): ("cust_no", _customer_defects("cust_name", "birth_dt", "mobile")),
    ("card", "customers"): ("card_cust_id", _customer_defects("holder_name", "dob", "phone_no")),
    ("crm", "customers"): (
        "contact_id",
        _customer_defects("full_name", "birthday", "mobile_phone"),
    ),
    ("core", "accounts"): (
        "acct_no",
        {
            "bad_date": _set("open_dt", lambda s, r: _bad_date(s)),
            # a product that may not be overdrawn (scoring.toml [money] negative_allowed)
            "negative_amount": lambda r, s: r.update(bal="-5000.00", prod_type="TIME_DEPOSIT"),
            "wrong_type": _set("bal", lambda s, r: "12,5OO.00"),
            "missing_required": _set("prod_type", lambda s, r: None),
            "unknown_fk": _set("prod_code", lambda s, r: "XX-UNKNOWN"),
            "duplicate_key": lambda r, s: None,
        },
    ),
    ("card", "accounts"): (
        "card_acct_no",
        {
            "negative_amount": _set("limit_fen", lambda s, r: "-2000000"),
            "wrong_type": _set("balance_fen", lambda s, r: "abc"),
            "bad_date": _set("open_date", lambda s, r: _bad_date(s)),
        },
    ),
    ("core", "holdings"): (
        None,
        {
            "unknown_fk": _set("cust_no", lambda s, r: "CIF999999999"),
            "missing_required": _set("holder_role", lambda s, r: None),
        },
    ),
    ("card", "holdings"): (
        None,
        {"unknown_fk": _set("card_acct_no", lambda s, r: "CC99999999")},
    ),
    ("core", "household_members"): (
        None,
        {
            "unknown_fk": _set("cust_no", lambda s, r: "CIF999999998"),
            "bad_date": _set("since_dt", lambda s, r: _bad_date(s)),
        },
    ),
    ("core", "rm_assignments"): (
        None,
        {"unknown_fk": _set("cust_no", lambda s, r: "CIF999999997")},
    ),
    ("crm", "interactions"): (
        "interaction_no",
        {
            "bad_date": _set("occurred", lambda s, r: _bad_date(s, datetime=True)),
            "wrong_type": _set("csat", lambda s, r: "five"),
            "unknown_fk": _set("contact_id", lambda s, r: "CRM99999999"),
            "missing_required": _set("channel", lambda s, r: None),
            "duplicate_key": lambda r, s: None,
        },
    ),
    ("crm", "referrals"): (
        None,
        {
            "unknown_fk": _set("referred_contact", lambda s, r: "CRM99999998"),
            "bad_date": _set("referred_on", lambda s, r: _bad_date(s)),
        },
    ),
}


def plant(
    rng: random.Random,
    system: str,
    file: str,
    rows: list[Row],
    *,
    rate: float,
    parquet: bool,
) -> list[tuple[int, str]]:
    """Insert bad rows into ``rows`` in place; return (index in rows, kind) of each."""
    spec = DEFECTS.get((system, file))
    if spec is None or not rows:
        return []
    key, defects = spec
    kinds = sorted(defects)
    expected = len(rows) * rate
    count = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
    planted: list[tuple[Row, str]] = []
    for n in range(count):
        kind = kinds[n % len(kinds)] if n < len(kinds) else rng.choice(kinds)
        pos = rng.randrange(len(rows))
        while "__bad__" in rows[pos]:
            pos = rng.randrange(len(rows))
        bad = dict(rows[pos])
        defects[kind](bad, system)
        if kind == "broken_encoding" and parquet:
            for col, value in bad.items():
                if isinstance(value, str) and "\udce5" in value:
                    bad[col] = value.replace(BROKEN, BROKEN_PARQUET)
        if key and kind != "duplicate_key":
            bad[key] = f"{bad[key]}X{n}"
        bad["__bad__"] = kind
        # after the row it copies, so a duplicate key always comes second
        rows.insert(rng.randrange(pos + 1, len(rows) + 1), bad)
        planted.append((bad, kind))
    marks = {id(b): k for b, k in planted}
    out = []
    for i, row in enumerate(rows):
        if id(row) in marks:
            out.append((i, marks[id(row)]))
            del row["__bad__"]
    return out
