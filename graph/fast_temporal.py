"""A faster way for the driver to send Python ``datetime`` and ``date`` values (the loader sends
millions).

The driver (5.x) turns each native ``datetime`` into a ``neo4j.time.DateTime`` and back through
pytz to find its epoch seconds: py-spy showed this one function taking 44 % of a 1,000,000-customer
load's samples (source records and interactions carry several timestamps each). For the values we
send (naive, or with a fixed UTC offset such as ``datetime.UTC``) the Bolt structure is plain
arithmetic; anything else (named zones, subclasses such as ``pandas.Timestamp``, sub-second
offsets) still goes to the driver's own function, so the bytes sent are the same either way
(tests/test_fast_temporal.py compares both on many values and round-trips them through Neo4j).
The same for ``date``: the driver builds a ``neo4j.time.Date`` of 1970-01-01 for every value it
sends (3.5 us a date, against 0.1 us for a string); a customer row carries two dates and an
account row two, so dates were half of what packing the loader's customer and account rows cost.

:func:`install` replaces the module attributes the driver's Bolt 5 hydration handler reads when a
connection is made. It touches a private module of the driver: if that module is not where this
driver version keeps it, nothing is changed and the driver's own path is used.

The packer asks of every value that is not a string or a number, a row's ``dict`` and each date
included, whether it is a sequence, among them pandas' ``Categorical``: an abstract class, whose
``isinstance`` runs Python code (``ABCMeta.__instancecheck__``), 4 s of a 100,000-customer load's
writer thread (py-spy) and a sixth of what packing an interaction row costs. :func:`install`
takes it out of the packer's sequence types; a ``Categorical`` is still packed as a list, as the
``ExtensionArray`` it is (a class the packer still asks about, without Python code). The driver's
Rust extension reads those types once, at the first value it packs in the process: graph/driver.py
installs this when it is imported, before any driver is made. Its Python fallback reads its own
copy of the tuple, which is changed too.
"""

from __future__ import annotations

import abc
import datetime as dt
import logging
from typing import Any

log = logging.getLogger("c360.graph")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_original: Any = None  # the driver's own function, for values the fast path does not cover
_original_date: Any = None  # the same for dates (``neo4j.time.Date`` goes there)
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


def dehydrate_date(value: Any) -> Any:
    if type(value) is dt.date:
        return _Structure(b"D", value.toordinal() - _EPOCH_ORDINAL)
    return _original_date(value)


def install() -> bool:
    """Use :func:`dehydrate_datetime` and :func:`dehydrate_date` for connections made from now
    on; True when installed."""
    global _original, _original_date, _Structure
    try:
        from neo4j._codec.hydration.v1 import temporal as temporal_v1
        from neo4j._codec.hydration.v2 import temporal
        from neo4j._codec.packstream import Structure
    except ImportError:  # another driver layout: keep the driver's own path
        log.info("fast temporal dehydration not installed (driver layout differs)")
        return False
    _Structure = Structure
    if temporal.dehydrate_datetime is not dehydrate_datetime:
        _original = temporal.dehydrate_datetime
        temporal.dehydrate_datetime = dehydrate_datetime
    if temporal_v1.dehydrate_date is not dehydrate_date:
        _original_date = temporal_v1.dehydrate_date
        temporal_v1.dehydrate_date = dehydrate_date
    _lean_sequence_types()
    return True


def _lean_sequence_types() -> None:
    """The packer's sequence types without the abstract one (the module docstring)."""
    try:
        from neo4j._codec.packstream import v1
        from neo4j._codec.packstream.v1 import types
    except ImportError:
        return
    lean = tuple(t for t in types.SEQUENCE_TYPES if type(t) is not abc.ABCMeta)
    types.SEQUENCE_TYPES = lean  # (what the Rust extension reads)
    if hasattr(v1, "SEQUENCE_TYPES"):
        v1.SEQUENCE_TYPES = lean  # (the Python fallback's copy)
