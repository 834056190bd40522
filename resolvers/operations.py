"""Who am I, load runs, and relationship-manager assignment."""

from __future__ import annotations

import datetime as dt
from typing import Any

from auth import enforce
from auth.policy import ROLES, Operation
from c360.errors import NotFound
from graph.queries import operations as q
from graph.queries.scope import SCOPE_MATCH
from resolvers.context import Context, all_rows
from resolvers.pagination import page_size


def me(ctx: Context) -> dict[str, Any]:
    p = ctx.principal
    return {
        "subject": p.subject,
        "roles": sorted(r.value for r in p.roles),
        "employee_id": p.employee_id,
        "customer_id": p.customer_id,
        "branch_id": p.branch_id,
        "scope": ROLES[p.primary_role].scope.value,
    }


async def load_runs(ctx: Context, *, first: int | None) -> list[dict[str, Any]]:
    enforce.require(ctx.principal, Operation.READ_LOAD_RUNS)
    rows = await ctx.read(all_rows, query=q.LOAD_RUNS, params={"limit": page_size(first)})
    return [r["run"] for r in rows]


async def assign_relationship_manager(
    ctx: Context, *, customer_id: str, employee_id: str
) -> dict[str, Any]:
    enforce.require(ctx.principal, Operation.ASSIGN_RELATIONSHIP_MANAGER)
    scope = enforce.row_scope(ctx.principal)
    rows = await ctx.write(
        all_rows,
        query=SCOPE_MATCH[scope.kind] + q.ASSIGN_RM_TAIL,
        params={
            "customer_id": customer_id,
            "assignee_id": employee_id,
            "today": dt.datetime.now(dt.UTC).date(),
            "subject": ctx.principal.subject,
            **scope.params,
        },
    )
    if not rows:
        raise NotFound(
            f"No customer {customer_id!r} and relationship manager {employee_id!r} in your scope."
        )
    await ctx.audit(
        Operation.ASSIGN_RELATIONSHIP_MANAGER.value,
        customer_ids=[customer_id],
        fields=["relationshipManager"],
    )
    return rows[0]
