"""The local server's life cycle, against the real test server (stopped and started again).

Runs last among the graph tests of its module order; it leaves the server running.
"""

from __future__ import annotations

import time

from neo4j import RoutingControl
from starlette.testclient import TestClient

from c360.app import create_app
from graph import local_server
from tests.conftest import server_owner


def _wait_status(client: TestClient, code: int, timeout_s: float = 60) -> int:
    deadline = time.monotonic() + timeout_s
    status = -1
    while time.monotonic() < deadline:
        status = client.get("/health/ready").status_code
        if status == code:
            return status
        time.sleep(0.5)
    return status


def test_stop_start_round_trip_keeps_data_and_api_recovers(settings, clean_graph, auth_header):
    assert settings.uses_local_server, "this test manages the local server"
    db = settings.neo4j_database
    clean_graph.execute_query(
        "CREATE (:Customer {customer_id: 'SURVIVOR', name: '留存'})",
        database_=db,
        routing_control=RoutingControl.WRITE,
    )
    running = local_server.status(settings)
    assert running.running and running.version and running.version.startswith("5.26.")

    with TestClient(create_app(settings)) as client:
        assert client.get("/health/ready").status_code == 200

        assert local_server.stop(settings) is True
        assert local_server.status(settings).running is False
        assert local_server.stop(settings) is False  # stopping twice is harmless
        assert _wait_status(client, 503) == 503
        admin = auth_header("admin")
        body = client.post(
            "/graphql", json={"query": '{ customer(id: "SURVIVOR") { id } }'}, headers=admin
        ).json()
        assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"

        local_server.start(settings, stop_with_pid=server_owner(), download=False)
        assert local_server.status(settings).running is True
        # The same API process, not restarted, turns ready again.
        assert _wait_status(client, 200) == 200
        body = client.post(
            "/graphql", json={"query": '{ customer(id: "SURVIVOR") { name } }'}, headers=admin
        ).json()
        assert body["data"]["customer"]["name"] == "留存"
