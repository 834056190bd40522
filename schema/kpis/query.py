from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from core.errors import BadUserInput
from core.periods import Period, PeriodKind, last_complete, of_range, parse
from resolvers import kpis as resolve
from schema.context import Info


@strawberry.input(
    description="Whose figures: one of bank, branchId, relationshipManagerId; none: your own "
    "(an RM their book, a branch manager their branch, admins and auditors the bank)."
)
class KpiScopeInput:
    bank: bool | None = None
    branch_id: strawberry.ID | None = None
    relationship_manager_id: strawberry.ID | None = None


@strawberry.input(
    description="A period: `label` (2026Q3, 2026H1, 2026) or `from` and `to` (dates, "
    "inclusive); none: the last complete quarter."
)
class KpiPeriodInput:
    label: str | None = None
    from_: dt.date | None = strawberry.field(default=None, name="from")
    to: dt.date | None = None


@strawberry.enum(description="What to compare each figure with.")
class KpiComparison(Enum):
    PREVIOUS_PERIOD = "PREVIOUS_PERIOD"
    NONE = "NONE"


@strawberry.enum
class KpiScopeKind(Enum):
    BANK = "bank"
    BRANCH = "branch"
    RELATIONSHIP_MANAGER = "rm"


@strawberry.enum
class KpiUnit(Enum):
    PCT = "pct"
    HOURS = "hours"
    COUNT = "count"
    CNY = "cny"
    RATIO = "ratio"


@strawberry.enum(description="Where figures come from.")
class KpiSource(Enum):
    LIVE = strawberry.enum_value("LIVE", description="Counted when asked")
    SNAPSHOT = strawberry.enum_value(
        "SNAPSHOT",
        description="Counted by the last scoring run (`c360 score`) for the standard periods; "
        "used while no load has run since",
    )


@strawberry.type(description="A reporting period, dates inclusive.")
class ReportPeriod:
    label: str
    kind: str = strawberry.field(description="QUARTER, HALF_YEAR, YEAR or RANGE")
    from_: dt.date = strawberry.field(name="from")
    to: dt.date

    @classmethod
    def of(cls, p: Period) -> ReportPeriod:
        return cls(label=p.label, kind=p.kind.value, from_=p.start, to=p.end)


@strawberry.type(description="One of the bank's service targets: its value, target and trend.")
class Kpi:
    code: str = strawberry.field(description="Stable code, e.g. FIRST_RESPONSE_24H_PCT")
    value: float | None = strawberry.field(description="Null when nothing was there to measure")
    target: float | None
    target_change_pct: float | None = strawberry.field(
        description="A relative target: the value must beat the previous period's by this "
        "many per cent (then `target` is null)"
    )
    met: bool | None = strawberry.field(description="Whether the value reaches the target")
    previous: float | None = strawberry.field(
        description="The value in the previous period (null for live figures)"
    )
    unit: KpiUnit
    higher_is_better: bool | None = strawberry.field(description="Null: a figure without target")
    live: bool = strawberry.field(
        description="True: as of now or the last scoring run, the same in every period"
    )
    definition: str


@strawberry.type(description="The KPIs of one scope and period.")
class KpiReport:
    scope: KpiScopeKind
    scope_id: strawberry.ID | None
    period: ReportPeriod
    previous_period: ReportPeriod | None
    scored_at: dt.datetime | None = strawberry.field(
        description="The scoring run the live risk figures come from"
    )
    source: KpiSource
    computed_at: dt.datetime = strawberry.field(description="When the figures were counted")
    kpis: list[Kpi]

    @classmethod
    def of(cls, r: resolve.KpiReport) -> KpiReport:
        return cls(
            scope=KpiScopeKind(r.scope.value),
            scope_id=strawberry.ID(r.scope_id) if r.scope_id else None,
            period=ReportPeriod.of(r.period),
            previous_period=ReportPeriod.of(r.previous_period) if r.previous_period else None,
            scored_at=r.scored_at.to_native() if hasattr(r.scored_at, "to_native") else r.scored_at,
            source=KpiSource(r.source.value),
            computed_at=r.computed_at,
            kpis=[
                Kpi(
                    code=f.definition.code,
                    value=f.value,
                    target=f.definition.target,
                    target_change_pct=f.definition.target_change_pct,
                    met=f.met,
                    previous=f.previous,
                    unit=KpiUnit(f.definition.unit),
                    higher_is_better=(
                        None if f.definition.better == "none" else f.definition.better == "higher"
                    ),
                    live=f.definition.live,
                    definition=f.definition.definition,
                )
                for f in r.figures
            ],
        )


@strawberry.enum(description="What to rank.")
class KpiRankBy(Enum):
    BRANCH = "BRANCH"
    RM = "RM"


@strawberry.type(description="One branch's or RM's value of a KPI, in ranking order.")
class KpiRank:
    rank: int
    id: strawberry.ID = strawberry.field(description="The branch id or the employee id")
    value: float | None
    met: bool | None


