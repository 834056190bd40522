"""Alerts for the caller's customers, their dismissal, and the customers' tier history.

``alerts``: one scoped read per page (graph/queries/alerts.py), audited like every list of
customers, the customers masked once (auth/enforce.py). The pages of one list are judged at one
instant, the first page's (sealed in the cursor with the as-of date), so an alert never moves
between pages while one pages on. ``dismissAlert``: an audited, idempotent write
(resolvers/writes.py) of a dismissal for the caller's subject, only for an alert the caller's own
list holds as of the given date; its key is the alert id, so dismissing twice is one dismissal.
``tierHistory``: one read per page of customers through the request's DataLoader.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable
from typing import Any

from auth import enforce
from auth.policy import Operation
from core.alerts import MATURITY_KINDS, RISK_RANK, AlertKind, load_config, parse_alert_id
from core.errors import BadUserInput
from core.messages import Reason
from core.sla import sla_params
from graph.queries import alerts as q
from graph.queries.customers import parts_for
from graph.session import all_rows, one_row
from resolvers.context import Context
from resolvers.idempotency import idempotency_key
from resolvers.pagination import list_cursors, page_size
from resolvers.writes import Written, audited_write

LIST = "alerts"
# Every (previous level, level) pair of a rise, for the index seeks of graph/queries/alerts.py.
RISK_RAISES = [
    [old, new] for old in RISK_RANK for new in RISK_RANK if RISK_RANK[new] > RISK_RANK[old]
]
MAX_AS_OF_DAYS = 3660  # an as-of date at most ten years from today, either way


def _as_of(as_of: dt.date | None, now: dt.datetime | None = None) -> dt.date:
    today = (now or dt.datetime.now(dt.UTC)).date()
    if as_of is None:
        return today
    if abs((as_of - today).days) > MAX_AS_OF_DAYS:
        raise BadUserInput(f"asOf must be within {MAX_AS_OF_DAYS} days of today")
    return as_of


def _instant(as_of: dt.date, now: dt.datetime) -> dt.datetime:
    """The instant service levels are judged at: now, moved to the as-of date."""
    return now + dt.timedelta(days=(as_of - now.date()).days)


def _params(ctx: Context, *, as_of: dt.date, now: dt.datetime, kinds: list[str] | None) -> dict:
    cfg = load_config()
    return {
        **sla_params(ctx.settings, _instant(as_of, now)),
        **enforce.row_scope(ctx.principal).params,
        "as_of": as_of,
        "kinds": kinds,
        "maturities": [
            {
                "kind": m.kind.value,
                "product_types": list(m.product_types),
                "windows": list(m.windows),
                "days": m.windows[-1],
            }
            for m in cfg.maturities
        ],
        "birthday_days": cfg.birthday_days,
        "tier_days": cfg.tier_review_days,
        "risk_rank": RISK_RANK,
        "risk_raises": RISK_RAISES,
        "urgency": cfg.urgency_rank(),
        "subject": ctx.principal.subject,
        "alert_id": None,
    }


def reason(alert: dict[str, Any]) -> Reason:
    """The alert's reason: a code of core/messages/alerts.toml and its parameters."""
    kind, detail = AlertKind(alert["kind"]), alert.get("detail") or {}
    date = alert["due"].isoformat()
    if kind in MATURITY_KINDS:
        params = {
            "account": detail.get("account"),
            "amount": alert.get("amount"),
            "currency": alert.get("currency") or "",
            "date": date,
            "days": alert["days"],
            "within": alert.get("within"),
        }
        return Reason(f"ALERT_{kind.value}", params)
    if kind is AlertKind.BIRTHDAY:
        return Reason(
            "ALERT_BIRTHDAY", {"date": date, "age": detail.get("age"), "days": alert["days"]}
        )
    if kind is AlertKind.TIER_CHANGED:
        code = "ALERT_TIER_UP" if detail.get("direction") == "UP" else "ALERT_TIER_DOWN"
        return Reason(code, {"from": detail.get("from"), "to": detail.get("to"), "date": date})
    if kind in (AlertKind.DOWNGRADE_RISK_RAISED, AlertKind.CHURN_RISK_RAISED):
        levels = {"from": detail.get("from"), "to": detail.get("to"), "date": date}
        return Reason(f"ALERT_{kind.value}", levels)
    due_at = alert.get("due_at")
    params = {
        "item": detail.get("item"),
        "kind": detail.get("kind"),
        "severity": detail.get("severity"),
        "due": due_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if due_at else None,
    }
    return Reason("ALERT_COMPLAINT_AT_RISK", params)


