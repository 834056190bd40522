from __future__ import annotations

import strawberry

from resolvers import identity as shown
from resolvers import stewards as resolve
from schema.context import Info
from schema.identity.types import IdentityReview, LinkedRecord


@strawberry.input(
    description="Confirm that the two records of a review are one person. Retrying with the "
    "same clientMutationId is safe."
)
class ConfirmMatchInput:
    client_mutation_id: str
    review_id: str
    reason: str = strawberry.field(description="Why: kept with the decision (at most 2000)")


@strawberry.input(
    description="Reject a review: the two records are different people and no later load "
    "merges them. Retrying with the same clientMutationId is safe."
)
class RejectMatchInput:
    client_mutation_id: str
    review_id: str
    reason: str = strawberry.field(description="Why: kept with the decision (at most 2000)")


@strawberry.input(description="A source record by its system and its id there.")
class SourceRecordKeyInput:
    system: str
    source_id: str


@strawberry.input(
    description="Unmerge a customer: its source records back to separate customers. Retrying "
    "with the same clientMutationId is safe."
)
class SplitCustomerInput:
    client_mutation_id: str
    customer_id: strawberry.ID
    reason: str = strawberry.field(description="Why: kept with the decision (at most 2000)")
    groups: list[list[SourceRecordKeyInput]] | None = strawberry.field(
        default=None,
        description="Records that stay together, one customer per group (e.g. the two "
        "customers a wrong confirmMatch merged); every record not named is alone. Null: every "
        "record alone",
    )


@strawberry.type
class ConfirmMatchPayload:
    client_mutation_id: str
    review: IdentityReview
    customer_id: strawberry.ID = strawberry.field(
        description="The customer the two records now resolve to (the smaller id survives)"
    )
    absorbed_customer_id: strawberry.ID | None = strawberry.field(
        description="The customer merged into it and gone (null: they were one already)"
    )


@strawberry.type
class RejectMatchPayload:
    client_mutation_id: str
    review: IdentityReview


@strawberry.type
class SplitCustomerPayload:
    client_mutation_id: str
    customer_id: strawberry.ID = strawberry.field(
        description="The customer split (it keeps the record whose id it is)"
    )
    records: list[LinkedRecord] = strawberry.field(
        description="Its former records, each with the customer it now resolves to"
    )


@strawberry.type
class StewardsMutation:
    @strawberry.mutation(
        description="Confirm an identity review (data engineers and admins): the two records' "
        "customers become one. Audited."
    )
    async def confirm_match(self, info: Info, input: ConfirmMatchInput) -> ConfirmMatchPayload:
        row = await resolve.confirm_match(
            info.context,
            review_id=input.review_id,
            reason=input.reason,
            client_mutation_id=input.client_mutation_id,
        )
        absorbed = row.get("absorbed_customer_id")
        return ConfirmMatchPayload(
            client_mutation_id=input.client_mutation_id,
            review=_review(info, row),
            customer_id=strawberry.ID(row["customer_id"]),
            absorbed_customer_id=strawberry.ID(absorbed) if absorbed else None,
        )

    @strawberry.mutation(
        description="Reject an identity review (data engineers and admins): the records are "
        "kept apart (NOT_SAME_AS) from now on. Audited."
    )
    async def reject_match(self, info: Info, input: RejectMatchInput) -> RejectMatchPayload:
        row = await resolve.reject_match(
            info.context,
            review_id=input.review_id,
            reason=input.reason,
            client_mutation_id=input.client_mutation_id,
        )
        return RejectMatchPayload(
            client_mutation_id=input.client_mutation_id, review=_review(info, row)
        )

    @strawberry.mutation(
        description="Split a customer (data engineers and admins): its source records back to "
        "separate golden customers (each alone, or in the groups given), kept apart from each "
        "other from now on; relationships follow the records that made them. Audited."
    )
    async def split_customer(self, info: Info, input: SplitCustomerInput) -> SplitCustomerPayload:
        row = await resolve.split_customer(
            info.context,
            customer_id=str(input.customer_id),
            reason=input.reason,
            client_mutation_id=input.client_mutation_id,
            groups=[[(k.system, k.source_id) for k in g] for g in input.groups]
            if input.groups is not None
            else None,
        )
        records = shown.shown_records(info.context, row["records"])
        return SplitCustomerPayload(
            client_mutation_id=input.client_mutation_id,
            customer_id=strawberry.ID(row["customer_id"]),
            records=[LinkedRecord.from_row(r) for r in records],
        )


def _review(info: Info, row: dict) -> IdentityReview:
    return IdentityReview.from_row(row["review"], shown.shown_records(info.context, row["records"]))
