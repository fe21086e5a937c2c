"""The `bilim` command line, run as a newcomer would: a real process, an embedded PostgreSQL."""

from __future__ import annotations

import asyncio
import json
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
from typing import Any

import httpx
import psutil
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from cli import cli
from models import InstitutionKind
from resolvers.access import KeyRing, principal_from_token
from resolvers.access.keys import load_pepper, principal_from_key
from resolvers.settings import Settings
from resolvers.telemetry.metrics import FLUSH_SECONDS
from tests.factories import make_institution

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
        assert process.poll() is None, "".join(_log_of(process).lines)
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
    """`bilim serve` in a process of its own, its output read as it comes (``_log_of``)."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from cli import main; main()", "serve", "--port", str(port), *args],
        env={**_env(data_dir), **(env or {})},
        # The hub's logs (stdout) and its few lines to a person (stderr), in one stream.
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _logs[process.pid] = _Log(process)
    return process


def _log_of(process: subprocess.Popen[str]) -> _Log:
    return _logs[process.pid]


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


_logs: dict[int, _Log] = {}


class _Log:
    """The hub's output (logs and the lines to a person), read as it comes so the pipe never
    fills."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stdout is not None
        stream = process.stdout
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
        log = _log_of(process)
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


def _postgres_of(data_dir: Path) -> list[psutil.Process]:
    """PostgreSQL server processes running on this data folder."""
    pgdata = str(data_dir / "pgdata")
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            if proc.info["name"] == "postgres" and pgdata in " ".join(proc.info["cmdline"] or []):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def _holders(data_dir: Path) -> list[int]:
    path = data_dir / "pgdata" / ".handle_pids.json"
    return list(json.loads(path.read_text())) if path.exists() else []


class TestStopping:
    @pytest.mark.slow
    def test_sigterm_stops_hub_and_database_and_a_start_recovers_from_a_killed_hub(
        self, tmp_path: Path
    ) -> None:
        # given a hub that was killed outright (kill -9): its PostgreSQL left running, its pid
        # left on the server's list of holders
        data_dir, port = tmp_path / "hub", _free_port()
        url = f"http://127.0.0.1:{port}"
        killed = _serve(data_dir, port)
        _wait_ready(url, killed)
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        assert _postgres_of(data_dir)
        assert killed.pid in _holders(data_dir)
        # when a hub starts again on the folder
        process = _serve(data_dir, port)
        log = _log_of(process)
        try:
            _wait_ready(url, process)
            # then it serves, and the dead hub is no longer a holder
            assert httpx.post(f"{url}/graphql", json={"query": REGIONS}).status_code == 200
            assert _holders(data_dir) == [process.pid]
        finally:
            # and SIGTERM (systemd, docker stop) stops it as Ctrl-C does
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=90)
        assert process.returncode == 0, "".join(log.lines)
        assert not (data_dir / "pgdata" / "postmaster.pid").exists()
        assert _postgres_of(data_dir) == []
        assert _holders(data_dir) == []


class TestWorkerMetrics:
    @pytest.mark.slow
    def test_metrics_of_two_workers_are_summed_and_sigterm_stops_them(self, tmp_path: Path) -> None:
        # given `bilim serve --workers 2`
        data_dir, port = tmp_path / "hub", _free_port()
        url = f"http://127.0.0.1:{port}"
        process = _serve(data_dir, port, "--workers", "2")
        log = _log_of(process)
        try:
            log.wait_for("Application startup complete", count=2)
            _wait_ready(url, process)

            # when 40 queries arrive over 8 connections at once
            async def send() -> None:
                async def one_connection() -> None:
                    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
                        for _ in range(5):
                            body = {
                                "query": "query Regions { regions(first: 2) { nodes { code } } }"
                            }
                            assert (await client.post("/graphql", json=body)).status_code == 200

                await asyncio.gather(*(one_connection() for _ in range(8)))

            asyncio.run(send())
            # then both workers served some (each keeps its own files) and every scrape, by
            # whichever worker, counts all 40 once each worker's tally is written (within
            # FLUSH_SECONDS of a request's end: resolvers/telemetry/metrics.py)
            time.sleep(3 * FLUSH_SECONDS)
            counted = {
                name.split("_")[-1]
                for name in os.listdir(data_dir / "metrics")
                if name.startswith("counter_")
            }
            assert len(counted) >= 2, counted
            for _ in range(4):
                text = httpx.get(f"{url}/metrics", headers={"connection": "close"}).text
                line = 'bilim_graphql_requests_total{operation="Regions",outcome="ok",type="query"}'
                assert f"{line} 40.0" in text, text
                assert (
                    'bilim_graphql_request_seconds_count{operation="Regions",type="query"} 40.0'
                    in text
                )
            # and each request has its JSON line
            lines = [json.loads(x) for x in log.lines if '"http.request"' in x]
            assert sum(1 for x in lines if x.get("operation") == "Regions") == 40
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=90)
        assert not (data_dir / "pgdata" / "postmaster.pid").exists()
        assert _postgres_of(data_dir) == []


