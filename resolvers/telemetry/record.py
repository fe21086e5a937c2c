"""What the hub notes about one request while it runs: its id, the caller, the operation, the
SQL statements it sent and how it ended. The HTTP layer opens a record per request; the
database engines' listeners and the GraphQL view fill it in; at the end it becomes one log
line and the request's metrics (resolvers.telemetry.logs, .metrics)."""

from __future__ import annotations

import itertools
import re
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

# A client's X-Request-Id is kept when it is this short and plain (it reaches logs and
# headers); any other value is replaced by one of the hub's.
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

# Request ids: a random prefix per process and a counter (unique without a system call each).
_REQUEST_PREFIX = uuid.uuid4().hex[:16]
_request_numbers = itertools.count(1)


def new_request_id() -> str:
    return f"{_REQUEST_PREFIX}{next(_request_numbers):016x}"


def request_id_from(header: str | None) -> str:
    """The client's request id when well formed, else a new one."""
    return header if header and REQUEST_ID.match(header) else new_request_id()


@dataclass(slots=True)
class RequestRecord:
    """One HTTP request as the logs and metrics see it. Holds ids, names and counts only:
    never a variable, a token or a name (a PIN may sit in a variable)."""

    request_id: str
    method: str
    path: str
    started: float = field(default_factory=time.perf_counter)
    status: int = 0
    # SQL statements sent by the request's engines (the primary and the read replica).
    statements: int = 0
    # The GraphQL context (resolvers.context.Context) once the view made one.
    context: Any = None
    # The error codes of the answer, sorted; None when the request was not a GraphQL one.
    codes: tuple[str, ...] | None = None
    compiled: bool = False
    trace_id: str | None = None
    duration: float = 0.0

    @property
    def graphql(self) -> bool:
        return self.codes is not None

    @property
    def operation_name(self) -> str | None:
        return getattr(self.context, "operation_name", None)

    @property
    def operation_type(self) -> str | None:
        return getattr(self.context, "operation_type", None)

    @property
    def principal_kind(self) -> str | None:
        """anonymous, token or api_key."""
        principal = getattr(self.context, "principal", None)
        if principal is None:
            return None
        if principal.is_anonymous:
            return "anonymous"
        return "api_key" if principal.api_key_prefix or principal.grant else "token"

    @property
    def role(self) -> str | None:
        principal = getattr(self.context, "principal", None)
        return None if principal is None else str(principal.role.value)

    @property
    def outcome(self) -> str:
        """ok, error (the answer carries errors) or the HTTP status class of a failure."""
        if self.status >= 500:
            return "server_error"
        if self.codes:
            return "error"
        if self.status >= 400:
            return "client_error"
        return "ok"

    def finish(self) -> None:
        self.duration = time.perf_counter() - self.started


CURRENT: ContextVar[RequestRecord | None] = ContextVar("bilim_request_record", default=None)


def current() -> RequestRecord | None:
    """The record of the request being served, if any (None in jobs and the CLI)."""
    return CURRENT.get()


def note_context(context: Any) -> None:
    """The view made the request's GraphQL context: the caller and, later, the operation."""
    record = CURRENT.get()
    if record is not None:
        record.context = context


def note_result(errors: Any, *, compiled: bool = False) -> None:
    """The GraphQL answer is known: its error codes (and whether the compiled path gave it)."""
    record = CURRENT.get()
    if record is None:
        return
    codes = set()
    for error in errors or ():
        extensions = getattr(error, "extensions", None)
        if extensions is None and isinstance(error, dict):
            extensions = error.get("extensions")
        code = (extensions or {}).get("code")
        codes.add(str(code) if code else "UNCODED")
    record.codes = tuple(sorted(codes))
    record.compiled = record.compiled or compiled


def _count_statement(*_: Any) -> None:
    record = CURRENT.get()
    if record is not None:
        record.statements += 1


def count_statements(*engines: AsyncEngine | None) -> None:
    """Count each request's SQL statements on these engines (SQLAlchemy runs its listeners
    in the request's context: greenlets inherit it)."""
    for engine in engines:
        if engine is not None and not event.contains(
            engine.sync_engine, "before_cursor_execute", _count_statement
        ):
            event.listen(engine.sync_engine, "before_cursor_execute", _count_statement)
