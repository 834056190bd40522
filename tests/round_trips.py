"""Counting the queries an app sends to the graph, on the wire side: the app's driver's sessions
become a counting subclass of the driver's own session class, so every query the API sends
(reads, audit writes) is counted, whoever sends it; nothing is replaced or stubbed."""

from __future__ import annotations

from neo4j import AsyncSession


class CountingSession(AsyncSession):
    queries: list[str] = []  # replaced per test

    async def run(self, query, parameters=None, **kwargs):  # type: ignore[override]
        CountingSession.queries.append(str(query))
        return await super().run(query, parameters, **kwargs)


def count_queries(driver) -> None:
    """The app's driver, its sessions counting: a subclass of its own class, made on the spot."""

    class CountingDriver(type(driver)):  # type: ignore[misc]
        def _session(self, session_config):
            return CountingSession(self._pool, session_config)

    driver.__class__ = CountingDriver