@strawberry.type(description="A KPI ranked across branches or RMs for one period.")
class KpiRanking:
    code: str
    by: KpiRankBy
    period: ReportPeriod
    target: float | None
    target_change_pct: float | None
    higher_is_better: bool | None
    source: KpiSource
    computed_at: dt.datetime = strawberry.field(description="When the figures were counted")
    entries: list[KpiRank]


@strawberry.type(description="One period's value of a KPI.")
class KpiPoint:
    period: ReportPeriod
    value: float | None
    met: bool | None


@strawberry.type(description="A KPI over consecutive periods, oldest first.")
class KpiTrend:
    code: str
    scope: KpiScopeKind
    scope_id: strawberry.ID | None
    target: float | None
    target_change_pct: float | None
    source: KpiSource
    computed_at: dt.datetime = strawberry.field(description="When the figures were counted")
    points: list[KpiPoint]


def _higher(better: str) -> bool | None:
    return None if better == "none" else better == "higher"


def period_of(period: KpiPeriodInput | None, today: dt.date) -> Period:
    if period is None or (period.label is None and period.from_ is None and period.to is None):
        return last_complete(PeriodKind.QUARTER, today)
    if period.label is not None:
        if period.from_ is not None or period.to is not None:
            raise BadUserInput("period: give label or from and to, not both")
        return parse(period.label, argument="period.label")
    if period.from_ is None or period.to is None:
        raise BadUserInput("period: from and to go together")
    return of_range(period.from_, period.to, argument="period")


@strawberry.type
class KpisQuery:
    @strawberry.field(
        description="The bank's service targets for a scope and period (default: your own "
        "scope, the last complete quarter), each with its target and the previous period's "
        "value. Definitions in the README and in each `definition`."
    )
    async def kpis(
        self,
        info: Info,
        scope: KpiScopeInput | None = None,
        period: KpiPeriodInput | None = None,
        compare_to: KpiComparison = KpiComparison.PREVIOUS_PERIOD,
    ) -> KpiReport:
        s = scope or KpiScopeInput()
        kind, scope_id = resolve.resolve_scope(
            info.context,
            bank=bool(s.bank),
            branch_id=str(s.branch_id) if s.branch_id else None,
            rm_id=str(s.relationship_manager_id) if s.relationship_manager_id else None,
        )
        report = await resolve.kpis(
            info.context,
            scope=kind,
            scope_id=scope_id,
            period=period_of(period, dt.datetime.now(dt.UTC).date()),
            compare=compare_to is KpiComparison.PREVIOUS_PERIOD,
        )
        return KpiReport.of(report)

    @strawberry.field(
        description="Every branch (admins, auditors) or every RM (admins, auditors; a branch "
        "manager: their branch's) by one KPI for a period, best first. One graph read."
    )
    async def kpi_ranking(
        self,
        info: Info,
        code: str,
        by: KpiRankBy,
        period: KpiPeriodInput | None = None,
    ) -> KpiRanking:
        groups, group_id = resolve.resolve_ranking(info.context, by.value)
        when = period_of(period, dt.datetime.now(dt.UTC).date())
        ranked, read = await resolve.ranking(
            info.context, code=code, groups=groups, group_id=group_id, period=when
        )
        d = resolve.definition(code)
        return KpiRanking(
            code=code,
            by=by,
            period=ReportPeriod.of(when),
            target=d.target,
            target_change_pct=d.target_change_pct,
            higher_is_better=_higher(d.better),
            source=KpiSource(read.source.value),
            computed_at=read.computed_at,
            entries=[
                KpiRank(rank=i + 1, id=strawberry.ID(r.group_id), value=r.value, met=r.met)
                for i, r in enumerate(ranked)
            ],
        )

    @strawberry.field(
        description="One KPI over `periods` consecutive periods (at most 12) ending with "
        "`period` (default: the last complete quarter), oldest first. One graph read."
    )
    async def kpi_trend(
        self,
        info: Info,
        code: str,
        scope: KpiScopeInput | None = None,
        period: KpiPeriodInput | None = None,
        periods: int = 8,
    ) -> KpiTrend:
        s = scope or KpiScopeInput()
        kind, scope_id = resolve.resolve_scope(
            info.context,
            bank=bool(s.bank),
            branch_id=str(s.branch_id) if s.branch_id else None,
            rm_id=str(s.relationship_manager_id) if s.relationship_manager_id else None,
        )
        last = period_of(period, dt.datetime.now(dt.UTC).date())
        points, read = await resolve.trend(
            info.context, code=code, scope=kind, scope_id=scope_id, last=last, periods=periods
        )
        d = resolve.definition(code)
        return KpiTrend(
            code=code,
            scope=KpiScopeKind(kind.value),
            scope_id=strawberry.ID(scope_id) if scope_id else None,
            target=d.target,
            target_change_pct=d.target_change_pct,
            source=KpiSource(read.source.value),
            computed_at=read.computed_at,
            points=[
                KpiPoint(
                    period=ReportPeriod.of(p),
                    value=v,
                    met=d.met(v, points[i - 1][1] if i else None),
                )
                for i, (p, v) in enumerate(points)
            ],
        )
