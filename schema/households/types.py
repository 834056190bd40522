from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from resolvers import households as resolve
from schema.context import Info
from schema.customers.related import CustomerRef
from schema.scalars import to_date

_USE_CUSTOMER = "Select customer { id name tier } (the same person wherever they appear)."


@strawberry.type(
    description="A customer's membership of a household: the role and dates belong to the "
    "membership, the person to customer, the household to household. It has no id of its own: "
    "a client cache keeps it inside the household or customer it was read under."
)
class HouseholdMember:
    customer_id: strawberry.ID = strawberry.field(deprecation_reason=_USE_CUSTOMER)
    name: str | None = strawberry.field(
        description="Masked as the caller's role requires", deprecation_reason=_USE_CUSTOMER
    )
    role: str | None = strawberry.field(description="HEAD, SPOUSE, CHILD, PARENT or OTHER")
    since: dt.date | None
    ended_at: dt.date | None = strawberry.field(description="Set when the membership ended")
    tier: str | None = strawberry.field(deprecation_reason=_USE_CUSTOMER)
    customer: CustomerRef = strawberry.field(description="The member, as you may see them")
    _household: strawberry.Private[Household | None] = None

    @strawberry.field(description="The household")
    def household(self) -> Household | None:
        return self._household

    @classmethod
    def of(cls, person: dict[str, Any], household: Household | None) -> HouseholdMember:
        """``person``: a member as resolvers/related.person shows them, with the membership's
        role and dates."""
        return cls(
            customer_id=strawberry.ID(person["customer_id"]),
            name=person.get("name"),
            role=person.get("role"),
            since=to_date(person.get("since")),
            ended_at=to_date(person.get("ended_at")),
            tier=person.get("tier"),
            customer=CustomerRef.of(person),
            _household=household,
        )


@strawberry.type(
    description="A household: members with roles and the household's rolled-up AUM and tier."
)
class Household:
    id: strawberry.ID
    name: str | None
    aum: float | None = strawberry.field(description="Household AUM rolled up from its members")
    tier: str | None = strawberry.field(description="Household tier from the rolled-up AUM")
    # The members as household(id) read them; None when this household was reached through a
    # membership (then read on demand, by the same resolver, so they are the same).
    _members: strawberry.Private[list[dict[str, Any]] | None] = None

    @strawberry.field(
        description="Current members, and former ones you may see, each with role and dates"
    )
    async def members(self, info: Info) -> list[HouseholdMember]:
        rows = self._members
        if rows is None:
            rows = await resolve.members_of(info.context, str(self.id))
        return [HouseholdMember.of(m, self) for m in rows]

    @classmethod
    def from_row(
        cls, household: dict[str, Any], members: list[dict[str, Any]] | None = None
    ) -> Household:
        return cls(
            id=strawberry.ID(household["household_id"]),
            name=household.get("name"),
            aum=household.get("aum"),
            tier=household.get("tier"),
            _members=members,
        )
