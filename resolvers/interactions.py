"""The interaction timeline, and the RM's writes: follow-ups, complaints opened and resolved.

Writes go through resolvers/writes.py: the ``clientMutationId`` is the caller's key for that
operation, bound to the arguments; the same request again answers with the first result.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from auth import enforce
from auth.policy import Operation
from core.errors import BadUserInput, NotFound
from core.sla import SlaStatus, SlaTargets, sla_status
from graph.queries import interactions as q
from graph.session import all_rows, one_row
from resolvers.context import Context
from resolvers.idempotency import idempotency_key
from resolvers.pagination import CursorCodec, list_cursors, page_size
from resolvers.writes import Written, audited_write

MAX_TEXT = 2000


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


async def timeline(
    ctx: Context, *, customer_id: str, flt: InteractionFilter, first: int | None, after: str | None
) -> dict[str, Any]:
    """A page of the customer's interactions, newest first (the customer is already in scope).

    Through the request's DataLoader: the timelines a list of customers asks for with the same
    arguments are one query (``_timelines``), not one per customer."""
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

    async def load(customer_ids: list[str]) -> list[dict[str, Any] | NotFound]:
        return await _timelines(ctx, customer_ids, params)

    key = ("interactions", *sorted(params.items()))
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
    ctx: Context, customer_ids: list[str], page: dict[str, Any]
) -> list[dict[str, Any] | NotFound]:
    scope = enforce.row_scope(ctx.principal)
    rows = await ctx.read(
        all_rows,
        query=q.INTERACTIONS_PAGES[scope.kind],
        params={"customer_ids": customer_ids, **scope.params, **page},
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["customer_id"], []).append(row)
    return [
        _page(ctx, found[cid], _cursors(ctx, cid, page))
        if cid in found
        else NotFound(f"No customer {cid!r} is visible to you.")
        for cid in customer_ids
    ]


def _page(ctx: Context, rows: list[dict[str, Any]], cursors: CursorCodec) -> dict[str, Any]:
    items = [r["item"] for r in rows if r["item"] is not None]
    now = dt.datetime.now(dt.UTC)
    for item in items:
        if item.get("kind") == "COMPLAINT" and item.get("occurred_at") is not None:
            item["sla_status"] = _sla(item, now, SlaTargets.of(ctx.settings)).value
    # A cursor per item (Relay edges): the position after which the next page starts.
    item_cursors = [
        cursors.encode(i["occurred_at"].isoformat(), i["interaction_id"]) for i in items
    ]
    return {
        "total": rows[0]["total"],
        "items": items,
        "cursors": item_cursors,
        "has_next": rows[0]["has_next"],
        "end_cursor": item_cursors[-1] if item_cursors else None,
    }


def _sla(item: dict[str, Any], now: dt.datetime, targets: SlaTargets) -> SlaStatus:
    return sla_status(
        opened_at=item["occurred_at"],
        severity=item.get("severity"),
        first_response_at=item.get("first_response_at"),
        resolved_at=item.get("resolved_at"),
        now=now,
        targets=targets,
    )


def _text(value: str | None, name: str, *, required: bool = False) -> str | None:
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
) -> dict[str, Any]:
    """A follow-up, visit or call (complaints are opened with :func:`open_complaint`)."""
    if kind == "COMPLAINT":
        raise BadUserInput("use openComplaint for complaints")
    return await _record(
        ctx,
        operation=Operation.LOG_INTERACTION,
        customer_id=customer_id,
        client_mutation_id=client_mutation_id,
        channel=channel,
        kind=kind,
        summary=summary,
        outcome=outcome,
        occurred_at=occurred_at,
    )


async def open_complaint(
    ctx: Context,
    *,
    customer_id: str,
    client_mutation_id: str,
    channel: str,
    severity: str,
    summary: str | None,
) -> dict[str, Any]:
    """A complaint, opened now: its SLA clock starts."""
    return await _record(
        ctx,
        operation=Operation.OPEN_COMPLAINT,
        customer_id=customer_id,
        client_mutation_id=client_mutation_id,
        channel=channel,
        kind="COMPLAINT",
        summary=summary,
        outcome=None,
        occurred_at=None,
        severity=severity,
    )


async def _record(
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
    severity: str | None = None,
) -> dict[str, Any]:
    """Record a follow-up, visit, call or complaint on a customer the caller serves directly.

    The result carries ``created``: False when this was a replay of the key's first request."""
    enforce.require(ctx.principal, operation)
    now = dt.datetime.now(dt.UTC)
    when = occurred_at or now
    if when.tzinfo is None:
        raise BadUserInput("occurredAt must carry a time zone (e.g. 2026-11-23T09:30:00+08:00)")
    if when > now + dt.timedelta(minutes=5):
        raise BadUserInput("occurredAt must not be in the future")
    text = _text(summary, "summary", required=True)
    outcome = _text(outcome, "outcome")
    key = idempotency_key(
        ctx.principal,
        operation,
        client_mutation_id,
        {
            "customerId": customer_id,
            "channel": channel,
            "kind": kind,
            "summary": text,
            "outcome": outcome,
            "occurredAt": occurred_at,
            "severity": severity,
        },
    )
    props = {
        "channel": channel,
        "kind": kind,
        "occurred_at": when,
        "summary": text,
        "outcome": outcome,
        "client_mutation_id": client_mutation_id,
        "recorded_by": ctx.principal.subject,
        "recorded_at": now,
    }
    if kind == "COMPLAINT":
        props |= {"severity": severity or "MINOR", "sla_status": SlaStatus.ON_TRACK.value}
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
        if row is None:
            return None
        item = row["item"]
        return Written(
            row={**item, "created": first is None},
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


async def resolve_complaint(
    ctx: Context,
    *,
    complaint_id: str,
    client_mutation_id: str,
    resolution: str,
    outcome: str | None,
) -> dict[str, Any]:
    enforce.require(ctx.principal, Operation.RESOLVE_COMPLAINT)
    text = _text(resolution, "resolution", required=True)
    outcome = _text(outcome, "outcome")
    key = idempotency_key(
        ctx.principal,
        Operation.RESOLVE_COMPLAINT,
        client_mutation_id,
        {"complaintId": complaint_id, "resolution": text, "outcome": outcome},
    )
    scope = enforce.row_scope(ctx.principal)
    targets = SlaTargets.of(ctx.settings)
    params = {
        "interaction_id": complaint_id,
        "resolved_at": dt.datetime.now(dt.UTC),
        "resolution": text,
        "outcome": outcome or "RESOLVED",
        **scope.params,
    }

    async def work(tx, first: dict[str, Any] | None) -> Written | None:
        owner = await one_row(tx, query=q.COMPLAINT_OWNER, params=params)
        if owner is None:
            return None
        scoped = {**params, "customer_id": owner["customer_id"]}
        record = await one_row(
            tx, query=q.for_direct_customer(scope.kind, q.COMPLAINT_TAIL), params=scoped
        )
        if record is None:
            return None
        if first is not None:  # resolving is done once; a replay answers with the complaint
            return Written(row=record["item"], customer_ids=[owner["customer_id"]])
        item = dict(record["item"])
        resolved_at = item.get("resolved_at") or params["resolved_at"]
        status = _sla(
            {
                **item,
                "resolved_at": resolved_at,
                "first_response_at": item.get("first_response_at") or resolved_at,
            },
            params["resolved_at"],
            targets,
        )
        done = await one_row(
            tx, query=q.RESOLVE_COMPLAINT, params={**params, "sla_status": status.value}
        )
        assert done is not None  # the complaint was matched in this transaction
        return Written(row=done["item"], customer_ids=[owner["customer_id"]])

    return await audited_write(
        ctx,
        key=key,
        fields=["interactions"],
        work=work,
        not_found=f"No complaint {complaint_id!r} of a customer you serve directly.",
    )
