"""The open education portal (issue 16): courses only from universities licensed for higher
education, runs whose capacity the database holds under concurrent enrollment, students (or
anyone, for open runs), results, certificates only for who completed, a public check by number,
and credits recognised by the student's own university."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    CourseAssessment,
    CourseCertificate,
    CourseEnrollment,
    CourseRun,
    OpenCourse,
    Ownership,
)
from resolvers.access import Role
from tests.conftest import Hub
from tests.content.factories import (
    USER_ERRORS,
    course_team,
    learner,
    make_course,
    make_run,
    make_student,
    make_university,
)
from tests.factories import gid, make_enrollment, make_institution, make_person

CREATE_COURSE = f"""
mutation CreateOpenCourse($input: CreateOpenCourseInput!) {{
  createOpenCourse(input: $input) {{
    course {{ id code title language level credits programmeCode institution {{ id }} modules {{ title }} assessments {{ title weight }} }}
    {USER_ERRORS}
  }}
}}
"""
CREATE_RUN = f"""
mutation CreateCourseRun($input: CreateCourseRunInput!) {{
  createCourseRun(input: $input) {{ run {{ id capacity enrolled placesLeft openToAll }} {USER_ERRORS} }}
}}
"""
ENROLL = f"""
mutation EnrollInCourseRun($input: EnrollInCourseRunInput!) {{
  enrollInCourseRun(input: $input) {{ enrollment {{ id status run {{ enrolled }} }} {USER_ERRORS} }}
}}
"""
RESULT = f"""
mutation RecordAssessmentResult($input: RecordAssessmentResultInput!) {{
  recordAssessmentResult(input: $input) {{ enrollment {{ id results {{ assessmentId score }} }} {USER_ERRORS} }}
}}
"""
ISSUE = f"""
mutation IssueCertificate($input: IssueCertificateInput!) {{
  issueCertificate(input: $input) {{ certificate {{ id number issuedOn }} {USER_ERRORS} }}
}}
"""
VERIFY = """
query VerifyCertificate($number: String!) {
  verifyCertificate(number: $number) {
    number valid issuedOn completedOn finalScore courseCode courseTitle credits institutionName holderInitials
  }
}
"""
RECOGNIZE = f"""
mutation RecognizeCourseCredits($input: RecognizeCourseCreditsInput!) {{
  recognizeCourseCredits(input: $input) {{ enrollment {{ recognisedCredits recognisedBy {{ id }} }} {USER_ERRORS} }}
}}
"""


def course_input(university_id: int, **change: Any) -> dict[str, Any]:
    return {
        "institutionId": gid("Institution", university_id),
        "code": "cs-101",
        "title": "Программалоого киришүү",
        "language": "KY",
        "level": "BACHELOR",
        "credits": "3",
        "programmeCode": "HE-COMPUTING",
        "modules": [{"title": "Python", "hours": "20"}, {"title": "Алгоритмдер", "hours": "25"}],
        "assessments": [
            {"title": "Тест", "kind": "QUIZ", "weight": 40},
            {"title": "Экзамен", "kind": "EXAM", "weight": 60},
        ],
        **change,
    }


async def count(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def codes(result: dict[str, Any]) -> list[str]:
    return [e["code"] for e in result["userErrors"]]


class TestCreateOpenCourse:
    async def test_a_licensed_university_offers_a_course(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        university = await make_university(session)
        await session.commit()
        body = await hub.data(
            CREATE_COURSE,
            {"input": course_input(university.id)},
            token=course_team(hub, university),
        )
        result = body["createOpenCourse"]
        assert result["userErrors"] == []
        course = result["course"]
        assert (course["code"], course["credits"], course["programmeCode"]) == (
            "CS-101",
            "3.0",
            "HE-COMPUTING",
        )
        assert [a["weight"] for a in course["assessments"]] == [40, 60]

    async def test_a_university_without_a_licence_for_higher_education_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a state university with no licence in force
        university = await make_university(session, licensed=False, ownership=Ownership.STATE)
        await session.commit()
        body = await hub.data(
            CREATE_COURSE,
            {"input": course_input(university.id)},
            token=course_team(hub, university),
        )
        assert codes(body["createOpenCourse"]) == ["LICENCE_REQUIRED"]
        assert await count(session, OpenCourse) == 0

    async def test_only_universities_offer_courses(self, hub: Hub, session: AsyncSession) -> None:
        school = await make_institution(session)
        await session.commit()
        body = await hub.data(
            CREATE_COURSE, {"input": course_input(school.id)}, token=course_team(hub, school)
        )
        assert codes(body["createOpenCourse"]) == ["WRONG_INSTITUTION_KIND"]

    async def test_another_universitys_team_may_not_offer_its_courses(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        university, other = await make_university(session), await make_university(session)
        await session.commit()
        body = await hub.data(
            CREATE_COURSE, {"input": course_input(university.id)}, token=course_team(hub, other)
        )
        assert codes(body["createOpenCourse"]) == ["FORBIDDEN"]

    async def test_weights_that_do_not_add_up_and_unknown_programmes_are_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        university = await make_university(session)
        await session.commit()
        token = course_team(hub, university)
        bad_weights = course_input(
            university.id, assessments=[{"title": "Экзамен", "kind": "EXAM", "weight": 90}]
        )
        body = await hub.data(CREATE_COURSE, {"input": bad_weights}, token=token)
        assert codes(body["createOpenCourse"]) == ["INVALID_WEIGHTS"]
        body = await hub.data(
            CREATE_COURSE, {"input": course_input(university.id, programmeCode="NOPE")}, token=token
        )
        assert codes(body["createOpenCourse"]) == ["UNKNOWN_PROGRAMME"]
        assert await count(session, OpenCourse) == 0

    async def test_a_course_code_is_the_universitys_once(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        university = await make_university(session)
        await session.commit()
        token = course_team(hub, university)
        await hub.data(CREATE_COURSE, {"input": course_input(university.id)}, token=token)
        body = await hub.data(CREATE_COURSE, {"input": course_input(university.id)}, token=token)
        assert codes(body["createOpenCourse"]) == ["COURSE_CODE_TAKEN"]


class TestEnrollment:
    async def test_a_student_enrolls_and_the_run_counts_them(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        university = await make_university(session)
        course = await make_course(session, university=university)
        run = await make_run(session, course=course, capacity=10)
        student = await make_student(session, university=university)
        await session.commit()
        body = await hub.data(
            ENROLL, {"input": {"runId": gid("CourseRun", run.id)}}, token=learner(hub, student)
        )
        result = body["enrollInCourseRun"]
        assert result["userErrors"] == []
        assert (result["enrollment"]["status"], result["enrollment"]["run"]["enrolled"]) == (
            "ENROLLED",
            1,
        )
        again = await hub.data(
            ENROLL, {"input": {"runId": gid("CourseRun", run.id)}}, token=learner(hub, student)
        )
        assert codes(again["enrollInCourseRun"]) == ["ALREADY_ENROLLED"]

    async def test_a_run_for_students_refuses_others_and_an_open_run_takes_anyone(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        university = await make_university(session)
        course = await make_course(session, university=university)
        closed = await make_run(session, course=course, open_to_all=False)
        open_run = await make_run(session, course=course, open_to_all=True)
        anyone = await make_person(session)
        await session.commit()
        token = learner(hub, anyone)
        body = await hub.data(
            ENROLL, {"input": {"runId": gid("CourseRun", closed.id)}}, token=token
        )
        assert codes(body["enrollInCourseRun"]) == ["NOT_ELIGIBLE"]
        body = await hub.data(
            ENROLL, {"input": {"runId": gid("CourseRun", open_run.id)}}, token=token
        )
        assert codes(body["enrollInCourseRun"]) == []

    async def test_enrollment_closes_on_its_last_day(self, hub: Hub, session: AsyncSession) -> None:
        university = await make_university(session)
        course = await make_course(session, university=university)
        run = await make_run(session, course=course, open_to_all=True, closes_in_days=-1)
        anyone = await make_person(session)
        await session.commit()
        body = await hub.data(
            ENROLL, {"input": {"runId": gid("CourseRun", run.id)}}, token=learner(hub, anyone)
        )
        assert codes(body["enrollInCourseRun"]) == ["ENROLLMENT_CLOSED"]
        assert await count(session, CourseEnrollment) == 0

    async def test_concurrent_enrollments_never_overfill_a_run(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given an open run with three places and eight people who want one
        university = await make_university(session)
        course = await make_course(session, university=university)
        run = await make_run(session, course=course, capacity=3, open_to_all=True)
        people = [await make_person(session) for _ in range(8)]
        await session.commit()
        # when all of them enroll at the same moment (eight transactions)
        variables = {"input": {"runId": gid("CourseRun", run.id)}}
        results = await asyncio.gather(
            *(hub.data(ENROLL, variables, token=learner(hub, p)) for p in people)
        )
        # then exactly three are in, the others are told the run is full, and the count holds
        outcomes = sorted(
            codes(r["enrollInCourseRun"])[0] if codes(r["enrollInCourseRun"]) else "OK"
            for r in results
        )
        assert outcomes == ["OK"] * 3 + ["RUN_FULL"] * 5
        assert await count(session, CourseEnrollment) == 3
        assert await session.scalar(select(CourseRun.enrolled).where(CourseRun.id == run.id)) == 3


async def enrolled_student(hub: Hub, session: AsyncSession) -> dict[str, Any]:
    university = await make_university(session)
    course = await make_course(session, university=university, weights=(40, 60))
    run = await make_run(session, course=course, pass_mark=60)
    student = await make_person(session, first_name="Айпери", last_name="Токтогулова")
    await make_enrollment(session, person=student, institution=university)
    await session.commit()
    body = await hub.data(
        ENROLL, {"input": {"runId": gid("CourseRun", run.id)}}, token=learner(hub, student)
    )
    enrollment_id = body["enrollInCourseRun"]["enrollment"]["id"]
    assessments = list(
        await session.scalars(
            select(CourseAssessment.id)
            .where(CourseAssessment.course_id == course.id)
            .order_by(CourseAssessment.position)
        )
    )
    return {
        "university": university,
        "enrollment": enrollment_id,
        "assessments": [gid("CourseAssessment", a) for a in assessments],
        "team": course_team(hub, university),
    }


class TestCertificates:
    async def test_a_certificate_is_issued_for_a_completed_course_and_checked_by_anyone(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a student with results of 50 (weight 40) and 80 (weight 60): 68 over a pass mark of 60
        arranged = await enrolled_student(hub, session)
        for assessment, score in zip(arranged["assessments"], ("50", "80"), strict=True):
            body = await hub.data(
                RESULT,
                {
                    "input": {
                        "enrollmentId": arranged["enrollment"],
                        "assessmentId": assessment,
                        "score": score,
                    }
                },
                token=arranged["team"],
            )
            assert body["recordAssessmentResult"]["userErrors"] == []
        # when the course team issues the certificate
        body = await hub.data(
            ISSUE, {"input": {"enrollmentId": arranged["enrollment"]}}, token=arranged["team"]
        )
        certificate = body["issueCertificate"]["certificate"]
        assert certificate["number"].startswith("OC-")
        # then anyone can check it by its number: public facts and the holder's initials only
        check = (await hub.data(VERIFY, {"number": certificate["number"].lower()}))[
            "verifyCertificate"
        ]
        assert check["valid"] is True
        assert (check["finalScore"], check["credits"], check["holderInitials"]) == (
            "68.00",
            "3.0",
            "А. Т.",
        )
        assert check["institutionName"] == arranged["university"].name
        assert (await hub.data(VERIFY, {"number": "OC-2026-NOSUCHNUMB"}))[
            "verifyCertificate"
        ] is None

    async def test_no_certificate_for_someone_who_did_not_complete(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        arranged = await enrolled_student(hub, session)
        # a missing required result
        body = await hub.data(
            ISSUE, {"input": {"enrollmentId": arranged["enrollment"]}}, token=arranged["team"]
        )
        assert codes(body["issueCertificate"]) == ["NOT_COMPLETED"]
        # results below the pass mark: 40*0.3 + 60*0.5 = 42 < 60
        for assessment, score in zip(arranged["assessments"], ("30", "50"), strict=True):
            await hub.data(
                RESULT,
                {
                    "input": {
                        "enrollmentId": arranged["enrollment"],
                        "assessmentId": assessment,
                        "score": score,
                    }
                },
                token=arranged["team"],
            )
        body = await hub.data(
            ISSUE, {"input": {"enrollmentId": arranged["enrollment"]}}, token=arranged["team"]
        )
        assert codes(body["issueCertificate"]) == ["NOT_COMPLETED"]
        assert await count(session, CourseCertificate) == 0

    async def test_two_certificates_issued_at_once_make_one(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        arranged = await enrolled_student(hub, session)
        for assessment in arranged["assessments"]:
            await hub.data(
                RESULT,
                {
                    "input": {
                        "enrollmentId": arranged["enrollment"],
                        "assessmentId": assessment,
                        "score": "90",
                    }
                },
                token=arranged["team"],
            )
        variables = {"input": {"enrollmentId": arranged["enrollment"]}}
        results = await asyncio.gather(
            *(hub.data(ISSUE, variables, token=arranged["team"]) for _ in range(2))
        )
        assert sorted(
            codes(r["issueCertificate"])[0] if codes(r["issueCertificate"]) else "OK"
            for r in results
        ) == [
            "CERTIFICATE_EXISTS",
            "OK",
        ]
        assert await count(session, CourseCertificate) == 1

    async def test_the_students_own_university_recognises_the_credits(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        arranged = await enrolled_student(hub, session)
        for assessment in arranged["assessments"]:
            await hub.data(
                RESULT,
                {
                    "input": {
                        "enrollmentId": arranged["enrollment"],
                        "assessmentId": assessment,
                        "score": "90",
                    }
                },
                token=arranged["team"],
            )
        await hub.data(
            ISSUE, {"input": {"enrollmentId": arranged["enrollment"]}}, token=arranged["team"]
        )
        other = await make_university(session)
        await session.commit()
        outsider = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{other.id}"])
        body = await hub.data(
            RECOGNIZE,
            {"input": {"enrollmentId": arranged["enrollment"], "credits": "3"}},
            token=outsider,
        )
        assert codes(body["recognizeCourseCredits"]) == ["FORBIDDEN"]
        own = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{arranged['university'].id}"])
        body = await hub.data(
            RECOGNIZE,
            {"input": {"enrollmentId": arranged["enrollment"], "credits": "4"}},
            token=own,
        )
        assert codes(body["recognizeCourseCredits"]) == ["CREDITS_EXCEED_COURSE"]
        body = await hub.data(
            RECOGNIZE,
            {"input": {"enrollmentId": arranged["enrollment"], "credits": "3"}},
            token=own,
        )
        result = body["recognizeCourseCredits"]
        assert result["userErrors"] == []
        assert result["enrollment"]["recognisedCredits"] == "3.0"
        assert Decimal(result["enrollment"]["recognisedCredits"]) == Decimal(3)
