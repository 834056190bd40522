"""Relay-style pagination: the page limit and the one cursor codec of every connection.

A cursor names the row after which the next page starts (its sort value and id), so as plain
text it would carry whatever the list is ordered by, masked or not. Cursors are therefore sealed
with AES-256-GCM under a key derived (HKDF, its own label) from ``C360_ID_PEPPER``: a secret that
production requires and every replica shares, so any replica reads a cursor any other issued.
The associated data is the caller (subject, roles, scope claims) and the query (connection, sort,
filters, search, parent), so a cursor issued to someone else or for another query fails
authentication exactly like a forged one. The plaintext is padded to a multiple of
``PAD_TO`` bytes: the cursor's length says nothing about the sort value either.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, overload

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from auth.principal import Principal
from core.errors import BadUserInput
from core.settings import Settings

DEFAULT_PAGE = 20
KEY_LABEL = b"c360/pagination-cursor/v1"
VERSION = b"\x01"
NONCE_BYTES = 12
TAG_BYTES = 16
PAD_TO = 128
CURSOR_TEXT = re.compile(r"[A-Za-z0-9_-]{1,1024}")  # unpadded base64url, bounded
NOT_A_CURSOR = (
    "after is not a cursor this API issued to you for this list "
    "(pass pageInfo.endCursor of the same query, or leave after out)"
)


def page_size(settings: Settings, first: int | None) -> int:
    """``first`` checked against ``MAX_PAGE_SIZE``; BAD_USER_INPUT naming ``first`` outside it."""
    maximum = settings.max_page_size
    if first is None:
        return min(DEFAULT_PAGE, maximum)
    if first < 1 or first > maximum:
        raise BadUserInput(f"first must be between 1 and {maximum}")
    return first


@lru_cache(maxsize=4)
def _aead(secret: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_LABEL).derive(
        secret.encode()
    )
    return AESGCM(key)


@dataclass(frozen=True)
class CursorCodec:
    """Seals and opens the cursors of one list as one caller asked for it."""

    aead: AESGCM
    binding: bytes

    def encode(self, *position: str | int | float | None) -> str:
        plain = json.dumps(list(position), ensure_ascii=False, separators=(",", ":")).encode()
        plain += b" " * (-len(plain) % PAD_TO)  # JSON ignores trailing blanks
        nonce = os.urandom(NONCE_BYTES)
        sealed = VERSION + nonce + self.aead.encrypt(nonce, plain, self.binding)
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def decode(self, after: str | None, *, arity: int) -> tuple[Any, ...] | None:
        """The position a cursor of this codec names; BAD_USER_INPUT for anything else."""
        if after is None:
            return None
        if not CURSOR_TEXT.fullmatch(after):
            raise BadUserInput(NOT_A_CURSOR)
        try:
            sealed = base64.urlsafe_b64decode(after + "=" * (-len(after) % 4))
        except (ValueError, binascii.Error) as exc:
            raise BadUserInput(NOT_A_CURSOR) from exc
        head = len(VERSION) + NONCE_BYTES
        if len(sealed) < head + TAG_BYTES or not sealed.startswith(VERSION):
            raise BadUserInput(NOT_A_CURSOR)
        try:
            plain = self.aead.decrypt(sealed[len(VERSION) : head], sealed[head:], self.binding)
        except InvalidTag as exc:
            raise BadUserInput(NOT_A_CURSOR) from exc
        position = json.loads(plain)
        if not isinstance(position, list) or len(position) != arity:
            raise BadUserInput(NOT_A_CURSOR)
        return tuple(position)


def list_cursors(
    settings: Settings, principal: Principal, connection: str, **query: Any
) -> CursorCodec:
    """The codec of one list: ``query`` is everything that decides its rows and their order
    (never the page size, which may change from page to page)."""
    binding = json.dumps(
        {
            "connection": connection,
            "subject": principal.subject,
            "roles": sorted(principal.roles),
            "claims": [principal.employee_id, principal.customer_id, principal.branch_id],
            "query": query,
        },
        sort_keys=True,
        default=str,
    )  # ASCII (escapes even a lone surrogate), so it always encodes
    return CursorCodec(_aead(settings.id_pepper.get_secret_value()), binding.encode())


class Cursors(Sequence[str]):
    """The cursors of a page's items, each sealed when first asked for: the cursor of an edge
    nobody selects is never sealed (at 100 items, 100 encryptions saved)."""

    def __init__(self, codec: CursorCodec, positions: list[tuple[Any, ...]]) -> None:
        self._codec = codec
        self._positions = positions
        self._sealed: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._positions)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        index = range(len(self))[index]  # IndexError beyond the page, negatives from the end
        if index not in self._sealed:
            self._sealed[index] = self._codec.encode(*self._positions[index])
        return self._sealed[index]
