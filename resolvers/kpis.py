"""Management KPIs: a scope's report against the previous period, rankings of branches or RMs,
and trends over several periods (graph/queries/kpis.py). Standard periods come from the
snapshot the last scoring run wrote when it is current (scoring/kpi_snapshots.py: one read of a
few nodes), others are counted live (one read); the answer says which (``source``).

Who may ask for what: an RM for their own book, a branch manager for their branch (and a ranking
of its RMs), admins and auditors for the bank, any branch, any RM and every ranking; without a
scope, the caller's own (the bank for admins and auditors). Beyond that: FORBIDDEN, naming the
argument."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from neo4j import AsyncDriver

from auth import enforce
from auth.policy import Operation, Role
from core.errors import BadUserInput, DomainError, ErrorCode, Forbidden, ServiceUnavailableError
from core.kpis import KpiDefinition, definitions, figures
from core.periods import Period, PeriodKind
from core.settings import Settings
from graph import session
from graph.queries import kpi_snapshots as sq
from graph.queries import kpis as q
from resolvers.context import Context
from scoring.kpi_snapshots import SNAPSHOT_OF, counts_request, decode

KpiGroups = q.KpiGroups
# the single-group scopes a report is about
SCOPES = (KpiGroups.BANK, KpiGroups.BRANCH, KpiGroups.RELATIONSHIP_MANAGER)
MAX_TREND_PERIODS = 12


class Reader(Protocol):
    """What the counting needs: the settings and a graph read (a request's Context, or
    DriverReader for the terminal and benchmarks)."""

    settings: Settings

    async def read(self, work: Any, /, **params: Any) -> Any: ...


@dataclass
class DriverReader:
    """Reads outside a request (``c360 kpis``, bench/kpis.py), the way a Context reads, without
    the API's query timeout: a live count at bank size takes minutes."""

    driver: AsyncDriver
    settings: Settings
    round_trips: int = 0
    timeout_s: float = 3600.0

    def __post_init__(self) -> None:
        session.set_query_timeout(self.driver, self.timeout_s)

    async def read(self, work: Any, /, **params: Any) -> Any:
        self.round_trips += 1
        return await session.read(self.driver, self.settings.neo4j_database, work, **params)


class KpiSource(StrEnum):
    LIVE = "LIVE"  # counted now
    SNAPSHOT = "SNAPSHOT"  # counted by the last scoring run


@dataclass(frozen=True)
class Counts:
    """What a read counted: window key -> group -> counts, where from and when."""

    windows: dict[str, dict[str, dict]]
    source: KpiSource
    computed_at: dt.datetime


@dataclass(frozen=True)
class KpiFigure:
    definition: KpiDefinition
    value: float | None
    previous: float | None

    @property
    def met(self) -> bool | None:
        return self.definition.met(self.value, self.previous)


@dataclass(frozen=True)
class KpiReport:
    scope: KpiGroups
    scope_id: str | None
    period: Period
    previous_period: Period | None
    scored_at: Any
    figures: list[KpiFigure]
    source: KpiSource
    computed_at: dt.datetime


@dataclass(frozen=True)
class RankedGroup:
    group_id: str  # a branch id or an employee id
    value: float | None
    met: bool | None


def _wide(ctx: Context) -> bool:
    return bool(ctx.principal.roles & {Role.ADMIN, Role.AUDITOR})


