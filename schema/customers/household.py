from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from schema.scalars import to_date


@strawberry.type(
    description="The customer's household (the current one, else the last they left) and role."
)
class HouseholdMembership:
    id: strawberry.ID
    name: str | None
    role: str | None = strawberry.field(description="HEAD, SPOUSE, CHILD, PARENT or OTHER")
    since: dt.date | None
    ended_at: dt.date | None = strawberry.field(description="Set when the membership has ended")
    aum: float | None = strawberry.field(description="Household AUM rolled up from its members")
    tier: str | None = strawberry.field(description="Household tier from the rolled-up AUM")

    @classmethod
    def from_row(cls, row: dict[str, Any] | None) -> HouseholdMembership | None:
        if not row:
            return None
        return cls(
            id=strawberry.ID(row["household_id"]),
            name=row.get("name"),
            role=row.get("role"),
            since=to_date(row.get("since")),
            ended_at=to_date(row.get("ended_at")),
            aum=row.get("aum"),
            tier=row.get("tier"),
        )
