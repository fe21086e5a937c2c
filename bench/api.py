"""HTTP benchmark of the hub: seeds a dataset, starts `bilim serve` as production would, drives
it with wrk at fixed concurrency, and reports requests/s, p50, p99, SQL statements per request
and worker memory for each operation, written to a CSV.

    python -m bench.api                       # embedded PostgreSQL, scale 0.143 (200k pupils)
    DATABASE_URL=postgresql://... python -m bench.api --scale 1.0 --workers 2 --duration 30

Needs `wrk` (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from sqlalchemy.engine import make_url

from models import database
from resolvers.access import KeyRing, Role, issue_token
from resolvers.relay import encode_id
from resolvers.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PORTALS = ROOT / "portals"

PERSON_BY_ID = """query PersonById($id: ID!) {
  node(id: $id) { id ... on Person { firstName lastName patronymic birthDate sex } }
}"""


@dataclass
class Operation:
    name: str
    query: str
    variables: dict[str, Any]
    # More variable sets, sent in turn (a different person on every request).
    rotation: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Result:
    name: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    statements: int
    rows: int
    errors: int
    worker_rss_mb: float
    first_error: str = ""
    # CPU milliseconds per request during the run (mutations' workloads): the hub's
    # processes, the events process (`--events apart`) and PostgreSQL's.
    cpu: tuple[float, float, float] | None = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _pick_variables(url: str) -> dict[str, Any]:
    """Ids the operations need, chosen from the loaded data (deterministically)."""
    conn = await asyncpg.connect(database.plain_url(url))
    try:
        region = await conn.fetchval(
            "SELECT region_id FROM institution WHERE kind = 'school' GROUP BY region_id"
            " ORDER BY count(*) DESC, region_id LIMIT 1"
        )
        pupil = await conn.fetchval(
            "SELECT person_id FROM enrollment GROUP BY person_id HAVING count(*) > 1"
            " ORDER BY person_id LIMIT 1"
        )
        guardian = await conn.fetchval("SELECT min(guardian_id) FROM guardianship")
        people = await conn.fetch("SELECT id FROM person WHERE id % 97 = 0 ORDER BY id LIMIT 1000")
    finally:
        await conn.close()
    return {
        "regionId": encode_id("Region", region),
        "personId": encode_id("Person", pupil),
        "id": encode_id("Person", guardian),
        "grade": 5,
        "filter": {"regionId": encode_id("Region", region)},
        "people": [encode_id("Person", r["id"]) for r in people],
    }


def _portal_operations() -> list[tuple[str, str]]:
    """Every operation in portals/: ("<folder>/<file stem>", its text)."""
    return [
        (f"{path.parent.name}/{path.stem}", path.read_text())
        for path in sorted(PORTALS.rglob("*.graphql"))
    ]


# What `_pick_variables` finds in the dataset for the portal queries.
DERIVED_VARIABLES = frozenset({"regionId", "personId", "id", "grade", "filter", "people"})


def derivable(text: str) -> bool:
    """Whether a portal query's required variables are all ones the dataset gives."""
    declared = re.findall(r"\$(\w+)\s*:\s*([\w\[\]!]+)", text)
    return {name for name, gql_type in declared if gql_type.endswith("!")} <= DERIVED_VARIABLES


def is_mutation(text: str) -> bool:
    return re.search(r"^\s*mutation\b", text, re.M) is not None


def _portal_queries() -> list[tuple[str, str]]:
    return [(name, text) for name, text in _portal_operations() if not is_mutation(text)]


