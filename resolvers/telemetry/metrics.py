"""The hub's Prometheus metrics, and their exposition.

Every GraphQL request is counted once, when its record ends (``observe``): the request counter
and the latency histogram move together, so their totals agree. (They disagreed before, 72 vs
85: the histogram was observed for every request that reached execution, the counter only
for those that executed or met a database outage; a persisted-query miss, a budget refusal
before execution or a mutation over GET was timed but never counted, and a refused token
was neither.)

Under ``bilim serve`` the metrics live in files (prometheus_client's multiprocess mode,
``PROMETHEUS_MULTIPROC_DIR``, set before this module is imported) so that ``/metrics``, served
by any one worker, sums every worker's."""

from __future__ import annotations

import asyncio
import os
import re
import time
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from resolvers.telemetry.record import RequestRecord

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

_OPERATION = ["operation", "type"]
REQUESTS = Counter(
    "bilim_graphql_requests_total",
    "GraphQL requests over HTTP, by operation name, operation type and outcome",
    [*_OPERATION, "outcome"],
)
LATENCY = Histogram(
    "bilim_graphql_request_seconds",
    "GraphQL request duration (the hub's, from the first byte in to the last out)",
    _OPERATION,
    buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
ERRORS = Counter(
    "bilim_graphql_errors_total",
    "GraphQL requests answered with an error of this code (a request counts once per code)",
    ["code"],
)
COMPILED = Counter("bilim_graphql_compiled_total", "Queries answered by the compiled path")
STATEMENTS = Histogram(
    "bilim_sql_statements_per_request",
    "SQL statements one GraphQL request sent (the request's engines: primary and replica)",
    ["type"],
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89),
)
STATEMENTS_TOTAL = Counter(
    "bilim_sql_statements_total", "SQL statements sent by GraphQL requests", ["type"]
)
BUDGET_REFUSALS = Counter(
    "bilim_budget_refusals_total",
    "Requests refused RATE_LIMITED (the caller's hourly budget spent), by kind of caller",
    ["principal"],
)
POOL_IN_USE = Gauge(
    "bilim_db_pool_connections_in_use",
    "Database connections checked out of the pool now",
    ["engine"],
    multiprocess_mode="livesum",
)
POOL_CAPACITY = Gauge(
    "bilim_db_pool_capacity",
    "Connections the pool may hold (its size plus its overflow)",
    ["engine"],
    multiprocess_mode="livesum",
)
POOL_WAIT = Histogram(
    "bilim_db_pool_wait_seconds",
    "Time to obtain a pooled connection (a wait for a free one, or the opening of a new one)",
    ["engine"],
    buckets=(0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0),
)
OUTBOX_BACKLOG = Gauge(
    "bilim_outbox_backlog_events",
    "Committed outbox events a consumer has not delivered yet (read when /metrics is served)",
    ["consumer"],
    multiprocess_mode="mostrecent",
)
OUTBOX_LAG = Gauge(
    "bilim_outbox_lag_seconds",
    "Age of the oldest event a consumer has not delivered yet; 0 when it is up to date",
    ["consumer"],
    multiprocess_mode="mostrecent",
)

# Operation names come from clients: a worker labels at most this many distinct ones (the
# portals send under a hundred); later names are counted as "_other".
MAX_OPERATION_NAMES = 200
OPERATION_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
_operation_names: set[str] = set()


def operation_label(name: str | None) -> str:
    if not name:
        return "_unnamed"
    if name in _operation_names:
        return name
    if not OPERATION_NAME.match(name) or len(_operation_names) >= MAX_OPERATION_NAMES:
        return "_other"
    _operation_names.add(name)
    return name


# A request's counts are tallied in memory, by series (operation, type, outcome), and reach the
# metrics once per FLUSH_SECONDS for every request of that time together, and before this
# worker answers /metrics. Under `bilim serve` the metrics are files shared by the workers,
# where each increment takes a lock, checks the process id and writes a mapped page: five of
# them a request cost ~11 us, 3.5% of a small query's CPU. A scrape served by another worker
# sees a request at most FLUSH_SECONDS after it ended (docs/operating.md).
FLUSH_SECONDS = 0.1


class _Tally:
    """One series' requests not yet counted in its metrics (the labelled children found once:
    finding them by label each time was a tenth of the metrics' cost of a small query)."""

    __slots__ = (
        "latency",
        "latency_bounds",
        "latency_counts",
        "latency_sum",
        "requests",
        "requests_n",
        "statements",
        "statements_bounds",
        "statements_counts",
        "statements_sum",
        "statements_total",
    )

    def __init__(self, operation: str, kind: str, outcome: str) -> None:
        self.requests = REQUESTS.labels(operation, kind, outcome)
        self.latency = LATENCY.labels(operation, kind)
        self.statements = STATEMENTS.labels(kind)
        self.statements_total = STATEMENTS_TOTAL.labels(kind)
        self.latency_bounds: list[float] = list(self.latency._upper_bounds)
        self.statements_bounds: list[float] = list(self.statements._upper_bounds)
        self.requests_n = 0
        self.latency_sum = 0.0
        self.statements_sum = 0
        self.latency_counts = [0] * len(self.latency_bounds)
        self.statements_counts = [0] * len(self.statements_bounds)

    def add(self, duration: float, statements: int) -> None:
        self.requests_n += 1
        self.latency_sum += duration
        self.latency_counts[bisect_left(self.latency_bounds, duration)] += 1
        self.statements_sum += statements
        self.statements_counts[bisect_left(self.statements_bounds, statements)] += 1

    def flush(self) -> None:
        """Count the tallied requests in the metrics, as one ``inc`` and ``observe`` each
        would have."""
        if not self.requests_n:
            return
        self.requests.inc(self.requests_n)
        _observed(self.latency, self.latency_sum, self.latency_counts)
        _observed(self.statements, self.statements_sum, self.statements_counts)
        self.statements_total.inc(self.statements_sum)
        self.requests_n = 0
        self.latency_sum = 0.0
        self.statements_sum = 0


