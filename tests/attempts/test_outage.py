"""While the database cannot be reached, the hub answers 503 with ``Retry-After`` and
``SERVICE_UNAVAILABLE`` (load balancers and clients retry on it), never 200 "Unexpected error";
once it is back, the hub answers again (issue 12.8). The test stops and restarts a PostgreSQL
server of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from models import database
from models.database import EmbeddedPostgres
from resolvers.access import Role
from resolvers.faults import RETRY_AFTER_SECONDS
from resolvers.settings import Settings
from tests.conftest import Hub, running_hub

REGIONS = "{ regions(first: 3) { nodes { id code } } }"
PERSONS = "{ persons(first: 3) { totalCount nodes { id } } }"
REGISTER = """
mutation Register($input: RegisterPersonInput!) {
  registerPerson(input: $input) { person { id } userErrors { code } }
}
"""
CHILD = {
    "pin": "21705201600123",
    "firstName": "Айбек",
    "lastName": "Сыдыков",
    "birthDate": date(2016, 5, 17).isoformat(),
    "sex": "MALE",
}


@dataclass
class Server:
    folder: Path
    postgres: EmbeddedPostgres
    url: str

    def stop(self) -> None:
        self.postgres.stop()

    def start(self) -> None:
        self.postgres = EmbeddedPostgres(self.folder)
        self.postgres.start()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    """A PostgreSQL server of this test alone, with the hub's database migrated."""
    folder = tmp_path / "own-postgres"
    postgres = EmbeddedPostgres(folder)
    postgres.start()
    await database.ensure_database(postgres.url("postgres"), "bilim")
    url = postgres.url("bilim")
    await asyncio.to_thread(database.migrate, url)
    own = Server(folder, postgres, url)
    yield own
    own.stop()


def requests(hub: Hub) -> dict[str, Any]:
    """One request of each path: a public query, a signed-in query, a mutation, a partner's
    key (checked in the database)."""
    ministry = hub.token(Role.MINISTRY)
    return {
        "public query": lambda: hub.post(REGIONS),
        "signed-in query": lambda: hub.post(PERSONS, token=ministry),
        "mutation": lambda: hub.post(REGISTER, {"input": CHILD}, token=ministry),
        "partner key": lambda: hub.post(REGIONS, headers={"x-api-key": "bk_t1234567_secret"}),
    }


def assert_unavailable(name: str, response: httpx.Response) -> None:
    assert response.status_code == 503, (name, response.status_code, response.text)
    assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS), name
    codes = [e["extensions"]["code"] for e in response.json()["errors"]]
    assert codes == ["SERVICE_UNAVAILABLE"], (name, response.text)


async def test_outage_is_answered_503_with_retry_after_and_the_hub_recovers(
    server: Server, tmp_path: Path
) -> None:
    settings = Settings(database_url=server.url, data_dir=tmp_path, environment="test")
    async with running_hub(settings) as hub:
        # given a hub that answers
        for name, send in requests(hub).items():
            response = await send()
            assert response.status_code in (200, 401), (name, response.text)

        # when its database stops
        server.stop()

        # then every kind of request is answered 503, twice (a stale connection, then none)
        for _ in range(2):
            for name, send in requests(hub).items():
                assert_unavailable(name, await send())
        ready = await hub.client.get("/readyz")
        assert ready.status_code == 503

        # when the database is back
        server.start()

        # then the hub answers again
        assert (await hub.client.get("/readyz")).status_code == 200
        for name, send in requests(hub).items():
            response = await send()
            assert response.status_code in (200, 401), (name, response.text)
        body = (await hub.post(REGISTER, {"input": {**CHILD, "pin": "21705201600124"}},
                               token=hub.token(Role.MINISTRY))).json()  # fmt: skip
        assert body["data"]["registerPerson"]["userErrors"] == [], body