def resolve_scope(
    ctx: Context, *, bank: bool, branch_id: str | None, rm_id: str | None
) -> tuple[KpiGroups, str | None]:
    """The scope asked for, or the caller's own; refused beyond the caller's rights."""
    enforce.require(ctx.principal, Operation.READ_KPIS)
    asked = [
        name
        for name, v in (("bank", bank), ("branchId", branch_id), ("relationshipManagerId", rm_id))
        if v
    ]
    if len(asked) > 1:
        raise BadUserInput(
            f"scope: give one of bank, branchId, relationshipManagerId, not {' and '.join(asked)}"
        )
    p = ctx.principal
    wide = _wide(ctx)
    if not asked:
        if wide:
            return KpiGroups.BANK, None
        if Role.BRANCH_MANAGER in p.roles and p.branch_id:
            return KpiGroups.BRANCH, p.branch_id
        return KpiGroups.RELATIONSHIP_MANAGER, p.employee_id
    if bank:
        if not wide:
            raise Forbidden("scope.bank: your role sees the figures of your own scope only.")
        return KpiGroups.BANK, None
    if branch_id:
        if not wide and not (Role.BRANCH_MANAGER in p.roles and p.branch_id == branch_id):
            raise Forbidden("scope.branchId: you may ask for your own branch only.")
        return KpiGroups.BRANCH, branch_id
    assert rm_id is not None
    if not wide and not (Role.RELATIONSHIP_MANAGER in p.roles and p.employee_id == rm_id):
        raise Forbidden("scope.relationshipManagerId: you may ask for your own book only.")
    return KpiGroups.RELATIONSHIP_MANAGER, rm_id


def resolve_ranking(ctx: Context, by: str) -> tuple[KpiGroups, str | None]:
    """``by`` BRANCH or RM: admins and auditors rank every branch or RM; a branch manager ranks
    the RMs of their branch."""
    enforce.require(ctx.principal, Operation.READ_KPIS)
    if _wide(ctx):
        return (
            (KpiGroups.EVERY_BRANCH, None)
            if by == "BRANCH"
            else (KpiGroups.EVERY_RELATIONSHIP_MANAGER, None)
        )
    p = ctx.principal
    if by == "RM" and Role.BRANCH_MANAGER in p.roles and p.branch_id:
        return KpiGroups.BRANCH_RELATIONSHIP_MANAGERS, p.branch_id
    raise Forbidden(f"by: {by} rankings are for admins and auditors (a branch manager: RM).")


async def count(
    ctx: Reader,
    groups: KpiGroups,
    group_id: str | None,
    periods: dict[str, Period],
    *,
    live: bool = False,
    now: dt.datetime | None = None,
) -> Counts:
    """The counts of ``periods`` (window key -> period) for a scope or ranking: from the current
    snapshot when it holds them all (one read), else live (one more)."""
    now = now or dt.datetime.now(dt.UTC)
    if (
        groups
        in (
            KpiGroups.BRANCH,
            KpiGroups.RELATIONSHIP_MANAGER,
            KpiGroups.BRANCH_RELATIONSHIP_MANAGERS,
        )
        and not group_id
    ):
        raise BadUserInput(f"scope: a {groups.value} scope needs its id")
    if not live and all(p.kind is not PeriodKind.RANGE for p in periods.values()):
        labels = sorted({p.label for p in periods.values()})
        branch_rms = groups is KpiGroups.BRANCH_RELATIONSHIP_MANAGERS
        params = {
            "groups": SNAPSHOT_OF[groups].value,
            "labels": labels,
            "group_id": None if branch_rms else group_id,
            "branch_rms": branch_rms,
            "branch_id": group_id if branch_rms else None,
        }
        row = await ctx.read(session.one_row, query=sq.READ, params=params)
        single = groups in SCOPES  # its one group is a report's 'all'
        if row and row["run_id"] and not row["newer"] and set(labels) <= set(row["periods"]):
            by_label: dict[str, dict[str, dict]] = {label: {} for label in labels}
            for s in row["snapshots"]:
                if s["period"] is not None:
                    by_label[s["period"]]["all" if single else s["group"]] = decode(
                        s["counts_json"]
                    )
            return Counts(
                {key: by_label[p.label] for key, p in periods.items()},
                KpiSource.SNAPSHOT,
                row["computed_at"],
            )
    query, params = counts_request(ctx.settings, groups, group_id, periods, now)
    try:
        rows = await ctx.read(session.all_rows, query=query, params=params)
    except ServiceUnavailableError as exc:
        if not isinstance(exc.__cause__, session.GraphTimeout):
            raise
        raise DomainError(
            f"period: counting {', '.join(p.label for p in periods.values())} live for this "
            "scope takes longer than the API allows; ask for a quarter, half-year or year that "
            "ended before the last scoring run (`c360 score` counts those ahead), or count it "
            "in the terminal: `c360 kpis --live`",
            code=ErrorCode.LIMIT_EXCEEDED,
        ) from exc
    return Counts(q.by_window(rows[0], periods), KpiSource.LIVE, now)


