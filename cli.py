"""The ``bilim`` command line: serve the hub, migrate, seed, tokens, keys, assets, jobs and
imports.

Commands that do not serve must start fast (``bilim --help`` and ``bilim token`` under a
second): this module imports nothing of the hub at the top; each command imports what it
uses, and only ``serve`` and the schema commands build the GraphQL schema."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import signal
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import typer

import serving
from serving import Database, server_options

if TYPE_CHECKING:
    from resolvers.settings import Settings

__all__ = ["cli", "main", "server_options"]

cli = typer.Typer(
    help="Bilim Hub: one GraphQL graph over the education systems.",
    no_args_is_help=True,
    add_completion=False,
)
assets_cli = typer.Typer(help="Browser assets (GraphiQL).", no_args_is_help=True)
keys_cli = typer.Typer(help="Token signing keys.", no_args_is_help=True)
cli.add_typer(assets_cli, name="assets")
cli.add_typer(keys_cli, name="keys")
jobs_cli = typer.Typer(help="Scheduled jobs (run daily by cron or a timer).", no_args_is_help=True)
cli.add_typer(jobs_cli, name="jobs")
import_cli = typer.Typer(help="Load data files from partner systems.", no_args_is_help=True)
cli.add_typer(import_cli, name="import")
lms_cli = typer.Typer(help="The school LMS's batch work.", no_args_is_help=True)
cli.add_typer(lms_cli, name="lms")
events_cli = typer.Typer(help="Events leaving the hub (outbox dispatcher).", no_args_is_help=True)
cli.add_typer(events_cli, name="events")
schema_cli = typer.Typer(help="Schema compatibility for clients.", no_args_is_help=True)
cli.add_typer(schema_cli, name="schema")
export_cli = typer.Typer(help="Bulk exports for partners.", no_args_is_help=True)
cli.add_typer(export_cli, name="export")

DataDir = typer.Option(None, "--data-dir", help="Data folder (default: the user's data folder).")


class TokenRole(enum.StrEnum):
    """The roles a bearer token can carry: resolvers.access.Role without anonymous callers
    (who need no token) and partners (API keys only). Spelled out so that --help imports
    nothing of the hub; tests/test_cli.py holds the list to the enum."""

    MINISTRY = "ministry"
    REGION_OFFICER = "region_officer"
    DISTRICT_OFFICER = "district_officer"
    SCHOOL_ADMIN = "school_admin"
    TEACHER = "teacher"
    GUARDIAN = "guardian"
    PUPIL = "pupil"
    ADMISSION_OFFICER = "admission_officer"
    LICENSING_OFFICER = "licensing_officer"
    AUDITOR = "auditor"
    COUNSELLOR = "counsellor"
    LIBRARIAN = "librarian"
    CONTENT_EDITOR = "content_editor"


def _settings(data_dir: Path | None) -> Settings:
    from resolvers.settings import Settings

    settings = Settings()
    if data_dir is not None:
        settings.data_dir = data_dir.expanduser().resolve()
    return settings


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on (1-65535)."),
    demo: bool = typer.Option(False, "--demo", help="Load demo data into an empty database."),
    workers: int = typer.Option(1, min=1, max=64, help="Worker processes (1-64)."),
    access_log: bool = typer.Option(
        True, "--access-log/--no-access-log", help="Log a line per request (bilim.request)."
    ),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Show the database's start, migrations and debug logs."
    ),
    data_dir: Path | None = DataDir,
) -> None:
    """Run the hub: embedded PostgreSQL unless DATABASE_URL is set, migrations, then HTTP.
    Logs go to stdout, one line per request: JSON, or a short form at a terminal
    (BILIM_LOG_FORMAT=json|human|auto)."""
    signal.signal(signal.SIGTERM, serving.stop_on_term)
    settings = _settings(data_dir)
    serving.metrics_folder(settings.data_dir)  # before anything imports prometheus_client
    serving.quiet_startup(settings, verbose)
    try:
        with Database(settings, quiet=True) as db:
            serving.prepare(db, settings, demo=demo)
            serving.announce(db, settings, host, port, workers)
            warning = serving.connections_warning(db.url, settings, workers)
            if warning:
                typer.echo(warning, err=True)
            serving.run_server(host, port, workers, settings, verbose, access_log=access_log)
    except serving.Stopped:
        typer.echo("Stopped (SIGTERM); the database is stopped", err=True)


@cli.command()
def migrate(data_dir: Path | None = DataDir) -> None:
    """Apply pending migrations."""
    from models import database

    with Database(_settings(data_dir)) as db:
        database.migrate(db.url)
        typer.echo("Migrations at head", err=True)


@cli.command()
def seed(
    scale: float = typer.Option(0.005, help="1.0 is the whole country (1.4 million pupils)."),
    seed: int = typer.Option(1, "--seed", help="Random seed; the same seed gives the same data."),
    institutions: int | None = typer.Option(
        None, help="Institutions to make (default: the country's number times the scale)."
    ),
    add: bool = typer.Option(
        False, "--add", help="Add a second set to a database that already holds data."
    ),
    data_dir: Path | None = DataDir,
) -> None:
    """Load a deterministic synthetic dataset (bulk COPY) at the given scale into a database
    without institutions (refused otherwise, unless --add)."""
    from models import database
    from resolvers import demo

    if not 0 < scale <= 2:
        raise typer.BadParameter("scale is above 0 and at most 2")
    if institutions is not None and not 10 <= institutions <= 20_000:
        raise typer.BadParameter("institutions is between 10 and 20,000")
    with Database(_settings(data_dir)) as db:
        database.migrate(db.url)
        if asyncio.run(demo.is_loaded(db.url)) and not add:
            typer.echo(
                "The database already holds institutions: seeding again would add a second "
                "set beside them (new ids and PINs, the same names). Use a fresh --data-dir "
                "or database, or pass --add to add a second set on purpose.",
                err=True,
            )
            raise typer.Exit(1)
        started = time.monotonic()
        stats = asyncio.run(
            demo.load(db.url, scale=scale, seed=seed, progress=True, institutions=institutions)
        )
        typer.echo(serving.loaded_line(stats, time.monotonic() - started), err=True)


@cli.command("export-schema")
def export_schema(
    output: Path | None = typer.Option(None, help="File to write (default stdout)."),
    federation: bool = typer.Option(
        False, "--federation", help="The subgraph SDL with @link and @key (for gateways)."
    ),
) -> None:
    """Print the GraphQL schema (SDL): the clients' (schema.graphql), or the subgraph's."""
    from schema import schema
    from schema.federation import client_sdl, federation_sdl

    sdl = federation_sdl(schema) if federation else client_sdl(schema)
    if output is None:
        sys.stdout.write(sdl)
    else:
        output.write_text(sdl)


@cli.command()
def token(
    role: TokenRole = typer.Option(..., help="Role of the token."),
    scope: list[str] = typer.Option([], help="region:ID, district:ID or institution:ID (repeat)."),
    person: int | None = typer.Option(None, help="Person id (guardians and pupils)."),
    ttl: int | None = typer.Option(None, help="Minutes until the token expires."),
    data_dir: Path | None = DataDir,
) -> None:
    """Print a bearer token signed with the key of the data folder the server uses."""
    from resolvers.access import KeyRing, Role, issue_token, principal_from_token
    from resolvers.errors import RequestError

    settings = _settings(data_dir)
    ring = KeyRing.load(settings)
    value = issue_token(
        ring, settings, role=Role(role.value), person_id=person, scopes=list(scope), ttl_minutes=ttl
    )
    try:
        principal_from_token(value, ring, settings)
    except RequestError as err:
        raise typer.BadParameter(err.message) from None
    sys.stdout.write(value + "\n")


@assets_cli.command("install")
def assets_install(data_dir: Path | None = DataDir) -> None:
    """Fetch GraphiQL and React from the npm registry into the data folder (the registry npm
    uses on this machine: BILIM_NPM_REGISTRY, NPM_CONFIG_REGISTRY, ~/.npmrc or npm's config)."""
    from resolvers import assets

    try:
        folder = assets.install(_settings(data_dir).data_dir)
    except assets.AssetsUnavailable as err:
        typer.echo(f"GraphiQL assets not installed: {err}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"GraphiQL assets in {folder}", err=True)


@keys_cli.command("rotate")
def keys_rotate(data_dir: Path | None = DataDir) -> None:
    """Add a new active signing key; tokens signed with older keys stay valid."""
    from resolvers.access import KeyRing

    settings = _settings(data_dir)
    ring = KeyRing.load(settings)
    kid = ring.rotate(settings.data_dir / "signing-keys.json")
    typer.echo(f"Active signing key is now {kid}; restart the hub to use it", err=True)


@jobs_cli.command("run")
def jobs_run(data_dir: Path | None = DataDir) -> None:
    """Run the scheduled jobs once (cron this daily): expire kindergarten offers past their
    deadline under each season's decline rule, expire licences and accreditations, mark
    overdue library loans and expire library holds not picked up."""
    from models import database
    from resolvers import jobs

    with Database(_settings(data_dir)) as db:
        database.migrate(db.url)
        done = asyncio.run(jobs.run_all(db.url))
        typer.echo(", ".join(f"{k}: {v}" for k, v in done.items()), err=True)


@lms_cli.command("close-year")
def lms_close_year(
    workers: int = typer.Option(2, min=1, max=32, help="Schools closed at once."),
    data_dir: Path | None = DataDir,
) -> None:
    """Close the schools whose year-end closure is pending (after the ministry's
    closeAcademicYear), each school in its own transaction; safe to run again or in parallel."""
    from models import database
    from resolvers import lms as lms_service

    async def run(url: str) -> int:
        done = await asyncio.gather(
            *(lms_service.run_pending_closures(url) for _ in range(workers))
        )
        return sum(done)

    with Database(_settings(data_dir)) as db:
        database.migrate(db.url)
        typer.echo(f"closed {asyncio.run(run(db.url))} schools", err=True)


@events_cli.command("run")
def events_run(data_dir: Path | None = DataDir) -> None:
    """Run the outbox dispatcher alone (notices, webhooks, retention) until stopped; run the
    hub's workers with BILIM_EVENT_DISPATCHER=false then, or let both share the work."""
    from models import database
    from schema.events.wiring import events_runtime

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = _settings(data_dir)
    with Database(settings) as db:
        database.migrate(db.url)
        settings.database_url = db.url

        async def run() -> None:
            runtime = events_runtime(settings)
            await runtime.start(dispatch=True)
            typer.echo(f"Dispatching events as {runtime.worker}", err=True)
            try:
                await asyncio.Event().wait()
            finally:
                await runtime.stop()

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run())


@events_cli.command("status")
def events_status(data_dir: Path | None = DataDir) -> None:
    """Each consumer's position, backlog and last error."""
    from resolvers.events import status

    with Database(_settings(data_dir)) as db:
        for line in asyncio.run(status.report(db.url)):
            typer.echo(line)


@events_cli.command("prune")
def events_prune(data_dir: Path | None = DataDir) -> None:
    """Remove delivered events past the retention (the hub's workers also do this hourly)."""
    from models import database
    from resolvers.events import retention

    settings = _settings(data_dir)
    with Database(settings) as db:
        engine = database.create_engine(db.url, pool_size=1, max_overflow=0)

        async def run() -> retention.Pruned:
            try:
                return await retention.prune(engine, retention_days=settings.events_retention_days)
            finally:
                await engine.dispose()

        typer.echo(str(asyncio.run(run())), err=True)


class _ImportReport(Protocol):
    """What every import returns: its rejected lines, each with a code and a message."""

    @property
    def problems(self) -> Sequence[Any]: ...


_Report = TypeVar("_Report", bound=_ImportReport)


def _line(problem: Any) -> str:
    return f"line {problem.line}"


def _import_file(
    data_dir: Path | None,
    load: Callable[[str], Coroutine[Any, Any, _Report]],
    refused: type[Exception],
    summary: Callable[[_Report], str],
    *,
    where: Callable[[Any], str] = _line,
) -> None:
    """What every ``bilim import`` does with its file: migrate the hub's database, run
    ``load`` (one transaction: the good lines committed), print each rejected line on stderr as
    ``line N: CODE: message`` (``where`` names the place when a file has no lines) and the
    summary on stdout. Exit status: 1 when the file was refused whole (nothing loaded), 2 when
    some lines were rejected (the rest loaded), 0 when every line loaded."""
    from models import database

    with Database(_settings(data_dir)) as db:
        database.migrate(db.url)
        try:
            report = asyncio.run(load(db.url))
        except refused as err:
            typer.echo(f"The file was refused: {err}", err=True)
            raise typer.Exit(1) from None
    for problem in report.problems:
        typer.echo(f"{where(problem)}: {problem.code.value}: {problem.message}", err=True)
    typer.echo(summary(report))
    if report.problems:
        raise typer.Exit(2)


@import_cli.command("test-results")
def import_test_results(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The CSV file."),
    data_dir: Path | None = DataDir,
) -> None:
    """Load the national test results (CSV; columns in docs/domains/admission.md)."""
    from resolvers.admission.cli import ImportRefused, import_file
    from resolvers.admission.results_import import ImportReport

    def summary(report: ImportReport) -> str:
        again = "This file was imported before; nothing changed\n"
        return (again if report.already_imported else "") + (
            f"rows: {report.rows_total}, loaded: {report.rows_loaded}, "
            f"unchanged: {report.rows_unchanged}, rejected: {report.rows_rejected}"
        )

    _import_file(data_dir, lambda url: import_file(url, file), ImportRefused, summary)


@import_cli.command("marc")
def import_marc(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="MARC 21 (ISO 2709) file."),
    institution: int | None = typer.Option(
        None, help="Institution id whose library holds the copies named in 952 $p."
    ),
    data_dir: Path | None = DataDir,
) -> None:
    """Load a library's catalogue (MARC 21): bad records are reported with their position
    and a code, the rest loaded; records whose ISBN is known are matched, not duplicated."""
    from resolvers.library.cli import ImportRefused, import_marc_file
    from resolvers.library.marc import MarcImportReport

    def summary(report: MarcImportReport) -> str:
        return (
            f"records: {report.records}, created: {report.created}, matched: {report.matched}, "
            f"copies: {report.items}, rejected: {len(report.problems)}"
        )

    _import_file(
        data_dir,
        lambda url: import_marc_file(url, file, institution_id=institution),
        ImportRefused,
        summary,
        where=lambda problem: f"record {problem.position} (byte {problem.offset})",
    )


