"""The `bilim` command line, run as a newcomer would: a real process, an embedded PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from app import cli
from resolvers.access import KeyRing, principal_from_token
from resolvers.settings import Settings

REGISTER = """mutation { registerPerson(input: {pin: "21705201600123", firstName: "Азамат",
  lastName: "Асанов", birthDate: "2016-05-17", sex: MALE}) { person { id } userErrors { code } } }"""
COUNT = "{ persons(first: 1) { totalCount } }"


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
        [sys.executable, "-c", "from app import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def _wait_ready(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("the hub did not become ready")


def _serve(data_dir: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from app import main; main()", "serve", "--port", str(port)],
        env=_env(data_dir),
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
