"""Arranging content scenarios: curriculum units, lessons in every state with media and quizzes,
learners placed in schools, universities licensed for higher education, open courses and runs.
Rows go straight into the database; the scenarios act through the hub."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    CourseAssessment,
    CourseModule,
    CourseRun,
    CurriculumStandard,
    CurriculumUnit,
    FileObject,
    Institution,
    InstitutionKind,
    Lesson,
    LessonMedia,
    LessonStatus,
    MediaKind,
    OpenCourse,
    Ownership,
    Person,
    QuestionKind,
    QuizQuestion,
    StudyLevel,
)
from resolvers.access import Role
from resolvers.clock import today
from tests.conftest import Hub
from tests.factories import make_enrollment, make_institution, make_licence, make_person

_serial = itertools.count(1)
USER_ERRORS = "userErrors { field code message }"


def editor(hub: Hub) -> str:
    """A token of the national content team."""
    return hub.token(Role.CONTENT_EDITOR)


def course_team(hub: Hub, university: Institution) -> str:
    """A token of a university's course team."""
    return hub.token(Role.CONTENT_EDITOR, scopes=[f"institution:{university.id}"])


def learner(hub: Hub, person: Person) -> str:
    return hub.token(Role.PUPIL, person_id=person.id)


async def make_unit(
    session: AsyncSession,
    *,
    subject_code: str = "mathematics",
    grade: int = 5,
    term: int = 1,
    unit_no: int | None = None,
    topic_no: int = 1,
    languages: list[str] | None = None,
    standard: CurriculumStandard = CurriculumStandard.TWELVE_YEAR,
    unit_title: str = "Бөлчөктөр",
    topic_title: str = "Бөлчөктөрдү кошуу",
) -> CurriculumUnit:
    unit = CurriculumUnit(
        standard=standard,
        subject_code=subject_code,
        grade=grade,
        term=term,
        unit_no=unit_no or next(_serial),
        unit_title=unit_title,
        topic_no=topic_no,
        topic_title=topic_title,
        outcomes=["Окуучу бөлчөктөрдү кошот"],
        hours=Decimal("2.0"),
        languages=languages or ["ky", "ru"],
    )
    session.add(unit)
    await session.flush()
    return unit


async def make_lesson(
    session: AsyncSession,
    *,
    unit: CurriculumUnit | None = None,
    language: str = "ky",
    title: str = "Бөлчөктөрдү кошуу",
    summary: str | None = "Окшош бөлүмдүү бөлчөктөрдү кошууну үйрөнөбүз",
    body: str | None = "Сабактын тексти.",
    status: LessonStatus = LessonStatus.PUBLISHED,
    position: int = 1,
    duration_seconds: int | None = 1200,
    **unit_kwargs: Any,
) -> Lesson:
    unit = unit or await make_unit(session, **unit_kwargs)
    lesson = Lesson.of_unit(
        unit,
        language,
        position=position,
        title=title,
        summary=summary,
        body=body,
        duration_seconds=duration_seconds,
        status=status,
        version=1,
        author="content_editor:test",
        published_at=datetime.now(UTC) if status == LessonStatus.PUBLISHED else None,
    )
    session.add(lesson)
    await session.flush()
    return lesson


def video_bytes(tag: str = "", size: int = 4096) -> bytes:
    """Bytes an MP4 parser would take for a video (the ftyp box), distinct per tag."""
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    return (head + tag.encode() + bytes(size))[:size]


