"""The four content portals' operations cost a fixed number of SQL statements: each query the
same however many lessons, files, runs or enrollments it returns, each mutation as pinned here
(issue 16: "statement counts pinned for every portal operation")."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from graphql import OperationDefinitionNode, OperationType, parse
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    CourseEnrollment,
    Institution,
    LessonProgress,
    LessonStatus,
    MediaKind,
    Person,
    ProgressStatus,
)
from resolvers.access import Role
from tests.conftest import Hub
from tests.content.factories import (
    course_team,
    editor,
    learner,
    make_course,
    make_lesson,
    make_media,
    make_pupil,
    make_question,
    make_run,
    make_student,
    make_unit,
    make_university,
    video_bytes,
)
from tests.factories import gid

PORTALS = Path(__file__).resolve().parents[2] / "portals"
FOLDERS = ("sanarip-sabak", "primary-1-4", "school-5-9", "open-courses")
DOCUMENTS = sorted(p for folder in FOLDERS for p in (PORTALS / folder).glob("*.graphql"))
TEXT = {p: p.read_text() for p in DOCUMENTS}


def _operation(path: Path) -> OperationDefinitionNode:
    return next(d for d in parse(TEXT[path]).definitions if isinstance(d, OperationDefinitionNode))


def _name(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


WARM_UP = '{ lessons(first: 1, filter: {subject: "mathematics"}) { totalCount } }'
QUERIES = [p for p in DOCUMENTS if _operation(p).operation == OperationType.QUERY]
MUTATIONS = [p for p in DOCUMENTS if _operation(p).operation == OperationType.MUTATION]

# The statements each query sends, whatever the number of rows. The lesson lists read the lesson
# list's version first (a kept answer, asked again, sends that one only: schema/http/kept.py).
QUERY_STATEMENTS = {
    "sanarip-sabak/Lessons": 4,
    "sanarip-sabak/LessonSearch": 1,
    "sanarip-sabak/Lesson": 8,
    "sanarip-sabak/Subjects": 1,
    "sanarip-sabak/CurriculumUnits": 2,
    "sanarip-sabak/OfflinePack": 3,
    "sanarip-sabak/MyLearning": 5,
    "sanarip-sabak/LessonsForReview": 4,
    "primary-1-4/Lessons": 4,
    "primary-1-4/LessonSearch": 1,
    "school-5-9/Lessons": 4,
    "school-5-9/LessonSearch": 1,
    "open-courses/OpenCourses": 4,
    "open-courses/OpenCourse": 5,
    "open-courses/MyCourses": 8,
    "open-courses/VerifyCertificate": 1,
}
# The statements each query sends on the compiled path (the default; the figures above are the
# resolvers', which a shape the compiled path does not know falls back to). The anonymous
# lesson lists read the lesson list's version first (a kept answer's check).
COMPILED_QUERY_STATEMENTS = {
    **QUERY_STATEMENTS,
    "sanarip-sabak/Lessons": 2,
    "sanarip-sabak/Lesson": 1,  # schema/compiled/content.py
    "sanarip-sabak/CurriculumUnits": 1,  # schema/compiled/content.py
    "sanarip-sabak/MyLearning": 1,  # schema/compiled/feed.py
    "sanarip-sabak/LessonsForReview": 1,  # schema/compiled/content.py
    "primary-1-4/Lessons": 2,
    "school-5-9/Lessons": 2,
    # schema/compiled/open_courses.py (issue 21)
    "open-courses/OpenCourses": 1,
    "open-courses/OpenCourse": 1,
    "open-courses/MyCourses": 1,
}
# The statements each mutation sends (its savepoint, audit row and events included).
MUTATION_STATEMENTS = {
    "sanarip-sabak/ImportCurriculum": 6,
    "sanarip-sabak/CreateLesson": 8,
    "sanarip-sabak/UploadLessonMedia": 10,
    "sanarip-sabak/SetLessonQuiz": 10,
    "sanarip-sabak/SubmitLessonForReview": 9,
    "sanarip-sabak/PublishLesson": 9,
    "sanarip-sabak/RecordLessonProgress": 8,
    "sanarip-sabak/SyncLessonProgress": 7,
    "open-courses/CreateOpenCourse": 9,
    "open-courses/CreateCourseRun": 8,
    "open-courses/EnrollInCourseRun": 8,
    "open-courses/RecordAssessmentResult": 9,
    "open-courses/IssueCertificate": 10,
    "open-courses/RecognizeCourseCredits": 10,
}


def test_every_content_portal_operation_has_its_statements_pinned() -> None:
    assert {_name(p) for p in QUERIES} == set(QUERY_STATEMENTS)
    assert {_name(p) for p in MUTATIONS} == set(MUTATION_STATEMENTS)


class World:
    """A pupil in grade 6 of a Kyrgyz school with lessons, files, quizzes and progress; a
    university with a course, runs, a student with results and a certificate."""

    pupil: Person
    student: Person
    university: Institution
    lesson_id: str
    course_id: str
    certificate: str


async def arrange(session: AsyncSession, world: World | None, units: int) -> World:
    world = world or World()
    created = []
    for n in range(units):
        unit = await make_unit(session, grade=6, term=1)
        lesson = await make_lesson(session, unit=unit, title=f"Бөлчөктөр {n}")
        created.append(lesson)
        await make_lesson(
            session, unit=unit, title=f"Review {n}", position=2, status=LessonStatus.IN_REVIEW
        )
        for rendition in ("240p", "480p"):
            await make_media(session, lesson=lesson, rendition=rendition)
        await make_media(
            session, lesson=lesson, kind=MediaKind.SUBTITLES, rendition="ky", media_type="text/vtt"
        )
        await make_question(session, lesson=lesson)
        grade2 = await make_unit(session, grade=2, term=1)
        await make_lesson(session, unit=grade2, title=f"Сабат {n}")
    if not hasattr(world, "pupil"):
        world.pupil, _school = await make_pupil(session, grade=6, languages=["ky"])
        world.university = await make_university(session)
        world.student = await make_student(session, university=world.university)
    for lesson_row in created:
        session.add(
            LessonProgress(
                learner_id=world.pupil.id,
                lesson_id=lesson_row.id,
                status=ProgressStatus.COMPLETED,
                started_at=datetime.now(UTC),
                completed_at=datetime.now(UTC),
            )
        )
    course = await make_course(session, university=world.university)
    for _ in range(units):
        run = await make_run(session, course=course)
        session.add(CourseEnrollment(run_id=run.id, person_id=world.student.id))
    await session.commit()
    world.lesson_id = gid("Lesson", lesson.id)
    world.course_id = gid("OpenCourse", course.id)
    return world


def _query_call(name: str, world: World, hub: Hub) -> tuple[dict[str, Any], str | None]:
    anonymous: str | None = None
    pupil = learner(hub, world.pupil)
    calls: dict[str, tuple[dict[str, Any], str | None]] = {
        "Lessons": (
            {
                "grade": 6 if "primary" not in name else 2,
                "subject": "mathematics",
                "language": "KY",
                "first": 50,
            },
            anonymous,
        ),
        "LessonSearch": ({"query": "бөлчөк сабат"}, anonymous),
        "Lesson": ({"id": world.lesson_id}, pupil),
        "Subjects": ({}, anonymous),
        "CurriculumUnits": ({"grade": 6, "subject": "mathematics", "first": 100}, anonymous),
        "OfflinePack": (
            {"grade": 6, "subject": "mathematics", "language": "KY", "term": 1},
            anonymous,
        ),
        "MyLearning": ({}, pupil),
        "LessonsForReview": ({}, editor(hub)),
        "OpenCourses": ({"first": 50}, anonymous),
        "OpenCourse": ({"id": world.course_id}, anonymous),
        "MyCourses": ({}, learner(hub, world.student)),
        "VerifyCertificate": ({"number": "OC-2026-0000000000"}, anonymous),
    }
    return calls[name.split("/")[1]]


@pytest.mark.parametrize("compiled", [False, True], ids=["resolvers", "compiled"])
@pytest.mark.parametrize("path", QUERIES, ids=_name)
async def test_portal_query_statement_count_does_not_grow_with_rows(
    path: Path, compiled: bool, hub: Hub, resolver_hub: Hub, session: AsyncSession
) -> None:
    pinned = COMPILED_QUERY_STATEMENTS if compiled else QUERY_STATEMENTS
    hub = hub if compiled else resolver_hub
    name = _name(path)
    world = await arrange(session, None, 1)
    await hub.data(WARM_UP)  # subject codes are read once per process

    async def statements() -> int:
        variables, token = _query_call(name, world, hub)
        hub.counter.reset()
        body = await hub.gql(TEXT[path], variables, token=token)
        assert "errors" not in body, body
        return hub.counter.count

    # given a little, then much more data, when the portal sends its query
    few = await statements()
    await arrange(session, world, 6)
    many = await statements()
    # then it costs the same statements, the number pinned
    assert few == many, hub.counter.statements
    assert many == pinned[name], hub.counter.statements


async def _multipart(
    hub: Hub, token: str, query: str, variables: dict[str, Any], content: bytes, kind: str
) -> dict[str, Any]:
    operations = orjson.dumps({"query": query, "variables": {"input": {**variables, "file": None}}})
    response = await hub.client.post(
        "/graphql",
        data={"operations": operations.decode(), "map": '{"0": ["variables.input.file"]}'},
        files={"0": ("file", content, kind)},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == httpx.codes.OK, response.text
    body: dict[str, Any] = response.json()
    return body


async def _mutation_call(name: str, hub: Hub, session: AsyncSession) -> dict[str, Any]:
    """Arrange what the mutation acts on, then send it once; its answer."""
    short = name.split("/")[1]
    text = TEXT[PORTALS / f"{name}.graphql"]
    when = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    if short == "ImportCurriculum":
        csv = b"standard,subject,grade,term,unit,unit_title,topic,topic_title,outcomes,hours,languages\n"
        csv += "12,MATHEMATICS,6,1,1,Бөлчөктөр,1,Кошуу,Кошот,2,ky;ru\n".encode()
        return await _multipart(hub, editor(hub), text, {}, csv, "text/csv")
    if short == "UploadLessonMedia":
        lesson = await make_lesson(session, status=LessonStatus.DRAFT)
        await session.commit()
        variables = {
            "lessonId": gid("Lesson", lesson.id),
            "kind": "VIDEO",
            "rendition": "240p",
            "bitrateKbps": 300,
        }
        return await _multipart(hub, editor(hub), text, variables, video_bytes(), "video/mp4")
    token, variables = await _mutation_input(short, hub, session, when)
    hub.counter.reset()
    return await hub.gql(text, {"input": variables}, token=token)


async def _mutation_input(
    short: str, hub: Hub, session: AsyncSession, when: str
) -> tuple[str, dict[str, Any]]:
    if short == "CreateLesson":
        unit = await make_unit(session)
        await session.commit()
        return editor(hub), {
            "unitId": gid("CurriculumUnit", unit.id),
            "language": "KY",
            "title": "Жаңы сабак",
        }
    if short in ("SubmitLessonForReview", "PublishLesson", "SetLessonQuiz"):
        status = LessonStatus.IN_REVIEW if short == "PublishLesson" else LessonStatus.DRAFT
        lesson = await make_lesson(session, status=status)
        await session.commit()
        variables: dict[str, Any] = {"lessonId": gid("Lesson", lesson.id)}
        if short == "SetLessonQuiz":
            variables["questions"] = [
                {
                    "kind": "SINGLE_CHOICE",
                    "prompt": "?",
                    "choices": ["a", "b"],
                    "correctChoices": [0],
                },
                {"kind": "NUMERIC", "prompt": "1+1", "numericAnswer": "2"},
            ]
        return editor(hub), variables
    if short in ("RecordLessonProgress", "SyncLessonProgress"):
        pupil, _school = await make_pupil(session)
        lesson = await make_lesson(session)
        question = await make_question(session, lesson=lesson)
        await session.commit()
        statement = {
            "statementId": str(uuid.uuid4()),
            "lessonId": gid("Lesson", lesson.id),
            "verb": "COMPLETED",
            "occurredAt": when,
            "answers": [{"questionId": gid("QuizQuestion", question.id), "choices": [1]}],
        }
        if short == "RecordLessonProgress":
            return learner(hub, pupil), statement
        more = [{**statement, "statementId": str(uuid.uuid4()), "verb": "STARTED", "answers": None}]
        return learner(hub, pupil), {"statements": [statement, *more]}
    university = await make_university(session)
    team = course_team(hub, university)
    if short == "CreateOpenCourse":
        await session.commit()
        return team, {
            "institutionId": gid("Institution", university.id),
            "code": "MATH-1",
            "title": "Математика",
            "language": "KY",
            "level": "BACHELOR",
            "credits": "2",
            "programmeCode": "HE-COMPUTING",
            "modules": [{"title": "1", "hours": "4"}],
            "assessments": [{"title": "Экзамен", "kind": "EXAM", "weight": 100}],
        }
    course = await make_course(session, university=university, weights=(100,))
    if short == "CreateCourseRun":
        await session.commit()
        today = datetime.now(UTC).date()
        return team, {
            "courseId": gid("OpenCourse", course.id),
            "startsOn": str(today + timedelta(days=10)),
            "endsOn": str(today + timedelta(days=70)),
            "enrollmentClosesOn": str(today + timedelta(days=10)),
            "capacity": 40,
        }
    run = await make_run(session, course=course)
    student = await make_student(session, university=university)
    if short == "EnrollInCourseRun":
        await session.commit()
        return learner(hub, student), {"runId": gid("CourseRun", run.id)}
    from models import CourseAssessment, CourseEnrollment, CourseRun

    enrollment = CourseEnrollment(run_id=run.id, person_id=student.id)
    session.add(enrollment)
    await session.flush()
    from sqlalchemy import select, update

    await session.execute(update(CourseRun).where(CourseRun.id == run.id).values(enrolled=1))
    assessment = await session.scalar(
        select(CourseAssessment.id).where(CourseAssessment.course_id == course.id)
    )
    assert assessment is not None
    await session.commit()
    enrollment_id = gid("CourseEnrollment", enrollment.id)
    if short == "RecordAssessmentResult":
        return team, {
            "enrollmentId": enrollment_id,
            "assessmentId": gid("CourseAssessment", assessment),
            "score": "75",
        }
    result = await hub.data(
        TEXT[PORTALS / "open-courses/RecordAssessmentResult.graphql"],
        {
            "input": {
                "enrollmentId": enrollment_id,
                "assessmentId": gid("CourseAssessment", assessment),
                "score": "90",
            }
        },
        token=team,
    )
    assert result["recordAssessmentResult"]["userErrors"] == []
    if short == "IssueCertificate":
        return team, {"enrollmentId": enrollment_id}
    issued = await hub.data(
        TEXT[PORTALS / "open-courses/IssueCertificate.graphql"],
        {"input": {"enrollmentId": enrollment_id}},
        token=team,
    )
    assert issued["issueCertificate"]["userErrors"] == []
    own = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{university.id}"])
    return own, {"enrollmentId": enrollment_id, "credits": "3"}


@pytest.mark.parametrize("path", MUTATIONS, ids=_name)
async def test_portal_mutation_statement_count_is_pinned(
    path: Path, resolver_hub: Hub, session: AsyncSession
) -> None:
    hub = resolver_hub
    await hub.data(WARM_UP)
    name = _name(path)
    hub.counter.reset()
    body = await _mutation_call(name, hub, session)
    assert "errors" not in body, body
    payload = next(iter(body["data"].values()))
    assert payload["userErrors"] == [], payload
    assert hub.counter.count == MUTATION_STATEMENTS[name], (
        hub.counter.count,
        hub.counter.statements,
    )
