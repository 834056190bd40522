from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from schema.scalars import to_date


@strawberry.type
class HouseholdMember:
    customer_id: strawberry.ID
    name: str | None = strawberry.field(description="Masked as the caller's role requires")
    role: str | None = strawberry.field(description="HEAD, SPOUSE, CHILD, PARENT or OTHER")
    since: dt.date | None
    ended_at: dt.date | None = strawberry.field(description="Set when the membership ended")
    tier: str | None


@strawberry.type(
    description="A household: members with roles and the household's rolled-up AUM and tier."
)
class Household:
    id: strawberry.ID
    name: str | None
    aum: float | None
    tier: str | None
    members: list[HouseholdMember]

    @classmethod
    def from_row(cls, household: dict[str, Any], members: list[dict[str, Any]]) -> Household:
        return cls(
            id=strawberry.ID(household["household_id"]),
            name=household.get("name"),
            aum=household.get("aum"),
            tier=household.get("tier"),
            members=[
                HouseholdMember(
                    customer_id=strawberry.ID(m["customer_id"]),
                    name=m.get("name"),
                    role=m.get("role"),
                    since=to_date(m.get("since")),
                    ended_at=to_date(m.get("ended_at")),
                    tier=m.get("tier"),
                )
                for m in members
            ],
        )
