"""Schema extensions: the cost limit, Prometheus metrics per operation, and the graph round
trips of a request."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_leaf_type,
    is_list_type,
    parse,
    value_from_ast,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.execution.values import get_variable_values
from prometheus_client import Counter, Histogram
from strawberry.extensions import SchemaExtension

from core.errors import ErrorCode
from resolvers.pagination import DEFAULT_PAGE
from schema.errors import error_code

REQUESTS = Counter(
    "c360_graphql_requests_total", "GraphQL operations served", ["operation", "type"]
)
ERRORS = Counter(
    "c360_graphql_errors_total", "GraphQL operations answered with errors", ["operation", "code"]
)
LATENCY = Histogram(
    "c360_graphql_latency_seconds",
    "GraphQL operation latency",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
ROUND_TRIPS = Histogram(
    "c360_graph_round_trips",
    "Neo4j round trips per GraphQL operation",
    ["operation"],
    buckets=(1, 2, 3, 4, 6, 8, 12, 20),
)


CACHED_DOCUMENTS = 256  # distinct documents kept parsed and validated (LRU each)


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _parse(query: str, max_tokens: int | None = None) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


class ParseCache(SchemaExtension):
    """Channels send the same few documents over and over: each is parsed once (LRU).

    A document that does not parse (syntax, token limit) is not cached and the hook leaves it
    alone: strawberry then parses it in its own guarded step, so the error is answered with its
    code like any other. (strawberry's ParserCache raises it from inside the hook instead.) The
    token limit is part of the cache key, so it holds for cached documents too.
    """

    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.graphql_document is None and ec.query:
            with contextlib.suppress(GraphQLError):
                ec.graphql_document = _parse(ec.query, ec.parse_options.get("max_tokens"))
        yield


QUERY_COST = 10  # a field resolved by a graph query of its own: a root field or a page
# Other fields that may cost a graph query of their own: the members of a household reached
# through a membership (read on demand, like household(id)).
OWN_QUERY_FIELDS = frozenset({("Household", "members")})


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    *,
    max_page: int,
) -> int | None:
    """The static cost of the operation, or None when it cannot run anyway (no such operation,
    variables that do not coerce: execution names the problem).

    Every object the answer may hold costs 1 (a Relay edge nothing: its node counts) and scalars
    nothing; a root field or a field taking
    ``first`` (a page: fetched by a query of its own, once per parent below a list) costs
    QUERY_COST, and so does a field of OWN_QUERY_FIELDS. A page's items count ``first`` times
    (the argument after variables and defaults, at most ``max_page``; null: the default page):
    the page itself when it is a list, else the
    lists of the connection it returns (edges, nodes, items). Nested pages multiply. Fragments
    are expanded and each is costed once, so a document cannot make the walk expensive."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list):
        return None
    root = schema.get_root_type(operation.operation)
    if root is None:
        return None
    walk = _CostWalk(schema, document, coerced.coerced, max_page)
    return walk.selection_cost(root, operation.selection_set, is_root=True)


def _is_edge(named: GraphQLNamedType) -> bool:
    """A Relay edge: a wrapper of its node (priced by the node), so a page costs the same as
    ``edges { node }``, ``nodes`` or a plain list."""
    return {"cursor", "node"} <= set(getattr(named, "fields", {}))


class _CostWalk:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: dict[str, Any],
        max_page: int,
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.max_page = max_page
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.fragment_costs: dict[tuple[str, int], int] = {}
        self.visiting: set[str] = set()

    def selection_cost(
        self,
        parent: GraphQLNamedType,
        selection_set: SelectionSetNode,
        *,
        is_root: bool = False,
        page: int = 1,
    ) -> int:
        """Cost of one instance of ``parent``; ``page``: how many items its lists hold (set on
        a connection by the field that returned it)."""
        total = 0
        fields = getattr(parent, "fields", {})
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                field_name = selection.name.value
                field = fields.get(field_name)
                if field is None or selection.selection_set is None:
                    continue  # scalars, __typename (unknown fields fail validation)
                named = get_named_type(field.type)
                if is_leaf_type(named):
                    continue
                is_list = is_list_type(get_nullable_type(field.type))
                if "first" in field.args:
                    size = self._page(field.args["first"], selection)
                    inner = self.selection_cost(
                        named, selection.selection_set, page=1 if is_list else size
                    )
                    # A page that is a plain list: each item is an object of the answer.
                    total += QUERY_COST + ((1 + inner) * size if is_list else inner)
                else:
                    inner = self.selection_cost(named, selection.selection_set)
                    own_query = is_root or (parent.name, field_name) in OWN_QUERY_FIELDS
                    weight = QUERY_COST if own_query else 0 if _is_edge(named) else 1
                    total += (weight + inner) * (page if is_list else 1)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_cost(on or parent, selection.selection_set, page=page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment_cost(selection.name.value, page)
        return total

    def _fragment_cost(self, name: str, page: int) -> int:
        key = (name, page)
        if key in self.fragment_costs:
            return self.fragment_costs[key]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.visiting:  # unknown or cyclic: validation refuses
            return 0
        on = self.schema.get_type(fragment.type_condition.name.value)
        if on is None:
            return 0
        self.visiting.add(name)
        cost = self.selection_cost(on, fragment.selection_set, page=page)
        self.visiting.discard(name)
        self.fragment_costs[key] = cost
        return cost

    def _page(self, argument: Any, node: FieldNode) -> int:
        given = next((a for a in node.arguments or () if a.name.value == "first"), None)
        value = (
            value_from_ast(given.value, argument.type, self.variables)
            if given is not None
            else argument.default_value
        )
        if not isinstance(value, int):
            return DEFAULT_PAGE  # null, or absent without a default: the resolvers' default
        return max(0, min(value, self.max_page))


class CostLimit(SchemaExtension):
    """Refuses an operation whose static cost (:func:`operation_cost`) exceeds
    ``settings.max_query_cost`` before it runs: LIMIT_EXCEEDED naming the cost and the limit.
    Outside production the answer reports ``extensions.cost``.

    After validation, since the cost depends on the variables (``first: $n``). Measured before:
    one request within the depth, alias and page limits (30 aliases of ``customers(first: 100)``
    with ``interactions(first: 100)``) cost 3,060 graph round trips and 53 s; three of them
    exhausted the Bolt pool."""

    cost: int | None = None

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        settings = getattr(ec.context, "settings", None)
        if settings is not None and ec.graphql_document is not None:
            self.cost = operation_cost(
                ec.schema._schema,
                ec.graphql_document,
                ec.operation_name,
                ec.variables,
                max_page=settings.max_page_size,
            )
            limit = settings.max_query_cost
            if self.cost is not None and self.cost > limit:
                message = (
                    f"This operation costs {self.cost}, more than the limit of {limit}: ask for "
                    "smaller pages (first), fewer nested pages or fewer aliases."
                )
                code = {"code": ErrorCode.LIMIT_EXCEEDED.value}
                ec.result = GraphQLExecutionResult(
                    data=None, errors=[GraphQLError(message, extensions=code)]
                )
        yield

    def get_results(self) -> dict[str, Any]:
        settings = getattr(self.execution_context.context, "settings", None)
        if self.cost is None or settings is None or not settings.is_development:
            return {}
        return {"cost": self.cost}


OTHER_OPERATIONS = "other"
_OPERATION_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")


class OperationLabels:
    """Operation names as metric labels, a bounded set: the client chooses the name, and every
    distinct label is a time series kept for the life of the process (1,980 names grew /metrics
    to 5.2 MB). A name is its own label when the document holds that operation and fewer than
    ``cap`` names are known; any later one is "other". The channels' few names come first in
    practice; an operator who sees "other" grow raises METRICS_MAX_OPERATIONS."""

    def __init__(self) -> None:
        self._known: set[str] = set()

    def label(self, name: str | None, document: DocumentNode | None, *, cap: int) -> str:
        if not name:
            return "anonymous"
        if name in self._known:
            return name
        if (
            len(self._known) < cap
            and _OPERATION_NAME.fullmatch(name)
            and document is not None
            and get_operation_ast(document, name) is not None
        ):
            self._known.add(name)
            return name
        return OTHER_OPERATIONS


OPERATION_LABELS = OperationLabels()
DEFAULT_MAX_OPERATION_LABELS = 50


class Metrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        ec = self.execution_context
        settings = getattr(ec.context, "settings", None)
        cap = settings.metrics_max_operations if settings else DEFAULT_MAX_OPERATION_LABELS
        name = OPERATION_LABELS.label(ec.operation_name, ec.graphql_document, cap=cap)
        try:
            kind = ec.operation_type.value
        except RuntimeError:  # refused before a document was parsed (e.g. a token bomb)
            kind = "unparsed"
        REQUESTS.labels(name, kind).inc()
        LATENCY.labels(name).observe(time.perf_counter() - started)
        trips = getattr(ec.context, "round_trips", 0)
        ROUND_TRIPS.labels(name).observe(trips)
        result = ec.result
        for error in getattr(result, "errors", None) or []:
            ERRORS.labels(name, error_code(error).value).inc()  # before CodedErrors has run


class RoundTrips(SchemaExtension):
    """Outside production, reports ``extensions.roundTrips``: the graph round trips it took."""

    def get_results(self) -> dict[str, Any]:
        ctx = self.execution_context.context
        if getattr(ctx, "settings", None) is None or not ctx.settings.is_development:
            return {}
        return {"roundTrips": ctx.round_trips}
