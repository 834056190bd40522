"""Domain errors with a stable code. No transport here: the GraphQL layer (schema/errors.py)
and the HTTP edge turn them into answers, each in one place."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    RATE_LIMITED = "RATE_LIMITED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL = "INTERNAL"


class DomainError(Exception):
    """An error the caller may see: a plain message and a code, never internals."""

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str, *, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or type(self).code


class Forbidden(DomainError):
    code = ErrorCode.FORBIDDEN


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class BadUserInput(DomainError):
    code = ErrorCode.BAD_USER_INPUT


UNAVAILABLE_MESSAGE = "The customer graph is temporarily unavailable; retry shortly."


class ServiceUnavailableError(DomainError):
    code = ErrorCode.SERVICE_UNAVAILABLE

    def __init__(self, message: str = UNAVAILABLE_MESSAGE) -> None:
        super().__init__(message)
