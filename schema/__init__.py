"""The GraphQL schema: each domain's types in its own sub-package; this module only assembles."""

from __future__ import annotations

from pathlib import Path

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter

from c360.errors import CodedErrors
from schema.customers.query import CustomersQuery

SDL_PATH = Path(__file__).resolve().parent / "schema.graphql"


@strawberry.type
class Query(CustomersQuery):
    pass


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        extensions=[
            lambda: QueryDepthLimiter(max_depth=10),
            lambda: MaxAliasesLimiter(max_alias_count=30),
            lambda: MaxTokensLimiter(max_token_count=2000),
            CodedErrors,
        ],
    )


def sdl() -> str:
    return build_schema().as_str() + "\n"
