from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import strawberry

from resolvers import alerts as resolve_alerts
from resolvers import interactions as resolve_interactions
from resolvers import related
from resolvers import satisfaction as resolve_satisfaction
from schema.context import Info
from schema.customers.account import Account, Holding
from schema.customers.branch import Branch
from schema.customers.household import HouseholdMembership
from schema.customers.related import (
    CustomerRef,
    Employee,
    Referral,
    RelationshipManagerAssignment,
    SourceRecord,
)
from schema.customers.tier_change import TierChange
from schema.households.types import Household, HouseholdMember
from schema.interactions.complaints import Satisfaction
from schema.interactions.types import (
    Channel,
    Interaction,
    InteractionConnection,
    InteractionKind,
    InteractionPageInfo,
    TimelineConnection,
)
from schema.scalars import to_date
from schema.selection import item_fields
from schema.value.types import Recommendation, Risk, Value


# Accounts are made into objects only when selected (a customer may hold a hundred).
def _accounts(root: Customer) -> list[Account]:
    return [Account.from_row(a) for a in root._account_rows]


def _holdings(root: Customer) -> list[Holding]:
    return [Holding.from_row(a) for a in root._account_rows]


# The people linked to the customer are shown under the caller's access to each of them, not
# under the access to this customer (resolvers/related.py).
def _household(root: Customer, info: Info) -> HouseholdMembership | None:
    row = root._household
    if not row:
        return None
    name = related.derived_name(info.context, row.get("name"), row.get("people") or [])
    return HouseholdMembership.from_row({**row, "name": name})


def _household_membership(root: Customer, info: Info) -> HouseholdMember | None:
    row = root._household
    if not row:
        return None
    name = related.derived_name(info.context, row.get("name"), row.get("people") or [])
    household = Household.from_row({**row, "name": name})
    me = {"customer_id": root.id, "name": root.name, "tier": root.tier, "restricted": False}
    return HouseholdMember.of({**row, **me}, household)


def _referrer(root: Customer, info: Info) -> Referral | None:
    row = root._referred_by
    return Referral.of(related.person(info.context, row, keep=("referred_at",))) if row else None


def _referred(root: Customer, info: Info) -> list[Referral] | None:
    if root._referrals is None:
        return None
    return [
        Referral.of(related.person(info.context, r, keep=("referred_at",))) for r in root._referrals
    ]


def _referred_by(root: Customer, info: Info) -> CustomerRef | None:
    row = root._referred_by
    return CustomerRef.of(related.person(info.context, row, keep=("referred_at",))) if row else None


