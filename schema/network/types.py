from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="Relations a network follows.")
class Relation(Enum):
    HOUSEHOLD = "MEMBER_OF"
    JOINT_ACCOUNT = "HOLDS"
    REFERRAL = "REFERRED"


@strawberry.enum
class NodeKind(Enum):
    CUSTOMER = "CUSTOMER"
    HOUSEHOLD = "HOUSEHOLD"
    ACCOUNT = "ACCOUNT"


@strawberry.type(description="A person, household or joint account in the network.")
class NetworkNode:
    id: strawberry.ID
    kind: NodeKind
    label: str | None = strawberry.field(description="Name, masked as the caller's role requires")
    distance: int = strawberry.field(description="Relationships from the centre")
    tier: str | None
    restricted: bool = strawberry.field(
        description="Outside the caller's scope: shown for context, no details, not openable"
    )


@strawberry.type(description="A relationship between two nodes (source → target).")
class NetworkEdge:
    source: strawberry.ID
    target: strawberry.ID
    type: Relation
    role: str | None = strawberry.field(description="Household role or account holder role")


@strawberry.type
class Network:
    nodes: list[NetworkNode]
    edges: list[NetworkEdge]
    truncated: bool = strawberry.field(description="True when the node cap cut the network")
