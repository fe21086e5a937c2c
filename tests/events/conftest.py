"""The events scenarios' fixtures: a hub served by uvicorn on a local port (subscriptions need
a real socket), with its dispatcher running, polling fast, and webhooks allowed to reach
local receivers."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from app import create_app
from resolvers.access import KeyRing, Role, issue_token
from resolvers.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveHub:
    """A hub on a real socket: HTTP at ``url``, graphql-transport-ws at ``ws_url``."""

    url: str
    settings: Settings
    keyring: KeyRing
    client: httpx.AsyncClient
    app: Any

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/graphql"

    def token(self, role: Role | str, **kwargs: Any) -> str:
        return issue_token(self.keyring, self.settings, role=Role(role), **kwargs)

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=all_headers
        )
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        body = await self.gql(query, variables, **kw)
        assert "errors" not in body, body["errors"]
        return body["data"]


@contextlib.asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[LiveHub]:
    port = free_port()
    app = create_app(settings)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", ws="auto"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield LiveHub(url, settings, KeyRing.load(settings), client, app)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@pytest.fixture
def events_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "event_dispatcher": True,
            "events_poll_seconds": 0.2,
            "webhook_allow_private": True,
            "ws_idle_seconds": 30.0,
        }
    )


@pytest.fixture
async def live_hub(events_settings: Settings) -> AsyncIterator[LiveHub]:
    async with serve(events_settings) as hub:
        yield hub


async def eventually(check: Any, *, within: float = 20.0, every: float = 0.1) -> Any:
    """Poll ``check`` (a coroutine function) until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await check()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {within} s: {found!r}")
        await asyncio.sleep(every)
