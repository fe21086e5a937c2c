"""The hub under test, reached over HTTP: `bilim serve` started as a user starts it (or one
already running), the tokens its data folder's key signs, and racers that each hold their own
connection and classify every answer."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import httpx

from bench.workloads import Call, Upload
from models import database
from resolvers.access import KeyRing, Role, issue_token
from resolvers.settings import Settings

PORTALS = Path(__file__).resolve().parent.parent.parent / "portals"
# An allocation of a school or a district may take a few seconds on a busy machine.
REQUEST_TIMEOUT_S = 120.0
START_TIMEOUT_S = 180.0
# The hub's code for a fault nobody expected; any answer carrying it is counted, whatever else.
INTERNAL_ERROR = "INTERNAL_ERROR"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServedHub:
    """`bilim serve` in a subprocess on a free port, its data in ``data_dir``: an embedded
    PostgreSQL there (the user's default), or ``database_url`` when given. ``url`` is its
    ``/graphql`` and ``database_url`` the database it serves, for arranging and checking."""

    data_dir: Path
    workers: int = 1
    database_url: str | None = None
    url: str = ""
    process: subprocess.Popen[bytes] | None = None
    embedded: database.EmbeddedPostgres | None = None
    log: Path | None = None

    def start(self) -> None:
        port = free_port()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        unset = ("DATABASE_URL", "READ_DATABASE_URL", "BILIM_READ_DATABASE_URL")
        env = {k: v for k, v in os.environ.items() if k not in unset}
        env.update(
            {
                "BILIM_DATA_DIR": str(self.data_dir),
                "BILIM_FETCH_ASSETS": "false",
                # Every run signs new tokens: the hourly budget is not what is measured.
                "BILIM_POINTS_PER_HOUR": str(10**9),
            }
        )
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        self.log = self.data_dir / "hub.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from cli import main; main()",
                    "serve",
                    "--port",
                    str(port),
                    "--workers",
                    str(self.workers),
                    "--no-access-log",
                    "--data-dir",
                    str(self.data_dir),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        self.url = f"http://127.0.0.1:{port}/graphql"
        self._wait_ready()
        if not self.database_url:
            # The hub's embedded server is running on this data folder: attaching to it gives
            # its URL (the server stops when the last process using it lets go).
            self.embedded = database.EmbeddedPostgres(self.data_dir)
            self.embedded.start()
            self.database_url = self.embedded.url()

    def _wait_ready(self) -> None:
        assert self.process is not None
        ready = self.url.replace("/graphql", "/readyz")
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the hub exited while starting; see {self.log}")
            try:
                if httpx.get(ready, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the hub was not ready within {START_TIMEOUT_S:.0f} s; see {self.log}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None


@contextmanager
def served(data_dir: Path, *, workers: int, database_url: str | None) -> Iterator[ServedHub]:
    hub = ServedHub(data_dir, workers=workers, database_url=database_url)
    try:
        hub.start()
        yield hub
    finally:
        hub.stop()


class Tokens:
    """Bearer tokens signed with the data folder's active key, as `bilim token` signs them.
    Each token names its own subject, so no two callers share an hourly budget."""

    def __init__(self, data_dir: Path) -> None:
        self.settings = Settings(data_dir=data_dir)
        if not (data_dir / "signing-keys.json").exists():
            # KeyRing.load would make a new key, and the hub would refuse every token.
            raise SystemExit(f"no signing key in {data_dir}: give the hub's --data-dir")
        self.ring = KeyRing.load(self.settings)
        self._serial = count(1)

    def _issue(
        self, role: Role, *, person_id: int | None = None, scopes: list[str] | None = None
    ) -> str:
        return issue_token(
            self.ring,
            self.settings,
            role=role,
            subject=f"bench-races:{role.value}:{os.getpid()}:{next(self._serial)}",
            person_id=person_id,
            scopes=scopes,
            ttl_minutes=240,
        )

    def ministry(self) -> str:
        return self._issue(Role.MINISTRY)

    def guardian(self, person_id: int) -> str:
        return self._issue(Role.GUARDIAN, person_id=person_id)

    def pupil(self, person_id: int) -> str:
        return self._issue(Role.PUPIL, person_id=person_id)

    def school_admin(self, institution_id: int) -> str:
        return self._issue(Role.SCHOOL_ADMIN, scopes=[f"institution:{institution_id}"])

    def district_officer(self, district_id: int) -> str:
        return self._issue(Role.DISTRICT_OFFICER, scopes=[f"district:{district_id}"])


def portal_document(operation: str) -> str:
    """The text a portal sends for ``operation`` (``"<portal>/<Name>"``, as in portals/)."""
    return (PORTALS / f"{operation}.graphql").read_text()


@dataclass(frozen=True)
class Request:
    """One racer's request: a portal operation, its variables, the caller's token and the
    file it uploads, if any."""

    racer: str
    operation: str
    variables: dict[str, Any]
    token: str
    upload: Upload | None = None

    def body(self) -> tuple[bytes, str]:
        return Call(self.variables, self.token, self.upload).body(portal_document(self.operation))


@dataclass
class Answer:
    """What one racer got back, classified."""

    racer: str
    status: int
    latency_ms: float
    body: Any = None
    # Faults nobody expected: an INTERNAL_ERROR (or code-less) top-level error, an HTTP 5xx,
    # an answer that is not JSON, a connection that broke.
    unexpected: list[str] = field(default_factory=list)
    # Refusals the hub explains with a stable code (user errors, typed top-level errors).
    refusals: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Acknowledged: HTTP 200, no error of any kind."""
        return self.status == 200 and not self.unexpected and not self.refusals

    def payload(self, field_name: str) -> dict[str, Any]:
        """The mutation's payload (empty when there is none)."""
        data = self.body.get("data") if isinstance(self.body, dict) else None
        value = (data or {}).get(field_name)
        return value if isinstance(value, dict) else {}


def _user_error_codes(value: Any) -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "userErrors" and isinstance(item, list):
                found += [str(e.get("code")) for e in item if isinstance(e, dict)]
            else:
                found += _user_error_codes(item)
    elif isinstance(value, list):
        for item in value:
            found += _user_error_codes(item)
    return found


def classify(racer: str, status: int, latency_ms: float, text: bytes) -> Answer:
    answer = Answer(racer, status, latency_ms)
    if status >= 500:
        answer.unexpected.append(f"HTTP_{status}")
    try:
        answer.body = json.loads(text)
    except ValueError:
        answer.unexpected.append("NOT_JSON")
        return answer
    if not isinstance(answer.body, dict):
        answer.unexpected.append("NOT_JSON")
        return answer
    for error in answer.body.get("errors") or []:
        code = str(((error or {}).get("extensions") or {}).get("code") or "")
        if not code or code == INTERNAL_ERROR:
            answer.unexpected.append(code or "NO_CODE")
        else:
            answer.refusals.append(code)
    answer.refusals += _user_error_codes(answer.body.get("data"))
    return answer


class Racer:
    """One caller with one HTTP connection of its own (kept alive between its requests)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.AsyncClient(
            timeout=REQUEST_TIMEOUT_S, limits=httpx.Limits(max_connections=1)
        )

    async def warm(self) -> None:
        """Open (or refresh) the connection, so the race starts on equal terms."""
        # If the hub is unreachable, the request that follows records what went wrong.
        with contextlib.suppress(httpx.HTTPError):
            await self.client.get(self.url.replace("/graphql", "/healthz"))

    async def send(self, request: Request, delay_s: float) -> Answer:
        body, content_type = request.body()
        headers = {"Authorization": f"Bearer {request.token}", "Content-Type": content_type}
        await asyncio.sleep(delay_s)
        started = time.perf_counter()
        try:
            response = await self.client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as err:
            elapsed = (time.perf_counter() - started) * 1000
            return Answer(request.racer, 0, elapsed, unexpected=[f"TRANSPORT_{type(err).__name__}"])
        elapsed = (time.perf_counter() - started) * 1000
        return classify(request.racer, response.status_code, elapsed, response.content)

    async def close(self) -> None:
        await self.client.aclose()
