"""A customer's satisfaction: the last score, the 6-month averages and their trend, per channel.

The windows are the scoring job's (scoring/job.py, graph/queries/scoring.CUSTOMER_FACTS_PAGE):
csat of any interaction dated within the last 182 days, and within the 183 before that (to 365
days back). The trend is DOWN when the average fell by at least ``[downgrade]
satisfaction_drop`` of scoring.toml (1 point) — exactly when the next scoring run gives a
downgrade and a churn reason for it — UP when it rose by as much, else FLAT; null when either
window has no score. By channel: the csat average and count of the last 365 days.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from graph.queries import complaints as q
from graph.session import all_rows
from resolvers.context import Context
from scoring.config import load_config

RECENT_DAYS = 182
EARLIER_DAYS = 365


def satisfaction_drop() -> float:
    return float(load_config()["downgrade"]["satisfaction_drop"])


def summarise(
    scored: list[dict[str, Any]], last: dict[str, Any] | None, today: dt.date, drop: float
) -> dict[str, Any]:
    """Pure: the satisfaction of one customer from their scored interactions (newest first)."""
    since_6m = today - dt.timedelta(days=RECENT_DAYS)
    since_12m = today - dt.timedelta(days=EARLIER_DAYS)
    recent = [s["csat"] for s in scored if s["csat"] is not None and s["at"].date() > since_6m]
    earlier = [
        s["csat"]
        for s in scored
        if s["csat"] is not None and since_12m < s["at"].date() <= since_6m
    ]
    avg6 = round(sum(recent) / len(recent), 2) if recent else None
    prev6 = round(sum(earlier) / len(earlier), 2) if earlier else None
    trend = None
    if avg6 is not None and prev6 is not None:
        trend = "DOWN" if prev6 - avg6 >= drop else "UP" if avg6 - prev6 >= drop else "FLAT"
    channels: dict[str, list[int]] = defaultdict(list)
    for s in scored:
        if s["csat"] is not None and s["at"].date() > since_12m:
            channels[s["channel"] or "UNKNOWN"].append(s["csat"])
    return {
        "last": last,
        "average_6m": avg6,
        "average_previous_6m": prev6,
        "trend": trend,
        "by_channel": [
            {"channel": ch, "average": round(sum(v) / len(v), 2), "count": len(v)}
            for ch, v in sorted(channels.items())
        ],
    }


async def satisfaction(ctx: Context, customer_id: str) -> dict[str, Any]:
    """Through the request's DataLoader: a page of customers is two queries, not two each."""

    async def load(customer_ids: list[str]) -> list[dict[str, Any]]:
        today = dt.datetime.now(dt.UTC).date()
        since = dt.datetime.combine(today - dt.timedelta(days=EARLIER_DAYS), dt.time(),
                                    tzinfo=dt.UTC)  # fmt: skip

        async def both(tx) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            params = {"customer_ids": customer_ids, "since": since}
            scored = await all_rows(tx, query=q.SCORED_INTERACTIONS, params=params)
            last = await all_rows(tx, query=q.LAST_SCORED, params=params)
            return scored, last

        scored, last = await ctx.read(both)
        per: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in scored:
            per[row["customer_id"]].append(row)
        lasts = {r["customer_id"]: r for r in last}
        drop = satisfaction_drop()
        return [summarise(per[c], lasts.get(c), today, drop) for c in customer_ids]

    return await ctx.loader(("satisfaction",), load).load(customer_id)
