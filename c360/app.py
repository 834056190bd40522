"""The ASGI application: Starlette owns the driver (lifespan), Strawberry serves /graphql."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL

from c360.settings import Settings, get_settings
from graph import migrate
from graph.driver import create_async_driver, create_sync_driver, verify
from resolvers.context import Context
from schema import build_schema

log = logging.getLogger("c360.api")


class GraphQLApp(GraphQL):
    async def get_context(self, request: Request, response: Any) -> Context:
        state = request.app.state
        return Context(
            driver=state.driver,
            settings=state.settings,
            request=request,
            response=response,
            request_id=request.headers.get("x-request-id") or uuid.uuid4().hex,
        )


def _migrate(settings: Settings) -> None:
    with create_sync_driver(settings) as driver:
        verify(driver, settings)
        migrate.apply(driver, database=settings.neo4j_database)


async def health_live(_: Request) -> JSONResponse:
    return JSONResponse({"status": "live"})


async def health_ready(request: Request) -> JSONResponse:
    driver = request.app.state.driver
    try:
        await asyncio.wait_for(driver.verify_connectivity(), timeout=5)
    except Exception as exc:  # any failure to reach the graph means not ready
        log.warning("readiness check failed: %s", type(exc).__name__)
        return JSONResponse(
            {"status": "unavailable", "code": "SERVICE_UNAVAILABLE", "graph": "unreachable"},
            status_code=503,
        )
    return JSONResponse({"status": "ready", "graph": "ok"})


def create_app(settings: Settings | None = None, *, apply_migration: bool = True) -> Starlette:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if apply_migration:
            await asyncio.to_thread(_migrate, settings)
        app.state.settings = settings
        app.state.driver = create_async_driver(settings)
        try:
            yield
        finally:
            await app.state.driver.close()

    graphql = GraphQLApp(
        build_schema(),
        graphql_ide="graphiql" if settings.is_development else None,
        allow_queries_via_get=True,
    )
    return Starlette(
        routes=[
            Route("/health/live", health_live),
            Route("/health/ready", health_ready),
            Route("/graphql", graphql, methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
    )
