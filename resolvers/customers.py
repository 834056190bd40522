"""Customer reads: policy (scope, view) -> one scoped graph query -> audit -> mask once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from auth import enforce
from auth.policy import Operation
from core.errors import BadUserInput, NotFound
from graph.queries import customers as q
from resolvers.context import Context
from resolvers.interactions import FirstPage, first_page_params

MAX_ID_LENGTH = 64


async def customer_profile(
    ctx: Context,
    customer_id: str,
    *,
    fields: Iterable[str],
    timeline: FirstPage | None = None,
    account_fields: Iterable[str] | None = None,
) -> dict[str, Any]:
    """The profile row, masked. ``timeline``: the first page of the timeline, unfiltered, when
    the selection shows it; that page then comes in the same graph query, as the row's
    ``timeline_page`` (resolvers/interactions.Fetched), and the timeline field answers from it.
    Not for a caller whose view hides interactions: nothing is read for them. A failure of that
    page's part (a timeout on a very long history) is the profile's failure, no longer the
    timeline field's alone. ``account_fields``: the Account fields the selection shows, when
    known; its accounts then carry only those."""
    customer_id = customer_id.strip()
    if not customer_id or len(customer_id) > MAX_ID_LENGTH:
        raise BadUserInput(f"id must be 1 to {MAX_ID_LENGTH} characters")
    enforce.require(ctx.principal, Operation.READ_CUSTOMER)
    scope = enforce.row_scope(ctx.principal)
    fields = list(fields)
    page = None
    if timeline is not None and not enforce.hidden_when_direct(ctx.principal, "interactions"):
        page = first_page_params(ctx, customer_id, timeline)
    row = await ctx.read(
        q.fetch_profile,
        scope=scope.kind,
        customer_id=customer_id,
        scope_params=scope.params,
        parts=q.parts_for(fields, account_fields),
        **({} if page is None else {"timeline": page[0], "timeline_parts": page[1]}),
    )
    # Recorded whether or not the customer is there: a probe is a read, and its event looks like
    # any other, so the trail does not tell absent from out of scope either.
    await ctx.audit(Operation.READ_CUSTOMER.value, customer_ids=[customer_id], fields=fields)
    if row is None:  # absent and out of scope look the same
        raise NotFound(f"No customer {customer_id!r} is visible to you.")
    timeline_row = row.pop("timeline", None)
    masked = enforce.mask_row(ctx.principal, row)
    if page is not None and timeline_row is not None:
        masked["timeline_page"] = (*page, timeline_row)
    return masked
