"""The content hash of a graph row (etl/delta.py): what changes it and what does not.

Checked against the standard library's json, which nobody here wrote: the text hashed is the
canonical JSON (sorted keys, no spaces) that ``json.dumps`` writes for the same row with the same
stand-ins for dates, so the hash is of the row's content and not of orjson's choices."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any

import numpy as np

from etl.delta import NOT_HASHED, content_hash

ROW: dict[str, Any] = {
    "customer_id": "C-1",
    "name": "毕强",
    "birth_date": dt.date(1989, 8, 30),
    "updated_at": dt.datetime(2025, 2, 7, 2, 0, tzinfo=dt.UTC),
    "balance": 321512.83,
    "nps": 9,
    "tags": ["a", "b"],
    "closed_at": None,
    "props": {"opened_at": dt.date(2015, 7, 24), "monthly_balances": [1.5, 2.25], "kyc": True},
}


def _stdlib_hash(row: dict[str, Any]) -> str:
    def typed(v: Any) -> str:
        if isinstance(v, dt.date | dt.time):
            return f"{type(v).__name__}:{v.isoformat()}"
        return f"{type(v).__name__}:{v}"

    flat = {k: v for k, v in row.items() if k not in NOT_HASHED and k != "props"}
    if "props" in row:
        flat["props"] = {k: v for k, v in row["props"].items() if k not in NOT_HASHED}
    text = json.dumps(
        flat, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=typed
    )
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def test_the_hash_is_of_the_canonical_json_the_standard_library_writes() -> None:
    assert content_hash(ROW) == _stdlib_hash(ROW)
    reordered = dict(reversed(list(ROW.items())))
    reordered["props"] = dict(reversed(list(ROW["props"].items())))
    assert content_hash(reordered) == content_hash(ROW)


def test_bookkeeping_is_not_content() -> None:
    stamped = ROW | {"content_hash": "x", "load_run_id": "r2", "loaded_at": dt.datetime.now(dt.UTC)}
    stamped["props"] = ROW["props"] | {"content_hash": "y", "match_weight": 3.5}
    assert content_hash(stamped) == content_hash(ROW)


def test_a_change_of_value_or_of_type_is_a_change() -> None:
    base = content_hash(ROW)
    changes = [
        ROW | {"balance": 321512.84},
        ROW | {"birth_date": "1989-08-30"},  # the same text as a string: not a date any more
        ROW | {"birth_date": dt.datetime(1989, 8, 30)},  # a datetime is not a date
        ROW | {"updated_at": dt.datetime(2025, 2, 7, 2, 0, 1, tzinfo=dt.UTC)},
        ROW | {"nps": "9"},
        ROW | {"closed_at": dt.date(2026, 1, 1)},
        ROW | {"props": ROW["props"] | {"kyc": False}},
        ROW | {"props": ROW["props"] | {"opened_at": "2015-07-24"}},
        ROW | {"tags": ["b", "a"]},  # a list's order is content
    ]
    hashes = [content_hash(r) for r in changes]
    assert base not in hashes and len(set(hashes)) == len(hashes)


def test_numpy_scalars_hash_as_the_python_values_they_are() -> None:
    assert content_hash(ROW | {"balance": np.float64(321512.83)}) == content_hash(ROW)
    # what orjson does not know at all keeps its type and text: a Decimal is not the float
    assert content_hash(ROW | {"balance": Decimal("321512.83")}) != content_hash(ROW)
