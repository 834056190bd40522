"""Test fixtures. Anything that touches the graph runs against a real Neo4j 5.26 server.

The tests use their own local server (port ``C360_TEST_NEO4J_PORT``, default 17687, data in
``.c360/neo4j-test``) and data folder (``.c360/test-home``, one per port, emptied when a run
starts) so they never wipe the demo graph or its identity model; the server is started when
missing and reused when running. ``C360_TEST_NEO4J_URI`` points the tests at another (throwaway!) server instead.
When the server cannot be had, the tests that need it fail, saying why. They never skip.

A server the tests start is tied to the pytest process: it stops when the run ends, however it
ends (``C360_TEST_KEEP_NEO4J=1`` keeps it running for the next run). The tests never download
Neo4j: ``make test`` prepares the runtime first (``c360 neo4j prepare``), so no test timeout runs
during the one-time download. Before any test runs, the session refuses ports that are held by a
process other than the test servers themselves, naming the port and the holder's pid.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from neo4j import Driver

from core.settings import PROJECT_ROOT, Environment, Settings
from graph import local_server, migrate
from graph.driver import GraphUnavailable, create_sync_driver, verify

BENCH_SMOKE_WORK = PROJECT_ROOT / ".c360" / "bench" / "ci-small"
# The tests' data folder (identity model, rejects), emptied when a run starts: a model trained
# by an earlier run (or by the demo, in .c360) would make a run here differ from a clean checkout.
TEST_PORT = int(os.environ.get("C360_TEST_NEO4J_PORT", "17687"))
TEST_HOME = (
    PROJECT_ROOT / ".c360" / ("test-home" if TEST_PORT == 17687 else f"test-home-{TEST_PORT}")
)
KEEP_SERVER = os.environ.get("C360_TEST_KEEP_NEO4J") == "1"


def server_owner() -> int | None:
    """The pid a server started by the tests stops with (None: it is kept running)."""
    return None if KEEP_SERVER else os.getpid()


def bench_port() -> int:
    return int(os.environ.get("C360_TEST_BENCH_PORT", "17697"))


def pytest_sessionstart(session: pytest.Session) -> None:
    """Ports held by foreign processes end the run before any test, naming port and holder."""
    shutil.rmtree(TEST_HOME, ignore_errors=True)
    test = _test_settings()
    bench = test.model_copy(
        update={"neo4j_local_port": bench_port(), "neo4j_data_dir": BENCH_SMOKE_WORK / "neo4j"}
    )
    for s in (test, bench):
        try:
            local_server.check_port(s)
        except local_server.LocalServerError as exc:
            raise pytest.UsageError(f"the test Neo4j cannot run: {exc}") from None


def _test_settings() -> Settings:
    uri = os.environ.get("C360_TEST_NEO4J_URI")
    home = PROJECT_ROOT / ".c360"
    port = int(os.environ.get("C360_TEST_NEO4J_PORT", "17687"))
    return Settings(
        environment=Environment.TEST,
        neo4j_uri=uri or None,
        neo4j_local_port=port,
        # One data directory per port: two runs on other ports never share (and lock) one.
        neo4j_data_dir=home / ("neo4j-test" if port == 17687 else f"neo4j-test-{port}"),
        neo4j_heap=os.environ.get("C360_TEST_NEO4J_HEAP", "1g"),
        neo4j_pagecache=os.environ.get("C360_TEST_NEO4J_PAGECACHE", "512m"),
        c360_home=TEST_HOME,
        # A shared 2-core test machine plans a cold query in seconds: the production bounds
        # (4 s, 15 s) are tested where they are the subject (test_frozen_graph.py).
        graph_query_timeout_s=30.0,
        audit_wait_timeout_s=30.0,
        request_timeout_s=90.0,
    )


@pytest.fixture(scope="session")
def settings() -> Iterator[Settings]:
    s = _test_settings()
    started_here = False
    if s.uses_local_server:
        try:
            started_here = not local_server.status(s).running
            local_server.start(s, stop_with_pid=server_owner(), download=False)
        except local_server.LocalServerError as exc:
            pytest.fail(f"The test Neo4j server could not be started: {exc}", pytrace=False)
    yield s
    if started_here and not KEEP_SERVER:
        local_server.stop(s)


@pytest.fixture(scope="session")
def driver(settings: Settings) -> Iterator[Driver]:
    drv = create_sync_driver(settings)
    try:
        verify(drv, settings)
    except GraphUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    yield drv
    drv.close()


def wipe(driver: Driver, database: str) -> None:
    # CALL ... IN TRANSACTIONS needs an auto-commit transaction, hence session.run.
    with driver.session(database=database) as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS").consume()


@pytest.fixture
def clean_graph(driver: Driver, settings: Settings) -> Driver:
    """An empty, migrated graph."""
    wipe(driver, settings.neo4j_database)
    migrate.apply(driver, database=settings.neo4j_database)
    return driver


@pytest.fixture
def sample_graph(clean_graph: Driver, settings: Settings) -> Driver:
    from etl.sample import load_sample

    load_sample(clean_graph, database=settings.neo4j_database)
    return clean_graph


@pytest.fixture
def api(settings: Settings, sample_graph: Driver):
    from starlette.testclient import TestClient

    from c360.app import create_app

    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="session")
def auth_header(settings: Settings):
    """``auth_header("relationship_manager", employee_id="E0001")`` -> an Authorization header
    with a real HS256 development token, issued the way ``c360 token`` issues it."""
    from auth.policy import Role
    from auth.tokens import DevTokenRequest, issue_dev_token

    def header(role: str = "admin", **claims: Any) -> dict[str, str]:
        token = issue_dev_token(settings, DevTokenRequest(role=Role(role), **claims))
        return {"Authorization": f"Bearer {token}"}

    return header


@pytest.fixture(scope="module")
def leak_api(settings: Settings, driver: Driver):
    """The API on the leak bank of tests/leak_graph.py, loaded once per test module."""
    from tests.leak_graph import leak_client

    with leak_client(settings, driver) as client:
        yield client


@pytest.fixture
def ask(leak_api, auth_header):
    """``ask(caller, query, variables)``: the JSON answer to ``caller`` on the leak bank."""
    from tests.leak_graph import post

    return lambda caller, query, variables: post(leak_api, auth_header, caller, query, variables)
