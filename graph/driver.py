"""One async driver per process, and the clear error when the graph cannot be reached."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from neo4j import (
    WRITE_ACCESS,
    AsyncDriver,
    AsyncGraphDatabase,
    AsyncSession,
    Driver,
    GraphDatabase,
    NotificationMinimumSeverity,
    Query,
)
from neo4j.exceptions import (
    AuthError,
    ClientError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)

from c360.settings import Settings
from graph import fast_temporal

fast_temporal.install()


class GraphUnavailable(RuntimeError):
    """The graph could not be reached. The message names the URI, the cause and what to do."""

    def __init__(self, settings: Settings, cause: BaseException) -> None:
        hint = (
            "start it with `c360 neo4j start` (or `make demo`)"
            if settings.uses_local_server
            else "check that the server at NEO4J_URI is up and reachable from here"
        )
        if isinstance(cause, AuthError):
            hint = "check NEO4J_USER and NEO4J_PASSWORD"
        reason = getattr(cause, "message", None) or str(cause) or type(cause).__name__
        super().__init__(
            f"Neo4j at {settings.bolt_uri} cannot be reached: {reason}. To fix: {hint}."
        )


def _auth(settings: Settings) -> tuple[str, str]:
    return settings.neo4j_user, settings.neo4j_password.get_secret_value()


class GraphTimeout(TimeoutError):
    """The graph did not answer within the query timeout, or no pooled connection came free
    within the acquisition timeout. A ``TimeoutError`` (hence an ``OSError``), so every caller
    that answers an unreachable graph with SERVICE_UNAVAILABLE answers this one alike."""


DEFAULT_QUERY_TIMEOUT_S = 4.0
# The query timeout of each API driver, set where the driver is made from the settings.
_query_timeouts: weakref.WeakKeyDictionary[AsyncDriver, float] = weakref.WeakKeyDictionary()
_POOL_EXHAUSTED = "failed to obtain a connection from the pool"


def is_pool_exhausted(exc: BaseException) -> bool:
    """The driver's connection-acquisition timeout (neo4j 5 raises it as a code-less
    ClientError; 6.0 plans a DriverError)."""
    return isinstance(exc, ClientError) and _POOL_EXHAUSTED in str(exc)


def is_unavailable(exc: BaseException) -> bool:
    """Errors that mean "the graph cannot serve this now", never the caller's or our bug."""
    return isinstance(exc, ServiceUnavailable | SessionExpired | TimeoutError) or (
        is_pool_exhausted(exc)
    )


class _TimedSession:
    """The session handed to ``work``: each query it runs carries the transaction timeout, so
    the server stops a query the client has given up on."""

    def __init__(self, session: AsyncSession, timeout_s: float) -> None:
        self._session = session
        self._timeout_s = timeout_s

    async def run(self, query: Any, parameters: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        if isinstance(query, str):
            query = Query(query, timeout=self._timeout_s)  # type: ignore[arg-type]
        return await self._session.run(query, parameters, **kwargs)


T = TypeVar("T")
ATTEMPTS = 3  # a query that failed retryably (leader change, deadlock, restart) is tried again
BACKOFF_S = 0.05  # then 0.2 s


async def autocommit(
    driver: AsyncDriver,
    database: str,
    access_mode: str,
    work: Callable[..., Awaitable[T]],
    /,
    **params: Any,
) -> T:
    """``work(session, **params)``, its queries run as auto-commit transactions (routed by
    ``access_mode`` on a cluster), all of it tried again a few times on errors the driver calls
    retryable.

    Not a managed transaction: that costs three Bolt round trips (BEGIN, RUN, COMMIT) where an
    auto-commit query costs one. The API's reads gain nothing from the transaction (Neo4j reads
    are read-committed either way) and its one write, the audit, is a single query; ``work``
    only calls ``session.run`` and reads the results, so it serves sessions and transactions.
    (A retried write whose first commit succeeded but whose answer was lost is stored twice, as
    with a managed transaction's retry: for the audit trail, one event too many.)

    Bounded: all attempts together end within the driver's query timeout, each query carries it
    as its transaction timeout, and a connection that does not come free within the acquisition
    timeout ends it too; both raise :class:`GraphTimeout`. Without a client-side bound a frozen
    server (a stopped process, a dead network path) holds the request forever: the driver has
    no read timeout of its own."""
    timeout_s = _query_timeouts.get(driver, DEFAULT_QUERY_TIMEOUT_S)
    try:
        async with asyncio.timeout(timeout_s):
            for attempt in range(ATTEMPTS):
                try:
                    async with driver.session(
                        database=database, default_access_mode=access_mode
                    ) as s:
                        return await work(_TimedSession(s, timeout_s), **params)
                except (Neo4jError, DriverError) as exc:
                    if is_pool_exhausted(exc):
                        raise GraphTimeout("no graph connection came free in time") from exc
                    if attempt + 1 == ATTEMPTS or not exc.is_retryable():
                        raise
                    await asyncio.sleep(BACKOFF_S * 4**attempt)
    except TimeoutError as exc:
        if isinstance(exc, GraphTimeout):
            raise
        raise GraphTimeout(f"the graph did not answer within {timeout_s:g} s") from exc
    raise AssertionError("unreachable")


async def database_answers(driver: AsyncDriver, database: str) -> None:
    """Raise unless ``database`` accepts a write transaction now (BEGIN, then ROLLBACK: no
    query, nothing written). Readiness of the audit trail's database."""
    async with driver.session(database=database, default_access_mode=WRITE_ACCESS) as session:
        tx = await session.begin_transaction()
        await tx.rollback()


def create_async_driver(settings: Settings) -> AsyncDriver:
    """The API's driver. Every wait is bounded so a request answers SERVICE_UNAVAILABLE
    promptly when the graph is down, frozen or saturated: the connection attempt, the wait for
    a pooled connection, and (through :func:`autocommit`) each read and audit write."""
    driver = AsyncGraphDatabase.driver(
        settings.bolt_uri,
        auth=_auth(settings),
        connection_timeout=min(settings.neo4j_connect_timeout_s, settings.graph_query_timeout_s),
        max_connection_pool_size=settings.graph_pool_size,
        connection_acquisition_timeout=settings.graph_acquisition_timeout_s,
        max_transaction_retry_time=settings.graph_query_timeout_s,
        notifications_min_severity=NotificationMinimumSeverity.OFF,
    )
    _query_timeouts[driver] = settings.graph_query_timeout_s
    return driver


def create_sync_driver(settings: Settings) -> Driver:
    """For command-line jobs (migrate, load, score), which run in one thread."""
    return GraphDatabase.driver(
        settings.bolt_uri,
        auth=_auth(settings),
        connection_timeout=settings.neo4j_connect_timeout_s,
        # Schema-less reads of properties a graph does not have yet are expected, not warnings.
        notifications_min_severity=NotificationMinimumSeverity.OFF,
    )


def verify(driver: Driver, settings: Settings) -> None:
    try:
        driver.verify_connectivity()
    except (ServiceUnavailable, AuthError, OSError) as exc:
        raise GraphUnavailable(settings, exc) from exc


async def averify(driver: AsyncDriver, settings: Settings) -> None:
    try:
        await driver.verify_connectivity()
    except (ServiceUnavailable, AuthError, OSError) as exc:
        raise GraphUnavailable(settings, exc) from exc
