"""A hub served by uvicorn in its own process, for tests that need a real HTTP server (npm's
graphql-http audit, a browser)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO

import httpx

from resolvers.settings import Settings

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def served_hub(
    settings: Settings, log: Path, *, environment: str = "test", **env: str
) -> AsyncIterator[str]:
    """The hub on a free port of 127.0.0.1 until the block ends; yields its base URL."""
    port = free_port()
    full_env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "BILIM_DATA_DIR": str(settings.data_dir),
        "BILIM_ENVIRONMENT": environment,
        **env,
    }
    args = [sys.executable, "-m", "uvicorn", "--factory", "app:create_app", "--port", str(port)]
    with log.open("wb") as out:
        hub = _start(args, full_env, out)
        base = f"http://127.0.0.1:{port}"
        try:
            await _wait_until_up(base, hub, log)
            yield base
        finally:
            hub.terminate()
            try:
                hub.wait(timeout=10)
            except subprocess.TimeoutExpired:
                hub.kill()


def _start(args: list[str], env: dict[str, str], out: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=out)


async def _wait_until_up(base: str, hub: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        for _ in range(480):
            if hub.poll() is not None:
                break
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.25)
    output = await asyncio.to_thread(log.read_text)
    raise AssertionError(f"the hub did not come up:\n{output[-2000:]}")