@import_cli.command("curriculum")
def import_curriculum(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The CSV file."),
    data_dir: Path | None = DataDir,
) -> None:
    """Load the curriculum (CSV; columns in docs/domains/content.md): good lines loaded, each
    bad line reported with its number and code."""
    from resolvers.content.cli import ImportRefused, import_file
    from resolvers.content.curriculum import CurriculumImport

    def summary(report: CurriculumImport) -> str:
        return (
            f"lines: {report.lines}, created: {report.created}, updated: {report.updated}, "
            f"rejected: {report.rejected}"
        )

    _import_file(data_dir, lambda url: import_file(url, file), ImportRefused, summary)


@import_cli.command("population")
def import_population(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The CSV file."),
    data_dir: Path | None = DataDir,
) -> None:
    """Load the population by district and age (CSV: year,district_code,age,count)."""
    from resolvers.analytics.population import PopulationRefused, PopulationReport, import_file

    def summary(report: PopulationReport) -> str:
        return f"rows: {report.rows_total}, loaded: {report.rows_loaded}"

    _import_file(data_dir, lambda url: import_file(url, file), PopulationRefused, summary)


@schema_cli.command("check")
def schema_check(
    against: Path | None = typer.Option(
        None, exists=True, dir_okay=False, help="The released SDL (default: merge base on main)."
    ),
) -> None:
    """Fail on breaking changes against the released schema unless listed in
    schema-changes.txt; print dangerous changes and deprecations without a date."""
    from schema import check, schema
    from schema.federation import client_sdl

    old = against.read_text() if against is not None else check.released_sdl()
    if old is None:
        typer.echo("No released schema: not a git checkout with main; pass --against", err=True)
        raise typer.Exit(2)
    result = check.check(old, client_sdl(schema))
    for line in result.dangerous:
        typer.echo(f"dangerous: {line}")
    for line in result.intended:
        typer.echo(f"breaking (intended): {line}")
    for line in result.undated_deprecations:
        typer.echo(f"deprecation without a date: {line}")
    for line in result.breaking:
        typer.echo(f"BREAKING: {line}")
    if not result.ok:
        raise typer.Exit(1)
    typer.echo("No unintended breaking changes", err=True)


