"""The service desk's types: the complaint queue, its figures, the taxonomy, satisfaction."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry

from core import complaints, sla
from core.taxonomy import Taxonomy
from schema.interactions.types import Channel, Interaction, InteractionKind, Severity
from schema.pagination import PageInfo
from schema.scalars import enum_or_none, to_datetime


@strawberry.enum(description="Queue order within the AT_RISK/BREACHED-first grouping.")
class ComplaintOrder(Enum):
    DUE_AT = "DUE_AT"  # the next due time (response, then resolution), soonest first
    OPENED_AT = "OPENED_AT"  # oldest first


@strawberry.input(description="All given filters must hold (each list: any of its values).")
class ComplaintFilter:
    status: list[complaints.ComplaintStatus] | None = None
    sla_status: list[sla.SlaStatus] | None = strawberry.field(
        default=None, description="BREACHED also matches RESPONSE_BREACHED and RESOLUTION_BREACHED"
    )
    severity: Severity | None = None
    kind: InteractionKind | None = strawberry.field(
        default=None, description="COMPLAINT, SUGGESTION or QUESTION"
    )
    category: str | None = None
    due_before: dt.datetime | None = strawberry.field(
        default=None, description="Open items whose next due time is before this instant"
    )
    branch_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Customers of this branch: managed by its staff, or it is their home branch",
    )
    assignee: str | None = strawberry.field(default=None, description="Employee id of the handler")
    open_only: bool | None = strawberry.field(
        default=None, description="Only items not resolved or closed"
    )


@strawberry.type
class ComplaintEdge:
    cursor: str
    node: Interaction


@strawberry.type(
    description="A page of the complaint queue (Relay connection): breached first, then at risk, "
    "on track, resolved; within each by the order asked for."
)
class ComplaintConnection:
    edges: list[ComplaintEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field(description="The items of this page (the edges' nodes)")
    def nodes(self) -> list[Interaction]:
        return [e.node for e in self.edges]

    @classmethod
    def of(cls, page: dict[str, Any]) -> ComplaintConnection:
        return cls(
            edges=[
                ComplaintEdge(cursor=c, node=Interaction.from_row(i))
                for i, c in zip(page["items"], page["cursors"], strict=True)
            ],
            page_info=PageInfo(has_next_page=page["has_next"], end_cursor=page["end_cursor"]),
            total_count=page["total"],
        )


@strawberry.input(description="Whole days, both included.")
class PeriodInput:
    from_: dt.date = strawberry.field(name="from")
    to: dt.date


@strawberry.type(
    description="Complaint figures (kind COMPLAINT) of your scope. Period figures: opened, "
    "resolved (within the period), handling hours (opened to resolved, of the complaints "
    "resolved within the period; p90 by linear interpolation), first response within the "
    "target (of complaints opened in the period whose response came or is overdue), MAJOR "
    "resolved within their target (of MAJOR complaints opened in the period, resolved or past "
    "due). open, atRisk and breached: the complaints open now."
)
class ComplaintStats:
    opened: int
    resolved: int
    open: int
    at_risk: int
    breached: int
    first_response_within_24h_pct: float | None
    average_handling_hours: float | None
    p90_handling_hours: float | None
    major_within_4h_pct: float | None
    target_average_handling_hours: float

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ComplaintStats:
        return cls(**{k: row[k] for k in cls.__annotations__})


@strawberry.type
class ComplaintCause:
    type: str
    label: str = strawberry.field(description="Chinese label")
    label_en: str
    subtypes: list[str]


@strawberry.type
class ComplaintCategory:
    code: str
    label: str = strawberry.field(description="Chinese label")
    label_en: str
    causes: list[ComplaintCause]

    @classmethod
    def all_of(cls, taxonomy: Taxonomy) -> list[ComplaintCategory]:
        return [
            cls(
                code=c.code,
                label=c.label,
                label_en=c.label_en,
                causes=[
                    ComplaintCause(
                        type=k.type, label=k.label, label_en=k.label_en, subtypes=list(k.subtypes)
                    )  # fmt: skip
                    for k in c.causes
                ],
            )
            for c in taxonomy.categories
        ]


@strawberry.enum
class SatisfactionTrend(Enum):
    UP = "UP"
    DOWN = "DOWN"
    FLAT = "FLAT"


@strawberry.type
class SatisfactionScore:
    csat: int | None = strawberry.field(description="1-5")
    nps: int | None = strawberry.field(description="0-10")
    channel: Channel | None
    at: dt.datetime | None


@strawberry.type
class ChannelSatisfaction:
    channel: Channel | None
    average: float
    count: int


@strawberry.type(
    description="Satisfaction (csat 1-5) from surveys and scored contacts: the last score, the "
    "averages of the last 182 days and of the 183 before, the trend (DOWN/UP when the average "
    "moved by at least the scoring's satisfaction_drop, 1 point), per channel over 365 days."
)
class Satisfaction:
    last: SatisfactionScore | None
    average_6m: float | None
    average_previous_6m: float | None
    trend: SatisfactionTrend | None
    by_channel: list[ChannelSatisfaction]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Satisfaction:
        last = row.get("last")
        return cls(
            last=SatisfactionScore(
                csat=last.get("csat"),
                nps=last.get("nps"),
                channel=enum_or_none(Channel, last.get("channel")),
                at=to_datetime(last.get("at")),
            )
            if last
            else None,
            average_6m=row.get("average_6m"),
            average_previous_6m=row.get("average_previous_6m"),
            trend=enum_or_none(SatisfactionTrend, row.get("trend")),
            by_channel=[
                ChannelSatisfaction(
                    channel=enum_or_none(Channel, c["channel"]),
                    average=c["average"],
                    count=c["count"],
                )
                for c in row.get("by_channel") or []
            ],
        )
