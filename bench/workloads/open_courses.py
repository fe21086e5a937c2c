"""The open education portal (portals/open-courses): universities' course teams offer courses,
schedule runs, record results and issue certificates; students enroll and read their courses;
their own university recognises the credits; anyone checks a certificate.

Preparers write new state universities licensed for higher education with a course and an
open run (content_state), and enroll the dataset's people as their students."""

from __future__ import annotations

from datetime import timedelta

from bench.workloads import Bench, Call, Workload
from bench.workloads import content_state as state
from bench.workloads.arrange import connect
from resolvers import clock
from resolvers.access import Role
from resolvers.relay import encode_id

PER_UNIVERSITY = 200


def _team(bench: Bench, university: int) -> str:
    return bench.token(Role.CONTENT_EDITOR, scopes=[f"institution:{university}"])


async def open_courses(bench: Bench, n: int) -> list[Call]:
    async with connect(bench) as conn:
        universities = await state.universities(conn, 5)
        await state.courses(conn, universities)
        (person,) = await state.pupils(conn, 1, grade=9)
    return [Call({"first": 20}, bench.token(Role.PUPIL, person_id=person))]


async def open_course(bench: Bench, n: int) -> list[Call]:
    async with connect(bench) as conn:
        universities = await state.universities(conn, min(n, 20))
        pairs = await state.courses(conn, universities)
        (person,) = await state.pupils(conn, 1, grade=9)
    token = bench.token(Role.PUPIL, person_id=person)
    return [Call({"id": encode_id("OpenCourse", course)}, token) for course, _run in pairs]


async def my_courses(bench: Bench, n: int) -> list[Call]:
    async with connect(bench) as conn:
        universities = await state.universities(conn, 3)
        pairs = await state.courses(conn, universities)
        people = await state.students(conn, universities[0], min(n, 50))
        for _course, run in pairs:
            await state.enroll(conn, run, people, scores=(70, 80))
    return [Call({}, bench.token(Role.PUPIL, person_id=p)) for p in people]


async def verify_certificate(bench: Bench, n: int) -> list[Call]:
    async with connect(bench) as conn:
        (university,) = await state.universities(conn, 1)
        ((_course, run),) = await state.courses(conn, [university])
        people = await state.students(conn, university, min(n, 50))
        enrollments = await state.enroll(conn, run, people, scores=(70, 80))
        await conn.execute(
            "UPDATE course_enrollment SET status = 'completed', final_score = 76, "
            "completed_on = $2 WHERE id = ANY($1::int[])",
            enrollments,
            clock.today(),
        )
        rows = await conn.fetch(
            "INSERT INTO course_certificate (number, enrollment_id, issued_on, issued_by) "
            "SELECT 'OC-BENCH-' || $3 || '-' || e, e, $2, 'bench' FROM unnest($1::int[]) e "
            "RETURNING number",
            enrollments,
            clock.today(),
            state.tag(),
        )
    token = bench.token(Role.PUPIL, person_id=people[0])
    return [Call({"number": r["number"]}, token) for r in rows]


