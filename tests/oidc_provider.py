"""A small, real OpenID Connect provider for the sign-in tests, built from authlib's server parts.

``authlib.oauth2.AuthorizationServer`` with the authorization code grant, the OpenID Connect
``OpenIDCode`` extension (ID tokens, nonce), PKCE (``CodeChallenge``, required) and the refresh
token grant; access tokens are RFC 9068 JWTs (``JWTBearerTokenGenerator``) carrying the roles and
ids the API reads. Everything is signed RS256 with a key generated when the provider starts. It
serves discovery, JWKS, authorize (auto-approving the configured user: no login form) and the
token endpoint over HTTP with uvicorn on a free loopback port, like the bank's provider would.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from authlib.oauth2 import AuthorizationServer, OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Request, TokenMixin, grants
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload, JsonRequest
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oidc.core import AuthorizationCodeMixin, UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import KeySet, RSAKey
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.settings import Environment, Settings

CLIENT_ID = "c360-console"
CLIENT_SECRET = "console-secret-" + "x" * 16  # noqa: S105 - the test provider's own client
API_AUDIENCE = "c360-api"


@dataclass
class User:
    sub: str
    name: str
    roles: list[str]
    employee_id: str | None = None
    branch_id: str | None = None
    customer_id: str | None = None

    def get_user_id(self) -> str:
        return self.sub


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        allowed = {"openid", "profile", "email"}
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_basic" if endpoint == "token" else True

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in {"authorization_code", "refresh_token"}


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: User
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


@dataclass
class RefreshToken(TokenMixin):
    token: str
    client_id: str
    scope: str
    user: User
    revoked: bool = False

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return 3600

    def is_expired(self) -> bool:
        return False

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> User:
        return self.user

    def get_client(self) -> Client:
        raise NotImplementedError


class _Request(OAuth2Request):
    """An OAuth2Request over a Starlette request whose query and form were read already."""

    def __init__(self, request: Request, form: dict[str, str]) -> None:
        super().__init__(request.method, str(request.url), headers=request.headers)
        self._args = dict(request.query_params)
        self._form = form
        self.payload = BasicOAuth2Payload({**self._args, **form})

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class LocalProvider:
    """The provider: its key, client, user, issued codes and refresh tokens, and an HTTP server."""

    def __init__(self, *, redirect_uris: list[str], user: User, access_ttl_s: int = 600) -> None:
        self.port = _free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": uuid.uuid4().hex, "use": "sig"})
        self.keys = KeySet([self.key])
        self.client = Client(CLIENT_ID, CLIENT_SECRET, redirect_uris)
        self.user = user
        self.access_ttl_s = access_ttl_s
        self.codes: dict[str, AuthorizationCode] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.token_requests: list[str] = []  # grant types asked at the token endpoint
        self.issued: list[dict[str, Any]] = []  # every token response, as handed out
        self.server = self._authorization_server()
        self._uvicorn: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ authlib wiring
    def _authorization_server(self) -> AuthorizationServer:
        provider = self

        class Server(AuthorizationServer):
            def query_client(self, client_id: str) -> Client | None:
                return provider.client if client_id == provider.client.client_id else None

            def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
                provider.issued.append(token)
                if token.get("refresh_token"):
                    provider.refresh_tokens[token["refresh_token"]] = RefreshToken(
                        token["refresh_token"],
                        request.client.client_id,
                        token["scope"],
                        request.user,
                    )

            def create_oauth2_request(self, request: Any) -> OAuth2Request:
                return request  # already an OAuth2Request (built by the endpoints below)

            def create_json_request(self, request: Any) -> JsonRequest:
                raise NotImplementedError

            def handle_response(self, status: int, body: Any, headers: Any) -> Response:
                if isinstance(body, dict):
                    return JSONResponse(body, status_code=status, headers=dict(headers))
                return Response(body or "", status_code=status, headers=dict(headers))

            def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
                return None

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]

            def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
                data = request.payload.data
                provider.codes[code] = AuthorizationCode(
                    code=code,
                    client_id=request.client.client_id,
                    redirect_uri=data.get("redirect_uri", ""),
                    scope=request.scope or "",
                    user=request.user,
                    nonce=data.get("nonce"),
                    code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                )

            def query_authorization_code(self, code: str, client: Client) -> Any:
                found = provider.codes.get(code)
                return found if found and found.client_id == client.client_id else None

            def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: AuthorizationCode) -> User:
                return authorization_code.user

        class RefreshGrant(grants.RefreshTokenGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]
            INCLUDE_NEW_REFRESH_TOKEN = True

            def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
                found = provider.refresh_tokens.get(refresh_token)
                return found if found and not found.revoked else None

            def authenticate_user(self, refresh_token: RefreshToken) -> User:
                return refresh_token.user

            def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
                refresh_token.revoked = True

        class OpenID(OpenIDCode):
            def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
                return any(c.nonce == nonce for c in provider.codes.values())

            def resolve_client_private_key(self, client: Client) -> KeySet:
                return provider.keys

            def get_client_algorithm(self, client: Client) -> str:
                return "RS256"

            def get_encode_header(self, client: Client) -> dict[str, str]:
                return {"alg": "RS256", "kid": str(provider.key.kid)}

            def get_client_claims(self, client: Client) -> dict[str, Any]:
                return {"iss": provider.issuer, "aud": [client.client_id]}

            def generate_user_info(self, user: User, scope: str) -> UserInfo:
                return UserInfo(sub=user.sub, name=user.name)

        class AccessTokens(JWTBearerTokenGenerator):
            def get_jwks(self) -> KeySet:
                return provider.keys

            def get_audiences(self, client: Client, user: User, scope: str) -> list[str]:
                return [API_AUDIENCE]

            def get_extra_claims(
                self, client: Client, grant_type: str, user: User, scope: str
            ) -> dict[str, Any]:
                claims: dict[str, Any] = {"roles": user.roles, "nbf": int(time.time())}
                for name in ("employee_id", "branch_id", "customer_id"):
                    if value := getattr(user, name):
                        claims[name] = value
                return claims

        server = Server()
        server.register_token_generator(
            "default",
            AccessTokens(
                issuer=self.issuer,
                refresh_token_generator=lambda **_: secrets.token_urlsafe(32),
                expires_generator=lambda *_: self.access_ttl_s,
            ),
        )
        server.register_grant(CodeGrant, [OpenID(require_nonce=True), CodeChallenge(required=True)])
        server.register_grant(RefreshGrant)
        return server

    # ------------------------------------------------------------------ HTTP
    def app(self) -> Starlette:
        async def discovery(_: Request) -> JSONResponse:
            return JSONResponse(
                {
                    "issuer": self.issuer,
                    "authorization_endpoint": f"{self.issuer}/authorize",
                    "token_endpoint": f"{self.issuer}/token",
                    "jwks_uri": f"{self.issuer}/jwks",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "code_challenge_methods_supported": ["S256"],
                    "grant_types_supported": ["authorization_code", "refresh_token"],
                    "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                    "scopes_supported": ["openid", "profile", "email"],
                }
            )

        async def jwks(_: Request) -> JSONResponse:
            return JSONResponse(self.keys.as_dict(private=False))

        async def authorize(request: Request) -> Response:
            oauth_request = _Request(request, {})
            try:
                grant = self.server.get_consent_grant(request=oauth_request, end_user=self.user)
            except OAuth2Error as error:
                return self.server.handle_error_response(oauth_request, error)
            return self.server.create_authorization_response(
                request=oauth_request, grant_user=self.user, grant=grant
            )

        async def token(request: Request) -> Response:
            # application/x-www-form-urlencoded (RFC 6749 §3.2), parsed without python-multipart
            data = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
            self.token_requests.append(data.get("grant_type", ""))
            return self.server.create_token_response(_Request(request, data))

        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", discovery),
                Route("/jwks", jwks),
                Route("/authorize", authorize),
                Route("/token", token, methods=["POST"]),
            ]
        )

    def start(self) -> LocalProvider:
        self._uvicorn = uvicorn.Server(
            uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="warning")
        )
        self._thread = threading.Thread(target=self._uvicorn.run, name="oidc-provider", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test OIDC provider did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._uvicorn is not None and self._thread is not None:
            self._uvicorn.should_exit = True
            self._thread.join(timeout=10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def oidc_settings(settings: Settings, provider: LocalProvider, **overrides) -> Settings:
    update = {
        "environment": Environment.PRODUCTION,
        "jwt_issuer": provider.issuer,
        "jwt_audience": API_AUDIENCE,
        "jwt_jwks_url": f"{provider.issuer}/jwks",
        "jwt_dev_secret": None,
        "oidc_issuer": provider.issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": SecretStr(CLIENT_SECRET),
        "session_secret": SecretStr(secrets.token_urlsafe(32)),
        "session_cookie_secure": False,
    }
    update.update(overrides)
    # model_copy: production checks of the Neo4j password and pepper do not concern these tests
    return settings.model_copy(update=update)
