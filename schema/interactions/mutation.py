from __future__ import annotations

import datetime as dt

import strawberry

from resolvers import interactions as resolve
from schema.context import Info
from schema.interactions.types import Channel, Interaction, InteractionKind, Severity


@strawberry.input(
    description="A follow-up, visit or call. Retrying with the same clientMutationId is safe."
)
class LogInteractionInput:
    client_mutation_id: str
    customer_id: strawberry.ID
    channel: Channel
    kind: InteractionKind = InteractionKind.FOLLOW_UP
    summary: str
    outcome: str | None = None
    occurred_at: dt.datetime | None = strawberry.field(default=None, description="Default: now")


@strawberry.input
class OpenComplaintInput:
    client_mutation_id: str
    customer_id: strawberry.ID
    channel: Channel
    severity: Severity = Severity.MINOR
    summary: str


@strawberry.input
class ResolveComplaintInput:
    client_mutation_id: str
    complaint_id: strawberry.ID
    resolution: str
    outcome: str | None = None


@strawberry.type
class InteractionPayload:
    client_mutation_id: str
    interaction: Interaction
    created: bool = strawberry.field(description="False when this retry found the earlier write")


@strawberry.type
class InteractionsMutation:
    @strawberry.mutation(description="Log a follow-up, visit or call with a customer you serve.")
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
        )
        return InteractionPayload(
            client_mutation_id=input.client_mutation_id,
            interaction=Interaction.from_row(row),
            created=row["created"],
        )

    @strawberry.mutation(description="Open a complaint; its SLA clock starts now.")
    async def open_complaint(self, info: Info, input: OpenComplaintInput) -> InteractionPayload:
        row = await resolve.open_complaint(
            info.context,
            customer_id=str(input.customer_id),
            client_mutation_id=input.client_mutation_id,
            channel=input.channel.value,
            summary=input.summary,
            severity=input.severity.value,
        )
        return InteractionPayload(
            client_mutation_id=input.client_mutation_id,
            interaction=Interaction.from_row(row),
            created=row["created"],
        )

    @strawberry.mutation(description="Resolve a complaint; the SLA status is computed and stored.")
    async def resolve_complaint(
        self, info: Info, input: ResolveComplaintInput
    ) -> InteractionPayload:
        row = await resolve.resolve_complaint(
            info.context,
            complaint_id=str(input.complaint_id),
            client_mutation_id=input.client_mutation_id,
            resolution=input.resolution,
            outcome=input.outcome,
        )
        return InteractionPayload(
            client_mutation_id=input.client_mutation_id,
            interaction=Interaction.from_row(row),
            created=False,
        )
