"""Which database faults the hub answers 503 (issue 12.8): the classifier, case by case. The
outage itself is tested by stopping PostgreSQL (test_outage.py); these are the shapes the
driver and SQLAlchemy report it in, some only seen on a loaded machine."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.exc import InterfaceError, PendingRollbackError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from resolvers.faults import is_unavailable


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        InterfaceError("SELECT 1", {}, asyncpg.InterfaceError("connection is closed")),
        ConnectionRefusedError(111, "Connection refused"),
        # a commit after the connection was invalidated mid-transaction (seen on CI)
        PendingRollbackError(
            "Can't reconnect until invalid transaction is rolled back.  Please rollback() "
            "fully before proceeding"
        ),
        # every pooled connection busy past BILIM_POOL_TIMEOUT_SECONDS (a saturated worker)
        PoolTimeout(
            "QueuePool limit of size 8 overflow 4 reached, connection timed out, timeout 60.00"
        ),
        # the server at max_connections
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
    ],
    ids=[
        "gone mid-operation",
        "closed interface",
        "refused",
        "commit after invalidation",
        "pool timed out",
        "server out of connections",
    ],
)
def test_a_database_out_of_reach_is_unavailable(error: BaseException) -> None:
    assert is_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("a bug"),
        PendingRollbackError("This Session's transaction has been rolled back due to a flush"),
        ValueError("bad input"),
    ],
    ids=["a bug", "a failed flush", "bad input"],
)
def test_other_faults_are_not_unavailable(error: BaseException) -> None:
    assert not is_unavailable(error)
