"""Admission policy is data: the ministry opens seasons with their figures, plans rounds, sets
thresholds per field and the pool of each district; universities offer their programmes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import AdmissionProgramme, AdmissionSeason, DistrictPool, InstitutionKind
from resolvers.access import Role
from resolvers.admission.applications import pool_of_applicant
from tests.admission.arrange import REGISTRATION, arrange_campaign, make_applicant
from tests.conftest import Hub
from tests.factories import BISHKEK_LENIN, gid, make_institution

CREATE_SEASON = """
mutation($input: CreateAdmissionSeasonInput!) {
  createAdmissionSeason(input: $input) { season { id year intake maxChoices } userErrors { field code } }
}
"""
CREATE_ROUND = """
mutation($input: CreateAdmissionRoundInput!) {
  createAdmissionRound(input: $input) { round { number publicationOn } userErrors { field code } }
}
"""
SET_THRESHOLD = """
mutation($input: SetFieldThresholdInput!) {
  setFieldThreshold(input: $input) { threshold { fieldOfStudy grantMainMin } userErrors { field code } }
}
"""
SET_POOL = """
mutation($input: SetDistrictPoolInput!) {
  setDistrictPool(input: $input) { districtPool { pool district { nameEn } } userErrors { code } }
}
"""
CREATE_PROGRAMME = """
mutation($input: CreateProgrammeInput!) {
  createProgramme(input: $input) { programme { code places { category places } } userErrors { field code } }
}
"""
SEASON = {
    "year": 2027,
    "intake": "MAIN",
    "name": "ЖРТ 2027",
    "maxChoices": 5,
    "mainScoreMax": 245,
    "subjectScoreMax": 150,
    "stateLanguageScoreMax": 150,
    "mainThreshold": 110,
    "subjectThreshold": 60,
    "stateLanguageThreshold": 50,
    "studiesStart": "2027-09-01",
}


class TestSeasonPolicy:
    async def test_ministry_opens_a_season_plans_rounds_and_sets_thresholds(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        body = await hub.data(CREATE_SEASON, {"input": SEASON}, token=ministry)
        season = body["createAdmissionSeason"]["season"]
        assert (season["year"], season["maxChoices"]) == (2027, 5)
        dates = {
            "registrationOpens": "2027-06-20",
            "registrationCloses": "2027-07-05",
            "publicationOn": "2027-07-08",
            "confirmationOpens": "2027-07-08",
            "confirmationCloses": "2027-07-12",
        }
        first = await hub.data(
            CREATE_ROUND, {"input": {"seasonId": season["id"], **dates}}, token=ministry
        )
        assert first["createAdmissionRound"]["round"]["number"] == 1
        # a second round must start after the first is published
        overlapping = await hub.data(
            CREATE_ROUND, {"input": {"seasonId": season["id"], **dates}}, token=ministry
        )
        assert overlapping["createAdmissionRound"]["userErrors"][0]["code"] == "INVALID_DATE"
        threshold = await hub.data(
            SET_THRESHOLD,
            {
                "input": {
                    "seasonId": season["id"],
                    "fieldOfStudy": "Teacher_Education",
                    "grantMainMin": 130,
                    "contractMainMin": 115,
                    "subjectMin": 60,
                }
            },
            token=ministry,
        )
        assert threshold["setFieldThreshold"]["threshold"] == {
            "fieldOfStudy": "teacher_education",
            "grantMainMin": 130,
        }

    async def test_bad_policy_gets_typed_errors_and_writes_nothing(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        await hub.data(CREATE_SEASON, {"input": SEASON}, token=ministry)
        twice = await hub.data(CREATE_SEASON, {"input": SEASON}, token=ministry)
        assert twice["createAdmissionSeason"]["userErrors"][0]["code"] == "SEASON_EXISTS"
        above = await hub.data(
            CREATE_SEASON, {"input": {**SEASON, "year": 2028, "mainThreshold": 300}}, token=ministry
        )
        assert above["createAdmissionSeason"]["userErrors"][0]["code"] == "INVALID_INPUT"
        officer = hub.token(Role.ADMISSION_OFFICER, scopes=["institution:1"])
        refused = await hub.data(CREATE_SEASON, {"input": {**SEASON, "year": 2029}}, token=officer)
        assert refused["createAdmissionSeason"]["userErrors"][0]["code"] == "FORBIDDEN"
        assert await session.scalar(select(func.count()).select_from(AdmissionSeason)) == 1


class TestDistrictPool:
    async def test_every_district_is_classified_and_the_ministry_reclassifies(
        self, hub: Hub, ministry: str, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        # given the seeded classification: Bishkek districts are the Bishkek pool
        pools = dict(
            (await session.execute(select(DistrictPool.district_id, DistrictPool.pool))).all()
        )
        assert pools[BISHKEK_LENIN] == "bishkek"
        assert {"rural", "regional_town", "high_altitude"} <= set(pools.values())
        campaign = await arrange_campaign(session)
        person, _ = await make_applicant(session, campaign)
        await session.commit()
        person_id = person.id
        assert await pool_of_applicant(session, person_id) == "bishkek"
        # when the ministry moves Lenin district into the regional-town pool
        body = await hub.data(
            SET_POOL,
            {"input": {"districtId": gid("District", BISHKEK_LENIN), "pool": "REGIONAL_TOWN"}},
            token=ministry,
        )
        assert body["setDistrictPool"]["districtPool"]["pool"] == "REGIONAL_TOWN"
        # then the applicant's pool follows
        assert await pool_of_applicant(session, person_id) == "regional_town"


class TestCreateProgramme:
    async def _input(self, campaign: Any, university: Any, **extra: Any) -> dict[str, Any]:
        return {
            "input": {
                "seasonId": gid("AdmissionSeason", campaign.season.id),
                "institutionId": gid("Institution", university.id),
                "code": "ARCH",
                "name": "Архитектура",
                "fieldOfStudy": "architecture",
                "requiredSubjects": ["math"],
                "creativeTest": True,
                "places": [
                    {"category": "BISHKEK", "places": 3},
                    {"category": "CONTRACT", "places": 10},
                ],
                **extra,
            }
        }

    async def test_admission_officer_offers_a_programme_at_their_university_only(
        self, hub: Hub, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        campaign = await arrange_campaign(session)
        await session.commit()
        officer = hub.token(
            Role.ADMISSION_OFFICER, scopes=[f"institution:{campaign.university.id}"]
        )
        ok = await hub.data(
            CREATE_PROGRAMME, await self._input(campaign, campaign.university), token=officer
        )
        assert ok["createProgramme"]["programme"]["places"] == [
            {"category": "BISHKEK", "places": 3},
            {"category": "CONTRACT", "places": 10},
        ]
        elsewhere = await hub.data(
            CREATE_PROGRAMME, await self._input(campaign, campaign.other_university), token=officer
        )
        assert elsewhere["createProgramme"]["userErrors"][0]["code"] == "FORBIDDEN"
        twice = await hub.data(
            CREATE_PROGRAMME, await self._input(campaign, campaign.university), token=officer
        )
        assert twice["createProgramme"]["userErrors"][0]["code"] == "INVALID_INPUT"
        count = await session.scalar(
            select(func.count())
            .select_from(AdmissionProgramme)
            .where(AdmissionProgramme.code == "ARCH")
        )
        assert count == 1

    async def test_programmes_belong_to_universities(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        campaign = await arrange_campaign(session)
        college = await make_institution(session, kind=InstitutionKind.COLLEGE)
        await session.commit()
        body = await hub.data(
            CREATE_PROGRAMME, await self._input(campaign, college), token=ministry
        )
        assert body["createProgramme"]["userErrors"][0]["code"] == "WRONG_INSTITUTION_KIND"

    async def test_creative_test_score_counts_in_the_ranking_score(
        self, hub: Hub, ministry: str, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        campaign = await arrange_campaign(session)
        person, cert = await make_applicant(session, campaign)
        await session.commit()
        officer = hub.token(
            Role.ADMISSION_OFFICER, scopes=[f"institution:{campaign.university.id}"]
        )
        created = await hub.data(
            CREATE_PROGRAMME, await self._input(campaign, campaign.university), token=officer
        )
        assert created["createProgramme"]["userErrors"] == []
        programme_id = (
            await hub.data(
                'query($s: ID!) { programmes(filter: {seasonId: $s, name: "Архит"}, first: 1) { nodes { id } } }',
                {"s": gid("AdmissionSeason", campaign.season.id)},
            )
        )["programmes"]["nodes"][0]["id"]
        on_day(REGISTRATION)
        applied = await hub.data(
            """mutation($input: ApplyToProgrammesInput!) { applyToProgrammes(input: $input) {
                 applications { id totalScore } userErrors { code } } }""",
            {
                "input": {
                    "seasonId": gid("AdmissionSeason", campaign.season.id),
                    "personId": gid("Person", person.id),
                    "certificateNumber": cert.certificate_number,
                    "choices": [{"programmeId": programme_id, "funding": "GRANT"}],
                }
            },
            token=hub.token(Role.PUPIL, person_id=person.id),
        )
        (application,) = applied["applyToProgrammes"]["applications"]
        scored = await hub.data(
            """mutation($input: RecordCreativeTestScoreInput!) { recordCreativeTestScore(input: $input) {
                 application { creativeScore totalScore } userErrors { code } } }""",
            {"input": {"applicationId": application["id"], "score": 70}},
            token=officer,
        )
        assert scored["recordCreativeTestScore"]["application"] == {
            "creativeScore": 70,
            "totalScore": application["totalScore"] + 70,
        }


SET_SCHOOL_POOL = """
mutation SetSchoolPool($input: SetSchoolPoolInput!) {
  setSchoolPool(input: $input) { school { id } userErrors { code } }
}
"""


class TestSchoolPool:
    async def test_a_school_set_high_altitude_overrides_its_districts_pool_u4(
        self, hub: Hub, ministry: str, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        # given an applicant from a Bishkek school: the district's pool
        campaign = await arrange_campaign(session)
        person, _ = await make_applicant(session, campaign)
        school_id = campaign.bishkek_school.id
        await session.commit()
        person_id = person.id
        assert await pool_of_applicant(session, person_id) == "bishkek"
        school = {"schoolId": gid("Institution", school_id)}
        # when the ministry puts that one school in the high-altitude pool (an officer may not)
        officer = hub.token(Role.ADMISSION_OFFICER, scopes=["institution:1"])
        refused = await hub.data(
            SET_SCHOOL_POOL, {"input": {**school, "pool": "HIGH_ALTITUDE"}}, token=officer
        )
        body = await hub.data(
            SET_SCHOOL_POOL, {"input": {**school, "pool": "HIGH_ALTITUDE"}}, token=ministry
        )
        # then the applicant competes in the school's pool, and back in the district's once
        # the school's is cleared
        assert refused["setSchoolPool"]["userErrors"][0]["code"] == "FORBIDDEN"
        assert body["setSchoolPool"]["userErrors"] == []
        assert await pool_of_applicant(session, person_id) == "high_altitude"
        cleared = await hub.data(
            SET_SCHOOL_POOL, {"input": {**school, "pool": None}}, token=ministry
        )
        assert cleared["setSchoolPool"]["userErrors"] == []
        assert await pool_of_applicant(session, person_id) == "bishkek"
