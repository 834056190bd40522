"""Server-side console sessions: the browser holds only a random id, the tokens stay here.

A browser signed in through the bank's OpenID Connect provider carries one HttpOnly cookie whose
value is 32 random bytes (base64url). The store never keeps that value: a record is found by
``HMAC-SHA256(SESSION_SECRET, id)`` and its tokens are sealed with AES-256-GCM under a key derived
(HKDF) from ``SESSION_SECRET`` and the id, so a copy of the database alone yields neither a usable
cookie nor a token. The same holds for the short-lived sign-in records (state, PKCE verifier,
nonce) that bind a provider callback to the browser that started the sign-in.

:class:`SessionStore` is the interface the web layer uses; :class:`Neo4jSessionStore` keeps the
records in the graph, so every API replica sees every session (and a sign-out everywhere at once).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from neo4j import READ_ACCESS, WRITE_ACCESS, AsyncDriver

from graph import session
from graph.queries import console_sessions as q

SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
LOGIN_TTL_S = 600  # a sign-in must come back from the provider within 10 minutes
PURGE_BATCH = 500


@dataclass(frozen=True)
class LoginState:
    """What the callback needs to finish a sign-in started by this browser."""

    state: str
    code_verifier: str
    nonce: str
    redirect_uri: str


@dataclass(frozen=True)
class SessionTokens:
    """The provider's tokens for one signed-in browser."""

    access_token: str
    refresh_token: str | None = None
    id_token: str | None = None
    expires_at: int | None = None  # of the access token, epoch seconds, as the provider said


class SessionStore(Protocol):
    async def begin_login(self, login: LoginState) -> str:
        """Keep a sign-in in progress; return the random id for the browser's login cookie."""
        ...

    async def take_login(self, login_id: str) -> LoginState | None:
        """The sign-in started under this id (once only), or None."""
        ...

    async def create(self, tokens: SessionTokens, *, subject: str) -> str:
        """Keep a signed-in session; return the random id for the browser's session cookie."""
        ...

    async def get(self, session_id: str) -> SessionTokens | None: ...

    async def update(self, session_id: str, tokens: SessionTokens) -> bool:
        """Replace the tokens (after a refresh); False when the session is gone."""
        ...

    async def delete(self, session_id: str) -> None: ...


class SessionSealer:
    """Lookup keys and authenticated encryption of records, both bound to the browser's id."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def key_for(self, raw_id: str) -> str:
        return hmac.new(self._secret, b"lookup:" + raw_id.encode(), hashlib.sha256).hexdigest()

    def _aead(self, raw_id: str) -> AESGCM:
        hkdf = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=raw_id.encode(),
            info=b"c360 console session v1",
        )
        return AESGCM(hkdf.derive(self._secret))

    def seal(self, raw_id: str, data: dict[str, Any]) -> str:
        nonce = os.urandom(12)
        aad = self.key_for(raw_id).encode()
        box = self._aead(raw_id).encrypt(nonce, json.dumps(data).encode(), aad)
        return base64.urlsafe_b64encode(nonce + box).decode()

    def open(self, raw_id: str, sealed: str) -> dict[str, Any] | None:
        try:
            blob = base64.urlsafe_b64decode(sealed.encode())
            aad = self.key_for(raw_id).encode()
            plain = self._aead(raw_id).decrypt(blob[:12], blob[12:], aad)
            data = json.loads(plain)
        except (InvalidTag, ValueError):
            return None
        return data if isinstance(data, dict) else None


def new_id() -> str:
    return secrets.token_urlsafe(32)


def well_formed(raw_id: str | None) -> bool:
    return raw_id is not None and SESSION_ID.fullmatch(raw_id) is not None


class Neo4jSessionStore:
    """:class:`SessionStore` on ``ConsoleLogin`` and ``ConsoleSession`` nodes."""

    def __init__(self, driver: AsyncDriver, *, database: str, secret: str, max_age_s: int) -> None:
        self._driver = driver
        self._database = database
        self._sealer = SessionSealer(secret)
        self._max_age_s = max_age_s

    async def _write(self, work: Any, /, **params: Any) -> Any:
        return await session.managed(self._driver, self._database, WRITE_ACCESS, work, **params)

    async def _read(self, work: Any, /, **params: Any) -> Any:
        return await session.managed(self._driver, self._database, READ_ACCESS, work, **params)

    async def begin_login(self, login: LoginState) -> str:
        raw_id, now = new_id(), int(time.time())
        await self._write(q.purge_expired, now=now, limit=PURGE_BATCH)
        await self._write(
            q.create_login,
            key=self._sealer.key_for(raw_id),
            sealed=self._sealer.seal(raw_id, asdict(login)),
            now=now,
            expires_at=now + LOGIN_TTL_S,
        )
        return raw_id

    async def take_login(self, login_id: str) -> LoginState | None:
        if not well_formed(login_id):
            return None
        sealed = await self._write(
            q.take_login, key=self._sealer.key_for(login_id), now=int(time.time())
        )
        data = self._sealer.open(login_id, sealed) if sealed else None
        try:
            return LoginState(**data) if data else None
        except TypeError:
            return None

    async def create(self, tokens: SessionTokens, *, subject: str) -> str:
        raw_id, now = new_id(), int(time.time())
        await self._write(
            q.create_session,
            key=self._sealer.key_for(raw_id),
            sealed=self._sealer.seal(raw_id, asdict(tokens)),
            subject=subject,
            now=now,
            expires_at=now + self._max_age_s,
        )
        return raw_id

    async def get(self, session_id: str) -> SessionTokens | None:
        if not well_formed(session_id):
            return None
        row = await self._read(
            q.get_session, key=self._sealer.key_for(session_id), now=int(time.time())
        )
        data = self._sealer.open(session_id, row["sealed"]) if row else None
        try:
            return SessionTokens(**data) if data else None
        except TypeError:
            return None

    async def update(self, session_id: str, tokens: SessionTokens) -> bool:
        if not well_formed(session_id):
            return False
        return await self._write(
            q.update_session_tokens,
            key=self._sealer.key_for(session_id),
            sealed=self._sealer.seal(session_id, asdict(tokens)),
            now=int(time.time()),
        )

    async def delete(self, session_id: str) -> None:
        if not well_formed(session_id):
            return
        await self._write(q.delete_session, key=self._sealer.key_for(session_id))
