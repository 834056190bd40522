"""Management KPIs for a scope and period, against the previous period, in one graph read.

Who may ask for what: an RM for their own book, a branch manager for their branch, admins and
auditors for the bank, any branch or any RM; without a scope, the caller's own (the bank for
admins and auditors). Asking beyond that is FORBIDDEN, naming the argument."""

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

KpiScope = q.KpiScope


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
    scope: KpiScope
    scope_id: str | None
    period: Period
    previous_period: Period | None
    scored_at: Any
    figures: list[KpiFigure]


def resolve_scope(
    ctx: Context, *, bank: bool, branch_id: str | None, rm_id: str | None
) -> tuple[KpiScope, str | None]:
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
    wide = bool(p.roles & {Role.ADMIN, Role.AUDITOR})
    if not asked:
        if wide:
            return KpiScope.BANK, None
        if Role.BRANCH_MANAGER in p.roles and p.branch_id:
            return KpiScope.BRANCH, p.branch_id
        return KpiScope.RELATIONSHIP_MANAGER, p.employee_id
    if bank:
        if not wide:
            raise Forbidden("scope.bank: your role sees the figures of your own scope only.")
        return KpiScope.BANK, None
    if branch_id:
        if not wide and not (Role.BRANCH_MANAGER in p.roles and p.branch_id == branch_id):
            raise Forbidden("scope.branchId: you may ask for your own branch only.")
        return KpiScope.BRANCH, branch_id
    assert rm_id is not None
    if not wide and not (Role.RELATIONSHIP_MANAGER in p.roles and p.employee_id == rm_id):
        raise Forbidden("scope.relationshipManagerId: you may ask for your own book only.")
    return KpiScope.RELATIONSHIP_MANAGER, rm_id


def _window(key: str, period: Period) -> dict[str, Any]:
    lo, hi = period.instants()
    return {"key": key, "start": period.start, "end": period.end, "from": lo, "to": hi}


def request(
    settings: Any,
    scope: KpiScope,
    scope_id: str | None,
    period: Period,
    compare: bool,
    now: dt.datetime,
) -> tuple[str, dict[str, Any]]:
    """The one query of a report and its parameters (the API and ``c360 kpis`` send the same)."""
    windows = [_window("current", period)]
    if compare:
        windows.append(_window("previous", period.previous()))
    return q.KPI_COUNTS[scope], {
        **sla_params(settings, now),
        "windows": windows,
        "branch_id": scope_id if scope is KpiScope.BRANCH else None,
        "rm_id": scope_id if scope is KpiScope.RELATIONSHIP_MANAGER else None,
        "properties": [f.property for f in quality_config().fields],
    }


def report(
    rows: list[dict[str, Any]],
    scope: KpiScope,
    scope_id: str | None,
    period: Period,
    compare: bool,
) -> KpiReport:
    by_key = {r["key"]: r for r in rows}
    previous = period.previous() if compare else None
    current = figures(by_key["current"], period)
    before = figures(by_key["previous"], previous) if previous is not None else {}
    return KpiReport(
        scope=scope,
        scope_id=scope_id,
        period=period,
        previous_period=previous,
        scored_at=by_key["current"].get("scored_at"),
        figures=[
            KpiFigure(d, current.get(code), None if d.live else before.get(code))
            for code, d in definitions().items()
        ],
    )


async def kpis(
    ctx: Context,
    *,
    scope: KpiScope,
    scope_id: str | None,
    period: Period,
    compare: bool,
    now: dt.datetime | None = None,
) -> KpiReport:
    """Every KPI of kpis.toml for ``period`` (and the period before when ``compare``): one read."""
    query, params = request(
        ctx.settings, scope, scope_id, period, compare, now or dt.datetime.now(dt.UTC)
    )
    rows = await ctx.read(all_rows, query=query, params=params)
    return report(rows, scope, scope_id, period, compare)
