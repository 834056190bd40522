"""The ASGI application: Starlette owns the driver (lifespan), Strawberry serves /graphql."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from cross_web import HTTPException
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData

from auth.audit import AuditWriter
from auth.principal import ANONYMOUS
from auth.ratelimit import TokenBucketLimiter
from auth.sessions import Neo4jSessionStore
from auth.tokens import TokenValidator
from c360.http.console import console_routes
from c360.http.middleware import (
    BearerAuthMiddleware,
    BodyLimitMiddleware,
    SecurityHeadersMiddleware,
)
from c360.http.oidc import ConsoleSignIn
from core.errors import UNAVAILABLE_MESSAGE, ErrorCode
from core.settings import Environment, Settings, get_settings
from graph import migrate
from graph.driver import create_async_driver, create_sync_driver, database_answers, verify
from resolvers.context import Context
from schema import build_schema
from schema.errors import error_body

log = logging.getLogger("c360.api")
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")  # a caller's X-Request-ID is kept only if tame


_HTTP_CODES = {404: ErrorCode.NOT_FOUND, 413: ErrorCode.LIMIT_EXCEEDED}
NOT_AN_OBJECT = 'The request body must be a JSON object such as {"query": "{ me { roles } }"}.'


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view, answering every refusal as GraphQL-shaped JSON with a code, and
    every /graphql request within ``request_timeout_s`` (503 after it: the last bound, behind
    the graph's own timeouts, for any path that waits on something that does not answer)."""

    def __init__(self, *args: Any, request_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_timeout_s = request_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        response: Response
        try:
            async with asyncio.timeout(self.request_timeout_s):
                response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as exc:
            code = _HTTP_CODES.get(exc.status_code, ErrorCode.BAD_USER_INPUT)
            response = JSONResponse(error_body(code, exc.reason), status_code=exc.status_code)
        except TimeoutError:
            log.warning("request exceeded REQUEST_TIMEOUT_S=%s", self.request_timeout_s)
            message = UNAVAILABLE_MESSAGE
            response = JSONResponse(
                error_body(ErrorCode.SERVICE_UNAVAILABLE, message), status_code=503
            )
        await response(scope, receive, send)

    def parse_json(self, data: str | bytes) -> Any:
        """Malformed JSON (and non-UTF-8 bytes, and nesting beyond the parser's recursion
        limit) is the caller's error (400), never an INTERNAL."""
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
            raise HTTPException(400, "The request's JSON is not valid JSON in UTF-8.") from exc

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "POST" and "json" in (request.content_type or ""):
            body = await request.get_body()  # read once: starlette keeps it for the parse
            if body.lstrip()[:1] not in (b"{", b"["):  # a JSON string, number, true or null
                raise HTTPException(400, NOT_AN_OBJECT)
        data = await super().parse_http_body(request)
        for item in data if isinstance(data, list) else [data]:
            _refuse_lone_surrogates(item)
        return data

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


def _refuse_lone_surrogates(data: GraphQLRequestData) -> None:
    """JSON escapes can encode half a UTF-16 pair (\\ud800), which is no character: the graph
    driver cannot encode it. It is the caller's bad input, named by where it was."""
    for where, value in (
        ("query", data.query),
        ("operationName", data.operation_name),
        ("variables", data.variables),
    ):
        pending: list[Any] = [value]
        while pending:
            item = pending.pop()
            if isinstance(item, dict):
                pending.extend(item.keys())
                pending.extend(item.values())
            elif isinstance(item, list):
                pending.extend(item)
            elif isinstance(item, str) and _LONE_SURROGATE.search(item):
                raise HTTPException(400, f"{where} holds text that is not valid Unicode.")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _request_id(request: HTTPConnection) -> str:
    given = request.headers.get("x-request-id", "")
    return given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _migrate(settings: Settings) -> None:
    with create_sync_driver(settings) as driver:
        verify(driver, settings)
        migrate.apply(driver, database=settings.neo4j_database)


async def health_live(_: Request) -> JSONResponse:
    return JSONResponse({"status": "live"})


def metrics_endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    """Prometheus exposition of the process's metrics (operations, latency, errors, round
    trips). With METRICS_TOKEN set it takes ``Authorization: Bearer <METRICS_TOKEN>``; in
    production without it, /metrics is not served at all (404)."""
    token = settings.metrics_token.get_secret_value().encode() if settings.metrics_token else None
    served = token is not None or settings.environment is not Environment.PRODUCTION

    async def metrics(request: Request) -> Response:
        if not served:
            return JSONResponse(error_body(ErrorCode.NOT_FOUND, "Not found."), status_code=404)
        if token is not None:
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token):
                return JSONResponse(
                    error_body(ErrorCode.UNAUTHENTICATED, "/metrics needs its bearer token."),
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return metrics


async def health_ready(request: Request) -> JSONResponse:
    """Ready when the graph answers, and the audit trail's own database when it has one
    (AUDIT_DATABASE): without it every read fails closed."""
    driver = request.app.state.driver
    settings: Settings = request.app.state.settings
    checks = {"graph": driver.verify_connectivity}
    if settings.audit_database:
        audit_db = settings.audit_database
        checks["audit"] = lambda: database_answers(driver, audit_db)
    report: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check(), timeout=5)
        except Exception as exc:  # any failure to reach it means not ready
            log.warning("readiness check failed (%s): %s", name, type(exc).__name__)
            report[name] = "unreachable"
        else:
            report[name] = "ok"
    if "unreachable" in report.values():
        return JSONResponse(
            {"status": "unavailable", "code": "SERVICE_UNAVAILABLE", **report}, status_code=503
        )
    return JSONResponse({"status": "ready", **report})


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
        app.state.auditor = AuditWriter(
            app.state.driver,
            database=settings.audit_db,
            wait_timeout_s=settings.audit_wait_timeout_s,
        )
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
        request_timeout_s=settings.request_timeout_s,
    )
    if production and settings.metrics_token is None:
        log.warning("METRICS_TOKEN is not set: /metrics is not served in production")
    return Starlette(
        routes=[
            Route("/health/live", health_live),
            Route("/health/ready", health_ready),
            Route("/metrics", metrics_endpoint(settings)),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            *console_routes(settings, sign_in),
        ],
        middleware=[
            Middleware(SecurityHeadersMiddleware, settings=settings),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
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
