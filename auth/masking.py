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


class Mask(StrEnum):
    CLEAR = "clear"  # the value as stored
    HIDDEN = "hidden"  # null
    PHONE = "phone"  # 13812345678 -> 138****5678
    EMAIL = "email"  # zhang.wei@example.com -> z***@example.com
    NAME = "name"  # 张伟 -> 张*
    LAST4 = "last4"  # only the last four characters
    CITY = "city"  # an address becomes the customer's city
    YEAR = "year"  # a date becomes null; the year stays available as birthYear


def mask_phone(value: str) -> str:
    digits = str(value)
    if len(digits) < 8:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


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