def _figures_of(counts: dict[str, dict], group: str, period: Period) -> dict[str, float | None]:
    return figures(counts.get(group) or {**q.ZERO, "completeness": []}, period)


def report(
    read: Counts,
    scope: KpiGroups,
    scope_id: str | None,
    period: Period,
    compare: bool,
) -> KpiReport:
    counts = read.windows
    previous = period.previous() if compare else None
    current = _figures_of(counts["current"], "all", period)
    before = _figures_of(counts["previous"], "all", previous) if previous is not None else {}
    scored_at = (counts["current"].get("all") or {}).get("scored_at")
    return KpiReport(
        scope=scope,
        scope_id=scope_id,
        period=period,
        previous_period=previous,
        scored_at=scored_at,
        figures=[
            KpiFigure(d, current.get(code), None if d.live else before.get(code))
            for code, d in definitions().items()
        ],
        source=read.source,
        computed_at=read.computed_at,
    )


def definition(code: str) -> KpiDefinition:
    d = definitions().get(code)
    if d is None:
        raise BadUserInput(f"code: {code!r} is not a KPI; see kpis {{ code }}")
    return d


async def kpis(
    ctx: Reader,
    *,
    scope: KpiGroups,
    scope_id: str | None,
    period: Period,
    compare: bool,
    live: bool = False,
    now: dt.datetime | None = None,
) -> KpiReport:
    """Every KPI of kpis.toml for ``period`` (and the period before when ``compare``)."""
    periods = {"current": period}
    if compare:
        periods["previous"] = period.previous()
    read = await count(ctx, scope, scope_id, periods, live=live, now=now)
    return report(read, scope, scope_id, period, compare)


async def ranking(
    ctx: Context,
    *,
    code: str,
    groups: KpiGroups,
    group_id: str | None,
    period: Period,
    live: bool = False,
) -> tuple[list[RankedGroup], Counts]:
    """Every branch or RM by one KPI, best first (the target's direction; without one,
    highest first), groups without a value last; and where the counts came from."""
    d = definition(code)
    periods = {"current": period}
    if d.target_change_pct is not None:  # a relative target is judged against the period before
        periods["previous"] = period.previous()
    read = await count(ctx, groups, group_id, periods, live=live)
    counts = read.windows["current"]
    before = read.windows.get("previous", {})
    ranked = [
        RankedGroup(g, value, d.met(value, previous))
        for g in counts
        for value in [_figures_of(counts, g, period)[code]]
        for previous in [
            _figures_of(before, g, period.previous())[code] if "previous" in periods else None
        ]
    ]
    sign = 1 if d.better == "lower" else -1
    ranked.sort(key=lambda r: (r.value is None, sign * (r.value or 0.0), r.group_id))
    return ranked, read


async def trend(
    ctx: Context,
    *,
    code: str,
    scope: KpiGroups,
    scope_id: str | None,
    last: Period,
    periods: int,
    live: bool = False,
) -> tuple[list[tuple[Period, float | None]], Counts]:
    """One KPI over ``periods`` periods ending with ``last``, oldest first; and where the counts
    came from."""
    definition(code)
    if not 1 <= periods <= MAX_TREND_PERIODS:
        raise BadUserInput(f"periods: between 1 and {MAX_TREND_PERIODS}")
    windows = {p.label: p for p in last.back(periods)}
    read = await count(ctx, scope, scope_id, windows, live=live)
    return [(p, _figures_of(read.windows[key], "all", p)[code]) for key, p in windows.items()], read
