"""Events benchmark (issue 18): subscriptions and webhooks against a hub worker started as
production starts it.

    python -m bench.events                     # embedded PostgreSQL in a fresh folder
    python -m bench.events --subscribers 2000 --rate 200 --seconds 30 --backlog 100000

1. Opens ``--subscribers`` graphql-transport-ws connections to one worker, each a guardian
   following their child's kindergarten application, and reports the worker's memory.
2. Commits ``--rate`` status changes a second for ``--seconds`` (each a transaction changing
   one application's status and writing its outbox event) and measures commit-to-socket
   latency on the subscribers' side (p50, p99).
3. Puts ``--backlog`` events in the outbox for a partner's webhook endpoint on a local
   receiver, runs ``bilim events run``, and measures how fast the deliveries drain.
4. With ``--notices N``: runs ``bilim events run``, then commits N offers of a kindergarten
   place (``preschool.place_offered``, each its own transaction, ``--notice-rate`` a second, or
   all at once with 0) to guardians who asked for e-mail, and waits until every family's
   notice is sent (the mail folder): the dispatcher's CPU per event, the whole path of a
   mutation's events (both consumers' rounds, the notice written, sent and recorded).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from websockets.asyncio.client import connect

from models import database
from resolvers.access import KeyRing, Role, issue_token
from resolvers.access.keys import hash_secret, load_pepper
from resolvers.relay import encode_id
from resolvers.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SUBSCRIBE = (
    "subscription S($id: ID!) { applicationStatusChanged(applicationId: $id) "
    "{ status application { ... on KindergartenApplication { id } } } }"
)
SECRET = "whsec_" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
# The partner's side: verifies each delivery's Standard Webhooks signature (a bad one answers
# 400, so the delivery is not counted delivered).
RECEIVER = """
import sys
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
import uvicorn

verifier = Webhook(sys.argv[2])

async def hook(request):
    body = await request.body()
    try:
        verifier.verify(body, dict(request.headers))
    except WebhookVerificationError:
        return Response(status_code=400)
    return Response(status_code=204)

