"""What one request costs, measured so that a loaded machine does not distort it (bench.lms).

Wall-clock times on a shared machine measure the queue for the CPU as much as the work. This
meter counts what the work itself costs: CPU seconds of the hub (this process: the benchmark
calls the app in process, so the client's share, a few per cent, is in it too) and of the
PostgreSQL backends serving the hub (from ``/proc/<pid>/stat``, so only for a server on this
machine), SQL statements per request, and each statement's plan with its buffers
(``EXPLAIN (ANALYZE, BUFFERS)``, run once per statement after the measurement).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

TICK = os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} cores"


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, or 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def server_cpu(pgdata: Path) -> float | None:
    """CPU seconds of an embedded server's whole process tree so far: the postmaster's own and
    its ended children's (backends that have exited, as a job's are once it is done)."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return None
    return sum(int(f) for f in fields[11:15]) / TICK


@dataclass
class Captured:
    """The statements one request sent, with their parameters (to EXPLAIN them afterwards)."""

    statements: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    on: bool = False

    def attach(self, engine: AsyncEngine) -> None:
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        if self.on:
            params = tuple(parameters) if isinstance(parameters, list | tuple) else ()
            self.statements.append((statement, params))


@dataclass
class Figures:
    """One measurement: wall times, and per request CPU ms of the hub and of PostgreSQL."""

    name: str
    wall: list[float]
    hub_cpu_ms: float
    pg_cpu_ms: float
    statements: int
    extra: str = ""

    def row(self) -> str:
        walls = sorted(self.wall)
        p50 = statistics.median(walls) * 1000
        p95 = walls[min(len(walls) - 1, int(len(walls) * 0.95))] * 1000
        return (
            f"| {self.name} | {p50:.1f} | {p95:.1f} | {self.hub_cpu_ms:.1f} | "
            f"{self.pg_cpu_ms:.1f} | {self.hub_cpu_ms + self.pg_cpu_ms:.1f} | {self.statements} |"
        )


HEADER = (
    "| request | wall p50 ms | wall p95 ms | hub CPU ms/req | PostgreSQL CPU ms/req | "
    "CPU ms/req | statements/req |\n|---|---|---|---|---|---|---|"
)


class Meter:
    """CPU of the hub and of the server's backends around a batch of requests."""

    def __init__(self, conn: asyncpg.Connection, engine: AsyncEngine) -> None:
        self.conn = conn
        self.count = 0
        self.captured = Captured()
        self.captured.attach(engine)
        event.listen(engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, *args: Any) -> None:
        self.count += 1

    async def _backends(self) -> list[int]:
        rows = await self.conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        return [r["pid"] for r in rows]

    async def _pg_cpu(self, pids: set[int]) -> dict[int, float]:
        return {pid: _proc_cpu(pid) for pid in pids | set(await self._backends())}

    async def measure(
        self, name: str, requests: list[Callable[[], Awaitable[Any]]], *, warm: int = 5
    ) -> Figures:
        """Run ``requests`` one after another (the first ``warm`` only to warm up); the last
        warm-up request's statements are kept for :meth:`explain`."""
        for i, request in enumerate(requests[:warm]):
            self.captured.on = i == warm - 1
            if self.captured.on:
                self.captured.statements = []
            await request()
        self.captured.on = False
        measured = requests[warm:]
        before_pg = await self._pg_cpu(set())
        statements_before = self.count
        cpu_before = time.process_time()
        wall = []
        for request in measured:
            started = time.perf_counter()
            await request()
            wall.append(time.perf_counter() - started)
        hub = time.process_time() - cpu_before
        statements = self.count - statements_before
        after_pg = await self._pg_cpu(set(before_pg))
        pg = sum(after_pg[p] - before_pg.get(p, 0.0) for p in after_pg)
        n = len(measured)
        return Figures(name, wall, hub / n * 1000, pg / n * 1000, round(statements / n))

    async def explain(self) -> list[str]:
        """EXPLAIN (ANALYZE, BUFFERS) of the statements captured: time, buffers, what each
        scanned (index or sequential, partitions by name); writes are rolled back."""
        lines = []
        for statement, params in self.captured.statements:
            if statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                continue
            tx = self.conn.transaction()
            await tx.start()
            try:
                raw = await self.conn.fetchval(
                    "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, *params
                )
            except asyncpg.PostgresError as exc:
                lines.append(f"- (not explained: {type(exc).__name__}) `{statement[:80]}`")
                continue
            finally:
                await tx.rollback()
            plan = json.loads(raw)[0]
            top = plan["Plan"]
            scans: list[str] = []
            _scans(top, scans)
            lines.append(
                f"- {plan['Execution Time']:.2f} ms (planning {plan['Planning Time']:.2f}),"
                f" buffers hit {top.get('Shared Hit Blocks', 0)} read"
                f" {top.get('Shared Read Blocks', 0)}, rows {top.get('Actual Rows')}:"
                f" `{' '.join(statement.split())[:90]}...` scans: {', '.join(scans) or '-'}"
            )
        return lines


def _scans(node: dict[str, Any], out: list[str]) -> None:
    relation = node.get("Relation Name")
    if relation:
        kind = node["Node Type"].replace(" Scan", "").replace("Only", "only")
        index = node.get("Index Name")
        out.append(f"{relation} ({kind}{' ' + index if index else ''})")
    for child in node.get("Plans", []):
        _scans(child, out)
