"""The ASGI application: Starlette owns the driver (lifespan), Strawberry serves /graphql."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import AsyncIterator

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from auth.audit import AuditWriter
from auth.principal import ANONYMOUS
from auth.ratelimit import TokenBucketLimiter
from auth.sessions import Neo4jSessionStore
from auth.tokens import TokenValidator
from c360.console import console_routes
from c360.middleware import BearerAuthMiddleware, SecurityHeadersMiddleware
from c360.oidc import ConsoleSignIn
from c360.settings import Environment, Settings, get_settings
from graph import migrate
from graph.driver import create_async_driver, create_sync_driver, verify
from resolvers.context import Context
from schema import build_schema

log = logging.getLogger("c360.api")
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")  # a caller's X-Request-ID is kept only if tame


class GraphQLApp(GraphQL[Context, None]):
    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        state = request.app.state
        return Context(
            driver=state.driver,
            settings=state.settings,
            auditor=state.auditor,
            # Set by BearerAuthMiddleware on every request that can run an operation; only the
            # GraphiQL page (development) arrives without one, and ANONYMOUS may do nothing.
            principal=getattr(request.state, "principal", ANONYMOUS),
            request=request,
            response=response,
            request_id=_request_id(request),
            client_address=request.client.host if request.client else None,
        )


def _request_id(request: HTTPConnection) -> str:
    given = request.headers.get("x-request-id", "")
    return given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _migrate(settings: Settings) -> None:
    with create_sync_driver(settings) as driver:
        verify(driver, settings)
        migrate.apply(driver, database=settings.neo4j_database)


async def health_live(_: Request) -> JSONResponse:
    return JSONResponse({"status": "live"})


async def metrics(_: Request) -> Response:
    """Prometheus exposition of the process's metrics (operations, latency, errors, round trips)."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


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
    validator = TokenValidator(settings)
    limiter = TokenBucketLimiter(
        rate_per_s=settings.rate_limit_per_second, burst=settings.rate_limit_burst
    )
    sign_in = ConsoleSignIn(settings, validator, limiter) if settings.oidc_enabled else None
    production = settings.environment is Environment.PRODUCTION
    if sign_in is not None and production and not settings.cookie_secure:
        log.warning(
            "SESSION_COOKIE_SECURE=false in production: console session cookies will be sent "
            "over plain http; use this only behind a test set-up, never for real users"
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if apply_migration:
            await asyncio.to_thread(_migrate, settings)
        app.state.settings = settings
        app.state.driver = create_async_driver(settings)
        app.state.auditor = AuditWriter(app.state.driver, database=settings.audit_db)
        if sign_in is not None and settings.session_secret is not None:
            # Console sessions live in the graph: every replica sees every session.
            sign_in.store = Neo4jSessionStore(
                app.state.driver,
                database=settings.neo4j_database,
                secret=settings.session_secret.get_secret_value(),
                max_age_s=settings.session_max_age_s,
            )
        try:
            yield
        finally:
            await app.state.auditor.close()
            await app.state.driver.close()

    development = settings.environment is Environment.DEVELOPMENT
    graphql = GraphQLApp(
        build_schema(introspection=development),
        graphql_ide="graphiql" if development else None,
        allow_queries_via_get=True,
    )
    return Starlette(
        routes=[
            Route("/health/live", health_live),
            Route("/health/ready", health_ready),
            Route("/metrics", metrics),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            *console_routes(settings, sign_in),
        ],
        middleware=[
            Middleware(SecurityHeadersMiddleware, settings=settings),
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", "x-request-id"],
                max_age=600,
            ),
            Middleware(
                BearerAuthMiddleware,
                settings=settings,
                validator=validator,
                limiter=limiter,
                sign_in=sign_in,
            ),
        ],
        lifespan=lifespan,
    )
