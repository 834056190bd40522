"""Persisted operations at /graphql: Apollo's automatic persisted queries (APQ) and, with
``TRUSTED_DOCUMENTS=true``, trusted documents only.

The protocol (what Apollo Client's ``PersistedQueryLink`` and other clients speak): a request
carries ``extensions.persistedQuery = {"version": 1, "sha256Hash": "<hex>"}``.

- hash only, hash known: the document is run; unknown: the GraphQL error
  ``PersistedQueryNotFound`` with ``extensions.code = PERSISTED_QUERY_NOT_FOUND`` (a request
  error: 200 in application/json, 400 in application/graphql-response+json; Apollo's link reads
  both) and the client sends the hash again with the document;
- hash and document: the hash must be the document's SHA-256 (else BAD_USER_INPUT naming it);
  the document runs and, when it executed (no parse or validation error), is remembered.

Where documents live:

- APQ: an in-process LRU per replica, bounded by ``APQ_BYTES`` of document text (documents over
  ``MAX_CACHED_TEXT`` are run but never kept) and kept per caller (subject): one caller cannot
  learn from a hit which documents another ran, nor evict theirs. The API is stateless and
  scales by replicas; a replica that never saw a hash answers PERSISTED_QUERY_NOT_FOUND and the
  client registers it there in one more round trip. Nothing else is shared, no cache service.
- Trusted documents: registered ahead of time by the channel teams (``c360 documents
  register``) as ``TrustedDocument`` nodes in the graph, so every replica sees them; each
  replica loads them at start-up and again on a miss (at most once every ``REFRESH_EVERY_S``, so
  unknown hashes cannot turn into a graph read each); a load replaces what was loaded before,
  so a document removed with ``c360 documents remove`` stops running on the next reload. The console's own documents are taken
  from its built bundle at start-up (held in memory: every replica serves the same bundle).

In trusted mode only registered documents run, by hash or in full (recognised in any layout by
the hash of their printed AST); anything else is refused with PERSISTED_QUERY_NOT_ALLOWED (403),
and APQ registration is off. Registered documents can be sent by hash in either mode.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from strawberry.http import GraphQLRequestData

from c360.documents import MAX_CACHED_TEXT, Document, canonical_hash, is_sha256, sha256_hex
from c360.http.answers import Refusal
from core.errors import ErrorCode

log = logging.getLogger("c360.persisted")

APQ_BYTES = 8 * 1024 * 1024  # document text remembered per replica (LRU), all callers together
REFRESH_EVERY_S = 5.0  # at most one reload of the registered documents per interval
MAX_REGISTERED = 10_000  # registered documents a replica loads

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"
PERSISTED_QUERY_NOT_FOUND = "PersistedQueryNotFound"  # the message Apollo's clients look for
NOT_ALLOWED_MESSAGE = (
    "Only registered operations run on this API (trusted documents): register this operation "
    "with `c360 documents register MANIFEST.json`, or send a registered one."
)

Loader = Callable[[], Awaitable[list[Document]]]


@dataclass(frozen=True)
class Resolved:
    """What a request runs: its document, and the hash to remember once it has executed (APQ
    registration), if any."""

    query: str
    remember: str | None = None


class PersistedDocuments:
    def __init__(self, *, trusted: bool, loader: Loader | None = None) -> None:
        self.trusted = trusted
        self._loader = loader
        self._apq: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._apq_bytes = 0
        self._fixed: list[Document] = []  # the console's, from its bundle: never reloaded
        self._by_id: dict[str, str] = {}
        self._canonical: set[str] = set()
        self._loaded_at: float | None = None
        self._lock = asyncio.Lock()

    # -- registered documents --------------------------------------------------------------

    def add(self, documents: Iterable[Document]) -> int:
        """Documents trusted for the life of the process (the console's, from its bundle)."""
        added = [d for d in documents if _usable(d)]
        self._fixed.extend(added)
        self._index(added)
        return len(added)

    def _index(self, documents: Iterable[Document]) -> None:
        for document in documents:
            self._by_id[document.id] = document.body
            if document.canonical:
                self._canonical.add(document.canonical)

    async def load(self) -> int:
        """Loads the registered documents from the graph (at start-up and on a miss), in place
        of those loaded before: a document removed from the graph stops running."""
        if self._loader is None:
            return 0
        self._loaded_at = time.monotonic()
        loaded = await self._loader()
        usable = [d for d in loaded if _usable(d)]
        if len(usable) < len(loaded):
            log.warning(
                "skipped %d registered document(s) without a text", len(loaded) - len(usable)
            )
        if len(loaded) >= MAX_REGISTERED:
            log.warning(
                "loaded the first %d registered documents only (MAX_REGISTERED)", len(loaded)
            )
        self._by_id, self._canonical = {}, set()
        self._index(self._fixed)
        self._index(usable)
        return len(usable)

    async def _reload_on_miss(self) -> bool:
        """Reloads unless a reload ran within REFRESH_EVERY_S; True when it reloaded."""
        async with self._lock:
            now = time.monotonic()
            if self._loaded_at is not None and now - self._loaded_at < REFRESH_EVERY_S:
                return False
            try:
                await self.load()
            except Exception as exc:  # the graph is down: answer from what is known
                log.warning("could not reload the registered documents: %s", type(exc).__name__)
                return False
            return True

    async def _registered_body(self, sha256: str) -> str | None:
        if sha256 not in self._by_id and self._loader is not None:
            await self._reload_on_miss()
        return self._by_id.get(sha256)

    async def _is_registered_text(self, text: str) -> bool:
        canonical = canonical_hash(text)
        if canonical is None:
            return False
        if canonical not in self._canonical and self._loader is not None:
            await self._reload_on_miss()
        return canonical in self._canonical

    # -- the protocol ----------------------------------------------------------------------

    async def resolve(self, data: GraphQLRequestData, *, caller: str = "") -> Resolved | None:
        """The document ``data`` runs; None when it carries no persisted query and no text
        (strawberry answers the missing query). Raises Refusal."""
        persisted = (data.extensions or {}).get("persistedQuery")
        if persisted is None:
            if data.query is None:
                return None
            if self.trusted and not await self._is_registered_text(data.query):
                raise Refusal(403, NOT_ALLOWED, NOT_ALLOWED_MESSAGE)
            return Resolved(data.query)
        sha256 = _checked(persisted)
        if data.query is not None:
            if sha256_hex(data.query) != sha256:
                raise Refusal(
                    400,
                    ErrorCode.BAD_USER_INPUT,
                    f"extensions.persistedQuery.sha256Hash {sha256} is not the SHA-256 of the "
                    f"query sent with it ({sha256_hex(data.query)}).",
                )
            if self.trusted:
                if sha256 in self._by_id or await self._is_registered_text(data.query):
                    return Resolved(data.query)
                raise Refusal(403, NOT_ALLOWED, NOT_ALLOWED_MESSAGE)
            return Resolved(data.query, remember=sha256)
        known = self._by_id.get(sha256) or (None if self.trusted else self._apq_get(caller, sha256))
        if known is None:
            known = await self._registered_body(sha256)
        if known is None:
            raise Refusal(400, NOT_FOUND, PERSISTED_QUERY_NOT_FOUND, json_status=200)
        return Resolved(known)

    def remember(self, sha256: str, query: str, *, caller: str = "") -> None:
        """Registers an APQ document that executed, for this caller (never in trusted mode;
        never a text longer than MAX_CACHED_TEXT)."""
        if self.trusted or len(query) > MAX_CACHED_TEXT:
            return
        key = (caller, sha256)
        if key not in self._apq:
            self._apq_bytes += len(query)
        self._apq[key] = query
        self._apq.move_to_end(key)
        while self._apq_bytes > APQ_BYTES:
            _, dropped = self._apq.popitem(last=False)
            self._apq_bytes -= len(dropped)

    def _apq_get(self, caller: str, sha256: str) -> str | None:
        query = self._apq.get((caller, sha256))
        if query is not None:
            self._apq.move_to_end((caller, sha256))
        return query


def _usable(document: Document) -> bool:
    return isinstance(document.body, str) and isinstance(document.id, str)


def _checked(persisted: object) -> str:
    if not isinstance(persisted, dict):
        raise Refusal(400, ErrorCode.BAD_USER_INPUT, "extensions.persistedQuery must be an object.")
    if persisted.get("version") != 1:
        raise Refusal(
            400,
            ErrorCode.BAD_USER_INPUT,
            f"extensions.persistedQuery.version {persisted.get('version')!r} is not supported: "
            "only version 1.",
        )
    sha256 = persisted.get("sha256Hash")
    if not is_sha256(sha256):
        raise Refusal(
            400,
            ErrorCode.BAD_USER_INPUT,
            "extensions.persistedQuery.sha256Hash must be 64 lowercase hexadecimal digits.",
        )
    assert isinstance(sha256, str)
    return sha256
