"""The embedded PostgreSQL starts with glibc's malloc told to keep freed memory at hand (a
large compiled answer took ~700 page faults a statement without it)."""

from __future__ import annotations

import os
from pathlib import Path

import asyncpg
import pytest

from models.database import POSTGRES_MALLOC_TUNABLES, _postgres_environment


def _page_faults(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        pytest.skip("no /proc here")
    return int(stat.read_text().rsplit(")", 1)[1].split()[7])  # minflt


async def test_the_embedded_server_keeps_freed_memory(server_url: str) -> None:
    """A statement building a 600 kB text: ~280 page faults each time on glibc's defaults,
    none once the backend keeps what it freed."""
    if os.environ.get("DATABASE_URL"):
        pytest.skip("the tests run on a PostgreSQL the hub did not start")
    conn = await asyncpg.connect(server_url)
    try:
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        big = "SELECT length(string_agg(repeat('x', 100), ',')) FROM generate_series(1, 5000)"
        await conn.fetchval(big)
        before = _page_faults(pid)
        for _ in range(20):
            await conn.fetchval(big)
        faults = (_page_faults(pid) - before) / 20
    finally:
        await conn.close()
    assert faults < 10, f"{faults} page faults a statement"


def test_the_setting_is_given_only_while_the_server_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    with _postgres_environment():
        assert os.environ["GLIBC_TUNABLES"] == POSTGRES_MALLOC_TUNABLES
    assert "GLIBC_TUNABLES" not in os.environ


def test_an_operators_own_setting_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")
    with _postgres_environment():
        assert os.environ["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2"
    assert os.environ["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2"
