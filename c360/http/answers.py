"""How /graphql answers, in one place: the media type the caller asked for (GraphQL over HTTP:
``application/graphql-response+json`` when the Accept header lists it, ``application/json``
otherwise) and every refusal as a GraphQL-shaped JSON body with ``extensions.code``.

``application/json`` keeps the answers clients have always had (200 for any GraphQL error, a
``data`` key beside the errors). ``application/graphql-response+json`` follows the spec: a
request that did not execute (parse, validation, variable coercion) is 400 without ``data``,
field errors are 200 with ``data``."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import Scope

from core.errors import ErrorCode
from schema.errors import error_body

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

# What each listed media range gets: */* and application/* the default (application/json).
_ANSWERED_AS = {GRAPHQL_RESPONSE: GRAPHQL_RESPONSE, JSON: JSON, "application/*": JSON, "*/*": JSON}

# The status of a GraphQL request error (nothing executed) under graphql-response+json, by the
# code of its first error; anything else is 400.
_STATUS_OF = {
    ErrorCode.UNAUTHENTICATED.value: 401,
    ErrorCode.FORBIDDEN.value: 403,
    ErrorCode.RATE_LIMITED.value: 429,
    ErrorCode.SERVICE_UNAVAILABLE.value: 503,
    ErrorCode.INTERNAL.value: 500,
}

NOT_ACCEPTABLE = (
    "/graphql answers application/graphql-response+json or application/json; the Accept "
    "header allows neither."
)


def negotiate(accept: str | None) -> str | None:
    """The media type to answer in; None when the Accept header allows neither (406).

    The highest quality wins; on a tie graphql-response+json. No Accept header: application/json
    (the spec's legacy default, what older clients expect)."""
    if accept is None or not accept.strip():
        return JSON
    best: str | None = None
    best_q = 0.0
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        answered = _ANSWERED_AS.get(media.lower())
        if answered is None:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q or (q == best_q and q > 0 and answered == GRAPHQL_RESPONSE):
            best, best_q = answered, q
    return best


def media_of(scope: Scope) -> str:
    """The media type a refusal is answered in (application/json when none is acceptable)."""
    return negotiate(Headers(scope=scope).get("accept")) or JSON


def content_type(media: str) -> str:
    return f"{media}; charset=utf-8" if media == GRAPHQL_RESPONSE else media


def request_error_status(codes: list[str]) -> int:
    return _STATUS_OF.get(codes[0], 400) if codes else 400


class Refusal(Exception):
    """A /graphql request refused before (or instead of) running, as the caller will see it.

    ``json_status``: the status in application/json when it differs (a GraphQL request error
    such as PERSISTED_QUERY_NOT_FOUND is 200 there, as for any GraphQL error)."""

    def __init__(
        self,
        status: int,
        code: ErrorCode | str,
        message: str,
        headers: Mapping[str, str] | None = None,
        *,
        json_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code.value if isinstance(code, ErrorCode) else code
        self.message = message
        self.headers = dict(headers or {})
        self.json_status = json_status

    def response(self, media: str) -> JSONResponse:
        status = self.json_status if media == JSON and self.json_status else self.status
        return refusal(media, status, self.code, self.message, self.headers)


def refusal(
    media: str,
    status: int,
    code: ErrorCode | str,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """``{"errors": [{"message", "extensions": {"code"}}]}`` in ``media``; application/json keeps
    its ``"data": null`` (what its clients always had), graphql-response+json has no ``data``
    on a request that did not execute."""
    body = error_body(ErrorCode.INTERNAL, message)
    body["errors"][0]["extensions"]["code"] = code.value if isinstance(code, ErrorCode) else code
    if media == GRAPHQL_RESPONSE:
        del body["data"]
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=content_type(media)
    )


def refused(
    scope: Scope,
    status: int,
    code: ErrorCode | str,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A refusal in the media type the request asked for (for the middleware)."""
    return refusal(media_of(scope), status, code, message, headers)