def _observed(histogram: Any, total: float, counts: list[int]) -> None:
    """Observations' sum and bucket counts into a labelled histogram, as prometheus_client's
    ``Histogram.observe`` writes one: the sum, and the first bucket whose upper bound is at or
    above the value (tests/observability/test_requests.py holds the two equal)."""
    histogram._sum.inc(total)
    for i, n in enumerate(counts):
        if n:
            histogram._buckets[i].inc(n)
            counts[i] = 0


_series: dict[tuple[str, str, str], _Tally] = {}
_compiled = 0
_flush_loop: asyncio.AbstractEventLoop | None = None


def observe(record: RequestRecord) -> None:
    """Count one finished GraphQL request: counter, histogram, error codes, statements (the
    request counter, the histograms and the compiled count within FLUSH_SECONDS)."""
    global _compiled, _flush_loop
    key = (
        operation_label(record.operation_name),
        record.operation_type or "unknown",
        record.outcome,
    )
    tally = _series.get(key)
    if tally is None:
        tally = _series[key] = _Tally(*key)
    tally.add(record.duration, record.statements)
    if record.compiled:
        _compiled += 1
    if record.codes:
        for code in record.codes:
            ERRORS.labels(code).inc()
        if "RATE_LIMITED" in record.codes:
            BUDGET_REFUSALS.labels(record.principal_kind or "unknown").inc()
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        flush()
        return
    if _flush_loop is not loop:
        # One timer for every request of the next FLUSH_SECONDS (a loop that ended with its
        # timer pending, as a test's loop may, is replaced by the next request's).
        _flush_loop = loop
        loop.call_later(FLUSH_SECONDS, flush)


def flush() -> None:
    """Count every tallied request in the metrics now."""
    global _compiled, _flush_loop
    _flush_loop = None
    for tally in _series.values():
        tally.flush()
    if _compiled:
        COMPILED.inc(_compiled)
        _compiled = 0


def watch_pool(engine: AsyncEngine, name: str) -> None:
    """Connections in use and the time taken to obtain one, for this engine's pool."""
    pool: Any = engine.sync_engine.pool
    if getattr(pool, "_bilim_watched", False):
        return
    size = pool.size() if callable(getattr(pool, "size", None)) else 0
    overflow = max(0, getattr(pool, "_max_overflow", 0))
    POOL_CAPACITY.labels(name).inc(size + overflow)
    in_use = POOL_IN_USE.labels(name)
    event.listen(engine.sync_engine, "checkout", lambda *_: in_use.inc())
    event.listen(engine.sync_engine, "checkin", lambda *_: in_use.dec())
    # No pool event fires before a checkout waits: the pool's own getter is timed instead
    # (the same for every SQLAlchemy queue pool; the instance is patched, not the class).
    wait = POOL_WAIT.labels(name)
    get: Callable[[], Any] = pool._do_get

    def timed_get() -> Any:
        started = time.perf_counter()
        try:
            return get()
        finally:
            wait.observe(time.perf_counter() - started)

    pool._do_get = timed_get
    pool._bilim_watched = True


def unwatch_pool(engine: AsyncEngine, name: str) -> None:
    """The engine is disposed: its capacity no longer counts."""
    pool: Any = engine.sync_engine.pool
    if getattr(pool, "_bilim_watched", False):
        size = pool.size() if callable(getattr(pool, "size", None)) else 0
        POOL_CAPACITY.labels(name).dec(size + max(0, getattr(pool, "_max_overflow", 0)))


def note_outbox(lags: list[tuple[str, int, float]]) -> None:
    """Each consumer's backlog and the age of its oldest undelivered event, as just read."""
    for consumer, backlog, age in lags:
        OUTBOX_BACKLOG.labels(consumer).set(backlog)
        OUTBOX_LAG.labels(consumer).set(age)


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROCESS_ENV))


def exposition() -> bytes:
    """The text /metrics answers: this process's metrics, or every worker's summed."""
    flush()
    if not multiprocess():
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    prometheus_multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)


def worker_exited(pid: int) -> None:
    """Forget a dead worker's live gauges (its counters stay in the sums)."""
    if multiprocess():
        prometheus_multiprocess.mark_process_dead(pid)
