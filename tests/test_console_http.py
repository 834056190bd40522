"""The console's HTTP surface (issue 8): the page and its assets, the console CSP, and the
development sign-in endpoint that does not exist in production."""

from __future__ import annotations

from starlette.testclient import TestClient

from auth.tokens import TokenValidator
from c360.app import create_app
from c360.http.middleware import API_CSP, CONSOLE_CSP
from core.settings import Environment


def _client(settings) -> TestClient:
    return TestClient(create_app(settings, apply_migration=False))


def test_console_is_built_and_served_with_its_csp(settings):
    assert (settings.console_dist_dir / "index.html").is_file(), "run `make console-build`"
    client = _client(settings)
    page = client.get("/console/")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONSOLE_CSP
    assert "script-src 'self'" in CONSOLE_CSP and "unsafe" not in CONSOLE_CSP
    assert "<script>" not in page.text and "style=" not in page.text  # nothing inline
    assert '<script src="/console/main.js"' in page.text
    for asset in ("/console/main.js", "/console/style.css"):
        resp = client.get(asset)
        assert resp.status_code == 200, asset
        assert resp.headers["content-security-policy"] == CONSOLE_CSP
    assert "cdn" not in client.get("/console/main.js").text.lower().split("//")[0]
    assert client.get("/console", follow_redirects=False).headers["location"] == "/console/"
    # the API keeps its own strict policy
    assert client.get("/health/live").headers["content-security-policy"] == API_CSP


def test_dev_token_issues_a_valid_token_outside_production(settings):
    client = _client(settings)
    resp = client.post(
        "/console/dev-token", json={"role": "relationship_manager", "employee_id": "E1"}
    )
    assert resp.status_code == 200
    assert resp.headers["cache-control"] == "no-store"
    principal = TokenValidator(settings).validate(resp.json()["token"])
    assert principal.employee_id == "E1"
    assert {r.value for r in principal.roles} == {"relationship_manager"}


def test_dev_token_refuses_bad_input(settings):
    client = _client(settings)
    assert client.post("/console/dev-token", json={"role": "root"}).status_code == 400
    assert client.post("/console/dev-token", content=b"nope").status_code == 400
    # the role needs its claim
    assert client.post("/console/dev-token", json={"role": "customer"}).status_code == 400
    bad = {"role": "relationship_manager", "employee_id": "E1' OR 1=1"}
    assert client.post("/console/dev-token", json=bad).status_code == 400


def test_dev_token_does_not_exist_in_production(settings):
    prod = settings.model_copy(
        update={"environment": Environment.PRODUCTION, "jwt_jwks_file": "/nonexistent.json"}
    )
    client = _client(prod)
    resp = client.post("/console/dev-token", json={"role": "admin"})
    assert resp.status_code == 404
    assert "token" not in resp.text
    assert client.get("/console/dev-token").status_code == 404
    assert client.get("/console/").status_code == 200  # the page itself is served
