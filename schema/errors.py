"""Domain errors (core/errors.py) as GraphQL errors with a stable ``extensions.code``, in this one
place; anything else reaching the client is masked."""

from __future__ import annotations

import logging
import re
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.utils.logging import StrawberryLogger

from core.errors import UNAVAILABLE_MESSAGE, DomainError, ErrorCode

log = logging.getLogger("c360.graphql")


def _is_api_error(error: GraphQLError) -> bool:
    """Errors meant for the caller: ours, and GraphQL's own (e.g. a variable that does not coerce,
    whose original error is the GraphQLError that names the bad value)."""
    return isinstance(error.original_error, DomainError | GraphQLError)


def error_code(error: GraphQLError) -> ErrorCode:
    """The code the caller is answered with for this error (before masking)."""
    given = (error.extensions or {}).get("code")
    if isinstance(given, str) and given in ErrorCode.__members__:
        return ErrorCode(given)
    original = error.original_error
    if isinstance(original, DomainError):
        return original.code
    if original is None or isinstance(original, GraphQLError):
        return ErrorCode(_code_for_document_error(error))
    # graph/session.read/write turn the driver's "cannot serve now" errors into the domain's
    # ServiceUnavailableError; a bound that expires elsewhere (asyncio) means the same.
    if isinstance(original, TimeoutError):
        return ErrorCode.SERVICE_UNAVAILABLE
    return ErrorCode.INTERNAL


# graphql-core appends " Did you mean 'x'?" (fields, arguments, types, enum values) to some
# messages: a map of the schema for whoever guesses, where introspection is off.
_SUGGESTION = re.compile(r" Did you mean .*\?$", re.DOTALL)


class CodedErrors(MaskErrors):
    """Masks every unexpected error as INTERNAL and gives every error an ``extensions.code``.

    Errors without an original exception are the document's own (syntax, validation, limits):
    they are the caller's to fix and keep their message. A graph that is down, frozen or
    saturated is SERVICE_UNAVAILABLE: the reads and writes of graph/session.py raise it as a
    domain error, and a timeout is taken for it. ``hide_suggestions`` drops graphql-core's "Did
    you mean" hints.
    """

    def __init__(self, *, hide_suggestions: bool = False) -> None:
        super().__init__(
            should_mask_error=lambda e: e.original_error is not None and not _is_api_error(e),
            error_message="Internal error; it has been logged.",
        )
        self.hide_suggestions = hide_suggestions

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        if error_code(error) is ErrorCode.SERVICE_UNAVAILABLE:
            masked.message = UNAVAILABLE_MESSAGE
            masked.extensions = {"code": ErrorCode.SERVICE_UNAVAILABLE.value}
        else:
            masked.extensions = {"code": ErrorCode.INTERNAL.value}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            if isinstance(error.original_error, DomainError):
                error.extensions = {**(error.extensions or {}), "code": error_code(error).value}
            elif not (error.extensions or {}).get("code"):
                error.extensions = {
                    **(error.extensions or {}),
                    "code": _code_for_document_error(error),
                }
            if self.hide_suggestions:
                error.message = _SUGGESTION.sub("", error.message)
        return processed


class CodedSchema(strawberry.Schema):
    """Logs errors by kind: the caller's (bad input, refusals, limits) as one line each, since
    callers choose how many they cause; an unavailable graph as one warning line naming the
    cause; only unexpected errors (INTERNAL) with their traceback."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        for error in errors:
            code = error_code(error)
            if code is ErrorCode.INTERNAL:
                StrawberryLogger.error(error, execution_context)
            elif code is ErrorCode.SERVICE_UNAVAILABLE:
                cause = type(error.original_error).__name__ if error.original_error else "-"
                log.warning("%s (%s): %s", code.value, cause, error.message)
            else:
                log.info("%s: %s", code.value, error.message)


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
