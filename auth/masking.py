"""Pure masking functions, one per :class:`Mask` kind, and how people beyond a caller's scope
are shown where they are linked to someone in it (the one piece of policy kept here)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

import phonenumbers


class Mask(StrEnum):
    CLEAR = "clear"  # the value as stored
    HIDDEN = "hidden"  # null
    PHONE = "phone"  # +8613812345678 -> +86 138****5678 (mask_phone)
    EMAIL = "email"  # zhang.wei@example.com -> z***@example.com
    NAME = "name"  # 张伟 -> 张*
    LAST4 = "last4"  # only the last four characters
    CITY = "city"  # an address becomes the customer's city
    YEAR = "year"  # a date becomes null; the year stays available as birthYear


def _mask_digits(digits: str) -> str:
    """The last four digits shown; the first three too when at least four others stay hidden
    (an 11-digit mainland mobile: 138****5678, the carrier prefix and the last four, as
    before numbers carried their country code); nothing of a number under eight digits."""
    if len(digits) < 8:
        return "*" * len(digits)
    if len(digits) >= 11:
        return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_phone(value: str) -> str:
    """A phone as stored (E.164, ``+8613812345678``) → its country code, then the national
    number masked: ``+86 138****5678``; a Czech ``+420601123456`` → ``+420 *****3456``. A value
    stored before phones were E.164 (``13812345678``) is masked as it was: ``138****5678``."""
    text = str(value)
    if text.startswith("+"):
        try:
            number = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None and number.country_code:
            national = phonenumbers.national_significant_number(number)
            return f"+{number.country_code} {_mask_digits(national)}"
        return "+" + _mask_digits(re.sub(r"\D", "", text))
    return _mask_digits(text)


def mask_email(value: str) -> str:
    local, sep, domain = str(value).partition("@")
    if not sep:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_name(value: str) -> str:
    text = str(value)
    return text[:1] + "*" * max(len(text) - 1, 1)


def mask_last4(value: str) -> str:
    return str(value)[-4:]


def _clear(value: Any, _row: dict[str, Any]) -> Any:
    return value


def _hidden(_value: Any, _row: dict[str, Any]) -> None:
    return None


def _city(_value: Any, row: dict[str, Any]) -> Any:
    return row.get("city")


def _year(_value: Any, _row: dict[str, Any]) -> dt.date | None:
    return None


def _on_text(fn: Callable[[str], str]) -> Callable[[Any, dict[str, Any]], Any]:
    def apply(value: Any, _row: dict[str, Any]) -> Any:
        return None if value is None else fn(value)

    return apply


MASKERS: dict[Mask, Callable[[Any, dict[str, Any]], Any]] = {
    Mask.CLEAR: _clear,
    Mask.HIDDEN: _hidden,
    Mask.PHONE: _on_text(mask_phone),
    Mask.EMAIL: _on_text(mask_email),
    Mask.NAME: _on_text(mask_name),
    Mask.LAST4: _on_text(mask_last4),
    Mask.CITY: _city,
    Mask.YEAR: _year,
}


def apply_mask(mask: Mask, value: Any, row: dict[str, Any]) -> Any:
    """The value as a caller with this mask may see it (``row`` gives context, e.g. the city)."""
    return MASKERS[mask](value, row)


# A person beyond the caller's scope who is linked to someone within it (a household member, a
# referral partner, a co-holder, a node of the network) is shown with this name mask, an opaque
# id and nothing else; a former household member beyond the scope is not shown at all.
OUT_OF_SCOPE_NAME = Mask.NAME


def opaque_id(key: bytes, value: str) -> str:
    """An id that stands for ``value`` within one answer: stable under the same ``key`` (one per
    request), unlinkable across requests, and never a real id (``x-`` and hex digits)."""
    return "x-" + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:20]


def mask_within(text: str, shown: Mapping[str, str | None]) -> str:
    """``text`` with each name in ``shown`` replaced by how the caller sees it (``None``: not at
    all), longest names first, each occurrence once: a household named after its head is masked
    like the head's name."""
    names = sorted((n for n in shown if n and n in text), key=len, reverse=True)
    if not names:
        return text

    def replace(match: re.Match[str]) -> str:
        name = match.group(0)
        masked = shown[name]
        return "*" * len(name) if masked is None else masked

    return re.sub("|".join(re.escape(n) for n in names), replace, text)


# A phone, an account or an ID number written into free text (7 or more digits, spaces and
# dashes allowed between them), and an e-mail address.
_DIGIT_RUN = re.compile(r"\+?\d(?:[ -]?\d){6,}")
_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def mask_free_text(text: str, person: Mapping[str, Any], *, mask_names: bool) -> str:
    """Free text (a complaint's summary, a progress note) as a view that masks contact data may
    see it: the person's own phone, e-mail, address and national-ID digits as their masks, any
    other run of 7+ digits and any e-mail address masked alike, and the person's name masked
    when ``mask_names``. Heuristic for what others wrote about third parties, exact for the
    person's stored values."""
    shown: dict[str, str | None] = {}
    phone = person.get("phone")
    if phone:
        shown[str(phone)] = mask_phone(str(phone))
        digits = re.sub(r"\D", "", str(phone))
        if len(digits) > 11:  # its national number too (+86 13812345678 as 13812345678)
            shown[digits[-11:]] = mask_phone(digits[-11:])
    if person.get("email"):
        shown[str(person["email"])] = mask_email(str(person["email"]))
    if person.get("address"):
        shown[str(person["address"])] = person.get("city") or None
    if mask_names and person.get("name"):
        shown[str(person["name"])] = mask_name(str(person["name"]))
    out = mask_within(text, shown) if shown else text
    out = _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group(0)), out)
    out = _DIGIT_RUN.sub(lambda m: _mask_digits(re.sub(r"\D", "", m.group(0))), out)
    last4 = person.get("national_id_last4")
    if last4:
        out = re.sub(rf"(?<!\d){re.escape(str(last4))}(?!\d)", "****", out)
    return out