@schema_cli.command("usage")
def schema_usage() -> None:
    """Which portal operations still use a deprecated field."""
    from schema import check, schema

    used = check.usage(schema._schema)
    if not used:
        typer.echo("No portal operation uses a deprecated field", err=True)
    for name, files in sorted(used.items()):
        typer.echo(f"{name}: {', '.join(files)}")


@keys_cli.command("create-partner")
def keys_create_partner(
    name: str = typer.Option(..., help="The partner and purpose."),
    field: list[str] = typer.Option(..., help="Type.field or Type.* in its subgraph (repeat)."),
    personal: bool = typer.Option(False, "--personal-data", help="Grant personal fields."),
    region: list[int] = typer.Option([], help="Region id whose rows it reads (repeat)."),
    oneroster_write: list[int] = typer.Option(
        [], metavar="INSTITUTION_ID", help="A school whose marks it writes by OneRoster (repeat)."
    ),
    points: int = typer.Option(5000, help="Hourly budget in points."),
    days: int = typer.Option(365, help="Days until the key expires."),
    data_dir: Path | None = DataDir,
) -> None:
    """Create a data partner's API key and print it (shown once; only its hash is kept)."""
    from models import database
    from resolvers.access import Principal, Role
    from resolvers.access.fields import unknown_fields
    from resolvers.access.keys import create_api_key, load_pepper
    from resolvers.errors import DomainError
    from schema import schema

    settings = _settings(data_dir)
    principal = Principal(subject="cli:ministry", role=Role.MINISTRY)

    async def create(url: str) -> str:
        engine = database.create_engine(url, pool_size=1, max_overflow=0)
        try:
            async with database.session_factory(engine)() as session:
                new = await create_api_key(
                    session,
                    principal,
                    pepper=load_pepper(settings),
                    name=name,
                    allowed_fields=list(field),
                    personal_data=personal,
                    region_ids=list(region),
                    points_per_hour=points,
                    ttl_days=days,
                    unknown=unknown_fields(schema._schema, field),
                    oneroster_write_institution_ids=list(oneroster_write),
                )
                await session.commit()
                return new.key
        finally:
            await engine.dispose()

    with Database(settings) as db:
        database.migrate(db.url)
        try:
            key = asyncio.run(create(db.url))
        except DomainError as err:
            raise typer.BadParameter(err.problems[0].message) from None
    sys.stdout.write(key + "\n")


