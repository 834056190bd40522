"""Idempotency keys: a ``clientMutationId`` belongs to one caller and one operation, and is
bound to the arguments of the request that first used it.

The key's id hashes (subject, operation, clientMutationId), so two callers, or one caller's
two operations, never share a key. The request hash is over the arguments in canonical form
(sorted names, datetimes as UTC instants), so a retry that spells the same request differently
is still the same request, and a different request under the same key is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from auth.policy import Operation
from auth.principal import Principal
from core.errors import BadUserInput

MAX_KEY_LENGTH = 100
REUSED = "clientMutationId: key already used for another request; use a new key (a UUID)"


@dataclass(frozen=True)
class IdempotencyKey:
    key_id: str
    request_hash: str
    operation: Operation


def idempotency_key(
    principal: Principal,
    operation: Operation,
    client_mutation_id: str,
    arguments: Mapping[str, Any],
) -> IdempotencyKey:
    if not client_mutation_id or len(client_mutation_id) > MAX_KEY_LENGTH:
        raise BadUserInput(f"clientMutationId must be 1 to {MAX_KEY_LENGTH} characters")
    scoped = "\x00".join((principal.subject, operation.value, client_mutation_id))
    return IdempotencyKey(
        key_id=hashlib.sha256(scoped.encode()).hexdigest(),
        request_hash=hashlib.sha256(_canonical(arguments).encode()).hexdigest(),
        operation=operation,
    )


def _canonical(arguments: Mapping[str, Any]) -> str:
    return json.dumps(
        arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain
    )


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.isoformat()
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not an argument value: {type(value).__name__}")
