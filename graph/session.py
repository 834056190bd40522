"""The one door to Neo4j: every query of the API, the jobs and the session store runs here.

- API (async): :func:`read` (auto-commit reads routed to readers, retried, bounded),
  :func:`write` (one managed write transaction, bounded), both raising the domain's
  ServiceUnavailableError when the graph cannot serve; :func:`autocommit` (the audit's group
  commit, which answers its own failures) and :func:`managed` (the console's session store,
  whose HTTP edge answers the driver's errors) raise the driver's errors as they are;
- jobs (sync): :func:`rows` and :func:`run` (``execute_query`` with routing control), their
  lists sent as :class:`Rows` (:func:`quiet`);
- transaction work for any of them: :func:`all_rows`, :func:`one_row` (records as dicts whose
  Neo4j temporal values are Python's), :func:`native`;
- :func:`scoped`: a query about one customer, prefixed by the caller's row-scope fragment.

Cypher texts and transaction functions live in ``graph/queries/<aggregate>.py``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from neo4j import (
    READ_ACCESS,
    AsyncDriver,
    AsyncSession,
    Driver,
    Query,
    Record,
    RoutingControl,
)
from neo4j.exceptions import (
    ClientError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)
from neo4j.graph import Node, Path, Relationship

from core.errors import ServiceUnavailableError
from graph.queries.scope import SCOPE_MATCH, ScopeKind


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


def set_query_timeout(driver: AsyncDriver, timeout_s: float) -> None:
    """The bound of every read and write made through ``driver`` (set where it is made)."""
    _query_timeouts[driver] = timeout_s


async def read(
    driver: AsyncDriver, database: str, work: Callable[..., Awaitable[T]], /, **params: Any
) -> T:
    """``work(session, **params)`` as auto-commit reads routed to readers (:func:`autocommit`).
    A graph that cannot serve now (down, frozen, saturated) is ServiceUnavailableError."""
    try:
        return await autocommit(driver, database, READ_ACCESS, work, **params)
    except Exception as exc:
        if is_unavailable(exc) or isinstance(exc, OSError):
            raise ServiceUnavailableError() from exc
        raise


async def write(
    driver: AsyncDriver, database: str, work: Callable[..., Awaitable[T]], /, **params: Any
) -> T:
    """``work(tx, **params)`` in one managed write transaction (retried by the driver), bounded
    like a read: a frozen or unreachable graph ends it within the query timeout, as
    ServiceUnavailableError."""
    try:
        async with asyncio.timeout(_query_timeouts.get(driver, DEFAULT_QUERY_TIMEOUT_S)):
            async with driver.session(database=database) as session:
                return await session.execute_write(work, **params)
    except Exception as exc:
        if is_unavailable(exc) or isinstance(exc, OSError):
            raise ServiceUnavailableError() from exc
        raise


async def managed(
    driver: AsyncDriver,
    database: str,
    access_mode: str,
    work: Callable[..., Awaitable[T]],
    /,
    **params: Any,
) -> T:
    """``work(tx, **params)`` in one managed transaction of ``access_mode``, retried by the driver
    (the console's session store: few, small, must not be lost)."""
    async with driver.session(database=database, default_access_mode=access_mode) as session:
        if access_mode == READ_ACCESS:
            return await session.execute_read(work, **params)
        return await session.execute_write(work, **params)


class Rows(list[Any]):
    """A list parameter that the driver's debug line names by its length only.

    The driver formats every query's parameters for its debug line (``C: RUN``) before its
    logger decides whether to write it, so with debug logging off a loader batch of 10,000 rows
    cost as much CPU as packing it (neo4j 5.28 and 6.4 alike; the batches of a 10,000-customer
    load: 1.06 s of ``repr`` against 0.95 s of packing), on the writer thread that the load
    waits for. With debug logging on it wrote every customer's data in the log. The driver
    packs a ``Rows`` byte for byte as the list it is (tests/test_quiet_params.py)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{len(self)} rows>"


def quiet(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with each list in it a :class:`Rows` (the lists a job sends: batches, keys)."""
    return {k: Rows(v) if type(v) is list else v for k, v in params.items()}


def rows(driver: Driver, database: str, query: str, /, **params: Any) -> list[dict[str, Any]]:
    """A job's read: every record of ``query`` as a dict with Python temporal values."""
    records = driver.execute_query(
        query, quiet(params), database_=database, routing_control=RoutingControl.READ
    ).records
    return [record_dict(r) for r in records]


def run(driver: Driver, database: str, query: str, /, **params: Any) -> Any:
    """A job's write (one auto-managed transaction); the result summary's counters."""
    return driver.execute_query(
        query, quiet(params), database_=database, routing_control=RoutingControl.WRITE
    ).summary.counters


async def all_rows(tx: Any, *, query: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Transaction work: every record of one query, as dicts with Python temporal values."""
    return [record_dict(r) async for r in await tx.run(query, params)]


async def one_row(tx: Any, *, query: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
    """Transaction work: the single record of one query as a dict, or None."""
    record = await (await tx.run(query, params)).single()
    return record_dict(record) if record else None


def native(value: Any) -> Any:
    """``value`` as :meth:`neo4j.Record.data` gives it (a node as its properties, a relationship
    as (start, type, end), a path as a list) with Neo4j's temporal values, in maps and lists too,
    as Python's own. One pass, the plain types first: a page of 100 interactions holds some
    thousands of values, and the driver's own transformer tests each against abstract classes."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is dict:
        return {k: native(v) for k, v in value.items()}
    if kind is list:
        return [native(v) for v in value]
    if isinstance(value, Node):
        return {k: native(v) for k, v in value.items()}
    if isinstance(value, Relationship):
        return (native(value.start_node), type(value).__name__, native(value.end_node))
    if isinstance(value, Path):
        path = [native(value.start_node)]
        for rel, node in zip(value.relationships, value.nodes[1:], strict=True):
            path += [type(rel).__name__, native(node)]
        return path
    if hasattr(value, "to_native") and not isinstance(value, dt.date | dt.time):
        return value.to_native()
    return value


def record_dict(record: Record) -> dict[str, Any]:
    """A record as a dict, its values as :func:`native` gives them."""
    return {k: native(v) for k, v in record.items()}


def scoped(kind: ScopeKind, tail: str) -> str:
    """A query about ``$customer_id`` as the caller may see it: the scope fragment binds ``c`` and
    ``access`` (no row when out of scope), ``tail`` goes on from there."""
    return SCOPE_MATCH[kind] + tail
