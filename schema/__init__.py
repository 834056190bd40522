"""The GraphQL schema: each domain's types in its own sub-package; this module only assembles."""

from __future__ import annotations

from pathlib import Path

import strawberry
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)

from c360.errors import CodedErrors
from schema.customers.query import CustomersQuery
from schema.extensions import Metrics, RoundTrips
from schema.households.query import HouseholdsQuery
from schema.interactions.mutation import Mutation
from schema.network.query import NetworkQuery
from schema.operations.me import MeQuery
from schema.operations.query import OperationsQuery

SDL_PATH = Path(__file__).resolve().parent / "schema.graphql"
MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000


@strawberry.type
class Query(CustomersQuery, HouseholdsQuery, NetworkQuery, MeQuery, OperationsQuery):
    pass


def build_schema(*, introspection: bool = True) -> strawberry.Schema:
    """The schema; ``introspection=False`` (outside development) refuses introspection queries."""
    extensions: list = [
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        CodedErrors,
        Metrics,
        RoundTrips,
    ]
    if not introspection:
        extensions.insert(0, DisableIntrospection)
    return strawberry.Schema(query=Query, mutation=Mutation, extensions=extensions)


def sdl() -> str:
    return build_schema().as_str() + "\n"
