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
from resolvers.access.keys import load_pepper
from resolvers.faults import RETRY_AFTER_SECONDS
from resolvers.settings import Settings
from tests.conftest import Hub, running_hub
from tests.factories import make_api_key

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


ONEROSTER = {
    "a rostering page": ("GET", "/ims/oneroster/rostering/v1p2/orgs"),
    "a rostering object": ("GET", "/ims/oneroster/rostering/v1p2/orgs/unknown"),
    "a gradebook page": ("GET", "/ims/oneroster/gradebook/v1p2/results"),
    "the CSV export": ("GET", "/ims/oneroster/v1p2/csv"),
    "a gradebook write": ("DELETE", "/ims/oneroster/gradebook/v1p2/results/unknown"),
}


async def test_oneroster_is_answered_503_server_busy_while_the_database_is_away(
    server: Server, tmp_path: Path
) -> None:
    # Issue 15: OneRoster's reads, export and writes answer the specification's status info
    # with 503 server_busy and Retry-After, as the graph does, never a bare 500.
    settings = Settings(database_url=server.url, data_dir=tmp_path, environment="test")
    async with running_hub(settings) as hub:
        # given a partner's key with the roster scope, answered while the database is up
        engine = database.create_engine(server.url)
        try:
            async with database.session_factory(engine)() as session:
                _, key = await make_api_key(
                    session,
                    pepper=load_pepper(settings),
                    allowed_fields=["ClassGroup.*", "Person.*", "Mark.*"],
                    personal_data=True,
                )
                await session.commit()
        finally:
            await engine.dispose()
        headers = {"Authorization": f"Bearer {key}"}
        page = await hub.client.get(ONEROSTER["a rostering page"][1], headers=headers)
        assert page.status_code == 200, page.text

        # when the database stops
        server.stop()

        # then every OneRoster path answers 503 server_busy, twice (a stale connection, then
        # none), in the status info's shape
        for _ in range(2):
            for name, (method, path) in ONEROSTER.items():
                response = await hub.client.request(method, path, headers=headers)
                assert response.status_code == 503, (name, response.status_code, response.text)
                assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS), name
                body = response.json()
                assert body["imsx_codeMajor"] == "failure", name
                minor = body["imsx_CodeMinor"]["imsx_codeMinorField"][0]
                assert minor["imsx_codeMinorFieldValue"] == "server_busy", name

        # when the database is back, the partner reads again
        server.start()
        assert (await hub.client.get("/readyz")).status_code == 200
        again = await hub.client.get(ONEROSTER["a rostering page"][1], headers=headers)
        assert again.status_code == 200, again.text
