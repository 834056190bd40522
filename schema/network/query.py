from __future__ import annotations

import strawberry

from resolvers import network as resolve
from schema.context import Info
from schema.network.types import (
    Network,
    NetworkEdge,
    NetworkMember,
    NetworkNode,
    NodeKind,
    Relation,
)


@strawberry.type
class NetworkQuery:
    @strawberry.field(
        description="Households, joint accounts and referrals around a customer, nearest first, "
        "ready to draw. depth counts relationships (1-3); maxNodes caps the nodes (truncated)."
    )
    async def network(
        self,
        info: Info,
        customer_id: strawberry.ID,
        depth: int = 2,
        relations: list[Relation] | None = None,
        max_nodes: int | None = None,
    ) -> Network:
        result = await resolve.network(
            info.context,
            customer_id=str(customer_id),
            depth=depth,
            relations=[r.value for r in relations] if relations else None,
            cap=max_nodes,
        )
        nodes = [
            NetworkNode(
                id=strawberry.ID(n["id"]),
                kind=NodeKind(n["kind"]),
                label=n.get("label"),
                distance=n["distance"],
                tier=n.get("tier"),
                restricted=n["restricted"],
            )
            for n in result["nodes"]
        ]
        return Network(
            nodes=nodes,
            members=[NetworkMember(distance=n.distance, node=n) for n in nodes],
            edges=[
                NetworkEdge(
                    source=strawberry.ID(e["source"]),
                    target=strawberry.ID(e["target"]),
                    type=Relation(e["type"]),
                    role=e.get("role"),
                )
                for e in result["edges"]
            ],
            truncated=result["truncated"],
        )
