"""Small pure normalisers shared by the mapping, validation and identity stages."""

from __future__ import annotations

import hashlib
import re

_NON_DIGITS = re.compile(r"\D")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def phone_digits(raw: str | None) -> str | None:
    """The 11-digit mainland mobile number in ``raw`` (any of +86 138-1234-5678, 138 1234 5678,
    86-13812345678 ...), or None when it is not one."""
    if not isinstance(raw, str) or not raw:
        return None
    digits = _NON_DIGITS.sub("", raw)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if _MOBILE.match(digits) else None


def national_id_valid(value: str) -> bool:
    """An 18-character resident ID with the right GB 11643 check character."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17].upper()


def national_id_hash(value: str, pepper: str) -> str:
    """Peppered SHA-256 of the upper-cased ID: the only form the ID is stored in."""
    return hashlib.sha256((pepper + value.strip().upper()).encode()).hexdigest()


def email_normal(raw: str | None) -> str | None:
    return raw.strip().lower() if isinstance(raw, str) and "@" in raw else None
