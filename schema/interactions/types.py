from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import Enum
from typing import Any

import strawberry

from core import complaints, sla
from schema.pagination import PageInfo
from schema.scalars import enum_or_none, to_date, to_datetime


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
    SUGGESTION = "SUGGESTION"
    QUESTION = "QUESTION"
    VISIT = "VISIT"  # a visit to the customer (its report: outcome, nextStep)
    CALL = "CALL"  # a phone call with the customer


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


strawberry.enum(
    complaints.ComplaintStatus,
    name="ComplaintStatus",
    description="Where a complaint, suggestion or question is in its lifecycle: OPEN, "
    "ACKNOWLEDGED (first response), IN_PROGRESS, RESOLVED, CLOSED (after the follow-up survey) "
    "or REOPENED.",
)


@strawberry.type(description="A progress note on a complaint (or the note of a lifecycle step).")
class ComplaintProgress:
    at: dt.datetime
    by: str | None = strawberry.field(description="Who wrote it (the caller's subject)")
    note: str
    visible_to_customer: bool

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ComplaintProgress:
        at = to_datetime(row.get("at"))
        assert at is not None  # written with every note
        return cls(
            at=at,
            by=row.get("by"),
            note=row.get("note") or "",
            visible_to_customer=bool(row.get("visible_to_customer")),
        )


_TRACKED = "Complaints, suggestions and questions only"


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
    first_response_at: dt.datetime | None = strawberry.field(
        description="The first response the service level counts: the acknowledgement, else the "
        "resolution"
    )
    resolved_at: dt.datetime | None
    sla_status: sla.SlaStatus | None = strawberry.field(
        description="The service level computed now from the configured targets (SLA_*); the "
        "source system's own is sourceSlaStatus"
    )
    handled_by: str | None = strawberry.field(description="Employee id")
    status: complaints.ComplaintStatus | None = strawberry.field(description=_TRACKED)
    category: str | None = strawberry.field(description="Category code (complaintTaxonomy)")
    cause_type: str | None = strawberry.field(description="Cause type code (complaintTaxonomy)")
    cause_subtype: str | None = strawberry.field(description="Cause subtype (complaintTaxonomy)")
    acknowledged_at: dt.datetime | None = strawberry.field(
        description="When the first response was recorded (acknowledgeComplaint)"
    )
    acknowledged_by: str | None
    response_due_at: dt.datetime | None = strawberry.field(
        description="Opened + SLA_FIRST_RESPONSE_HOURS"
    )
    resolution_due_at: dt.datetime | None = strawberry.field(
        description="Opened + the resolution target (SLA_MAJOR_RESOLUTION_HOURS for MAJOR)"
    )
    source_sla_status: str | None = strawberry.field(
        description="The SLA status as the source system loaded it (null for items recorded "
        "through the API)"
    )
    handling_hours: float | None = strawberry.field(description="Opened to resolved, in hours")
    progress: list[ComplaintProgress] | None = strawberry.field(description=_TRACKED)
    survey_requested: bool | None = strawberry.field(
        description="A resolved complaint asks for a follow-up survey until one is recorded"
    )
    next_step: str | None = strawberry.field(description="A visit report's agreed next step")
    next_step_due: dt.date | None = strawberry.field(description="When the next step is due")
    customer_id: strawberry.ID | None
    customer_name: str | None = strawberry.field(description="Masked as your role sees it")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Interaction:
        tracked = row.get("kind") in complaints.TRACKED_KINDS
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
            status=enum_or_none(complaints.ComplaintStatus, row.get("status")) if tracked else None,
            category=row.get("category"),
            cause_type=row.get("cause_type"),
            cause_subtype=row.get("cause_subtype"),
            acknowledged_at=to_datetime(row.get("acknowledged_at")),
            acknowledged_by=row.get("acknowledged_by"),
            response_due_at=to_datetime(row.get("response_due_at")) if tracked else None,
            resolution_due_at=to_datetime(row.get("resolution_due_at")) if tracked else None,
            source_sla_status=row.get("source_sla_status"),
            handling_hours=_hours(row) if tracked else None,
            progress=[ComplaintProgress.from_row(p) for p in row.get("progress") or []]
            if tracked
            else None,
            survey_requested=row.get("survey_requested") if tracked else None,
            next_step=row.get("next_step"),
            next_step_due=to_date(row.get("next_step_due")),
            customer_id=strawberry.ID(row["customer_id"]) if row.get("customer_id") else None,
            customer_name=row.get("customer_name"),
        )


def _hours(row: dict[str, Any]) -> float | None:
    opened, resolved = to_datetime(row.get("occurred_at")), to_datetime(row.get("resolved_at"))
    if opened is None or resolved is None:
        return None
    return round((resolved - opened).total_seconds() / 3600, 2)


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


def _edge_cursor(root: TimelineEdge) -> str:
    return root._cursors[root._index]


@strawberry.type
class TimelineEdge:
    # The page's cursors (resolvers/pagination.Cursors): this edge's is sealed when selected.
    cursor: str = strawberry.field(resolver=_edge_cursor)
    node: Interaction
    _cursors: strawberry.Private[Sequence[str]]
    _index: strawberry.Private[int]


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
                TimelineEdge(_cursors=page["cursors"], _index=k, node=Interaction.from_row(i))
                for k, i in enumerate(page["items"])
            ],
            page_info=PageInfo(has_next_page=page["has_next"], end_cursor=page["end_cursor"]),
            total_count=page["total"],
        )
