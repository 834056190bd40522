"""Small pure normalisers shared by the mapping, validation and identity stages.

Identifiers and contacts of any country:

- a national identifier has a type (:data:`ID_TYPES`) and an issuing country (ISO 3166 alpha-2);
  each type has its rule (the Chinese resident ID's GB 11643 check character, the Czech birth
  number's mod-11 rule, FEBRL's seven digits) or is kept as given (``OPAQUE``);
- a phone number is parsed by ``phonenumbers`` (Google's libphonenumber metadata) in the default
  region of its source system and kept in E.164 (``+8613812345678``), valid numbers only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

DEFAULT_ID_TYPE = "CN_RESIDENT"
DEFAULT_COUNTRY = "CN"
DEFAULT_PHONE_REGION = "CN"
# ISO 3166 alpha-2 codes (the regions libphonenumber knows: every country and territory with a
# numbering plan, 245 of them)
COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_SPACES = re.compile(r"\s+")
_CZ_BIRTH_NUMBER = re.compile(r"^(\d{2})(\d{2})(\d{2})/?(\d{3,4})$")


# -- national identifiers ---------------------------------------------------------------------


def _cn_resident(value: str) -> str | None:
    """An 18-character resident ID with the right GB 11643 check character (upper-cased X)."""
    value = value.upper()
    if len(value) != 18 or not value[:17].isdigit():
        return None
    total = sum(map(operator.mul, map(int, value[:17]), _ID_WEIGHTS))
    return value if _ID_CHECK[total % 11] == value[17] else None


def _cz_birth_number(value: str) -> str | None:
    """A Czech/Slovak birth number (rodné číslo) YYMMDD/XXXX, the slash optional: one scheme,
    Czechoslovakia's, kept by both countries after 1993 (so issued by CZ or SK).

    Ten digits (born 1954 or later): the number is divisible by 11, or (a rule used until 1985)
    its first nine digits leave 10 and the last digit is 0. Nine digits: born before 1954, no
    check digit. The month is 1-12, +50 for women; +20 (women +70) only for births from 2004,
    when the offset was introduced for days whose serials ran out; the date must exist."""
    m = _CZ_BIRTH_NUMBER.match(value)
    if not m:
        return None
    yy, mm, dd, tail = int(m[1]), int(m[2]), int(m[3]), m[4]
    digits = m[1] + m[2] + m[3] + tail
    if len(tail) == 4:
        number = int(digits)
        if number % 11 and not (int(digits[:9]) % 11 == 10 and digits[9] == "0"):
            return None
        year = 1900 + yy if yy >= 54 else 2000 + yy
    else:
        year = 1900 + yy if yy < 54 else 1800 + yy
    month = mm - 50 if mm > 50 else mm
    if month > 20:
        if year < 2004:
            return None
        month -= 20
    try:
        dt.date(year, month, dd)
    except ValueError:
        return None
    return digits


def _febrl_ssn(value: str) -> str | None:
    """The social security number of FEBRL's synthetic Australians: seven digits, no check."""
    return value if len(value) == 7 and value.isdigit() else None


def _opaque(value: str) -> str | None:
    """Any identifier we have no rule for: kept as given (spaces trimmed), at most 64 chars."""
    return value if 0 < len(value) <= 64 else None


@dataclass(frozen=True)
class IdType:
    """A kind of national identifier: its rule (the ID in normal form, or None when the value
    breaks the rule), the countries that issue it (empty: any), and the rule in words."""

    name: str
    normal: Callable[[str], str | None]
    countries: tuple[str, ...]
    rule: str
    squeeze: bool = True  # spaces inside the value are dropped before the rule is applied

    def normal_form(self, value: str) -> str | None:
        return self.normal(_SPACES.sub("", value) if self.squeeze else value.strip())


ID_TYPES: dict[str, IdType] = {
    t.name: t
    for t in (
        IdType(
            "CN_RESIDENT", _cn_resident, ("CN",), "an 18-character resident ID (GB 11643)", False
        ),
        IdType(
            "CZ_BIRTH_NUMBER", _cz_birth_number, ("CZ", "SK"), "a birth number YYMMDD/XXXX (mod 11)"
        ),
        IdType("FEBRL_SSN", _febrl_ssn, (), "seven digits"),
        IdType("OPAQUE", _opaque, (), "1 to 64 characters", squeeze=False),
    )
}


