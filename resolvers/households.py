"""A household, reached through a member the caller may see."""

from __future__ import annotations

from typing import Any

from auth import enforce
from auth.policy import Operation
from c360.errors import NotFound
from graph.queries.households import HOUSEHOLD_QUERIES
from resolvers.context import Context, one_row


async def household(ctx: Context, household_id: str) -> dict[str, Any]:
    enforce.require(ctx.principal, Operation.READ_CUSTOMER)
    scope = enforce.row_scope(ctx.principal)
    row = await ctx.read(
        one_row,
        query=HOUSEHOLD_QUERIES[scope.kind],
        params={"household_id": household_id, **scope.params},
    )
    if row is None:
        raise NotFound(f"No household {household_id!r} is visible to you.")
    members = [enforce.mask_row(ctx.principal, {**m, "access": "direct"}) for m in row["members"]]
    await ctx.audit(
        "household",
        customer_ids=[m["customer_id"] for m in members],
        fields=["household", "members"],
    )
    return {"household": row["household"], "members": members}
