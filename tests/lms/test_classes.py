"""Classes (issue 15): a school's classes for a year with their grade's curriculum (S1), their
pupils through open enrollments at that school and grade (held by the database), at most 36 a
class unless the school's policy says otherwise (F5), and their teachers."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import ClassGroup, ClassMembership, Enrollment, LmsPolicy
from resolvers.access import Role
from resolvers.clock import today
from resolvers.mutations import constraint_of
from tests.conftest import Hub
from tests.factories import (
    gid,
    make_academic_year,
    make_class_group,
    make_enrollment,
    make_institution,
    make_person,
    make_staff_position,
    school_year_of,
)
from tests.lms.arrange import admin_token, arrange_school

CREATE_CLASS = """mutation($input: CreateClassGroupInput!) {
  createClassGroup(input: $input) {
    classGroup { id name grade curriculumModel capacity subjects { subject { code } weeklyHours } }
    userErrors { field code message }
  }
}"""
ASSIGN = """mutation($input: AssignPupilsToClassInput!) {
  assignPupilsToClass(input: $input) {
    classGroup { id pupilCount pupils { id } }
    userErrors { field code message }
  }
}"""
ASSIGN_TEACHER = """mutation($input: AssignTeacherInput!) {
  assignTeacher(input: $input) {
    classGroup { teachers { subject { code } teacher { id } } }
    userErrors { field code message }
  }
}"""


async def _school_and_year(session: AsyncSession) -> tuple[int, int, int]:
    school = await make_institution(session)
    year = await make_academic_year(session, start_year=school_year_of(today()))
    await session.commit()
    return school.id, year.id, year.start_year


def _class_input(school: int, year: int, **more: object) -> dict[str, object]:
    return {
        "schoolId": gid("Institution", school),
        "academicYearId": gid("AcademicYear", year),
        "grade": 1,
        "letter": "а",
        "language": "KY",
        **more,
    }


class TestCreateClassGroup:
    async def test_a_first_grade_class_learns_the_twelve_year_curriculum(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a school and this school year
        school, year, _ = await _school_and_year(session)
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school}"])

        # when its administration opens 1А
        data = await hub.data(CREATE_CLASS, {"input": _class_input(school, year)}, token=token)

        # then (S1) a cohort entering from 2025 learns under the 12-year standard, with the
        # plan's subjects and hours, and holds 36 pupils (F5)
        klass = data["createClassGroup"]["classGroup"]
        assert (klass["name"], klass["curriculumModel"], klass["capacity"]) == (
            "1А",
            "TWELVE_YEAR",
            36,
        )
        hours = {s["subject"]["code"]: s["weeklyHours"] for s in klass["subjects"]}
        assert hours["mathematics"] == "4.0"
        assert sum(float(h) for h in hours.values()) == 20

    async def test_an_older_cohort_stays_on_the_eleven_year_model(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        school, year, start = await _school_and_year(session)
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school}"])
        grade = start - 2024 + 1  # the cohort that entered grade 1 in 2024
        data = await hub.data(
            CREATE_CLASS, {"input": _class_input(school, year, grade=grade)}, token=token
        )
        assert data["createClassGroup"]["classGroup"]["curriculumModel"] == "ELEVEN_YEAR"
        # and the 11-year model has no 12th grade
        data = await hub.data(
            CREATE_CLASS, {"input": _class_input(school, year, grade=12)}, token=token
        )
        assert data["createClassGroup"]["userErrors"][0]["code"] == "INVALID_GRADE"

    @pytest.mark.parametrize(
        ("change", "code", "field"),
        [
            ({"language": "UZ"}, "LANGUAGE_NOT_TAUGHT", "language"),
            ({"letter": "5!"}, "INVALID_INPUT", "letter"),
            ({"capacity": 40}, "CLASS_SIZE_EXCEEDED", "capacity"),
            ({"shift": 4}, "INVALID_INPUT", "shift"),
        ],
    )
    async def test_a_bad_class_is_refused(
        self,
        hub: Hub,
        session: AsyncSession,
        change: dict[str, object],
        code: str,
        field: str,
    ) -> None:
        school, year, _ = await _school_and_year(session)
        before = await session.scalar(select(func.count()).select_from(ClassGroup))
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school}"])
        data = await hub.data(
            CREATE_CLASS, {"input": _class_input(school, year, **change)}, token=token
        )
        error = data["createClassGroup"]["userErrors"][0]
        assert (error["code"], error["field"]) == (code, field)
        assert data["createClassGroup"]["classGroup"] is None
        assert await session.scalar(select(func.count()).select_from(ClassGroup)) == before

    async def test_the_same_class_twice_is_refused(self, hub: Hub, session: AsyncSession) -> None:
        school, year, _ = await _school_and_year(session)
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school}"])
        await hub.data(CREATE_CLASS, {"input": _class_input(school, year)}, token=token)
        data = await hub.data(CREATE_CLASS, {"input": _class_input(school, year)}, token=token)
        assert data["createClassGroup"]["userErrors"][0]["code"] == "CLASS_EXISTS"

    async def test_another_schools_administration_may_not(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        school, year, _ = await _school_and_year(session)
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school + 1000}"])
        data = await hub.data(CREATE_CLASS, {"input": _class_input(school, year)}, token=token)
        assert data["createClassGroup"]["userErrors"][0]["code"] == "FORBIDDEN"

    async def test_the_homeroom_teacher_must_work_at_the_school(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        school, year, _ = await _school_and_year(session)
        outsider = await make_person(session, birth_date=date(1980, 1, 1))
        await session.commit()
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school}"])
        data = await hub.data(
            CREATE_CLASS,
            {"input": _class_input(school, year, homeroomTeacherId=gid("Person", outsider.id))},
            token=token,
        )
        assert data["createClassGroup"]["userErrors"][0]["code"] == "NOT_STAFF"


class TestAssignPupilsToClass:
    async def test_pupils_join_and_the_registry_names_their_class(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a class and two pupils enrolled at the school in its grade
        s = await arrange_school(session, pupils=1, in_this_year=True)
        new = [await make_person(session) for _ in range(2)]
        for pupil in new:
            await make_enrollment(session, person=pupil, institution=s.school, grade_level=5)
        await session.commit()

        # when the administration puts them in the class
        ids = [gid("Person", p.id) for p in new]
        data = await hub.data(
            ASSIGN,
            {"input": {"classGroupId": s.class_id, "pupilIds": ids}},
            token=admin_token(hub, s),
        )

        # then they are in it, and the registry's class of their enrollment says 5А
        klass = data["assignPupilsToClass"]["classGroup"]
        assert klass["pupilCount"] == 3
        assert set(ids) <= {p["id"] for p in klass["pupils"]}
        groups = await session.scalars(
            select(Enrollment.class_group).where(Enrollment.person_id.in_([p.id for p in new]))
        )
        assert set(groups) == {"5А"}

    async def test_a_pupil_without_an_open_enrollment_here_is_refused_and_nothing_written(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session, pupils=1, in_this_year=True)
        here = await make_person(session)
        await make_enrollment(session, person=here, institution=s.school, grade_level=5)
        elsewhere = await make_person(session)
        other = await make_institution(session)
        await make_enrollment(session, person=elsewhere, institution=other, grade_level=5)
        await session.commit()

        ids = [gid("Person", here.id), gid("Person", elsewhere.id)]
        errors = (
            await hub.data(
                ASSIGN,
                {"input": {"classGroupId": s.class_id, "pupilIds": ids}},
                token=admin_token(hub, s),
            )
        )["assignPupilsToClass"]["userErrors"]

        assert [(e["code"], e["field"]) for e in errors] == [("NOT_ENROLLED", "pupilIds[1]")]
        members = await session.scalar(
            select(ClassMembership.id).where(ClassMembership.pupil_id == here.id)
        )
        assert members is None

    async def test_a_pupil_of_another_grade_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session, pupils=1, in_this_year=True)
        sixth = await make_person(session)
        await make_enrollment(session, person=sixth, institution=s.school, grade_level=6)
        await session.commit()
        errors = (
            await hub.data(
                ASSIGN,
                {"input": {"classGroupId": s.class_id, "pupilIds": [gid("Person", sixth.id)]}},
                token=admin_token(hub, s),
            )
        )["assignPupilsToClass"]["userErrors"]
        assert errors[0]["code"] == "INVALID_GRADE"

    async def test_a_class_never_holds_more_than_its_size(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a class of capacity 3 with 2 pupils (F5's limit, lowered for the test)
        s = await arrange_school(session, pupils=2, in_this_year=True)
        s.klass.capacity = 3
        new = [await make_person(session) for _ in range(2)]
        for pupil in new:
            await make_enrollment(session, person=pupil, institution=s.school, grade_level=5)
        await session.commit()

        # when two more are put in
        errors = (
            await hub.data(
                ASSIGN,
                {
                    "input": {
                        "classGroupId": s.class_id,
                        "pupilIds": [gid("Person", p.id) for p in new],
                    }
                },
                token=admin_token(hub, s),
            )
        )["assignPupilsToClass"]["userErrors"]

        # then it is refused whole
        assert errors[0]["code"] == "CLASS_SIZE_EXCEEDED"
        await session.refresh(s.klass)
        assert s.klass.pupil_count == 2

    async def test_the_schools_policy_row_may_allow_larger_classes(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        school, year, _ = await _school_and_year(session)
        session.add(
            LmsPolicy(
                institution_id=school,
                twelve_year_from=2025,
                basic_only=False,
                max_class_size=40,
                school_days=5,
                min_marks_for_result=3,
                concern_reports_per_day=3,
            )
        )
        await session.commit()
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school}"])
        data = await hub.data(
            CREATE_CLASS, {"input": _class_input(school, year, capacity=40)}, token=token
        )
        assert data["createClassGroup"]["classGroup"]["capacity"] == 40

    async def test_a_pupil_moves_from_another_class(self, hub: Hub, session: AsyncSession) -> None:
        s = await arrange_school(session, pupils=2, in_this_year=True)
        other = await make_class_group(session, school=s.school, year=s.this_year, letter="Б")
        await session.commit()
        moving = s.pupils[1]
        data = await hub.data(
            ASSIGN,
            {
                "input": {
                    "classGroupId": gid("ClassGroup", other.id),
                    "pupilIds": [gid("Person", moving.id)],
                }
            },
            token=admin_token(hub, s),
        )
        assert data["assignPupilsToClass"]["classGroup"]["pupilCount"] == 1
        await session.refresh(s.klass)
        assert s.klass.pupil_count == 1
        current = await session.scalars(
            select(ClassMembership.class_group_id).where(
                ClassMembership.pupil_id == moving.id, ClassMembership.until.is_(None)
            )
        )
        assert list(current) == [other.id]

    async def test_two_assignments_racing_for_the_last_place_only_one_wins(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a class with one free place and two pupils waiting for it
        s = await arrange_school(session, pupils=1, in_this_year=True)
        s.klass.capacity = 2
        rivals = [await make_person(session) for _ in range(2)]
        for pupil in rivals:
            await make_enrollment(session, person=pupil, institution=s.school, grade_level=5)
        await session.commit()
        token = admin_token(hub, s)

        # when both are assigned at once, in concurrent transactions
        answers = await asyncio.gather(
            *[
                hub.data(
                    ASSIGN,
                    {"input": {"classGroupId": s.class_id, "pupilIds": [gid("Person", p.id)]}},
                    token=token,
                )
                for p in rivals
            ]
        )

        # then exactly one got the place
        codes = sorted(
            [e["code"] for e in a["assignPupilsToClass"]["userErrors"]] or ["OK"] for a in answers
        )
        assert codes == [["CLASS_SIZE_EXCEEDED"], ["OK"]]
        await session.refresh(s.klass)
        assert s.klass.pupil_count == 2


class TestTheDatabaseHoldsMembership:
    """The rules hold whoever writes: issue 15 asks the database, not Python, to hold them."""

    async def test_no_membership_through_an_ended_enrollment(self, session: AsyncSession) -> None:
        s = await arrange_school(session, pupils=1, in_this_year=True)
        other = await make_class_group(session, school=s.school, year=s.this_year, letter="Б")
        left = await make_person(session)
        ended = await make_enrollment(
            session, person=left, institution=s.school, grade_level=5, exit_date=date(2026, 10, 1)
        )
        await session.commit()
        session.add(
            ClassMembership(
                class_group_id=other.id, enrollment_id=ended.id, pupil_id=left.id,
                institution_id=s.school.id, academic_year_id=s.this_year.id, grade=5,
                since=s.this_year.starts_on,
            )
        )  # fmt: skip
        with pytest.raises(IntegrityError) as refused:
            await session.flush()
        assert constraint_of(refused.value) == "ck_class_membership_open_enrollment"

    async def test_no_membership_in_a_class_of_another_grade(self, session: AsyncSession) -> None:
        s = await arrange_school(session, pupils=1, in_this_year=True)
        sixth = await make_class_group(session, school=s.school, year=s.this_year, grade=6)
        fifth = await make_person(session)
        enrollment = await make_enrollment(
            session, person=fifth, institution=s.school, grade_level=5
        )
        await session.commit()
        # the pupil's enrollment is in grade 5: the foreign key on (school, grade) refuses it
        session.add(
            ClassMembership(
                class_group_id=sixth.id, enrollment_id=enrollment.id,
                pupil_id=fifth.id, institution_id=s.school.id,
                academic_year_id=s.this_year.id, grade=6, since=s.this_year.starts_on,
            )
        )  # fmt: skip
        with pytest.raises(IntegrityError) as refused:
            await session.flush()
        assert constraint_of(refused.value) == "fk_class_membership_enrollment_at_school_and_grade"

    async def test_concurrent_inserts_never_overfill_a_class(
        self, engine: AsyncEngine, session: AsyncSession
    ) -> None:
        # given a class with one free place, and two pupils inserted by two transactions at
        # once (bypassing the workflow)
        s = await arrange_school(session, pupils=1, in_this_year=True)
        s.klass.capacity = 2
        rivals = []
        for _ in range(2):
            pupil = await make_person(session)
            rivals.append(
                (
                    pupil,
                    await make_enrollment(
                        session, person=pupil, institution=s.school, grade_level=5
                    ),
                )
            )
        await session.commit()

        async def insert(pupil_id: int, enrollment_id: int) -> str:
            async with engine.connect() as conn:
                try:
                    await conn.execute(
                        text(
                            "INSERT INTO class_membership (class_group_id, enrollment_id, pupil_id,"
                            " institution_id, academic_year_id, grade, since)"
                            " VALUES (:c, :e, :p, :i, :y, 5, :s)"
                        ),
                        {"c": s.klass.id, "e": enrollment_id, "p": pupil_id, "i": s.school.id,
                         "y": s.this_year.id, "s": s.this_year.starts_on},
                    )  # fmt: skip
                    await asyncio.sleep(0.2)
                    await conn.commit()
                    return "ok"
                except IntegrityError as err:
                    return "full" if constraint_of(err) == "ck_class_group_size" else str(err)

        # when both commit
        outcomes = await asyncio.gather(*[insert(p.id, e.id) for p, e in rivals])

        # then the CHECK on the count let one in
        assert sorted(outcomes) == ["full", "ok"]

    async def test_a_withdrawn_pupil_leaves_their_class_the_same_day(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        s = await arrange_school(session, pupils=2, in_this_year=True)
        withdraw = """mutation($id: ID!) { withdrawStudent(input: {enrollmentId: $id,
          date: "2026-11-20", reason: WITHDRAWN}) { userErrors { code } } }"""
        await hub.data(withdraw, {"id": gid("Enrollment", s.enrollments[1].id)}, token=ministry)
        membership = await session.scalar(
            select(ClassMembership).where(ClassMembership.pupil_id == s.pupils[1].id)
        )
        assert membership is not None
        assert membership.until == date(2026, 11, 20)
        await session.refresh(s.klass)
        assert s.klass.pupil_count == 1


class TestAssignTeacher:
    async def test_a_staff_member_becomes_a_subjects_teacher(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session, pupils=1, in_this_year=True)
        physicist = await make_person(session, birth_date=date(1979, 5, 5))
        await make_staff_position(session, person=physicist, institution=s.school)
        await session.commit()
        variables = {
            "input": {
                "classGroupId": s.class_id,
                "subjectId": gid("Subject", await _subject(session, "mathematics")),
                "teacherId": gid("Person", physicist.id),
            }
        }
        data = await hub.data(ASSIGN_TEACHER, variables, token=admin_token(hub, s))
        teachers = data["assignTeacher"]["classGroup"]["teachers"]
        assert {
            "subject": {"code": "mathematics"},
            "teacher": {"id": gid("Person", physicist.id)},
        } in teachers
        # assigning again changes nothing
        again = await hub.data(ASSIGN_TEACHER, variables, token=admin_token(hub, s))
        assert again["assignTeacher"]["classGroup"]["teachers"] == teachers

    @pytest.mark.parametrize(
        ("subject", "staff", "code"),
        [
            ("chemistry", True, "SUBJECT_NOT_IN_CURRICULUM"),  # grade 5 learns no chemistry
            ("mathematics", False, "NOT_STAFF"),
        ],
    )
    async def test_refused_outside_the_curriculum_or_the_staff(
        self, hub: Hub, session: AsyncSession, subject: str, staff: bool, code: str
    ) -> None:
        s = await arrange_school(session, pupils=1, in_this_year=True)
        person = await make_person(session, birth_date=date(1979, 5, 5))
        if staff:
            await make_staff_position(session, person=person, institution=s.school)
        await session.commit()
        data = await hub.data(
            ASSIGN_TEACHER,
            {
                "input": {
                    "classGroupId": s.class_id,
                    "subjectId": gid("Subject", await _subject(session, subject)),
                    "teacherId": gid("Person", person.id),
                }
            },
            token=admin_token(hub, s),
        )
        assert data["assignTeacher"]["userErrors"][0]["code"] == code


async def _subject(session: AsyncSession, code: str) -> int:
    from tests.factories import subject_id

    return await subject_id(session, code)