def national_id_problem(
    value: str, id_type: str | None = None, country: str | None = None
) -> str | None:
    """Why ``value`` is not a national ID of ``id_type`` issued by ``country`` (None: it is)."""
    id_type = (id_type or DEFAULT_ID_TYPE).strip().upper()
    country = (country or DEFAULT_COUNTRY).strip().upper()
    kind = ID_TYPES.get(id_type)
    if kind is None:
        return f"national_id_type {id_type!r} is unknown (known: {', '.join(ID_TYPES)})"
    if country not in COUNTRIES:
        return f"national_id_country {country!r} is not an ISO 3166 alpha-2 country code"
    if kind.countries and country not in kind.countries:
        return f"a {id_type} ID is issued by {' or '.join(kind.countries)}, not {country}"
    if kind.normal_form(value) is None:
        return f"national_id is not a valid {id_type} ID ({kind.rule})"
    return None


def national_id_valid(value: str, id_type: str | None = None, country: str | None = None) -> bool:
    """Whether ``value`` follows the rule of its type (default: the resident ID's checksum)."""
    return national_id_problem(value, id_type, country) is None


def national_id_hash(
    value: str, pepper: str, id_type: str | None = None, country: str | None = None
) -> str:
    """Peppered SHA-256 of the ID: the only form the ID is stored in.

    A resident ID (the default type) hashes its upper-cased value alone, as before types
    existed, so the hashes in existing graphs keep matching; any other type hashes
    ``TYPE|COUNTRY|normal form``, so equal numbers of two types or countries never meet."""
    id_type = (id_type or DEFAULT_ID_TYPE).strip().upper()
    if id_type == DEFAULT_ID_TYPE:
        return hashlib.sha256((pepper + value.strip().upper()).encode()).hexdigest()
    country = (country or DEFAULT_COUNTRY).strip().upper()
    kind = ID_TYPES.get(id_type)
    normal = (kind.normal_form(value) if kind else None) or value.strip()
    return hashlib.sha256(f"{pepper}{id_type}|{country}|{normal}".encode()).hexdigest()


# -- phones -----------------------------------------------------------------------------------


@lru_cache(maxsize=65_536)
def phone_e164(raw: str | None, region: str | None = DEFAULT_PHONE_REGION) -> str | None:
    """The valid phone number in ``raw`` in E.164 (``+8613812345678``), read as dialled in
    ``region`` (ISO alpha-2) unless it carries its own country code; None when ``raw`` is not
    a valid number there (mainland mobiles and landlines with their area code are).

    Cached: validation checks a chunk's numbers and the customer stage converts the same ones
    (34 µs a number uncached)."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    region = (region or DEFAULT_PHONE_REGION).upper()
    mobile = _cn_mobile_digits(raw) if region == "CN" else None
    if mobile is not None and _CN_GENERAL.fullmatch(mobile) and _CN_MOBILE.fullmatch(mobile):
        # a bare mainland mobile that the library's own CN metadata calls one: valid, and what
        # parse() + format() would give, without their 30 µs (any other case takes that path)
        return f"+86{mobile}"
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _cn_pattern(kind: str) -> re.Pattern[str]:
    """A number pattern of the library's CN metadata (``general_desc``, ``mobile``)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    desc = getattr(metadata, kind, None)
    pattern = getattr(desc, "national_number_pattern", None)
    if not isinstance(pattern, str):
        raise RuntimeError(f"phonenumbers has no CN {kind} pattern")
    return re.compile(pattern)


_CN_GENERAL = _cn_pattern("general_desc")
_CN_MOBILE = _cn_pattern("mobile")
_MOBILE_SPELLING = re.compile(r"^(?:\+86)?[\s-]*(1\d{2})[\s-]?(\d{4})[\s-]?(\d{4})$")


def _cn_mobile_digits(raw: str) -> str | None:
    """The 11 digits of a mainland mobile as banks spell it (``13812345678``, ``138 1234 5678``,
    ``138-1234-5678``, ``+86 138...``), or None for any other spelling (parsed in full)."""
    m = _MOBILE_SPELLING.match(raw.strip())
    return m[1] + m[2] + m[3] if m else None


def stored_phone(value: str | None) -> str | None:
    """A phone as a SourceRecord keeps it, back in E.164: the ``phone_e164`` read in the
    system's region at load time passes as it is; a record loaded before that was kept (its
    phone as spelt, from a mainland system) is read in region CN."""
    if isinstance(value, str) and value.startswith("+") and value[1:].isdigit():
        return value
    return phone_digits(value)


def phone_digits(raw: str | None) -> str | None:
    """Deprecated: :func:`phone_e164` in region CN (a mainland number, stored in E.164 now).

    Kept for etl/loader.py, which re-reads the phones of stored source records with it until
    it passes each record's region to :func:`phone_e164`."""
    return phone_e164(raw, DEFAULT_PHONE_REGION)


def email_normal(raw: str | None) -> str | None:
    return raw.strip().lower() if isinstance(raw, str) and "@" in raw else None