def _operations(variables: dict[str, Any], first_page_cursor: str | None) -> list[Operation]:
    portal = dict(_portal_queries())
    ops = [
        Operation(
            "a. person by id",
            PERSON_BY_ID,
            {"id": variables["personId"]},
            [{"id": person} for person in variables["people"]],
        ),
        Operation(
            "b. 50 institutions x 20 enrollments x person",
            portal["emis/InstitutionsOfRegion"],
            {"regionId": variables["regionId"], "kinds": ["SCHOOL"], "first": 50, "pupils": 20},
        ),
        Operation(
            "c. enrollment history",
            portal["emis/EnrollmentHistory"],
            {"personId": variables["personId"]},
        ),
        Operation(
            "d. grade 5 of a region by last name, page after a cursor",
            portal["emis/PupilsOfGrade"],
            {
                "regionId": variables["regionId"],
                "grade": 5,
                "first": 50,
                "after": first_page_cursor,
            },
        ),
        Operation(
            "e. current pupils per institution of a region",
            portal["emis/PupilCounts"],
            {"regionId": variables["regionId"]},
        ),
    ]
    from bench.workloads import all_workloads

    by_workload = {w.operation for w in all_workloads()}
    for name, text in _portal_queries():
        if name not in by_workload and derivable(text):
            declared = dict(re.findall(r"\$(\w+)\s*:\s*([\w\[\]!]+)", text))
            used = {k: v for k, v in variables.items() if k in declared}
            # The prepared `filter` is an institution filter; other lists run unfiltered.
            if declared.get("filter", "InstitutionFilter") != "InstitutionFilter":
                used.pop("filter", None)
            ops.append(Operation(name, text, used))
    return ops


def _lua(path: Path, body: str, token: str, rotation: list[str] | None = None) -> None:
    script = (
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body)}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
    )
    if rotation:
        bodies = ",\n".join(json.dumps(b) for b in rotation)
        script += (
            f"bodies = {{\n{bodies}\n}}\n"
            "i = 0\n"
            "request = function()\n"
            "  i = i % #bodies + 1\n"
            "  return wrk.format(nil, nil, nil, bodies[i])\n"
            "end\n"
        )
    path.write_text(script)


def _ms(text: str) -> float:
    found = re.match(r"([\d.]+)(us|ms|s|m)", text)
    if found is None:
        raise RuntimeError(f"unexpected wrk latency {text!r}")
    value, unit = found.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def _wrk(
    url: str, script: Path, *, connections: int, duration: int, timeout: int = 2
) -> tuple[float, float, float, int]:
    """Requests/s, p50 and p99 in ms, and the answers a workload's script found bad."""
    rps, p50, p99, bad, _ = _wrk_counted(
        url, script, connections=connections, duration=duration, timeout=timeout
    )
    return rps, p50, p99, bad


