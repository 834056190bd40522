from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from schema.customers.customer import Customer
from schema.customers.tier_change import TierDirection
from schema.pagination import PageInfo
from schema.value.types import LifecycleStage, RiskLevel, Tier


@strawberry.enum(description="Sort keys of the customers list; ties are broken by customer id.")
class CustomerSort(Enum):
    CUSTOMER_ID = "CUSTOMER_ID"
    NAME = "NAME"
    AUM = "AUM"
    VALUE_SCORE = "VALUE_SCORE"
    DOWNGRADE_RISK = "DOWNGRADE_RISK"


@strawberry.enum
class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.input
class CustomerOrder:
    field: CustomerSort = CustomerSort.CUSTOMER_ID
    direction: SortDirection = SortDirection.ASC


@strawberry.enum(description="Which risk atRiskCustomers lists.")
class AtRiskKind(Enum):
    DOWNGRADE = "DOWNGRADE"
    CHURN = "CHURN"
    ANY = "ANY"


@strawberry.input(description="All given filters must hold (each list: any of its values).")
class CustomerFilter:
    tiers: list[Tier] | None = None
    segments: list[str] | None = None
    cities: list[str] | None = None
    statuses: list[str] | None = None
    downgrade_risk: list[RiskLevel] | None = None
    branch_id: strawberry.ID | None = None
    relationship_manager_id: strawberry.ID | None = None
    unassigned: bool | None = strawberry.field(
        default=None, description="true: without a relationship manager; false: with one"
    )
    churn_risk: list[RiskLevel] | None = None
    lifecycle_stages: list[LifecycleStage] | None = None
    tier_changed_since: dt.date | None = strawberry.field(
        default=None, description="The tier changed (at a review) on or after this day"
    )
    tier_direction: TierDirection | None = strawberry.field(
        default=None,
        description="The tier moved this way (since tierChangedSince when given, else ever)",
    )


@strawberry.type
class CustomerEdge:
    cursor: str
    node: Customer


@strawberry.type(description="A page of customers (Relay connection).")
class CustomerConnection:
    edges: list[CustomerEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field(description="The customers of this page (the edges' nodes)")
    def nodes(self) -> list[Customer]:
        return [e.node for e in self.edges]
