"""Durable audit trail, failing closed: when the event cannot be written, the request fails.

Reads hand their event to the process's :class:`AuditWriter` (group commit). A write records its
event in the write's own transaction (:func:`record_with_write`): the two commit together or not
at all, which is why the audit trail must live in the graph's database (``Settings``)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from neo4j import WRITE_ACCESS, AsyncDriver, AsyncManagedTransaction
from neo4j.exceptions import DriverError, Neo4jError

from auth.principal import Principal
from core.errors import DomainError, ErrorCode
from graph.queries import audit as q
from graph.session import autocommit

log = logging.getLogger("c360.audit")


class AuditUnavailable(DomainError):
    code = ErrorCode.SERVICE_UNAVAILABLE

    def __init__(self) -> None:
        super().__init__("The audit trail cannot be written just now, so the request was refused.")


def new_event(
    *,
    principal: Principal,
    operation: str,
    customer_ids: Iterable[str],
    fields: Iterable[str],
    request_id: str,
    client_address: str | None,
) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4().hex,
        "at": dt.datetime.now(dt.UTC),
        "subject": principal.subject,
        "roles": sorted(r.value for r in principal.roles),
        "customer_ids": sorted(set(customer_ids)),
        "operation": operation,
        "fields": sorted(set(fields)),
        "request_id": request_id,
        "client_address": client_address,
    }


async def record_with_write(tx: AsyncManagedTransaction, event: dict[str, Any]) -> None:
    """Record a write's event in the write's own transaction; AuditUnavailable when it cannot be,
    which rolls the write back. Retryable failures propagate for the transaction to be retried."""
    try:
        await q.record_events(tx, [event])
    except Exception as exc:
        if isinstance(exc, Neo4jError | DriverError) and exc.is_retryable():
            raise
        log.error(
            "audit write failed (%s); refusing write %s of request %s",
            type(exc).__name__,
            event["operation"],
            event["request_id"],
        )
        raise AuditUnavailable() from exc


class AuditWriter:
    """Group commit of audit events, one per process (owned by the app's lifespan).

    Each request hands its event over and waits until the transaction holding it has committed:
    no read is answered before its event is durable, and any failure fails every request of
    that transaction (fail closed). Events that arrive while a transaction is in flight go
    together into the next one, so under load N concurrent reads cost one audit transaction
    instead of N; alone, a request's event is written at once, as before. Nothing outlives a
    request (the API stays stateless): the only state is events whose requests are waiting.
    """

    def __init__(
        self,
        driver: AsyncDriver,
        *,
        database: str,
        max_batch: int = 500,
        wait_timeout_s: float = 4.0,
    ) -> None:
        self.driver = driver
        self.database = database
        self.max_batch = max_batch
        self.wait_timeout_s = wait_timeout_s  # a stuck write refuses its reads, never holds them
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def record(
        self,
        *,
        principal: Principal,
        operation: str,
        customer_ids: Iterable[str],
        fields: Iterable[str],
        request_id: str,
        client_address: str | None,
    ) -> str:
        """Write one AuditEvent (with others in flight); return its id, or raise."""
        event = new_event(
            principal=principal,
            operation=operation,
            customer_ids=customer_ids,
            fields=fields,
            request_id=request_id,
            client_address=client_address,
        )
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((event, done))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        try:
            async with asyncio.timeout(self.wait_timeout_s):
                await done  # on timeout ``done`` is cancelled: the drain skips it
        except TimeoutError:
            raise AuditUnavailable() from None
        return str(event["event_id"])

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            try:
                events = [e for e, _ in batch]
                await autocommit(
                    self.driver, self.database, WRITE_ACCESS, q.record_events, events=events
                )
            except Exception as exc:  # any failure: these reads must not be answered unrecorded
                log.error(
                    "audit write failed (%s); refusing %d request(s): %s",
                    type(exc).__name__,
                    len(batch),
                    ", ".join(e["request_id"] for e, _ in batch[:5]),
                )
                for _, done in batch:
                    if not done.done():
                        done.set_exception(AuditUnavailable())
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def close(self) -> None:
        """At shutdown: let the transaction in flight finish."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
