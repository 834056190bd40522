"""Relay-style pagination: opaque cursors over a (sort value, customer id) key, and page limits."""

from __future__ import annotations

import base64
import json
from typing import Any

from c360.errors import BadUserInput

DEFAULT_PAGE = 20
MAX_PAGE = 100


def page_size(first: int | None, *, maximum: int = MAX_PAGE) -> int:
    if first is None:
        return DEFAULT_PAGE
    if first < 1 or first > maximum:
        raise BadUserInput(f"first must be between 1 and {maximum}")
    return first


def encode_cursor(sort_value: Any, key: str) -> str:
    raw = json.dumps([sort_value, key], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[Any, str] | None:
    """The (sort value, key) after which the next page starts; BAD_USER_INPUT when malformed."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, key = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise BadUserInput("after is not a cursor this API gave out") from exc
    if not isinstance(key, str) or not isinstance(value, str | int | float | None):
        raise BadUserInput("after is not a cursor this API gave out")
    return value, key
