from __future__ import annotations

from typing import Any

import strawberry


@strawberry.type(description="The household a customer belongs to, with the customer's role in it.")
class HouseholdMembership:
    id: strawberry.ID
    name: str | None
    role: str | None = strawberry.field(description="HEAD, SPOUSE, CHILD, PARENT or OTHER")

    @classmethod
    def from_row(cls, row: dict[str, Any] | None) -> HouseholdMembership | None:
        if not row:
            return None
        return cls(
            id=strawberry.ID(row["household_id"]), name=row.get("name"), role=row.get("role")
        )
