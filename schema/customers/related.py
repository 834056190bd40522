from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from schema.scalars import to_date


@strawberry.type(description="An employee of the bank (a relationship manager).")
class Employee:
    id: strawberry.ID
    name: str | None
    title: str | None
    branch_id: str | None
    since: dt.date | None = strawberry.field(description="Managing this customer since")

    @classmethod
    def from_row(cls, row: dict[str, Any] | None) -> Employee | None:
        """The employee of a row, None for no row (no relationship manager)."""
        return cls.of(row) if row else None

    @classmethod
    def of(cls, row: dict[str, Any]) -> Employee:
        return cls(
            id=strawberry.ID(row["employee_id"]),
            name=row.get("name"),
            title=row.get("title"),
            branch_id=row.get("branch_id"),
            since=to_date(row.get("since")),
        )


@strawberry.type(description="Another customer linked by a referral (open them with customer(id)).")
class CustomerRef:
    id: strawberry.ID
    name: str | None
    referred_at: dt.date | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> CustomerRef:
        return cls(
            id=strawberry.ID(row["customer_id"]),
            name=row.get("name"),
            referred_at=to_date(row.get("referred_at")),
        )


@strawberry.type(description="A source system's record resolved to this golden customer (lineage).")
class SourceRecord:
    system: str
    source_id: str
    rule: str | None = strawberry.field(description="The identity-resolution rule that linked it")
    confidence: float | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SourceRecord:
        return cls(
            system=row["system"],
            source_id=str(row["source_id"]),
            rule=row.get("rule"),
            confidence=row.get("confidence"),
        )
