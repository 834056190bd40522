"""Reporting periods: quarters, half-years, years and date ranges, and the period before each.

The bank assesses its targets per quarter (tiers are re-evaluated at every quarter end), half-year
(satisfaction: +2 points per half-year) and year (churn). A period is whole days in the bank's
calendar, ``start`` and ``end`` inclusive; the graph stores instants in UTC, so a period's
instants are [start 00:00 UTC, the day after end 00:00 UTC)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from core.errors import BadUserInput


class PeriodKind(StrEnum):
    QUARTER = "QUARTER"
    HALF_YEAR = "HALF_YEAR"
    YEAR = "YEAR"
    RANGE = "RANGE"


_MONTHS = {PeriodKind.QUARTER: 3, PeriodKind.HALF_YEAR: 6, PeriodKind.YEAR: 12}
_LABEL = re.compile(r"^(?P<year>\d{4})(?:(?P<q>Q[1-4])|(?P<h>H[12]))?$")


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    start: dt.date
    end: dt.date  # inclusive

    @property
    def label(self) -> str:
        if self.kind is PeriodKind.QUARTER:
            return f"{self.start.year}Q{(self.start.month - 1) // 3 + 1}"
        if self.kind is PeriodKind.HALF_YEAR:
            return f"{self.start.year}H{(self.start.month - 1) // 6 + 1}"
        if self.kind is PeriodKind.YEAR:
            return str(self.start.year)
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def instants(self) -> tuple[dt.datetime, dt.datetime]:
        """[start 00:00 UTC, the day after end 00:00 UTC)."""
        lo = dt.datetime.combine(self.start, dt.time(), tzinfo=dt.UTC)
        hi = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        return lo, hi

    def previous(self) -> Period:
        """The period of the same kind just before (a range: as many days, ending the day
        before it starts)."""
        if self.kind is PeriodKind.RANGE:
            end = self.start - dt.timedelta(days=1)
            return Period(PeriodKind.RANGE, end - dt.timedelta(days=self.days - 1), end)
        return containing(self.kind, self.start - dt.timedelta(days=1))

    def back(self, count: int) -> list[Period]:
        """``count`` periods ending with this one, oldest first (a trend's x axis)."""
        periods = [self]
        while len(periods) < count:
            periods.append(periods[-1].previous())
        return periods[::-1]


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def containing(kind: PeriodKind, day: dt.date) -> Period:
    """The quarter, half-year or year ``day`` falls in."""
    months = _MONTHS[kind]
    first_month = (day.month - 1) // months * months + 1
    last_month = first_month + months - 1
    return Period(kind, dt.date(day.year, first_month, 1), _month_end(day.year, last_month))


def last_complete(kind: PeriodKind, today: dt.date) -> Period:
    """The newest period of ``kind`` that has ended by ``today``."""
    return containing(kind, today).previous()


def parse(text: str, *, argument: str = "period") -> Period:
    """``2026Q3``, ``2026H1``, ``2026`` or ``2026-07-01..2026-09-30``; a bad label is refused
    naming ``argument``."""
    text = (text or "").strip()
    if ".." in text:
        left, _, right = text.partition("..")
        try:
            start, end = dt.date.fromisoformat(left), dt.date.fromisoformat(right)
        except ValueError as exc:
            raise BadUserInput(
                f"{argument}: {text!r} is not a YYYY-MM-DD..YYYY-MM-DD range"
            ) from exc
        return of_range(start, end, argument=argument)
    m = _LABEL.match(text)
    if not m:
        raise BadUserInput(
            f"{argument}: {text!r} is not a period: use 2026Q3, 2026H1, 2026 or "
            "2026-07-01..2026-09-30"
        )
    year = int(m["year"])
    if m["q"]:
        return containing(PeriodKind.QUARTER, dt.date(year, 3 * int(m["q"][1]) - 2, 1))
    if m["h"]:
        return containing(PeriodKind.HALF_YEAR, dt.date(year, 6 * int(m["h"][1]) - 5, 1))
    return containing(PeriodKind.YEAR, dt.date(year, 1, 1))


def of_range(start: dt.date, end: dt.date, *, argument: str = "period") -> Period:
    if end < start:
        raise BadUserInput(f"{argument}: to ({end}) is before from ({start})")
    if (end - start).days > 3660:
        raise BadUserInput(f"{argument}: at most ten years")
    return Period(PeriodKind.RANGE, start, end)
