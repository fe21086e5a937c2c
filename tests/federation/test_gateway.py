"""Federation proven with a real gateway (issue 19): npm's @apollo/gateway composes the hub
and a partner's dormitory subgraph (dormitory.py) from their `_service { sdl }`, and one query
crosses both ways: dormitory residents get their names from the hub, a hub person gets a room
from the dormitory. Needs node and npm (CI installs tests/federation's packages in .ci/run);
without them the test is skipped with a loud reason."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.access import KeyRing, Role, issue_token
from resolvers.access.keys import load_pepper
from resolvers.settings import Settings
from tests.factories import gid, make_person

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CROSSING = """
query Crossing($id: ID!) {
  residents { id firstName dormitoryRoom { building number } }
  node(id: $id) { ... on Person { firstName dormitoryRoom { number } } }
}
"""


def gateway_installed() -> str | None:
    """Why the gateway cannot run here, or None when it can (installing it if npm can)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are not installed"
    if not (HERE / "node_modules" / "@apollo" / "gateway").is_dir():
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True, timeout=300
        )
        if done.returncode != 0:
            return f"npm ci failed: {done.stderr.decode()[-300:]}"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def process(args: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> Iterator[None]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=cwd, env={**os.environ, **env}, stdout=out, stderr=out)
        try:
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


async def wait_until_up(url: str, log: Path, *, seconds: float = 60) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(int(seconds * 4)):
            try:
                response = await client.post(url, json={"query": "{ __typename }"})
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.25)
    output = await asyncio.to_thread(log.read_text)
    raise AssertionError(f"{url} did not come up:\n{output[-2000:]}")


@asynccontextmanager
async def federation(settings: Settings, residents: str, tmp: Path) -> AsyncIterator[str]:
    """The hub, the dormitory and the gateway running; yields the gateway's URL."""
    hub_port, dorm_port, gw_port = free_port(), free_port(), free_port()
    python = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--log-level", "warning"]
    hub_env = {
        "DATABASE_URL": settings.database_url or "",
        "BILIM_DATA_DIR": str(settings.data_dir),
        "BILIM_ENVIRONMENT": "test",
    }
    with (
        process(
            [*python, "--factory", "app:create_app", "--port", str(hub_port)],
            env=hub_env,
            cwd=ROOT,
            log=tmp / "hub.log",
        ),
        process(
            [*python, "tests.federation.dormitory:app", "--port", str(dorm_port)],
            env={"DORMITORY_RESIDENTS": residents},
            cwd=ROOT,
            log=tmp / "dormitory.log",
        ),
    ):
        await wait_until_up(f"http://127.0.0.1:{hub_port}/graphql", tmp / "hub.log")
        await wait_until_up(f"http://127.0.0.1:{dorm_port}/graphql", tmp / "dormitory.log")
        gateway_env = {
            "HUB_URL": f"http://127.0.0.1:{hub_port}/graphql",
            "DORMITORY_URL": f"http://127.0.0.1:{dorm_port}/graphql",
            "PORT": str(gw_port),
        }
        with process(["node", "gateway.mjs"], env=gateway_env, cwd=HERE, log=tmp / "gateway.log"):
            url = f"http://127.0.0.1:{gw_port}/"
            await wait_until_up(url, tmp / "gateway.log")
            yield url


async def test_a_query_through_the_gateway_crosses_the_hub_and_the_dormitory(
    settings: Settings, session: AsyncSession, tmp_path: Path
) -> None:
    reason = gateway_installed()
    if reason is not None:
        pytest.skip(f"FEDERATION GATEWAY TEST NOT RUN: {reason}")
    # given: two students in the registry, living in the dormitory
    aida = await make_person(session, first_name="Аида")
    bakyt = await make_person(session, first_name="Бакыт")
    await session.commit()
    residents = f"{gid('Person', aida.id)}=A-101,{gid('Person', bakyt.id)}=B-202"
    ring = KeyRing.load(settings)
    load_pepper(settings)
    ministry = issue_token(ring, settings, role=Role.MINISTRY)
    async with (
        federation(settings, residents, tmp_path) as gateway,
        httpx.AsyncClient(timeout=30) as client,
    ):
        # when: one query through the gateway, for the ministry
        response = await client.post(
            gateway,
            json={"query": CROSSING, "variables": {"id": gid("Person", aida.id)}},
            headers={"Authorization": f"Bearer {ministry}"},
        )
        body = response.json()
        # then: names come from the hub, rooms from the dormitory
        assert "errors" not in body, body
        residents_seen = {r["firstName"]: r["dormitoryRoom"] for r in body["data"]["residents"]}
        assert residents_seen == {
            "Аида": {"building": "A", "number": "101"},
            "Бакыт": {"building": "B", "number": "202"},
        }
        assert body["data"]["node"] == {"firstName": "Аида", "dormitoryRoom": {"number": "101"}}
        # and an anonymous caller reads no names through the gateway (the hub's rules)
        anonymous = await client.post(
            gateway, json={"query": CROSSING, "variables": {"id": gid("Person", aida.id)}}
        )
        assert "Аида" not in anonymous.text
