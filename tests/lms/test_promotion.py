"""Year-end promotion (issue 15): closing a year moves every pupil with an open enrollment up
a grade (a new enrollment per year), keeps repeaters where the council decided so, ends the
enrollments of those who finished their last grade (9th at a basic school, 11th or 12th), and
carries the classes on. Idempotent; one transaction per school; the country's closure is a
job."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AcademicYear,
    AcademicYearClosure,
    ClassGroup,
    ClassMembership,
    ClassMembershipHalf,
    ClosureStatus,
    CurriculumModel,
    Enrollment,
    LmsPolicy,
    Subject,
)
from resolvers import lms as lms_service
from tests.conftest import Hub
from tests.factories import (
    gid,
    make_academic_year,
    make_class_group,
    make_pupil_in_class,
    subject_id,
)
from tests.lms.arrange import School, admin_token, arrange_school

CLOSE = """mutation($input: CloseAcademicYearInput!) {
  closeAcademicYear(input: $input) {
    closures { status promoted retained graduated leftSchool classesContinued }
    pending
    userErrors { code field message }
  }
}"""
DECIDE = """mutation($input: DecidePromotionInput!) {
  decidePromotion(input: $input) { decision { outcome } userErrors { code field } }
}"""


def _close(s: School, *, school: bool = True) -> dict[str, object]:
    year = gid("AcademicYear", s.last_year.id)
    return {"input": {"academicYearId": year, **({"schoolId": s.id} if school else {})}}


async def _open_enrollments(session: AsyncSession, s: School) -> dict[int, tuple[int, date]]:
    rows = await session.execute(
        select(Enrollment.person_id, Enrollment.grade_level, Enrollment.entry_date).where(
            Enrollment.institution_id == s.school.id, Enrollment.exit_date.is_(None)
        )
    )
    return {r.person_id: (r.grade_level, r.entry_date) for r in rows}


class TestCloseAcademicYear:
    async def test_pupils_move_up_a_grade_and_a_repeater_stays(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given last year's 5А of three pupils; the council keeps the third in grade 5
        s = await arrange_school(session)
        token = admin_token(hub, s)
        decided = await hub.data(
            DECIDE,
            {"input": {"academicYearId": gid("AcademicYear", s.last_year.id),
                       "enrollmentId": gid("Enrollment", s.enrollments[2].id),
                       "outcome": "RETAIN", "reason": "Решение педсовета №4"}},
            token=token,
        )  # fmt: skip
        assert decided["decidePromotion"]["decision"] == {"outcome": "RETAIN"}

        # when the school closes the year
        data = await hub.data(CLOSE, _close(s), token=token)

        # then two are promoted, one retained, and 5А goes on as this year's 6А
        assert data["closeAcademicYear"]["closures"] == [
            {"status": "DONE", "promoted": 2, "retained": 1, "graduated": 0, "leftSchool": 0,
             "classesContinued": 1}
        ]  # fmt: skip
        start = s.last_year.ends_on + timedelta(days=1)
        assert await _open_enrollments(session, s) == {
            s.pupils[0].id: (6, start),
            s.pupils[1].id: (6, start),
            s.pupils[2].id: (5, start),
        }
        reasons = await session.scalars(
            select(Enrollment.exit_reason).where(Enrollment.id.in_([e.id for e in s.enrollments]))
        )
        assert sorted(str(r) for r in reasons) == ["promoted", "promoted", "retained"]
        sixth = await session.scalar(
            select(ClassGroup).where(
                ClassGroup.academic_year_id == s.this_year.id,
                ClassGroup.institution_id == s.school.id,
            )
        )
        assert sixth is not None
        assert (sixth.grade, sixth.letter, sixth.pupil_count, sixth.previous_id) == (
            6,
            "А",
            2,
            s.klass.id,
        )
        # and the registry names the new class
        groups = await session.scalars(
            select(Enrollment.class_group).where(
                Enrollment.institution_id == s.school.id, Enrollment.exit_date.is_(None),
                Enrollment.grade_level == 6,
            )
        )  # fmt: skip
        assert set(groups) == {"6А"}

    async def test_closing_again_changes_nothing(self, hub: Hub, session: AsyncSession) -> None:
        s = await arrange_school(session)
        first = await hub.data(CLOSE, _close(s), token=admin_token(hub, s))
        enrollments = await session.scalar(select(func.count()).select_from(Enrollment))
        again = await hub.data(CLOSE, _close(s), token=admin_token(hub, s))
        assert again["closeAcademicYear"]["closures"] == first["closeAcademicYear"]["closures"]
        assert await session.scalar(select(func.count()).select_from(Enrollment)) == enrollments

    async def test_the_last_grade_graduates_and_a_basic_schools_ninth_grade_leaves(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given an 11th grade on the legacy model, and a basic school's 9th grade
        s = await arrange_school(session, grade=11)
        basic = await arrange_school(session, grade=9)
        session.add(
            LmsPolicy(institution_id=basic.school.id, twelve_year_from=2025, basic_only=True,
                      max_class_size=36, school_days=5, min_marks_for_result=3,
                      concern_reports_per_day=3)
        )  # fmt: skip
        await session.commit()

        eleventh = await hub.data(CLOSE, _close(s), token=admin_token(hub, s))
        ninth = await hub.data(CLOSE, _close(basic), token=admin_token(hub, basic))

        assert eleventh["closeAcademicYear"]["closures"][0]["graduated"] == 3
        assert ninth["closeAcademicYear"]["closures"][0]["leftSchool"] == 3
        assert await _open_enrollments(session, s) == {}
        reasons = set(
            await session.scalars(
                select(Enrollment.exit_reason).where(Enrollment.institution_id == basic.school.id)
            )
        )
        assert reasons == {"completed_level"}

    async def test_a_ninth_grader_may_leave_a_full_school_by_decision(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session, grade=9, pupils=2)
        token = admin_token(hub, s)
        await hub.data(
            DECIDE,
            {"input": {"academicYearId": gid("AcademicYear", s.last_year.id),
                       "enrollmentId": gid("Enrollment", s.enrollments[0].id),
                       "outcome": "LEAVE", "reason": "Поступил в колледж"}},
            token=token,
        )  # fmt: skip
        data = await hub.data(CLOSE, _close(s), token=token)
        assert data["closeAcademicYear"]["closures"][0]["leftSchool"] == 1
        assert data["closeAcademicYear"]["closures"][0]["promoted"] == 1

    async def test_a_year_not_over_or_without_a_next_year_is_not_closed(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        s = await arrange_school(session, in_this_year=True)
        not_over = await hub.data(
            CLOSE,
            {"input": {"academicYearId": gid("AcademicYear", s.this_year.id), "schoolId": s.id}},
            token=admin_token(hub, s),
        )
        assert not_over["closeAcademicYear"]["userErrors"][0]["code"] == "YEAR_NOT_OVER"
        old = await make_academic_year(session, start_year=2020)
        await session.commit()
        missing = await hub.data(
            CLOSE, {"input": {"academicYearId": gid("AcademicYear", old.id)}}, token=ministry
        )
        assert missing["closeAcademicYear"]["userErrors"][0]["code"] == "NEXT_YEAR_MISSING"

    async def test_the_countrys_closure_is_queued_and_done_by_the_job_one_school_at_a_time(
        self, hub: Hub, session: AsyncSession, ministry: str, db_url: str
    ) -> None:
        # given two schools with last year's classes
        schools = [await arrange_school(session) for _ in range(2)]

        # when the ministry closes the year for the country
        data = await hub.data(CLOSE, _close(schools[0], school=False), token=ministry)

        # then every school is queued, and the job closes them all
        assert data["closeAcademicYear"]["pending"] == 2
        assert await lms_service.run_pending_closures(db_url) == 2
        statuses = await session.scalars(select(AcademicYearClosure.status))
        assert set(statuses) == {ClosureStatus.DONE}
        for s in schools:
            assert {g for g, _ in (await _open_enrollments(session, s)).values()} == {6}
        assert await lms_service.run_pending_closures(db_url) == 0

    async def test_a_class_carried_on_keeps_its_pupils_in_the_new_year(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session, pupils=2)
        second = await make_class_group(
            session, school=s.school, year=s.last_year, letter="Б",
            curriculum_model=CurriculumModel.ELEVEN_YEAR,
        )  # fmt: skip
        await make_pupil_in_class(session, klass=second)
        await session.commit()
        await hub.data(CLOSE, _close(s), token=admin_token(hub, s))
        members = await session.execute(
            select(ClassGroup.letter, func.count())
            .join(ClassMembership, ClassMembership.class_group_id == ClassGroup.id)
            .where(ClassGroup.academic_year_id == s.this_year.id, ClassMembership.until.is_(None))
            .group_by(ClassGroup.letter)
        )
        assert dict(members.all()) == {"А": 2, "Б": 1}


HALF = """mutation($input: AssignPupilsToHalfInput!) {
  assignPupilsToHalf(input: $input) { userErrors { code } }
}"""


async def _split(hub: Hub, session: AsyncSession, s: School, halves: dict[str, Any]) -> None:
    """Put last year's pupils in halves: ``{subject code: {subgroup: [pupil index, ...]}}``."""
    for code, by_half in halves.items():
        subject = gid("Subject", await subject_id(session, code))
        for subgroup, pupils in by_half.items():
            variables = {"input": {"classGroupId": s.class_id, "subjectId": subject,
                                   "subgroup": subgroup,
                                   "pupilIds": [gid("Person", s.pupils[i].id) for i in pupils]}}  # fmt: skip
            data = await hub.data(HALF, variables, token=admin_token(hub, s))
            assert data["assignPupilsToHalf"]["userErrors"] == []