def _wrk_counted(
    url: str, script: Path, *, connections: int, duration: int, timeout: int = 2
) -> tuple[float, float, float, int, int]:
    """:func:`_wrk`'s figures and the number of requests answered."""
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            f"--timeout={timeout}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "50%" not in out:
        raise RuntimeError(f"wrk gave no latency distribution:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    bad = re.search(r"^bad=(\d+)", out, re.M)
    answered = re.search(r"^answered=(\d+)", out, re.M)
    elapsed = re.search(r"^elapsed_us=(\d+)", out, re.M)
    total = re.search(r"^\s*(\d+) requests in", out, re.M)
    count = int(total.group(1)) if total else 0
    if answered and elapsed and int(elapsed.group(1)) > 0:
        # A workload's script times its own run (wrk divides by the whole duration).
        count = int(answered.group(1))
        rps = count / (int(elapsed.group(1)) / 1e6)
    return rps, p50, p99, int(bad.group(1)) if bad else 0, count


def _rows(data: Any) -> int:
    if isinstance(data, list):
        return sum(max(_rows(x), 1) if isinstance(x, dict) else 1 for x in data)
    if isinstance(data, dict):
        return sum(_rows(v) for v in data.values())
    return 0


@asynccontextmanager
async def _in_process_hub(
    db_url: str, data_dir: Path, *, dispatch: bool | None = None
) -> AsyncIterator[tuple[httpx.AsyncClient, database.StatementCounter]]:
    """A hub in this process on ``db_url``, and a counter of the SQL statements it sends;
    ``dispatch``: whether it delivers events (by default as a hub does)."""
    from app import create_app

    settings = Settings(
        database_url=db_url,
        data_dir=data_dir,
        fetch_assets=False,
        points_per_hour=10**9,
        event_dispatcher=dispatch,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        counter = database.StatementCounter()
        counter.attach(app.state.engine)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield client, counter


async def _statements(
    db_url: str, data_dir: Path, ops: list[Operation], token: str
) -> dict[str, int]:
    """SQL statements per request, counted from the engine's events of an in-process hub."""
    counts: dict[str, int] = {}
    async with _in_process_hub(db_url, data_dir) as (client, counter):
        for op in ops:
            body = {"query": op.query, "variables": op.variables}
            headers = {"Authorization": f"Bearer {token}"}
            await client.post("/graphql", json=body, headers=headers)  # warm caches
            counter.reset()
            await client.post("/graphql", json=body, headers=headers)
            counts[op.name] = counter.count
    return counts


def _worker_rss(server: subprocess.Popen[bytes]) -> float:
    try:
        parent = psutil.Process(server.pid)
        procs = [parent, *parent.children(recursive=True)]
        return max(p.memory_info().rss for p in procs if "postgres" not in p.name()) / 2**20
    except psutil.Error:
        return 0.0


def _lua_bytes(data: bytes) -> str:
    """A Lua string literal of ``data``, byte for byte (LuaJIT knows no ``\\u`` escapes, and a
    long string would turn the CRLFs of a multipart body into LFs)."""
    out = []
    for byte in data:
        if 32 <= byte < 127 and byte not in (34, 92):  # printable, not " or \
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def _lua_calls(path: Path, query: str, calls: list[Any], *, once: bool) -> None:
    """A script sending each call with its own token (and content type: a call may upload a
    file). With ``once`` (a mutation: each call is valid once) no call is sent twice: a
    connection that finds them all sent waits, and the run ends when the last answer is in.
    Answers with errors or user errors count as bad."""
    rows = []
    for c in calls:
        body, content_type = c.body(query)
        rows.append(
            "{"
            + ", ".join(
                (
                    _lua_bytes(body),
                    _lua_bytes(f"Bearer {c.token}".encode()),
                    _lua_bytes(content_type.encode()),
                )
            )
            + "}"
        )
    path.write_text(
        "calls = {\n" + ",\n".join(rows) + "\n}\n"
        f"once = {'true' if once else 'false'}\n"
        # wrk's own rate divides by the whole --duration, also when a thread stops early: the
        # script times its run itself (first request to last answer, monotonic clock).
        'local ffi = require("ffi")\n'
        "ffi.cdef[[\n"
        "  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;\n"
        "  int clock_gettime(int clock, bench_timespec *ts);\n"
        "]]\n"
        'local ts = ffi.new("bench_timespec")\n'
        "local function now()\n"
        "  ffi.C.clock_gettime(1, ts)\n"
        "  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000\n"
        "end\n"
        "reserved = 0\n"
        "sent = 0\n"
        "answered = 0\n"
        "bad = 0\n"
        "first = 0\n"
        "last = 0\n"
        # wrk asks delay() before each request and request() when it is due: a call is
        # reserved in delay(), so two connections finishing together cannot both take the
        # last one; once all are reserved, connections wait (the run ends before).
        "delay = function()\n"
        "  if once then\n"
        "    if reserved >= #calls then return 3600000 end\n"
        "    reserved = reserved + 1\n"
        "  end\n"
        "  return 0\n"
        "end\n"
        "request = function()\n"
        "  if first == 0 then first = now() end\n"
        "  sent = sent + 1\n"
        "  local call = calls[(sent - 1) % #calls + 1]\n"
        "  local headers = {}\n"
        '  headers["Content-Type"] = call[3]\n'
        '  headers["Authorization"] = call[2]\n'
        '  return wrk.format("POST", nil, headers, call[1])\n'
        "end\n"
        "response = function(status, headers, body)\n"
        "  answered = answered + 1\n"
        "  last = now()\n"
        "  if status ~= 200 or string.find(body, '\"errors\":', 1, true)\n"
        "      or string.find(body, 'rrors\":[{', 1, true)\n"
        "      or string.find(body, 'problems\":[{', 1, true) then\n"
        "    bad = bad + 1\n"
        "  end\n"
        "  if once and answered >= #calls then wrk.thread:stop() end\n"
        "end\n"
        "threads = {}\n"
        "setup = function(thread) table.insert(threads, thread) end\n"
        "done = function(summary, latency, requests)\n"
        "  local b, n, t0, t1 = 0, 0, 0, 0\n"
        "  for _, t in ipairs(threads) do\n"
        '    b = b + t:get("bad")\n'
        '    n = n + t:get("answered")\n'
        '    if t0 == 0 or t:get("first") < t0 then t0 = t:get("first") end\n'
        '    if t:get("last") > t1 then t1 = t:get("last") end\n'
        "  end\n"
        '  io.write(string.format("bad=%d\\nanswered=%d\\nelapsed_us=%d\\n", b, n, t1 - t0))\n'
        "end\n"
    )


def _problem(answer: dict[str, Any]) -> str:
    """The first error, user error or rejected row (of an import) of an answer, or ''."""
    if answer.get("errors"):
        return str(answer["errors"][0].get("message", ""))[:120]

    def walk(value: Any) -> str:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("userErrors", "problems") and item:  # problems: rows of an import
                    return f"{item[0].get('code')}: {item[0].get('message')}"[:120]
                found = walk(item)
                if found:
                    return found
        if isinstance(value, list):
            for item in value:
                found = walk(item)
                if found:
                    return found
        return ""

    return walk(answer.get("data"))


WRITES_DATABASE = "bilim_bench_writes"


async def _copy_database(db_url: str, name: str, *, drop_only: bool = False) -> str:
    """A fresh copy of the benchmark's database (mutations write there, never in the data
    the queries are measured on); its URL."""
    source = make_url(db_url)
    conn = await asyncpg.connect(database.plain_url(source.set(database="postgres")))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source.database}"')
    finally:
        await conn.close()
    return source.set(database=name).render_as_string(hide_password=False)


async def _run_workloads(
    args: argparse.Namespace, db_url: str, settings: Settings, ring: KeyRing, tmp: Path
) -> list[Result]:
    """Every workload of ``bench.workloads`` through a hub on a copy of the dataset."""
    from bench.workloads import Bench, all_workloads

    chosen = [w for w in all_workloads() if _chosen(args.only, w.operation)]
    if not chosen:
        return []
    texts = dict(_portal_operations())
    from bench.library import cpu_seconds

    copy_url = await _copy_database(db_url, WRITES_DATABASE)
    server, url = await asyncio.to_thread(_start_hub, copy_url, args)
    events = _start_events(copy_url, args) if args.events == "apart" else None
    postmaster = _postmaster_pid(args.data_dir)
    bench = Bench(database.plain_url(copy_url), settings, ring)
    results: list[Result] = []
    try:
        # It sends each first call and counts its statements; the events are the served
        # hub's to deliver (or the events process's), not this process's, which shares the
        # machine with it.
        async with _in_process_hub(copy_url, args.data_dir, dispatch=False) as (client, counter):
            for workload in chosen:
                query = texts[workload.operation]
                once = is_mutation(query)
                calls = await workload.prepare(bench, args.calls + 1)
                if not calls:
                    raise RuntimeError(f"{workload.operation}: prepared no calls")
                # The first call, in process: its statements and whether it succeeds.
                counter.reset()
                body, content_type = calls[0].body(query)
                answer = (
                    await client.post(
                        "/graphql",
                        content=body,
                        headers={
                            "Authorization": f"Bearer {calls[0].token}",
                            "Content-Type": content_type,
                        },
                    )
                ).json()
                statements = counter.count
                problem = _problem(answer)
                rest = calls[1:] if once else calls
                rps = p50 = p99 = 0.0
                bad = 0
                cpu = None
                if rest:
                    script = tmp / "calls.lua"
                    _lua_calls(script, query, rest, once=once)
                    pids = (server.pid, events.pid if events else None, postmaster)
                    before = [cpu_seconds(pid) for pid in pids]
                    rps, p50, p99, bad, sent = await asyncio.to_thread(
                        _wrk_counted,
                        url,
                        script,
                        # Each call of a mutation is sent once: no more connections than calls.
                        connections=min(args.connections, len(rest)) if once else args.connections,
                        duration=args.duration,
                        # A batch (an allocation, an admission order) may take seconds.
                        timeout=120,
                    )
                    if sent and once:
                        # The events of the last calls are delivered after wrk ends.
                        await asyncio.sleep(1.0)
                    used = [cpu_seconds(pid) - b for pid, b in zip(pids, before, strict=True)]
                    cpu = (
                        (used[0] / sent * 1000, used[1] / sent * 1000, used[2] / sent * 1000)
                        if sent
                        else None
                    )
                r = Result(
                    workload.operation,
                    rps,
                    p50,
                    p99,
                    statements,
                    _rows(answer.get("data")),
                    bad + (1 if problem else 0),
                    _worker_rss(server),
                    problem or (f"{bad} bad answers" if bad else ""),
                    cpu,
                )
                results.append(r)
                _print(r, calls=len(rest))
    finally:
        await asyncio.to_thread(_stop_hub, server)
        if events is not None:
            await asyncio.to_thread(_stop_hub, events)
        await _copy_database(db_url, WRITES_DATABASE, drop_only=True)
    return results


def _print(r: Result, calls: int | None = None) -> None:
    print(
        f"{r.name:60} {r.requests_per_s:8.0f} req/s  p50 {r.p50_ms:6.1f} ms  "
        f"p99 {r.p99_ms:6.1f} ms  {r.statements} stmt  {r.rows} rows  "
        f"rss {r.worker_rss_mb:.0f} MB"
        + (f"  {calls} calls" if calls is not None else "")
        + (
            f"  CPU/request: hub {r.cpu[0]:.2f} ms, events {r.cpu[1]:.2f} ms,"
            f" PostgreSQL {r.cpu[2]:.2f} ms"
            if r.cpu
            else ""
        )
        + (f"  ERROR: {r.first_error}" if r.errors else "")
    )


def _postmaster_pid(data_dir: Path) -> int | None:
    """The embedded PostgreSQL's postmaster, if it runs from ``data_dir``."""
    pid_file = next(data_dir.rglob("postmaster.pid"), None)
    return int(pid_file.read_text().split()[0]) if pid_file is not None else None


def _hub_env(db_url: str, args: argparse.Namespace) -> dict[str, str]:
    # One token drives a whole run: its hourly budget must not be what is measured.
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "BILIM_DATA_DIR": str(args.data_dir),
        "BILIM_FETCH_ASSETS": "false",
        "BILIM_POINTS_PER_HOUR": str(10**9),
        # `--events`: the outbox dispatcher in the hub's workers (the default deployment), in
        # a process of its own (`bilim events run`), or nowhere (the request alone).
        "BILIM_EVENT_DISPATCHER": "true" if args.events == "worker" else "false",
    }


