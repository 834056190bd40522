"""The columns identity resolution compares, built from prepared customer records (pure pandas).

One row per source record, in the shapes the comparisons of etl/linkage_model.py read:

- ``given_name`` / ``family_name``: the name parts romanised (toneless pinyin of hanzi, the ASCII
  letters of a Latin-script name), so ``ZHANG WEI``, ``张伟`` and ``張偉`` have the same parts;
  ``given_hz`` / ``family_hz``: the parts in simplified characters when written in hanzi (equal
  characters are stronger evidence than equal pinyin: 张伟 and 章伟 sound alike). The parts come
  from the ``given_name`` / ``family_name`` columns when a system has them (FEBRL, most Western
  systems), else from ``name``: a hanzi name is family name first (two characters for the
  compound family names of etl/zh.py), a Latin-script name too (``ZHANG WEI``, as Chinese
  banks' card systems write it); a name written the other way round meets the comparisons'
  "swapped" level.
- ``birth_date`` (a date), ``gender``, ``phone`` and ``email`` as prepared (the phone is the
  system-independent form etl/records.prepare_customers gives), ``address`` / ``city``:
  lower case, simplified characters, punctuation as single spaces, and the address's distinct
  words (``address_words``); ``postcode`` without spaces.
- ``id_hash`` / ``id_type``: the peppered national-ID hash and its type (``CN_RESIDENT`` when the
  record does not say).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import pandas as pd

from etl.zh import (
    SIMPLIFIED,
    is_hanzi,
    latin_tokens,
    pinyin,
    split_hanzi_name,
    to_simplified,
)

MATCH_COLUMNS = (
    "unique_id", "system", "source_id", "given_name", "family_name", "given_hz", "family_hz",
    "birth_date", "gender", "phone", "email", "address", "address_words", "city", "postcode",
    "id_hash", "id_type",
)  # fmt: skip
DEFAULT_ID_TYPE = "CN_RESIDENT"
_TO_SIMPLIFIED = str.maketrans(SIMPLIFIED)


class NameParts(NamedTuple):
    given: str | None
    family: str | None
    given_hz: str | None
    family_hz: str | None


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _part(text: str | None, *, family: bool) -> tuple[str | None, str | None]:
    """(romanised, hanzi) of one name part."""
    if text is None:
        return None, None
    if is_hanzi(text):
        hz = to_simplified("".join(text.split()))
        return pinyin(hz, family=family) or None, hz
    return "".join(latin_tokens(text)) or None, None


@lru_cache(maxsize=200_000)
def name_parts(name: str | None, given: str | None = None, family: str | None = None) -> NameParts:
    """The compared name parts of a record (module docstring)."""
    if given or family:
        g, ghz = _part(given, family=False)
        f, fhz = _part(family, family=True)
        return NameParts(g, f, ghz, fhz)
    if not name:
        return NameParts(None, None, None, None)
    if is_hanzi(name):
        fam, giv = split_hanzi_name(name)
        return NameParts(
            pinyin(giv) or None, pinyin(fam, family=True) or None, giv or None, fam or None
        )
    tokens = latin_tokens(name)
    if not tokens:
        return NameParts(None, None, None, None)
    return NameParts("".join(tokens[1:]) or None, tokens[0], None, None)


def compose_name(frame: pd.DataFrame) -> pd.DataFrame:
    """``name`` from ``given_name`` and ``family_name`` where a record has no ``name``: family
    name first without a space when both are hanzi (``张`` + ``伟`` -> ``张伟``), else
    ``given family`` (``Mary Smith``). A frame without those columns is returned as it is."""
    if "given_name" not in frame.columns and "family_name" not in frame.columns:
        return frame
    out = frame.copy()
    given = out["given_name"] if "given_name" in out else pd.Series(None, index=out.index)
    family = out["family_name"] if "family_name" in out else pd.Series(None, index=out.index)
    name = out["name"] if "name" in out else pd.Series(None, index=out.index, dtype=object)

    def whole(g: object, f: object) -> str | None:
        g, f = _text(g), _text(f)
        if g and f and is_hanzi(g) and is_hanzi(f):
            return f + g
        return " ".join(p for p in (g, f) if p) or None

    missing = name.map(_text).isna()
    out["name"] = name.astype(object)
    out.loc[missing, "name"] = [
        whole(g, f) for g, f in zip(given[missing], family[missing], strict=True)
    ]
    return out


def _clean_text(values: pd.Series) -> pd.Series:
    """Lower case, NFKC, simplified characters, punctuation as single spaces, None if empty."""
    text = values.where(values.map(lambda v: isinstance(v, str)), None).astype(object)
    present = text.notna()
    if not present.any():
        return pd.Series(None, index=values.index, dtype=object)
    cleaned = (
        text[present]
        .astype(str)
        .str.normalize("NFKC")
        .str.translate(_TO_SIMPLIFIED)
        .str.lower()
        .str.replace(r"[\W_]+", " ", regex=True)
        .str.strip()
    )
    out = pd.Series(None, index=values.index, dtype=object)
    out[present] = cleaned.where(cleaned != "", None)
    return out


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(None, index=frame.index, dtype=object)


def match_frame(records: pd.DataFrame, first_id: int) -> pd.DataFrame:
    """The compared columns (:data:`MATCH_COLUMNS`) of prepared customer records, with
    ``unique_id`` counting from ``first_id`` in the frame's order."""
    names = [
        name_parts(_text(n), _text(g), _text(f))
        for n, g, f in zip(
            _column(records, "name"),
            _column(records, "given_name"),
            _column(records, "family_name"),
            strict=True,
        )
    ]
    parts = pd.DataFrame(names, columns=list(NameParts._fields), index=records.index, dtype=object)
    address = _clean_text(_column(records, "address"))
    postcode = _clean_text(_column(records, "postcode")).map(
        lambda v: v.replace(" ", "") if isinstance(v, str) else None
    )
    id_type = _column(records, "national_id_type").map(_text)
    id_hash = _column(records, "national_id_hash").map(_text)
    out = pd.DataFrame(
        {
            "unique_id": range(first_id, first_id + len(records)),
            "system": records["system"].astype(str).to_numpy(),
            "source_id": records["source_id"].astype(str).to_numpy(),
            "given_name": parts["given"].to_numpy(),
            "family_name": parts["family"].to_numpy(),
            "given_hz": parts["given_hz"].to_numpy(),
            "family_hz": parts["family_hz"].to_numpy(),
            "birth_date": pd.to_datetime(_column(records, "birth_date"), errors="coerce")
            .dt.date.astype(object)
            .to_numpy(),
            "gender": _column(records, "gender").map(_text).to_numpy(),
            "phone": _column(records, "phone").map(_text).to_numpy(),
            "email": _column(records, "email").map(_text).to_numpy(),
            "address": address.to_numpy(),
            "address_words": address.map(
                lambda v: sorted(set(v.split())) if isinstance(v, str) else None
            ).to_numpy(),
            "city": _clean_text(_column(records, "city")).to_numpy(),
            "postcode": postcode.where(postcode != "", None).to_numpy(),  # type: ignore[call-overload]
            "id_hash": id_hash.to_numpy(),
            "id_type": id_type.where(id_type.notna() | id_hash.isna(), DEFAULT_ID_TYPE).to_numpy(),
        }
    )
    # NaT -> None (pandas keeps NaT in an object column)
    out["birth_date"] = out["birth_date"].where(out["birth_date"].notna(), None)
    return out.astype({"unique_id": "int64"})
