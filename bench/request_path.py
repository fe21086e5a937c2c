"""CPU per request of the hub and of PostgreSQL for the registry shapes (a)-(e), for several
builds of the hub and the hand-written floor, interleaved in one run (issue 21).

    python -m bench.request_path                          # this tree and the hand-written floor
    python -m bench.request_path --base /tmp/main-tree    # ... and another build (git archive)
    python -m bench.request_path --only a,c --rounds 5 --duration 8
    python -m bench.request_path --only e --explain 150   # statements only, no servers

Each round starts each server in turn (``bilim serve --workers N --no-access-log`` from its
tree, or ``bench.handwritten`` under uvicorn), drives every shape with wrk (one thread, 4
connections, as ``bench.api``) and reads from /proc the CPU time (user + system) the server's
processes and the PostgreSQL server's processes spent meanwhile. Divided by the requests wrk
counted, that is CPU per request: what load from other processes distorts far less than
requests/s (which is printed too). The dataset is ``bench.api``'s (seeded into ``--data-dir``
when it is not there). Prints medians over rounds, the ratios to the first server, ``uptime``,
and writes ``bench/results/request-path-<time>.csv``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.api import PERSON_BY_ID, _free_port, _lua, _pick_variables, _portal_queries
from bench.events import cpu_seconds
from models import database
from resolvers.access import KeyRing, Role, issue_token
from resolvers.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
HANDWRITTEN = "hand-written"


@dataclass(frozen=True)
class Shape:
    key: str
    query: str
    variables: dict[str, Any]
    rotation: list[dict[str, Any]]


@dataclass
class Sample:
    server: str
    shape: str
    round: int
    requests: int
    seconds: float
    server_cpu: float
    postgres_cpu: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def server_ms(self) -> float:
        return 1000 * self.server_cpu / max(self.requests, 1)

    @property
    def postgres_ms(self) -> float:
        return 1000 * self.postgres_cpu / max(self.requests, 1)


def shapes(variables: dict[str, Any]) -> list[Shape]:
    portal = dict(_portal_queries())
    region = variables["regionId"]
    return [
        Shape(
            "a",
            PERSON_BY_ID,
            {"id": variables["personId"]},
            [{"id": p} for p in variables["people"]],
        ),
        Shape(
            "b",
            portal["emis/InstitutionsOfRegion"],
            {"regionId": region, "kinds": ["SCHOOL"], "first": 50, "pupils": 20},
            [],
        ),
        Shape("c", portal["emis/EnrollmentHistory"], {"personId": variables["personId"]}, []),
        Shape("e", portal["emis/PupilCounts"], {"regionId": region}, []),
    ]


def _tree(pid: int) -> list[psutil.Process]:
    try:
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.Error:
        return []


def _postgres(pgdata: Path) -> list[psutil.Process]:
    """The embedded server's postmaster and every process under it (backends included)."""
    pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    return _tree(pid)


def _start(label: str, tree: Path | None, db_url: str, data_dir: Path, workers: int) -> Any:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "BILIM_DATA_DIR": str(data_dir),
        "BILIM_FETCH_ASSETS": "false",
        "BILIM_POINTS_PER_HOUR": str(10**9),
    }
    if tree is None:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.handwritten:app",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        cwd = ROOT
    else:
        command = [
            sys.executable,
            "-c",
            "from cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
        ]
        cwd = tree
        env["PYTHONPATH"] = str(tree)
    server = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/graphql"
    deadline = time.monotonic() + 180
    probe = url if tree is None else url.replace("/graphql", "/readyz")
    while True:
        try:
            if tree is None:
                httpx.get(probe, timeout=2)
                return server, url
            if httpx.get(probe, timeout=2).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            _stop(server)
            sys.exit(f"{label} did not start")
        time.sleep(0.5)


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def _drive(url: str, script: Path, connections: int, duration: int) -> tuple[int, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout=5s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", out)
    if found is None:
        raise RuntimeError(f"wrk said:\n{out}")
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0}[found.group(3)]
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers:\n{out}")
    return int(found.group(1)), float(found.group(2)) * scale