uvicorn.run(Starlette(routes=[Route("/hook", hook, methods=["POST"])]), host="127.0.0.1",
            port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hub_processes(server: subprocess.Popen[bytes]) -> list[psutil.Process]:
    parent = psutil.Process(server.pid)
    return [p for p in [parent, *parent.children(recursive=True)] if "postgres" not in p.name()]


def postgres_processes(data_dir: Path) -> list[psutil.Process]:
    """The bench's own PostgreSQL (the postmaster of its data folder and its backends): other
    servers on a shared machine are not counted."""
    pid_file = data_dir / "pgdata" / "postmaster.pid"
    if not pid_file.exists():
        return []
    postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
    return [postmaster, *postmaster.children(recursive=True)]


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User and system CPU seconds of these processes (and their ended children)."""
    total = 0.0
    for each in processes:
        try:
            t = each.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def process_cpu(pid: int) -> float:
    """User and system CPU seconds of one process."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def worker_rss_mb(server: subprocess.Popen[bytes]) -> float:
    parent = psutil.Process(server.pid)
    procs = [parent, *parent.children(recursive=True)]
    return max(p.memory_info().rss for p in procs if "postgres" not in p.name()) / 2**20


async def load_families(url: str, n: int) -> tuple[list[int], list[int]]:
    """``n`` guardians, each with a child waiting in this year's kindergarten queue."""
    conn = await asyncpg.connect(url)
    try:
        year = datetime.now(UTC).year
        season = await conn.fetchval(
            "SELECT id FROM intake_season WHERE kind = 'kindergarten' AND year = $1", year
        )
        assert season, "the migrations seed this year's seasons"
        start = await conn.fetchval("SELECT coalesce(max(id), 0) + 1 FROM person")
        people = []
        for i in range(n):
            people.append((start + 2 * i, "Асанова", "Гульнара", "female", date(1990, 1, 1)))
            people.append((start + 2 * i + 1, "Асанов", "Айбек", "male", date(year - 4, 3, 1)))
        await conn.copy_records_to_table(
            "person",
            records=people,
            columns=["id", "last_name", "first_name", "sex", "birth_date"],
        )
        await conn.execute("SELECT setval('person_id_seq', (SELECT max(id) FROM person))")
        guardians = [start + 2 * i for i in range(n)]
        await conn.copy_records_to_table(
            "guardianship",
            records=[(g, g + 1, "mother") for g in guardians],
            columns=["guardian_id", "child_id", "kind"],
        )
        apps = await conn.fetch(
            "INSERT INTO kindergarten_application (child_id, guardian_id, season_id, status, "
            "intake_year, age_group, benefit_status, residency) "
            "SELECT g + 1, g, $1, 'waiting', $2, '3-4', 'none', 'resident' "
            "FROM unnest($3::int[]) AS g ORDER BY g RETURNING id",
            season,
            year,
            guardians,
        )
        return guardians, [r["id"] for r in apps]
    finally:
        await conn.close()


def start_hub(
    db_url: str, data_dir: Path, *, dispatcher: bool
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "BILIM_DATA_DIR": str(data_dir),
        "BILIM_FETCH_ASSETS": "false",
        "BILIM_POINTS_PER_HOUR": str(10**9),
        "BILIM_EVENT_DISPATCHER": "true" if dispatcher else "false",
        "BILIM_WS_IDLE_SECONDS": "3600",
        "BILIM_EVENTS_POLL_SECONDS": "0.5",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--no-access-log",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.kill()
    sys.exit("the hub did not start")


def start_receiver(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", RECEIVER, str(port), SECRET], cwd=ROOT)


def start_dispatcher(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``bilim events run`` alone, as a deployment runs it beside the web workers."""
    return subprocess.Popen(
        [sys.executable, "-c", "from cli import main; main()", "events", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


class Subscriber:
    def __init__(self, app_id: int, token: str) -> None:
        self.app_id = app_id
        self.token = token
        self.received: list[float] = []
        self.ready = asyncio.Event()
        self.failed: str | None = None

    async def run(self, ws_url: str) -> None:
        # A socket that fails to open or subscribe is counted, not waited for forever.
        try:
            await self._run(ws_url)
        except Exception as err:
            self.failed = f"{type(err).__name__}: {err}"[:200]
        finally:
            self.ready.set()

    async def _run(self, ws_url: str) -> None:
        async with connect(
            ws_url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            max_queue=64,
            open_timeout=120,
            ping_interval=None,
        ) as ws:
            await ws.send(
                json.dumps(
                    {
                        "type": "connection_init",
                        "payload": {"Authorization": f"Bearer {self.token}"},
                    }
                )
            )
            ack = json.loads(await asyncio.wait_for(ws.recv(), 120))
            if ack["type"] != "connection_ack":
                raise RuntimeError(f"no connection_ack: {ack}")
            variables = {"id": encode_id("KindergartenApplication", self.app_id)}
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": SUBSCRIBE, "variables": variables},
                    }
                )
            )
            self.ready.set()
            # Read until cancelled: a timeout per read would wake 2,000 tasks a second and
            # make the bench, not the hub, what is measured on a busy machine.
            while True:
                raw = await ws.recv()
                message = json.loads(raw)
                if message["type"] == "next":
                    self.received.append(time.time())
                elif message["type"] == "ping":
                    await ws.send(json.dumps({"type": "pong"}))


async def produce(url: str, apps: list[int], rate: int, seconds: int) -> dict[int, list[float]]:
    """``rate`` status changes a second, each its own transaction with its outbox event;
    commit times by application."""
    # The generator's commits do not wait for the disk: on a shared machine a WAL flush
    # takes up to half a second and would cap the rate the bench can offer, not the hub's.
    # Latency is still counted from the commit's return.
    pool = await asyncpg.create_pool(
        url, min_size=4, max_size=8, server_settings={"synchronous_commit": "off"}
    )
    committed: dict[int, list[float]] = {}
    status = dict.fromkeys(apps, "waiting")

    async def one(app_id: int) -> None:
        new = "offered" if status[app_id] == "waiting" else "waiting"
        status[app_id] = new
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE kindergarten_application SET status = $1 WHERE id = $2", new, app_id
            )
            await conn.execute(
                "INSERT INTO outbox (topic, aggregate_type, aggregate_id, payload) "
                "VALUES ('preschool.bench_status', 'KindergartenApplication', $1, '{}')",
                app_id,
            )
        committed.setdefault(app_id, []).append(time.time())

    total = rate * seconds
    started = time.monotonic()
    tasks = []
    for i in range(total):
        app_id = apps[i % len(apps)]
        due = started + i / rate
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        tasks.append(asyncio.create_task(one(app_id)))
    await asyncio.gather(*tasks)
    await pool.close()
    return committed


async def subscriptions(args: argparse.Namespace, db_url: str, data_dir: Path) -> dict[str, Any]:
    guardians, apps = await load_families(db_url, args.subscribers)
    settings = Settings(data_dir=data_dir)
    ring = KeyRing.load(settings, data_dir)
    server, url = start_hub(db_url, data_dir, dispatcher=False)
    try:
        idle_rss = worker_rss_mb(server)
        subs = [
            Subscriber(a, issue_token(ring, settings, role=Role.GUARDIAN, person_id=g))
            for g, a in zip(guardians, apps, strict=True)
        ]
        ws_url = url.replace("http://", "ws://") + "/graphql"
        tasks = []
        for batch in range(0, len(subs), 100):
            for s in subs[batch : batch + 100]:
                tasks.append(asyncio.create_task(s.run(ws_url)))
            await asyncio.gather(*(s.ready.wait() for s in subs[batch : batch + 100]))
            print(f"  {batch + 100} sockets opened", flush=True)
        await asyncio.sleep(2)
        failed = [s.failed for s in subs if s.failed]
        if failed:
            print(f"{len(failed)} subscriptions failed, e.g. {failed[0]}")
        open_rss = worker_rss_mb(server)
        print(f"{len(subs)} subscriptions open: worker RSS {open_rss:.0f} MB (idle {idle_rss:.0f})")
        # CPU of the hub and of PostgreSQL over the load (new backends included: those of
        # the load generator too, a few statements per event, reported apart below).
        hub_before = cpu_seconds(hub_processes(server))
        pg_before = cpu_seconds(postgres_processes(data_dir))
        # The bench's own 2,000 client sockets are long-lived objects: its collector would
        # pause the generator and the receiving side alike (a full collection of them takes
        # ~0.2 s), and that pause would be counted as the hub's latency. The worker is what
        # is measured, so the bench's collector stays out of the load.
        gc.collect()
        gc.freeze()
        gc.disable()
        try:
            committed = await produce(db_url, apps, args.rate, args.seconds)
            await asyncio.sleep(3)
        finally:
            gc.enable()
        hub_cpu = cpu_seconds(hub_processes(server)) - hub_before
        pg_cpu = cpu_seconds(postgres_processes(data_dir)) - pg_before
        busy_rss = worker_rss_mb(server)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        stop(server)
    latencies = []
    # Each second of the load: its worst latency, to tell a slow start or a pause (a
    # collection, a stalled machine) from a worker that falls behind steadily.
    by_second: dict[int, float] = {}
    lost = 0
    by_app = {s.app_id: s.received for s in subs}
    first_commit = min((t[0] for t in committed.values() if t), default=0.0)
    for app_id, times in committed.items():
        got = by_app[app_id]
        lost += max(0, len(times) - len(got))
        for c, r in zip(times, got, strict=False):
            latencies.append((r - c) * 1000)
            second = int(c - first_commit)
            by_second[second] = max(by_second.get(second, 0.0), (r - c) * 1000)
    latencies.sort()
    print(
        "  worst latency by second of the load (ms): "
        + " ".join(f"{by_second[k]:.0f}" for k in sorted(by_second))
    )
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan")
    return {
        "subscribers": len(subs) - len(failed),
        "events": sum(len(t) for t in committed.values()),
        "pushed": len(latencies),
        "missing": lost,
        "p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": p99,
        "rss_idle_mb": idle_rss,
        "rss_open_mb": open_rss,
        "rss_busy_mb": busy_rss,
        "hub_cpu_ms_per_event": hub_cpu * 1000 / max(1, sum(len(t) for t in committed.values())),
        "pg_cpu_ms_per_event": pg_cpu * 1000 / max(1, sum(len(t) for t in committed.values())),
    }


async def webhooks(args: argparse.Namespace, db_url: str, data_dir: Path) -> dict[str, Any]:
    port = free_port()
    receiver = start_receiver(port)
    settings = Settings(data_dir=data_dir)
    pepper = load_pepper(settings, data_dir)
    conn = await asyncpg.connect(db_url)
    try:
        key_id = await conn.fetchval(
            "INSERT INTO api_key (prefix, secret_hash, name, created_by, expires_at, "
            "allowed_fields, personal_data, points_per_hour) VALUES ('bench001', $1, "
            "'bench partner', 'bench', now() + interval '1 day', $2, false, 100000) RETURNING id",
            hash_secret(pepper, "bench-secret"),
            ["Institution.*"],
        )
        # The dispatcher starts its consumers at the head: create them first, then the backlog.
        await conn.execute(
            "INSERT INTO event_consumer (name, after_txid, after_id) VALUES "
            "('webhooks', (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint - 1, "
            "9223372036854775807), ('notices', (pg_snapshot_xmin(pg_current_snapshot())::text)"
            "::bigint - 1, 9223372036854775807) ON CONFLICT DO NOTHING"
        )
        endpoint = await conn.fetchval(
            "INSERT INTO webhook_endpoint (api_key_id, url, event_types, secret, status, "
            "created_by) VALUES ($1, $2, ARRAY['institutions.*'], $3, 'active', 'bench') "
            "RETURNING id",
            key_id,
            f"http://127.0.0.1:{port}/hook",
            SECRET,
        )
        institution = await conn.fetchval(
            "INSERT INTO institution (kind, ownership, name, region_id, languages) "
            "VALUES ('school', 'state', 'Орто мектеп №1', 8, ARRAY['ky']) RETURNING id"
        )
        await conn.execute(
            "INSERT INTO outbox (topic, aggregate_type, aggregate_id, payload) "
            "SELECT 'institutions.institution_updated', 'Institution', $1, '{}' "
            "FROM generate_series(1, $2)",
            institution,
            args.backlog,
        )
    finally:
        await conn.close()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "BILIM_DATA_DIR": str(data_dir),
        "BILIM_WEBHOOK_ALLOW_PRIVATE": "true",
    }
    started = time.monotonic()
    pg_before = cpu_seconds(postgres_processes(data_dir))
    dispatcher = start_dispatcher(env)
    peak_rss = 0.0
    # The dispatcher's start (importing the schema, a few CPU seconds) is counted apart: the
    # steady figures run from the first delivery recorded to the last.
    first: tuple[float, float, int] | None = None
    conn = await asyncpg.connect(db_url)
    try:
        while True:
            await asyncio.sleep(1)
            peak_rss = max(peak_rss, psutil.Process(dispatcher.pid).memory_info().rss / 2**20)
            done = await conn.fetchval(
                "SELECT count(*) FROM webhook_delivery WHERE status = 'delivered' "
                "AND endpoint_id = $1",
                endpoint,
            )
            if first is None and done:
                first = (time.monotonic(), process_cpu(dispatcher.pid), done)
            if done >= args.backlog:
                break
            if time.monotonic() - started > 3600:
                break
        elapsed = time.monotonic() - started
        # CPU seconds say what the wall clock cannot on a shared machine: the dispatcher's
        # own cost per delivery.
        cpu = process_cpu(dispatcher.pid)
        pg_cpu = cpu_seconds(postgres_processes(data_dir)) - pg_before
        receiver_cpu = process_cpu(receiver.pid)
        assert first is not None
        steady_wall = time.monotonic() - first[0]
        steady_cpu = cpu - first[1]
        steady_done = done - first[2]
        failed = await conn.fetchval(
            "SELECT count(*) FROM webhook_delivery WHERE status <> 'delivered' "
            "AND endpoint_id = $1",
            endpoint,
        )
    finally:
        await conn.close()
        stop(dispatcher)
        receiver.terminate()
        receiver.wait()
    return {
        "backlog": args.backlog,
        "delivered": done,
        "not_delivered": failed,
        "seconds": elapsed,
        "per_second": done / elapsed,
        "dispatcher_rss_mb": peak_rss,
        "dispatcher_cpu_s": cpu,
        "steady_per_second": steady_done / max(steady_wall, 0.001),
        "steady_cpu_ms": steady_cpu * 1000 / max(1, steady_done),
        "pg_cpu_s": pg_cpu,
        "receiver_cpu_s": receiver_cpu,
    }


async def offers(url: str, apps: list[int], rate: int, payload: str) -> None:
    """Commit one ``preschool.place_offered`` event per application in ``apps`` (one may come
    again), each in its own transaction, ``rate`` a second (0: as fast as one connection
    commits)."""
    conn = await asyncpg.connect(url, server_settings={"synchronous_commit": "off"})
    try:
        started = time.monotonic()
        for i, app_id in enumerate(apps):
            if rate:
                await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
            await conn.execute(
                "INSERT INTO outbox (topic, aggregate_type, aggregate_id, payload) "
                "VALUES ('preschool.place_offered', 'KindergartenApplication', $1, $2::jsonb)",
                app_id,
                payload,
            )
    finally:
        await conn.close()


async def notices(args: argparse.Namespace, db_url: str, data_dir: Path) -> dict[str, Any]:
    """The dispatcher's CPU per event from commit to a family's notice sent (part 4)."""
    guardians, apps = await load_families(db_url, min(args.notices, 5000))
    conn = await asyncpg.connect(db_url)
    try:
        await conn.copy_records_to_table(
            "notice_preference",
            records=[(g, "ru" if g % 2 else "ky", f"parent{g}@example.kg") for g in guardians],
            columns=["person_id", "language", "email"],
        )
        kindergarten = await conn.fetchval(
            "INSERT INTO institution (kind, ownership, name, region_id, languages) "
            "VALUES ('kindergarten', 'state', 'Бала бакча №1', 8, ARRAY['ky']) RETURNING id"
        )
        # Consumers from the head, so the dispatcher's first round finds no history.
        await conn.execute(
            "INSERT INTO event_consumer (name, after_txid, after_id) SELECT name, "
            "(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint - 1, 9223372036854775807 "
            "FROM unnest(ARRAY['notices', 'webhooks']) AS name ON CONFLICT (name) DO UPDATE "
            "SET after_txid = EXCLUDED.after_txid, after_id = EXCLUDED.after_id"
        )
        sent_before = await conn.fetchval("SELECT count(*) FROM notice WHERE status = 'delivered'")
    finally:
        await conn.close()
    mail = data_dir / "mail"
    files_before = len(list(mail.glob("*.eml"))) if mail.exists() else 0
    env = {**os.environ, "DATABASE_URL": db_url, "BILIM_DATA_DIR": str(data_dir)}
    dispatcher = start_dispatcher(env)
    conn = await asyncpg.connect(db_url)
    try:
        # Started: both consumers leased (the schema imported, the first rounds done).
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            leased = await conn.fetchval(
                "SELECT count(*) FROM event_consumer WHERE lease_owner IS NOT NULL"
            )
            if leased >= 2:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)
        cpu0 = process_cpu(dispatcher.pid)
        pg0 = cpu_seconds(postgres_processes(data_dir))
        started = time.monotonic()
        payload = json.dumps(
            {
                "kindergarten_id": kindergarten,
                "deadline": (datetime.now(UTC).date() + timedelta(days=7)).isoformat(),
            }
        )
        await offers(
            db_url, [apps[i % len(apps)] for i in range(args.notices)], args.notice_rate, payload
        )
        committed = time.monotonic() - started
        while True:
            sent = (
                await conn.fetchval("SELECT count(*) FROM notice WHERE status = 'delivered'")
                - sent_before
            )
            if sent >= args.notices or time.monotonic() - started > 3600:
                break
            await asyncio.sleep(0.2)
        elapsed = time.monotonic() - started
        cpu = process_cpu(dispatcher.pid) - cpu0
        pg_cpu = cpu_seconds(postgres_processes(data_dir)) - pg0
        pending = await conn.fetchval("SELECT count(*) FROM notice WHERE status <> 'delivered'")
    finally:
        await conn.close()
        stop(dispatcher)
    files = len(list(mail.glob("*.eml"))) - files_before
    return {
        "events": args.notices,
        "sent": sent,
        "files": files,
        "pending": pending,
        "committed_s": committed,
        "seconds": elapsed,
        "cpu_ms": cpu * 1000 / max(1, args.notices),
        "pg_cpu_ms": pg_cpu * 1000 / max(1, args.notices),
    }


async def run(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bilim-bench-events-"))
    configured = os.environ.get("DATABASE_URL")
    embedded = None
    if configured:
        db_url = configured
    else:
        embedded = database.EmbeddedPostgres(data_dir)
        server_url = embedded.start()
        await database.ensure_database(server_url, database.EMBEDDED_DATABASE)
        db_url = embedded.url()
    try:
        await asyncio.to_thread(database.migrate, db_url)
        if args.subscribers:
            result = await subscriptions(args, db_url, data_dir)
            print(
                f"subscriptions: {result['subscribers']} open, {result['events']} events at "
                f"{args.rate}/s: p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, "
                f"{result['missing']} not pushed; worker RSS {result['rss_open_mb']:.0f} MB open, "
                f"{result['rss_busy_mb']:.0f} MB after the load "
                f"(idle {result['rss_idle_mb']:.0f}); "
                f"CPU per event: hub {result['hub_cpu_ms_per_event']:.2f} ms, PostgreSQL "
                f"{result['pg_cpu_ms_per_event']:.2f} ms (with the generator's own statements); "
                f"load average {load_average()}"
            )
        if args.backlog:
            result = await webhooks(args, db_url, data_dir)
            print(
                f"webhooks: {result['delivered']:,} of {result['backlog']:,} delivered in "
                f"{result['seconds']:.0f} s = {result['per_second']:.0f}/s "
                f"(dispatcher RSS {result['dispatcher_rss_mb']:.0f} MB, "
                f"{result['dispatcher_cpu_s']:.0f} CPU s = "
                f"{result['delivered'] / max(result['dispatcher_cpu_s'], 0.001):.0f} "
                f"deliveries per CPU second; CPU per delivery: dispatcher "
                f"{result['dispatcher_cpu_s'] * 1000 / max(1, result['delivered']):.2f} ms, "
                f"PostgreSQL {result['pg_cpu_s'] * 1000 / max(1, result['delivered']):.2f} ms, "
                f"receiver {result['receiver_cpu_s'] * 1000 / max(1, result['delivered']):.2f} "
                f"ms; {result['not_delivered']} not delivered); after the first delivery: "
                f"{result['steady_per_second']:.0f}/s, dispatcher "
                f"{result['steady_cpu_ms']:.2f} ms CPU per delivery; "
                f"load average {load_average()}"
            )
        if args.notices:
            result = await notices(args, db_url, data_dir)
            rate = f"{args.notice_rate}/s" if args.notice_rate else "at once"
            print(
                f"notices: {result['events']:,} offers committed {rate} in "
                f"{result['committed_s']:.1f} s, {result['sent']:,} notices sent "
                f"({result['files']:,} files, {result['pending']} not sent) in "
                f"{result['seconds']:.1f} s; CPU per event: dispatcher "
                f"{result['cpu_ms']:.2f} ms, PostgreSQL {result['pg_cpu_ms']:.2f} ms "
                f"(the generator's INSERTs included); load average {load_average()}"
            )
    finally:
        if embedded is not None:
            embedded.stop()
        # Its database, mail folder and keys: a run leaves nothing behind (~75 MB each).
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=200, help="status changes per second")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument(
        "--notices", type=int, default=0, help="offers whose families are told (part 4)"
    )
    parser.add_argument(
        "--notice-rate", type=int, default=20, help="offers committed a second (0: at once)"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