class TestFastCommands:
    """`bilim --help` and `bilim token` build no schema (issue 20: they took 8-11 s)."""

    HEAVY = ("schema", "strawberry", "models", "sqlalchemy", "app", "prometheus_client")

    def _imported_by(self, code: str) -> list[str]:
        probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
        out = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True
        ).stdout.split("\n")[-2]
        return [m for m in out.split() if m.split(".")[0] in self.HEAVY]

    def test_importing_the_cli_imports_no_schema_model_or_sql(self) -> None:
        assert self._imported_by("import cli") == []

    def test_help_builds_no_schema(self) -> None:
        code = (
            "import contextlib, io\nfrom cli import cli\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            "    cli(['--help'])"
        )
        assert self._imported_by(code) == []

    def test_token_builds_no_schema(self, tmp_path: Path) -> None:
        code = (
            "import contextlib, io\nfrom cli import cli\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            f"    cli(['token', '--role', 'ministry', '--data-dir', {str(tmp_path)!r}])"
        )
        imported = self._imported_by(code)
        assert not [
            m for m in imported if m.split(".")[0] in ("schema", "strawberry", "models", "app")
        ]

    def test_role_choices_are_the_roles_a_token_takes(self) -> None:
        from cli import TokenRole
        from resolvers.access import Role

        assert {r.value for r in TokenRole} == {r.value for r in Role} - {"anonymous", "partner"}
        result = CliRunner().invoke(cli, ["token", "--help"], terminal_width=400)
        assert "anonymous" not in result.output
        assert "partner" not in result.output

    def test_a_partner_token_is_refused(self, tmp_path: Path) -> None:
        result = CliRunner().invoke(
            cli, ["token", "--role", "partner", "--data-dir", str(tmp_path)]
        )
        assert result.exit_code == 2
        assert "partner" in result.output


class TestServeArguments:
    @pytest.mark.parametrize(
        ("args", "named"),
        [
            (["--port", "99999"], "--port"),
            (["--port", "0"], "--port"),
            (["--workers", "0"], "--workers"),
        ],
    )
    def test_out_of_range_values_are_refused_before_anything_starts(
        self, tmp_path: Path, args: list[str], named: str
    ) -> None:
        result = CliRunner().invoke(cli, ["serve", *args, "--data-dir", str(tmp_path)])
        assert result.exit_code == 2
        assert named in result.output
        assert not (tmp_path / "pgdata").exists()


class TestSeed:
    async def test_seeding_a_database_with_institutions_is_refused(
        self, db_url: str, session: AsyncSession, tmp_path: Path
    ) -> None:
        # given a database that already holds an institution
        await make_institution(session)
        await session.commit()
        before = await session.scalar(text("SELECT count(*) FROM institution"))
        env = {"DATABASE_URL": db_url, "BILIM_DATA_DIR": str(tmp_path)}
        # when `bilim seed` runs on it
        result = await asyncio.to_thread(CliRunner().invoke, cli, ["seed"], env=env)
        # then it says why it refuses and adds nothing
        assert result.exit_code == 1
        assert "already holds institutions" in result.output
        assert "--add" in result.output
        assert await session.scalar(text("SELECT count(*) FROM institution")) == before


class TestPartnerKeys:
    """``bilim keys create-partner``: the ministry's createApiKey from the command line, with
    the OneRoster write grant (``--oneroster-write``, issue 15)."""

    @staticmethod
    async def _create(db_url: str, tmp_path: Path, *args: str) -> Any:
        env = {"DATABASE_URL": db_url, "BILIM_DATA_DIR": str(tmp_path), "COLUMNS": "300"}
        command = ["keys", "create-partner", "--name", "LMS vendor", *args]
        return await asyncio.to_thread(CliRunner().invoke, cli, command, env=env)

    async def test_a_key_granted_writes_for_schools_is_made_and_its_grant_holds(
        self, db_url: str, session: AsyncSession, tmp_path: Path
    ) -> None:
        # given two schools
        schools = [await make_institution(session), await make_institution(session)]
        await session.commit()
        # when the ministry's operator makes a key writing their gradebooks
        grants = [a for s in schools for a in ("--oneroster-write", str(s.id))]
        fields = ["--field", "Mark.*", "--field", "ClassGroup.*", "--field", "Person.*"]
        result = await self._create(db_url, tmp_path, *fields, "--personal-data", *grants)
        # then the key is printed, and read back it carries the grant for both schools
        assert result.exit_code == 0, result.output
        key = result.stdout.strip()
        pepper = load_pepper(Settings(data_dir=tmp_path))
        async with session.bind.connect() as conn:  # type: ignore[union-attr]
            principal = await principal_from_key(conn, pepper, key)
        assert principal.grant is not None
        assert principal.grant.oneroster_writes == {s.id for s in schools}

    async def test_an_unknown_institution_or_not_a_school_is_refused_with_nothing_written(
        self, db_url: str, session: AsyncSession, tmp_path: Path
    ) -> None:
        school = await make_institution(session)
        kindergarten = await make_institution(session, kind=InstitutionKind.KINDERGARTEN)
        await session.commit()
        fields = ["--field", "Mark.*", "--personal-data"]
        cases = [
            (
                [*fields, "--oneroster-write", "999999999"],
                "No institution 999999999 to write marks of",
            ),
            (
                [
                    *fields,
                    "--oneroster-write",
                    str(school.id),
                    "--oneroster-write",
                    str(kindergarten.id),
                ],
                f"not a school: {kindergarten.id} (kindergarten)",
            ),
            (["--field", "Mark.*", "--oneroster-write", str(school.id)], "personal data"),
        ]
        for args, said in cases:
            result = await self._create(db_url, tmp_path, *args)
            # then it exits 2 saying why, and no key is kept
            assert result.exit_code == 2, result.output
            assert said in result.output
            assert "Traceback" not in result.output
        assert await session.scalar(text("SELECT count(*) FROM api_key")) == 0


