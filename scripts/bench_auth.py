"""Median cost of token validation + policy per request (no graph needed).

Usage: ``.venv/bin/python scripts/bench_auth.py [N]`` (default 1000 iterations). Times, per
request: token validation (HS256 dev token and RS256 via a JWKS file), the row scope and one
masking pass; and over HTTP, ``{ __typename }`` on /graphql with a token against /health/live
(ASGI in process, no network, no Neo4j query).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from auth import enforce
from auth.policy import Role
from auth.tokens import DevTokenRequest, TokenValidator, issue_dev_token
from core.settings import Environment, Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebToken

ROW = {
    "customer_id": "C1",
    "name": "张伟",
    "phone": "13812345678",
    "email": "zhang.wei@example.com",
    "address": "上海市浦东新区世纪大道100号",
    "city": "上海",
    "access": "direct",
}


def median_us(fn, n: int) -> float:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1e6


def main(n: int) -> None:
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    jwk = JsonWebKey.import_key(pem, {"kid": "k1", "alg": "RS256"})
    jwks = Path(tempfile.mkdtemp()) / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwk.as_dict(is_private=False)]}))
    settings = Settings(environment=Environment.TEST, jwt_jwks_file=jwks)
    validator = TokenValidator(settings)
    asyncio.run(validator.jwks.refresh())
    hs = issue_dev_token(settings, DevTokenRequest(role=Role.CHANNEL_SERVICE))
    now = int(time.time())
    rs = (
        JsonWebToken(["RS256"])
        .encode(
            {"alg": "RS256", "kid": "k1"},
            {
                "iss": settings.jwt_issuer,
                "aud": settings.jwt_audience,
                "sub": "u",
                "roles": ["channel_service"],
                "iat": now,
                "exp": now + 3600,
            },
            pem,
        )
        .decode()
    )

    def policy(principal):
        enforce.require(principal, enforce.Operation.READ_CUSTOMER)
        enforce.row_scope(principal)
        enforce.mask_row(principal, ROW)

    p = validator.validate(hs)
    results = {
        "validate HS256": median_us(lambda: validator.validate(hs), n),
        "validate RS256 (JWKS)": median_us(lambda: validator.validate(rs), n),
        "policy (require + scope + mask)": median_us(lambda: policy(p), n),
        "validate RS256 + policy": median_us(lambda: policy(validator.validate(rs)), n),
    }
    http_settings = settings.model_copy(update={"rate_limit_burst": 10 * n})
    from starlette.testclient import TestClient

    from c360.app import create_app

    with TestClient(create_app(http_settings, apply_migration=False)) as client:
        auth = {"Authorization": f"Bearer {rs}"}
        body = {"query": "{ __typename }"}
        assert client.post("/graphql", json=body, headers=auth).status_code == 200
        results["HTTP GET /health/live"] = median_us(lambda: client.get("/health/live"), n)
        results["HTTP POST /graphql {__typename}, RS256"] = median_us(
            lambda: client.post("/graphql", json=body, headers=auth), n
        )
        results["HTTP POST /graphql no token (401)"] = median_us(
            lambda: client.post("/graphql", json=body), n
        )
    for name, us in results.items():
        print(f"{name:40s} median {us:8.1f} us over {n}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