async def alerts_page(
    ctx: Context,
    *,
    first: int | None,
    after: str | None,
    kinds: list[str] | None,
    as_of: dt.date | None,
    customer_fields: Iterable[str],
) -> dict[str, Any]:
    """A page of the caller's alerts as of a date (default today), soonest due first."""
    enforce.require(ctx.principal, Operation.READ_ALERTS)
    limit = page_size(ctx.settings, first)
    wanted = sorted(set(kinds)) if kinds else None
    # The list is the as-of date asked for, or "today" as of the first page: the cursor seals the
    # first page's instant, and the later pages take their day from it (a page after midnight
    # UTC continues yesterday's list).
    cursors = list_cursors(ctx.settings, ctx.principal, LIST, kinds=wanted, as_of=as_of)
    cursor = cursors.decode(after, arity=4)
    now = dt.datetime.fromisoformat(cursor[0]) if cursor else dt.datetime.now(dt.UTC)
    day = _as_of(as_of, now)
    scope = enforce.row_scope(ctx.principal)
    fields = list(customer_fields)
    params = {
        **_params(ctx, as_of=day, now=now, kinds=wanted),
        "limit": limit,
        "after_due": dt.date.fromisoformat(cursor[1]) if cursor else None,
        "after_rank": cursor[2] if cursor else None,
        "after_id": cursor[3] if cursor else None,
    }
    result = await ctx.read(
        one_row, query=q.page_query(scope.kind, parts_for(fields)), params=params
    )
    assert result is not None  # an aggregate without grouping keys: always one row
    items = sorted(result["items"], key=lambda i: i["n"])
    has_next = len(items) > limit
    items = items[:limit]
    if items:
        await ctx.audit(
            Operation.READ_ALERTS.value,
            customer_ids=sorted({i["alert"]["customer_id"] for i in items}),
            fields=["alerts", *fields],
        )
    out = []
    for item in items:
        alert = item["alert"]
        out.append(
            {
                **alert,
                "reason": reason(alert),
                "customer": enforce.mask_row(
                    ctx.principal, {**item["customer"], "access": item["access"]}
                ),
                "cursor": cursors.encode(
                    now.isoformat(), alert["due_key"].isoformat(), alert["rank"], alert["id"]
                ),
            }
        )
    return {
        "items": out,
        "total": result["total"],
        "has_next": has_next,
        "end_cursor": out[-1]["cursor"] if out else None,
    }


async def dismiss(ctx: Context, *, alert_id: str, as_of: dt.date | None) -> dict[str, Any]:
    """Dismiss one of the caller's alerts (as of ``as_of``, default today) for the caller."""
    enforce.require(ctx.principal, Operation.DISMISS_ALERT)
    parsed = parse_alert_id(alert_id)
    if parsed is None:
        raise BadUserInput(
            "id is not an alert id (pass the id of an alert from alerts { edges { node { id } } })"
        )
    kind, customer_ids = parsed
    day = _as_of(as_of)
    # The id is the key: dismissing the same alert again answers with the first dismissal.
    digest = hashlib.sha256(alert_id.encode()).hexdigest()[:40]
    key = idempotency_key(
        ctx.principal, Operation.DISMISS_ALERT, f"alert:{digest}", {"id": alert_id}
    )
    scope = enforce.row_scope(ctx.principal)
    now = dt.datetime.now(dt.UTC)
    params = {
        **_params(ctx, as_of=day, now=now, kinds=[kind.value]),
        "customer_ids": customer_ids,
        "alert_id": alert_id,
    }
    event_id = uuid.uuid4().hex

    async def work(tx, first: dict[str, Any] | None) -> Written | None:
        if first is not None:  # a replay: the first dismissal's answer
            customer = first.get("customer_id") or (customer_ids[0] if customer_ids else "")
            answer = {"id": alert_id, "kind": kind.value, "dismissed_at": first["dismissed_at"]}
            return Written(row=answer, customer_ids=[customer], audit={"alert_id": alert_id})
        found = await all_rows(tx, query=q.ONE_ALERT[scope.kind], params=params)
        if not found:
            return None
        alert = found[0]["alert"]
        written = await one_row(
            tx,
            query=q.DISMISS,
            params={"customer_id": alert["customer_id"], "alert_id": alert_id,
                    "subject": ctx.principal.subject, "kind": kind.value, "now": now,
                    "event_id": event_id},
        )  # fmt: skip
        assert written is not None
        answer = {"id": alert_id, "kind": kind.value, "dismissed_at": written["dismissed_at"]}
        return Written(
            row=answer,
            customer_ids=[alert["customer_id"]],
            replay={"dismissed_at": written["dismissed_at"], "customer_id": alert["customer_id"]},
            audit={"alert_id": alert_id},
        )

    return await audited_write(
        ctx,
        key=key,
        fields=["dismissAlert"],
        work=work,
        not_found=f"No alert {alert_id!r} is among your alerts as of {day.isoformat()}.",
        event_id=event_id,
    )


async def tier_history(ctx: Context, customer_id: str) -> list[dict[str, Any]] | None:
    """The customer's tier changes, newest first (the customer is already in the caller's
    scope), or None where the caller's view hides them as it hides ``value``'s previous tier and
    its date (auth/policy.py); the tier histories of one level of a request are one query."""

    async def load(customer_ids: list[str]) -> list[list[dict[str, Any]] | None]:
        scope = enforce.row_scope(ctx.principal)
        rows = await ctx.read(
            all_rows,
            query=q.TIER_HISTORY[scope.kind],
            params={"customer_ids": customer_ids, **scope.params},
        )
        found: dict[str, list[dict[str, Any]] | None] = {
            r["customer_id"]: enforce.mask_row(
                ctx.principal, {"access": r["access"], "tier_history": r["changes"]}
            )["tier_history"]
            for r in rows
        }
        return [found.get(cid, []) for cid in customer_ids]

    return await ctx.loader(("tierHistory",), load).load(customer_id)
