"""One async driver per process, and the clear error when the graph cannot be reached."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from neo4j import (
    AsyncDriver,
    AsyncGraphDatabase,
    Driver,
    GraphDatabase,
    NotificationMinimumSeverity,
)
from neo4j.exceptions import AuthError, DriverError, Neo4jError, ServiceUnavailable

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
    with a managed transaction's retry: for the audit trail, one event too many.)"""
    for attempt in range(ATTEMPTS):
        try:
            async with driver.session(database=database, default_access_mode=access_mode) as s:
                return await work(s, **params)
        except (Neo4jError, DriverError) as exc:
            if attempt + 1 == ATTEMPTS or not exc.is_retryable():
                raise
            await asyncio.sleep(BACKOFF_S * 4**attempt)
    raise AssertionError("unreachable")


def create_async_driver(settings: Settings) -> AsyncDriver:
    return AsyncGraphDatabase.driver(
        settings.bolt_uri,
        auth=_auth(settings),
        connection_timeout=settings.neo4j_connect_timeout_s,
        max_connection_pool_size=100,
        # Fail fast while Neo4j is down so /health/ready and requests answer promptly.
        connection_acquisition_timeout=settings.neo4j_connect_timeout_s * 2,
        max_transaction_retry_time=settings.neo4j_connect_timeout_s * 2,
        notifications_min_severity=NotificationMinimumSeverity.OFF,
    )


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
