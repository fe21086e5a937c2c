"""A modest slice of the domains built after the registry, on top of the demo's registry, so
that every portal of ``bilim serve --demo`` shows something: learning content (curriculum
units for grades 5 and 1 of the standard each grade learns under, published lessons in Kyrgyz
and Russian, an open course of a university with a run open for enrollment), the school LMS
(this school year, one grade-5 class of a Bishkek school with its pupils, a teacher per
subject, a timetable week, last week's lessons with topics naming the curriculum's units,
marks and homework: its pupils' feed follows the class) and the libraries (textbooks and
books in the one catalogue, copies at the same school).

It is written through the domains' own workflows (the rules a real school's data passes), as
the job principal (the ministry), in one transaction; it reads the registry the demo made
(the school, its pupils and teachers), so it runs after :func:`resolvers.demo.load`. A
database that has any academic year or catalogue record already is left as it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AcademicYear,
    BibKind,
    BibRecord,
    CourseRun,
    CurriculumStandard,
    CurriculumUnit,
    Enrollment,
    Institution,
    InstitutionKind,
    Language,
    Lesson,
    LessonStatus,
    MarkWork,
    OpenCourse,
    Sector,
    StaffPosition,
    StaffRole,
    StudyLevel,
    Subject,
)
from models.database import create_engine, session_factory
from resolvers import library as library_service
from resolvers import lms as lms_service
from resolvers.access import Principal, Role
from resolvers.clock import today as clock_today
from resolvers.errors import DomainError

DEMO_PRINCIPAL = Principal(subject="demo:bilim", role=Role.MINISTRY)
GRADE = 5
# Subjects of the demo class's week, its timetable (weekday, period) and last week's topics.
WEEK = {
    "mathematics": ((1, 1), (2, 2), (3, 1), (4, 2), (5, 1)),
    "kyrgyz_language": ((1, 2), (2, 1), (3, 2), (4, 1)),
    "russian_language": ((1, 3), (3, 3), (5, 2)),
    "history_kyrgyzstan": ((2, 3), (4, 3)),
    "natural_science": ((5, 3),),
}
TOPICS = {
    "mathematics": "Жай бөлчөктөрдү кошуу жана кемитүү",
    "kyrgyz_language": "Зат атооч: жекелик жана көптүк сан",
    "russian_language": "Имя существительное: род и число",
    "history_kyrgyzstan": "Байыркы Кыргызстан: сак уруулары",
    "natural_science": "Жандуу жана жансыз жаратылыш",
}
# Learning content: (subject, grade, term, unit title, topics), lessons in Kyrgyz and Russian,
# of the standard the grade's classes learn under this school year (S1).
UNITS = (
    ("mathematics", 5, 2, "Бөлчөктөр", ("Бөлчөктөрдү кошуу", "Бөлчөктөрдү кемитүү")),
    ("kyrgyz_language", 5, 2, "Зат атооч", ("Зат атоочтун сан категориясы",)),
    ("history_kyrgyzstan", 5, 2, "Байыркы Кыргызстан", ("Сак уруулары", "Усундар")),
    ("natural_science", 5, 1, "Жаратылыш", ("Жандуу жана жансыз жаратылыш",)),
    ("natural_science", 5, 2, "Суу", ("Суунун касиеттери",)),
    ("mathematics", 1, 2, "Сандар", ("1ден 10го чейинки сандар",)),
)
# The curriculum topic the class's lessons of last week name, per subject (the feed of its
# pupils follows it): natural science is still on the first term's unit, behind the date.
TAUGHT = {
    "mathematics": "Бөлчөктөрдү кошуу",
    "kyrgyz_language": "Зат атоочтун сан категориясы",
    "history_kyrgyzstan": "Сак уруулары",
    "natural_science": "Жандуу жана жансыз жаратылыш",
}
TITLE_RU = {
    "Бөлчөктөрдү кошуу": "Сложение дробей",
    "Бөлчөктөрдү кемитүү": "Вычитание дробей",
    "Зат атоочтун сан категориясы": "Число имени существительного",
    "Сак уруулары": "Сакские племена",
    "Усундар": "Усуни",
    "Жандуу жана жансыз жаратылыш": "Живая и неживая природа",
    "Суунун касиеттери": "Свойства воды",
    "1ден 10го чейинки сандар": "Числа от 1 до 10",
}
BOOKS = (
    (BibKind.TEXTBOOK, "Математика. 5-класс", Language.KY, "mathematics", 5, "9789999000017"),
    (BibKind.TEXTBOOK, "Математика. 5 класс", Language.RU, "mathematics", 5, "9789999000024"),
    (BibKind.TEXTBOOK, "Кыргыз тили. 5-класс", Language.KY, "kyrgyz_language", 5, None),
    (BibKind.TEXTBOOK, "Кыргызстан тарыхы. 5-класс", Language.KY, "history_kyrgyzstan", 5, None),
    (BibKind.BOOK, "Манас. Балдар үчүн", Language.KY, None, None, None),
    (BibKind.BOOK, "Жамиля", Language.RU, None, None, None),
)
COPIES = 3


@dataclass
class _School:
    school: Institution
    pupils: list[int]
    teachers: list[int]


async def _school(session: AsyncSession) -> _School | None:
    """The demo's school with the most grade-5 pupils that has teachers (its first 30 pupils
    of grade 5 make the class)."""
    counts = (
        select(Enrollment.institution_id, func.count().label("n"))
        .join(Institution, Institution.id == Enrollment.institution_id)
        .where(
            Institution.kind == InstitutionKind.SCHOOL,
            Enrollment.sector == Sector.SCHOOL,
            Enrollment.grade_level == GRADE,
            Enrollment.exit_date.is_(None),
        )
        .group_by(Enrollment.institution_id)
        .order_by(func.count().desc(), Enrollment.institution_id)
        .limit(20)
    )
    for row in (await session.execute(counts)).all():
        teachers = list(
            await session.scalars(
                select(StaffPosition.person_id)
                .where(
                    StaffPosition.institution_id == row.institution_id,
                    StaffPosition.role == StaffRole.TEACHER,
                    StaffPosition.end_date.is_(None),
                )
                .order_by(StaffPosition.id)
                .limit(len(WEEK))
            )
        )
        if not teachers:
            continue
        pupils = list(
            await session.scalars(
                select(Enrollment.person_id)
                .where(
                    Enrollment.institution_id == row.institution_id,
                    Enrollment.sector == Sector.SCHOOL,
                    Enrollment.grade_level == GRADE,
                    Enrollment.exit_date.is_(None),
                )
                .order_by(Enrollment.person_id)
                .limit(30)
            )
        )
        school = await session.get(Institution, row.institution_id)
        assert school is not None
        return _School(school, pupils, teachers)
    return None


def _weekday_of_last_week(day: date, weekday: int) -> date:
    monday = day - timedelta(days=day.isoweekday() - 1) - timedelta(weeks=1)
    return monday + timedelta(days=weekday - 1)


async def _lms(
    session: AsyncSession, place: _School, day: date, units: dict[str, int]
) -> dict[str, int]:
    """This school year, a 5th-grade class of the school, its week and last week's lessons
    (naming the curriculum topics of ``units``, per subject)."""
    who = DEMO_PRINCIPAL
    year = await lms_service.year_on(session, day)
    if year is None:
        start = day.year if day.month >= 8 else day.year - 1
        year = await lms_service.create_academic_year(
            session, who, starts_on=date(start, 9, 1), ends_on=date(start + 1, 5, 31), terms=None
        )
    klass = await lms_service.create_class_group(
        session,
        who,
        school_id=place.school.id,
        year_id=year.id,
        grade=GRADE,
        letter="А",
        language=Language((place.school.languages or ["ky"])[0]),
        shift=1,
        homeroom_teacher_id=place.teachers[0],
        capacity=None,
    )
    await lms_service.assign_pupils_to_class(
        session, who, class_group_id=klass.id, pupil_ids=place.pupils, since=year.starts_on
    )
    periods = [lms_service.PeriodTimes(n, 425 + n * 55, 470 + n * 55) for n in (1, 2, 3, 4)]
    await lms_service.set_bell_schedule(
        session, who, school_id=place.school.id, shift=1, periods=periods
    )
    rows = await session.execute(select(Subject.code, Subject.id).where(Subject.code.in_(WEEK)))
    subjects: dict[str, int] = {code: pk for code, pk in rows}
    for n, (code, places) in enumerate(WEEK.items()):
        teacher = place.teachers[n % len(place.teachers)]
        await lms_service.assign_teacher(
            session, who, class_group_id=klass.id, subject_id=subjects[code], teacher_id=teacher
        )
        for weekday, period in places:
            slot = await lms_service.set_timetable_slot(
                session,
                who,
                lms_service.SlotChange(
                    class_group_id=klass.id,
                    weekday=weekday,
                    period=period,
                    subgroup=0,
                    subject_id=subjects[code],
                    teacher_id=teacher,
                    room_id=None,
                    effective_from=year.starts_on,
                ),
            )
            assert slot is not None
            await _last_week(session, slot.id, code, weekday, place, day, year, units.get(code))
    return {"class_groups": 1, "pupils": len(place.pupils), "slots": sum(map(len, WEEK.values()))}


async def _last_week(
    session: AsyncSession,
    slot_id: int,
    code: str,
    weekday: int,
    place: _School,
    day: date,
    year: AcademicYear,
    unit: int | None,
) -> None:
    """The slot's lesson last week (when that was a school day of the year): its topic (and
    the curriculum topic it taught, ``unit``, where learning content has one), a mark for
    every third pupil, homework due the next week."""
    on = _weekday_of_last_week(day, weekday)
    if not year.starts_on <= on < day:
        return
    try:
        lesson = await lms_service.record_class_lesson(
            session,
            DEMO_PRINCIPAL,
            lms_service.LessonRecord(
                slot_id=slot_id,
                on_date=on,
                topic=TOPICS[code],
                replacement_teacher_id=None,
                cancelled=False,
                curriculum_unit_id=unit,
            ),
        )
    except DomainError:  # a holiday: no lesson that day
        return
    entries = [
        lms_service.MarkEntry(pupil_id=p, work=MarkWork.CLASSWORK, value=3 + (i + weekday) % 3)
        for i, p in enumerate(place.pupils)
        if (i + weekday) % 3 == 0
    ]
    if entries:
        await lms_service.record_marks(
            session, DEMO_PRINCIPAL, lesson_id=lesson.id, entries=entries, correction_reason=None
        )
    await lms_service.assign_homework(
        session,
        DEMO_PRINCIPAL,
        lesson_id=lesson.id,
        text=f"{TOPICS[code]}: окуу китебиндеги көнүгүүлөр",
        due_on=on + timedelta(days=7),
        accepts_submissions=code == "mathematics",
    )


def _publish(session: AsyncSession, unit: CurriculumUnit, now: datetime) -> int:
    """The unit's topic's lessons in Kyrgyz and Russian, published; how many."""
    titles = (("ky", unit.topic_title), ("ru", TITLE_RU[unit.topic_title]))
    for language, title in titles:
        session.add(
            Lesson.of_unit(
                unit,
                language,
                title=title,
                summary=f"{unit.unit_title}: {title}",
                body=f"{title}. Сабактын тексти.",
                duration_seconds=1200,
                status=LessonStatus.PUBLISHED,
                author="demo:bilim",
                published_at=now,
            )
        )
    return len(titles)


async def _content(session: AsyncSession, day: date) -> tuple[dict[str, int], dict[str, int]]:
    """Curriculum units with published lessons in Kyrgyz and Russian, and an open course; the
    units of :data:`TAUGHT` by subject. Each grade's units are of the standard its classes
    learn under in ``day``'s school year (S1, the national policy's rule for the cohort: the
    demo's 5th-graders are of the legacy model until the 12-year standard's first intake
    reaches grade 5)."""
    lessons = 0
    now = datetime.now(UTC)
    policy = await lms_service.school_policy(session, None)
    start = day.year if day.month >= 8 else day.year - 1
    taught: dict[str, int] = {}
    for unit_no, (code, grade, term, unit_title, topics) in enumerate(UNITS, start=1):
        standard = CurriculumStandard(policy.curriculum_model(start, grade).value)
        for topic_no, topic in enumerate(topics, start=1):
            unit = CurriculumUnit(
                standard=standard,
                subject_code=code,
                grade=grade,
                term=term,
                unit_no=unit_no,
                unit_title=unit_title,
                topic_no=topic_no,
                topic_title=topic,
                outcomes=[topic],
                hours=Decimal(2),
                languages=["ky", "ru"],
            )
            session.add(unit)
            await session.flush()
            if grade == GRADE and TAUGHT.get(code) == topic:
                taught[code] = unit.id
            lessons += _publish(session, unit, now)
    university = await session.scalar(
        select(Institution)
        .where(Institution.kind == InstitutionKind.UNIVERSITY)
        .order_by(Institution.id)
        .limit(1)
    )
    if university is not None:
        course = OpenCourse(
            institution_id=university.id,
            code="DEMO-PY-101",
            title="Программалоого киришүү (Python)",
            language="ky",
            level=StudyLevel.BACHELOR,
            credits=Decimal(3),
            programme_code="HE-COMPUTING",
            created_by="demo:bilim",
        )
        session.add(course)
        await session.flush()
        starts = clock_today() + timedelta(days=30)
        session.add(
            CourseRun(
                course_id=course.id,
                starts_on=starts,
                ends_on=starts + timedelta(days=70),
                enrollment_closes_on=starts,
                capacity=100,
                open_to_all=True,
                pass_mark=50,
            )
        )
    await session.flush()
    return {"lessons": lessons, "open_courses": int(university is not None)}, taught


async def _library(session: AsyncSession, school: Institution) -> dict[str, int]:
    """Textbooks and books in the catalogue, copies at the school's library."""
    copies = 0
    for n, (kind, title, language, subject, grade, isbn) in enumerate(BOOKS, start=1):
        record = await library_service.create_bib_record(
            session,
            DEMO_PRINCIPAL,
            library_service.RecordDraft(
                kind=kind,
                title=title,
                language=language,
                isbn=isbn,
                publisher="Билим",
                year=2024,
                school_subject=subject,
                grade=grade,
            ),
        )
        items = await library_service.add_library_items(
            session,
            DEMO_PRINCIPAL,
            record_id=record.id,
            institution_id=school.id,
            barcodes=[f"DEMO-{n:03d}-{c}" for c in range(1, COPIES + 1)],
            shelf_mark=None,
            acquired_on=date(2024, 8, 20),
        )
        copies += len(items)
    return {"records": len(BOOKS), "copies": copies}


async def has_domains(session: AsyncSession) -> bool:
    """Whether the database holds any school year, curriculum unit or catalogue record."""
    found = await session.scalar(
        select(
            select(AcademicYear.id).exists()
            | select(CurriculumUnit.id).exists()
            | select(BibRecord.id).exists()
        )
    )
    return bool(found)


async def load_domains(url: str, *, day: date | None = None) -> dict[str, Any]:
    """Add the slice to a demo database (one transaction); what was added, per domain."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with session_factory(engine)() as session, session.begin():
            if await has_domains(session):
                return {}
            place = await _school(session)
            on = day or clock_today()
            content, taught = await _content(session, on)
            added: dict[str, Any] = {"content": content}
            if place is not None:
                added["lms"] = await _lms(session, place, on, taught)
                added["library"] = await _library(session, place.school)
            return added
    finally:
        await engine.dispose()
