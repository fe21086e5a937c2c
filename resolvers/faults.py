"""Database faults a request can meet, sorted by what the hub does about them: a transaction
that lost a race is tried again (a deadlock, a serialization failure), a database that cannot
be reached, or not in time (every pooled connection busy past the pool's timeout, the server
out of connections), is answered 503 with ``Retry-After`` (load balancers and clients retry
on it)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import asyncpg
from graphql import GraphQLError, Node
from sqlalchemy.exc import DBAPIError, DisconnectionError, PendingRollbackError
from sqlalchemy.exc import InterfaceError as SAInterfaceError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from resolvers.errors import ErrorCode

# PostgreSQL's SQLSTATEs (Appendix A of its manual).
SERIALIZATION_FAILURE = "40001"
DEADLOCK_DETECTED = "40P01"
RETRYABLE_STATES = frozenset({SERIALIZATION_FAILURE, DEADLOCK_DETECTED})
# Class 08 (connection exception), the server shutting down or starting up, and the server
# out of connections (too_many_connections: max_connections reached).
UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})

RETRY_AFTER_SECONDS = 5
"""What a 503 tells the client to wait: about the time /readyz takes to notice a recovery."""


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, what it wraps (a DBAPI error's original) and what caused it, each once."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        each = todo.pop()
        if each is None or id(each) in seen:
            continue
        seen.add(id(each))
        yield each
        todo += [getattr(each, "orig", None), each.__cause__, each.__context__]


def sqlstate_of(error: BaseException) -> str | None:
    """The SQLSTATE a database error carries, if any."""
    for each in _chain(error):
        state = getattr(each, "sqlstate", None) or getattr(each, "pgcode", None)
        if isinstance(state, str):
            return state
    return None


def is_retryable(error: BaseException) -> bool:
    """Did the statement fail because its transaction lost a race (deadlock, serialization
    failure), so that the same work run again may succeed?"""
    return isinstance(error, DBAPIError) and sqlstate_of(error) in RETRYABLE_STATES


def is_unavailable(error: BaseException) -> bool:
    """Did it fail because the database cannot be reached (refused, reset or closed connection,
    a server shutting down or starting up, a connection attempt timing out), or not in time:
    no pooled connection came free within the pool's timeout (``BILIM_POOL_TIMEOUT_SECONDS``:
    the workers are saturated), or the server refused another connection (max_connections)?
    A retry a little later, or on another worker, may succeed."""
    for each in _chain(error):
        if isinstance(each, DBAPIError) and each.connection_invalidated:
            return True
        if isinstance(each, PoolTimeout):
            return True
        if isinstance(
            each,
            ConnectionError
            | DisconnectionError
            | asyncpg.PostgresConnectionError
            | asyncpg.ConnectionDoesNotExistError
            | asyncpg.CannotConnectNowError,
        ):
            return True
        if isinstance(each, asyncpg.InterfaceError | SAInterfaceError) and "closed" in str(each):
            return True
        # The connection was invalidated earlier in the transaction (the server went away):
        # the commit only says it cannot reconnect before a rollback.
        if isinstance(each, PendingRollbackError) and "reconnect" in str(each):
            return True
        # A socket error inside the driver: a connection attempt to a socket that is gone
        # (FileNotFoundError for a Unix socket), refused or timing out.
        if isinstance(each, OSError) and _raised_in_driver(each):
            return True
        state = getattr(each, "sqlstate", None)
        if isinstance(state, str) and (state.startswith("08") or state in UNAVAILABLE_STATES):
            return True
    return False


def _raised_in_driver(error: BaseException) -> bool:
    tb = error.__traceback__
    while tb is not None:
        if f"{os.sep}asyncpg{os.sep}" in tb.tb_frame.f_code.co_filename:
            return True
        tb = tb.tb_next
    return False


def unavailable_error(
    request_id: str | None,
    *,
    nodes: list[Node] | None = None,
    path: list[str | int] | None = None,
) -> GraphQLError:
    """The error of a request the database could not serve (the view answers it with HTTP 503
    and ``Retry-After``)."""
    return GraphQLError(
        "The database cannot be reached; try again shortly",
        nodes=nodes,
        path=path,
        extensions={
            "code": ErrorCode.SERVICE_UNAVAILABLE.value,
            "requestId": request_id,
            "retryAfter": RETRY_AFTER_SECONDS,
        },
    )
