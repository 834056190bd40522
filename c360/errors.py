"""API errors with a stable ``extensions.code``; anything else reaching the client is masked."""

from __future__ import annotations

from enum import StrEnum

from graphql import GraphQLError
from strawberry.extensions import MaskErrors


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    RATE_LIMITED = "RATE_LIMITED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL = "INTERNAL"


class ApiError(GraphQLError):
    """An error the caller may see: a plain message and a code, never internals."""

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str, *, code: ErrorCode | None = None) -> None:
        code = code or type(self).code
        super().__init__(message, extensions={"code": code.value})


class Forbidden(ApiError):
    code = ErrorCode.FORBIDDEN


class NotFound(ApiError):
    code = ErrorCode.NOT_FOUND


class BadUserInput(ApiError):
    code = ErrorCode.BAD_USER_INPUT


class ServiceUnavailableError(ApiError):
    code = ErrorCode.SERVICE_UNAVAILABLE

    def __init__(
        self, message: str = "The customer graph is temporarily unavailable; retry shortly."
    ) -> None:
        super().__init__(message)


def _is_api_error(error: GraphQLError) -> bool:
    """Errors meant for the caller: ours, and GraphQL's own (e.g. a variable that does not coerce,
    whose original error is the GraphQLError that names the bad value)."""
    return isinstance(error, ApiError) or isinstance(error.original_error, GraphQLError)


class CodedErrors(MaskErrors):
    """Masks every unexpected error as INTERNAL and gives every error an ``extensions.code``.

    Errors without an original exception are the document's own (syntax, validation, limits):
    they are the caller's to fix and keep their message.
    """

    def __init__(self) -> None:
        super().__init__(
            should_mask_error=lambda e: e.original_error is not None and not _is_api_error(e),
            error_message="Internal error; it has been logged.",
        )

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": ErrorCode.INTERNAL.value}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            if not (error.extensions or {}).get("code"):
                error.extensions = {
                    **(error.extensions or {}),
                    "code": _code_for_document_error(error),
                }
        return processed


# Messages of strawberry's limiters and graphql-core's token limit.
_LIMIT_MARKERS = (
    "exceeds maximum operation depth",
    "aliases found. allowed",
    "document contains more than",
)


def _code_for_document_error(error: GraphQLError) -> str:
    text = error.message.lower()
    if any(marker in text for marker in _LIMIT_MARKERS):
        return ErrorCode.LIMIT_EXCEEDED.value
    return ErrorCode.BAD_USER_INPUT.value


def error_body(code: ErrorCode, message: str) -> dict:
    """A GraphQL-shaped error body for answers given before GraphQL runs (401, 429)."""
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code.value}}]}
