"""A school's profile and first-grade places (issue 14.3, 14.4): type, grades, shifts, the
F6 flag, default quotas from them, quotas per language of instruction (domain.md F1, F5, F6)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import InstitutionKind, Language, SchoolType
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import (
    BISHKEK,
    gid,
    make_first_grade_application,
    make_institution,
)
from tests.first_grade.test_first_grade import (
    ALLOCATE,
    APPLY,
    QUOTA,
    School,
    apply_input,
    arrange,
    child_of,
    school_admin,
)
from tests.preschool.helpers import errors_of

QUOTAS = """
query($s: ID!, $k: ID!) {
  firstGradeQuotas(seasonId: $s, schoolId: $k) { language classes places admitted free }
}
"""
CREATE_SCHOOL = """
mutation CreateInstitution($input: CreateInstitutionInput!) {
  createInstitution(input: $input) {
    institution { id schoolType gradeFrom gradeTo shifts outsideEEnrollment }
    userErrors { field code }
  }
}
"""


async def applications(s: School, session: AsyncSession, language: Language, n: int) -> None:
    for _ in range(n):
        child = await child_of(session, s, born=date(s.season.year - 6, 1, 1))
        await make_first_grade_application(
            session,
            child=child,
            guardian=s.mother,
            school=s.school,
            season=s.season,
            language=language,
        )


async def quotas(hub: Hub, s: School) -> list[dict[str, Any]]:
    data = await hub.data(
        QUOTAS, {"s": gid("IntakeSeason", s.season.id), "k": gid("Institution", s.school.id)}
    )
    rows: list[dict[str, Any]] = data["firstGradeQuotas"]
    return rows


class TestQuotasPerLanguage:
    async def test_each_language_stream_fills_its_own_places_f1_f5(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a Kyrgyz- and Russian-medium school, 3 Kyrgyz and 3 Russian applications
        s = await arrange(session)
        await applications(s, session, Language.KY, 3)
        await applications(s, session, Language.RU, 3)
        await session.commit()
        token, season = school_admin(hub, s), gid("IntakeSeason", s.season.id)
        # when the school sets 1 Kyrgyz place (the language clients that name none get) and
        # 2 Russian places, refused for a language it does not teach, and allocates
        base = {"seasonId": season, "schoolId": s.id, "classes": 1}
        ky = await hub.gql(QUOTA, {"input": {**base, "places": 1}}, token=token)
        ru = await hub.gql(QUOTA, {"input": {**base, "places": 2, "language": "RU"}}, token=token)
        uz = await hub.gql(QUOTA, {"input": {**base, "places": 2, "language": "UZ"}}, token=token)
        body = await hub.gql(
            ALLOCATE, {"input": {"seasonId": season, "schoolId": s.id}}, token=token
        )
        # then each stream is admitted within its own quota
        assert errors_of(ky, "setFirstGradeQuota") == []
        assert errors_of(ru, "setFirstGradeQuota") == []
        assert errors_of(uz, "setFirstGradeQuota") == ["LANGUAGE_NOT_TAUGHT"]
        result = body["data"]["allocateFirstGradePlaces"]
        assert (result["admitted"], result["waitlisted"]) == (3, 3)
        assert await quotas(hub, s) == [
            {"language": "KY", "classes": 1, "places": 1, "admitted": 1, "free": 0},
            {"language": "RU", "classes": 1, "places": 2, "admitted": 2, "free": 0},
        ]


class TestDefaultQuotas:
    async def test_default_quota_comes_from_shifts_grades_and_streams_f5(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a primary school (grades 1-4) of 360 places a shift, two shifts, Kyrgyz only
        s = await arrange(session)
        s.school.languages = ["ky"]
        s.school.school_type = SchoolType.PRIMARY_1_4
        s.school.grade_from, s.school.grade_to = 1, 4
        s.school.shifts = 2
        s.school.design_capacity = 360
        await applications(s, session, Language.KY, 2)
        await session.commit()
        # when places are allocated with no quota set
        await hub.gql(
            ALLOCATE,
            {"input": {"seasonId": gid("IntakeSeason", s.season.id), "schoolId": s.id}},
            token=school_admin(hub, s),
        )
        # then grade 1 gets 360 x 2 / 4 = 180 places in 5 classes of at most 36
        assert await quotas(hub, s) == [
            {"language": "KY", "classes": 5, "places": 180, "admitted": 2, "free": 178}
        ]

    async def test_a_school_with_no_grades_recorded_shares_capacity_among_12_grades_and_its_streams_f5(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a Kyrgyz- and Russian-medium school of 900 places, no type recorded
        s = await arrange(session)
        await applications(s, session, Language.RU, 1)
        await session.commit()
        await hub.gql(
            ALLOCATE,
            {"input": {"seasonId": gid("IntakeSeason", s.season.id), "schoolId": s.id}},
            token=school_admin(hub, s),
        )
        # then the Russian stream gets 900 / 12 / 2 = 37 places
        assert await quotas(hub, s) == [
            {"language": "RU", "classes": 2, "places": 37, "admitted": 1, "free": 36}
        ]


class TestSchoolProfile:
    async def test_type_brings_grades_and_the_f6_flag_and_such_a_school_takes_no_application_f6(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        # given a special-needs school the ministry registers
        s = await arrange(session)
        await session.commit()
        body = await hub.gql(
            CREATE_SCHOOL,
            {
                "input": {
                    "name": "Special school No. 1",
                    "kind": "SCHOOL",
                    "ownership": "STATE",
                    "regionId": gid("Region", BISHKEK),
                    "languages": ["KY"],
                    "schoolType": "SPECIAL_NEEDS",
                }
            },
            token=ministry,
        )
        created = body["data"]["createInstitution"]["institution"]
        assert created["schoolType"] == "SPECIAL_NEEDS"
        assert (created["gradeFrom"], created["gradeTo"], created["shifts"]) == (1, 11, 1)
        assert created["outsideEEnrollment"] is True
        # when a guardian applies to it through e-enrollment
        child = await child_of(session, s, born=date(s.season.year - 6, 3, 1))
        await session.commit()
        guardian = hub.token(Role.GUARDIAN, person_id=s.mother.id)
        applied = await hub.gql(
            APPLY, apply_input(s, child, schoolId=created["id"]), token=guardian
        )
        # then it is refused: the school admits outside e-enrollment
        assert errors_of(applied, "applyForFirstGrade") == ["OUTSIDE_E_ENROLLMENT"]

    async def test_a_gymnasium_from_grade_5_takes_no_first_grader_s1(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a gymnasium teaching grades 5-11
        s = await arrange(session)
        gymnasium = await make_institution(
            session,
            kind=InstitutionKind.SCHOOL,
            languages=["ky"],
            school_type=SchoolType.GYMNASIUM,
            grade_from=5,
            grade_to=11,
        )
        child = await child_of(session, s, born=date(s.season.year - 6, 3, 1))
        await session.commit()
        # when a guardian applies to it for grade 1
        applied = await hub.gql(
            APPLY,
            apply_input(s, child, schoolId=gid("Institution", gymnasium.id)),
            token=hub.token(Role.GUARDIAN, person_id=s.mother.id),
        )
        # then it is refused: the school does not teach grade 1
        assert errors_of(applied, "applyForFirstGrade") == ["GRADE_NOT_TAUGHT"]

    async def test_database_refuses_a_profile_on_a_kindergarten_and_bad_grades_s1(
        self, session: AsyncSession
    ) -> None:
        import pytest
        from sqlalchemy.exc import IntegrityError

        for fields in (
            {"kind": InstitutionKind.KINDERGARTEN, "school_type": SchoolType.BASIC},
            {"grade_from": 5, "grade_to": 4},
            {"grade_from": 1, "grade_to": 13},
            {"shifts": 4},
        ):
            async with session.begin_nested():
                with pytest.raises(IntegrityError):
                    await make_institution(session, **fields)
