"""GraphQL over HTTP to the letter: graphql-http's conformance audit against the served app, and
the media types (application/graphql-response+json when asked, application/json otherwise)."""

from __future__ import annotations

import pytest

from c360.app import create_app
from core.settings import Environment
from tests.live_server import served
from tests.node_clients import run_client


@pytest.fixture
def audited_settings(settings):
    """Development (the audit's queries use `__type`, which introspection-off environments
    refuse by design) and a rate bucket wide enough for its ~60 requests sent at once."""
    return settings.model_copy(
        update={
            "environment": Environment.DEVELOPMENT,
            "rate_limit_burst": 1000,
            "rate_limit_per_second": 1000.0,
        }
    )


def test_the_graphql_http_audit_passes_with_a_token(audited_settings, sample_graph, auth_header):
    token = auth_header("channel_service")["Authorization"].removeprefix("Bearer ")
    with served(create_app(audited_settings)) as base:
        report = run_client("graphql_http_audit.mjs", {"url": f"{base}/graphql", "token": token})
    failing = [f"{f['status']} {f['id']} {f['name']}: {f['reason']}" for f in report["failures"]]
    print("graphql-http audit:", report["counts"])
    assert report["counts"]["ok"] == report["total"] > 50, "\n".join(failing)