def _check(url: str, shape: Shape, token: str) -> None:
    answer = httpx.post(
        url,
        json={"query": shape.query, "variables": shape.variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()
    if answer.get("errors") or not answer.get("data"):
        raise RuntimeError(f"{url} answered {shape.key} with {str(answer)[:300]}")


def measure(args: argparse.Namespace) -> list[Sample]:
    settings = Settings(data_dir=args.data_dir)
    embedded = database.EmbeddedPostgres(args.data_dir)
    embedded.start()
    db_url = embedded.url()
    samples: list[Sample] = []
    try:
        database.migrate(db_url)
        from resolvers import demo

        if not asyncio.run(demo.is_loaded(db_url)):
            asyncio.run(demo.load(db_url, scale=0.143, seed=1, progress=True, institutions=2_000))
        ring = KeyRing.load(settings, args.data_dir)
        token = issue_token(ring, settings, role=Role.MINISTRY, ttl_minutes=240)
        chosen = [s for s in shapes(asyncio.run(_pick_variables(db_url))) if s.key in args.only]
        if args.explain:
            asyncio.run(explain(db_url, settings, chosen, args.explain))
            return samples
        servers: list[tuple[str, Path | None]] = [("this tree", ROOT)]
        servers += [(f"base {i + 1}", Path(p).resolve()) for i, p in enumerate(args.base)]
        if not args.no_handwritten:
            servers.append((HANDWRITTEN, None))
        pgdata = args.data_dir / "pgdata"
        with tempfile.TemporaryDirectory() as tmp:
            for round_ in range(1, args.rounds + 1):
                for label, tree in servers:
                    server, url = _start(label, tree, db_url, args.data_dir, args.workers)
                    try:
                        for shape in chosen:
                            _check(url, shape, token)
                            script = Path(tmp) / f"{shape.key}.lua"
                            body = json.dumps({"query": shape.query, "variables": shape.variables})
                            rotation = [
                                json.dumps({"query": shape.query, "variables": v})
                                for v in shape.rotation
                            ]
                            _lua(script, body, token, rotation)
                            _drive(url, script, args.connections, 2)  # warm up
                            hub, pg = _tree(server.pid), _postgres(pgdata)
                            before = cpu_seconds(hub), cpu_seconds(pg)
                            n, seconds = _drive(url, script, args.connections, args.duration)
                            hub, pg = hub + _tree(server.pid)[len(hub) :], _postgres(pgdata)
                            sample = Sample(
                                label,
                                shape.key,
                                round_,
                                n,
                                seconds,
                                cpu_seconds(hub) - before[0],
                                cpu_seconds(pg) - before[1],
                            )
                            samples.append(sample)
                            _write(samples, args.out)
                            print(
                                f"round {round_} {label:14} ({shape.key}) {sample.rps:7.0f} req/s"
                                f"  server {sample.server_ms:.3f} ms"
                                f"  postgres {sample.postgres_ms:.3f} ms CPU/request",
                                flush=True,
                            )
                    finally:
                        _stop(server)
    finally:
        embedded.stop()
    return samples


async def explain(db_url: str, settings: Settings, shapes_: list[Shape], runs: int) -> None:
    """Each shape's compiled statement (as this tree builds it for a ministry caller) and the
    hand-written one: ``EXPLAIN (ANALYZE, BUFFERS)``, then the backend's own CPU time per
    execution over ``runs`` executions of each prepared statement, in five interleaved rounds
    (median). The backend's CPU, read from /proc, is what other processes' load distorts
    least; the plans' times are wall-clock."""
    import asyncpg

    from bench import handwritten
    from resolvers.access import Principal
    from schema import LIMIT_RULES, schema
    from schema.compiled import Compiler

    compiler = Compiler(schema, LIMIT_RULES, settings.max_tokens)
    cursors = KeyRing.load(settings, settings.data_dir).cursors
    ministry = Principal(subject="bench", role=Role.MINISTRY)
    conn = await asyncpg.connect(database.plain_url(db_url))
    try:
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        for shape in shapes_:
            plan = compiler.plan(shape.query, None)
            if plan is None:
                print(f"({shape.key}) is not compiled")
                continue
            statements = {
                "compiled": compiler.prepared(plan, ministry, shape.variables, cursors),
                HANDWRITTEN: handwritten.arguments(
                    handwritten.operation_of(shape.query), shape.variables
                ),
            }
            for label, (sql, args) in statements.items():
                rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)
                print(f"\n({shape.key}) {label}:")
                print("\n".join(r[0] for r in rows))
            prepared = {label: await conn.prepare(sql) for label, (sql, _) in statements.items()}
            per_run: dict[str, list[float]] = {label: [] for label in statements}
            for _ in range(5):
                for label, stmt in prepared.items():
                    args = statements[label][1]
                    await stmt.fetchval(*args)
                    before = _backend_cpu(pid)
                    for _ in range(runs):
                        await stmt.fetchval(*args)
                    per_run[label].append(1000 * (_backend_cpu(pid) - before) / runs)
            for label, values in per_run.items():
                print(
                    f"({shape.key}) {label:14} backend CPU {statistics.median(values):.3f} ms"
                    f" per execution (rounds: {', '.join(f'{v:.3f}' for v in values)})"
                )
    finally:
        await conn.close()


def _backend_cpu(pid: int) -> float:
    """User and system CPU seconds of one PostgreSQL backend."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(samples: list[Sample]) -> None:
    print(f"\nmedians over rounds ({os.cpu_count()} CPUs; {_uptime()}):")
    servers = list(dict.fromkeys(s.server for s in samples))
    for shape in sorted({s.shape for s in samples}):
        first: dict[str, float] = {}
        for server in servers:
            mine = [s for s in samples if s.server == server and s.shape == shape]
            if not mine:
                continue
            row = {
                "rps": statistics.median(s.rps for s in mine),
                "server": statistics.median(s.server_ms for s in mine),
                "postgres": statistics.median(s.postgres_ms for s in mine),
            }
            first = first or row
            ratio = row["rps"] / first["rps"]
            print(
                f"  ({shape}) {server:14} {row['rps']:7.0f} req/s ({ratio:.2f}x)"
                f"  server {row['server']:.3f} ms  postgres {row['postgres']:.3f} ms"
            )


def _write(samples: list[Sample], target: Path) -> None:
    """The samples so far (a run stopped halfway keeps what it measured)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "server",
                "shape",
                "round",
                "requests",
                "seconds",
                "req_s",
                "server_cpu_ms",
                "postgres_cpu_ms",
            ]
        )
        for s in samples:
            writer.writerow(
                [
                    s.server,
                    s.shape,
                    s.round,
                    s.requests,
                    f"{s.seconds:.2f}",
                    f"{s.rps:.1f}",
                    f"{s.server_ms:.4f}",
                    f"{s.postgres_ms:.4f}",
                ]
            )


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", action="append", default=[], help="another tree of the hub")
    parser.add_argument("--only", default="abce", help="shapes to run (letters of a, b, c, e)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=8, help="seconds per shape and server")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--no-handwritten", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=RESULTS / "data")
    parser.add_argument(
        "--explain",
        type=int,
        default=0,
        metavar="RUNS",
        help="no servers: print each shape's plans (compiled and hand-written) and their"
        " backend CPU per execution over RUNS executions",
    )
    args = parser.parse_args()
    args.out = RESULTS / f"request-path-{datetime.now(UTC):%Y%m%dT%H%M%S}.csv"
    print(_uptime(), flush=True)
    if args.explain:
        measure(args)
        print(_uptime())
        return
    samples = measure(args)
    report(samples)
    print(f"{_uptime()}\nwritten to {args.out}")


if __name__ == "__main__":
    main()
