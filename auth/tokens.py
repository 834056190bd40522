"""Bearer token validation (and development token issuing) with authlib.

* RS256 / ES256 against a JWKS (URL or file), keys cached by ``kid`` and refreshed when an unknown
  ``kid`` arrives, at most once per ``JWT_JWKS_MIN_REFRESH_S``.
* HS256 with a shared secret only in development and test; in production HS256 is not even in the
  algorithm list.
* Each algorithm is bound to one kind of key (HS256 -> the shared secret only, RS256 -> RSA JWKS
  keys only, ES256 -> EC JWKS keys only), so a token "signed" with a public key as an HMAC secret
  (algorithm confusion) cannot verify.
* Every check (signature, exp, nbf, iat, iss, aud with the clock skew, role claim) fails with the
  same :class:`InvalidToken`; the reason goes to the log only.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from auth.policy import ROLES, Role
from auth.principal import Principal
from core.settings import Environment, Settings

with warnings.catch_warnings():
    # authlib 1.9 marks authlib.jose deprecated in favour of joserfc; the API is still supported.
    # authlib.deprecate installs an "always" filter on import, so import it before ours.
    import authlib.deprecate  # noqa: F401

    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebToken, JWTClaims, OctKey
    from authlib.jose.errors import JoseError

log = logging.getLogger("c360.auth")

ASYMMETRIC = {"RS256": "RSA", "ES256": "EC"}  # algorithm -> the only key type it may use
HMAC = "HS256"
MAX_TOKEN_LENGTH = 8192
GENERIC_MESSAGE = "Missing or invalid bearer token."
ROLE_NAMES = frozenset(r.value for r in Role)


class InvalidToken(Exception):
    """Any token failure. ``reason`` is for the log, never for the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def allowed_algorithms(settings: Settings) -> list[str]:
    algorithms = list(ASYMMETRIC)
    if settings.environment is not Environment.PRODUCTION and settings.hs256_secret:
        algorithms.append(HMAC)
    return algorithms


@dataclass(frozen=True)
class CachedKey:
    key: Any
    kty: str
    alg: str | None  # the JWK's own "alg", when it names one


class JwksCache:
    """The identity provider's public keys by ``kid``, loaded lazily, refreshed on unknown kid."""

    def __init__(self, settings: Settings) -> None:
        self._url = settings.jwt_jwks_url
        self._file = settings.jwt_jwks_file
        self._min_refresh_s = settings.jwt_jwks_min_refresh_s
        self._keys: dict[str, CachedKey] = {}
        self._loaded_at: float | None = None
        self._lock = asyncio.Lock()  # concurrent unknown-kid requests share one fetch

    @property
    def configured(self) -> bool:
        return bool(self._url or self._file)

    def get(self, kid: str) -> CachedKey | None:
        return self._keys.get(kid)

    def may_refresh(self) -> bool:
        return self.configured and (
            self._loaded_at is None or time.monotonic() - self._loaded_at >= self._min_refresh_s
        )

    async def refresh_for(self, kid: str) -> None:
        """Fetch the key set for an unknown ``kid`` unless fetched within the minimum interval."""
        async with self._lock:
            if self.get(kid) is None and self.may_refresh():
                await self.refresh()

    async def refresh(self) -> None:
        """Reload the key set (a failure keeps the old keys; the token is then refused)."""
        self._loaded_at = time.monotonic()
        try:
            if self._file:
                document = json.loads(Path(self._file).read_text())
            else:
                async with httpx.AsyncClient(timeout=5.0) as client:
                    response = await client.get(str(self._url))
                    response.raise_for_status()
                    document = response.json()
            keys = JsonWebKey.import_key_set(document).keys
            self._keys = {}
            for key in keys:
                params = key.tokens
                if key.kid:
                    self._keys[key.kid] = CachedKey(key, params["kty"], params.get("alg"))
        except (OSError, ValueError, httpx.HTTPError, JoseError) as exc:
            log.warning("JWKS refresh failed: %s", type(exc).__name__)


def _unverified_header(token: str) -> dict[str, Any]:
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise InvalidToken("malformed token")
    segment = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidToken("malformed header") from exc
    if not isinstance(header, dict) or not isinstance(header.get("alg"), str):
        raise InvalidToken("malformed header")
    return header