def _referrals(root: Customer, info: Info) -> list[CustomerRef] | None:
    if root._referrals is None:
        return None
    return [
        CustomerRef.of(related.person(info.context, r, keep=("referred_at",)))
        for r in root._referrals
    ]


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
    accounts: list[Account] = strawberry.field(resolver=_accounts)
    holdings: list[Holding] = strawberry.field(
        resolver=_holdings,
        description="The accounts the customer holds, each with the customer's holder role",
    )
    household: HouseholdMembership | None = strawberry.field(
        resolver=_household,
        deprecation_reason="Its id is the household's while its role and since are this "
        "member's, so a client cache merges the members of one household into one. Select "
        "householdMembership { role since endedAt household { id name aum tier } }.",
    )
    household_membership: HouseholdMember | None = strawberry.field(
        resolver=_household_membership,
        description="The customer's household membership (the current one, else the last they "
        "left): role and dates, and the household",
    )
    value: Value | None = strawberry.field(
        description="Tier, value score with its components, CLV, influence, lifecycle (scoring)"
    )
    risk: Risk | None = strawberry.field(description="Downgrade and churn risk with reasons")
    recommendations: list[Recommendation] | None = strawberry.field(
        description="Next best products: what similar customers hold and this one does not"
    )
    relationship_manager: Employee | None
    relationship_manager_assignment: RelationshipManagerAssignment | None = strawberry.field(
        description="The relationship manager's assignment: since when, and the employee"
    )
    home_branch: Branch | None = strawberry.field(
        description="The branch the customer belongs to: the source's own, else where their "
        "oldest open primary account was opened"
    )
    referred_by: CustomerRef | None = strawberry.field(
        resolver=_referred_by,
        description="Who brought this customer in",
        deprecation_reason="Select referrer { referredAt customer { id name } }: the date "
        "belongs to the referral, not to the person a client cache keeps by id.",
    )
    referrals: list[CustomerRef] | None = strawberry.field(
        resolver=_referrals,
        description="Whom this customer referred",
        deprecation_reason="Select referred { referredAt customer { id name } }: the date "
        "belongs to the referral, not to the person a client cache keeps by id.",
    )
    referrer: Referral | None = strawberry.field(
        resolver=_referrer, description="The referral that brought this customer in, and by whom"
    )
    referred: list[Referral] | None = strawberry.field(
        resolver=_referred, description="The referrals this customer made, and whom"
    )
    source_records: list[SourceRecord] | None = strawberry.field(
        description="The source-system records merged into this golden record"
    )
    # Not in the schema. Whether the policy lets the caller read the timeline (masked to None
    # when not); the scoring job's AUM, the one lists sort by; the AUM summed by the query when
    # no accounts were asked for; the rows of the linked people as the view left them.
    _account_rows: strawberry.Private[list[dict[str, Any]]] = dataclasses.field(
        default_factory=list
    )
    _interactions_allowed: strawberry.Private[bool] = False
    _satisfaction_allowed: strawberry.Private[bool] = False
    _household: strawberry.Private[dict[str, Any] | None] = None
    _referred_by: strawberry.Private[dict[str, Any] | None] = None
    _referrals: strawberry.Private[list[dict[str, Any]] | None] = None
    _stored_aum: strawberry.Private[float | None] = None
    _computed_aum: strawberry.Private[float | None] = None
    # (parameters, item parts, row) of the timeline's first page when the profile query brought
    # it along (resolvers/interactions.Fetched).
    _timeline_page: strawberry.Private[resolve_interactions.Fetched | None] = None

    @strawberry.field(
        description="Interactions, newest first; filter by channel, kind and time.",
        deprecation_reason="Select timeline: the same page as a Relay connection (edges, nodes, "
        "pageInfo: PageInfo, totalCount) like every other list.",
    )
    async def interactions(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        channels: list[Channel] | None = None,
        kinds: list[InteractionKind] | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> InteractionConnection | None:
        page = await self._timeline(info, first, after, channels, kinds, since, until)
        if page is None:
            return None
        return InteractionConnection(
            total_count=page["total"],
            items=[Interaction.from_row(i) for i in page["items"]],
            page_info=InteractionPageInfo(
                has_next_page=page["has_next"], end_cursor=page["end_cursor"]
            ),
        )

    @strawberry.field(
        description="Interactions, newest first (Relay connection); filter by channel, kind and "
        "time."
    )
    async def timeline(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        channels: list[Channel] | None = None,
        kinds: list[InteractionKind] | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> TimelineConnection | None:
        page = await self._timeline(info, first, after, channels, kinds, since, until)
        return None if page is None else TimelineConnection.of(page)

    async def _timeline(
        self,
        info: Info,
        first: int | None,
        after: str | None,
        channels: list[Channel] | None,
        kinds: list[InteractionKind] | None,
        since: dt.datetime | None,
        until: dt.datetime | None,
    ) -> dict[str, Any] | None:
        """A page of the timeline, None when the policy does not let the caller read it."""
        if not self._interactions_allowed:
            return None
        return await resolve_interactions.timeline(
            info.context,
            customer_id=str(self.id),
            flt=resolve_interactions.InteractionFilter(
                channels=[c.value for c in channels] if channels else None,
                kinds=[k.value for k in kinds] if kinds else None,
                from_=since,
                to=until,
            ),
            first=first,
            after=after,
            item_fields=item_fields(info),
            fetched=self._timeline_page,
        )

    @strawberry.field(
        description="Satisfaction from surveys and scored contacts: the last score, 6-month "
        "averages and their trend, per channel; null for customer and channel roles"
    )
    async def satisfaction(self, info: Info) -> Satisfaction | None:
        if not self._satisfaction_allowed:
            return None
        row = await resolve_satisfaction.satisfaction(info.context, str(self.id))
        return Satisfaction.from_row(row)

    @strawberry.field(
        description="The tier changes the scoring job's reviews made, newest first; null where "
        "value is hidden (customer and channel roles, a customer reached by a referral hop)"
    )
    async def tier_history(self, info: Info) -> list[TierChange] | None:
        rows = await resolve_alerts.tier_history(info.context, str(self.id))
        return None if rows is None else [TierChange.from_row(r) for r in rows]

    @strawberry.field(
        description="Assets under management in the reporting currency (scoring.toml [money], "
        "CNY by default): deposit, wealth, fund and insurance balances held as primary or joint "
        "holder, as the last scoring run computed them (before any scoring: summed from the open "
        "accounts shown, each converted at its currency's newest FX rate dated today or earlier; "
        "an account in a currency without a rate is left out)"
    )
    def aum(self) -> float:
        if self._stored_aum is not None:
            return float(self._stored_aum)
        return float(self._computed_aum or 0.0)  # summed by the query before any scoring

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
            _account_rows=row.get("accounts") or [],
            value=Value.from_row(row["value"]) if row.get("value") else None,
            risk=Risk.from_row(row["risk"]) if row.get("risk") else None,
            recommendations=Recommendation.list_from_json(row["recommendations"])
            if row.get("recommendations") is not None
            else None,
            relationship_manager=Employee.from_row(row.get("relationship_manager")),
            relationship_manager_assignment=RelationshipManagerAssignment.from_row(
                row.get("relationship_manager")
            ),
            home_branch=Branch.from_row(row.get("home_branch")),
            source_records=[SourceRecord.from_row(r) for r in row["source_records"]]
            if row.get("source_records") is not None
            else None,
            _interactions_allowed=bool(row.get("interactions")),
            _satisfaction_allowed=bool(row.get("satisfaction")),
            _household=row.get("household"),
            _referred_by=row.get("referred_by"),
            _referrals=row.get("referrals"),
            _stored_aum=row.get("aum"),
            _computed_aum=row.get("computed_aum"),
            _timeline_page=row.get("timeline_page"),
        )
