"""The service desk: the queue of tracked items, its figures, the lifecycle's steps, surveys.

Each step is one audited, idempotent write (resolvers/writes.py): the item's write lock is
taken, it is read in the caller's row scope inside the transaction, the step checked against its
status (core/complaints.TRANSITIONS), then written; its audit event names the item and the
statuses from and to (``complaint_id``, ``from_status``, ``to_status``). A replay of a
clientMutationId answers with the item as it is, without checking or writing again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from auth import enforce
from auth.policy import Operation
from core.complaints import TRACKED_KINDS, Step, next_status
from core.errors import BadUserInput
from core.sla import BREACHES, SlaStatus, sla_params
from core.taxonomy import Taxonomy, load_taxonomy
from graph.queries import complaints as q
from graph.queries.interactions import for_direct_customer
from graph.session import one_row
from resolvers.complaint_view import for_caller, from_queue
from resolvers.context import Context
from resolvers.idempotency import idempotency_key
from resolvers.interactions import MAX_TEXT, record_interaction, text_argument
from resolvers.pagination import list_cursors, page_size
from resolvers.writes import Written, audited_write

QUEUE = "complaints"
ORDERS = tuple(q.SORT_KEYS)


@dataclass(frozen=True)
class QueueFilter:
    statuses: list[str] | None = None
    sla_statuses: list[str] | None = None
    severity: str | None = None
    kind: str | None = None
    category: str | None = None
    due_before: dt.datetime | None = None
    branch_id: str | None = None
    assignee: str | None = None
    open_only: bool | None = None

    def params(self) -> dict[str, Any]:
        slas = None
        if self.sla_statuses:
            wanted = set(self.sla_statuses)
            if SlaStatus.BREACHED.value in wanted:  # BREACHED stands for every breach
                wanted |= {s.value for s in BREACHES}
            slas = sorted(wanted)
        if self.kind is not None and self.kind not in TRACKED_KINDS:
            raise BadUserInput(f"filter.kind must be one of {', '.join(TRACKED_KINDS)}")
        if self.due_before is not None and self.due_before.tzinfo is None:
            raise BadUserInput("filter.dueBefore must carry a time zone")
        return {
            "statuses": sorted(self.statuses) if self.statuses else None,
            "slas": slas,
            "severity": self.severity,
            "kind": self.kind,
            "category": self.category,
            "due_before": self.due_before,
            "branch": self.branch_id,
            "assignee": self.assignee,
            "open_only": True if self.open_only else None,
        }


def taxonomy(ctx: Context) -> Taxonomy:
    return load_taxonomy(ctx.settings.complaint_taxonomy_file)


def readable_taxonomy(ctx: Context) -> Taxonomy:
    """The taxonomy, for the roles that read the queue (all of them)."""
    enforce.require(ctx.principal, Operation.READ_COMPLAINTS)
    return taxonomy(ctx)


# -- the queue ----------------------------------------------------------------------------------


async def queue(
    ctx: Context, *, flt: QueueFilter, order: str, first: int | None, after: str | None
) -> dict[str, Any]:
    """A page of the caller's queue. Its pages are judged at one instant, the first page's
    (carried sealed in the cursor), so an item never moves between pages while one pages on."""
    enforce.require(ctx.principal, Operation.READ_COMPLAINTS)
    if order not in ORDERS:
        raise BadUserInput(f"orderBy must be one of {', '.join(ORDERS)}")
    limit = page_size(ctx.settings, first)
    filters = flt.params()
    cursors = list_cursors(ctx.settings, ctx.principal, QUEUE, order=order, filters=filters)
    cursor = cursors.decode(after, arity=4)
    now = dt.datetime.fromisoformat(cursor[0]) if cursor else dt.datetime.now(dt.UTC)
    scope = enforce.row_scope(ctx.principal)
    params = {
        **sla_params(ctx.settings, now),
        **filters,
        **scope.params,
        "limit": limit,
        "after_rank": cursor[1] if cursor else None,
        "after_k": dt.datetime.fromisoformat(cursor[2]) if cursor else None,
        "after_id": cursor[3] if cursor else None,
    }
    rows, total = await ctx.read(
        q.fetch_queue,
        page_query=q.QUEUE_QUERIES[(scope.kind, order)],
        count_query=q.QUEUE_COUNTS[scope.kind],
        params=params,
    )
    has_next = len(rows) > limit
    page = rows[:limit]
    if page:
        await ctx.audit(
            Operation.READ_COMPLAINTS.value,
            customer_ids=sorted({r["customer"]["customer_id"] for r in page}),
            fields=["complaints"],
        )
    items = [for_caller(ctx, from_queue(r["item"]), r["customer"]) for r in page]
    item_cursors = [
        cursors.encode(now.isoformat(), r["rank"], r["k"].isoformat(), r["item"]["interaction_id"])
        for r in page
    ]
    return {
        "items": items,
        "cursors": item_cursors,
        "total": total,
        "has_next": has_next,
        "end_cursor": item_cursors[-1] if item_cursors else None,
    }


# -- figures ------------------------------------------------------------------------------------


def _period_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[from 00:00, the day after ``to`` 00:00) in UTC: the period's dates are whole days."""
    if end < start:
        raise BadUserInput("period.to must not be before period.from")
    lo = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return lo, hi