def _start_events(db_url: str, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    """``bilim events run`` beside the hub, as a deployment may run it (`--events apart`)."""
    from bench.events import start_dispatcher

    return start_dispatcher({**_hub_env(db_url, args), "BILIM_EVENT_DISPATCHER": "true"})


def _start_hub(db_url: str, args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], str]:
    """`bilim serve` as production runs it, on ``db_url``; its GraphQL URL once it is ready."""
    port = _free_port()
    env = _hub_env(db_url, args)
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--no-access-log",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/graphql"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(url.replace("/graphql", "/readyz"), timeout=2).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            _stop_hub(server)
            sys.exit("the hub did not start")
        time.sleep(0.5)


def _stop_hub(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def _chosen(only: str, name: str) -> bool:
    """``--only``: the operations whose name contains it, or one of its comma-separated parts."""
    return any(part in name for part in only.split(","))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scale", type=float, default=0.143, help="dataset scale (0.143: 200k pupils)"
    )
    parser.add_argument(
        "--institutions",
        type=int,
        default=2_000,
        help="institutions in the dataset (default 2,000 for 200,000 pupils)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--duration", type=int, default=10, help="seconds per operation")
    parser.add_argument("--data-dir", type=Path, default=RESULTS / "data")
    parser.add_argument(
        "--only",
        default="",
        help="run operations whose name contains this (or one of these, comma-separated)",
    )
    parser.add_argument(
        "--calls",
        type=int,
        default=2_000,
        help="requests prepared for each mutation (each changes its own object)",
    )
    parser.add_argument(
        "--no-workloads", action="store_true", help="queries on the dataset only, no mutations"
    )
    parser.add_argument(
        "--events",
        choices=("worker", "apart", "off"),
        default="worker",
        help="where the outbox dispatcher runs: in the hub's workers (default), in a process"
        " of its own (`bilim events run`), or not at all",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")

    settings = Settings(data_dir=args.data_dir)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    embedded = None
    db_url = settings.database_url or ""
    if not db_url:
        embedded = database.EmbeddedPostgres(args.data_dir)
        server_url = embedded.start()
        asyncio.run(database.ensure_database(server_url, database.EMBEDDED_DATABASE))
        db_url = embedded.url()
    server = None
    try:
        database.migrate(db_url)
        from resolvers import demo

        if not asyncio.run(demo.is_loaded(db_url)):
            started = time.perf_counter()
            counts = asyncio.run(
                demo.load(
                    db_url,
                    scale=args.scale,
                    seed=args.seed,
                    progress=True,
                    institutions=args.institutions,
                )
            )
            print(f"seeded in {time.perf_counter() - started:.0f} s: {counts}")
        # The statistics rollups the nightly job keeps on a running hub: without them every
        # statistics page counts the registry live (seconds a request at this size).
        from bench.workloads.stats import refresh_statistics

        print("statistics rollups:", asyncio.run(refresh_statistics(db_url)))
        ring = KeyRing.load(settings, args.data_dir)
        token = issue_token(ring, settings, role=Role.MINISTRY, ttl_minutes=240)
        variables = asyncio.run(_pick_variables(db_url))

        server, url = _start_hub(db_url, args)

        headers = {"Authorization": f"Bearer {token}"}
        first = httpx.post(
            url,
            json={
                "query": _operations(variables, None)[3].query,
                "variables": {**_operations(variables, None)[3].variables},
            },
            headers=headers,
            timeout=30,
        ).json()
        cursor = first["data"]["persons"]["pageInfo"]["endCursor"]
        ops = [op for op in _operations(variables, cursor) if _chosen(args.only, op.name)]
        statements = asyncio.run(_statements(db_url, args.data_dir, ops, token))

        results: list[Result] = []
        with tempfile.TemporaryDirectory() as tmp:
            for op in ops:
                body = json.dumps({"query": op.query, "variables": op.variables})
                check = httpx.post(
                    url,
                    content=body,
                    headers={**headers, "content-type": "application/json"},
                    timeout=30,
                ).json()
                errors = len(check.get("errors") or [])
                first_error = str((check.get("errors") or [{}])[0].get("message", ""))[:120]
                script = Path(tmp) / "op.lua"
                rotation = [json.dumps({"query": op.query, "variables": v}) for v in op.rotation]
                _lua(script, body, token, rotation)
                rps, p50, p99, _ = _wrk(
                    url, script, connections=args.connections, duration=args.duration
                )
                results.append(
                    Result(
                        op.name,
                        rps,
                        p50,
                        p99,
                        statements[op.name],
                        _rows(check.get("data")),
                        errors,
                        _worker_rss(server),
                        first_error,
                    )
                )
                _print(results[-1])
            # Mutations and workflow-state queries, on a copy of the data.
            _stop_hub(server)
            server = None
            if not args.no_workloads:
                results += asyncio.run(_run_workloads(args, db_url, settings, ring, Path(tmp)))
        RESULTS.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        target = RESULTS / f"api-{stamp}.csv"
        with target.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(
                [
                    "operation",
                    "requests_per_s",
                    "p50_ms",
                    "p99_ms",
                    "sql_statements",
                    "rows",
                    "errors",
                    "worker_rss_mb",
                    "workers",
                    "connections",
                    "scale",
                ]
            )
            for r in results:
                writer.writerow(
                    [
                        r.name,
                        f"{r.requests_per_s:.1f}",
                        f"{r.p50_ms:.2f}",
                        f"{r.p99_ms:.2f}",
                        r.statements,
                        r.rows,
                        r.errors,
                        f"{r.worker_rss_mb:.0f}",
                        args.workers,
                        args.connections,
                        args.scale,
                    ]
                )
        print(f"written to {target}")
    finally:
        if server is not None:
            _stop_hub(server)
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    main()
