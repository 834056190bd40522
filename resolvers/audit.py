"""Reading the audit trail (auditors and admins); the reading is itself audited."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from auth import enforce
from auth.policy import Operation
from c360.errors import ApiError, BadUserInput, ErrorCode
from graph.queries import audit as q
from resolvers.context import Context


@dataclass(frozen=True)
class AuditPage:
    events: list[dict[str, Any]]
    has_next_page: bool


def encode_cursor(event: dict[str, Any]) -> str:
    at = event["at"].to_native() if hasattr(event["at"], "to_native") else event["at"]
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{event['event_id']}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    try:
        at, event_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return dt.datetime.fromisoformat(at), event_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadUserInput("after is not a cursor this API issued") from exc


def page_size(ctx: Context, first: int) -> int:
    if first < 1:
        raise BadUserInput("first must be at least 1")
    if first > ctx.settings.max_page_size:
        raise ApiError(
            f"first may be at most {ctx.settings.max_page_size}", code=ErrorCode.LIMIT_EXCEEDED
        )
    return first


async def audit_events(
    ctx: Context,
    *,
    first: int,
    after: str | None,
    subject: str | None,
    customer_id: str | None,
    fields: Iterable[str],
) -> AuditPage:
    enforce.require(ctx.principal, Operation.READ_AUDIT)
    limit = page_size(ctx, first)
    after_at, after_id = _decode_cursor(after) if after else (None, None)
    rows = await ctx.read(
        q.list_events,
        subject=subject,
        customer_id=customer_id,
        after_at=after_at,
        after_id=after_id,
        limit=limit + 1,
    )
    await ctx.audit(
        Operation.READ_AUDIT.value,
        customer_ids=[customer_id] if customer_id else [],
        fields=fields,
    )
    return AuditPage(events=rows[:limit], has_next_page=len(rows) > limit)
