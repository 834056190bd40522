"""The ASGI application: Starlette owns the driver (lifespan), Strawberry serves /graphql."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import OperationType as GraphQLOperationType
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
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from auth.audit import AuditWriter
from auth.enforce import allows
from auth.policy import Operation
from auth.principal import ANONYMOUS
from auth.ratelimit import TokenBucketLimiter
from auth.sessions import Neo4jSessionStore
from auth.tokens import TokenValidator
from c360.documents import Document, documents_in_javascript, operations, parsed
from c360.http.answers import (
    GRAPHQL_RESPONSE,
    JSON,
    NOT_ACCEPTABLE,
    Refusal,
    content_type,
    negotiate,
    refusal,
    refused,
    request_error_status,
)
from c360.http.console import console_routes
from c360.http.middleware import (
    BearerAuthMiddleware,
    BodyLimitMiddleware,
    SecurityHeadersMiddleware,
)
from c360.http.oidc import ConsoleSignIn
from c360.http.persisted import MAX_REGISTERED, PersistedDocuments
from core.errors import UNAVAILABLE_MESSAGE, ErrorCode
from core.messages import negotiate as negotiate_language
from core.settings import Environment, Settings, get_settings
from graph import migrate
from graph.driver import create_async_driver, create_sync_driver, database_answers, verify
from graph.queries import documents as document_queries
from graph.session import read
from resolvers.context import Context
from schema import SDL_PATH, build_schema
from schema.errors import error_body

log = logging.getLogger("c360.api")
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")  # a caller's X-Request-ID is kept only if tame


_HTTP_CODES = {404: ErrorCode.NOT_FOUND, 413: ErrorCode.LIMIT_EXCEEDED}
NOT_AN_OBJECT = 'The request body must be a JSON object such as {"query": "{ me { roles } }"}.'
NO_QUERY = 'The request holds no query: send {"query": "{ me { roles } }"} (or a persisted one).'
NOT_JSON = "Send the request body as JSON, with Content-Type: application/json."


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view speaking GraphQL over HTTP to the letter: the answer in the media
    type asked for (c360/http/answers.py), every refusal GraphQL-shaped JSON with a code,
    persisted operations (c360/http/persisted.py), and every /graphql request answered within
    ``request_timeout_s`` (503 after it: the last bound, behind the graph's own timeouts, for
    any path that waits on something that does not answer)."""

    def __init__(
        self,
        *args: Any,
        request_timeout_s: float,
        documents: PersistedDocuments,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.request_timeout_s = request_timeout_s
        self.documents = documents

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        media = negotiate(request.headers.get("accept"))
        request.state.media = media or JSON
        response: Response
        try:
            if media is None and not self._ide_page(request):
                raise Refusal(406, ErrorCode.BAD_USER_INPUT, NOT_ACCEPTABLE)
            async with asyncio.timeout(self.request_timeout_s):
                response = await self.run(request)
            if response.media_type == JSON:
                self._in_media_type(request, response)
        except Refusal as exc:
            response = exc.response(request.state.media)
        except HTTPException as exc:
            code = _HTTP_CODES.get(exc.status_code, ErrorCode.BAD_USER_INPUT)
            allow = {"Allow": "GET, POST"} if exc.status_code == 405 else None
            response = refusal(request.state.media, exc.status_code, code, exc.reason, allow)
        except TimeoutError:
            log.warning("request exceeded REQUEST_TIMEOUT_S=%s", self.request_timeout_s)
            response = refusal(
                request.state.media, 503, ErrorCode.SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE
            )
        await response(scope, receive, send)

    def _ide_page(self, request: Request) -> bool:
        return self.graphql_ide is not None and self.should_render_graphql_ide(
            self.request_adapter_class(request)
        )

    def should_render_graphql_ide(self, request: Any) -> bool:
        # Without an IDE (outside development) a GET without a query is a request without one.
        return self.graphql_ide is not None and super().should_render_graphql_ide(request)

    @staticmethod
    def _in_media_type(request: Request, response: Response) -> None:
        media = request.state.media
        response.headers["content-type"] = content_type(media)
        codes = getattr(request.state, "request_error", None)
        if media == GRAPHQL_RESPONSE and codes is not None:
            response.status_code = request_error_status(codes)

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        """A request error (nothing executed: parse, validation, variable coercion, the
        limits) has no ``data`` in graphql-response+json and is answered 400 there."""
        body = await super().process_result(request, result)
        if _is_request_error(result):
            request.state.request_error = [
                (error.extensions or {}).get("code", "") for error in result.errors or []
            ]
            if request.state.media == GRAPHQL_RESPONSE:
                body.pop("data", None)
        return body

    def encode_json(self, data: object) -> str:
        """The response body: orjson (UTF-8 as it is, not \\u escapes; NaN as null, never the
        invalid JSON ``NaN``), several times faster than the standard library on a large page.
        Text, as strawberry's streaming and websocket paths expect. An integer beyond 64 bits
        (orjson refuses it; the JSON scalar could carry one) goes through the standard library.
        """
        try:
            return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:
            return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    def parse_json(self, data: str | bytes) -> Any:
        """Malformed JSON (and non-UTF-8 bytes, and nesting beyond the parser's recursion
        limit) is the caller's error (400), never an INTERNAL."""
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
            raise HTTPException(400, "The request's JSON is not valid JSON in UTF-8.") from exc

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "POST":
            media_type, _ = parse_content_type(request.content_type or "")
            if media_type != "application/json":
                raise Refusal(415, ErrorCode.BAD_USER_INPUT, NOT_JSON)
            body = await request.get_body()  # read once: starlette keeps it for the parse
            if body.lstrip()[:1] not in (b"{", b"["):  # a JSON string, number, true or null
                raise HTTPException(400, NOT_AN_OBJECT)
        data = await super().parse_http_body(request)
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item.operation_name, str | None):
                raise Refusal(400, ErrorCode.BAD_USER_INPUT, "operationName must be a string.")
            _refuse_lone_surrogates(item)
        return data

    async def execute_single(  # noqa: PLR0917 (strawberry's signature)
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        caller = context.principal.subject
        resolved = await self.documents.resolve(request_data, caller=caller)
        if resolved is None:
            raise Refusal(400, ErrorCode.BAD_USER_INPUT, NO_QUERY)
        method = request_adapter.method
        _check_operation(resolved.query, request_data.operation_name, method)
        try:
            result = await self.schema.execute(
                resolved.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=OperationType.from_http(method),
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as exc:
            raise Refusal(400, ErrorCode.BAD_USER_INPUT, exc.as_http_error_reason()) from exc
        except InvalidOperationTypeError as exc:
            raise _mutation_by_get() from exc
        except MissingQueryError as exc:
            raise Refusal(400, ErrorCode.BAD_USER_INPUT, NO_QUERY) from exc
        if resolved.remember is not None and not _is_request_error(result):
            self.documents.remember(resolved.remember, resolved.query, caller=caller)
        return result

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
            lang=negotiate_language(request.headers.get("accept-language")),
        )


def _is_request_error(result: ExecutionResult) -> bool:
    """Nothing executed: errors, no data, and none of them at a field's path."""
    return (
        bool(result.errors)
        and result.data is None
        and all(error.path is None for error in result.errors or [])
    )


def _mutation_by_get() -> Refusal:
    return Refusal(
        405,
        ErrorCode.BAD_USER_INPUT,
        "Mutations are sent by POST; GET runs queries only.",
        {"Allow": "POST"},
    )


def _check_operation(query: str, operation_name: str | None, method: str) -> None:
    """Which operation runs, decided before anything runs: a document with several operations
    must name one (it is refused, never one of them run); a mutation never runs by GET. A
    document that does not parse is left to GraphQL, which answers it with its code."""
    document = parsed(query)
    if document is None:
        return
    ops = operations(document)
    if operation_name is None:
        if len(ops) > 1:
            names = ", ".join(op.name.value if op.name else "(anonymous)" for op in ops)
            raise Refusal(
                400,
                ErrorCode.BAD_USER_INPUT,
                f"The document holds {len(ops)} operations ({names}): name the one to run "
                "in operationName.",
            )
        chosen = ops[0] if ops else None
    else:
        chosen = next((op for op in ops if op.name and op.name.value == operation_name), None)
        if chosen is None:
            raise Refusal(
                400,
                ErrorCode.BAD_USER_INPUT,
                f"operationName {operation_name!r} names no operation of the document.",
            )
    if (
        chosen is not None
        and method == "GET"
        and chosen.operation is not GraphQLOperationType.QUERY
    ):
        raise _mutation_by_get()


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


async def graphql_not_found(request: Request) -> Response:
    return refused(request.scope, 404, ErrorCode.NOT_FOUND, "No such /graphql route.")


async def schema_sdl(request: Request) -> Response:
    """The committed SDL (schema/schema.graphql, the channels' contract) for the roles that may
    read it (auth/policy.py): where introspection is off, how a channel team gets the schema."""
    if request.method != "GET":
        message = "GET /graphql/schema.graphql reads the SDL."
        return refused(request.scope, 405, ErrorCode.BAD_USER_INPUT, message, {"Allow": "GET"})
    principal = getattr(request.state, "principal", ANONYMOUS)
    if not allows(principal, Operation.READ_SCHEMA):
        message = f"Your role may not perform {Operation.READ_SCHEMA.value}."
        return refused(request.scope, 403, ErrorCode.FORBIDDEN, message)
    return Response(SDL_PATH.read_text(encoding="utf-8"), media_type="text/plain; charset=utf-8")


def console_documents(settings: Settings, schema: Any) -> list[Document]:
    """The documents the built console sends, found in its bundle (console/dist/main.js): the
    console's queries change with it, so they are never listed by hand."""
    bundle = settings.console_dist_dir / "main.js"
    if not bundle.is_file():
        log.warning("no console bundle at %s: the console's documents are not trusted", bundle)
        return []
    return documents_in_javascript(bundle.read_text(encoding="utf-8"), schema)


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
        app.state.driver = app_state["driver"] = create_async_driver(settings)
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
        if settings.trusted_documents:
            console = await asyncio.to_thread(console_documents, settings, schema._schema)
            documents.add(console)
            try:
                loaded = await documents.load()
            except Exception as exc:  # the graph is down: the first miss loads them again
                log.warning("trusted documents not loaded at start-up: %s", type(exc).__name__)
                loaded = 0
            log.info("trusted documents: %d of the console, %d registered", len(console), loaded)
        try:
            yield
        finally:
            await app.state.auditor.close()
            await app.state.driver.close()

    development = settings.environment is Environment.DEVELOPMENT
    schema = build_schema(introspection=development)
    app_state: dict[str, Any] = {}

    async def load_registered() -> list[Document]:
        rows = await read(
            app_state["driver"],
            settings.neo4j_database,
            document_queries.registered,
            limit=MAX_REGISTERED,
        )
        return [Document(id=r["id"], name=r["name"], type=r["type"], body=r["body"]) for r in rows]

    documents = PersistedDocuments(trusted=settings.trusted_documents, loader=load_registered)
    graphql = GraphQLApp(
        schema,
        graphql_ide="graphiql" if development else None,
        allow_queries_via_get=True,
        request_timeout_s=settings.request_timeout_s,
        documents=documents,
    )
    if production and settings.metrics_token is None:
        log.warning("METRICS_TOKEN is not set: /metrics is not served in production")
    if production and not settings.trusted_documents:
        log.warning(
            "TRUSTED_DOCUMENTS is off in production: any valid operation runs, not only the "
            "registered ones"
        )
    return Starlette(
        routes=[
            Route("/health/live", health_live),
            Route("/health/ready", health_ready),
            Route("/metrics", metrics_endpoint(settings)),
            # Every method reaches the view: it answers 405 itself, as GraphQL-shaped JSON.
            Route("/graphql", graphql),
            Route("/graphql/schema.graphql", schema_sdl),
            Route("/graphql/{rest:path}", graphql_not_found),
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


# The cyclic garbage collector's first threshold for a serving process (CPython's default: 700).
# A 100-item answer allocates thousands of objects; with the default a young collection runs
# several times per request. Cycles still go, a little later.
SERVING_GC_THRESHOLD = 20_000


def serving_app(settings: Settings | None = None) -> Starlette:
    """The app of a serving process (``c360 serve``, each ``--workers`` process): created, then
    what exists by then (the schema, its types, the modules; not what the lifespan makes later:
    the driver, trusted documents) is frozen out of the garbage collector (``gc.freeze``): it
    lives as long as the process, and a full collection no longer walks it. Tests create apps
    with :func:`create_app` and are left with the interpreter's defaults."""
    app = create_app(settings)
    gc.collect()
    gc.freeze()
    gc.set_threshold(SERVING_GC_THRESHOLD, *gc.get_threshold()[1:])
    return app
