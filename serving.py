"""What ``bilim serve`` does besides serving (cli.py declares the command): the database it
works on, the logs it sets up, the few lines it prints, how SIGTERM stops it, the metrics
folder of its workers, and uvicorn's settings. Like cli.py, it imports nothing of the hub at
the top."""

from __future__ import annotations

import asyncio
import logging
import os
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from models.database import EmbeddedPostgres
    from resolvers.settings import Settings


class Database:
    """The database the command works on: ``DATABASE_URL``, or the embedded server."""

    def __init__(self, settings: Settings, *, quiet: bool = False) -> None:
        self.settings = settings
        self.embedded: EmbeddedPostgres | None = None
        self.url = settings.database_url or ""
        self.quiet = quiet

    def __enter__(self) -> Database:
        from models import database

        if not self.url:
            self.embedded = database.EmbeddedPostgres(self.settings.data_dir)
            server = self.embedded.start()
            asyncio.run(database.ensure_database(server, database.EMBEDDED_DATABASE))
            self.url = self.embedded.url()
            if not self.quiet:
                typer.echo(f"Embedded PostgreSQL running, data in {self.embedded.pgdata}", err=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.embedded is not None:
            self.embedded.stop()


class Stopped(Exception):
    """SIGTERM (systemd, ``docker stop``): leave as Ctrl-C does, stopping the database."""


def stop_on_term(signum: int, frame: object) -> None:
    raise Stopped


def quiet_startup(settings: Settings, verbose: bool) -> None:
    """Logs on stdout, one format (resolvers/telemetry/logs.py); without ``--verbose``, no
    initdb or migration chatter and no warning about XDG_RUNTIME_DIR (the embedded server
    falls back to /tmp, which is fine)."""
    from resolvers.telemetry import logs

    logs.configure(settings.log_format, log_level(settings, verbose))
    if not verbose:
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def log_level(settings: Settings, verbose: bool) -> str:
    return settings.log_level or ("DEBUG" if verbose else "INFO")


def metrics_folder(data_dir: Path) -> None:
    """Prometheus multiprocess mode: each worker writes its metrics into files of this folder
    and /metrics sums them. Emptied at each start (the last run's workers are gone)."""
    import shutil

    folder = data_dir / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def prepare(db: Database, settings: Settings, *, demo: bool) -> None:
    """Migrations, demo data, browser assets and keys: what must be there before HTTP."""
    from models import database
    from resolvers import assets
    from resolvers.access import KeyRing
    from resolvers.access.keys import load_pepper

    database.migrate(db.url)
    if demo:
        load_demo(db.url)
        # The workers offer GraphiQL's demo role picker (never in production: the hub
        # registers /demo/tokens only outside it).
        os.environ["BILIM_DEMO"] = "true"
    if settings.fetch_assets and not assets.installed(settings.data_dir):
        try:
            assets.install(settings.data_dir, timeout=20)
            typer.echo("GraphiQL assets installed into the data folder", err=True)
        except assets.AssetsUnavailable as err:  # the page falls back to the CDN and says so
            typer.echo(f"GraphiQL assets not installed: {err}", err=True)
    load_pepper(settings)  # likewise the API-key pepper
    KeyRing.load(settings)  # create the signing key before workers race to
    os.environ["DATABASE_URL"] = db.url
    os.environ["BILIM_DATA_DIR"] = str(settings.data_dir)


def announce(db: Database, settings: Settings, host: str, port: int, workers: int) -> None:
    """The few lines a person needs: where the data is, the URL, how to get a token."""
    where = (
        f"embedded PostgreSQL in {db.embedded.pgdata}"
        if db.embedded is not None
        else "the server at DATABASE_URL"
    )
    shown = f"[{host}]" if ":" in host else host
    folder = f" --data-dir {settings.data_dir}" if "BILIM_DATA_DIR" not in os.environ else ""
    lines = [
        f"Bilim Hub: data in {where}",
        f"  GraphQL  http://{shown}:{port}/graphql ({workers} worker{'s' * (workers > 1)})",
        f"  token    bilim token --role ministry{folder}",
        "  stop     Ctrl-C (or SIGTERM)",
    ]
    typer.echo("\n".join(lines), err=True)


def connections_per_worker(settings: Settings) -> int:
    """The most connections to the primary one worker may hold at once: the request pool, the
    bookkeeping pool, the compiled path's pool (on the replica when there is one), the events
    engine's pool and the events' LISTEN connection."""
    from resolvers.events import runtime

    compiled = 0 if settings.read_database_url else settings.pool_size
    listen = 1 if settings.events_listen_url or not settings.pgbouncer else 0
    return (
        settings.pool_size
        + settings.pool_max_overflow
        + 2 * settings.bookkeeping_pool_size
        + compiled
        + runtime.POOL_SIZE
        + runtime.POOL_MAX_OVERFLOW
        + listen
    )


async def free_connections(url: str) -> int:
    """How many more connections the server accepts from ordinary roles: ``max_connections``
    less the reserved ones and those open now."""
    import asyncpg

    from models.database import plain_url

    conn = await asyncpg.connect(plain_url(url))
    try:
        free: int = await conn.fetchval(
            "SELECT current_setting('max_connections')::int"
            " - current_setting('superuser_reserved_connections')::int"
            " - coalesce(current_setting('reserved_connections', true)::int, 0)"
            " - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')"
            " + 1"  # this connection
        )
        return free
    finally:
        await conn.close()


def connections_warning(url: str, settings: Settings, workers: int) -> str | None:
    """A warning when ``workers`` workers with full pools would pass the server's connection
    limit: a burst would then be refused "too many clients" (answered 503). Not checked behind
    PgBouncer, whose own pool is the limit."""
    if settings.pgbouncer:
        return None
    wanted = workers * connections_per_worker(settings)
    free = asyncio.run(free_connections(url))
    if wanted <= free:
        return None
    return (
        f"Warning: {workers} worker{'s' * (workers > 1)} may hold {wanted} database connections"
        f" at once ({connections_per_worker(settings)} each) and the server accepts {free} more:"
        " raise max_connections, lower BILIM_POOL_SIZE, or put PgBouncer in front"
        ' (docs/operating.md, "The database")'
    )


def run_server(
    host: str, port: int, workers: int, settings: Settings, verbose: bool, *, access_log: bool
) -> None:
    import uvicorn

    from resolvers.telemetry import logs

    uvicorn.run(
        "app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # One line per request comes from the hub (bilim.request), with more in it.
        access_log=False,
        log_config=logs.logging_config(
            settings.log_format, log_level(settings, verbose), request_log=access_log
        ),
        loop="auto",
        http="auto",
        # A worker answers the supervisor's pings only once the app is imported (the schema
        # is built then): 5 s, uvicorn's default, killed starting workers on a busy machine.
        timeout_worker_healthcheck=60,
        **socket_options(),
        **server_options(settings),
    )


def socket_options() -> dict[str, Any]:
    """uvicorn's settings for the subscriptions' websockets: no per-message deflate, since each
    socket would hold a zlib compressor and decompressor (~45 kB of a socket's ~100 kB under
    tracemalloc) for messages of a few hundred bytes (issue 18: 2,000 sockets in 250 MB)."""
    return {"ws_per_message_deflate": False}


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's settings from the hub's: X-Forwarded-For believed only from the trusted
    proxies (uvicorn believes 127.0.0.1 by default, so anyone on the host could pick their
    address, and with it a fresh anonymous budget)."""
    return {
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": settings.trusted_proxies or "",
    }


def loaded_line(stats: dict[str, int], seconds: float) -> str:
    return f"Demo data loaded in {seconds:.0f} s: " + ", ".join(
        f"{n:,} {name.replace('_', ' ')}" for name, n in stats.items() if n
    )


def load_demo(url: str) -> None:
    from resolvers import demo

    if asyncio.run(demo.is_loaded(url)):
        typer.echo("Demo data: the database already holds data, nothing loaded", err=True)
        return
    started = time.monotonic()
    stats = asyncio.run(demo.load(url, scale=demo.DEMO_SCALE, seed=1, progress=True))
    # Lessons, a class's week and the catalogue, through the domains' own workflows: their
    # events are the demo's, not news for the operator (one log line each otherwise).
    events_log = logging.getLogger("bilim.events")
    level = events_log.level
    if events_log.getEffectiveLevel() > logging.DEBUG:
        events_log.setLevel(logging.WARNING)
    try:
        added = asyncio.run(demo.load_domains(url))
    finally:
        events_log.setLevel(level)
    for domain, counts in added.items():
        stats.update({f"{domain} {name}": n for name, n in counts.items()})
    typer.echo(loaded_line(stats, time.monotonic() - started), err=True)
