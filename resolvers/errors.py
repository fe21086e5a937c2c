"""Expected failures, with stable codes.

A workflow raises a :class:`DomainError`; a mutation turns it into ``userErrors`` and rolls
back everything the mutation wrote. A query raises a :class:`RequestError`, which reaches the
client as a top-level GraphQL error carrying ``extensions.code``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError

AnyCode = enum.StrEnum
"""Any error code: the hub-wide :class:`ErrorCode` or a domain's own enum."""


class ErrorCode(enum.StrEnum):
    """The hub-wide stable error codes: input and lookup, access, request safety. Each domain
    keeps its own codes in ``resolvers/<domain>/errors.py``; the schema joins them all into
    one ``ErrorCode`` enum. Clients may switch on these; never rename one."""

    # input and lookup
    INVALID_INPUT = "INVALID_INPUT"
    INVALID_ID = "INVALID_ID"
    NOT_FOUND = "NOT_FOUND"
    INVALID_PAGINATION = "INVALID_PAGINATION"
    INVALID_DATE = "INVALID_DATE"
    INVALID_FILE = "INVALID_FILE"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    # access
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    # request safety
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
    RATE_LIMITED = "RATE_LIMITED"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
    PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
    OPERATION_NOT_ALLOWED = "OPERATION_NOT_ALLOWED"
    INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
    BAD_REQUEST = "BAD_REQUEST"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    # faults the client may retry: the mutation lost a race (a deadlock or serialization failure
    # on every attempt; nothing was written), or the database cannot be reached (HTTP 503)
    CONFLICT = "CONFLICT"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


@dataclass
class Problem:
    """One expected failure: the input field at fault (if any), a code and a message."""

    code: AnyCode
    message: str
    field: str | None = None


class DomainError(Exception):
    """Base of every expected workflow failure; carries one or more :class:`Problem`."""

    def __init__(
        self,
        code: AnyCode,
        message: str,
        *,
        field: str | None = None,
        more: list[Problem] | None = None,
    ) -> None:
        super().__init__(message)
        self.problems = [Problem(code=code, message=message, field=field), *(more or [])]

    @property
    def code(self) -> AnyCode:
        return self.problems[0].code


class NotFound(DomainError):
    def __init__(self, what: str, *, field: str | None = None) -> None:
        super().__init__(ErrorCode.NOT_FOUND, f"{what} was not found", field=field)


class Forbidden(DomainError):
    def __init__(self, message: str = "You may not do this", *, field: str | None = None) -> None:
        super().__init__(ErrorCode.FORBIDDEN, message, field=field)


class RequestError(GraphQLError):
    """A top-level error the client is meant to see, with ``extensions.code``."""

    def __init__(self, code: AnyCode, message: str, **extra: Any) -> None:
        super().__init__(message, extensions={"code": code.value, **extra})
        self.code = code
