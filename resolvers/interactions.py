"""The interaction timeline, and the RM's writes: follow-ups, complaints opened and resolved.

Writes are idempotent under retry: the interaction id is derived from the caller and their
``clientMutationId``, and MERGE makes the second attempt return the first one's result.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from auth import enforce
from auth.policy import Operation
from c360.errors import BadUserInput, NotFound
from graph.queries import interactions as q
from graph.queries.scope import SCOPE_MATCH
from resolvers.context import Context, all_rows
from resolvers.pagination import decode_cursor, encode_cursor, page_size
from resolvers.sla import SlaStatus, SlaTargets, sla_status

MAX_TEXT = 2000


@dataclass(frozen=True)
class InteractionFilter:
    channels: list[str] | None = None
    kinds: list[str] | None = None
    from_: dt.datetime | None = None
    to: dt.datetime | None = None


def _targets(ctx: Context) -> SlaTargets:
    s = ctx.settings
    return SlaTargets(
        first_response=dt.timedelta(hours=s.sla_first_response_hours),
        resolution=dt.timedelta(hours=s.sla_resolution_hours),
        major_resolution=dt.timedelta(hours=s.sla_major_resolution_hours),
    )


def _native(v: Any) -> Any:
    return v.to_native() if hasattr(v, "to_native") else v


async def timeline(
    ctx: Context, *, customer_id: str, flt: InteractionFilter, first: int | None, after: str | None
) -> dict[str, Any]:
    """A page of the customer's interactions, newest first (the customer is already in scope).

    Through the request's DataLoader: the timelines a list of customers asks for with the same
    arguments are one query (``_timelines``), not one per customer."""
    cursor = decode_cursor(after)
    params = {
        "channels": tuple(flt.channels) if flt.channels else None,
        "kinds": tuple(flt.kinds) if flt.kinds else None,
        "from": flt.from_,
        "to": flt.to,
        "before_at": dt.datetime.fromisoformat(cursor[0]) if cursor and cursor[0] else None,
        "before_id": cursor[1] if cursor else None,
        "limit": page_size(first),
    }

    async def load(customer_ids: list[str]) -> list[dict[str, Any] | NotFound]:
        return await _timelines(ctx, customer_ids, params)

    key = ("interactions", *sorted(params.items()))
    return await ctx.loader(key, load).load(customer_id)


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
        _page(ctx, found[cid])
        if cid in found
        else NotFound(f"No customer {cid!r} is visible to you.")
        for cid in customer_ids
    ]


def _page(ctx: Context, rows: list[dict[str, Any]]) -> dict[str, Any]:
    items = [r["item"] for r in rows if r["item"] is not None]
    now = dt.datetime.now(dt.UTC)
    for item in items:
        if item.get("kind") == "COMPLAINT" and item.get("occurred_at") is not None:
            item["sla_status"] = _sla(item, now, _targets(ctx)).value
    last = items[-1] if items else None
    return {
        "total": rows[0]["total"],
        "items": items,
        "has_next": rows[0]["has_next"],
        "end_cursor": encode_cursor(
            _native(last["occurred_at"]).isoformat(), last["interaction_id"]
        )
        if last
        else None,
    }


def _sla(item: dict[str, Any], now: dt.datetime, targets: SlaTargets) -> SlaStatus:
    return sla_status(
        opened_at=_native(item["occurred_at"]),
        severity=item.get("severity"),
        first_response_at=_native(item.get("first_response_at")),
        resolved_at=_native(item.get("resolved_at")),
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


def interaction_id(ctx: Context, client_mutation_id: str) -> str:
    if not client_mutation_id or len(client_mutation_id) > 100:
        raise BadUserInput("clientMutationId must be 1 to 100 characters")
    digest = hashlib.sha256(f"{ctx.principal.subject}\x00{client_mutation_id}".encode()).hexdigest()
    return f"I-{digest[:24]}"


async def _log(tx, *, scope_query: str, params: dict[str, Any]) -> dict[str, Any] | None:
    record = await (
        await tx.run(
            scope_query + "WITH c, access WHERE access = 'direct'\n" + q.LOG_INTERACTION_TAIL,
            params,
        )
    ).single()
    return record.data() if record else None


async def log_interaction(
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
    """Record a follow-up, visit, call or complaint on a customer the caller serves directly."""
    enforce.require(ctx.principal, operation)
    now = dt.datetime.now(dt.UTC)
    when = occurred_at or now
    if when.tzinfo is None:
        raise BadUserInput("occurredAt must carry a time zone (e.g. 2026-11-23T09:30:00+08:00)")
    if when > now + dt.timedelta(minutes=5):
        raise BadUserInput("occurredAt must not be in the future")
    props = {
        "channel": channel,
        "kind": kind,
        "occurred_at": when,
        "summary": _text(summary, "summary", required=True),
        "outcome": _text(outcome, "outcome"),
        "client_mutation_id": client_mutation_id,
        "recorded_by": ctx.principal.subject,
        "recorded_at": now,
    }
    if kind == "COMPLAINT":
        props |= {"severity": severity or "MINOR", "sla_status": SlaStatus.ON_TRACK.value}
    scope = enforce.row_scope(ctx.principal)
    row = await ctx.write(
        _log,
        scope_query=SCOPE_MATCH[scope.kind],
        params={
            "customer_id": customer_id,
            "interaction_id": interaction_id(ctx, client_mutation_id),
            "props": props,
            "handled_by": ctx.principal.employee_id,
            **scope.params,
        },
    )
    if row is None:
        raise NotFound(f"No customer {customer_id!r} you serve directly.")
    await ctx.audit(operation.value, customer_ids=[customer_id], fields=["interactions"])
    return {**row["item"], "created": row["created"]}


async def _resolve(tx, *, scope_query: str, params: dict[str, Any], targets: SlaTargets):
    owner = await (
        await tx.run(
            "MATCH (c:Customer)-[:HAD]->(:Interaction {interaction_id: $interaction_id, kind: 'COMPLAINT'}) "
            "RETURN c.customer_id AS customer_id",
            params,
        )
    ).single()
    if owner is None:
        return None
    scoped = {**params, "customer_id": owner["customer_id"]}
    record = await (
        await tx.run(
            scope_query + "WITH c, access WHERE access = 'direct'\n" + q.COMPLAINT_TAIL, scoped
        )
    ).single()
    if record is None:
        return None
    item = dict(record["item"])
    resolved_at = _native(item.get("resolved_at")) or params["resolved_at"]
    status = _sla(
        {
            **item,
            "resolved_at": resolved_at,
            "first_response_at": item.get("first_response_at") or resolved_at,
        },
        params["resolved_at"],
        targets,
    )
    done = await (
        await tx.run(q.RESOLVE_COMPLAINT, {**params, "sla_status": status.value})
    ).single()
    return {"customer_id": owner["customer_id"], "item": done["item"]}


async def resolve_complaint(
    ctx: Context, *, complaint_id: str, resolution: str, outcome: str | None
) -> dict[str, Any]:
    enforce.require(ctx.principal, Operation.RESOLVE_COMPLAINT)
    scope = enforce.row_scope(ctx.principal)
    result = await ctx.write(
        _resolve,
        scope_query=SCOPE_MATCH[scope.kind],
        targets=_targets(ctx),
        params={
            "interaction_id": complaint_id,
            "resolved_at": dt.datetime.now(dt.UTC),
            "resolution": _text(resolution, "resolution", required=True),
            "outcome": _text(outcome, "outcome") or "RESOLVED",
            **scope.params,
        },
    )
    if result is None:
        raise NotFound(f"No complaint {complaint_id!r} of a customer you serve directly.")
    await ctx.audit(
        Operation.RESOLVE_COMPLAINT.value,
        customer_ids=[result["customer_id"]],
        fields=["interactions"],
    )
    return result["item"]
