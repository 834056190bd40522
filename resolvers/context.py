"""The typed per-request context handed to every resolver."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from neo4j import READ_ACCESS, AsyncDriver
from neo4j.exceptions import ServiceUnavailable, SessionExpired
from strawberry.dataloader import DataLoader

from auth import audit
from auth.masking import opaque_id
from auth.principal import Principal
from c360.errors import ServiceUnavailableError
from c360.settings import Settings
from graph.driver import autocommit


@dataclass
class Context:
    driver: AsyncDriver
    settings: Settings
    principal: Principal
    auditor: audit.AuditWriter
    request: Any = None
    response: Any = None
    request_id: str = ""
    client_address: str | None = None
    round_trips: int = 0
    loaders: dict[Hashable, DataLoader[Any, Any]] = field(default_factory=dict)
    # Keys the opaque ids of people and things beyond the caller's scope: new per request, so an
    # id means nothing outside the answer it came in.
    opaque_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    def opaque_id(self, kind: str, value: str) -> str:
        """The id standing for the ``kind`` (CUSTOMER, HOUSEHOLD, ACCOUNT) ``value`` in this answer."""
        return opaque_id(self.opaque_key, f"{kind}\x00{value}")

    def loader(
        self, key: Hashable, load: Callable[[list[Any]], Awaitable[Sequence[Any]]]
    ) -> DataLoader[Any, Any]:
        """This request's DataLoader for ``key`` (the operation and its arguments), made on first
        use: the loads one resolver level makes with the same key are one batch, one ``load``."""
        if key not in self.loaders:
            self.loaders[key] = DataLoader(load_fn=load)
        return self.loaders[key]

    async def read(self, work, /, **params: Any) -> Any:
        """``work(session, **params)`` as auto-commit reads, routed to readers on a cluster and
        retried when retryable (graph.driver.autocommit)."""
        self.round_trips += 1
        try:
            return await autocommit(
                self.driver, self.settings.neo4j_database, READ_ACCESS, work, **params
            )
        except (ServiceUnavailable, SessionExpired, OSError) as exc:
            raise ServiceUnavailableError() from exc

    async def write(self, work, /, **params: Any) -> Any:
        """``work(tx, **params)`` in one write transaction, bounded like a read: a frozen or
        unreachable graph answers SERVICE_UNAVAILABLE within GRAPH_QUERY_TIMEOUT_S."""
        self.round_trips += 1
        try:
            async with asyncio.timeout(self.settings.graph_query_timeout_s):
                async with self.driver.session(database=self.settings.neo4j_database) as session:
                    return await session.execute_write(work, **params)
        except (ServiceUnavailable, SessionExpired, OSError, TimeoutError) as exc:
            raise ServiceUnavailableError() from exc

    async def audit(
        self, operation: str, *, customer_ids: Iterable[str], fields: Iterable[str]
    ) -> str:
        """Record who read or changed what; raises (fail closed) when it cannot be recorded."""
        self.round_trips += 1
        return await self.auditor.record(
            principal=self.principal,
            operation=operation,
            customer_ids=customer_ids,
            fields=fields,
            request_id=self.request_id,
            client_address=self.client_address,
        )


async def all_rows(tx, *, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Transaction work for ``Context.read``/``write``: every record of one query, as dicts."""
    return [r.data() async for r in await tx.run(query, params)]


async def one_row(tx, *, query: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """Transaction work: the single record of one query, or None."""
    record = await (await tx.run(query, params)).single()
    return record.data() if record else None
