"""Who am I, load runs, and relationship-manager assignment."""

from __future__ import annotations

import datetime as dt
from typing import Any

from auth import enforce
from auth.policy import ROLES, Operation
from core.errors import BadUserInput
from graph.queries import operations as q
from graph.session import all_rows
from resolvers.context import Context
from resolvers.idempotency import idempotency_key
from resolvers.pagination import list_cursors, page_size
from resolvers.writes import Written, audited_write


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
    rows = await ctx.read(
        all_rows, query=q.LOAD_RUNS, params={"limit": page_size(ctx.settings, first)}
    )
    return [r["run"] for r in rows]


async def load_runs_page(ctx: Context, *, first: int | None, after: str | None) -> dict[str, Any]:
    """A page of load runs, newest first, with a cursor per run and the number of all runs."""
    enforce.require(ctx.principal, Operation.READ_LOAD_RUNS)
    limit = page_size(ctx.settings, first)
    cursors = list_cursors(ctx.settings, ctx.principal, "loadRunsConnection")
    cursor = cursors.decode(after, arity=2)
    [row] = await ctx.read(
        all_rows,
        query=q.LOAD_RUNS_PAGE,
        params={
            "after_at": dt.datetime.fromisoformat(cursor[0]) if cursor else None,
            "after_id": cursor[1] if cursor else None,
            "limit": limit + 1,
        },
    )
    runs = row["runs"][:limit]
    return {
        "runs": runs,
        "cursors": [cursors.encode(_iso(r.get("started_at")), r["run_id"]) for r in runs],
        "has_next": len(row["runs"]) > limit,
        "total": row["total"],
    }


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


async def assign_relationship_manager(
    ctx: Context, *, customer_id: str, employee_id: str, client_mutation_id: str
) -> dict[str, Any]:
    enforce.require(ctx.principal, Operation.ASSIGN_RELATIONSHIP_MANAGER)
    key = idempotency_key(
        ctx.principal,
        Operation.ASSIGN_RELATIONSHIP_MANAGER,
        client_mutation_id,
        {"customerId": customer_id, "employeeId": employee_id},
    )
    scope = enforce.row_scope(ctx.principal)
    params = {
        "customer_id": customer_id,
        "assignee_id": employee_id,
        "rm_titles": list(q.RELATIONSHIP_MANAGER_TITLES),
        "today": dt.datetime.now(dt.UTC).date(),
        "subject": ctx.principal.subject,
        **scope.params,
    }

    async def work(tx, first: dict[str, Any] | None) -> Written | None:
        found = await q.find_assignee(tx, scope=scope.kind, params=params)
        if found is None:
            return None
        if first is not None:  # the first request's answer, even if someone reassigned since
            return Written(row={**found, "since": first["since"]}, customer_ids=[customer_id])
        if not found["is_relationship_manager"]:
            raise BadUserInput(f"employeeId {employee_id!r} is not a relationship manager")
        done = await q.assign_relationship_manager(tx, scope=scope.kind, params=params)
        assert done is not None  # both were matched in this transaction
        return Written(row=done, customer_ids=[customer_id], replay={"since": done["since"]})

    return await audited_write(
        ctx,
        key=key,
        fields=["relationshipManager"],
        work=work,
        not_found=f"No customer {customer_id!r} and relationship manager {employee_id!r} "
        "in your scope.",
    )