async def stats(
    ctx: Context, *, start: dt.date | None, end: dt.date | None, branch_id: str | None
) -> dict[str, Any]:
    """Complaint figures of the caller's scope: the period's (default: the last 90 days to
    today), and the open complaints now."""
    enforce.require(ctx.principal, Operation.READ_COMPLAINT_STATS)
    now = dt.datetime.now(dt.UTC)
    end = end or now.date()
    start = start or end - dt.timedelta(days=89)
    lo, hi = _period_bounds(start, end)
    scope = enforce.row_scope(ctx.principal)
    row = await ctx.read(
        one_row,
        query=q.STATS[scope.kind],
        params={**sla_params(ctx.settings, now), **scope.params, "from": lo, "to": hi,
                "branch": branch_id},
    )  # fmt: skip
    assert row is not None  # an aggregate without grouping keys: always one row

    def pct(part: int, whole: int) -> float | None:
        return round(100.0 * part / whole, 1) if whole else None

    def hours(value: float | None) -> float | None:
        return None if value is None else round(float(value), 2)

    return {
        "from": start,
        "to": end,
        "opened": row["opened"],
        "resolved": row["resolved"],
        "open": row["open"],
        "at_risk": row["at_risk"],
        "breached": row["breached"],
        "first_response_within_24h_pct": pct(row["responded_in_time"], row["response_counted"]),
        "average_handling_hours": hours(row["average_hours"]) if row["resolved"] else None,
        "p90_handling_hours": hours(row["p90_hours"]) if row["resolved"] else None,
        "major_within_4h_pct": pct(row["major_in_time"], row["major_counted"]),
        "target_average_handling_hours": ctx.settings.sla_average_handling_hours,
    }


# -- opening and the lifecycle ------------------------------------------------------------------


async def open_item(
    ctx: Context,
    *,
    customer_id: str,
    client_mutation_id: str,
    channel: str,
    severity: str,
    summary: str | None,
    kind: str,
    category: str | None,
) -> dict[str, Any]:
    """A complaint, suggestion or question, opened now: its service-level clock starts."""
    if kind not in TRACKED_KINDS:
        raise BadUserInput(f"kind must be one of {', '.join(TRACKED_KINDS)} for openComplaint")
    if category is not None and taxonomy(ctx).category(category) is None:
        codes = ", ".join(c.code for c in taxonomy(ctx).categories)
        raise BadUserInput(f"category {category!r} is not in the taxonomy ({codes})")
    return await record_interaction(
        ctx,
        operation=Operation.OPEN_COMPLAINT,
        customer_id=customer_id,
        client_mutation_id=client_mutation_id,
        channel=channel,
        kind=kind,
        summary=summary,
        outcome=None,
        occurred_at=None,
        extra={"severity": severity, "status": "OPEN", "category": category},
    )


