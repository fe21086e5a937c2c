"""enrollStudent and transferStudent check the child's age (issue 14.5): the entry-age rule
for a grade (domain.md F4) and the kindergarten age range (K1), unless a commission's
decision is named."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import AuditEntry, Enrollment, Institution, InstitutionKind, IntakeKind
from tests.conftest import Hub
from tests.enrollments.helpers import ENROLL_STUDENT, TRANSFER_STUDENT, run_mutation
from tests.factories import gid, make_institution, make_intake_season, make_person
from tests.people.helpers import user_error_codes

# The school year 2026/2027: Y = 2026, so grade 1 takes children born in 2020 (F4).
SEPTEMBER = date(2026, 9, 1)


@dataclass
class Places:
    school: Institution
    other_school: Institution
    kindergarten: Institution


@pytest.fixture
async def places(session: AsyncSession) -> Places:
    await make_intake_season(session, kind=IntakeKind.FIRST_GRADE, year=2026)
    await make_intake_season(session, kind=IntakeKind.KINDERGARTEN, year=2026)
    school = await make_institution(session, name="Мектеп №5")
    other = await make_institution(session, name="Мектеп №6")
    kindergarten = await make_institution(
        session, name="Бакча №3", kind=InstitutionKind.KINDERGARTEN
    )
    await session.commit()
    return Places(school, other, kindergarten)


async def enroll_born(
    hub: Hub,
    token: str,
    session: AsyncSession,
    born: date,
    institution: Institution,
    **values: Any,
) -> dict[str, Any]:
    child = await make_person(session, birth_date=born)
    await session.commit()
    values.setdefault("entryDate", SEPTEMBER.isoformat())
    return await run_mutation(
        hub,
        ENROLL_STUDENT,
        "enrollStudent",
        token,
        personId=gid("Person", child.id),
        institutionId=gid("Institution", institution.id),
        **values,
    )


class TestGradeEntryAge:
    @pytest.mark.parametrize(
        ("born", "grade", "codes"),
        [
            (date(2020, 12, 31), 1, []),  # Y-6: grade 1
            (date(2021, 1, 1), 1, ["CHILD_TOO_YOUNG"]),  # Y-5: a year early
            (date(2019, 6, 1), 1, ["CHILD_TOO_OLD"]),  # Y-7 enters grade 2, not 1
            (date(2019, 6, 1), 2, []),  # Y-7: grade 2
            (date(2020, 6, 1), 2, []),  # Y-6 after the pre-school programme: grade 2
            (date(2020, 6, 1), 3, ["CHILD_TOO_YOUNG"]),
            (date(2016, 6, 1), 3, []),  # two years over grade 3's age: within the tolerance
            (date(2015, 6, 1), 3, ["CHILD_TOO_OLD"]),
        ],
    )
    async def test_f4_grade_takes_the_children_of_its_birth_years(
        self,
        hub: Hub,
        ministry: str,
        session: AsyncSession,
        places: Places,
        born: date,
        grade: int,
        codes: list[str],
    ) -> None:
        # when a school enrolls the child in the grade for 2026/2027
        payload = await enroll_born(hub, ministry, session, born, places.school, gradeLevel=grade)

        # then the entry-age rule (F4) decides
        assert user_error_codes(payload) == codes
        if codes:
            assert payload["userErrors"][0]["field"] == "gradeLevel"

    async def test_f4_a_summer_enrollment_counts_for_the_coming_school_year(
        self, hub: Hub, ministry: str, session: AsyncSession, places: Places
    ) -> None:
        # when a child born in 2020 is enrolled in grade 1 from 25 August 2026
        payload = await enroll_born(
            hub,
            ministry,
            session,
            date(2020, 3, 1),
            places.school,
            gradeLevel=1,
            entryDate="2026-08-25",
        )

        # then it is the grade 1 of 2026/2027
        assert user_error_codes(payload) == []

    async def test_f4_a_commissions_decision_admits_a_child_outside_the_rule(
        self, hub: Hub, ministry: str, session: AsyncSession, places: Places, engine: AsyncEngine
    ) -> None:
        # when a five-year-old is enrolled in grade 1 on the commission's decision
        payload = await enroll_born(
            hub,
            ministry,
            session,
            date(2021, 2, 1),
            places.school,
            gradeLevel=1,
            ageDecision=" ПМПК №17/2026 ",
        )

        # then the enrollment is opened and keeps the decision; the audit trail records it
        assert user_error_codes(payload) == []
        async with AsyncSession(engine) as check:
            kept = await check.scalar(select(Enrollment.age_decision))
            variables = await check.scalar(
                select(AuditEntry.variables)
                .where(AuditEntry.operation == "enrollments.enroll_student")
                .order_by(AuditEntry.id.desc())
                .limit(1)
            )
        assert kept == "ПМПК №17/2026"
        assert variables is not None
        assert "ПМПК №17/2026" in str(variables)

    async def test_f4_a_transfer_into_a_grade_checks_the_age(
        self, hub: Hub, ministry: str, session: AsyncSession, places: Places
    ) -> None:
        # given a pupil born in 2018 in grade 3
        opened = await enroll_born(
            hub, ministry, session, date(2018, 4, 1), places.school, gradeLevel=3
        )
        transfer = {
            "enrollmentId": opened["enrollment"]["id"],
            "toInstitutionId": gid("Institution", places.other_school.id),
            "date": "2026-11-02",
        }

        # when the receiving school puts them in grade 5, then in grade 3
        too_high = await run_mutation(
            hub, TRANSFER_STUDENT, "transferStudent", ministry, gradeLevel=5, **transfer
        )
        same = await run_mutation(hub, TRANSFER_STUDENT, "transferStudent", ministry, **transfer)

        # then grade 5 is refused (born 2018 is grade 3's age, or grade 4's by the pre-school
        # route) and grade 3 is kept
        assert user_error_codes(too_high) == ["CHILD_TOO_YOUNG"]
        assert user_error_codes(same) == []


class TestKindergartenAgeRange:
    @pytest.mark.parametrize(
        ("born", "codes"),
        [
            (date(2026, 4, 1), ["CHILD_TOO_YOUNG"]),  # five months old
            (date(2026, 3, 1), []),  # six months old
            (date(2019, 9, 2), []),  # a day short of seven
            (date(2019, 9, 1), ["CHILD_TOO_OLD"]),  # seven
        ],
    )
    async def test_k1_kindergarten_takes_children_from_six_months_to_seven_years(
        self,
        hub: Hub,
        ministry: str,
        session: AsyncSession,
        places: Places,
        born: date,
        codes: list[str],
    ) -> None:
        # when
        payload = await enroll_born(hub, ministry, session, born, places.kindergarten)

        # then
        assert user_error_codes(payload) == codes

    async def test_k1_a_commissions_decision_admits_an_older_child(
        self, hub: Hub, ministry: str, session: AsyncSession, places: Places
    ) -> None:
        # when
        payload = await enroll_born(
            hub, ministry, session, date(2019, 5, 1), places.kindergarten, ageDecision="ПМПК №3"
        )

        # then
        assert user_error_codes(payload) == []