async def make_media(
    session: AsyncSession,
    *,
    lesson: Lesson,
    kind: MediaKind = MediaKind.VIDEO,
    rendition: str = "240p",
    size_bytes: int = 10_000_000,
    media_type: str = "video/mp4",
) -> LessonMedia:
    """A medium whose file is known (not stored: the manifest needs only its row)."""
    sha256 = hashlib.sha256(f"{lesson.id}-{kind}-{rendition}-{next(_serial)}".encode()).hexdigest()
    await session.execute(
        insert(FileObject)
        .values(sha256=sha256, size_bytes=size_bytes, media_type=media_type)
        .on_conflict_do_nothing()
    )
    height = int(rendition.rstrip("p")) if kind == MediaKind.VIDEO else None
    media = LessonMedia(
        lesson_id=lesson.id,
        kind=kind,
        rendition=rendition,
        sha256=sha256,
        size_bytes=size_bytes,
        media_type=media_type,
        height=height,
        bitrate_kbps=400 if kind in (MediaKind.VIDEO, MediaKind.AUDIO) else None,
    )
    session.add(media)
    await session.flush()
    return media


async def make_question(
    session: AsyncSession,
    *,
    lesson: Lesson,
    position: int = 1,
    kind: QuestionKind = QuestionKind.SINGLE_CHOICE,
    answer: dict[str, Any] | None = None,
    choices: list[str] | None = None,
    points: int = 1,
) -> QuizQuestion:
    question = QuizQuestion(
        lesson_id=lesson.id,
        position=position,
        kind=kind,
        prompt="1/4 + 2/4 = ?",
        choices=choices if choices is not None else ["1/4", "3/4", "3/8"],
        answer=answer or {"choice": 1},
        points=points,
    )
    session.add(question)
    await session.flush()
    return question


async def make_pupil(
    session: AsyncSession,
    *,
    grade: int = 5,
    school: Institution | None = None,
    languages: list[str] | None = None,
) -> tuple[Person, Institution]:
    """A pupil with an open enrollment in ``grade`` at a school teaching in ``languages``."""
    school = school or await make_institution(session, languages=languages or ["ky", "ru"])
    pupil = await make_person(session, birth_date=date(2014, 3, 1))
    await make_enrollment(session, person=pupil, institution=school, grade_level=grade)
    return pupil, school


async def make_university(
    session: AsyncSession, *, licensed: bool = True, ownership: Ownership = Ownership.STATE
) -> Institution:
    university = await make_institution(
        session,
        kind=InstitutionKind.UNIVERSITY,
        ownership=ownership,
        name=f"Университет {next(_serial)}",
    )
    if licensed:
        await make_licence(session, institution=university, levels=["higher"])
    return university


async def make_student(session: AsyncSession, *, university: Institution) -> Person:
    student = await make_person(session, birth_date=date(2004, 6, 1))
    await make_enrollment(session, person=student, institution=university)
    return student


async def make_course(
    session: AsyncSession,
    *,
    university: Institution,
    weights: tuple[int, ...] = (40, 60),
    credits: Decimal = Decimal("3.0"),
) -> OpenCourse:
    course = OpenCourse(
        institution_id=university.id,
        code=f"CS-{next(_serial)}",
        title="Программалоого киришүү",
        language="ky",
        level=StudyLevel.BACHELOR,
        credits=credits,
        programme_code="HE-COMPUTING",
        created_by="content_editor:test",
    )
    session.add(course)
    await session.flush()
    session.add(CourseModule(course_id=course.id, position=1, title="Python", hours=Decimal(10)))
    for i, weight in enumerate(weights):
        session.add(
            CourseAssessment(
                course_id=course.id,
                position=i + 1,
                title=f"Баалоо {i + 1}",
                kind="quiz" if i < len(weights) - 1 else "exam",
                weight=weight,
            )
        )
    await session.flush()
    return course


async def make_run(
    session: AsyncSession,
    *,
    course: OpenCourse,
    capacity: int | None = 30,
    open_to_all: bool = False,
    closes_in_days: int = 20,
    pass_mark: int = 50,
) -> CourseRun:
    run = CourseRun(
        course_id=course.id,
        starts_on=today() + timedelta(days=closes_in_days),
        ends_on=today() + timedelta(days=closes_in_days + 60),
        enrollment_closes_on=today() + timedelta(days=closes_in_days),
        capacity=capacity,
        open_to_all=open_to_all,
        pass_mark=pass_mark,
    )
    session.add(run)
    await session.flush()
    return run
