from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from schema.scalars import to_date


@strawberry.type(
    description="An account (deposit, wealth, fund, insurance, loan or card) the customer holds."
)
class Account:
    id: strawberry.ID
    product_type: str = strawberry.field(
        description="CURRENT, SAVINGS, TIME_DEPOSIT, WEALTH, FUND, INSURANCE, LOAN, MORTGAGE or CREDIT_CARD"
    )
    product_code: str | None
    product_name: str | None
    currency: str
    balance: float = strawberry.field(description="Current balance in the account's currency")
    status: str
    holder_role: str | None = strawberry.field(
        description="PRIMARY, JOINT, AUTHORIZED or GUARANTOR",
        deprecation_reason="A value of one holder, not of the account: a client cache keeps one "
        "Account per id, so the joint holders of an account would all show one role. Select "
        "Customer.holdings { role account { id } }.",
    )
    opened_at: dt.date | None
    maturity_date: dt.date | None
    closed_at: dt.date | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Account:
        return cls(
            id=strawberry.ID(row["account_id"]),
            product_type=row.get("product_type") or "UNKNOWN",
            product_code=row.get("product_code"),
            product_name=row.get("product_name"),
            currency=row.get("currency") or "CNY",
            balance=float(row.get("balance") or 0.0),
            status=row.get("status") or "OPEN",
            holder_role=row.get("holder_role"),
            opened_at=to_date(row.get("opened_at")),
            maturity_date=to_date(row.get("maturity_date")),
            closed_at=to_date(row.get("closed_at")),
        )


@strawberry.type(
    description="The customer's holding of an account: the holder's role, and the account."
)
class Holding:
    role: str | None = strawberry.field(description="PRIMARY, JOINT, AUTHORIZED or GUARANTOR")
    account: Account

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Holding:
        return cls(role=row.get("holder_role"), account=Account.from_row(row))
