"""The /stats page's two operations (portals/stats) asked again are answered from the worker's
kept answers (schema/http/kept.py): one statement, the statistics' version (``stat_version``,
changed by statement triggers on the rollups, the disclosure rule, the geography and the
population).

What an answer depends on besides the version is exactly one bit of the caller: whether it sees
exact counts (only the ministry: resolvers/analytics/rules.py ``sees_exact_counts``; every other
caller reads the protected tables of docs/domains/analytics.md's disclosure control, rules 1-3:
primary suppression, secondary suppression, a small total hidden). Regions are public and no
row rule narrows a statistics table. So answers are kept per version and per class (exact or
protected), and the tests hold a kept answer byte for byte equal to what the resolvers answer
each caller kind afresh. A partner's key always runs (its subgraph is its own). The nightly
job's refresh, a new disclosure rule, a renamed region and a population import are each seen by
the next request; a census date without a rollup (counted live) is never kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from models import Institution
from resolvers import jobs
from resolvers.access import Role
from resolvers.access.keys import load_pepper
from resolvers.persisted import PORTALS_DIR
from tests.analytics.helpers import add_population, add_pupils, add_teachers
from tests.conftest import Hub
from tests.factories import (
    BISHKEK,
    BISHKEK_LENIN,
    CHUY,
    CHUY_SOKULUK,
    make_api_key,
    make_institution,
    make_person,
)

LATEST = (PORTALS_DIR / "stats" / "StatsLatest.graphql").read_text()
YEARS = (PORTALS_DIR / "stats" / "StatsYears.graphql").read_text()
DOCUMENTS = {"StatsLatest": LATEST, "StatsYears": YEARS}
# The years' page asks the five census dates the nightly job keeps rolled up (today is in the
# 2026/27 school year: 15 September 2022-2026).
FIVE_YEARS = {f"d{i}": f"{2021 + i}-09-15" for i in range(1, 6)}
VARIABLES: dict[str, dict[str, Any]] = {"StatsLatest": {}, "StatsYears": FIVE_YEARS}
# Osh Region: its school in the arrangement stands directly under the region (no district).
OSH_REGION = 5
REGIONS = "{ regions(first: 20) { nodes { code nameEn } } }"
SET_POLICY = """
mutation Set($input: SetDisclosurePolicyInput!) {
  setDisclosurePolicy(input: $input) { policy { threshold } userErrors { code } }
}"""
DECREE = "Order of the National Statistical Committee on confidentiality, 2027, item 4"
PARTNER_FIELDS = [
    "Query.statistics",
    "Query.indicators",
    "Query.regions",
    "StatisticsTable.*",
    "StatisticsCell.*",
    "Indicators.*",
    "Indicator.*",
    "RegionConnection.*",
    "Region.*",
]


@dataclass
class Sent:
    """One answer: its raw bytes' ``data`` part, the decoded body and the statements sent."""

    raw_data: bytes
    body: dict[str, Any]
    statements: list[str]


