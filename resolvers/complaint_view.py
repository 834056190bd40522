"""How a tracked item (complaint, suggestion, question) is shown to the caller: its status and
live service level, its source system's own SLA status kept apart, and what the caller's view
lets through (the customer's name as the view shows it; free text with personal data masked for
the views that do not read the timeline, and none at all for the pseudonymised view of auditors
and engineers, who audit the service levels (ids, statuses, times, categories); only the notes
fed back, for the customer).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from auth import enforce
from auth.masking import Mask, apply_mask, mask_free_text
from auth.policy import VIEWS, View
from core.complaints import TRACKED_KINDS, derived_status
from core.settings import Settings
from core.sla import SlaTargets, sla_clock
from resolvers.context import Context

FREE_TEXT = ("summary", "outcome", "resolution", "next_step")


def with_service_level(item: dict[str, Any], settings: Settings, now: dt.datetime) -> None:
    """Status, due times and the live SLA status of a tracked item read without them (the
    timeline, a write's answer), computed by core/sla.py; the source's own status kept apart."""
    _source_status(item)
    if item.get("kind") not in TRACKED_KINDS or item.get("occurred_at") is None:
        item["sla_status"] = None
        return
    item["status"] = derived_status(
        status=item.get("status"),
        first_response_at=item.get("first_response_at"),
        resolved_at=item.get("resolved_at"),
    ).value
    clock = sla_clock(
        opened_at=item["occurred_at"],
        severity=item.get("severity"),
        first_response_at=item.get("first_response_at"),
        resolved_at=item.get("resolved_at"),
        now=now,
        targets=SlaTargets.of(settings),
    )
    item["response_due_at"] = clock.response_due
    item["resolution_due_at"] = clock.resolution_due
    item["first_response_at"] = clock.responded_at
    item["sla_status"] = clock.status.value


def _source_status(item: dict[str, Any]) -> None:
    """``sla_status`` as stored is the source system's (the API never writes it); an item the
    API recorded has none."""
    if "source_sla_status" not in item:
        stored = item.get("sla_status")
        item["source_sla_status"] = stored if item.get("recorded_by") is None else None


def from_queue(item: dict[str, Any]) -> dict[str, Any]:
    """An item as the queue's Cypher computed it: the first response counted, the live status."""
    _source_status(item)
    item = dict(item)
    item["first_response_at"] = item.get("first_response_at") or item.get("resolved_at")
    item["sla_status"] = item.pop("computed_sla", None)
    return item


def for_caller(
    ctx: Context, item: dict[str, Any], customer: dict[str, Any], access: str = "direct"
) -> dict[str, Any]:
    """The item as the caller's view of its customer lets it be seen."""
    return for_caller_all(ctx, [item], customer, access)[0]


def for_caller_all(
    ctx: Context, items: list[dict[str, Any]], customer: dict[str, Any], access: str = "direct"
) -> list[dict[str, Any]]:
    """Items of one customer as the caller's view of that customer lets them be seen (the view
    and the customer's shown name worked out once for all of them)."""
    view = enforce.view_for(ctx.principal, access)
    treatments = VIEWS[view]
    customer_id = customer.get("customer_id")
    customer_name = apply_mask(treatments["name"], customer.get("name"), customer)
    masks_names = treatments["name"] is not Mask.CLEAR

    def masked(text: Any) -> Any:
        return text if text is None else mask_free_text(str(text), customer, mask_names=masks_names)

    out = []
    for item in items:
        shown = dict(item)
        shown["customer_id"] = customer_id
        shown["customer_name"] = customer_name
        progress = list(item.get("progress") or [])
        if view is View.SELF:  # the customer: only what was fed back to them
            progress = [p for p in progress if p.get("visible_to_customer")]
        if view is View.PSEUDONYMISED:  # auditors, engineers: service levels, never the free text
            for name in FREE_TEXT:
                shown[name] = None
            progress = [{**p, "note": ""} for p in progress]  # the note is there, its text is not
        elif treatments["timeline"] is not Mask.CLEAR:  # free text may carry personal data
            for name in FREE_TEXT:
                shown[name] = masked(shown.get(name))
            progress = [{**p, "note": masked(p.get("note"))} for p in progress]
        shown["progress"] = progress
        out.append(shown)
    return out
