"""The fast datetime and date paths send exactly what the driver's own paths send, and Neo4j
agrees."""

from __future__ import annotations

import datetime as dt
import random

import neo4j.time
from neo4j._codec.hydration.v1 import temporal as temporal_v1
from neo4j._codec.hydration.v2 import temporal

from graph import fast_temporal

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
WEST = dt.timezone(dt.timedelta(hours=-5, minutes=-30))


def _values() -> list[dt.datetime]:
    rng = random.Random(5)
    out = [dt.datetime(1970, 1, 1), dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)]
    for _ in range(2000):
        naive = dt.datetime(1900, 1, 1) + dt.timedelta(
            days=rng.randrange(0, 60_000), seconds=rng.randrange(86400),
            microseconds=rng.randrange(1_000_000),
        )  # fmt: skip
        out += [naive, naive.replace(tzinfo=dt.UTC), naive.replace(tzinfo=SHANGHAI),
                naive.replace(tzinfo=WEST)]  # fmt: skip
    return out


def test_fast_path_is_installed_and_gives_the_drivers_structures() -> None:
    assert fast_temporal.install()
    assert temporal.dehydrate_datetime is fast_temporal.dehydrate_datetime
    original = fast_temporal._original
    for value in _values():
        fast, slow = fast_temporal.dehydrate_datetime(value), original(value)
        assert (fast.tag, fast.fields) == (slow.tag, slow.fields), value


def test_values_sent_by_the_fast_path_come_back_equal_from_neo4j(driver, settings) -> None:
    values = _values()[:400]
    got = driver.execute_query(
        "UNWIND $values AS v RETURN v", values=values, database_=settings.neo4j_database
    ).records
    for sent, record in zip(values, got, strict=True):
        back = record["v"].to_native()
        assert back == sent and back.utcoffset() == sent.utcoffset()


def _dates() -> list[dt.date]:
    rng = random.Random(7)
    ends = [
        dt.date.min,
        dt.date.max,
        dt.date(1970, 1, 1),
        dt.date(1969, 12, 31),
        dt.date(2000, 2, 29),
    ]
    return ends + [
        dt.date.fromordinal(rng.randrange(1, dt.date.max.toordinal())) for _ in range(3000)
    ]


def test_fast_date_path_is_installed_and_gives_the_drivers_structures() -> None:
    assert fast_temporal.install()
    assert temporal_v1.dehydrate_date is fast_temporal.dehydrate_date
    original = fast_temporal._original_date
    for value in [*_dates(), neo4j.time.Date(2024, 2, 29), neo4j.time.Date(1, 1, 1)]:
        fast, slow = fast_temporal.dehydrate_date(value), original(value)
        assert (fast.tag, fast.fields) == (slow.tag, slow.fields), value


def test_a_connection_made_now_packs_dates_and_datetimes_the_fast_way() -> None:
    """The hooks a Bolt 5 connection takes when it is made (the driver builds a hydration handler
    per connection): the fast functions, not only the patched module attributes."""
    from neo4j._codec.hydration.v2 import HydrationHandler

    assert fast_temporal.install()
    hooks = HydrationHandler().dehydration_hooks.exact_types
    assert hooks[dt.date] is fast_temporal.dehydrate_date
    assert hooks[dt.datetime] is fast_temporal.dehydrate_datetime
    assert hooks[neo4j.time.Date] is fast_temporal.dehydrate_date  # (it passes them on)


def test_dates_sent_by_the_fast_path_come_back_equal_from_neo4j(driver, settings) -> None:
    values = _dates()[:600]
    got = driver.execute_query(
        "UNWIND $values AS v RETURN v, toString(v) AS text",
        values=values,
        database_=settings.neo4j_database,
    ).records
    for sent, record in zip(values, got, strict=True):
        assert record["v"].to_native() == sent
        assert record["text"] == sent.isoformat()  # Neo4j's own reading of what was sent


def _rows() -> list[dict]:
    """Rows as the loader sends them: nested maps, lists, dates, NumPy numbers, None."""
    import numpy as np

    when = dt.datetime(2025, 3, 9, 8, 30, tzinfo=dt.UTC)
    return [
        {
            "interaction_id": f"I{k}",
            "origin": ["crm", f"S{k}"],
            "props": {
                "occurred_at": when,
                "day": dt.date(2020, 1, k + 1),
                "nps": None,
                "amount": np.float64(k / 3),
                "count": np.int64(k),
                "tags": ["a", "b"],
            },
        }
        for k in range(20)
    ]


def _packed(rows: list[dict], *, python: bool = False) -> bytes:
    """The bytes of ``rows`` as a query's parameter: by the packer the driver uses (its Rust
    extension), or by the driver's own Python packer."""
    from neo4j._codec.hydration.v2 import HydrationHandler
    from neo4j._codec.packstream.v1 import Packer

    out = bytearray()

    class Sink:
        def write(self, b: bytes) -> None:
            out.extend(b)

    packer = Packer(Sink())
    hooks = packer._inject_hooks(HydrationHandler().new_hydration_scope().dehydration_hooks)
    (packer._py_pack if python else packer._pack)({"rows": rows}, hooks)
    return bytes(out)


def test_the_packer_asks_no_abstract_class_of_a_row_and_packs_the_same_bytes(monkeypatch) -> None:
    """The packer's sequence types without pandas' abstract ``Categorical``: packing the loader's
    rows calls no ``ABCMeta.__instancecheck__`` (it did for every map and date), and the bytes are
    those the driver's own Python packer writes with its full list of sequence types."""
    import abc

    import pandas as pd
    from neo4j._codec.packstream import v1
    from neo4j._codec.packstream.v1 import types

    assert fast_temporal.install()
    assert pd.Categorical not in types.SEQUENCE_TYPES
    assert pd.Series in types.SEQUENCE_TYPES  # (a Series is still sent as a list)
    asked: list[type] = []
    real = abc.ABCMeta.__instancecheck__

    def spy(cls: abc.ABCMeta, instance: object) -> bool:
        asked.append(cls)
        return real(cls, instance)

    with monkeypatch.context() as m:
        m.setattr(abc.ABCMeta, "__instancecheck__", spy)
        packed = _packed(_rows())
    assert asked == []
    # the driver's own list of sequence types, for its Python packer
    monkeypatch.setattr(v1, "SEQUENCE_TYPES", (*types.SEQUENCE_TYPES, pd.Categorical))
    assert _packed(_rows(), python=True) == packed


def test_a_series_and_a_categorical_still_reach_neo4j_as_lists(driver, settings) -> None:
    import pandas as pd

    got = driver.execute_query(
        "RETURN $values AS v, $codes AS c",
        values=pd.Series([3, 1, 2]),
        codes=pd.Categorical(["b", "a", "b"]),
        database_=settings.neo4j_database,
    ).records
    assert got[0]["v"] == [3, 1, 2] and got[0]["c"] == ["b", "a", "b"]