@export_cli.command("oneroster")
def export_oneroster(
    out: Path = typer.Argument(..., help="A .zip file, or a folder for the CSV files."),
    key: str = typer.Option(..., help="The partner's API key whose scope the export follows."),
    school: str | None = typer.Option(None, help="One school's sourcedId (default: all)."),
    base_url: str = typer.Option("http://localhost:8000", help="The hub's URL for hrefs."),
    data_dir: Path | None = DataDir,
) -> None:
    """Write the OneRoster 1.2 CSV binding's zip (or its files) of what the key may read."""
    import zipfile

    from models import database
    from resolvers.access.fields import personal_fields
    from resolvers.access.keys import load_pepper, principal_from_key
    from resolvers.lms.oneroster import bulk
    from schema import schema

    settings = _settings(data_dir)
    target = out if out.suffix == ".zip" else out / "oneroster.zip"
    target.parent.mkdir(parents=True, exist_ok=True)

    async def export(url: str) -> dict[str, int]:
        engine = database.create_engine(url, pool_size=1, max_overflow=0)
        try:
            async with engine.connect() as conn:
                principal = await principal_from_key(conn, load_pepper(settings), key)
                with target.open("wb") as stream:
                    return await bulk.write_zip(
                        conn,
                        principal,
                        stream,
                        scope=bulk.Scope(school),
                        base_url=base_url.rstrip("/"),
                        personal=personal_fields(schema._schema),
                    )
        finally:
            await engine.dispose()

    with Database(settings) as db:
        database.migrate(db.url)
        counts = asyncio.run(export(db.url))
    if target != out:
        with zipfile.ZipFile(target) as archive:
            archive.extractall(out)
        target.unlink()
    for name, count in counts.items():
        typer.echo(f"{name}.csv: {count:,} rows", err=True)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
