"""Issue 22.10: /metrics only where settings allow it, request bodies that stop arriving
answered 408, and a token that could live for a century refused (tests/access)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
import pytest

from app import create_app
from resolvers.settings import Settings
from tests.conftest import Hub
from tests.security.conftest import HubMaker

Receive = Callable[[], Awaitable[dict[str, Any]]]


class TestMetrics:
    async def test_metrics_are_not_served_in_production(self, make_hub: HubMaker) -> None:
        async with make_hub(environment="production") as hub:
            assert (await hub.client.get("/metrics")).status_code == 404

    async def test_a_setting_serves_them_in_production(self, make_hub: HubMaker) -> None:
        async with make_hub(environment="production", serve_metrics=True) as hub:
            response = await hub.client.get("/metrics")
        assert response.status_code == 200
        assert "bilim_graphql_requests_total" in response.text

    async def test_a_setting_hides_them_elsewhere(self, make_hub: HubMaker) -> None:
        async with make_hub(serve_metrics=False) as hub:
            assert (await hub.client.get("/metrics")).status_code == 404

    async def test_outside_production_they_are_served(self, hub: Hub) -> None:
        assert (await hub.client.get("/metrics")).status_code == 200


async def call(settings: Settings, receive: Receive, length: int = 100) -> tuple[int, Any]:
    """One POST to /graphql straight through the ASGI app, its body read from ``receive``."""
    app = create_app(settings)
    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"hub"),
            (b"content-type", b"application/json"),
            (b"content-length", str(length).encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("hub", 80),
    }
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(app(scope, receive, send), timeout=10)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, orjson.loads(body)


class TestSlowBodies:
    @pytest.fixture
    def quick(self, settings: Settings) -> Settings:
        return settings.model_copy(
            update={"body_idle_timeout_seconds": 0.2, "body_timeout_seconds": 0.6}
        )

    async def test_a_declared_body_that_never_comes_is_a_408(self, quick: Settings) -> None:
        async def never() -> dict[str, Any]:
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

        status, body = await call(quick, never)
        assert status == 408
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"

    async def test_a_body_that_drips_is_a_408(self, quick: Settings) -> None:
        async def drip() -> dict[str, Any]:
            await asyncio.sleep(0.05)
            return {"type": "http.request", "body": b" ", "more_body": True}

        status, _ = await call(quick, drip, length=1_000)
        assert status == 408

    async def test_a_body_that_arrives_is_answered(self, quick: Settings) -> None:
        query = b'{"query": "{ regions(first: 1) { totalCount } }"}'
        chunks = [query[:10], query[10:]]

        async def chunked() -> dict[str, Any]:
            await asyncio.sleep(0.05)
            part = chunks.pop(0)
            return {"type": "http.request", "body": part, "more_body": bool(chunks)}

        status, body = await call(quick, chunked, length=len(query))
        assert status == 200
        assert body["data"]["regions"]["totalCount"] > 0