async def _step(
    ctx: Context,
    *,
    operation: Operation,
    step: Step,
    complaint_id: str,
    client_mutation_id: str,
    arguments: dict[str, Any],
    write: str,
    params: dict[str, Any],
    check: Any = None,
) -> dict[str, Any]:
    """One lifecycle step on an item the caller serves directly. ``check(item)`` may refuse it
    (BAD_USER_INPUT) after the status check, on the item as read in the transaction."""
    enforce.require(ctx.principal, operation)
    key = idempotency_key(ctx.principal, operation, client_mutation_id,
                          {"complaintId": complaint_id, **arguments})  # fmt: skip
    scope = enforce.row_scope(ctx.principal)
    now = dt.datetime.now(dt.UTC)
    base = {"interaction_id": complaint_id, **scope.params, **sla_params(ctx.settings, now)}
    read_item = for_direct_customer(scope.kind, q.ONE_ITEM)

    async def work(tx, first: dict[str, Any] | None) -> Written | None:
        owner = await one_row(tx, query=q.ITEM_OWNER, params=base)
        if owner is None:
            return None
        scoped = {**base, "customer_id": owner["customer_id"]}
        if first is None:  # a concurrent step on this item waits until this one commits
            await (await tx.run(q.LOCK_ITEM, base)).consume()
        current = await one_row(tx, query=read_item, params=scoped)
        if current is None:
            return None
        details: dict[str, Any] = {"complaint_id": complaint_id}
        if first is None:
            source = current["item"]["status"]
            target = next_status(step, source, complaint_id)
            details |= {"from_status": source, "to_status": target.value}
            if check is not None:
                check(current["item"])
            await (await tx.run(write, {**scoped, "now": now, "by": ctx.principal.subject,
                                        "step": step.value, **params})).consume()  # fmt: skip
            current = await one_row(tx, query=read_item, params=scoped)
            assert current is not None  # read in this transaction a moment ago
        shown = for_caller(ctx, from_queue(current["item"]), current["customer"])
        return Written(row={**shown, "created": first is None},
                       customer_ids=[owner["customer_id"]], audit=details)  # fmt: skip

    return await audited_write(
        ctx,
        key=key,
        fields=["interactions"],
        work=work,
        not_found=f"No complaint {complaint_id!r} of a customer you serve directly.",
    )


def _note(value: str | None, name: str, *, required: bool = False) -> str | None:
    return text_argument(value, name, required=required)


async def acknowledge(
    ctx: Context, *, complaint_id: str, client_mutation_id: str, note: str | None
) -> dict[str, Any]:
    """The first response: who and when (an acknowledgement after a reopening keeps the first)."""
    text = _note(note, "note")
    return await _step(
        ctx,
        operation=Operation.ACKNOWLEDGE_COMPLAINT,
        step=Step.ACKNOWLEDGE,
        complaint_id=complaint_id,
        client_mutation_id=client_mutation_id,
        arguments={"note": text},
        write=q.ACKNOWLEDGE,
        params={"note": text, "visible": True},
    )


async def add_progress(
    ctx: Context,
    *,
    complaint_id: str,
    client_mutation_id: str,
    note: str,
    visible_to_customer: bool,
) -> dict[str, Any]:
    text = _note(note, "note", required=True)
    return await _step(
        ctx,
        operation=Operation.ADD_COMPLAINT_PROGRESS,
        step=Step.PROGRESS,
        complaint_id=complaint_id,
        client_mutation_id=client_mutation_id,
        arguments={"note": text, "visibleToCustomer": visible_to_customer},
        write=q.ADD_PROGRESS,
        params={"note": text, "visible": visible_to_customer},
    )


