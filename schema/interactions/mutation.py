"""Interactions: follow-ups, the complaint lifecycle, surveys. Every mutation is idempotent per
clientMutationId (the same request again answers with the first result) and audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from resolvers import complaints as desk
from resolvers import interactions as resolve
from schema.context import Info
from schema.interactions.types import Channel, Interaction, InteractionKind, Severity


@strawberry.input(
    description="A follow-up, visit or call. Retrying with the same clientMutationId is safe. "
    "A VISIT is its visit report: outcome and nextStep are required, nextStepDue optional."
)
class LogInteractionInput:
    client_mutation_id: str
    customer_id: strawberry.ID
    channel: Channel
    kind: InteractionKind = InteractionKind.FOLLOW_UP
    summary: str
    outcome: str | None = None
    occurred_at: dt.datetime | None = strawberry.field(default=None, description="Default: now")
    next_step: str | None = strawberry.field(
        default=None, description="The next step agreed (required for a VISIT)"
    )
    next_step_due: dt.date | None = strawberry.field(
        default=None, description="When the next step is due (not before the contact's day)"
    )


@strawberry.input
class OpenComplaintInput:
    client_mutation_id: str
    customer_id: strawberry.ID
    channel: Channel
    severity: Severity = Severity.MINOR
    summary: str
    kind: InteractionKind = strawberry.field(
        default=InteractionKind.COMPLAINT, description="COMPLAINT, SUGGESTION or QUESTION"
    )
    category: str | None = strawberry.field(
        default=None, description="A category code of complaintTaxonomy"
    )


@strawberry.input
class AcknowledgeComplaintInput:
    client_mutation_id: str
    complaint_id: strawberry.ID
    note: str | None = None


@strawberry.input
class AddComplaintProgressInput:
    client_mutation_id: str
    complaint_id: strawberry.ID
    note: str
    visible_to_customer: bool = True


@strawberry.input(
    description="category and causeType (complaintTaxonomy) are required to resolve a COMPLAINT"
)
class ResolveComplaintInput:
    client_mutation_id: str
    complaint_id: strawberry.ID
    resolution: str
    outcome: str | None = None
    category: str | None = None
    cause_type: str | None = None
    cause_subtype: str | None = None


@strawberry.input
class CloseComplaintInput:
    client_mutation_id: str
    complaint_id: strawberry.ID


@strawberry.input
class ReopenComplaintInput:
    client_mutation_id: str
    complaint_id: strawberry.ID
    reason: str


@strawberry.input(description="A survey answer: csat 1-5 and/or NPS 0-10.")
class RecordSurveyInput:
    client_mutation_id: str
    customer_id: strawberry.ID
    channel: Channel
    csat: int | None = None
    nps: int | None = None
    comment: str | None = None
    related_complaint_id: strawberry.ID | None = None


@strawberry.type
class InteractionPayload:
    client_mutation_id: str
    interaction: Interaction
    created: bool = strawberry.field(description="False when this retry found the earlier write")


def _payload(client_mutation_id: str, row: dict[str, Any]) -> InteractionPayload:
    return InteractionPayload(
        client_mutation_id=client_mutation_id,
        interaction=Interaction.from_row(row),
        created=row["created"],
    )


@strawberry.type
class InteractionsMutation:
    @strawberry.mutation(
        description="Log a follow-up, visit (with its report) or call with a customer you serve; "
        "a visit or a call takes the customer off followUpsDue."
    )
    async def log_interaction(self, info: Info, input: LogInteractionInput) -> InteractionPayload:
        row = await resolve.log_interaction(
            info.context,
            customer_id=str(input.customer_id),
            client_mutation_id=input.client_mutation_id,
            channel=input.channel.value,
            kind=input.kind.value,
            summary=input.summary,
            outcome=input.outcome,
            occurred_at=input.occurred_at,
            next_step=input.next_step,
            next_step_due=input.next_step_due,
        )
        return _payload(input.client_mutation_id, row)

    @strawberry.mutation(
        description="Open a complaint, suggestion or question; its service-level clock starts now."
    )
    async def open_complaint(self, info: Info, input: OpenComplaintInput) -> InteractionPayload:
        row = await desk.open_item(
            info.context,
            customer_id=str(input.customer_id),
            client_mutation_id=input.client_mutation_id,
            channel=input.channel.value,
            summary=input.summary,
            severity=input.severity.value,
            kind=input.kind.value,
            category=input.category,
        )
        return _payload(input.client_mutation_id, row)

    @strawberry.mutation(
        description="Record the first response (OPEN or REOPENED -> ACKNOWLEDGED): who and when."
    )
    async def acknowledge_complaint(
        self, info: Info, input: AcknowledgeComplaintInput
    ) -> InteractionPayload:
        row = await desk.acknowledge(
            info.context,
            complaint_id=str(input.complaint_id),
            client_mutation_id=input.client_mutation_id,
            note=input.note,
        )
        return _payload(input.client_mutation_id, row)

    @strawberry.mutation(
        description="Add a progress note, fed back to the customer unless visibleToCustomer is "
        "false (ACKNOWLEDGED or IN_PROGRESS -> IN_PROGRESS)."
    )
    async def add_complaint_progress(
        self, info: Info, input: AddComplaintProgressInput
    ) -> InteractionPayload:
        row = await desk.add_progress(
            info.context,
            complaint_id=str(input.complaint_id),
            client_mutation_id=input.client_mutation_id,
            note=input.note,
            visible_to_customer=input.visible_to_customer,
        )
        return _payload(input.client_mutation_id, row)

    @strawberry.mutation(
        description="Resolve with an outcome and a cause (-> RESOLVED); a complaint then asks "
        "for a follow-up survey. Resolving an item nobody acknowledged counts as its first "
        "response."
    )
    async def resolve_complaint(
        self, info: Info, input: ResolveComplaintInput
    ) -> InteractionPayload:
        row = await desk.resolve(
            info.context,
            complaint_id=str(input.complaint_id),
            client_mutation_id=input.client_mutation_id,
            resolution=input.resolution,
            outcome=input.outcome,
            category=input.category,
            cause_type=input.cause_type,
            cause_subtype=input.cause_subtype,
        )
        return _payload(input.client_mutation_id, row)

    @strawberry.mutation(description="Close a resolved item (RESOLVED -> CLOSED).")
    async def close_complaint(self, info: Info, input: CloseComplaintInput) -> InteractionPayload:
        row = await desk.close(
            info.context,
            complaint_id=str(input.complaint_id),
            client_mutation_id=input.client_mutation_id,
        )
        return _payload(input.client_mutation_id, row)

    @strawberry.mutation(description="Reopen a resolved or closed item (-> REOPENED).")
    async def reopen_complaint(self, info: Info, input: ReopenComplaintInput) -> InteractionPayload:
        row = await desk.reopen(
            info.context,
            complaint_id=str(input.complaint_id),
            client_mutation_id=input.client_mutation_id,
            reason=input.reason,
        )
        return _payload(input.client_mutation_id, row)

    @strawberry.mutation(
        description="Record a survey answer (an interaction of kind SURVEY), about a complaint "
        "of the same customer when relatedComplaintId is given."
    )
    async def record_survey(self, info: Info, input: RecordSurveyInput) -> InteractionPayload:
        row = await desk.record_survey(
            info.context,
            customer_id=str(input.customer_id),
            client_mutation_id=input.client_mutation_id,
            channel=input.channel.value,
            csat=input.csat,
            nps=input.nps,
            comment=input.comment,
            related_complaint_id=str(input.related_complaint_id)
            if input.related_complaint_id
            else None,
        )
        return _payload(input.client_mutation_id, row)