class TestAssets:
    def test_unreachable_registry_is_one_line_saying_what_to_do(self, tmp_path: Path) -> None:
        # given a registry that cannot be reached, set the way npm users set theirs
        env = {"NPM_CONFIG_REGISTRY": "http://127.0.0.1:9/npm"}
        # when the assets are installed
        result = CliRunner().invoke(
            cli, ["assets", "install", "--data-dir", str(tmp_path)], env=env
        )
        # then one line names the registry and what to do, and no traceback
        assert result.exit_code == 1
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert "http://127.0.0.1:9/npm" in lines[0]
        assert "bilim assets install" in lines[0]
        assert "Traceback" not in result.output

    def test_the_registry_comes_from_npms_config(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from resolvers import assets

        for name in assets.REGISTRY_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        npmrc = tmp_path / "npmrc"
        npmrc.write_text("fund=false\nregistry=https://npm.example.kg/\n")
        monkeypatch.setenv("NPM_CONFIG_USERCONFIG", str(npmrc))
        assert assets.registry() == "https://npm.example.kg"
        monkeypatch.setenv("BILIM_NPM_REGISTRY", "https://mirror.example.kg/npm/")
        assert assets.registry() == "https://mirror.example.kg/npm"


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


class TestImports:
    """Every `bilim import` reads its file the same way (cli._import_file): each rejected
    line on stderr as `line N: CODE: message`, the summary on stdout, exit status 1 for a file
    refused whole, 2 when some lines were rejected, 0 when all loaded."""

    @staticmethod
    def _run(
        db_url: str,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        outcome: Exception | list[tuple[int, str]],
    ) -> int:
        import enum
        from dataclasses import dataclass

        import typer

        from cli import _import_file

        class Code(enum.StrEnum):
            NOT_A_NUMBER = "NOT_A_NUMBER"

        @dataclass
        class Problem:
            line: int
            code: Code
            message: str

        @dataclass
        class Report:
            problems: list[Problem]

        async def load(url: str) -> Report:
            assert url == db_url
            if isinstance(outcome, Exception):
                raise outcome
            return Report([Problem(n, Code.NOT_A_NUMBER, text) for n, text in outcome])

        monkeypatch.setenv("DATABASE_URL", db_url)
        try:
            _import_file(tmp_path, load, ValueError, lambda r: f"rejected: {len(r.problems)}")
        except typer.Exit as done:
            return done.exit_code
        return 0

    def test_rejected_lines_are_printed_with_number_and_code_and_exit_2(
        self, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
    ) -> None:
        status = self._run(db_url, tmp_path, monkeypatch, [(3, "'x' is not a number")])
        out, err = capsys.readouterr()
        assert status == 2
        assert err.strip() == "line 3: NOT_A_NUMBER: 'x' is not a number"
        assert out.strip() == "rejected: 1"

    def test_a_clean_file_exits_0(
        self, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
    ) -> None:
        assert self._run(db_url, tmp_path, monkeypatch, []) == 0
        out, err = capsys.readouterr()
        assert (out.strip(), err) == ("rejected: 0", "")

    def test_a_refused_file_exits_1_saying_why(
        self, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
    ) -> None:
        status = self._run(db_url, tmp_path, monkeypatch, ValueError("not UTF-8 CSV"))
        out, err = capsys.readouterr()
        assert status == 1
        assert err.strip() == "The file was refused: not UTF-8 CSV"
        assert out == ""

    @pytest.mark.parametrize("command", ["test-results", "curriculum", "population"])
    def test_every_csv_import_refuses_a_binary_file_with_exit_1(
        self, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
    ) -> None:
        path = tmp_path / "data.csv"
        path.write_bytes(b"\xff\xfe\x00binary")
        monkeypatch.setenv("DATABASE_URL", db_url)
        result = CliRunner().invoke(
            cli, ["import", command, str(path), "--data-dir", str(tmp_path)]
        )
        assert result.exit_code == 1, result.output
        assert "The file was refused" in result.output
