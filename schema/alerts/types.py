"""The Alert type, its connection and the dismissal's answer."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry

from schema.customers.customer import Customer
from schema.messages import Reason
from schema.pagination import PageInfo


@strawberry.enum(
    description="TIME_DEPOSIT_MATURING, WEALTH_MATURING, LOAN_MATURING (within the windows of "
    "core/alerts.toml), BIRTHDAY (within 7 days), TIER_CHANGED (at the last review), "
    "DOWNGRADE_RISK_RAISED / CHURN_RISK_RAISED (since the previous scoring run), "
    "COMPLAINT_AT_RISK (a tracked item about to breach its service level)"
)
class AlertKind(Enum):  # the values of core.alerts.AlertKind (tests/test_alerts.py)
    TIME_DEPOSIT_MATURING = "TIME_DEPOSIT_MATURING"
    WEALTH_MATURING = "WEALTH_MATURING"
    LOAN_MATURING = "LOAN_MATURING"
    BIRTHDAY = "BIRTHDAY"
    TIER_CHANGED = "TIER_CHANGED"
    DOWNGRADE_RISK_RAISED = "DOWNGRADE_RISK_RAISED"
    CHURN_RISK_RAISED = "CHURN_RISK_RAISED"
    COMPLAINT_AT_RISK = "COMPLAINT_AT_RISK"


@strawberry.type(description="Something to act on for one of your customers, as of a date.")
class Alert:
    id: strawberry.ID = strawberry.field(
        description="Stable while its subject is unchanged: kind, customer and subject"
    )
    kind: AlertKind
    customer: Customer
    due_date: dt.date = strawberry.field(
        description="When it falls due (a maturity, a birthday, a service-level due time); for "
        "what already happened (a tier change, a risk raised) the date it happened"
    )
    days_until_due: int = strawberry.field(
        description="Days from the as-of date to dueDate (negative: already happened)"
    )
    within_days: int | None = strawberry.field(
        description="Maturities: the smallest window holding the due date (e.g. 30 or 90)"
    )
    amount: float | None = strawberry.field(
        description="The balance maturing (maturities) or the AUM found (tier changes)"
    )
    currency: str | None
    due_at: dt.datetime | None = strawberry.field(
        description="Complaints: the due time of the service level about to be breached"
    )
    reason: Reason

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Alert:
        return cls(
            id=strawberry.ID(row["id"]),
            kind=AlertKind(row["kind"]),
            customer=Customer.from_row(row["customer"]),
            due_date=row["due"],
            days_until_due=row["days"],
            within_days=row.get("within"),
            amount=row.get("amount"),
            currency=row.get("currency"),
            due_at=row.get("due_at"),
            reason=Reason.of(row["reason"]),
        )


@strawberry.type
class AlertEdge:
    cursor: str
    node: Alert


@strawberry.type(description="A page of alerts, soonest due first (Relay connection).")
class AlertConnection:
    edges: list[AlertEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field(description="The alerts of this page (the edges' nodes)")
    def nodes(self) -> list[Alert]:
        return [e.node for e in self.edges]

    @classmethod
    def of(cls, page: dict[str, Any]) -> AlertConnection:
        edges = [AlertEdge(cursor=i["cursor"], node=Alert.from_row(i)) for i in page["items"]]
        return cls(
            edges=edges,
            page_info=PageInfo(has_next_page=page["has_next"], end_cursor=page["end_cursor"]),
            total_count=page["total"],
        )


@strawberry.type(description="A dismissed alert: no longer listed for you.")
class DismissAlertPayload:
    id: strawberry.ID
    kind: AlertKind
    dismissed_at: dt.datetime
