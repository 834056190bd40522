"""Console sign-in through an OpenID Connect provider (issue 8), end to end over HTTP.

The provider is real (``tests/oidc_provider.py``: authlib's authorization server on a loopback
port, RS256 keys made for the run); the app runs in production mode pointed at it, with its
sessions in the real test Neo4j. The test plays the browser: it follows the redirects by hand and
keeps the cookies, so every hop can be inspected.
"""

from __future__ import annotations

import re
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import httpx2  # starlette's TestClient runs on httpx2: its responses are httpx2's
import pytest
from neo4j import RoutingControl
from pydantic import ValidationError
from starlette.testclient import TestClient

from auth.tokens import role_claim
from c360.app import create_app
from core.settings import Settings
from tests.oidc_provider import CLIENT_ID, LocalProvider, User, oidc_settings

pytestmark = pytest.mark.graph

CALLBACK = "http://testserver/console/callback"
COOKIE = "c360_session"  # without the Secure flag (plain-http tests) there is no __Host- prefix
LOGIN_COOKIE = "c360_login"
XRW = {"X-Requested-With": "c360-console"}
ME = "{ me { subject roles employeeId } }"
RM = User(sub="u-wangli", name="王丽", roles=["relationship_manager"], employee_id="E0001")


@pytest.fixture
def provider():
    p = LocalProvider(redirect_uris=[CALLBACK], user=RM).start()
    yield p
    p.stop()


@pytest.fixture
def app_client(settings, provider, sample_graph):
    with TestClient(create_app(oidc_settings(settings, provider))) as client:
        yield client


def start_login(client: TestClient) -> httpx2.Response:
    resp = client.get("/console/login", follow_redirects=False)
    assert resp.status_code == 302, resp.text
    return resp


def authorize(provider: LocalProvider, location: str) -> str:
    """The provider's authorize endpoint (it signs the configured user in at once); returns the
    callback URL it redirects the browser to."""
    assert location.startswith(f"{provider.issuer}/authorize?")
    resp = httpx.get(location, follow_redirects=False)
    assert resp.status_code == 302, resp.text
    return resp.headers["location"]


def sign_in(client: TestClient, provider: LocalProvider) -> httpx2.Response:
    callback = authorize(provider, start_login(client).headers["location"])
    resp = client.get(callback.removeprefix("http://testserver"), follow_redirects=False)
    assert resp.status_code == 303, resp.text
    return resp


def set_cookies(resp: httpx2.Response) -> dict[str, str]:
    """Set-Cookie headers by cookie name."""
    return {h.split("=", 1)[0]: h for h in resp.headers.get_list("set-cookie")}


def use_cookie(client: TestClient, value: str) -> None:
    """Send this session cookie value (instead of the one the server set)."""
    client.cookies.clear()
    client.cookies.set(COOKIE, value)


def gql(client: TestClient, query: str, headers: dict[str, str] | None = None, **variables):
    return client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers=XRW if headers is None else headers,
    )


def graph_nodes(driver, settings, label: str) -> list[dict]:
    records = driver.execute_query(
        f"MATCH (n:{label}) RETURN properties(n) AS p",  # label: a constant of this module
        database_=settings.neo4j_database,
        routing_control=RoutingControl.READ,
    ).records
    return [r["p"] for r in records]


def test_login_redirects_to_the_provider_with_state_pkce_and_nonce(
    app_client, provider, driver, settings
):
    resp = start_login(app_client)
    url = urlsplit(resp.headers["location"])
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{provider.issuer}/authorize"
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == CALLBACK
    assert "openid" in params["scope"].split()
    assert params["code_challenge_method"] == "S256"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", params["code_challenge"])
    assert len(params["state"]) >= 20 and len(params["nonce"]) >= 20
    # the browser gets only a random id, HttpOnly, limited to the callback path
    cookie = set_cookies(resp)[LOGIN_COOKIE]
    assert "HttpOnly" in cookie and "Path=/console/callback" in cookie
    assert "samesite=lax" in cookie.lower()
    login_id = app_client.cookies[LOGIN_COOKIE]
    assert params["state"] not in login_id and params["nonce"] not in login_id
    # the server keeps the sign-in sealed: neither the id, the state nor the nonce in clear
    stored = graph_nodes(driver, settings, "ConsoleLogin")
    assert len(stored) == 1
    assert stored[0]["key"] != login_id
    for secret in (login_id, params["state"], params["nonce"]):
        assert secret not in str(stored[0])


