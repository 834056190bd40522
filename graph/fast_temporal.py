"""A faster way for the driver to send Python ``datetime`` values (the loader sends millions).

The driver (5.x) turns each native ``datetime`` into a ``neo4j.time.DateTime`` and back through
pytz to find its epoch seconds: py-spy showed this one function taking 44 % of a 1,000,000-customer
load's samples (source records and interactions carry several timestamps each). For the values we
send (naive, or with a fixed UTC offset such as ``datetime.UTC``) the Bolt structure is plain
arithmetic; anything else (named zones, subclasses such as ``pandas.Timestamp``, sub-second
offsets) still goes to the driver's own function, so the bytes sent are the same either way
(tests/test_fast_temporal.py compares both on many values and round-trips them through Neo4j).

:func:`install` replaces the module attribute the driver's Bolt 5 hydration handler reads when a
connection is made. It touches a private module of the driver: if that module is not where this
driver version keeps it, nothing is changed and the driver's own path is used.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

log = logging.getLogger("c360.graph")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_original: Any = None  # the driver's own function, for values the fast path does not cover
_Structure: Any = None  # the driver's packstream Structure, bound by install()


def dehydrate_datetime(value: Any) -> Any:
    if type(value) is dt.datetime:
        tz = value.tzinfo
        if tz is None:
            d = value.replace(tzinfo=dt.UTC) - _EPOCH
            return _Structure(b"d", d.days * 86400 + d.seconds, d.microseconds * 1000)
        if type(tz) is dt.timezone:
            offset = tz.utcoffset(None)
            if not offset.microseconds:
                d = value - _EPOCH
                return _Structure(
                    b"I",
                    d.days * 86400 + d.seconds,
                    d.microseconds * 1000,
                    offset.days * 86400 + offset.seconds,
                )
    return _original(value)


def install() -> bool:
    """Use :func:`dehydrate_datetime` for connections made from now on; True when installed."""
    global _original, _Structure
    try:
        from neo4j._codec.hydration.v2 import temporal
        from neo4j._codec.packstream import Structure
    except ImportError:  # another driver layout: keep the driver's own path
        log.info("fast datetime dehydration not installed (driver layout differs)")
        return False
    if temporal.dehydrate_datetime is not dehydrate_datetime:
        _original, _Structure = temporal.dehydrate_datetime, Structure
        temporal.dehydrate_datetime = dehydrate_datetime
    return True
