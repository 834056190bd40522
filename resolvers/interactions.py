"""The interaction timeline, and the writes that record an interaction: follow-ups, visits and
calls (``logInteraction``), and what resolvers/complaints.py opens (complaints, suggestions,
questions) and records (surveys) through :func:`record_interaction`.

Writes go through resolvers/writes.py: the ``clientMutationId`` is the caller's key for that
operation, bound to the arguments; the same request again answers with the first result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from auth import enforce
from auth.policy import Operation
from core.complaints import TRACKED_KINDS
from core.errors import BadUserInput, NotFound
from graph.queries import interactions as q
from graph.session import all_rows, one_row
from resolvers.complaint_view import for_caller, for_caller_all, with_service_level
from resolvers.context import Context
from resolvers.idempotency import idempotency_key
from resolvers.pagination import CursorCodec, Cursors, list_cursors, page_size
from resolvers.writes import Written, audited_write

MAX_TEXT = 2000
VISIT = "VISIT"  # the kind whose interaction is a visit report


@dataclass(frozen=True)
class InteractionFilter:
    channels: list[str] | None = None
    kinds: list[str] | None = None
    from_: dt.datetime | None = None  # the field's `since`
    to: dt.datetime | None = None  # the field's `until`

    def __post_init__(self) -> None:
        # Neo4j compares a zoned instant with a local date-time as null, not as false: a time
        # without a zone would match nothing and the timeline would come back silently empty.
        for name, value in (("since", self.from_), ("until", self.to)):
            if value is not None and value.tzinfo is None:
                raise BadUserInput(
                    f"{name} must carry a time zone (e.g. 2026-11-23T09:30:00+08:00)"
                )


def page_params(
    ctx: Context, customer_id: str, flt: InteractionFilter, first: int | None, after: str | None
) -> dict[str, Any]:
    """The graph query's parameters for this page of the customer's timeline (BAD_USER_INPUT
    naming ``first`` or ``after`` when one is not valid)."""
    params: dict[str, Any] = {
        "channels": tuple(flt.channels) if flt.channels else None,
        "kinds": tuple(flt.kinds) if flt.kinds else None,
        "from": flt.from_,
        "to": flt.to,
        "limit": page_size(ctx.settings, first),
    }
    cursor = _cursors(ctx, customer_id, params).decode(after, arity=2)
    params["before_at"] = dt.datetime.fromisoformat(cursor[0]) if cursor and cursor[0] else None
    params["before_id"] = cursor[1] if cursor else None
    return params


@dataclass(frozen=True)
class FirstPage:
    """The unfiltered first page of a timeline a profile's selection shows: ``first`` and the
    Interaction fields selected on its items (GraphQL names)."""

    first: int | None
    item_fields: tuple[str, ...]


# (page parameters, item parts, page row) of a page a profile query brought along.
Fetched = tuple[dict[str, Any], frozenset[str], dict[str, Any]]


def first_page_params(
    ctx: Context, customer_id: str, page: FirstPage
) -> tuple[dict[str, Any], frozenset[str]] | None:
    """The parameters and item parts of the unfiltered first page, for a profile that fetches it
    with itself (resolvers/customers.py); None when ``first`` is not valid: the timeline field,
    resolved on its own, then answers with the error."""
    try:
        params = page_params(ctx, customer_id, InteractionFilter(), page.first, None)
    except BadUserInput:
        return None
    return params, q.item_parts_for(page.item_fields)


async def timeline(
    ctx: Context,
    *,
    customer_id: str,
    flt: InteractionFilter,
    first: int | None,
    after: str | None,
    item_fields: Iterable[str],
    fetched: Fetched | None = None,
) -> dict[str, Any]:
    """A page of the customer's interactions, newest first (the customer is already in scope);
    its items carry what ``item_fields`` (GraphQL names) need.

    ``fetched``: a page the profile query brought with the customer; used when this page has the
    same parameters and parts. Otherwise through the request's DataLoader: the timelines a list
    of customers asks for with the same arguments are one query (``_timelines``), not one per
    customer."""
    params = page_params(ctx, customer_id, flt, first, after)
    parts = q.item_parts_for(item_fields)
    if fetched is not None and fetched[0] == params and q.parts_cover(fetched[1], parts):
        return _page(ctx, fetched[2], _cursors(ctx, customer_id, params))

    async def load(customer_ids: list[str]) -> list[dict[str, Any] | NotFound]:
        return await _timelines(ctx, customer_ids, params, parts)

    key = ("interactions", parts, *sorted(params.items()))
    return await ctx.loader(key, load).load(customer_id)


def _cursors(ctx: Context, customer_id: str, page: dict[str, Any]) -> CursorCodec:
    """The cursors of one customer's timeline under these filters."""
    return list_cursors(
        ctx.settings,
        ctx.principal,
        "interactions",
        customer_id=customer_id,
        filter={k: page[k] for k in ("channels", "kinds", "from", "to")},
    )


