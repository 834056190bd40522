"""Python `gql` (PyPI), as a channel team uses it: against the served app with introspection off
(as everywhere but development), with the committed SDL as its schema, as the README says.

- the README's way (``Client(schema=<the committed SDL>)``) validates documents locally and
  runs them: the answer equals what the server sent on the wire;
- a document that does not fit the schema is refused by the client before anything is sent;
- ``fetch_schema_from_transport`` fails where introspection is off (why the README says not to
  use it), and the authenticated ``/graphql/schema.graphql`` route serves the same SDL.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from gql import Client, gql
from gql.transport.httpx import HTTPXAsyncTransport
from graphql import GraphQLError

from c360.app import create_app
from core.settings import Environment
from schema import SDL_PATH
from tests.live_server import served

PROFILE = """query Profile($id: ID!) { customer(id: $id) {
  id name city aum holdings { role account { id productType balance } }
  householdMembership { role household { id name } } } }"""


@pytest.fixture(scope="module")
def production_url(settings, sample_graph_module):
    assert settings.environment is not Environment.DEVELOPMENT  # introspection is off
    with served(create_app(settings)) as base:
        yield f"{base}/graphql"


@pytest.fixture(scope="module")
def sample_graph_module(settings, driver):
    from etl.sample import load_sample
    from tests.conftest import wipe

    wipe(driver, settings.neo4j_database)
    load_sample(driver, database=settings.neo4j_database)
    return driver


def _run(url: str, headers: dict, document: str, variables: dict, **client_args) -> dict:
    async def go() -> dict:
        transport = HTTPXAsyncTransport(url=url, headers=headers)
        async with Client(transport=transport, **client_args) as session:
            request = gql(document)
            request.variable_values = variables
            return await session.execute(request)

    return asyncio.run(go())


def test_gql_with_the_committed_sdl_runs_and_answers_as_the_server(production_url, auth_header):
    headers = auth_header("admin")
    sdl = SDL_PATH.read_text(encoding="utf-8")
    got = _run(production_url, headers, PROFILE, {"id": "C000001"}, schema=sdl)
    wire = httpx.post(
        production_url,
        json={"query": PROFILE, "variables": {"id": "C000001"}},
        headers=headers,
        timeout=30,
    ).json()
    assert "errors" not in wire, wire
    assert got == wire["data"]
    assert got["customer"]["id"] == "C000001" and got["customer"]["holdings"]


def test_gql_refuses_a_document_that_does_not_fit_the_schema_before_sending(
    production_url, auth_header
):
    sdl = SDL_PATH.read_text(encoding="utf-8")
    with pytest.raises(GraphQLError, match="noSuchField"):
        _run(
            production_url,
            auth_header("admin"),
            '{ customer(id: "C000001") { id noSuchField } }',
            {},
            schema=sdl,
        )


def test_without_introspection_the_sdl_comes_from_the_file_or_the_route(
    production_url, auth_header
):
    with pytest.raises(Exception, match="(?i)introspection"):
        _run(
            production_url,
            auth_header("admin"),
            "{ me { subject } }",
            {},
            fetch_schema_from_transport=True,
        )
    route = production_url + "/schema.graphql"
    assert httpx.get(route, timeout=30).status_code == 401
    served_sdl = httpx.get(route, headers=auth_header("admin"), timeout=30)
    assert served_sdl.status_code == 200
    assert served_sdl.text == SDL_PATH.read_text(encoding="utf-8")
