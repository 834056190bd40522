"""The network around a customer the caller may see. Nodes beyond the caller's scope are shown
restricted: an opaque id valid in this answer only, a customer's pseudonymised name (a household's
or an account's nothing), and only where they touch something the caller may read."""

from __future__ import annotations

from typing import Any

from auth import enforce
from auth.policy import Operation
from core.errors import BadUserInput, NotFound
from graph.queries.network import MAX_DEPTH, fetch_network
from resolvers import related
from resolvers.context import Context

DEFAULT_CAP = 60
MAX_CAP = 200
ALL_RELATIONS = ("MEMBER_OF", "HOLDS", "REFERRED")


def _node(ctx: Context, node: dict[str, Any]) -> dict[str, Any]:
    shown = {"kind": node["kind"], "distance": node["distance"]}
    if node["access"] is None:
        label = related.shown_name(ctx, node["name"], None) if node["kind"] == "CUSTOMER" else None
        return {
            **shown,
            "id": ctx.opaque_id(node["kind"], node["id"]),
            "label": label,
            "tier": None,
            "restricted": True,
        }
    if node["kind"] == "CUSTOMER":
        person = related.person(ctx, {"customer_id": node["id"], **node})
        label, tier = person.get("name"), person.get("tier")
    elif node["kind"] == "HOUSEHOLD":
        label, tier = related.derived_name(ctx, node["name"], node["people"]), node["tier"]
    else:
        label, tier = node["product_type"], None
    return {**shown, "id": node["id"], "label": label, "tier": tier, "restricted": False}


async def network(
    ctx: Context, *, customer_id: str, depth: int, relations: list[str] | None, cap: int | None
) -> dict[str, Any]:
    enforce.require(ctx.principal, Operation.READ_CUSTOMER)
    if not 1 <= depth <= MAX_DEPTH:
        raise BadUserInput(f"depth must be between 1 and {MAX_DEPTH}")
    cap = DEFAULT_CAP if cap is None else cap
    if not 2 <= cap <= MAX_CAP:
        raise BadUserInput(f"maxNodes must be between 2 and {MAX_CAP}")
    types = sorted(set(relations or ALL_RELATIONS))
    scope = enforce.row_scope(ctx.principal)
    result = await ctx.read(
        fetch_network,
        scope=scope.kind,
        depth=depth,
        params={"customer_id": customer_id, "types": types, "cap": cap, **scope.params},
    )
    customers = [n for n in result["nodes"] if n["kind"] == "CUSTOMER"] if result else []
    # A probe of an absent or out-of-scope id is a read too, recorded like the customer read's.
    shown_ids = [n["id"] for n in customers] if result else [customer_id]
    await ctx.audit("network", customer_ids=shown_ids, fields=["network"])
    if result is None:
        raise NotFound(f"No customer {customer_id!r} is visible to you.")
    shown = {n["key"]: _node(ctx, n) for n in result["nodes"]}
    readable = {n["key"] for n in result["nodes"] if n["access"] is not None}
    edges = [  # a relationship between two nodes beyond the scope is theirs alone
        {**e, "source": shown[e["source"]]["id"], "target": shown[e["target"]]["id"]}
        for e in result["edges"]
        if e["source"] in readable or e["target"] in readable
    ]
    return {"nodes": list(shown.values()), "edges": edges, "truncated": result["truncated"]}