async def _timelines(
    ctx: Context, customer_ids: list[str], page: dict[str, Any], parts: frozenset[str]
) -> list[dict[str, Any] | NotFound]:
    scope = enforce.row_scope(ctx.principal)
    rows = await ctx.read(
        all_rows,
        query=q.pages_query(scope.kind, parts),
        params={"customer_ids": customer_ids, **scope.params, **page},
    )
    found = {row["customer_id"]: row for row in rows}
    return [
        _page(ctx, found[cid], _cursors(ctx, cid, page))
        if cid in found
        else NotFound(f"No customer {cid!r} is visible to you.")
        for cid in customer_ids
    ]


def _instant(value: Any) -> Any:
    """An item's temporal as the page query sends it (ISO text: graph/queries/interactions.py),
    as a Python datetime; the text of a zoned value ends in its [zone id]: the offset is kept."""
    return dt.datetime.fromisoformat(value.split("[", 1)[0]) if isinstance(value, str) else value


def _page(ctx: Context, row: dict[str, Any], cursors: CursorCodec) -> dict[str, Any]:
    items = [dict(item) for item in row["items"]]  # the row itself left as it came
    for item in items:
        for key in q.TEMPORALS:
            if key in item:  # a selection of plain fields brings only the keys it shows
                item[key] = _instant(item[key])
        # The first by id of those a re-load left; not fetched when not selected.
        [handler] = item.pop("handler", None) or [None]
        item["handled_by"] = handler and handler["employee_id"]
        item["handled_by_name"] = handler and handler["name"]
    customer = row["customer"]
    now = dt.datetime.now(dt.UTC)
    # A cursor per item (Relay edges): the position after which the next page starts; sealed
    # only when selected.
    item_cursors = Cursors(
        cursors, [(i["occurred_at"].isoformat(), i["interaction_id"]) for i in items]
    )
    for item in items:
        with_service_level(item, ctx.settings, now)
    return {
        "total": row["total"],
        "items": for_caller_all(ctx, items, customer),
        "cursors": item_cursors,
        "has_next": row["has_next"],
        "end_cursor": item_cursors[-1] if item_cursors else None,
    }


def text_argument(value: str | None, name: str, *, required: bool = False) -> str | None:
    """A free-text argument, trimmed; BAD_USER_INPUT naming it when empty (if required) or
    longer than MAX_TEXT."""
    if value is None or not value.strip():
        if required:
            raise BadUserInput(f"{name} must not be empty")
        return None
    if len(value) > MAX_TEXT:
        raise BadUserInput(f"{name} must be at most {MAX_TEXT} characters")
    return value.strip()


async def log_interaction(
    ctx: Context,
    *,
    customer_id: str,
    client_mutation_id: str,
    channel: str,
    kind: str,
    summary: str | None,
    outcome: str | None,
    occurred_at: dt.datetime | None,
    next_step: str | None = None,
    next_step_due: dt.date | None = None,
) -> dict[str, Any]:
    """A follow-up, visit or call (complaints, suggestions and questions are opened with
    ``openComplaint``, surveys recorded with ``recordSurvey``). A VISIT carries its report: the
    outcome and the next step agreed (required), and when that is due (optional, not before the
    day of the visit)."""
    if kind in TRACKED_KINDS:
        raise BadUserInput(f"use openComplaint for {kind}")
    step = text_argument(next_step, "nextStep", required=kind == VISIT)
    if kind == VISIT:
        text_argument(outcome, "outcome", required=True)
    if next_step_due is not None:
        if step is None:
            raise BadUserInput("nextStepDue needs a nextStep")
        day = (occurred_at or dt.datetime.now(dt.UTC)).date()
        if next_step_due < day:
            raise BadUserInput(f"nextStepDue must not be before the contact's day ({day})")
    return await record_interaction(
        ctx,
        operation=Operation.LOG_INTERACTION,
        customer_id=customer_id,
        client_mutation_id=client_mutation_id,
        channel=channel,
        kind=kind,
        summary=summary,
        outcome=outcome,
        occurred_at=occurred_at,
        extra={"next_step": step, "next_step_due": next_step_due},
    )


