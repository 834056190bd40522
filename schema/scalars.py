"""Conversions of stored values to GraphQL scalars (rows arrive with Python temporal values,
graph/session.py; maps built with Cypher's toString() carry ISO text)."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any


def to_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, str):  # ISO text from Cypher's toString()
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def to_datetime(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # ISO text from Cypher's toString(), without a [zone id]
        text = value.split("[", 1)[0]
        parsed = dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
        return to_datetime(parsed)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    return value


def enum_or_none(cls: type[Enum], value: Any) -> Any:
    """The enum member for a stored value, or None for a value the enum does not know."""
    return cls._value2member_map_.get(value)  # the member itself, as cls(value) gives it
