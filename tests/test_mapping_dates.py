"""The mapping's dates and datetimes made by numpy are the values pandas' own Timestamps give,
value for value (etl/mapping._dates_of, _utc_datetimes_of)."""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd

from etl.mapping import _dates_of, _utc_datetimes_of


def _texts(n: int) -> list[str | None]:
    rng = random.Random(11)
    out: list[str | None] = [None, "not a date", "1900-01-01 00:00:00", "2262-04-10 23:47:16"]
    for _ in range(n):
        day = dt.datetime(1700, 1, 1) + dt.timedelta(
            days=rng.randrange(0, 200_000), seconds=rng.randrange(86400)
        )
        out.append(day.strftime("%Y-%m-%d %H:%M:%S") if rng.random() > 0.05 else None)
    # a local time that does not exist (a DST gap) and one that is ambiguous, in New York
    return out + ["2021-03-14 02:30:00", "2021-11-07 01:30:00"]


def test_dates_are_pandas_own_dates() -> None:
    parsed = pd.to_datetime(pd.Series(_texts(5000), dtype=object), format="%Y-%m-%d %H:%M:%S",
                            errors="coerce")  # fmt: skip
    want = [None if pd.isna(v) else v.date() for v in parsed]
    got = _dates_of(parsed)
    assert got == want
    assert {type(v) for v in got} == {dt.date, type(None)}


def test_dates_with_offsets_keep_their_local_day() -> None:
    parsed = pd.to_datetime(
        pd.Series(["2024-01-01 23:30:00+0800", None, "2024-01-02 00:30:00+0800"], dtype=object),
        format="%Y-%m-%d %H:%M:%S%z", errors="coerce", utc=False,
    )  # fmt: skip
    assert parsed.dtype != "datetime64[ns]"  # not naive: the per-value path
    assert _dates_of(parsed) == [dt.date(2024, 1, 1), None, dt.date(2024, 1, 2)]


def test_utc_datetimes_are_pandas_own_datetimes() -> None:
    parsed = pd.to_datetime(pd.Series(_texts(5000), dtype=object), format="%Y-%m-%d %H:%M:%S",
                            errors="coerce")  # fmt: skip
    for zone in ("Asia/Shanghai", "America/New_York", "UTC"):
        utc = parsed.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
        want = [None if pd.isna(v) else v.to_pydatetime() for v in utc]
        got = _utc_datetimes_of(utc)
        assert got == want, zone
        assert [v.isoformat() for v in got if v] == [v.isoformat() for v in want if v]
        assert all(v.tzinfo is dt.UTC for v in got if v)
        if zone == "America/New_York":  # the gap and the ambiguous hour are refused
            assert got[-2:] == [None, None]
