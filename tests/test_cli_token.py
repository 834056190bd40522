"""`c360 token`: a usable development token, the claims a role needs, refused in production."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from auth.policy import Role
from auth.tokens import TokenValidator
from c360.cli import app
from core import settings as settings_module


@pytest.fixture
def run(monkeypatch):
    def invoke(args: list[str], **env: str):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings_module.get_settings.cache_clear()
        try:
            return CliRunner().invoke(app, ["token", *args])
        finally:
            settings_module.get_settings.cache_clear()

    return invoke


def test_token_is_valid_for_the_api(run):
    result = run(
        ["--role", "relationship_manager", "--employee", "E0001", "--ttl", "15m"], C360_ENV="test"
    )
    assert result.exit_code == 0, result.output
    principal = TokenValidator(settings_module.Settings()).validate(result.stdout.strip())
    assert principal.roles == {Role.RELATIONSHIP_MANAGER}
    assert principal.employee_id == "E0001"


def test_token_needs_the_claim_of_its_role(run):
    result = run(["--role", "customer"], C360_ENV="test")
    assert result.exit_code == 2
    assert "--customer" in result.output


def test_unknown_role_and_bad_ttl(run):
    assert run(["--role", "root"], C360_ENV="test").exit_code == 2
    assert run(["--role", "auditor", "--ttl", "soon"], C360_ENV="test").exit_code == 2


def test_token_refused_in_production(run, tmp_path):
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": []}')
    result = run(
        ["--role", "admin"],
        C360_ENV="production",
        NEO4J_PASSWORD="a-real-secret",
        C360_ID_PEPPER="a-real-pepper",
        JWT_JWKS_FILE=str(jwks),
    )
    assert result.exit_code == 2
    assert "refused in production" in result.output
    assert "eyJ" not in result.stdout
