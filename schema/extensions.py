"""Schema extensions: Prometheus metrics per operation, and the graph round trips of a request."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError, parse
from prometheus_client import Counter, Histogram
from strawberry.extensions import SchemaExtension

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


class Metrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        ec = self.execution_context
        name = ec.operation_name or "anonymous"
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
            ERRORS.labels(name, (error.extensions or {}).get("code", "INTERNAL")).inc()


class RoundTrips(SchemaExtension):
    """Outside production, reports ``extensions.roundTrips``: the graph round trips it took."""

    def get_results(self) -> dict[str, Any]:
        ctx = self.execution_context.context
        if getattr(ctx, "settings", None) is None or not ctx.settings.is_development:
            return {}
        return {"roundTrips": ctx.round_trips}
