"""The network around a customer the caller may see; customers beyond their scope are restricted."""

from __future__ import annotations

from typing import Any

from auth import enforce
from auth.masking import mask_name
from auth.policy import Operation
from c360.errors import BadUserInput, NotFound
from graph.queries.network import MAX_DEPTH, NETWORK_QUERIES
from graph.queries.scope import SCOPE_MATCH
from resolvers.context import Context

DEFAULT_CAP = 60
MAX_CAP = 200
ALL_RELATIONS = ("MEMBER_OF", "HOLDS", "REFERRED")


async def _network(tx, *, scope_query: str, network_query: str, params: dict[str, Any]):
    seen = await (await tx.run(scope_query + "RETURN access", params)).single()
    if seen is None:
        return None
    return (await (await tx.run(network_query, params)).single()).data()


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
        _network,
        scope_query=SCOPE_MATCH[scope.kind],
        network_query=NETWORK_QUERIES[(depth, scope.kind)],
        params={"customer_id": customer_id, "types": types, "cap": cap, **scope.params},
    )
    if result is None:
        raise NotFound(f"No customer {customer_id!r} is visible to you.")
    visible = [n["id"] for n in result["nodes"] if n["kind"] == "CUSTOMER" and n["access"]]
    await ctx.audit("network", customer_ids=visible, fields=["network"])
    nodes = []
    for node in result["nodes"]:
        if node["kind"] != "CUSTOMER":
            label = node["name"] if node["kind"] == "HOUSEHOLD" else node["product_type"]
            nodes.append({**node, "label": label, "restricted": False})
        elif node["access"] is None:  # beyond the caller's scope: a masked name, nothing else
            nodes.append(
                {**node, "label": mask_name(node["name"] or "?"), "tier": None, "restricted": True}
            )
        else:
            shown = enforce.mask_row(
                ctx.principal,
                {"name": node["name"], "tier": node["tier"], "access": node["access"]},
            )
            nodes.append(
                {**node, "label": shown.get("name"), "tier": shown.get("tier"), "restricted": False}
            )
    return {"nodes": nodes, "edges": result["edges"], "truncated": result["truncated"]}
