"""``interactions(since:, until:)`` refuses a time without a time zone (issue 16, low list):
compared with the stored instants it matched nothing, so the timeline came back silently empty."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.write_graph import COMPLAINTS, RM, codes, load_write_graph, post

TIMELINE = """query($since: DateTime, $until: DateTime) { customer(id: "C000001") {
  interactions(since: $since, until: $until) { items { id } } } }"""


@pytest.fixture
def client(settings, driver):
    from c360.app import create_app

    load_write_graph(driver, settings.neo4j_database)
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.mark.parametrize("argument", ["since", "until"])
def test_a_time_without_a_zone_is_refused_naming_the_argument(client, auth_header, argument):
    aware = {"since": "2026-01-01T00:00:00+08:00", "until": "2099-01-01T00:00:00+08:00"}
    body = post(client, auth_header, TIMELINE, RM, **{argument: aware[argument]})
    assert body["data"]["customer"]["interactions"]["items"] == [{"id": COMPLAINTS["C000001"]}]

    body = post(client, auth_header, TIMELINE, RM, **{argument: "2026-01-01T00:00:00"})
    assert codes(body) == ["BAD_USER_INPUT"]
    message = body["errors"][0]["message"]
    assert message.startswith(f"{argument} ") and "time zone" in message
    assert body["data"]["customer"]["interactions"] is None