class TokenValidator:
    def __init__(self, settings: Settings, jwks: JwksCache | None = None) -> None:
        self.settings = settings
        self.jwks = jwks or JwksCache(settings)
        self.algorithms = allowed_algorithms(settings)
        self._jwt = JsonWebToken(self.algorithms)
        secret = settings.hs256_secret
        self._hmac_key = OctKey.import_key(secret) if secret and HMAC in self.algorithms else None
        self._claims_options = {
            "iss": {"essential": True, "value": settings.jwt_issuer},
            "aud": {"essential": True, "value": settings.jwt_audience},
            "exp": {"essential": True},
            "sub": {"essential": True},
        }

    async def authenticate(self, token: str) -> Principal:
        """Validate the token, fetching the JWKS first when its kid is not cached yet."""
        header = _unverified_header(token)
        kid = header.get("kid")
        if (
            header["alg"] in ASYMMETRIC
            and isinstance(kid, str)
            and self.jwks.get(kid) is None
            and self.jwks.may_refresh()
        ):
            await self.jwks.refresh_for(kid)
        return self.validate(token)

    def validate(self, token: str, *, now: int | None = None) -> Principal:
        """Validate with the keys at hand (no I/O): signature, time, issuer, audience, roles."""
        header = _unverified_header(token)
        if header["alg"] not in self.algorithms:
            raise InvalidToken(f"algorithm {header['alg']!r} not accepted")
        try:
            claims = self._jwt.decode(
                token, self._key_for, claims_cls=JWTClaims, claims_options=self._claims_options
            )
            claims.validate(now=now, leeway=self.settings.jwt_clock_skew_s)
        except InvalidToken:
            raise
        except Exception as exc:  # whatever a crafted token provokes, the answer is the same 401
            raise InvalidToken(f"{type(exc).__name__}: {exc}") from exc
        return self._principal(claims)

    def _key_for(self, header: dict[str, Any], _payload: Any) -> Any:
        alg = header.get("alg")
        if alg == HMAC:
            if self._hmac_key is None:
                raise InvalidToken("HS256 not accepted")
            return self._hmac_key
        kid = header.get("kid")
        cached = self.jwks.get(kid) if isinstance(kid, str) else None
        if cached is None:
            raise InvalidToken("unknown kid")
        if cached.kty != ASYMMETRIC.get(str(alg)) or (cached.alg or alg) != alg:
            raise InvalidToken("key does not match the algorithm")
        return cached.key

    def _principal(self, claims: JWTClaims) -> Principal:
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject.strip():
            # RFC 7519 makes `sub` a string; str() of a number, list or object would name a
            # subject (rate-limit bucket, audit trail) the identity provider never issued.
            raise InvalidToken("sub is not a non-empty string")
        raw = role_claim(claims, self.settings.jwt_role_claim)
        names = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
        roles = frozenset(Role(n) for n in names if isinstance(n, str) and n in ROLE_NAMES)
        if not roles:
            raise InvalidToken("no known role in the role claim")
        principal = Principal(
            subject=subject,
            roles=roles,
            employee_id=_optional_str(claims.get("employee_id")),
            customer_id=_optional_str(claims.get("customer_id")),
            branch_id=_optional_str(claims.get("branch_id")),
        )
        for claim in ROLES[principal.primary_role].requires_claims:
            if not principal.claim(claim):
                raise InvalidToken(f"role {principal.primary_role} needs the {claim} claim")
        return principal


def role_claim(claims: dict[str, Any], name: str) -> Any:
    """The role claim by its exact name (namespaced names such as ``https://bank.example/roles``
    contain dots), else, for a dotted name, the nested value (Keycloak's ``realm_access.roles``)."""
    if name in claims or "." not in name:
        return claims.get(name)
    value: Any = claims
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class DevTokenRequest:
    role: Role
    subject: str | None = None
    employee_id: str | None = None
    customer_id: str | None = None
    branch_id: str | None = None
    ttl_s: int = 3600


def issue_dev_token(settings: Settings, request: DevTokenRequest, *, now: int | None = None) -> str:
    """An HS256 token for development and tests; refused in production."""
    secret = settings.hs256_secret
    if settings.environment is Environment.PRODUCTION or not secret:
        raise RuntimeError("development tokens are refused in production")
    now = int(time.time()) if now is None else now
    payload: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": request.subject or f"dev-{request.role.value}",
        settings.jwt_role_claim: [request.role.value],
        "iat": now,
        "nbf": now,
        "exp": now + request.ttl_s,
        "jti": uuid.uuid4().hex,
    }
    for name in ("employee_id", "customer_id", "branch_id"):
        if value := getattr(request, name):
            payload[name] = value
    token = JsonWebToken([HMAC]).encode({"alg": HMAC, "typ": "JWT"}, payload, secret)
    return token.decode()


def parse_ttl(text: str) -> int:
    """``90s``, ``15m``, ``1h``, ``2d`` or plain seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = text.strip().lower()
    factor = units.get(text[-1:])
    number = text[:-1] if factor else text
    seconds = int(number) * (factor or 1)
    if seconds <= 0:
        raise ValueError("ttl must be positive")
    return seconds
