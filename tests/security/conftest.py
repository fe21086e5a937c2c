"""Hubs with their own settings (small budgets, allow-list mode, production), and a partner
key helper."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest

from app import create_app
from models import database
from resolvers.access import KeyRing
from resolvers.access.keys import load_pepper
from resolvers.settings import Settings
from tests.conftest import Hub

HubMaker = Callable[..., AbstractAsyncContextManager[Hub]]


@pytest.fixture
def make_hub(settings: Settings) -> HubMaker:
    """A hub over the test's database with some settings changed."""

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[Hub]:
        changed = settings.model_copy(update=overrides)
        app = create_app(changed)
        async with app.router.lifespan_context(app):
            counter = database.StatementCounter()
            counter.attach_all(app.state.engine, app.state.read_engine)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                yield Hub(
                    client=client,
                    settings=changed,
                    keyring=KeyRing.load(changed),
                    counter=counter,
                )

    return make


@pytest.fixture
def pepper(settings: Settings) -> bytes:
    """The pepper the hub hashes API keys with (the test's data folder)."""
    return load_pepper(settings)


async def with_key(
    hub: Hub,
    key: str,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    header: str = "authorization",
) -> httpx.Response:
    """Send an operation with a partner's key."""
    value = f"Bearer {key}" if header == "authorization" else key
    return await hub.post(query, variables, headers={header: value})
