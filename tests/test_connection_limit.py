"""`bilim serve` warns when its workers' pools could hold more connections than PostgreSQL
accepts: a burst would then be refused "too many clients" (issue 15's 1,000 teachers marking
at once, with four workers on a server of 100 connections: docs/performance.md)."""

from __future__ import annotations

import asyncio

from resolvers.events import runtime
from resolvers.settings import Settings
from serving import connections_per_worker, connections_warning, free_connections


def test_a_worker_holds_its_pools_and_a_listen_connection_at_most(settings: Settings) -> None:
    events = runtime.POOL_SIZE + runtime.POOL_MAX_OVERFLOW
    # request pool 8 + 4, bookkeeping 4 + 4, the compiled path's 8, events, LISTEN
    assert connections_per_worker(settings) == 12 + 8 + 8 + events + 1
    # the compiled path reads from a replica; behind PgBouncer the events poll (no LISTEN)
    replica = settings.model_copy(update={"read_database_url": "postgresql://replica/db"})
    assert connections_per_worker(replica) == 12 + 8 + events + 1
    bouncer = settings.model_copy(update={"pgbouncer": True})
    assert connections_per_worker(bouncer) == 12 + 8 + 8 + events


def test_serve_warns_when_the_workers_could_pass_the_connection_limit(
    settings: Settings, db_url: str
) -> None:
    per_worker = connections_per_worker(settings)
    fits = asyncio.run(free_connections(db_url)) // per_worker

    warning = connections_warning(db_url, settings, fits + 1)
    assert warning is not None
    assert "max_connections" in warning
    assert str((fits + 1) * per_worker) in warning
    if fits >= 1:
        assert connections_warning(db_url, settings, fits) is None
    # behind PgBouncer its own pool is the limit: nothing to compare
    bouncer = settings.model_copy(update={"pgbouncer": True})
    assert connections_warning(db_url, bouncer, 64) is None
