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
    birth_date: dt.date | None = strawberry.field(
        description="Full birth date; null for roles that only see the birth year"
    )
    birth_year: int | None = strawberry.field(
        description="Year of birth (visible wherever the customer is)"
    )
    phone: str | None = strawberry.field(description="Masked as 138****5678 for some roles")
    email: str | None = strawberry.field(description="Masked as z***@example.com for some roles")
    national_id_last4: str | None = strawberry.field(
        description="Last four characters of the national ID (the full number is never stored)"
    )
    address: str | None = strawberry.field(
        description="Street address; only the city for some roles"
    )
    city: str | None
    segment: str | None = strawberry.field(description="RETAIL, SME or PRIVATE")
    status: str | None = strawberry.field(description="ACTIVE, DORMANT or CLOSED")
    tier: str | None = strawberry.field(description="CORE, KEY or ORDINARY")
    value_score: float | None = strawberry.field(
        description="Internal value score 0-100; null for customer and channel roles"
    )
    risk_rating: str | None = strawberry.field(
        description="Internal KYC risk rating; null for customer and channel roles"
    )
    downgrade_risk_level: str | None = strawberry.field(
        description="HIGH, MEDIUM, LOW or NONE; null for customer and channel roles"
    )
    churn_risk_level: str | None = strawberry.field(
        description="Internal churn risk level; null for customer and channel roles"
    )
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
            birth_year=row.get("birth_year"),
            phone=row.get("phone"),
            email=row.get("email"),
            national_id_last4=row.get("national_id_last4"),
            address=row.get("address"),
            city=row.get("city"),
            segment=row.get("segment"),
            status=row.get("status"),
            tier=row.get("tier"),
            value_score=row.get("value_score"),
            risk_rating=row.get("risk_rating"),
            downgrade_risk_level=row.get("downgrade_risk_level"),
            churn_risk_level=row.get("churn_risk_level"),
            accounts=[Account.from_row(a) for a in row.get("accounts") or []],
            household=HouseholdMembership.from_row(row.get("household")),
        )
