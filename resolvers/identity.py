"""The identity review queue (data engineers and admins): pairs of source records the linkage
model could not decide, oldest first, each record with its customer as the caller may see them.

A review is listed only when the caller serves every customer its records resolve to directly
(not through a referral hop): the reviews the caller may decide (the stewards' roles reach
everyone; a token that also carries a narrower role reads under that one,
auth/policy.ROLE_PRECEDENCE). Reading the queue is audited like any read of customers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from auth import enforce
from auth.policy import Operation
from graph.queries import identity as q
from graph.session import all_rows
from resolvers import related
from resolvers.context import Context
from resolvers.pagination import list_cursors, page_size

CONNECTION = "identityReviews"


@dataclass(frozen=True)
class ReviewPage:
    reviews: list[dict[str, Any]]  # the review's properties, ``records`` as the caller sees them
    cursors: list[str]
    has_next: bool


def shown_records(ctx: Context, records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Candidate records with their customer (``customer``: None when unresolved) as the caller
    may see that person (resolvers/related.person: masked by the caller's view)."""
    return [
        {
            "system": r["system"],
            "source_id": r["source_id"],
            "customer": related.person(ctx, r) if r.get("customer_id") else None,
        }
        for r in records
    ]


def customer_ids(records: Iterable[dict[str, Any]]) -> list[str]:
    return sorted({r["customer_id"] for r in records if r.get("customer_id")})


async def identity_reviews(
    ctx: Context, *, status: str, first: int | None, after: str | None, fields: Iterable[str]
) -> ReviewPage:
    enforce.require(ctx.principal, Operation.READ_IDENTITY_REVIEWS)
    limit = page_size(ctx.settings, first)
    cursors = list_cursors(ctx.settings, ctx.principal, CONNECTION, status=status)
    cursor = cursors.decode(after, arity=2)
    scope = enforce.row_scope(ctx.principal)
    after_at, after_id = (cursor[0], cursor[1]) if cursor else (None, None)
    rows: list[dict[str, Any]] = []
    while len(rows) <= limit:  # ordered chunks, filtered by scope, until the page is full
        chunk = await ctx.read(
            all_rows,
            query=q.REVIEWS_CHUNK[scope.kind],
            params={
                "status": status,
                "after_at": after_at,
                "after_id": after_id,
                "limit": limit + 1,
                **scope.params,
            },
        )
        rows += [row for row in chunk if q.served_directly(row["records"])]
        if len(chunk) <= limit:
            break
        after_at, after_id = chunk[-1]["at"], chunk[-1]["review"]["review_id"]
    page = rows[:limit]
    await ctx.audit(
        Operation.READ_IDENTITY_REVIEWS.value,
        customer_ids=customer_ids(rec for row in page for rec in row["records"]),
        fields=fields,
    )
    return ReviewPage(
        reviews=[{**row["review"], "records": shown_records(ctx, row["records"])} for row in page],
        cursors=[cursors.encode(row["at"], row["review"]["review_id"]) for row in page],
        has_next=len(rows) > limit,
    )


async def identity_review_count(ctx: Context, *, status: str) -> int:
    """The number of reviews of this status the caller may see (asked only when selected)."""
    enforce.require(ctx.principal, Operation.READ_IDENTITY_REVIEWS)
    scope = enforce.row_scope(ctx.principal)
    [row] = await ctx.read(
        all_rows,
        query=q.REVIEWS_COUNT[scope.kind],
        params={"status": status, **scope.params},
    )
    return int(row["total"])
