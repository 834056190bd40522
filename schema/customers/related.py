from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from schema.identity.evidence import MatchComparison, finite
from schema.scalars import to_date


@strawberry.type(description="An employee of the bank (a relationship manager).")
class Employee:
    id: strawberry.ID
    name: str | None
    title: str | None
    branch_id: str | None
    since: dt.date | None = strawberry.field(
        description="Managing this customer since",
        deprecation_reason="A value of one assignment, not of the employee: a client cache "
        "keeps one Employee per id for all their customers. Select "
        "Customer.relationshipManagerAssignment { since employee { id name } }.",
    )

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


@strawberry.type(
    description="Another customer linked to this one (a household member, a referral partner), "
    "as you may see them: open them with customer(id) unless restricted. Carries only what "
    "belongs to the person, so it is the same wherever it appears."
)
class CustomerRef:
    id: strawberry.ID = strawberry.field(
        description="The customer id; for a restricted person an opaque id valid in this answer only"
    )
    name: str | None = strawberry.field(description="Masked as the caller's role requires")
    tier: str | None = strawberry.field(description="CORE, KEY or ORDINARY; null when restricted")
    restricted: bool = strawberry.field(
        description="Outside your scope: shown for context, no details, not openable"
    )
    referred_at: dt.date | None = strawberry.field(
        deprecation_reason="A value of the referral, not of the person: a client cache keeps one "
        "CustomerRef per id, so a customer who referred several people shows one date for all. "
        "Select Customer.referrer / Customer.referred { referredAt customer { id name } }.",
    )

    @classmethod
    def of(cls, row: dict[str, Any]) -> CustomerRef:
        """``row``: a person as resolvers/related.person shows them."""
        return cls(
            id=strawberry.ID(row["customer_id"]),
            name=row.get("name"),
            tier=row.get("tier"),
            restricted=bool(row.get("restricted")),
            referred_at=to_date(row.get("referred_at")),
        )


@strawberry.type(
    description="A referral: when it was made and the other customer (the referrer on "
    "Customer.referrer, the referred customer on Customer.referred)."
)
class Referral:
    referred_at: dt.date | None
    customer: CustomerRef

    @classmethod
    def of(cls, row: dict[str, Any]) -> Referral:
        return cls(referred_at=to_date(row.get("referred_at")), customer=CustomerRef.of(row))


@strawberry.type(
    description="The assignment of a relationship manager to a customer: since when, and who."
)
class RelationshipManagerAssignment:
    since: dt.date | None = strawberry.field(description="Managing this customer since")
    employee: Employee

    @classmethod
    def from_row(cls, row: dict[str, Any] | None) -> RelationshipManagerAssignment | None:
        if not row:
            return None
        return cls(since=to_date(row.get("since")), employee=Employee.of(row))


@strawberry.type(
    description="A source system's record resolved to this golden customer (lineage), with the "
    "evidence of the link."
)
class SourceRecord:
    system: str
    source_id: str
    rule: str | None = strawberry.field(
        description="The identity-resolution rule that linked it: ANCHOR (the record the golden "
        "id comes from), SINGLETON (alone), NATIONAL_ID, PROBABILISTIC (the linkage model) or "
        "STEWARD (a data steward's decision)"
    )
    confidence: float | None = strawberry.field(description="Match probability of the link, 0-1")
    match_weight: float | None = strawberry.field(
        description="The linkage model's match weight for the link (log2 of its Bayes factor); "
        "null for a link no model scored"
    )
    comparisons: list[MatchComparison] | None = strawberry.field(
        description="Why the model linked it: each comparison's level and weight; null for a "
        "link no model scored"
    )

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SourceRecord:
        return cls(
            system=row["system"],
            source_id=str(row["source_id"]),
            rule=row.get("rule"),
            confidence=finite(row.get("confidence")),
            match_weight=finite(row.get("match_weight")),
            comparisons=MatchComparison.list_from_json(row.get("comparisons_json")),
        )
