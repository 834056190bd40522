"""Who am I, and load runs (relationship-manager assignment: resolvers/coverage.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from auth import enforce
from auth.policy import ROLES, Operation
from graph.queries import operations as q
from graph.session import all_rows
from resolvers.context import Context
from resolvers.pagination import list_cursors, page_size


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
