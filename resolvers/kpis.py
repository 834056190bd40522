"""Management KPIs: a scope's report against the previous period, rankings of branches or RMs,
and trends over several periods, each in one graph read (graph/queries/kpis.py).

Who may ask for what: an RM for their own book, a branch manager for their branch (and a ranking
of its RMs), admins and auditors for the bank, any branch, any RM and every ranking; without a
scope, the caller's own (the bank for admins and auditors). Beyond that: FORBIDDEN, naming the
argument."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from auth import enforce
from auth.policy import Operation, Role
from core.errors import BadUserInput, Forbidden
from core.kpis import KpiDefinition, definitions, figures
from core.periods import Period
from core.quality import quality_config
from graph.queries import kpis as q
from graph.session import all_rows
from resolvers.complaint_view import sla_params
from resolvers.context import Context

KpiGroups = q.KpiGroups
# the single-group scopes a report is about
SCOPES = (KpiGroups.BANK, KpiGroups.BRANCH, KpiGroups.RELATIONSHIP_MANAGER)
MAX_TREND_PERIODS = 12


@dataclass(frozen=True)
class KpiFigure:
    definition: KpiDefinition
    value: float | None
    previous: float | None

    @property
    def met(self) -> bool | None:
        return self.definition.met(self.value)


@dataclass(frozen=True)
class KpiReport:
    scope: KpiGroups
    scope_id: str | None
    period: Period
    previous_period: Period | None
    scored_at: Any
    figures: list[KpiFigure]


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


def _window(key: str, period: Period) -> dict[str, Any]:
    lo, hi = period.instants()
    return {"key": key, "start": period.start, "end": period.end, "from": lo, "to": hi}


def request(
    settings: Any,
    groups: KpiGroups,
    group_id: str | None,
    periods: dict[str, Period],
    now: dt.datetime,
) -> tuple[str, dict[str, Any]]:
    """The one query of a report, ranking or trend and its parameters (the API and ``c360
    kpis`` send the same). ``periods``: window key -> period."""
    return q.KPI_COUNTS[groups], {
        **sla_params(settings, now),
        "windows": [_window(key, p) for key, p in periods.items()],
        "branch_id": group_id
        if groups in (KpiGroups.BRANCH, KpiGroups.BRANCH_RELATIONSHIP_MANAGERS)
        else None,
        "rm_id": group_id if groups is KpiGroups.RELATIONSHIP_MANAGER else None,
        "properties": [f.property for f in quality_config().fields],
    }


def _counts(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict]]:
    """window key -> group -> counts."""
    return {r["key"]: q.by_group(r) for r in rows}


def _figures_of(counts: dict[str, dict], group: str, period: Period) -> dict[str, float | None]:
    return figures(counts.get(group) or {**q.ZERO, "completeness": []}, period)


def report(
    rows: list[dict[str, Any]],
    scope: KpiGroups,
    scope_id: str | None,
    period: Period,
    compare: bool,
) -> KpiReport:
    counts = _counts(rows)
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
    )


def definition(code: str) -> KpiDefinition:
    d = definitions().get(code)
    if d is None:
        raise BadUserInput(f"code: {code!r} is not a KPI; see kpis {{ code }}")
    return d


async def kpis(
    ctx: Context,
    *,
    scope: KpiGroups,
    scope_id: str | None,
    period: Period,
    compare: bool,
    now: dt.datetime | None = None,
) -> KpiReport:
    """Every KPI of kpis.toml for ``period`` (and the period before when ``compare``): one read."""
    periods = {"current": period}
    if compare:
        periods["previous"] = period.previous()
    query, params = request(ctx.settings, scope, scope_id, periods, now or dt.datetime.now(dt.UTC))
    rows = await ctx.read(all_rows, query=query, params=params)
    return report(rows, scope, scope_id, period, compare)


async def ranking(
    ctx: Context, *, code: str, groups: KpiGroups, group_id: str | None, period: Period
) -> list[RankedGroup]:
    """Every branch or RM by one KPI, best first (the target's direction; without one,
    highest first), groups without a value last. One read."""
    d = definition(code)
    query, params = request(
        ctx.settings, groups, group_id, {"current": period}, dt.datetime.now(dt.UTC)
    )
    rows = await ctx.read(all_rows, query=query, params=params)
    counts = _counts(rows)["current"]
    ranked = [
        RankedGroup(g, value, d.met(value))
        for g in counts
        for value in [_figures_of(counts, g, period)[code]]
    ]
    sign = 1 if d.better == "lower" else -1
    return sorted(ranked, key=lambda r: (r.value is None, sign * (r.value or 0.0), r.group_id))


async def trend(
    ctx: Context,
    *,
    code: str,
    scope: KpiGroups,
    scope_id: str | None,
    last: Period,
    count: int,
) -> list[tuple[Period, float | None]]:
    """One KPI over ``count`` periods ending with ``last``, oldest first. One read."""
    definition(code)
    if not 1 <= count <= MAX_TREND_PERIODS:
        raise BadUserInput(f"periods: between 1 and {MAX_TREND_PERIODS}")
    periods = {p.label: p for p in last.back(count)}
    query, params = request(ctx.settings, scope, scope_id, periods, dt.datetime.now(dt.UTC))
    rows = await ctx.read(all_rows, query=query, params=params)
    counts = _counts(rows)
    return [(p, _figures_of(counts[key], "all", p)[code]) for key, p in periods.items()]
