"""The public statistics page (portals/stats, served at /stats): its charts of the last five
census dates take the dates as variables. The page reads anonymously; a benchmark call carries
a token, so an officer's, who reads the same protected tables (disclosure control runs)."""

from __future__ import annotations

from bench.workloads import Bench, Call, Workload
from resolvers import analytics as analytics_service
from resolvers.access import Role


async def stats_years(bench: Bench, n: int) -> list[Call]:
    dates = analytics_service.recent_census_dates(5)
    variables = {f"d{i}": d.isoformat() for i, d in enumerate(dates, start=1)}
    return [Call(variables, bench.token(Role.REGION_OFFICER, scopes=["region:8"]))]


WORKLOADS = [Workload("stats/StatsYears", stats_years)]