def test_sign_in_sets_only_an_opaque_httponly_cookie_and_the_api_works_with_it(
    app_client, provider, driver, settings
):
    resp = sign_in(app_client, provider)
    assert resp.headers["location"] == "/console/"
    assert resp.headers["cache-control"] == "no-store"
    cookie = set_cookies(resp)[COOKIE]
    assert "HttpOnly" in cookie and "Path=/" in cookie and "samesite=lax" in cookie.lower()
    session_id = app_client.cookies[COOKIE]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", session_id)  # random, not a JWT
    assert "." not in session_id

    (session,) = graph_nodes(driver, settings, "ConsoleSession")
    assert session["subject"] == RM.sub
    assert session["key"] != session_id and session_id not in str(session)
    # no token in clear in the database: none of those the provider handed out, nor anything
    # shaped like a JWT (a random ciphertext holds "eyJ" by chance about once in a hundred)
    issued = [v for t in provider.issued for k, v in t.items() if k.endswith("_token")]
    assert issued and all(token not in session["sealed"] for token in issued)
    assert not re.search(r"eyJ[\w-]+\.eyJ[\w-]+\.", session["sealed"])
    assert app_client.cookies.get(LOGIN_COOKIE) is None  # the sign-in cookie is gone

    # the API answers with the provider user's role and ids
    body = gql(app_client, ME).json()
    assert body["data"]["me"] == {
        "subject": RM.sub,
        "roles": RM.roles,
        "employeeId": RM.employee_id,
    }
    (managed,) = driver.execute_query(
        "MATCH (:Employee {employee_id: $e})-[:MANAGES]->(c:Customer) "
        "RETURN c.customer_id AS id, c.phone AS phone ORDER BY id LIMIT 1",
        e=RM.employee_id,
        database_=settings.neo4j_database,
        routing_control=RoutingControl.READ,
    ).records
    body = gql(app_client, "query($id: ID!) { customer(id: $id) { id phone } }", id=managed["id"])
    assert body.json()["data"]["customer"] == {"id": managed["id"], "phone": managed["phone"]}

    # nothing a script could read carries a token: the page, its sign-in options, no JS cookie
    page = app_client.get("/console/")
    assert page.status_code == 200 and "eyJ" not in page.text
    options = app_client.get("/console/sign-in-options").json()
    assert options == {"oidc": True, "development": False, "session": True}
    assert TestClient(app_client.app).get("/console/sign-in-options").json()["session"] is False


def test_cookie_requests_need_the_console_header_and_origin(app_client, provider):
    sign_in(app_client, provider)
    assert gql(app_client, ME, headers={}).status_code == 403  # a form post could do this
    foreign = {**XRW, "Origin": "https://evil.example"}
    assert gql(app_client, ME, headers=foreign).status_code == 403
    same = {**XRW, "Origin": "http://testserver"}
    assert gql(app_client, ME, headers=same).json()["data"]["me"]["subject"] == RM.sub
    # a top-level navigation (GET, no header) cannot run a query with the cookie either
    assert app_client.get("/graphql", params={"query": ME}).status_code == 403


def test_a_tampered_or_unknown_session_cookie_is_refused(app_client, provider):
    sign_in(app_client, provider)
    real = app_client.cookies[COOKIE]
    flipped = real[:-1] + ("A" if real[-1] != "A" else "B")
    for value in (flipped, secrets.token_urlsafe(32), "not-a-session", real + "x"):
        use_cookie(app_client, value)
        resp = gql(app_client, ME)
        assert resp.status_code == 401, value
        assert resp.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    use_cookie(app_client, real)
    assert gql(app_client, ME).status_code == 200


def test_logout_ends_the_session_everywhere(app_client, provider, driver, settings):
    sign_in(app_client, provider)
    session_id = app_client.cookies[COOKIE]
    assert app_client.post("/console/logout").status_code == 403  # no console header
    assert gql(app_client, ME).status_code == 200  # still signed in
    resp = app_client.post("/console/logout", headers=XRW)
    assert resp.status_code == 200
    assert COOKIE in set_cookies(resp) and "Max-Age=0" in set_cookies(resp)[COOKIE]
    assert graph_nodes(driver, settings, "ConsoleSession") == []
    # the old cookie value, replayed, no longer works
    use_cookie(app_client, session_id)
    assert gql(app_client, ME).status_code == 401


def test_a_callback_with_a_wrong_state_or_from_another_browser_is_refused(app_client, provider):
    callback = authorize(provider, start_login(app_client).headers["location"])
    url = urlsplit(callback)
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    wrong = app_client.get(
        "/console/callback", params={**params, "state": "forged"}, follow_redirects=False
    )
    assert wrong.status_code == 400
    assert COOKIE not in set_cookies(wrong)
    # the sign-in was single use: the genuine callback now fails too
    again = app_client.get("/console/callback", params=params, follow_redirects=False)
    assert again.status_code == 400 and app_client.cookies.get(COOKIE) is None

    # a victim's browser handed an attacker's callback URL (login CSRF): no sign-in of its own
    callback = authorize(provider, start_login(app_client).headers["location"])
    victim = TestClient(app_client.app)
    resp = victim.get(callback.removeprefix("http://testserver"), follow_redirects=False)
    assert resp.status_code == 400 and COOKIE not in set_cookies(resp)