async def create_open_course(bench: Bench, n: int) -> list[Call]:
    async with connect(bench) as conn:
        universities = await state.universities(conn, max(1, n // PER_UNIVERSITY + 1))
    label = state.tag()
    calls = []
    for k in range(n):
        university = universities[k % len(universities)]
        calls.append(
            Call(
                {
                    "input": {
                        "institutionId": encode_id("Institution", university),
                        "code": f"B{label}-{k}",
                        "title": "Маалыматтар базасы",
                        "language": "RU",
                        "level": "BACHELOR",
                        "credits": "4",
                        "programmeCode": "HE-COMPUTING",
                        "modules": [
                            {"title": "SQL", "hours": "30"},
                            {"title": "Индексы", "hours": "20"},
                        ],
                        "assessments": [
                            {"title": "Тест", "kind": "QUIZ", "weight": 30},
                            {"title": "Экзамен", "kind": "EXAM", "weight": 70},
                        ],
                    }
                },
                _team(bench, university),
            )
        )
    return calls


async def create_course_run(bench: Bench, n: int) -> list[Call]:
    async with connect(bench) as conn:
        universities = await state.universities(conn, max(1, n // PER_UNIVERSITY + 1))
        pairs = await state.courses(conn, universities)
    today = clock.today()
    calls = []
    for k in range(n):
        course, _run = pairs[k % len(pairs)]
        university = universities[k % len(universities)]
        starts = today + timedelta(days=30 + k % 200)
        calls.append(
            Call(
                {
                    "input": {
                        "courseId": encode_id("OpenCourse", course),
                        "startsOn": str(starts),
                        "endsOn": str(starts + timedelta(days=90)),
                        "enrollmentClosesOn": str(starts),
                        "capacity": 60,
                    }
                },
                _team(bench, university),
            )
        )
    return calls


async def enroll_in_course_run(bench: Bench, n: int) -> list[Call]:
    async with connect(bench) as conn:
        (university,) = await state.universities(conn, 1)
        ((_course, run),) = await state.courses(conn, [university])
        people = await state.students(conn, university, n)
    variables = {"input": {"runId": encode_id("CourseRun", run)}}
    return [Call(variables, bench.token(Role.PUPIL, person_id=p)) for p in people]


async def _enrolled(bench: Bench, n: int, scores: tuple[int, ...]) -> tuple[int, list[int], int]:
    async with connect(bench) as conn:
        (university,) = await state.universities(conn, 1)
        ((course, run),) = await state.courses(conn, [university])
        people = await state.students(conn, university, n)
        enrollments = await state.enroll(conn, run, people, scores=scores)
        assessment = await conn.fetchval(
            "SELECT id FROM course_assessment WHERE course_id = $1 ORDER BY position LIMIT 1",
            course,
        )
    return university, enrollments, assessment


async def record_assessment_result(bench: Bench, n: int) -> list[Call]:
    university, enrollments, assessment = await _enrolled(bench, n, ())
    token = _team(bench, university)
    return [
        Call(
            {
                "input": {
                    "enrollmentId": encode_id("CourseEnrollment", e),
                    "assessmentId": encode_id("CourseAssessment", assessment),
                    "score": "82.5",
                }
            },
            token,
        )
        for e in enrollments
    ]


async def issue_certificate(bench: Bench, n: int) -> list[Call]:
    university, enrollments, _assessment = await _enrolled(bench, n, (70, 90))
    token = _team(bench, university)
    return [
        Call({"input": {"enrollmentId": encode_id("CourseEnrollment", e)}}, token)
        for e in enrollments
    ]


async def recognize_course_credits(bench: Bench, n: int) -> list[Call]:
    university, enrollments, _assessment = await _enrolled(bench, n, (70, 90))
    async with connect(bench) as conn:
        await conn.execute(
            "UPDATE course_enrollment SET status = 'completed', final_score = 82, "
            "completed_on = $2 WHERE id = ANY($1::int[])",
            enrollments,
            clock.today(),
        )
    token = bench.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{university}"])
    return [
        Call({"input": {"enrollmentId": encode_id("CourseEnrollment", e), "credits": "3"}}, token)
        for e in enrollments
    ]


WORKLOADS = [
    Workload("open-courses/OpenCourses", open_courses),
    Workload("open-courses/OpenCourse", open_course),
    Workload("open-courses/MyCourses", my_courses),
    Workload("open-courses/VerifyCertificate", verify_certificate),
    Workload("open-courses/CreateOpenCourse", create_open_course),
    Workload("open-courses/CreateCourseRun", create_course_run),
    Workload("open-courses/EnrollInCourseRun", enroll_in_course_run),
    Workload("open-courses/RecordAssessmentResult", record_assessment_result),
    Workload("open-courses/IssueCertificate", issue_certificate),
    Workload("open-courses/RecognizeCourseCredits", recognize_course_credits),
]
