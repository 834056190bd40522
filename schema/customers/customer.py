from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from schema.customers.account import Account
from schema.customers.household import HouseholdMembership
from schema.scalars import to_date


@strawberry.type(description="The golden record of one person across the bank's systems.")
class Customer:
    id: strawberry.ID
    name: str | None
    gender: str | None
    birth_date: dt.date | None
    phone: str | None
    email: str | None
    city: str | None
    segment: str | None = strawberry.field(description="RETAIL, SME or PRIVATE")
    status: str | None = strawberry.field(description="ACTIVE, DORMANT or CLOSED")
    accounts: list[Account]
    household: HouseholdMembership | None

    @strawberry.field(
        description="Assets under management: deposit, wealth, fund and insurance balances (CNY)"
    )
    def aum(self) -> float:
        assets = {"CURRENT", "SAVINGS", "TIME_DEPOSIT", "WEALTH", "FUND", "INSURANCE"}
        return round(
            sum(
                a.balance
                for a in self.accounts
                if a.product_type in assets and a.status != "CLOSED"
            ),
            2,
        )

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Customer:
        return cls(
            id=strawberry.ID(row["customer_id"]),
            name=row.get("name"),
            gender=row.get("gender"),
            birth_date=to_date(row.get("birth_date")),
            phone=row.get("phone"),
            email=row.get("email"),
            city=row.get("city"),
            segment=row.get("segment"),
            status=row.get("status"),
            accounts=[Account.from_row(a) for a in row.get("accounts") or []],
            household=HouseholdMembership.from_row(row.get("household")),
        )