async def send(
    hub: Hub, document: str, variables: dict[str, Any], authorization: str | None = None
) -> Sent:
    hub.counter.reset()
    response = await hub.client.post(
        "/graphql",
        json={"query": document, "variables": variables},
        headers={"Authorization": authorization} if authorization else {},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    raw = response.content
    # The body is {"data":...,"extensions":{"cost":...}}: the data's bytes as sent.
    assert raw.startswith(b'{"data":'), raw[:40]
    return Sent(raw[: raw.rindex(b',"extensions":')], body, list(hub.counter.statements or []))


def fresh(document: str, caller: str) -> str:
    """The same operation as a document text no answer is kept for: the resolvers run it."""
    return f"{document}\n# asked afresh for {caller}\n"


def reads_version(sent: Sent) -> bool:
    return any("stat_version" in s for s in sent.statements)


def by_region(body: dict[str, Any], table: str = "pupils") -> dict[str, int | None]:
    return {c["region"]["code"]: c["count"] for c in body["data"][table]["cells"]}


async def arrange(session: AsyncSession) -> dict[str, Institution]:
    """Pupils of the latest census: 12 in Bishkek (and two teachers), 3 in Chuy (under the
    threshold of 5), 8 in a third region; the population aged 3-6 of Bishkek's Lenin district;
    then the nightly job's refresh builds the last five census dates' rollups."""
    bishkek = await make_institution(session)
    chuy = await make_institution(session, region_id=CHUY, district_id=CHUY_SOKULUK)
    other = await make_institution(session, region_id=OSH_REGION, district_id=None)
    await add_pupils(session, bishkek, n=12, grade=1, class_group="1A")
    await add_pupils(session, chuy, n=3, grade=2, class_group="2A")
    await add_pupils(session, other, n=8, grade=3, class_group="3A")
    await add_teachers(session, bishkek, n=2)
    await add_population(
        session, district_id=BISHKEK_LENIN, year=2026, by_age={3: 40, 4: 40, 5: 40, 6: 40}
    )
    await session.commit()
    await refresh(session)
    return {"bishkek": bishkek, "chuy": chuy, "other": other}


async def refresh(session: AsyncSession) -> None:
    from resolvers import analytics as analytics_service

    await analytics_service.refresh_recent(session)
    await session.commit()


async def caller_kinds(hub: Hub, session: AsyncSession, school: Institution) -> dict[str, str]:
    """An Authorization header of every kind of caller the hub knows (anonymous: none)."""
    person = await make_person(session)
    _, key = await make_api_key(
        session, pepper=load_pepper(hub.settings), allowed_fields=PARTNER_FIELDS
    )
    await session.commit()
    at_school = [f"institution:{school.id}"]

    def bearer(role: Role, **claims: Any) -> str:
        return f"Bearer {hub.token(role, **claims)}"

    return {
        "anonymous": "",
        "guardian": bearer(Role.GUARDIAN, person_id=person.id),
        "pupil": bearer(Role.PUPIL, person_id=person.id),
        "teacher": bearer(Role.TEACHER, person_id=person.id, scopes=at_school),
        "school_admin": bearer(Role.SCHOOL_ADMIN, scopes=at_school),
        "admission_officer": bearer(Role.ADMISSION_OFFICER, scopes=at_school),
        "librarian": bearer(Role.LIBRARIAN, scopes=at_school),
        "district_officer": bearer(Role.DISTRICT_OFFICER, scopes=[f"district:{BISHKEK_LENIN}"]),
        "region_officer": bearer(Role.REGION_OFFICER, scopes=[f"region:{BISHKEK}"]),
        "counsellor": bearer(Role.COUNSELLOR, scopes=[f"region:{CHUY}"]),
        "licensing_officer": bearer(Role.LICENSING_OFFICER),
        "auditor": bearer(Role.AUDITOR),
        "content_editor": bearer(Role.CONTENT_EDITOR),
        "ministry": bearer(Role.MINISTRY),
        "partner": f"Bearer {key}",
    }


class TestEveryCallerKind:
    @pytest.mark.parametrize("operation", sorted(DOCUMENTS))
    async def test_a_kept_answer_is_the_resolvers_answer_byte_for_byte(
        self, operation: str, hub: Hub, session: AsyncSession
    ) -> None:
        # given a rolled-up census with a small count, and every kind of caller
        schools = await arrange(session)
        callers = await caller_kinds(hub, session, schools["bishkek"])
        document, variables = DOCUMENTS[operation], VARIABLES[operation]
        # and each class's answer kept by its first reader (anonymous; the ministry)
        primed = {
            "protected": await send(hub, document, variables),
            "exact": await send(hub, document, variables, callers["ministry"]),
        }
        assert all(reads_version(p) and len(p.statements) > 1 for p in primed.values())
        for name, authorization in callers.items():
            # when the caller opens the page (kept), and asks the same afresh (the resolvers)
            kept = await send(hub, document, variables, authorization)
            run = await send(hub, fresh(document, name), variables, authorization)
            # then the resolvers ran the fresh one, and both answers are the same bytes
            assert len(run.statements) > 1, name
            assert kept.raw_data == run.raw_data, name
            if name == "partner":
                # a partner's key is never served a kept answer, and reads protected tables
                assert not reads_version(kept)
                assert len(kept.statements) > 1
                assert kept.raw_data == primed["protected"].raw_data
            else:
                # every other caller is served its class's kept answer: one statement
                assert kept.statements == [s for s in kept.statements if "stat_version" in s]
                assert len(kept.statements) == 1, (name, kept.statements)
                cls = "exact" if name == "ministry" else "protected"
                assert kept.raw_data == primed[cls].raw_data, name
        # and the two classes' answers differ here (disclosure control hid the small counts)
        assert primed["protected"].raw_data != primed["exact"].raw_data

    async def test_the_classes_are_cut_by_the_disclosure_rules(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given the rolled-up census, the page kept for an anonymous reader
        await arrange(session)
        await send(hub, LATEST, {})
        anonymous = await send(hub, LATEST, {})
        assert len(anonymous.statements) == 1
        # when the ministry opens it
        ministry = await send(hub, LATEST, {}, f"Bearer {hub.token(Role.MINISTRY)}")
        # then the ministry's is its own answer (a miss), with exact counts
        assert len(ministry.statements) > 1
        assert by_region(ministry.body) == {"KG-C": 3, "KG-GB": 12, "KG-O": 8}
        assert ministry.body["data"]["pupils"]["total"] == 23
        # and the anonymous one is protected: Chuy's 3 hidden (rule 1, primary suppression),
        # the third region's 8 hidden with it (rule 2: the total would give Chuy away), the
        # total of 23 shown (rule 3 hides only a total under the threshold)
        assert by_region(anonymous.body) == {"KG-C": None, "KG-GB": 12, "KG-O": None}
        assert anonymous.body["data"]["pupils"]["total"] == 23


class TestFreshness:
    async def test_the_nightly_refresh_is_seen_by_the_next_request(
        self, hub: Hub, session: AsyncSession, db_url: str
    ) -> None:
        # given both pages kept
        schools = await arrange(session)
        for operation, document in DOCUMENTS.items():
            await send(hub, document, VARIABLES[operation])
        # when five more pupils enter Chuy's school (the registry changes; the rollup not yet)
        await add_pupils(session, schools["chuy"], n=5, grade=2, class_group="2B")
        await session.commit()
        # then the published figures are still the rollup's, kept: one statement
        before = await send(hub, LATEST, {})
        assert len(before.statements) == 1
        assert by_region(before.body)["KG-C"] is None
        # when the nightly job runs (`bilim jobs run`: the rollups' refresh among its jobs)
        done = await jobs.run_all(db_url)
        assert done["statistics_cells"] > 0
        # then the next request of each page runs, and counts Chuy's 8 pupils
        latest = await send(hub, LATEST, {})
        years = await send(hub, YEARS, FIVE_YEARS)
        assert len(latest.statements) > 1
        assert len(years.statements) > 1
        assert by_region(latest.body)["KG-C"] == 8
        assert {c["region"]["code"]: c["count"] for c in years.body["data"]["y5"]["cells"]}[
            "KG-C"
        ] == 8
        # and is kept again
        assert len((await send(hub, LATEST, {})).statements) == 1

    async def test_a_new_disclosure_rule_is_seen_by_the_next_request(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given the page kept for anonymous readers under the threshold of 5
        await arrange(session)
        await send(hub, LATEST, {})
        assert by_region((await send(hub, LATEST, {})).body)["KG-C"] is None
        # when the ministry lowers the threshold to 3 (setDisclosurePolicy)
        body = await hub.data(
            SET_POLICY,
            {"input": {"threshold": 3, "source": DECREE}},
            token=hub.token(Role.MINISTRY),
        )
        assert body["setDisclosurePolicy"]["userErrors"] == []
        # then the next anonymous request runs and shows Chuy's 3 pupils
        after = await send(hub, LATEST, {})
        assert len(after.statements) > 1
        assert by_region(after.body) == {"KG-C": 3, "KG-GB": 12, "KG-O": 8}

    async def test_a_renamed_region_is_seen_by_the_next_request(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        await arrange(session)
        await send(hub, LATEST, {})
        await session.execute(
            text("UPDATE region SET name_en = 'Chuy Region (renamed)' WHERE id = :id"),
            {"id": CHUY},
        )
        await session.commit()
        after = await send(hub, LATEST, {})
        assert len(after.statements) > 1
        names = {r["code"]: r["nameEn"] for r in after.body["data"]["regions"]["nodes"]}
        assert names["KG-C"] == "Chuy Region (renamed)"

    async def test_a_population_import_is_seen_by_the_next_request(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given the indicators kept, kindergarten coverage of Bishkek with no kindergartens
        await arrange(session)
        query = (
            "{ indicators(kinds: [KINDERGARTEN_COVERAGE]) "
            "{ values { denominator region { code } } } }"
        )
        await send(hub, query, {})
        kept = await send(hub, query, {})
        assert len(kept.statements) == 1
        # when the statistics committee's population of Chuy's Sokuluk district is loaded
        await add_population(
            session, district_id=CHUY_SOKULUK, year=2026, by_age={3: 10, 4: 10, 5: 10, 6: 10}
        )
        await session.commit()
        # then the next request runs and divides by it
        after = await send(hub, query, {})
        assert len(after.statements) > 1
        chuy = [v for v in after.body["data"]["indicators"]["values"] if v["region"]]
        assert {v["region"]["code"]: v["denominator"] for v in chuy}["KG-C"] == 40


class TestNeverKept:
    async def test_a_census_date_counted_live_is_never_kept(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a years page asking one date the job does not keep (2021: counted live)
        schools = await arrange(session)
        variables = {**FIVE_YEARS, "d1": "2021-09-15"}
        first = await send(hub, YEARS, variables)
        # when it is asked again
        again = await send(hub, YEARS, variables)
        # then it runs again (a live count changes with every registry write)
        assert len(first.statements) > 1
        assert len(again.statements) > 1
        assert again.raw_data == first.raw_data
        # and a pupil entering in 2020 is counted by the next request, without any refresh
        await add_pupils(session, schools["bishkek"], n=6, grade=4, entry_date=date(2020, 9, 1))
        await session.commit()
        live = await send(hub, YEARS, variables)
        assert live.body["data"]["y1"]["cells"][0]["count"] == 6

    @pytest.mark.parametrize(
        "document",
        [
            (PORTALS_DIR / "public" / "Regions.graphql").read_text(),
            f"# the regions of the statistics page\n{REGIONS}",
        ],
    )
    async def test_the_regions_alone_are_not_a_statistics_page(
        self, document: str, hub: Hub
    ) -> None:
        # given the public regions list asked twice (no statistics or indicators in it, even
        # where its text names them)
        variables = {"first": 20} if "$first" in document else {}
        await send(hub, document, variables)
        again = await send(hub, document, variables)
        # then it never looks for a kept statistics answer
        assert not reads_version(again)

    async def test_an_export_is_never_kept(self, hub: Hub, session: AsyncSession) -> None:
        await arrange(session)
        query = "{ statistics(measure: PUPILS) { export(format: CSV) { filename } } }"
        await send(hub, query, {})
        again = await send(hub, query, {})
        assert not reads_version(again)
