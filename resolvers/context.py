"""The typed per-request context handed to every resolver."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from neo4j import AsyncDriver
from strawberry.dataloader import DataLoader

from auth import audit
from auth.masking import opaque_id
from auth.principal import Principal
from core.messages import DEFAULT_LANGUAGE, Reason, render_reason
from core.settings import Settings
from graph import session


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
    # The language reasons, alerts and notices are rendered in ("zh-CN" or "en"), negotiated
    # from Accept-Language by the app (core.messages.negotiate).
    lang: str = DEFAULT_LANGUAGE
    loaders: dict[Hashable, DataLoader[Any, Any]] = field(default_factory=dict)
    # Keys the opaque ids of people and things beyond the caller's scope: new per request, so an
    # id means nothing outside the answer it came in.
    opaque_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    def opaque_id(self, kind: str, value: str) -> str:
        """The id standing for the ``kind`` (CUSTOMER, HOUSEHOLD, ACCOUNT) ``value`` in this answer."""
        return opaque_id(self.opaque_key, f"{kind}\x00{value}")

    def text(self, reason: Reason | dict[str, Any]) -> str:
        """A reason ({code, params}) as text in this request's language."""
        return render_reason(reason, self.lang)

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
        retried when retryable (graph.session.read)."""
        self.round_trips += 1
        return await session.read(self.driver, self.settings.neo4j_database, work, **params)

    async def write(self, work, /, **params: Any) -> Any:
        """``work(tx, **params)`` in one write transaction, bounded like a read: a frozen or
        unreachable graph answers SERVICE_UNAVAILABLE within GRAPH_QUERY_TIMEOUT_S."""
        self.round_trips += 1
        return await session.write(self.driver, self.settings.neo4j_database, work, **params)

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
