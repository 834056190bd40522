"""Abuse limits, authentication at the HTTP edge, rate limiting, CORS and security headers."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from types import SimpleNamespace

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from c360.app import create_app
from c360.http.middleware import SecurityHeadersMiddleware
from core.settings import PROJECT_ROOT, Environment

Q = '{ customer(id: "C000001") { id } }'


def _codes(resp) -> list[str]:
    return [e["extensions"]["code"] for e in resp.json().get("errors", [])]


def _timed_post(api, query, headers):
    started = time.perf_counter()
    resp = api.post("/graphql", json={"query": query}, headers=headers)
    return resp, time.perf_counter() - started


def test_depth_bomb_refused_before_execution(api, auth_header):
    deep = "household { " * 30 + "id" + " }" * 30
    resp, _ = _timed_post(api, f'{{ customer(id: "C000001") {{ {deep} }} }}', auth_header())
    assert "LIMIT_EXCEEDED" in _codes(resp)
    assert resp.json()["data"] is None


def test_alias_bomb_refused_before_execution(api, auth_header):
    aliases = " ".join(f'a{i}: customer(id: "C000001") {{ id }}' for i in range(200))
    resp, _ = _timed_post(api, f"{{ {aliases} }}", auth_header())
    assert _codes(resp) == ["LIMIT_EXCEEDED"]
    assert resp.json().get("data") is None


def test_token_bomb_refused_before_execution(api, auth_header):
    # No timing here (speed lives in `make bench`): refused by the token limit, nothing executed.
    fields = " ".join(["id"] * 5000)
    resp, _ = _timed_post(api, f'{{ customer(id: "C000001") {{ {fields} }} }}', auth_header())
    assert _codes(resp) == ["LIMIT_EXCEEDED"]
    assert resp.json().get("data") is None


def test_parsed_documents_are_cached_and_errors_keep_their_code(api, auth_header):
    """The parse cache: a repeated document is answered alike, and one that does not parse is
    refused with its code every time (it is never cached)."""
    from schema.extensions import _parse

    hits = _parse.cache_info().hits
    broken = '{ customer(id: "C000001") { id '
    bomb = '{ customer(id: "C000001") { ' + " ".join(["id"] * 5000) + " } }"
    for _ in range(2):
        ok = api.post("/graphql", json={"query": Q}, headers=auth_header()).json()
        assert "errors" not in ok or ok["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        resp = api.post("/graphql", json={"query": broken}, headers=auth_header())
        assert (
            _codes(resp) == ["BAD_USER_INPUT"]
            and "Syntax Error" in resp.json()["errors"][0]["message"]
        )
        resp = api.post("/graphql", json={"query": bomb}, headers=auth_header())
        assert _codes(resp) == ["LIMIT_EXCEEDED"]
    assert _parse.cache_info().hits > hits


def test_page_size_is_capped(api, auth_header):
    resp = api.post(
        "/graphql",
        json={"query": "{ auditEvents(first: 100000) { edges { cursor } } }"},
        headers=auth_header("auditor"),
    )
    assert _codes(resp) == ["BAD_USER_INPUT"]
    assert resp.json()["errors"][0]["message"].startswith("first must be between 1 and")


def test_introspection_is_off_outside_development(api, auth_header):
    resp = api.post(
        "/graphql", json={"query": "{ __schema { types { name } } }"}, headers=auth_header()
    )
    assert set(_codes(resp)) == {"BAD_USER_INPUT"}
    assert "introspection has been disabled" in resp.json()["errors"][0]["message"]
    assert resp.json().get("data") is None


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Basic YWRtaW46YWRtaW4=",
        "Bearer",
        "Bearer not.a.token",
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4Iiwicm9sZXMiOlsiYWRtaW4iXX0.",
    ],
)
def test_missing_or_bad_token_is_401_with_one_generic_message(api, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    resp = api.post("/graphql", json={"query": Q}, headers=headers)
    assert resp.status_code == 401
    assert resp.json() == {
        "data": None,
        "errors": [
            {
                "message": "Missing or invalid bearer token.",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ],
    }
    assert resp.headers["www-authenticate"].startswith("Bearer")


def test_expired_dev_token_is_refused(api, settings):
    from auth.policy import Role
    from auth.tokens import DevTokenRequest, issue_dev_token

    old = issue_dev_token(settings, DevTokenRequest(role=Role.ADMIN), now=int(time.time()) - 7200)
    resp = api.post("/graphql", json={"query": Q}, headers={"Authorization": f"Bearer {old}"})
    assert resp.status_code == 401


def test_rate_limit_trips_and_recovers(settings, sample_graph, auth_header, monkeypatch):
    import auth.ratelimit

    # the bucket's clock moves only when the test says: on a loaded machine, five requests can
    # take the two seconds that refill a token
    clock = [1000.0]
    monkeypatch.setattr(auth.ratelimit, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    limited = settings.model_copy(update={"rate_limit_burst": 3, "rate_limit_per_second": 0.5})
    admin, other = auth_header("admin"), auth_header("channel_service")
    with TestClient(create_app(limited)) as client:
        statuses = [
            client.post("/graphql", json={"query": Q}, headers=admin).status_code for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        resp = client.post("/graphql", json={"query": Q}, headers=admin)
        assert resp.status_code == 429
        assert _codes(resp) == ["RATE_LIMITED"]
        retry_after = int(resp.headers["retry-after"])
        assert retry_after == 2  # (no token left, half a token a second; the clock stands still)
        # Another subject has its own bucket.
        assert client.post("/graphql", json={"query": Q}, headers=other).status_code == 200
        clock[0] += retry_after - 0.5  # (binary fractions: the bucket's sums are exact)
        assert client.post("/graphql", json={"query": Q}, headers=admin).status_code == 429
        clock[0] += 0.5
        assert client.post("/graphql", json={"query": Q}, headers=admin).status_code == 200


def test_security_headers_everywhere(api, auth_header):
    for resp in (
        api.get("/health/live"),
        api.post("/graphql", json={"query": Q}, headers=auth_header()),
        api.post("/graphql", json={"query": Q}),  # 401 too
    ):
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
        assert resp.headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in resp.headers  # not in test
    assert (
        api.post("/graphql", json={"query": Q}, headers=auth_header()).headers["cache-control"]
        == "no-store"
    )


def test_hsts_in_production(settings):
    prod = settings.model_copy(update={"environment": Environment.PRODUCTION})
    app = Starlette(routes=[Route("/x", lambda r: PlainTextResponse("ok"))])
    with TestClient(SecurityHeadersMiddleware(app, settings=prod)) as client:
        assert "max-age=" in client.get("/x").headers["strict-transport-security"]


def test_cors_only_for_configured_origins(settings, sample_graph, auth_header):
    configured = settings.model_copy(update={"cors_origins": ["https://rm.bank.example"]})
    with TestClient(create_app(configured)) as client:
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        }
        ok = client.options("/graphql", headers={"Origin": "https://rm.bank.example", **preflight})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://rm.bank.example"
        bad = client.options("/graphql", headers={"Origin": "https://evil.example", **preflight})
        assert "access-control-allow-origin" not in bad.headers
        simple = client.post(
            "/graphql",
            json={"query": Q},
            headers={"Origin": "https://evil.example", **auth_header()},
        )
        assert "access-control-allow-origin" not in simple.headers


def test_graphiql_in_development_only_and_without_csp(settings, sample_graph):
    dev = settings.model_copy(update={"environment": Environment.DEVELOPMENT})
    with TestClient(create_app(dev)) as client:
        page = client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "graphiql" in page.text.lower()
        assert "content-security-policy" not in page.headers
        assert page.headers["x-frame-options"] == "DENY"
        # The API itself still needs a token in development, however the query is spelled.
        assert client.post("/graphql", json={"query": Q}).status_code == 401
        html = {"Accept": "text/html"}
        for qs in ("query=%7B__typename%7D", "q%75ery=%7B__typename%7D"):
            assert client.get(f"/graphql?{qs}", headers=html).status_code == 401
    with TestClient(create_app(settings)) as client:  # test environment: no IDE
        assert client.get("/graphql", headers={"Accept": "text/html"}).status_code == 401


def test_failed_token_attempts_are_throttled_per_client(settings, sample_graph):
    limited = settings.model_copy(update={"rate_limit_burst": 3, "rate_limit_per_second": 0.5})
    with TestClient(create_app(limited)) as client:
        bad = {"Authorization": "Bearer not.a.token"}
        statuses = [
            client.post("/graphql", json={"query": Q}, headers=bad).status_code for _ in range(4)
        ]
    assert statuses == [401, 401, 401, 429]


def test_websockets_to_graphql_are_refused(api):
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect), api.websocket_connect("/graphql"):
        pass


# -- issue 16: the edges -------------------------------------------------------------------


def test_client_chosen_operation_names_are_a_bounded_metric_label(
    settings, sample_graph, auth_header
):
    capped = settings.model_copy(update={"metrics_max_operations": 3})
    prefix = f"Probe{uuid.uuid4().hex[:8]}"
    with TestClient(create_app(capped)) as client:
        for i in range(10):
            query = f"query {prefix}N{i} {{ me {{ subject }} }}"
            resp = client.post("/graphql", json={"query": query}, headers=auth_header())
            assert resp.json()["data"]["me"]["subject"]
        exposition = client.get("/metrics").text
    labels = set(re.findall(r'operation="([^"]*)"', exposition))
    assert len({name for name in labels if name.startswith(prefix)}) <= 3
    assert "other" in labels


def test_metrics_need_their_token_and_are_not_served_in_production_without_one(
    settings, sample_graph
):
    token = uuid.uuid4().hex
    guarded = settings.model_copy(update={"metrics_token": SecretStr(token)})
    with TestClient(create_app(guarded)) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and "c360_graphql_requests_total" in ok.text
    prod = settings.model_copy(update={"environment": Environment.PRODUCTION})
    with TestClient(create_app(prod)) as client:
        resp = client.get("/metrics")
        assert resp.status_code == 404 and "c360_" not in resp.text


def test_no_did_you_mean_suggestions_where_introspection_is_off(
    settings, sample_graph, auth_header
):
    typos = [
        '{ customer(id: "C000001") { nam } }',  # a field
        '{ customer(id: "C000001") { interactions(frist: 1) { totalCount } } }',  # an argument
        '{ customer(id: "C000001") { interactions(channels: [VISITT]) { totalCount } } }',
    ]
    dev = settings.model_copy(update={"environment": Environment.DEVELOPMENT})
    for app_settings, suggested in ((settings, False), (dev, True)):
        with TestClient(create_app(app_settings)) as client:
            for query in typos:
                resp = client.post("/graphql", json={"query": query}, headers=auth_header())
                [error] = resp.json()["errors"]
                assert error["extensions"]["code"] == "BAD_USER_INPUT"
                assert ("Did you mean" in error["message"]) is suggested, error["message"]


def test_readiness_checks_the_audit_database(settings, sample_graph):
    broken = settings.model_copy(update={"audit_database": "no-such-audit-db"})
    with TestClient(create_app(broken)) as client:
        resp = client.get("/health/ready")
    assert resp.status_code == 503
    assert resp.json() == {
        "status": "unavailable",
        "code": "SERVICE_UNAVAILABLE",
        "graph": "ok",
        "audit": "unreachable",
    }
    own = settings.model_copy(update={"audit_database": settings.neo4j_database})
    with TestClient(create_app(own)) as client:
        assert client.get("/health/ready").json() == {
            "status": "ready",
            "graph": "ok",
            "audit": "ok",
        }


def test_a_token_whose_sub_is_not_a_string_is_refused(api, settings):
    """`sub` is a string (RFC 7519); 12345 or ["x"] would name a subject nobody issued."""
    from authlib.jose import JsonWebToken

    now = int(time.time())
    for sub in (12345, ["admin"], {"id": "x"}, ""):
        claims = {
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
            "sub": sub,
            "roles": ["admin"],
            "iat": now,
            "exp": now + 600,
        }
        token = JsonWebToken(["HS256"]).encode({"alg": "HS256"}, claims, settings.hs256_secret)
        resp = api.post(
            "/graphql", json={"query": Q}, headers={"Authorization": f"Bearer {token.decode()}"}
        )
        assert resp.status_code == 401, sub


def test_expected_errors_are_logged_as_one_line_without_traceback(api, auth_header, caplog):
    caplog.set_level(logging.INFO)
    admin = auth_header()
    api.post("/graphql", json={"query": '{ customer(id: "C999999") { id } }'}, headers=admin)
    api.post("/graphql", json={"query": "{ customer(id: "}, headers=admin)
    api.post("/graphql", json={"query": '{ customer(id: "C000001") { nope } }'}, headers=admin)
    aliases = " ".join(f'a{i}: customer(id: "C000001") {{ id }}' for i in range(40))
    api.post("/graphql", json={"query": f"{{ {aliases} }}"}, headers=admin)
    logged = [r for r in caplog.records if r.name in ("strawberry.execution", "c360.graphql")]
    assert len(logged) >= 4
    for record in logged:
        assert record.exc_info is None and record.stack_info is None, record.getMessage()
        assert "\n" not in record.getMessage()
    for code in ("NOT_FOUND", "BAD_USER_INPUT", "LIMIT_EXCEEDED"):
        assert any(code in r.getMessage() for r in logged), code


# -- `c360 serve` itself: its HTTP server ---------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def c360_serve(settings, sample_graph):
    """`c360 serve` from this checkout, on a free port, against the test graph."""
    port = _free_port()
    env = {
        **os.environ,
        "C360_ENV": "test",
        "NEO4J_LOCAL_PORT": str(settings.neo4j_local_port),
        "API_HEADER_TIMEOUT_S": "1",
    }
    env.pop("NEO4J_URI", None)
    if settings.neo4j_uri:
        env["NEO4J_URI"] = settings.neo4j_uri
    command = [
        sys.executable,
        "-c",
        "from c360.cli import app; app()",
        "serve",
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, "c360 serve exited"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, "c360 serve did not start"
            time.sleep(0.3)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def test_serve_closes_connections_whose_headers_lag(c360_serve):
    """A slow-headers client (or one that connects and says nothing) holds no connection longer
    than API_HEADER_TIMEOUT_S (1 s here)."""
    for opening in (b"GET /health/live HTTP/1.1\r\nHost: x\r\n", b""):
        with socket.create_connection(("127.0.0.1", c360_serve), timeout=10) as sock:
            sock.sendall(opening)
            started = time.perf_counter()
            try:
                closed = sock.recv(1024) == b""
            except ConnectionResetError:
                closed = True
            except TimeoutError:
                closed = False
            assert closed and time.perf_counter() - started < 5, opening


def test_serve_does_not_believe_x_forwarded_for_by_default(
    c360_serve, auth_header, settings, sample_graph
):
    """The audit trail's client address is the peer's, unless TRUSTED_PROXIES names it."""
    request_id = f"xff-{uuid.uuid4().hex}"
    resp = httpx.post(
        f"http://127.0.0.1:{c360_serve}/graphql",
        json={"query": Q},
        headers={**auth_header(), "X-Forwarded-For": "203.0.113.7", "X-Request-ID": request_id},
        timeout=60,  # (the first request to a fresh server; httpx's default is 5 s)
    )
    assert resp.json()["data"]["customer"]["id"] == "C000001"
    [record] = sample_graph.execute_query(
        "MATCH (a:AuditEvent {request_id: $rid}) RETURN a.client_address AS address",
        rid=request_id,
        database_=settings.audit_db,
    ).records
    assert record["address"] == "127.0.0.1"


# -- issue 18: every answer of /graphql is GraphQL-shaped JSON with a code, in the media type asked


def _refusal_cases(auth: dict[str, str]) -> list[tuple[str, dict, int, str]]:
    """(case, request for TestClient.request, status, code): every refusal /graphql gives
    before (or instead of) running an operation."""
    json_headers = {**auth, "Content-Type": "application/json"}
    mutation = "mutation { __typename }"
    return [
        ("no token", {"method": "POST", "json": {"query": Q}}, 401, "UNAUTHENTICATED"),
        (
            "a bad token",
            {"method": "POST", "json": {"query": Q}, "headers": {"Authorization": "Bearer x.y.z"}},
            401,
            "UNAUTHENTICATED",
        ),
        ("PUT", {"method": "PUT", "json": {"query": Q}, "headers": auth}, 405, "BAD_USER_INPUT"),
        (
            "a mutation by GET",
            {"method": "GET", "params": {"query": mutation}, "headers": auth},
            405,
            "BAD_USER_INPUT",
        ),
        (
            "not JSON (text/plain)",
            {"method": "POST", "content": Q, "headers": {**auth, "Content-Type": "text/plain"}},
            415,
            "BAD_USER_INPUT",
        ),
        (
            "no content type",
            {"method": "POST", "content": b'{"query": "{ me { subject } }"}', "headers": auth},
            415,
            "BAD_USER_INPUT",
        ),
        (
            "malformed JSON",
            {"method": "POST", "content": b'{"query": ', "headers": json_headers},
            400,
            "BAD_USER_INPUT",
        ),
        ("an empty body", {"method": "POST", "headers": json_headers}, 400, "BAD_USER_INPUT"),
        (
            "no query",
            {"method": "POST", "json": {"qeury": Q}, "headers": auth},
            400,
            "BAD_USER_INPUT",
        ),
        ("GET without a query", {"method": "GET", "headers": auth}, 400, "BAD_USER_INPUT"),
        (
            "a query that is not a string",
            {"method": "POST", "json": {"query": ["x"]}, "headers": auth},
            400,
            "BAD_USER_INPUT",
        ),
        (
            "an operationName that is not a string",
            {"method": "POST", "json": {"query": Q, "operationName": {"a": 1}}, "headers": auth},
            400,
            "BAD_USER_INPUT",
        ),
        (
            "several operations, none named",
            {
                "method": "POST",
                "json": {"query": "query A { me { subject } } mutation B { __typename }"},
                "headers": auth,
            },
            400,
            "BAD_USER_INPUT",
        ),
        (
            "an operationName the document lacks",
            {"method": "POST", "json": {"query": Q, "operationName": "Nope"}, "headers": auth},
            400,
            "BAD_USER_INPUT",
        ),
        (
            "an Accept header it cannot answer",
            {"method": "POST", "json": {"query": Q}, "headers": {**auth, "Accept": "text/csv"}},
            406,
            "BAD_USER_INPUT",
        ),
        (
            "a /graphql route that does not exist",
            {"method": "GET", "url": "/graphql/nope", "headers": auth},
            404,
            "NOT_FOUND",
        ),
        (
            "the SDL for a role that may not read it",
            {
                "method": "GET",
                "url": "/graphql/schema.graphql",
                "headers": {"Authorization": "ROLE:customer"},
            },
            403,
            "FORBIDDEN",
        ),
    ]


@pytest.mark.parametrize("accept", [None, "application/json", "application/graphql-response+json"])
def test_every_refusal_is_graphql_shaped_json_with_a_code(api, auth_header, accept):
    for case, request, status, code in _refusal_cases(auth_header()):
        request = {"url": "/graphql", **request}
        headers = dict(request.pop("headers", {}))
        if headers.get("Authorization", "").startswith("ROLE:"):
            headers = auth_header(headers["Authorization"][5:], customer_id="C000001")
        if accept is not None and "Accept" not in headers:
            headers["Accept"] = accept
        resp = api.request(headers=headers, **request)
        assert resp.status_code == status, (case, resp.status_code, resp.text[:300])
        body = resp.json()
        assert [e["extensions"]["code"] for e in body["errors"]] == [code], case
        assert body["errors"][0]["message"], case
        expected = "application/graphql-response+json" if accept and "graphql" in accept else None
        if status == 406 or expected is None:
            assert resp.headers["content-type"] == "application/json", case
        else:
            assert resp.headers["content-type"].startswith(expected), case
            assert "data" not in body, case
        if status == 405:
            assert resp.headers["allow"] in ("POST", "GET, POST"), case


def test_several_operations_never_run_one_of_them(api, auth_header, sample_graph):
    """A document with two operations and no operationName is refused before anything runs: the
    mutation in it writes nothing."""
    rm = auth_header("relationship_manager", employee_id="E0001")
    key = str(uuid.uuid4())
    mutation = (
        f'mutation Log {{ logInteraction(input: {{clientMutationId: "{key}", '
        'customerId: "C000001", channel: VISIT, summary: "two operations"}) { created } }'
    )
    resp = api.post(
        "/graphql", json={"query": f"{mutation} query Me {{ me {{ subject }} }}"}, headers=rm
    )
    assert resp.status_code == 400 and _codes(resp) == ["BAD_USER_INPUT"]
    assert "Log, Me" in resp.json()["errors"][0]["message"]
    written = sample_graph.execute_query(
        "MATCH (i:Interaction {summary: 'two operations'}) RETURN count(i) AS n"
    ).records[0]["n"]
    assert written == 0


def test_media_types_of_graphql_answers(api, auth_header):
    """graphql-response+json: a request error is 400 without data, a field error 200 with data;
    application/json (and no Accept): 200 with data as before."""
    admin = auth_header()
    graphql_response = "application/graphql-response+json"
    cases = [
        ("{ me { subject ", 400),  # parse
        ('{ customer(id: "C000001") { nope } }', 400),  # validation
    ]
    for query, status in cases:
        resp = api.post(
            "/graphql", json={"query": query}, headers={**admin, "Accept": graphql_response}
        )
        assert resp.status_code == status and "data" not in resp.json(), query
        assert resp.headers["content-type"] == f"{graphql_response}; charset=utf-8"
        plain = api.post("/graphql", json={"query": query}, headers=admin)
        assert plain.status_code == 200 and plain.json()["data"] is None
        assert plain.headers["content-type"] == "application/json"
    coercion = {"query": "query($id: ID!) { customer(id: $id) { id } }", "variables": {"id": None}}
    resp = api.post("/graphql", json=coercion, headers={**admin, "Accept": graphql_response})
    assert resp.status_code == 400 and "data" not in resp.json()
    # A field error (a customer out of reach): executed, 200 with data in both.
    missing = '{ customer(id: "C999999") { id } }'
    for accept in (graphql_response, "application/json"):
        resp = api.post("/graphql", json={"query": missing}, headers={**admin, "Accept": accept})
        assert resp.status_code == 200 and "data" in resp.json(), accept
        assert _codes(resp) == ["NOT_FOUND"]
    # Preference by quality, ties to graphql-response+json.
    for accept, media in (
        ("application/json;q=0.9, application/graphql-response+json", graphql_response),
        ("application/graphql-response+json;q=0.5, application/json", "application/json"),
        ("application/json, application/graphql-response+json", graphql_response),
        ("*/*", "application/json"),
    ):
        resp = api.post("/graphql", json={"query": Q}, headers={**admin, "Accept": accept})
        assert resp.headers["content-type"].startswith(media), accept


def test_the_sdl_for_the_roles_that_may_read_it(api, auth_header):
    from auth.policy import OPERATIONS, Operation, Role
    from schema import SDL_PATH

    assert api.get("/graphql/schema.graphql").status_code == 401
    for role in Role:
        claims = {"employee_id": "E0001", "customer_id": "C000001", "branch_id": "BR001"}
        resp = api.get("/graphql/schema.graphql", headers=auth_header(role.value, **claims))
        if role in OPERATIONS[Operation.READ_SCHEMA]:
            assert resp.status_code == 200, role
            assert resp.text == SDL_PATH.read_text(encoding="utf-8")
            assert resp.headers["content-type"].startswith("text/plain")
        else:
            assert resp.status_code == 403 and _codes(resp) == ["FORBIDDEN"], role
