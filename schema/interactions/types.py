from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry

from core import sla
from schema.pagination import PageInfo
from schema.scalars import enum_or_none, to_datetime


@strawberry.enum
class Channel(Enum):
    BRANCH = "BRANCH"
    PHONE = "PHONE"
    APP = "APP"
    WEB = "WEB"
    WECHAT = "WECHAT"
    SMS = "SMS"
    EMAIL = "EMAIL"
    VISIT = "VISIT"


@strawberry.enum
class InteractionKind(Enum):
    SERVICE = "SERVICE"
    SALES = "SALES"
    COMPLAINT = "COMPLAINT"
    FOLLOW_UP = "FOLLOW_UP"
    SURVEY = "SURVEY"
    CAMPAIGN = "CAMPAIGN"


@strawberry.enum
class Severity(Enum):
    MINOR = "MINOR"
    MAJOR = "MAJOR"


# The service levels of core/sla.py, as a GraphQL enum (strawberry marks the class itself).
strawberry.enum(
    sla.SlaStatus,
    name="SlaStatus",
    description="Complaint service level against the configured response and resolution times.",
)


@strawberry.type(description="One contact between the bank and the customer.")
class Interaction:
    id: strawberry.ID
    channel: Channel | None
    kind: InteractionKind | None
    occurred_at: dt.datetime | None
    summary: str | None
    outcome: str | None
    satisfaction: int | None = strawberry.field(description="1-5")
    nps: int | None = strawberry.field(description="0-10")
    severity: Severity | None = strawberry.field(description="Complaints only")
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    sla_status: sla.SlaStatus | None
    handled_by: str | None = strawberry.field(description="Employee id")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Interaction:
        return cls(
            id=strawberry.ID(row["interaction_id"]),
            channel=enum_or_none(Channel, row.get("channel")),
            kind=enum_or_none(InteractionKind, row.get("kind")),
            occurred_at=to_datetime(row.get("occurred_at")),
            summary=row.get("summary"),
            outcome=row.get("outcome"),
            satisfaction=row.get("satisfaction"),
            nps=row.get("nps"),
            severity=enum_or_none(Severity, row.get("severity")),
            first_response_at=to_datetime(row.get("first_response_at")),
            resolved_at=to_datetime(row.get("resolved_at")),
            sla_status=enum_or_none(sla.SlaStatus, row.get("sla_status")),
            handled_by=row.get("handled_by"),
        )


_USE_TIMELINE = "Customer.interactions is deprecated: select Customer.timeline, a Relay connection."


@strawberry.type
class InteractionPageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="A page of interactions, newest first.")
class InteractionConnection:
    total_count: int
    items: list[Interaction] = strawberry.field(deprecation_reason=_USE_TIMELINE)
    page_info: InteractionPageInfo = strawberry.field(deprecation_reason=_USE_TIMELINE)


@strawberry.type
class TimelineEdge:
    cursor: str
    node: Interaction


@strawberry.type(
    description="A page of the customer's interactions, newest first (Relay connection)."
)
class TimelineConnection:
    edges: list[TimelineEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field(description="The interactions of this page (the edges' nodes)")
    def nodes(self) -> list[Interaction]:
        return [e.node for e in self.edges]

    @classmethod
    def of(cls, page: dict[str, Any]) -> TimelineConnection:
        return cls(
            edges=[
                TimelineEdge(cursor=c, node=Interaction.from_row(i))
                for i, c in zip(page["items"], page["cursors"], strict=True)
            ],
            page_info=PageInfo(has_next_page=page["has_next"], end_cursor=page["end_cursor"]),
            total_count=page["total"],
        )
