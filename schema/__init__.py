"""The GraphQL schema: each domain's types in its own sub-package; this module only assembles."""

from __future__ import annotations

from pathlib import Path

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    ValidationCache,
)

from schema.alerts.mutation import AlertsMutation
from schema.alerts.query import AlertsQuery
from schema.customers.coverage import CoverageQuery
from schema.customers.mutation import CustomersMutation
from schema.customers.query import CustomersQuery
from schema.errors import CodedErrors, CodedSchema
from schema.execution import LeafFastExecution
from schema.extensions import CACHED_DOCUMENTS, CostLimit, Metrics, ParseCache, RoundTrips
from schema.households.query import HouseholdsQuery
from schema.identity.mutation import StewardsMutation
from schema.identity.query import IdentityQuery
from schema.interactions.followups import FollowUpsQuery
from schema.interactions.mutation import InteractionsMutation
from schema.interactions.query import ComplaintsQuery
from schema.kpis.query import KpisQuery
from schema.network.query import NetworkQuery
from schema.operations.me import MeQuery
from schema.operations.quality import DataQualityQuery
from schema.operations.query import OperationsQuery

SDL_PATH = Path(__file__).resolve().parent / "schema.graphql"
MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000


@strawberry.type
class Query(
    CustomersQuery,
    HouseholdsQuery,
    NetworkQuery,
    MeQuery,
    OperationsQuery,
    IdentityQuery,
    ComplaintsQuery,
    AlertsQuery,
    DataQualityQuery,
    KpisQuery,
    CoverageQuery,
    FollowUpsQuery,
):
    pass


@strawberry.type
class Mutation(InteractionsMutation, CustomersMutation, StewardsMutation, AlertsMutation):
    pass


def build_schema(*, introspection: bool = True) -> strawberry.Schema:
    """The schema; ``introspection=False`` (outside development) refuses introspection queries
    and drops "Did you mean" suggestions from error messages (they map the schema as well).

    Channels send the same few documents over and over, so parsing (ParseCache, which keeps
    our error coding for documents that do not parse) and validation (LRU, keyed by the document
    and the validation rules) are cached. The limiters' rule classes are made once here: a
    limiter built per request makes a new rule class each time, and the validation cache would
    never hit."""
    rules = [
        *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
        *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    ]
    if not introspection:
        rules = [*DisableIntrospection().validation_rules, *rules]
    extensions: list = [
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        ParseCache,
        lambda: ValidationCache(maxsize=CACHED_DOCUMENTS),
        lambda: CodedErrors(hide_suggestions=not introspection),
        CostLimit,
        Metrics,
        RoundTrips,
    ]
    return CodedSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        execution_context_class=LeafFastExecution,
    )


def sdl() -> str:
    return build_schema().as_str() + "\n"