def test_a_user_without_a_role_gets_no_session(app_client, provider):
    provider.user = User(sub="u-nobody", name="无角色", roles=["teller"])
    callback = authorize(provider, start_login(app_client).headers["location"])
    resp = app_client.get(callback.removeprefix("http://testserver"), follow_redirects=False)
    assert resp.status_code == 403
    assert COOKIE not in set_cookies(resp)
    assert "no role" in resp.text


def test_an_expiring_access_token_is_refreshed_and_a_dead_one_is_refused(
    settings, provider, sample_graph
):
    provider.access_ttl_s = 5  # inside the refresh margin from the start
    app = create_app(oidc_settings(settings, provider, jwt_clock_skew_s=0))
    with TestClient(app) as client:
        sign_in(client, provider)
        assert provider.token_requests == ["authorization_code"]
        assert gql(client, ME).status_code == 200
        assert provider.token_requests == ["authorization_code", "refresh_token"]

        # the provider revokes the refresh token; once the access token has expired: 401
        provider.access_ttl_s = 3  # (1 s could pass between the token's issue and its check)
        for token in provider.refresh_tokens.values():
            token.revoked = True
        sign_in(client, provider)
        for token in provider.refresh_tokens.values():
            token.revoked = True
        time.sleep(4.5)
        asked = len(provider.token_requests)
        resp = gql(client, ME)
        assert provider.token_requests[asked:] == ["refresh_token"]  # tried, and refused
        assert resp.status_code == 401
        assert resp.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_no_development_tokens_in_production_with_oidc(app_client):
    assert app_client.post("/console/dev-token", json={"role": "admin"}).status_code == 404
    assert app_client.get("/console/sign-in-options").json()["development"] is False


def test_production_cookies_are_secure_by_default(settings, provider, sample_graph):
    prod = oidc_settings(settings, provider, session_cookie_secure=None)
    assert prod.cookie_secure is True
    with TestClient(create_app(prod)) as client:
        cookie = set_cookies(start_login(client))["__Secure-c360_login"]
        assert "Secure" in cookie and "HttpOnly" in cookie


def test_oidc_settings_are_checked_at_start_up():
    base = {"C360_ENV": "development"}
    with pytest.raises(ValidationError, match="SESSION_SECRET"):
        Settings(
            **base,
            oidc_issuer="https://idp.bank.example",
            oidc_client_id="c",
            oidc_client_secret="s",
        )
    with pytest.raises(ValidationError, match="together"):
        Settings(**base, oidc_issuer="https://idp.bank.example")
    ok = Settings(
        **base,
        oidc_issuer="https://idp.bank.example/realms/c360/",
        oidc_client_id="c",
        oidc_client_secret="s",
        session_secret="k" * 32,
    )
    assert ok.oidc_enabled and ok.cookie_secure is False
    assert ok.oidc_metadata_url == (
        "https://idp.bank.example/realms/c360/.well-known/openid-configuration"
    )


def test_role_claim_names_and_nested_paths():
    assert role_claim({"roles": ["admin"]}, "roles") == ["admin"]
    assert role_claim({"realm_access": {"roles": ["auditor"]}}, "realm_access.roles") == ["auditor"]
    namespaced = {"https://bank.example/roles": ["admin"]}
    assert role_claim(namespaced, "https://bank.example/roles") == ["admin"]
    assert role_claim({"realm_access": []}, "realm_access.roles") is None


def test_starting_sign_ins_is_throttled_per_address(settings, provider, sample_graph):
    tight = oidc_settings(settings, provider, rate_limit_per_second=0.01, rate_limit_burst=2)
    with TestClient(create_app(tight)) as client:
        assert [start_login(client).status_code for _ in range(2)] == [302, 302]
        resp = client.get("/console/login", follow_redirects=False)
        assert resp.status_code == 429 and int(resp.headers["retry-after"]) > 0


def test_insecure_cookies_in_production_are_warned_about(settings, provider, caplog):
    insecure = oidc_settings(settings, provider, session_cookie_secure=False)
    with caplog.at_level("WARNING", logger="c360.api"):
        create_app(insecure)
    assert any("SESSION_COOKIE_SECURE=false in production" in r.message for r in caplog.records)
    caplog.clear()
    with caplog.at_level("WARNING", logger="c360.api"):
        create_app(oidc_settings(settings, provider, session_cookie_secure=None))
    assert not any("SESSION_COOKIE_SECURE" in r.message for r in caplog.records)
