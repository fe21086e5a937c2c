"""Officers' and families' pages (issue 21): what one request costs, in CPU, not wall time.

``python -m bench.pages`` uses the dataset of ``python -m bench.api`` (same ``--data-dir``; seed
it there first, or set ``DATABASE_URL``), copies it, writes each page's state with its workload
(``bench/workloads``: the same queues, applications and callers ``bench.api`` measures), and
sends each page's calls round and round through a hub in this process, one request at a time,
for ``--requests`` requests (the reference pages bench.api reads on the dataset as it is, the
season pages and the licensing reference, are sent as they are, by the ministry). Per page it
prints: SQL statements per request (and, for a page kept until its data changes, those of the
same request asked again: schema/http/kept.py), the CPU time per request of this process (the
hub and its in-process HTTP client) and of PostgreSQL (its backends' utime + stime from /proc),
the wall-clock p50 (noise on a busy machine), and ``uptime``.
``--explain`` also prints ``EXPLAIN (ANALYZE, BUFFERS)`` of every statement of the first call,
``--profile`` where the hub's CPU goes; ``--resolvers`` turns the compiled path off (the pages
as they cost before it knew them); ``--mutations`` measures the portal mutations of issue 21's
statement target instead (``--requests`` calls prepared, each sent once).

CPU per request is what load does not distort much: on an idle machine the wall time of one
request is close to hub CPU + PostgreSQL CPU; requests per second on 2 cores are bounded by
2 / (hub CPU + PostgreSQL CPU) with the load generator taking its share.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib
import os
import pstats
import statistics
import time
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event

from bench.api import (
    PORTALS,
    RESULTS,
    _copy_database,
    _in_process_hub,
    _postmaster_pid,
    _problem,
)
from bench.library import cpu_seconds
from bench.workloads import Bench, Call, Workload
from models import database
from resolvers.access import KeyRing, Role
from resolvers.settings import Settings

PAGES_DATABASE = "bilim_pages"
# The pages measured without a workload of bench/workloads (REFERENCE_WORKLOADS below).
REFERENCE = "reference"

# The pages of issue 21's workflow part, by the workload module that prepares them.
PAGES: dict[str, tuple[str, ...]] = {
    "bench.workloads.kindergarten_queue": (
        "kindergarten-queue/KindergartenQueue",
        "kindergarten-queue/KindergartenOffers",
        "kindergarten-queue/MyKindergartenApplications",
    ),
    "bench.workloads.first_grade": (
        "first-grade/SchoolFirstGradeApplications",
        "first-grade/MyFirstGradeApplications",
    ),
    "bench.workloads.university_admission": (
        "university-admission/ProgrammeApplicants",
        "university-admission/ProgrammeCatalogue",
        "university-admission/MyApplications",
        "university-admission/RankExplanation",
        "university-admission/AdmissionSeasons",
    ),
    "bench.workloads.study_abroad": (
        "study-abroad/ProgrammeCandidates",
        "study-abroad/ForeignProgrammes",
    ),
    "bench.workloads.licensing": (
        "licensing/Accreditations",
        "licensing/InstitutionLicensing",
        "licensing/LicenceApplications",
        "licensing/LicenceApplication",
        "licensing/Licences",
        "licensing/VerifyLicence",
        "licensing/AccreditationAgencies",
    ),
    "bench.workloads.sanarip_sabak": (
        "sanarip-sabak/Lesson",
        "sanarip-sabak/CurriculumUnits",
        "sanarip-sabak/LessonsForReview",
        "sanarip-sabak/OfflinePack",
    ),
    # the school pages (issue 21, second part)
    "bench.workloads.lms": (
        "lms/TeacherDay",
        "lms/SchoolTimetable",
        "lms/SchoolClasses",
        "lms/ConcernReports",
    ),
    # the open course portal's pages
    "bench.workloads.open_courses": (
        "open-courses/OpenCourses",
        "open-courses/OpenCourse",
        "open-courses/MyCourses",
    ),
    # the public statistics page (/stats)
    "bench.workloads.stats": ("stats/StatsLatest", "stats/StatsYears"),
    # the reference pages bench.api measures on the dataset as it is (no workload)
    REFERENCE: (
        "licensing/LicensingReference",
        "kindergarten-queue/KindergartenSeason",
        "first-grade/FirstGradeSeason",
    ),
}


async def _reference_page(bench: Bench, n: int) -> list[Call]:
    """A reference page as the dataset has it, read by the ministry (it reads the same to
    every caller)."""
    return [Call({}, bench.token(Role.MINISTRY))]


REFERENCE_WORKLOADS = [
    Workload(page, _reference_page)
    for page in (
        "licensing/LicensingReference",
        "kindergarten-queue/KindergartenSeason",
        "first-grade/FirstGradeSeason",
    )
]


# The portal mutations of issue 21's statement target: each call changes its own object, so
# each is sent once (``--requests`` calls prepared).
MUTATIONS: dict[str, tuple[str, ...]] = {
    "bench.workloads.kindergarten_queue": (
        "kindergarten-queue/ApplyToKindergartenQueue",
        "kindergarten-queue/VerifyKindergartenBenefit",
        "kindergarten-queue/TransferKindergartenApplication",
        "kindergarten-queue/OfferPlaces",
        "kindergarten-queue/AcceptOffer",
        "kindergarten-queue/DeclineOffer",
        "kindergarten-queue/ConfirmAdmission",
    ),
    "bench.workloads.first_grade": ("first-grade/ApplyForFirstGrade",),
    "bench.workloads.emis": ("emis/TransferStudent",),
    "bench.workloads.licensing": ("licensing/ApplyForLicence",),
}


async def _explain(url: str, captured: list[tuple[str, Any]]) -> None:
    conn = await asyncpg.connect(url)
    try:
        for statement, params in captured:
            if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            args = list(params) if isinstance(params, list | tuple) else []
            plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *args)
            print("   ", " ".join(statement.split())[:160])
            for row in plan:
                print("      ", row[0])
    finally:
        await conn.close()


async def _analyze(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> None:
    if args.resolvers:
        os.environ["BILIM_COMPILED_QUERIES"] = "false"  # read by the hub's Settings
    settings = Settings(data_dir=args.data_dir)
    embedded = None
    db_url = settings.database_url or ""
    if not db_url:
        embedded = database.EmbeddedPostgres(args.data_dir)
        embedded.start()
        db_url = embedded.url()
    try:
        from resolvers import demo

        await asyncio.to_thread(database.migrate, db_url)
        if not await demo.is_loaded(db_url):
            raise SystemExit("seed the dataset first: python -m bench.api --data-dir ...")
        copy_url = await _copy_database(db_url, PAGES_DATABASE)
        ring = KeyRing.load(settings, args.data_dir)
        bench = Bench(database.plain_url(copy_url), settings, ring)
        postmaster = _postmaster_pid(args.data_dir)
        async with _in_process_hub(copy_url, args.data_dir) as (client, counter):
            captured: list[tuple[str, Any]] = []

            def capture(conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
                captured.append((statement, params))

            engine = client._transport.app.state.engine  # type: ignore[attr-defined]
            chosen = MUTATIONS if args.mutations else PAGES
            for module, pages in chosen.items():
                workloads: list[Workload] = (
                    REFERENCE_WORKLOADS
                    if module == REFERENCE
                    else importlib.import_module(module).WORKLOADS
                )
                for workload in workloads:
                    if workload.operation not in pages or args.only not in workload.operation:
                        continue
                    query = (PORTALS / f"{workload.operation}.graphql").read_text()
                    wanted = args.requests + 1 if args.mutations else 50
                    calls = await workload.prepare(bench, wanted)
                    # The workload has just written its rows: statistics as autovacuum would
                    # have them on a running system (stale ones planned the admission officers'
                    # offers through every programme of the university, 5,400 buffers).
                    await _analyze(database.plain_url(copy_url))
                    bodies = [(c.body(query), c.token) for c in calls]

                    async def send(i: int, bodies: Any = bodies) -> dict[str, Any]:
                        (body, content_type), token = bodies[i % len(bodies)]
                        response = await client.post(
                            "/graphql",
                            content=body,
                            headers={
                                "Authorization": f"Bearer {token}",
                                "Content-Type": content_type,
                            },
                        )
                        answer: dict[str, Any] = response.json()
                        return answer

                    counter.reset()
                    captured.clear()
                    event.listen(engine.sync_engine, "before_cursor_execute", capture)
                    first = await send(0)
                    event.remove(engine.sync_engine, "before_cursor_execute", capture)
                    statements = counter.count
                    problem = _problem(first)
                    cold = ""
                    if not args.mutations:
                        # Warm: plans, caches, and each call's caller once (the compiled path
                        # keeps a statement per caller's rules: a caller's first request builds
                        # it, reported apart as "first request of a caller").
                        cpu0, pg0 = time.process_time(), cpu_seconds(postmaster)
                        for i in range(1, len(bodies)):
                            await send(i)
                        if len(bodies) > 1:
                            n = len(bodies) - 1
                            cold = (
                                f" (first request of a caller: hub CPU"
                                f" {(time.process_time() - cpu0) / n * 1000:.2f} ms, PostgreSQL"
                                f" {(cpu_seconds(postmaster) - pg0) / n * 1000:.2f} ms)"
                            )
                        for i in range(min(20, args.requests)):
                            await send(i)
                    again = statements
                    if not args.mutations:
                        # A page kept until its data changes (schema/http/kept.py) costs its
                        # first request's statements once; asked again, these.
                        counter.reset()
                        await send(0)
                        again = counter.count
                    # A mutation's calls are each sent once (the first one was sent above).
                    first_call = 1 if args.mutations else 0
                    requests = (
                        min(args.requests, len(calls) - first_call)
                        if args.mutations
                        else args.requests
                    )
                    walls = []
                    profile = cProfile.Profile() if args.profile else None
                    cpu0, pg0 = time.process_time(), cpu_seconds(postmaster)
                    if profile is not None:
                        profile.enable()
                    for i in range(first_call, first_call + requests):
                        t = time.perf_counter()
                        await send(i)
                        walls.append(time.perf_counter() - t)
                    if profile is not None:
                        profile.disable()
                        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
                        if os.environ.get("BILIM_PROFILE_OUT"):
                            profile.dump_stats(os.environ["BILIM_PROFILE_OUT"])
                    hub_cpu = (time.process_time() - cpu0) / max(requests, 1) * 1000
                    pg_cpu = (cpu_seconds(postmaster) - pg0) / max(requests, 1) * 1000
                    load = os.getloadavg()
                    print(
                        f"{workload.operation}: {requests} requests of {len(calls)} calls,"
                        f" {statements} statements"
                        + (f" ({again} asked again)," if again != statements else ",")
                        + f" hub CPU {hub_cpu:.2f} ms, PostgreSQL CPU {pg_cpu:.2f} ms,"
                        f" wall p50 {statistics.median(walls) * 1000:.1f} ms,"
                        f" load {load[0]:.1f}{cold}" + (f", PROBLEM {problem}" if problem else ""),
                        flush=True,
                    )
                    if args.explain:
                        await _explain(database.plain_url(copy_url), captured)
        await _copy_database(db_url, PAGES_DATABASE, drop_only=True)
    finally:
        if embedded is not None:
            embedded.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=RESULTS / "data")
    parser.add_argument("--only", default="", help="pages whose name contains this")
    parser.add_argument("--requests", type=int, default=200, help="requests per page")
    parser.add_argument("--explain", action="store_true", help="plans of the first call")
    parser.add_argument("--profile", action="store_true", help="where the hub's CPU goes")
    parser.add_argument(
        "--mutations", action="store_true", help="the portal mutations instead of the pages"
    )
    parser.add_argument(
        "--resolvers",
        action="store_true",
        help="the compiled path off: every page through the resolvers (the figures before it)",
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