async def record_interaction(
    ctx: Context,
    *,
    operation: Operation,
    customer_id: str,
    client_mutation_id: str,
    channel: str,
    kind: str,
    summary: str | None,
    outcome: str | None,
    occurred_at: dt.datetime | None,
    extra: dict[str, Any] | None = None,
    summary_required: bool = True,
    after_create: Callable[[Any, str], Awaitable[None]] | None = None,
) -> dict[str, Any]:
    """Record an interaction on a customer the caller serves directly: a follow-up, visit or
    call; a complaint, suggestion or question (``extra``: severity, status, category); a survey
    (``extra``: satisfaction, nps, the related complaint). ``after_create(tx, id)`` runs in the
    same transaction after the interaction is created (not on a replay).

    The result carries ``created``: False when this was a replay of the key's first request."""
    enforce.require(ctx.principal, operation)
    now = dt.datetime.now(dt.UTC)
    when = occurred_at or now
    if when.tzinfo is None:
        raise BadUserInput("occurredAt must carry a time zone (e.g. 2026-11-23T09:30:00+08:00)")
    if when > now + dt.timedelta(minutes=5):
        raise BadUserInput("occurredAt must not be in the future")
    text = text_argument(summary, "summary", required=summary_required)
    outcome = text_argument(outcome, "outcome")
    extra = {k: v for k, v in (extra or {}).items() if v is not None}
    if kind in TRACKED_KINDS:
        extra["severity"] = extra.get("severity") or "MINOR"
    arguments = {
        "customerId": customer_id,
        "channel": channel,
        "kind": kind,
        "summary": text,
        "outcome": outcome,
        "occurredAt": occurred_at,
        "severity": extra.get("severity"),
        # later arguments only when given: an earlier request's key keeps its hash
        **{k: v for k, v in extra.items() if k not in ("severity", "status")},
    }
    key = idempotency_key(ctx.principal, operation, client_mutation_id, arguments)
    props = {
        "channel": channel,
        "kind": kind,
        "occurred_at": when,
        "summary": text,
        "outcome": outcome,
        "client_mutation_id": client_mutation_id,
        "recorded_by": ctx.principal.subject,
        "recorded_at": now,
        **extra,
    }
    scope = enforce.row_scope(ctx.principal)
    params = {"customer_id": customer_id, **scope.params}

    async def work(tx, first: dict[str, Any] | None) -> Written | None:
        if first is not None:
            row = await one_row(
                tx,
                query=q.for_direct_customer(scope.kind, q.INTERACTION_TAIL),
                params={**params, "interaction_id": first["interaction_id"]},
            )
        else:
            row = await one_row(
                tx,
                query=q.for_direct_customer(scope.kind, q.LOG_INTERACTION_TAIL),
                params={
                    **params,
                    "interaction_id": f"I-{key.key_id[:24]}",
                    "props": props,
                    "handled_by": ctx.principal.employee_id,
                },
            )
            if row is not None and after_create is not None:
                await after_create(tx, row["item"]["interaction_id"])
        if row is None:
            return None
        item = row["item"]
        with_service_level(item, ctx.settings, dt.datetime.now(dt.UTC))
        shown = for_caller(ctx, item, row["customer"])
        return Written(
            row={**shown, "created": first is None},
            customer_ids=[row["customer_id"]],
            replay={"interaction_id": item["interaction_id"]},
        )

    return await audited_write(
        ctx,
        key=key,
        fields=["interactions"],
        work=work,
        not_found=f"No customer {customer_id!r} you serve directly.",
    )