async def _halves(session: AsyncSession, s: School) -> set[tuple[int, int, str, int]]:
    """Every half row of the school's pupils: (year's start, pupil index, subject, subgroup)."""
    await session.commit()
    rows = await session.execute(
        select(AcademicYear.start_year, ClassMembership.pupil_id, Subject.code,
               ClassMembershipHalf.subgroup)
        .join(ClassMembership, ClassMembership.id == ClassMembershipHalf.membership_id)
        .join(ClassGroup, ClassGroup.id == ClassMembershipHalf.class_group_id)
        .join(AcademicYear, AcademicYear.id == ClassGroup.academic_year_id)
        .join(Subject, Subject.id == ClassMembershipHalf.subject_id)
        .where(ClassGroup.institution_id == s.school.id)
    )  # fmt: skip
    index = {p.id: i for i, p in enumerate(s.pupils)}
    return {(year, index[pupil], code, half) for year, pupil, code, half in rows}


class TestHalvesCarriedOn:
    """Issue 16: the promoted keep the half of their class they learn a subject in, where next
    year's class learns the subject too (S4: data entered once, not again each September); in
    the closure's set-based statements."""

    async def test_the_promoted_keep_their_halves_in_the_subjects_next_year_learns(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given last year's 5А (legacy model) of four pupils: the foreign language taught in
        # halves (pupils 0 and 3 in the first, 1 in the second, 2 in neither), natural science
        # too (pupil 0 in the second), which grade 6 does not learn; the council keeps pupil
        # 3 in grade 5
        s = await arrange_school(session, pupils=4)
        token = admin_token(hub, s)
        await _split(hub, session, s, {"foreign_language": {1: [0, 3], 2: [1]},
                                       "natural_science": {2: [0]}})  # fmt: skip
        await hub.data(
            DECIDE,
            {"input": {"academicYearId": gid("AcademicYear", s.last_year.id),
                       "enrollmentId": gid("Enrollment", s.enrollments[3].id),
                       "outcome": "RETAIN", "reason": "Решение педсовета"}},
            token=token,
        )  # fmt: skip
        before = await _halves(session, s)
        last, this = s.last_year.start_year, s.this_year.start_year

        # when the school closes the year
        data = await hub.data(CLOSE, _close(s), token=token)
        assert data["closeAcademicYear"]["closures"][0]["promoted"] == 3

        # then this year's 6А has the promoted pupils' foreign-language halves; natural science
        # is not carried (6А does not learn it), pupil 2 is in no half as before, the repeater
        # is in no class yet (the school places them), and last year's halves stay as history
        assert await _halves(session, s) == before | {
            (this, 0, "foreign_language", 1),
            (this, 1, "foreign_language", 2),
        }
        assert {row for row in before if row[0] == last} == before
        # and the class's pupils read them back
        sixth = await session.scalar(
            select(ClassGroup.id).where(
                ClassGroup.academic_year_id == s.this_year.id,
                ClassGroup.institution_id == s.school.id,
            )
        )
        assert sixth is not None
        halves = await hub.data(
            """query($id: ID!) { node(id: $id) { ... on ClassGroup {
                 halves { subgroup subject { code } pupils { id } } } } }""",
            {"id": gid("ClassGroup", sixth)},
            token=token,
        )
        assert sorted(
            (h["subject"]["code"], h["subgroup"], [p["id"] for p in h["pupils"]])
            for h in halves["node"]["halves"]
        ) == [
            ("foreign_language", 1, [gid("Person", s.pupils[0].id)]),
            ("foreign_language", 2, [gid("Person", s.pupils[1].id)]),
        ]

        # and closing again changes nothing
        again = await hub.data(CLOSE, _close(s), token=token)
        assert again["closeAcademicYear"]["closures"] == data["closeAcademicYear"]["closures"]
        assert len(await _halves(session, s)) == len(before) + 2

    async def test_carrying_halves_on_costs_no_statement_more(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a school of two pupils in no half, and one of four all in halves
        counts = []
        for pupils, halves in ((2, {}), (4, {"foreign_language": {1: [0, 1], 2: [2, 3]}})):
            s = await arrange_school(session, pupils=pupils)
            await _split(hub, session, s, halves)
            # when each closes its year
            hub.counter.reset()
            data = await hub.data(CLOSE, _close(s), token=admin_token(hub, s))
            assert data["closeAcademicYear"]["closures"][0]["promoted"] == pupils
            counts.append(hub.counter.count)
            carried = {row for row in await _halves(session, s) if row[0] == s.this_year.start_year}
            assert len(carried) == (4 if halves else 0)
        # then both cost the same statements: the halves go with the pupils' memberships
        assert counts[0] == counts[1], hub.counter.statements
