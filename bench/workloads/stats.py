"""The public statistics page (portals/stats, served at /stats): its charts of the last five
census dates take the dates as variables. The page reads anonymously; a benchmark call carries
a token, so each page is sent by a region officer, who reads the same protected tables as an
anonymous browser (disclosure control runs), and by the ministry, who reads exact counts: the
two kinds of answer the page has (resolvers/analytics/rules.py: ``sees_exact_counts``).

A running hub reads each census date's rollup, which the nightly job builds (`bilim jobs run`,
resolvers/analytics/rollups.py); a dataset that never ran the job counts every request live
(seconds at bench.api's size), so the preparer runs the job's refresh first."""

from __future__ import annotations

from bench.workloads import Bench, Call, Workload
from models import database
from resolvers import analytics as analytics_service
from resolvers.access import Role


async def refresh_statistics(db_url: str) -> dict[str, int]:
    """The nightly job's refresh of the statistics rollups (resolvers/jobs.py) on ``db_url``:
    the last census dates without a rollup built, the changed areas of the others recounted."""
    engine = database.create_engine(db_url, pool_size=1, max_overflow=0)
    try:
        async with database.session_factory(engine)() as session, session.begin():
            return await analytics_service.refresh_recent(session)
    finally:
        await engine.dispose()


def _callers(bench: Bench) -> list[str]:
    """A protected reader (an officer reads what an anonymous browser reads) and the ministry."""
    return [
        bench.token(Role.REGION_OFFICER, scopes=["region:8"]),
        bench.token(Role.MINISTRY),
    ]


async def stats_latest(bench: Bench, n: int) -> list[Call]:
    await refresh_statistics(bench.db_url)
    return [Call({}, token) for token in _callers(bench)][: max(n, 1)]


async def stats_years(bench: Bench, n: int) -> list[Call]:
    await refresh_statistics(bench.db_url)
    dates = analytics_service.recent_census_dates(5)
    variables = {f"d{i}": d.isoformat() for i, d in enumerate(dates, start=1)}
    return [Call(variables, token) for token in _callers(bench)][: max(n, 1)]


WORKLOADS = [
    Workload("stats/StatsLatest", stats_latest),
    Workload("stats/StatsYears", stats_years),
]
