"""Drivers (one async driver per process for the API, a sync one for the jobs), and the clear
error when the graph cannot be reached. Work runs through graph/session.py."""

from __future__ import annotations

from neo4j import (
    WRITE_ACCESS,
    AsyncDriver,
    AsyncGraphDatabase,
    Driver,
    GraphDatabase,
    NotificationMinimumSeverity,
)
from neo4j.exceptions import AuthError, ServiceUnavailable

from core.settings import Settings
from graph import fast_temporal
from graph.session import set_query_timeout

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


async def database_answers(driver: AsyncDriver, database: str) -> None:
    """Raise unless ``database`` accepts a write transaction now (BEGIN, then ROLLBACK: no
    query, nothing written). Readiness of the audit trail's database."""
    async with driver.session(database=database, default_access_mode=WRITE_ACCESS) as session:
        tx = await session.begin_transaction()
        await tx.rollback()


def create_async_driver(settings: Settings) -> AsyncDriver:
    """The API's driver. Every wait is bounded so a request answers SERVICE_UNAVAILABLE
    promptly when the graph is down, frozen or saturated: the connection attempt, the wait for
    a pooled connection, and (through :func:`graph.session.autocommit`) each read and audit write."""
    driver = AsyncGraphDatabase.driver(
        settings.bolt_uri,
        auth=_auth(settings),
        connection_timeout=min(settings.neo4j_connect_timeout_s, settings.graph_query_timeout_s),
        max_connection_pool_size=settings.graph_pool_size,
        connection_acquisition_timeout=settings.graph_acquisition_timeout_s,
        max_transaction_retry_time=settings.graph_query_timeout_s,
        notifications_min_severity=NotificationMinimumSeverity.OFF,
    )
    set_query_timeout(driver, settings.graph_query_timeout_s)
    return driver


def create_sync_driver(settings: Settings) -> Driver:
    """For command-line jobs (migrate, load, score): a session per thread (the load's writer
    runs several, etl/batches.py)."""
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
