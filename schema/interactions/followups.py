"""Follow-up plans (issue 22): the due list and the coverage of the caller's customers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from resolvers import followups as resolve
from schema.context import Info
from schema.customers.customer import Customer
from schema.pagination import PageInfo
from schema.scalars import to_datetime
from schema.selection import fields_of_nodes
from schema.value.types import Tier


@strawberry.type(description="A follow-up plan: how often a customer of a tier is contacted.")
class FollowUpPlan:
    tier: Tier
    interval_days: int = strawberry.field(description="Days between two contacts")


@strawberry.type(
    description="A planned customer's next contact: when they were last contacted (a visit or a "
    "call; a survey does not count: core/followups.toml) and when the next contact is due."
)
class FollowUp:
    customer: Customer
    tier: Tier
    last_contact_at: dt.datetime | None = strawberry.field(
        description="The last contact the plan counts; null: never contacted"
    )
    due_date: dt.date = strawberry.field(
        description="Last contact's day (UTC) + the plan's interval; never contacted: onboarding "
        "+ the interval, or asOf when that is unknown"
    )
    days_overdue: int = strawberry.field(description="Days after the due date (0: not overdue)")
    plan: FollowUpPlan

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> FollowUp:
        return cls(
            customer=Customer.from_row(item["customer"]),
            tier=Tier(item["tier"]),
            last_contact_at=to_datetime(item["last_contact_at"]),
            due_date=item["due_date"],
            days_overdue=item["days_overdue"],
            plan=FollowUpPlan(tier=Tier(item["tier"]), interval_days=item["interval_days"]),
        )


@strawberry.type
class FollowUpEdge:
    cursor: str
    node: FollowUp


@strawberry.type(description="A page of follow-ups, most overdue first (Relay connection).")
class FollowUpConnection:
    edges: list[FollowUpEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field(description="The follow-ups of this page (the edges' nodes)")
    def nodes(self) -> list[FollowUp]:
        return [e.node for e in self.edges]


@strawberry.type(description="Follow-up coverage of one tier's planned customers.")
class FollowUpTierCoverage:
    tier: Tier
    interval_days: int
    customers: int = strawberry.field(description="Customers of the tier (all have the plan)")
    covered: int = strawberry.field(description="Contacted within the plan's interval")
    overdue: int = strawberry.field(description="Past their due date")
    share: float | None = strawberry.field(description="covered / customers; null without any")
    meets_target: bool | None


@strawberry.type(description="How many planned customers were contacted within their interval.")
class FollowUpCoverage:
    branch_id: strawberry.ID | None = strawberry.field(
        description="The branch counted; null: a relationship manager's book or the whole bank"
    )
    as_of: dt.date
    target: float = strawberry.field(description="The share the bank aims at (0.95)")
    tiers: list[FollowUpTierCoverage]


@strawberry.type
class FollowUpsQuery:
    @strawberry.field(
        description="Your planned customers (CORE, KEY: core/followups.toml) that are overdue or "
        "fall due within the next days, most overdue first: an RM's book, a branch manager's "
        "branch, every customer for admins. Logging a visit or a call takes a customer off. "
        "asOf: default today."
    )
    async def follow_ups_due(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        overdue_only: bool = False,
        as_of: dt.date | None = None,
    ) -> FollowUpConnection:
        page = await resolve.due_page(
            info.context,
            first=first,
            after=after,
            overdue_only=overdue_only,
            as_of=as_of,
            fields=fields_of_nodes(info, "customer"),
        )
        edges = [
            FollowUpEdge(cursor=cursor, node=FollowUp.from_item(item))
            for item, cursor in zip(page.items, page.cursors, strict=True)
        ]
        return FollowUpConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None
            ),
            total_count=page.total,
        )

    @strawberry.field(
        description="Per planned tier, the share of customers contacted within their plan's "
        "interval, against the target: an RM's book, a branch manager's branch, the bank or "
        "the branch given for admins and auditors. asOf: default today."
    )
    async def follow_up_coverage(
        self, info: Info, branch_id: strawberry.ID | None = None, as_of: dt.date | None = None
    ) -> FollowUpCoverage:
        row = await resolve.coverage(
            info.context, branch_id=str(branch_id) if branch_id else None, as_of=as_of
        )
        return FollowUpCoverage(
            branch_id=strawberry.ID(row["branch_id"]) if row["branch_id"] else None,
            as_of=row["as_of"],
            target=row["target"],
            tiers=[
                FollowUpTierCoverage(
                    tier=Tier(t["tier"]),
                    interval_days=t["interval_days"],
                    customers=t["customers"],
                    covered=t["covered"],
                    overdue=t["overdue"],
                    share=t["share"],
                    meets_target=t["meets_target"],
                )
                for t in row["tiers"]
            ],
        )
