"""A household, opened through a current member the caller may see; each member shown under the
caller's access to that member (resolvers/related.py)."""

from __future__ import annotations

from typing import Any

from auth import enforce
from auth.policy import Operation
from core.errors import NotFound
from graph.queries.households import HOUSEHOLD_QUERIES
from graph.session import one_row
from resolvers import related
from resolvers.context import Context


async def household(ctx: Context, household_id: str) -> dict[str, Any]:
    enforce.require(ctx.principal, Operation.READ_CUSTOMER)
    scope = enforce.row_scope(ctx.principal)
    row = await ctx.read(
        one_row,
        query=HOUSEHOLD_QUERIES[scope.kind],
        params={"household_id": household_id, **scope.params},
    )
    # Beyond the scope: a current member masked, a former one not at all.
    listed = [m for m in row["members"] if m["access"] or m["ended_at"] is None] if row else []
    # Recorded whether or not the household is there (a probe is a read), alike in both cases.
    await ctx.audit(
        "household",
        customer_ids=[m["customer_id"] for m in listed],
        fields=["household", "members", f"household:{household_id}"],
    )
    if row is None:
        raise NotFound(f"No household {household_id!r} is visible to you.")
    found = row["household"]
    return {
        "household": {**found, "name": related.derived_name(ctx, found["name"], row["members"])},
        "members": [related.person(ctx, m, keep=("role",)) for m in listed],
    }


async def members_of(ctx: Context, household_id: str) -> list[dict[str, Any]]:
    """The members of a household reached through a membership, exactly as ``household`` shows
    them (same checks, same audit), read once per household and request."""

    async def load(ids: list[str]) -> list[list[dict[str, Any]] | Exception]:
        found: list[list[dict[str, Any]] | Exception] = []
        for hid in ids:
            try:
                found.append((await household(ctx, hid))["members"])
            except NotFound as exc:
                found.append(exc)
        return found

    return await ctx.loader(("household-members",), load).load(household_id)
