"""Token validation without a driver: real keys, a JWKS file, every attack refused the same way."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import warnings

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from auth.policy import Role
from auth.tokens import (
    DevTokenRequest,
    InvalidToken,
    TokenValidator,
    issue_dev_token,
    parse_ttl,
)
from core.settings import DEV_JWT_SECRET, Environment, Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebToken

ISS, AUD = "https://idp.bank.example", "c360-api"


def now() -> int:
    return int(time.time())


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides) -> dict:
    base = {
        "iss": ISS,
        "aud": AUD,
        "sub": "u1",
        "roles": ["channel_service"],
        "iat": now(),
        "nbf": now(),
        "exp": now() + 600,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def _pem(private_key) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _public_pem(private_pem: bytes) -> bytes:
    private_key = serialization.load_pem_private_key(private_pem, password=None)
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class Keys:
    """Freshly generated signing keys (PEM private keys, as an identity provider holds them)."""

    def __init__(self) -> None:
        self.rsa = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        self.rsa_other = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        self.ec = _pem(ec.generate_private_key(ec.SECP256R1()))
        self.rsa_pem_public = _public_pem(self.rsa)

    @staticmethod
    def jwk(private_pem: bytes, kid: str, alg: str) -> dict:
        options = {"kid": kid, "alg": alg, "use": "sig"}
        return JsonWebKey.import_key(_public_pem(private_pem), options).as_dict()

    def jwks(self) -> dict:
        return {"keys": [self.jwk(self.rsa, "rsa-1", "RS256"), self.jwk(self.ec, "ec-1", "ES256")]}


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture
def jwks_file(tmp_path, keys):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(keys.jwks()))
    return path


def make_settings(jwks_file, env=Environment.TEST, **extra) -> Settings:
    return Settings(
        environment=env,
        neo4j_password="not-the-dev-one",
        id_pepper="not-the-dev-pepper",
        jwt_issuer=ISS,
        jwt_audience=AUD,
        jwt_jwks_file=jwks_file,
        **extra,
    )


@pytest.fixture
def validator(jwks_file) -> TokenValidator:
    return TokenValidator(make_settings(jwks_file))


@pytest.fixture
def prod_validator(jwks_file) -> TokenValidator:
    return TokenValidator(make_settings(jwks_file, env=Environment.PRODUCTION))


def sign(alg: str, key, payload: dict, kid: str | None = None) -> str:
    header = {"alg": alg, "typ": "JWT"}
    if kid:
        header["kid"] = kid
    return JsonWebToken([alg]).encode(header, payload, key).decode()


def authenticate(v: TokenValidator, token: str):
    return asyncio.run(v.authenticate(token))


def hs256_with_raw_secret(secret: bytes, payload: dict, header: dict | None = None) -> str:
    header = header or {"alg": "HS256", "typ": "JWT"}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


# -- accepted ----------------------------------------------------------------------------------


def test_rs256_and_es256_from_the_jwks_are_accepted(validator, prod_validator, keys):
    for v in (validator, prod_validator):
        rs = authenticate(v, sign("RS256", keys.rsa, claims(), kid="rsa-1"))
        es = authenticate(v, sign("ES256", keys.ec, claims(sub="u2"), kid="ec-1"))
        assert (rs.subject, es.subject) == ("u1", "u2")
        assert rs.roles == {Role.CHANNEL_SERVICE}


def test_hs256_dev_token_accepted_in_test(jwks_file):
    s = make_settings(jwks_file)
    token = issue_dev_token(s, DevTokenRequest(role=Role.BRANCH_MANAGER, branch_id="BR001"))
    p = TokenValidator(s).validate(token)
    assert p.branch_id == "BR001" and p.roles == {Role.BRANCH_MANAGER}


def test_clock_skew_is_honoured(validator, keys):
    token = sign("RS256", keys.rsa, claims(exp=now() - 20), kid="rsa-1")  # 20 s late < 30 s skew
    assert authenticate(validator, token).subject == "u1"


def test_a_rotated_key_is_fetched_on_unknown_kid(jwks_file, keys):
    v = TokenValidator(make_settings(jwks_file, jwt_jwks_min_refresh_s=0))
    authenticate(v, sign("RS256", keys.rsa, claims(), kid="rsa-1"))  # loads the JWKS
    jwks = keys.jwks()
    jwks["keys"].append(Keys.jwk(keys.rsa_other, "rsa-2", "RS256"))
    jwks_file.write_text(json.dumps(jwks))
    assert authenticate(v, sign("RS256", keys.rsa_other, claims(), kid="rsa-2")).subject == "u1"


def test_refresh_on_unknown_kid_is_rate_limited(jwks_file, keys):
    v = TokenValidator(make_settings(jwks_file, jwt_jwks_min_refresh_s=3600))
    authenticate(v, sign("RS256", keys.rsa, claims(), kid="rsa-1"))
    jwks = keys.jwks()
    jwks["keys"].append(Keys.jwk(keys.rsa_other, "rsa-2", "RS256"))
    jwks_file.write_text(json.dumps(jwks))
    with pytest.raises(InvalidToken):  # no second fetch within the minimum interval
        authenticate(v, sign("RS256", keys.rsa_other, claims(), kid="rsa-2"))


# -- refused: each attack, one generic failure ------------------------------------------------


def _none_token() -> str:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64(json.dumps(claims()).encode())}."


def _tampered(keys) -> str:
    head, _, sig = sign("RS256", keys.rsa, claims(), kid="rsa-1").split(".")
    return f"{head}.{b64(json.dumps(claims(roles=['admin'])).encode())}.{sig}"


ATTACKS = {
    "alg_none": lambda k: _none_token(),
    "alg_none_with_kid": lambda k: (
        f"{b64(json.dumps({'alg': 'none', 'kid': 'rsa-1'}).encode())}"
        f".{b64(json.dumps(claims()).encode())}."
    ),
    "hs256_signed_with_rsa_public_key": lambda k: hs256_with_raw_secret(k.rsa_pem_public, claims()),
    "hs256_rsa_public_key_with_kid": lambda k: hs256_with_raw_secret(
        k.rsa_pem_public, claims(), {"alg": "HS256", "kid": "rsa-1"}
    ),
    "hs256_with_jwk_json_as_secret": lambda k: hs256_with_raw_secret(
        json.dumps(Keys.jwk(k.rsa, "rsa-1", "RS256")).encode(),
        claims(),
        {"alg": "HS256", "kid": "rsa-1"},
    ),
    "unknown_kid": lambda k: sign("RS256", k.rsa, claims(), kid="nobody"),
    "no_kid": lambda k: sign("RS256", k.rsa, claims()),
    "wrong_signature_known_kid": lambda k: sign("RS256", k.rsa_other, claims(), kid="rsa-1"),
    "tampered_payload": _tampered,
    "es256_header_with_rsa_kid": lambda k: sign("ES256", k.ec, claims(), kid="rsa-1"),
    "rs384_not_in_algorithm_list": lambda k: sign("RS384", k.rsa, claims(), kid="rsa-1"),
    "hs256_wrong_secret": lambda k: hs256_with_raw_secret(b"guess" * 8, claims()),
    "expired": lambda k: sign("RS256", k.rsa, claims(exp=now() - 120), kid="rsa-1"),
    "not_yet_valid": lambda k: sign("RS256", k.rsa, claims(nbf=now() + 120), kid="rsa-1"),
    "issued_in_the_future": lambda k: sign("RS256", k.rsa, claims(iat=now() + 120), kid="rsa-1"),
    "no_exp": lambda k: sign("RS256", k.rsa, claims(exp=None), kid="rsa-1"),
    "wrong_issuer": lambda k: sign("RS256", k.rsa, claims(iss="https://evil.example"), kid="rsa-1"),
    "no_issuer": lambda k: sign("RS256", k.rsa, claims(iss=None), kid="rsa-1"),
    "wrong_audience": lambda k: sign("RS256", k.rsa, claims(aud="other-api"), kid="rsa-1"),
    "no_audience": lambda k: sign("RS256", k.rsa, claims(aud=None), kid="rsa-1"),
    "no_subject": lambda k: sign("RS256", k.rsa, claims(sub=None), kid="rsa-1"),
    "subject_not_a_string": lambda k: sign("RS256", k.rsa, claims(sub=12345), kid="rsa-1"),
    "subject_a_list": lambda k: sign("RS256", k.rsa, claims(sub=["u1"]), kid="rsa-1"),
    "missing_role_claim": lambda k: sign("RS256", k.rsa, claims(roles=None), kid="rsa-1"),
    "empty_roles": lambda k: sign("RS256", k.rsa, claims(roles=[]), kid="rsa-1"),
    "unknown_role_only": lambda k: sign("RS256", k.rsa, claims(roles=["root"]), kid="rsa-1"),
    "rm_without_employee_id": lambda k: sign(
        "RS256", k.rsa, claims(roles=["relationship_manager"]), kid="rsa-1"
    ),
    "malformed_header_not_json": lambda k: "bm90IGpzb24." + b64(b"{}") + ".c2ln",
    "malformed_header_not_object": lambda k: f"{b64(b'[1]')}.{b64(b'{}')}.c2ln",
    "malformed_header_no_alg": lambda k: f"{b64(b'{}')}.{b64(json.dumps(claims()).encode())}.c2ln",
    "two_segments": lambda k: "abc.def",
    "jwe_five_segments": lambda k: "a.b.c.d.e",
    "garbage": lambda k: "not a token",
    "oversized": lambda k: "a" * 9000 + ".b.c",
}
PROD_ONLY_ATTACKS = {
    # A perfectly valid development token is refused in production: HS256 is not in the list.
    "hs256_dev_token_in_production": lambda k: hs256_with_raw_secret(
        DEV_JWT_SECRET.encode(), claims()
    ),
}


# Why each attack fails (in the log only), to show it is refused for the right reason.
REASONS = {
    "alg_none": "not accepted",
    "alg_none_with_kid": "not accepted",
    "hs256_signed_with_rsa_public_key": "BadSignature",
    "hs256_rsa_public_key_with_kid": "BadSignature",
    "hs256_with_jwk_json_as_secret": "BadSignature",
    "unknown_kid": "unknown kid",
    "no_kid": "unknown kid",
    "wrong_signature_known_kid": "BadSignature",
    "tampered_payload": "BadSignature",
    "es256_header_with_rsa_kid": "does not match",
    "rs384_not_in_algorithm_list": "not accepted",
    "hs256_wrong_secret": "BadSignature",
    "expired": "Expired",
    "not_yet_valid": "not valid yet",
    "issued_in_the_future": "in the future",
    "no_exp": "'exp'",
    "wrong_issuer": "'iss'",
    "no_issuer": "'iss'",
    "wrong_audience": "'aud'",
    "no_audience": "'aud'",
    "no_subject": "'sub'",
    "subject_not_a_string": "sub is not",
    "subject_a_list": "sub is not",
    "missing_role_claim": "role",
    "empty_roles": "role",
    "unknown_role_only": "role",
    "rm_without_employee_id": "employee_id",
    "malformed_header_not_json": "malformed",
    "malformed_header_not_object": "malformed",
    "malformed_header_no_alg": "malformed",
    "two_segments": "malformed",
    "jwe_five_segments": "malformed",
    "garbage": "malformed",
    "oversized": "malformed",
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_refused(validator, prod_validator, keys, attack):
    token = ATTACKS[attack](keys)
    with pytest.raises(InvalidToken) as refused:
        authenticate(validator, token)
    assert REASONS[attack] in refused.value.reason
    with pytest.raises(InvalidToken):
        authenticate(prod_validator, token)


@pytest.mark.parametrize("attack", sorted(PROD_ONLY_ATTACKS))
def test_production_only_attack_refused(prod_validator, validator, keys, attack):
    token = PROD_ONLY_ATTACKS[attack](keys)
    with pytest.raises(InvalidToken):
        authenticate(prod_validator, token)
    # ...while the same token is fine in test, which shows the refusal is about the environment.
    assert authenticate(validator, token).subject == "u1"


# -- settings and the development issuer ------------------------------------------------------


def test_production_refuses_the_dev_secret_and_needs_a_jwks(jwks_file):
    with pytest.raises(ValueError, match="JWT_DEV_SECRET"):
        make_settings(jwks_file, env=Environment.PRODUCTION, jwt_dev_secret=DEV_JWT_SECRET)
    with pytest.raises(ValueError, match="JWKS"):
        Settings(environment=Environment.PRODUCTION, neo4j_password="x")


def test_dev_tokens_are_refused_in_production(jwks_file):
    prod = make_settings(jwks_file, env=Environment.PRODUCTION)
    with pytest.raises(RuntimeError):
        issue_dev_token(prod, DevTokenRequest(role=Role.ADMIN))


def test_ttl_parsing():
    assert [parse_ttl(t) for t in ("90s", "15m", "1h", "2d", "30")] == [90, 900, 3600, 172800, 30]
    with pytest.raises(ValueError):
        parse_ttl("-1h")


def test_several_roles_read_under_the_most_capable(jwks_file, keys):
    v = TokenValidator(make_settings(jwks_file))
    token = sign(
        "RS256",
        keys.rsa,
        claims(roles=["auditor", "relationship_manager"], employee_id="E1"),
        kid="rsa-1",
    )
    principal = authenticate(v, token)
    assert principal.primary_role is Role.RELATIONSHIP_MANAGER


def test_jwks_from_a_url_with_rotation(keys):
    """A real HTTP server on loopback serves the key set; rotation is picked up by kid."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    served = {"jwks": keys.jwks(), "hits": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            served["hits"] += 1
            body = json.dumps(served["jwks"]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
        v = TokenValidator(make_settings(None, jwt_jwks_url=url, jwt_jwks_min_refresh_s=0))
        assert authenticate(v, sign("ES256", keys.ec, claims(), kid="ec-1")).subject == "u1"
        assert authenticate(v, sign("RS256", keys.rsa, claims(), kid="rsa-1")).subject == "u1"
        assert served["hits"] == 1  # cached: a known kid fetches nothing
        served["jwks"]["keys"].append(Keys.jwk(keys.rsa_other, "rsa-2", "RS256"))
        token = sign("RS256", keys.rsa_other, claims(), kid="rsa-2")
        assert authenticate(v, token).subject == "u1"
        assert served["hits"] == 2
    finally:
        server.shutdown()
        server.server_close()
