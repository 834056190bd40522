"""Customer reads."""

from __future__ import annotations

from typing import Any

from c360.errors import BadUserInput, NotFound
from graph.queries import customers as q
from resolvers.context import Context

MAX_ID_LENGTH = 64


async def customer_profile(ctx: Context, customer_id: str) -> dict[str, Any]:
    customer_id = customer_id.strip()
    if not customer_id or len(customer_id) > MAX_ID_LENGTH:
        raise BadUserInput(f"id must be 1 to {MAX_ID_LENGTH} characters")
    row = await ctx.read(q.fetch_profile, customer_id=customer_id)
    if row is None:
        raise NotFound(f"No customer {customer_id!r} is visible to you.")
    return row
