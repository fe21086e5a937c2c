"""The `bilim` command line, run as a newcomer would: a real process, an embedded PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil
import pytest
from typer.testing import CliRunner

from cli import cli
from resolvers.access import KeyRing, principal_from_token
from resolvers.settings import Settings

REGISTER = """mutation { registerPerson(input: {pin: "21705201600123", firstName: "Азамат",
  lastName: "Асанов", birthDate: "2016-05-17", sex: MALE}) { person { id } userErrors { code } } }"""
COUNT = "{ persons(first: 1) { totalCount } }"
REGIONS = "{ regions(first: 2) { nodes { code } } }"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["BILIM_FETCH_ASSETS"] = "false"
    env["BILIM_DATA_DIR"] = str(data_dir)
    return env


def _bilim(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def _wait_ready(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("the hub did not become ready")


def _serve(
    data_dir: Path, port: int, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from cli import main; main()", "serve", "--port", str(port), *args],
        env={**_env(data_dir), **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)


class TestServe:
    @pytest.mark.slow
    def test_serve_runs_on_embedded_postgres_stops_cleanly_and_keeps_its_data(
        self, tmp_path: Path
    ) -> None:
        # given a fresh data folder and no DATABASE_URL
        data_dir, port = tmp_path / "hub", _free_port()
        url = f"http://127.0.0.1:{port}"
        process = _serve(data_dir, port)
        try:
            _wait_ready(url, process)
            token = _bilim("token", "--role", "ministry", env=_env(data_dir)).stdout.strip()
            auth = {"Authorization": f"Bearer {token}"}
            # when a person is registered through the running hub
            created = httpx.post(f"{url}/graphql", json={"query": REGISTER}, headers=auth).json()
            assert created["data"]["registerPerson"]["userErrors"] == []
        finally:
            # and Ctrl-C stops it
            _stop(process)
        # then the embedded PostgreSQL stopped with it
        assert process.returncode == 0
        assert not (data_dir / "pgdata" / "postmaster.pid").exists()
        # and a second start on the same folder sees the data
        process = _serve(data_dir, port)
        try:
            _wait_ready(url, process)
            token = _bilim("token", "--role", "ministry", env=_env(data_dir)).stdout.strip()
            counted = httpx.post(
                f"{url}/graphql",
                json={"query": COUNT},
                headers={"Authorization": f"Bearer {token}"},
            ).json()
            assert counted["data"]["persons"]["totalCount"] == 1
        finally:
            _stop(process)


class _Log:
    """The hub's log lines (stderr), read as they come so the pipe never fills."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stderr is not None
        stream = process.stderr
        threading.Thread(target=lambda: self.lines.extend(stream), daemon=True).start()

    def wait_for(self, text: str, count: int) -> None:
        deadline = time.monotonic() + 180
        while sum(text in line for line in list(self.lines)) < count:
            assert time.monotonic() < deadline, "".join(self.lines)
            time.sleep(0.1)


def _connections_of(workers: list[psutil.Process], port: int) -> list[int]:
    """How many client connections each worker process holds on the hub's port."""
    return [
        sum(
            1
            for c in w.net_connections(kind="tcp")
            if c.laddr and c.laddr.port == port and c.status == psutil.CONN_ESTABLISHED
        )
        for w in workers
    ]


async def _spend_until_refused(url: str, token: str, open_more: Callable[[], bool]) -> list[int]:
    """Open connections one by one while ``open_more()`` says so, each running one query;
    then each connection sends one-point queries until it is refused. How many ran on each."""
    headers = {"Authorization": f"Bearer {token}"}
    clients: list[httpx.AsyncClient] = []

    async def query(client: httpx.AsyncClient) -> bool:
        body = (await client.post("/graphql", json={"query": REGIONS})).json()
        if "errors" in body:
            assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED", body
            return False
        return True

    async def spend(client: httpx.AsyncClient) -> int:
        ran = 1
        while await query(client):
            ran += 1
        return ran

    try:
        while open_more():
            client = httpx.AsyncClient(base_url=url, headers=headers, timeout=30)
            clients.append(client)
            assert await query(client)
        return await asyncio.gather(*[spend(client) for client in clients])
    finally:
        for client in clients:
            await client.aclose()


class TestWorkers:
    @pytest.mark.slow
    def test_budget_holds_across_two_worker_processes(self, tmp_path: Path) -> None:
        # given `bilim serve --workers 2` and an hourly budget of 200 points per caller
        data_dir, port = tmp_path / "hub", _free_port()
        url = f"http://127.0.0.1:{port}"
        process = _serve(data_dir, port, "--workers", "2", env={"BILIM_POINTS_PER_HOUR": "200"})
        log = _Log(process)
        try:
            log.wait_for("Application startup complete", count=2)
            _wait_ready(url, process)
            workers = [
                child
                for child in psutil.Process(process.pid).children()
                if "spawn_main" in " ".join(child.cmdline())
            ]
            assert len(workers) == 2
            token = _bilim("token", "--role", "ministry", env=_env(data_dir)).stdout.strip()
            hour = datetime.now(UTC).hour

            # when one caller's queries arrive on connections to both processes (each opened
            # with one query, until both hold two), each connection querying until refused
            def open_more() -> bool:
                held = _connections_of(workers, port)
                assert sum(held) < 40, held
                return min(held) < 2

            ran = asyncio.run(_spend_until_refused(url, token, open_more))

            if datetime.now(UTC).hour != hour:
                pytest.skip("the hour turned during the test: a new budget began")
        finally:
            _stop(process)

        # then together they ran exactly the budget
        assert sum(ran) == 200


class TestToken:
    def test_token_is_signed_with_the_data_folders_key(self, tmp_path: Path) -> None:
        # when a token is asked for with a scope
        result = CliRunner().invoke(
            cli,
            [
                "token",
                "--role",
                "region_officer",
                "--scope",
                "region:8",
                "--data-dir",
                str(tmp_path),
            ],
        )
        # then the key ring of that folder accepts it, with the role and scope
        assert result.exit_code == 0, result.output
        settings = Settings(data_dir=tmp_path)
        principal = principal_from_token(result.stdout.strip(), KeyRing.load(settings), settings)
        assert principal.role == "region_officer"
        assert principal.region_ids == {8}

    def test_scoped_role_without_scope_is_refused(self, tmp_path: Path) -> None:
        result = CliRunner().invoke(
            cli, ["token", "--role", "school_admin", "--data-dir", str(tmp_path)]
        )
        assert result.exit_code != 0
        assert "institution scope" in result.output


class TestExportSchema:
    def test_export_schema_writes_the_committed_file(self, tmp_path: Path) -> None:
        target = tmp_path / "schema.graphql"
        result = CliRunner().invoke(cli, ["export-schema", "--output", str(target)])
        assert result.exit_code == 0
        committed = Path(__file__).resolve().parent.parent / "schema.graphql"
        assert target.read_text() == committed.read_text()