async def resolve(
    ctx: Context,
    *,
    complaint_id: str,
    client_mutation_id: str,
    resolution: str,
    outcome: str | None,
    category: str | None,
    cause_type: str | None,
    cause_subtype: str | None,
) -> dict[str, Any]:
    """Resolved with an outcome and, for a complaint, a category and cause from the taxonomy;
    a resolved complaint asks for a follow-up survey (``surveyRequested``)."""
    text = _note(resolution, "resolution", required=True)
    outcome = _note(outcome, "outcome")
    tax = taxonomy(ctx)

    def check(item: dict[str, Any]) -> None:
        if item.get("kind") != "COMPLAINT" and category is None and cause_type is None:
            return
        if not category or not cause_type:
            raise BadUserInput(
                "a complaint is resolved with a category and a causeType from complaintTaxonomy"
            )
        tax.check(category, cause_type, cause_subtype)

    return await _step(
        ctx,
        operation=Operation.RESOLVE_COMPLAINT,
        step=Step.RESOLVE,
        complaint_id=complaint_id,
        client_mutation_id=client_mutation_id,
        arguments={
            "resolution": text,
            "outcome": outcome,
            "category": category,
            "causeType": cause_type,
            "causeSubtype": cause_subtype,
        },  # fmt: skip
        write=q.RESOLVE,
        params={
            "note": None,
            "visible": True,
            "resolution": text,
            "outcome": outcome or "RESOLVED",
            "category": category,
            "cause_type": cause_type,
            "cause_subtype": cause_subtype,
            "survey_requested": True,
        },  # fmt: skip
        check=check,
    )


async def close(ctx: Context, *, complaint_id: str, client_mutation_id: str) -> dict[str, Any]:
    return await _step(
        ctx,
        operation=Operation.CLOSE_COMPLAINT,
        step=Step.CLOSE,
        complaint_id=complaint_id,
        client_mutation_id=client_mutation_id,
        arguments={},
        write=q.CLOSE,
        params={"note": None, "visible": True},
    )


async def reopen(
    ctx: Context, *, complaint_id: str, client_mutation_id: str, reason: str
) -> dict[str, Any]:
    text = _note(reason, "reason", required=True)
    return await _step(
        ctx,
        operation=Operation.REOPEN_COMPLAINT,
        step=Step.REOPEN,
        complaint_id=complaint_id,
        client_mutation_id=client_mutation_id,
        arguments={"reason": text},
        write=q.REOPEN,
        params={"note": text, "visible": True},
    )


# -- surveys ------------------------------------------------------------------------------------


async def record_survey(
    ctx: Context,
    *,
    customer_id: str,
    client_mutation_id: str,
    channel: str,
    csat: int | None,
    nps: int | None,
    comment: str | None,
    related_complaint_id: str | None,
) -> dict[str, Any]:
    """A survey answer (kind SURVEY, csat 1-5, NPS 0-10), about a complaint of the same customer
    when ``relatedComplaintId`` is given (its survey request is then met)."""
    if csat is None and nps is None:
        raise BadUserInput("a survey needs csat (1-5) or nps (0-10)")
    if csat is not None and not 1 <= csat <= 5:
        raise BadUserInput("csat must be between 1 and 5")
    if nps is not None and not 0 <= nps <= 10:
        raise BadUserInput("nps must be between 0 and 10")
    if comment is not None and len(comment) > MAX_TEXT:
        raise BadUserInput(f"comment must be at most {MAX_TEXT} characters")

    async def related(tx, survey_id: str) -> None:
        if related_complaint_id is None:
            return
        found = await one_row(
            tx,
            query=q.SURVEY_ANSWERS,
            params={"customer_id": customer_id, "related": related_complaint_id,
                    "survey_id": survey_id},
        )  # fmt: skip
        if found is None:
            raise BadUserInput(
                f"relatedComplaintId {related_complaint_id!r} is not a complaint of this customer"
            )

    summary = comment.strip() if comment and comment.strip() else None
    return await record_interaction(
        ctx,
        operation=Operation.RECORD_SURVEY,
        customer_id=customer_id,
        client_mutation_id=client_mutation_id,
        channel=channel,
        kind="SURVEY",
        summary=summary,
        outcome=None,
        occurred_at=None,
        extra={"satisfaction": csat, "nps": nps, "related_complaint_id": related_complaint_id},
        summary_required=False,
        after_create=related,
    )
