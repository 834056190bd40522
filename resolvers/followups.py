"""Follow-ups due and follow-up coverage (issue 22): policy -> one scoped graph read -> audit ->
mask once. The plans are core/followups.toml; the rows come from graph/queries/followups.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from auth import enforce
from auth.policy import Operation
from core import followups as plans
from core.errors import BadUserInput, Forbidden
from graph.queries import followups as q
from graph.queries.customers import EVERY_PART, parts_for
from graph.queries.scope import ScopeKind
from graph.session import all_rows
from resolvers.context import Context
from resolvers.pagination import list_cursors, page_size

FOLLOW_UPS = "followUpsDue"


@dataclass
class FollowUpPage:
    items: list[dict[str, Any]]  # customer (masked row), tier, last_contact, due, days_overdue, ...
    cursors: list[str]
    total: int
    has_next: bool


def _as_of(as_of: dt.date | None) -> dt.date:
    day = as_of or dt.datetime.now(dt.UTC).date()
    if day.year < 1900:
        raise BadUserInput("asOf must be a date after 1900")
    return day


def _window(cfg: plans.FollowUpConfig, day: dt.date) -> dict[str, Any]:
    """The as-of parameters: contacts before the end of that day (UTC) count."""
    until = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return {"as_of": day, "until": until, **cfg.params()}


async def due_page(
    ctx: Context,
    *,
    first: int | None,
    after: str | None,
    overdue_only: bool,
    as_of: dt.date | None,
    fields: Iterable[str] | None = None,
) -> FollowUpPage:
    """The caller's planned customers that are overdue or fall due within the configured days
    (``overdue_only``: overdue only), most overdue first."""
    enforce.require(ctx.principal, Operation.READ_FOLLOW_UPS_DUE)
    cfg = plans.load()
    day = _as_of(as_of)
    limit = page_size(ctx.settings, first)
    scope = enforce.row_scope(ctx.principal)
    if scope.kind not in q.CANDIDATES:  # the policy gives the list to no other scope
        raise Forbidden(f"Your role may not perform {FOLLOW_UPS}.")
    horizon = (
        day - dt.timedelta(days=1) if overdue_only else day + dt.timedelta(days=cfg.upcoming_days)
    )
    cursors = list_cursors(
        ctx.settings, ctx.principal, FOLLOW_UPS, as_of=day.isoformat(), overdue_only=overdue_only
    )
    cursor = cursors.decode(after, arity=2)
    parts = EVERY_PART if fields is None else parts_for(fields)
    params: dict[str, Any] = {
        **_window(cfg, day),
        "horizon": horizon,
        "after_due": dt.date.fromisoformat(cursor[0]) if cursor else None,
        "after_id": cursor[1] if cursor else None,
        "limit": limit + 1,
        **scope.params,
    }
    rows, total = await ctx.read(
        q.fetch_due_page,
        page_query=q.due_page_query(scope.kind, parts),
        count_query=q.DUE_COUNT[scope.kind],
        params=params,
    )
    has_next = len(rows) > limit
    rows = rows[:limit]
    if rows:
        await ctx.audit(
            FOLLOW_UPS, customer_ids=[r["customer_id"] for r in rows], fields=[FOLLOW_UPS]
        )
    items = [
        {
            "customer": enforce.mask_row(ctx.principal, {**r["customer"], "access": r["access"]}),
            "tier": r["tier"],
            "last_contact_at": r["last_contact"],
            "due_date": r["due"],
            "days_overdue": max(0, (day - r["due"]).days),
            "interval_days": r["interval_days"],
        }
        for r in rows
    ]
    return FollowUpPage(
        items=items,
        cursors=[cursors.encode(r["due"].isoformat(), r["customer_id"]) for r in rows],
        total=total,
        has_next=has_next,
    )


async def coverage(ctx: Context, *, branch_id: str | None, as_of: dt.date | None) -> dict[str, Any]:
    """Per planned tier: customers, those contacted within their plan's interval, the share and
    the target. An RM: their book; a branch manager: their branch (another branch is refused);
    the bank-wide roles: the whole bank, or the branch given."""
    enforce.require(ctx.principal, Operation.READ_FOLLOW_UP_COVERAGE)
    cfg = plans.load()
    day = _as_of(as_of)
    scope = enforce.row_scope(ctx.principal)
    kind, scope_params = scope.kind, dict(scope.params)
    if kind is ScopeKind.BRANCH:
        if branch_id is not None and branch_id != scope_params["branch_id"]:
            raise Forbidden("A branch manager reads the follow-up coverage of their own branch.")
    elif kind is ScopeKind.BOOK:
        if branch_id is not None:
            raise Forbidden("A relationship manager reads the follow-up coverage of their book.")
    elif kind is ScopeKind.ANY:
        if branch_id is not None:
            kind, scope_params["branch_id"] = ScopeKind.BRANCH, branch_id
    else:
        raise Forbidden("Your role may not perform followUpCoverage.")
    rows = await ctx.read(
        all_rows,
        query=q.COVERAGE[kind],
        params={**_window(cfg, day), **scope_params},
    )
    by_tier = {r["tier"]: r for r in rows}
    tiers = []
    for tier in cfg.planned_tiers:
        r = by_tier.get(tier, {})
        customers, covered = int(r.get("customers", 0)), int(r.get("covered", 0))
        share = covered / customers if customers else None
        tiers.append(
            {
                "tier": tier,
                "interval_days": cfg.intervals[tier],
                "customers": customers,
                "covered": covered,
                "overdue": int(r.get("overdue", 0)),
                "share": None if share is None else round(share, 4),
                "meets_target": None if share is None else share >= cfg.target,
            }
        )
    return {
        "branch_id": scope_params.get("branch_id") if kind is ScopeKind.BRANCH else None,
        "as_of": day,
        "target": cfg.target,
        "tiers": tiers,
    }
