"""People linked to what the caller reads: household members, referral partners, the customers
of a network. Each is shown under the caller's own access to that person (``access`` from the
scope fragment): within the scope under the caller's view, beyond it with an opaque id, a
pseudonymised name and the relationship's own values only (auth/masking.OUT_OF_SCOPE_NAME)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from auth import enforce
from auth.masking import OUT_OF_SCOPE_NAME, apply_mask, mask_within
from resolvers.context import Context


def shown_name(ctx: Context, name: str | None, access: str | None) -> str | None:
    if access is None:
        return apply_mask(OUT_OF_SCOPE_NAME, name, {})
    return enforce.mask_row(ctx.principal, {"name": name, "access": access}).get("name")


def person(ctx: Context, row: dict[str, Any], *, keep: Iterable[str] = ()) -> dict[str, Any]:
    """The linked person of ``row`` as the caller may see them, ``restricted`` when beyond the
    scope; ``keep`` names the values of the relationship (a role, a date) kept even then."""
    if row.get("access"):
        return {**enforce.mask_row(ctx.principal, row), "restricted": False}
    return {
        **{k: row.get(k) for k in keep},
        "customer_id": ctx.opaque_id("CUSTOMER", row["customer_id"]),
        "name": shown_name(ctx, row.get("name"), None),
        "restricted": True,
    }


def derived_name(ctx: Context, text: str | None, people: Iterable[dict[str, Any]]) -> str | None:
    """A name made of people's names (a household named after its head), each of them masked as
    the caller sees that person. ``people``: ``name`` and ``access`` of each."""
    if not text:
        return text
    shown: dict[str, str | None] = {}
    for p in people:
        name = p.get("name")
        if name and shown.get(name, name) == name:  # two people of one name: the stricter view
            shown[name] = shown_name(ctx, name, p.get("access"))
    return mask_within(text, shown)
