"""A customer's tier change: one review of the scoring job that moved the tier (TierChange)."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry

from schema.scalars import enum_or_none, to_date
from schema.value.types import Tier


@strawberry.enum(description="Which way a tier moved: UP (ORDINARY -> KEY -> CORE) or DOWN.")
class TierDirection(Enum):
    UP = "UP"
    DOWN = "DOWN"


@strawberry.type(description="A tier change made by a review of the scoring job.")
class TierChange:
    id: strawberry.ID = strawberry.field(description="The change: customer, date and tiers")
    from_tier: Tier | None
    to_tier: Tier | None
    direction: TierDirection | None
    changed_at: dt.date | None = strawberry.field(
        description="The as-of date of the review that changed the tier"
    )
    aum: float | None = strawberry.field(
        description="Assets under management the review found, in the reporting currency"
    )

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> TierChange:
        return cls(
            id=strawberry.ID(row["change_id"]),
            from_tier=enum_or_none(Tier, row.get("from_tier")),
            to_tier=enum_or_none(Tier, row.get("to_tier")),
            direction=enum_or_none(TierDirection, row.get("direction")),
            changed_at=to_date(row.get("changed_at")),
            aum=row.get("aum"),
        )
