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
    distance: int = strawberry.field(
        description="Relationships from the centre",
        deprecation_reason="Relative to one network's centre, while a client cache keeps one "
        "NetworkNode per id for every network: select Network.members { distance node { id } }.",
    )
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


@strawberry.type(
    description="A node's place in this network: its distance from the centre (a value of the "
    "network, kept inside it by a client cache) and the node (the same in every network)."
)
class NetworkMember:
    distance: int = strawberry.field(description="Relationships from the centre")
    node: NetworkNode


@strawberry.type
class Network:
    nodes: list[NetworkNode]
    members: list[NetworkMember] = strawberry.field(
        description="Every node with its distance from the centre, nearest first"
    )
    edges: list[NetworkEdge]
    truncated: bool = strawberry.field(description="True when the node cap cut the network")
