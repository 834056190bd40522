"""The identity review queue's types: a review, its records, the page of reviews."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry

from resolvers import identity as resolve
from schema.context import Info
from schema.customers.related import CustomerRef
from schema.identity.evidence import MatchComparison, finite
from schema.pagination import PageInfo
from schema.scalars import enum_or_none, to_datetime


@strawberry.enum(
    description="Where a review stands: waiting for a steward, or decided (SPLIT: confirmed, "
    "then undone by a splitCustomer that separated the pair)."
)
class IdentityReviewStatus(Enum):
    OPEN = "OPEN"
    CONFIRMED = "CONFIRMED"
    REJECTED = "REJECTED"
    SPLIT = "SPLIT"


@strawberry.type(
    description="A source record and the golden customer it resolves to, as you may see them."
)
class LinkedRecord:
    system: str
    source_id: str
    customer: CustomerRef | None = strawberry.field(
        description="The customer the record resolves to (null: none yet)"
    )

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> LinkedRecord:
        """``row``: a record as resolvers/identity.shown_records shows it."""
        person = row.get("customer")
        return cls(
            system=row["system"],
            source_id=str(row["source_id"]),
            customer=CustomerRef.of(person) if person else None,
        )


@strawberry.type(
    description="A pair of source records the linkage model could not decide: the same person "
    "or not? Decide it with confirmMatch or rejectMatch."
)
class IdentityReview:
    id: strawberry.ID = strawberry.field(description="The review id (the same as reviewId)")
    review_id: str = strawberry.field(
        description="The review id, stable across loads: derived from the two records' keys"
    )
    status: IdentityReviewStatus | None
    match_weight: float | None = strawberry.field(
        description="The model's match weight for the pair (log2 of its Bayes factor)"
    )
    probability: float | None = strawberry.field(description="The model's match probability")
    comparisons: list[MatchComparison] | None = strawberry.field(
        description="Each comparison's level and weight for the pair"
    )
    records: list[LinkedRecord] = strawberry.field(
        description="The two records, each with its customer"
    )
    created_at: dt.datetime | None = strawberry.field(description="When a load first listed it")
    decided_by: str | None = strawberry.field(description="The steward who decided it")
    decided_at: dt.datetime | None
    reason: str | None = strawberry.field(description="The steward's reason")

    @classmethod
    def from_row(cls, row: dict[str, Any], records: list[dict[str, Any]]) -> IdentityReview:
        """``row``: the review's stored properties; ``records`` as shown to the caller."""
        return cls(
            id=strawberry.ID(row["review_id"]),
            review_id=row["review_id"],
            status=enum_or_none(IdentityReviewStatus, row.get("status")),
            match_weight=finite(row.get("match_weight")),
            probability=finite(row.get("probability")),
            comparisons=MatchComparison.list_from_json(row.get("comparisons_json")),
            records=[LinkedRecord.from_row(r) for r in records],
            created_at=to_datetime(row.get("created_at")),
            decided_by=row.get("decided_by"),
            decided_at=to_datetime(row.get("decided_at")),
            reason=row.get("reason"),
        )


@strawberry.type
class IdentityReviewEdge:
    cursor: str
    node: IdentityReview


@strawberry.type(description="A page of identity reviews, oldest first (Relay connection).")
class IdentityReviewConnection:
    edges: list[IdentityReviewEdge]
    page_info: PageInfo
    _status: strawberry.Private[str] = "OPEN"

    @strawberry.field(description="The reviews of this page (the edges' nodes)")
    def nodes(self) -> list[IdentityReview]:
        return [e.node for e in self.edges]

    @strawberry.field(description="The number of reviews of this status you may see")
    async def total_count(self, info: Info) -> int:
        return await resolve.identity_review_count(info.context, status=self._status)

    @classmethod
    def from_page(cls, page: resolve.ReviewPage, *, status: str) -> IdentityReviewConnection:
        edges = [
            IdentityReviewEdge(cursor=cursor, node=IdentityReview.from_row(r, r["records"]))
            for r, cursor in zip(page.reviews, page.cursors, strict=True)
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None
            ),
            _status=status,
        )
