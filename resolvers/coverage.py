"""Coverage: assigning relationship managers, a branch's coverage figures and its unassigned
customers (issue 22).

A branch manager acts on their branch only: the customers of its row scope (managed by its
staff, or at home there: graph/queries/scope.py) and the relationship managers who work there.
An admin acts on any branch. A refusal names the argument it is about.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from auth import enforce
from auth.policy import Operation
from core.errors import BadUserInput, Forbidden, NotFound
from graph.queries import coverage as q
from graph.queries.customers import EVERY_PART, parts_for
from graph.queries.operations import RELATIONSHIP_MANAGER_TITLES
from graph.queries.scope import ScopeKind
from resolvers.context import Context
from resolvers.idempotency import idempotency_key
from resolvers.pagination import list_cursors, page_size
from resolvers.writes import Written, audited_write

UNASSIGNED = "unassignedCustomers"
MAX_ID_LENGTH = 64


def _id(value: str, argument: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_ID_LENGTH:
        raise BadUserInput(f"{argument} must be 1 to {MAX_ID_LENGTH} characters")
    return value


def _refusal(ctx: Context, facts: dict[str, Any], *, customer_id: str, employee_id: str) -> None:
    """Raises the first reason the assignment may not be made, naming its argument."""
    branch = ctx.principal.branch_id if _bound_to_branch(ctx) else None
    if not facts["customer_in_scope"]:
        where = f" of your branch {branch!r}" if branch else ""
        raise NotFound(f"customerId {customer_id!r} names no customer{where} visible to you.")
    # A branch manager gets one answer for an unknown id and another branch's employee, so the
    # refusal tells nothing of the employees elsewhere.
    if branch is not None and (
        facts["employee"] is None or branch not in facts["employee_branches"]
    ):
        raise NotFound(
            f"employeeId {employee_id!r} names no employee of your branch {branch!r}: a branch "
            "manager assigns only the relationship managers who work at their branch."
        )
    if facts["employee"] is None:
        raise NotFound(f"employeeId {employee_id!r} names no employee.")
    if not facts["is_relationship_manager"]:
        title = facts["employee"].get("title")
        raise BadUserInput(
            f"employeeId {employee_id!r} is not a relationship manager (title {title!r})."
        )


def _bound_to_branch(ctx: Context) -> bool:
    """A caller whose rows are a branch's (a branch manager without a wider role)."""
    return enforce.row_scope(ctx.principal).kind is ScopeKind.BRANCH


async def assign_relationship_manager(
    ctx: Context, *, customer_id: str, employee_id: str, client_mutation_id: str
) -> dict[str, Any]:
    enforce.require(ctx.principal, Operation.ASSIGN_RELATIONSHIP_MANAGER)
    customer_id = _id(customer_id, "customerId")
    employee_id = _id(employee_id, "employeeId")
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
        "rm_titles": list(RELATIONSHIP_MANAGER_TITLES),
        "today": dt.datetime.now(dt.UTC).date(),
        "subject": ctx.principal.subject,
        **scope.params,
    }

    async def work(tx, first: dict[str, Any] | None) -> Written | None:
        facts = await q.assignment_facts(tx, scope=scope.kind, params=params)
        _refusal(ctx, facts, customer_id=customer_id, employee_id=employee_id)
        if first is not None:  # the first request's answer, even if someone reassigned since
            row = {"customer_id": customer_id, "employee": facts["employee"]}
            return Written(row={**row, "since": first["since"]}, customer_ids=[customer_id])
        done = await q.assign(tx, params=params)
        assert done is not None  # both were matched in this transaction
        return Written(row=done, customer_ids=[customer_id], replay={"since": done["since"]})

    return await audited_write(
        ctx,
        key=key,
        fields=["relationshipManager"],
        work=work,
        not_found=f"customerId {customer_id!r} names no customer visible to you.",
    )


def _branch_of_caller(ctx: Context, branch_id: str | None, operation: Operation) -> str | None:
    """The branch a coverage read is about: a branch manager's own (another one is refused);
    for a role that reads every branch, the one asked for (None: the whole bank)."""
    enforce.require(ctx.principal, operation)
    asked = _id(branch_id, "branchId") if branch_id is not None else None
    if _bound_to_branch(ctx):
        own = ctx.principal.branch_id
        if asked is not None and asked != own:
            raise Forbidden(f"branchId {asked!r} is not your branch: you may read {own!r} only.")
        return own
    return asked


async def branch_coverage(ctx: Context, *, branch_id: str | None) -> dict[str, Any]:
    """Customers of the branch per tier, with and without a relationship manager, and the
    branch's relationship managers. A branch manager reads their own branch (branchId may be
    left out); an admin or an auditor names one."""
    branch = _branch_of_caller(ctx, branch_id, Operation.READ_BRANCH_COVERAGE)
    if branch is None:
        raise BadUserInput("branchId is required: name the branch to read")
    found = await ctx.read(
        q.branch_coverage, branch_id=branch, rm_titles=list(RELATIONSHIP_MANAGER_TITLES)
    )
    if found["branch"] is None:
        raise NotFound(f"branchId {branch!r} names no branch.")
    return found


@dataclass
class UnassignedPage:
    rows: list[dict[str, Any]]
    cursors: list[str]
    total: int
    has_next: bool


async def unassigned_customers(
    ctx: Context,
    *,
    first: int | None,
    after: str | None,
    branch_id: str | None,
    fields: Iterable[str] | None = None,
) -> UnassignedPage:
    """Customers without a relationship manager, CORE first, then KEY, then ORDINARY (AUM
    descending within a tier): a branch manager's branch; an admin's whole bank, or one branch."""
    branch = _branch_of_caller(ctx, branch_id, Operation.READ_UNASSIGNED_CUSTOMERS)
    limit = page_size(ctx.settings, first)
    cursors = list_cursors(ctx.settings, ctx.principal, UNASSIGNED, branch=branch)
    cursor = cursors.decode(after, arity=3)
    scope = enforce.row_scope(ctx.principal)
    rows, total = await ctx.read(
        q.unassigned_page,
        parts=EVERY_PART if fields is None else parts_for(fields),
        scope=scope.kind,
        params={
            **scope.params,
            "branch_id": branch,
            "after_rank": cursor[0] if cursor else None,
            "after_aum": cursor[1] if cursor else None,
            "after_id": cursor[2] if cursor else None,
            "limit": limit + 1,
        },
    )
    has_next = len(rows) > limit
    rows = rows[:limit]
    if rows:
        await ctx.audit(
            Operation.READ_UNASSIGNED_CUSTOMERS.value,
            customer_ids=[r["customer"]["customer_id"] for r in rows],
            fields=[UNASSIGNED],
        )
    return UnassignedPage(
        rows=[
            enforce.mask_row(ctx.principal, {**r["customer"], "access": r["access"]}) for r in rows
        ],
        cursors=[cursors.encode(r["rank"], r["aum"], r["customer"]["customer_id"]) for r in rows],
        total=total,
        has_next=has_next,
    )
