"""The /stats page's two operations are portal operations (portals/stats): in allow-list mode
(BILIM_PERSISTED_QUERIES=allowlist) an anonymous browser may send them and nothing else, and
each costs a fixed number of SQL statements however many rows it counts: the first request
after a refresh runs the resolvers, every later one is a kept answer (one statement, the
statistics' version: tests/analytics/test_kept_stats.py)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers import analytics as analytics_service
from resolvers.persisted import PORTALS_DIR
from tests.analytics.helpers import add_pupils, add_teachers
from tests.conftest import Hub
from tests.factories import CHUY, CHUY_SOKULUK, make_institution
from tests.security import conftest as security
from tests.security.conftest import HubMaker

# A hub with its own settings (the security tests' fixture).
make_hub = security.make_hub
AD_HOC = "{ statistics(measure: PUPILS, groupBy: [SEX]) { total cells { sex count } } }"
# The SQL statements each of the page's operations sends, whatever the rows: (a worker's first
# request after a refresh, every later one). The first: the statistics' version, then the
# resolvers: StatsLatest the regions, the census dates with a rollup (once for both roots), the
# pupils' cells, the rule, the indicators' sums and population, the cells' regions (10 before
# the dates were read once and the answers kept); StatsYears the dates, each year's cells, the
# rule, the cells' regions (12 before). Every later one: the version alone.
STATEMENTS = {"StatsLatest": (8, 1), "StatsYears": (9, 1)}


def page_documents(html: str) -> dict[str, str]:
    """The documents the page's script sends, as it embeds them (JSON strings)."""
    found = {
        name: json.loads(re.search(rf"const {name} = (\".*?\");\n", html).group(1))  # type: ignore[union-attr]
        for name in ("LATEST", "YEARS")
    }
    return found


def years(hub_answer: dict[str, Any]) -> dict[str, str]:
    census = hub_answer["pupils"]["censusDate"]
    year = int(census[:4])
    return {f"d{i}": f"{year - 5 + i}{census[4:]}" for i in range(1, 6)}


async def arrange(session: AsyncSession, schools: int) -> None:
    for n in range(schools):
        school = (
            await make_institution(session, region_id=CHUY, district_id=CHUY_SOKULUK)
            if n % 2
            else await make_institution(session)
        )
        await add_pupils(session, school, n=6, grade=1 + n % 11, class_group="A")
        await add_teachers(session, school, n=1)
    await session.commit()
    await analytics_service.refresh_recent(session)
    await session.commit()


class TestStatsPageInAllowListMode:
    async def test_the_page_is_served_and_its_operations_run_for_anonymous_browsers(
        self, make_hub: HubMaker, session: AsyncSession
    ) -> None:
        # given a hub in allow-list mode and a rolled-up census
        await arrange(session, schools=2)
        async with make_hub(persisted_queries="allowlist") as hub:
            # when a browser loads /stats and sends what its script sends
            page = await hub.client.get("/stats")
            assert page.status_code == 200
            documents = page_documents(page.text)
            latest = (await hub.client.post("/graphql", json={"query": documents["LATEST"]})).json()
            assert "errors" not in latest, latest
            history = (
                await hub.client.post(
                    "/graphql",
                    json={"query": documents["YEARS"], "variables": years(latest["data"])},
                )
            ).json()
            # then both are answered, and an operation not in portals/ is refused
            assert "errors" not in history, history
            assert latest["data"]["pupils"]["total"] == 12
            assert history["data"]["y5"]["cells"]
            refused = (await hub.client.post("/graphql", json={"query": AD_HOC})).json()
            assert refused["errors"][0]["extensions"]["code"] == "OPERATION_NOT_ALLOWED"

    async def test_the_page_sends_exactly_the_portal_files(self, hub: Hub) -> None:
        page = (await hub.client.get("/stats")).text
        documents = page_documents(page)
        assert documents["LATEST"] == (PORTALS_DIR / "stats" / "StatsLatest.graphql").read_text()
        assert documents["YEARS"] == (PORTALS_DIR / "stats" / "StatsYears.graphql").read_text()


@pytest.mark.parametrize("operation", sorted(STATEMENTS))
async def test_stats_page_statements_do_not_grow_with_rows(
    operation: str, hub: Hub, session: AsyncSession
) -> None:
    # given many schools in two regions, rolled up
    await arrange(session, schools=8)
    document = (PORTALS_DIR / "stats" / f"{operation}.graphql").read_text()
    # (the years' page takes its dates from the latest census, asked without the page's text)
    latest = await hub.data("{ pupils: statistics(measure: PUPILS) { censusDate } }")
    variables = years(latest) if operation == "StatsYears" else {}
    # when the page sends it anonymously, twice
    sent = []
    for _ in range(2):
        hub.counter.reset()
        body = await hub.gql(document, variables)
        assert "errors" not in body, body
        sent.append(hub.counter.count)
    # then each sends its pinned statements: the resolvers once, then the kept answer
    assert tuple(sent) == STATEMENTS[operation], hub.counter.statements
