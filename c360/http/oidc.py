"""Production sign-in to the console through the bank's OpenID Connect provider (issue 8).

authlib's Starlette client does the protocol (discovery, PKCE S256, state, nonce, the code
exchange, ID token validation); this module keeps everything it needs on the server:

* ``GET /console/login`` keeps the state, the PKCE verifier and the nonce in the session store
  under a random id, gives the browser only that id in a short-lived HttpOnly cookie limited to
  the callback path, and redirects to the provider;
* ``GET /console/callback`` takes that sign-in back (once), checks the state, exchanges the code,
  validates the ID token (nonce included) and the access token — with the API's own
  :class:`~auth.tokens.TokenValidator`, so the roles come from the same claims as every bearer
  token — then keeps the tokens server-side and gives the browser an opaque session cookie;
* ``POST /console/logout`` (same-origin only) ends the session;
* :meth:`ConsoleSignIn.principal` is how ``BearerAuthMiddleware`` authenticates a request that
  carries the session cookie instead of a bearer token (refreshing the access token with the
  refresh token when it is about to expire).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import logging
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import httpx2
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth
from joserfc.errors import JoseError
from neo4j.exceptions import DriverError, Neo4jError
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import BaseRoute, Route

from auth.principal import Principal
from auth.ratelimit import TokenBucketLimiter
from auth.sessions import LOGIN_TTL_S, LoginState, SessionStore, SessionTokens
from auth.tokens import InvalidToken, TokenValidator
from core.settings import Settings

log = logging.getLogger("c360.http.console.oidc")

PROVIDER = "bank"
REFRESH_AHEAD_S = 30  # refresh an access token this long before it expires
LOCK_STRIPES = 64  # concurrent refreshes of one session in this process share one lock
CSRF_HEADER = "x-requested-with"
# authlib's client runs on httpx2 (httpx when httpx2 is missing): either's errors count
PROVIDER_ERRORS = (
    AuthlibBaseError,
    JoseError,
    httpx.HTTPError,
    httpx2.HTTPError,
    KeyError,
    ValueError,
)
NO_STORE_PATHS = frozenset(
    {"/console/login", "/console/callback", "/console/logout", "/console/sign-in-options"}
)


def session_cookie_name(settings: Settings) -> str:
    # __Host-: the browser accepts it only Secure, Path=/ and without Domain (no subdomain can
    # plant or overwrite it). Without Secure (plain-http tests) the prefix is not allowed.
    return "__Host-c360_session" if settings.cookie_secure else "c360_session"


def login_cookie_name(settings: Settings) -> str:
    return "__Secure-c360_login" if settings.cookie_secure else "c360_login"


def same_origin_request(headers: Headers, settings: Settings) -> bool:
    """A cookie-authenticated request must come from the console's own scripts: it carries the
    ``X-Requested-With`` header (which a form, a link or a cross-site script cannot send without
    a CORS preflight that this API refuses) and, when the browser names an Origin, it is ours."""
    if not headers.get(CSRF_HEADER):
        return False
    origin = headers.get("origin")
    if origin is None:
        return True
    ours = {headers.get("host", "")}
    if settings.oidc_redirect_uri:
        ours.add(urlsplit(settings.oidc_redirect_uri).netloc)
    return urlsplit(origin).netloc in ours


def _expires_at(token: dict[str, Any]) -> int | None:
    value = token.get("expires_at")
    return int(value) if isinstance(value, int | float) else None


def _page(status: int, zh: str, en: str) -> HTMLResponse:
    """A small bilingual page for a sign-in that could not finish (served under the console
    CSP: no inline script or style)."""
    body = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        "<title>Customer Graph 360</title>"
        '<link rel="icon" href="data:,"><link rel="stylesheet" href="/console/style.css"></head>'
        '<body><main><div class="card signin" role="alert">'
        f"<h1>{html.escape(zh)}</h1><p>{html.escape(en)}</p>"
        '<p><a href="/console/login">重新登录 · Sign in again</a></p>'
        "</div></main></body></html>"
    )
    return HTMLResponse(body, status_code=status)


class ConsoleSignIn:
    """The console's OpenID Connect client and its server-side sessions."""

    def __init__(
        self,
        settings: Settings,
        validator: TokenValidator,
        limiter: TokenBucketLimiter | None = None,
    ) -> None:
        if not settings.oidc_enabled or settings.oidc_client_secret is None:
            raise ValueError("OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are not all set")
        self.settings = settings
        self.validator = validator
        self.limiter = limiter  # each sign-in started writes a record: throttled per address
        self.store: SessionStore | None = None  # attached by the app's lifespan
        self.oauth = OAuth()
        self.client = self.oauth.register(
            name=PROVIDER,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret.get_secret_value(),
            server_metadata_url=settings.oidc_metadata_url,
            client_kwargs={
                "scope": settings.oidc_scopes,
                "code_challenge_method": "S256",
                "timeout": 10.0,
            },
        )
        self._locks = [asyncio.Lock() for _ in range(LOCK_STRIPES)]

    @property
    def sessions(self) -> SessionStore:
        if self.store is None:
            raise RuntimeError("the session store is attached in the app's lifespan")
        return self.store

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/console/login", self.start, methods=["GET"], name="console_login"),
            Route("/console/callback", self.finish, methods=["GET"], name="console_callback"),
            Route("/console/logout", self.sign_out, methods=["POST"], name="console_logout"),
        ]

    # ------------------------------------------------------------------ sign-in
    async def start(self, request: Request) -> Response:
        if self.limiter is not None:
            address = request.client.host if request.client else "unknown"
            retry_after = self.limiter.take(f"login:{address}")
            if retry_after is not None:
                return PlainTextResponse(
                    "Too many sign-ins started; retry later.",
                    status_code=429,
                    headers={"Retry-After": str(retry_after)},
                )
        redirect_uri = self.settings.oidc_redirect_uri or str(request.url_for("console_callback"))
        try:
            rv = await self.client.create_authorization_url(redirect_uri)
        except PROVIDER_ERRORS as exc:
            log.warning("OIDC provider unreachable at sign-in: %s", type(exc).__name__)
            return _page(
                503,
                "暂时无法连接银行统一登录服务，请稍后再试。",
                "The bank's sign-in service cannot be reached just now; try again shortly.",
            )
        login_id = await self.sessions.begin_login(
            LoginState(
                state=rv["state"],
                code_verifier=rv["code_verifier"],
                nonce=rv["nonce"],
                redirect_uri=redirect_uri,
            )
        )
        response = RedirectResponse(rv["url"], status_code=302)
        response.set_cookie(
            login_cookie_name(self.settings),
            login_id,
            max_age=LOGIN_TTL_S,
            path="/console/callback",
            secure=self.settings.cookie_secure,
            httponly=True,
            samesite="lax",  # sent on the provider's top-level redirect back to us
        )
        return response

    async def finish(self, request: Request) -> Response:
        login_id = request.cookies.get(login_cookie_name(self.settings), "")
        login = await self.sessions.take_login(login_id) if login_id else None
        if login is None:
            log.info("sign-in callback without a live sign-in started by this browser")
            return self._refused("no sign-in in progress")
        params = request.query_params
        if not hmac.compare_digest(params.get("state", ""), login.state):
            log.warning("sign-in callback with a wrong state refused")
            return self._refused("wrong state")
        if params.get("error"):
            log.info("provider refused the sign-in: %s", params.get("error"))
            return self._refused("provider error")
        try:
            token = await self.client.fetch_access_token(
                redirect_uri=login.redirect_uri,
                code=params.get("code", ""),
                code_verifier=login.code_verifier,
            )
            # signature, iss, aud = our client id, exp, iat, nonce, at_hash
            await self.client.parse_id_token(token, nonce=login.nonce)
        except PROVIDER_ERRORS as exc:
            log.warning("sign-in code exchange failed: %s: %s", type(exc).__name__, exc)
            return self._refused("code exchange failed")
        try:
            principal = await self.validator.authenticate(str(token.get("access_token", "")))
        except InvalidToken as exc:
            log.warning("provider's access token refused: %s", exc.reason)
            refused: Response = _page(
                403,
                "登录成功，但您的账户没有本工作台的角色，请联系管理员。",
                "You signed in, but your account has no role for this console; ask your "
                "administrator.",
            )
            self._forget_login(refused)
            return refused
        session_id = await self.sessions.create(
            SessionTokens(
                access_token=token["access_token"],
                refresh_token=token.get("refresh_token"),
                id_token=token.get("id_token"),
                expires_at=_expires_at(token),
            ),
            subject=principal.subject,
        )
        log.info("console session started for %s", principal.subject)
        response = RedirectResponse("/console/", status_code=303)
        self._forget_login(response)
        response.set_cookie(
            session_cookie_name(self.settings),
            session_id,
            max_age=self.settings.session_max_age_s,
            path="/",
            secure=self.settings.cookie_secure,
            httponly=True,
            samesite="lax",
        )
        return response

    def _forget_login(self, response: Response) -> None:
        # the same attributes as when set: a __Secure- cookie is only deleted by a Secure one
        response.delete_cookie(
            login_cookie_name(self.settings),
            path="/console/callback",
            secure=self.settings.cookie_secure,
            httponly=True,
            samesite="lax",
        )

    def _refused(self, reason: str) -> Response:
        response = _page(
            400,
            "登录未完成（已过期或不是从本页面发起），请重新登录。",
            f"Sign-in could not be completed ({reason}); please sign in again.",
        )
        self._forget_login(response)
        return response

    async def sign_out(self, request: Request) -> Response:
        if not same_origin_request(request.headers, self.settings):
            return JSONResponse({"error": "Sign-out must come from the console."}, status_code=403)
        name = session_cookie_name(self.settings)
        session_id = request.cookies.get(name)
        if session_id:
            await self.sessions.delete(session_id)
        response = JSONResponse({"signedOut": True})
        response.delete_cookie(
            name, path="/", secure=self.settings.cookie_secure, httponly=True, samesite="lax"
        )
        return response

    # ------------------------------------------------------------------ per request
    async def signed_in(self, request: Request) -> bool:
        """Whether this browser's session cookie (if any) stands for a valid sign-in."""
        session_id = request.cookies.get(session_cookie_name(self.settings))
        if not session_id:
            return False
        try:
            await self.principal(session_id)
        except InvalidToken:
            return False
        except (Neo4jError, DriverError) as exc:  # the store is down: not signed in, for now
            log.warning("console session lookup failed: %s", type(exc).__name__)
            return False
        return True

    async def principal(self, session_id: str) -> Principal:
        """The caller behind a session cookie, validated like any bearer token."""
        tokens = await self.sessions.get(session_id)
        if tokens is None:
            raise InvalidToken("unknown or expired console session")
        if self._expiring(tokens) and tokens.refresh_token:
            tokens = await self._refresh(session_id)
        return await self.validator.authenticate(tokens.access_token)

    @staticmethod
    def _expiring(tokens: SessionTokens) -> bool:
        return tokens.expires_at is not None and tokens.expires_at <= time.time() + REFRESH_AHEAD_S

    async def _refresh(self, session_id: str) -> SessionTokens:
        stripe = int.from_bytes(hashlib.sha256(session_id.encode()).digest()[:2]) % LOCK_STRIPES
        async with self._locks[stripe]:
            current = await self.sessions.get(session_id)  # another request may have refreshed
            if current is None:
                raise InvalidToken("console session ended")
            if not self._expiring(current) or not current.refresh_token:
                return current
            try:
                token = await self.client.fetch_access_token(
                    grant_type="refresh_token", refresh_token=current.refresh_token
                )
                fresh = SessionTokens(
                    access_token=str(token["access_token"]),
                    refresh_token=token.get("refresh_token") or current.refresh_token,
                    id_token=token.get("id_token") or current.id_token,
                    expires_at=_expires_at(token),
                )
            except PROVIDER_ERRORS as exc:
                # Another replica may have refreshed first (and the provider rotated the refresh
                # token): then the session holds a fresh access token already.
                again = await self.sessions.get(session_id)
                if again is not None and not self._expiring(again):
                    return again
                raise InvalidToken(f"token refresh failed: {type(exc).__name__}") from exc
            if not await self.sessions.update(session_id, fresh):
                raise InvalidToken("console session ended during refresh")
            log.info("console session access token refreshed")
            return fresh
