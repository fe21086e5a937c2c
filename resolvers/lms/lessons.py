"""Lessons (issue 15): a timetable slot on a date, given by the slot's teacher or a
replacement, with its topic. Recorded once per slot and date (a unique key: recording again
edits it); no teacher gives two lessons at once (an exclusion constraint)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    ClassGroup,
    ClassLesson,
    ClassLessonStatus,
    CurriculumUnit,
    Institution,
    Subject,
    TimetableSlot,
)
from resolvers.access import Principal, Role
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.lms.classes import require_staff, require_year_open
from resolvers.lms.errors import LmsCode
from resolvers.lms.rules import class_readable, may_manage_school, may_write_lesson
from resolvers.lms.timetable import in_force, isoweekday
from resolvers.lms.years import academic_year, require_school_day

MAX_TOPIC = 500


@dataclass(frozen=True)
class LessonRecord:
    slot_id: int
    on_date: date
    topic: str | None
    replacement_teacher_id: int | None
    cancelled: bool
    # The curriculum topic taught (learning content's unit), if the teacher names one.
    curriculum_unit_id: int | None = None


def _teacher_of(
    principal: Principal, slot: TimetableSlot, inst: Institution, record: LessonRecord
) -> int:
    """Who gives the lesson: the slot's teacher, or a replacement the school's administration
    names. A teacher records only the lessons of slots they hold (NOT_YOUR_LESSON)."""
    manages = may_manage_school(principal, inst)
    replacement = record.replacement_teacher_id
    if manages:
        return replacement or slot.teacher_id
    if (
        principal.role != Role.TEACHER
        or principal.person_id != slot.teacher_id
        or inst.id not in principal.institution_ids
    ):
        raise DomainError(
            LmsCode.NOT_YOUR_LESSON, "You do not hold this timetable slot", field="slotId"
        )
    if replacement is not None and replacement != slot.teacher_id:
        raise DomainError(
            LmsCode.NOT_YOUR_LESSON,
            "The school's administration names replacements",
            field="replacementTeacherId",
        )
    return slot.teacher_id


async def record_class_lesson(
    session: AsyncSession, principal: Principal, record: LessonRecord
) -> ClassLesson:
    """Record a lesson of a timetable slot on a date: its topic, who gave it, or that it was
    cancelled. The date is a school day of the year (DATE_OUTSIDE_YEAR, DATE_IN_HOLIDAYS) on
    the slot's weekday while the slot is in force."""
    slot = await session.get(TimetableSlot, record.slot_id)
    if slot is None:
        raise NotFound("The timetable slot", field="slotId")
    inst = await session.get(Institution, slot.institution_id)
    assert inst is not None
    teacher_id = _teacher_of(principal, slot, inst, record)
    year = await academic_year(session, slot.academic_year_id, field="slotId")
    await require_year_open(session, year.id, inst.id, field="slotId")
    await require_school_day(session, year, record.on_date, field="date")
    if record.on_date.isoweekday() != slot.weekday:
        raise DomainError(
            LmsCode.WRONG_WEEKDAY, "The slot is on another day of the week", field="date"
        )
    if not (
        slot.valid_from <= record.on_date
        and (slot.valid_to is None or record.on_date < slot.valid_to)
    ):
        raise DomainError(
            LmsCode.SLOT_NOT_IN_FORCE, "The slot is not in the timetable on that date", field="date"
        )
    if teacher_id != slot.teacher_id:
        await require_staff(session, teacher_id, inst.id, field="replacementTeacherId")
    topic = (record.topic or "").strip() or None
    if topic is not None and len(topic) > MAX_TOPIC:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"A topic is at most {MAX_TOPIC} characters", field="topic"
        )
    if record.curriculum_unit_id is not None:
        title = await curriculum_topic_of(session, slot, record.curriculum_unit_id)
        topic = topic or title
    values = {
        "teacher_id": teacher_id,
        "replaced_teacher_id": slot.teacher_id if teacher_id != slot.teacher_id else None,
        "topic": topic,
        "curriculum_unit_id": record.curriculum_unit_id,
        "status": ClassLessonStatus.CANCELLED if record.cancelled else ClassLessonStatus.HELD,
        "recorded_by": principal.subject,
    }
    stmt = pg_insert(ClassLesson).values(
        academic_year_id=year.id,
        institution_id=inst.id,
        class_group_id=slot.class_group_id,
        subject_id=slot.subject_id,
        slot_id=slot.id,
        on_date=record.on_date,
        starts_minute=slot.starts_minute,
        ends_minute=slot.ends_minute,
        subgroup=slot.subgroup,
        **values,
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=[ClassLesson.academic_year_id, ClassLesson.slot_id, ClassLesson.on_date],
        set_={**values, "updated_at": func.now()},
    ).returning(ClassLesson)
    lesson: ClassLesson = (await session.scalars(upsert)).one()
    return lesson


async def curriculum_topic_of(session: AsyncSession, slot: TimetableSlot, unit_id: int) -> str:
    """The title of a curriculum topic a lesson of ``slot`` may name: a unit's topic of the
    slot's subject and its class's grade (WRONG_CURRICULUM_UNIT otherwise), which is what the
    feed of the class's pupils follows (issue 16, docs/domains/content.md)."""
    row = (
        await session.execute(
            select(
                CurriculumUnit.topic_title,
                (CurriculumUnit.subject_code == Subject.code).label("same_subject"),
                (CurriculumUnit.grade == ClassGroup.grade).label("same_grade"),
            )
            .join(Subject, Subject.id == slot.subject_id)
            .join(ClassGroup, ClassGroup.id == slot.class_group_id)
            .where(CurriculumUnit.id == unit_id)
        )
    ).first()
    if row is None:
        raise NotFound("The curriculum unit", field="curriculumUnitId")
    if not (row.same_subject and row.same_grade):
        raise DomainError(
            LmsCode.WRONG_CURRICULUM_UNIT,
            "The curriculum topic is not of the lesson's subject and the class's grade",
            field="curriculumUnitId",
        )
    title: str = row.topic_title
    return title[:MAX_TOPIC]


async def lesson_for_update(session: AsyncSession, lesson_id: int, *, field: str) -> ClassLesson:
    """A lesson, locked: what is recorded in one lesson is decided one request at a time."""
    lesson = (
        await session.scalars(
            select(ClassLesson).where(ClassLesson.id == lesson_id).with_for_update()
        )
    ).first()
    if lesson is None:
        raise NotFound("The lesson", field=field)
    return lesson


async def writable_lesson(
    session: AsyncSession, principal: Principal, lesson_id: int, *, field: str, on: date
) -> tuple[ClassLesson, Institution]:
    """A held lesson, not in the future, that the caller may record in (or NOT_FOUND: a
    lesson of another teacher's class is not revealed)."""
    # The lesson locked and its school read in one statement.
    found = (
        await session.execute(
            select(ClassLesson, Institution)
            .join(Institution, Institution.id == ClassLesson.institution_id)
            .where(ClassLesson.id == lesson_id)
            .with_for_update(of=ClassLesson)
        )
    ).first()
    if found is None:
        raise NotFound("The lesson", field=field)
    lesson, inst = found
    allowed = await may_write_lesson(
        session,
        principal,
        institution=inst,
        class_group_id=lesson.class_group_id,
        subject_id=lesson.subject_id,
        lesson_teacher_id=lesson.teacher_id,
    )
    if not allowed:
        raise NotFound("The lesson", field=field)
    if lesson.status == ClassLessonStatus.CANCELLED:
        raise DomainError(LmsCode.LESSON_CANCELLED, "The lesson was cancelled", field=field)
    if lesson.on_date > on:
        raise DomainError(
            LmsCode.LESSON_IN_FUTURE, "The lesson has not taken place yet", field=field
        )
    return lesson, inst


# --- a teacher's day ------------------------------------------------------------------------


def day_slots_query(teacher_id: Any, on: date | ColumnElement[Any]) -> Any:
    """A teacher's slots on a date with the lesson recorded in each, and the lessons they give
    in others' slots (replacements): what the teacher's portal opens on in the morning. ``on``
    may be a date PostgreSQL works out (the compiled path's today)."""
    recorded = select(ClassLesson).where(ClassLesson.on_date == on).subquery()
    own = (
        select(
            TimetableSlot.id.label("slot_id"),
            TimetableSlot.class_group_id,
            TimetableSlot.subject_id,
            TimetableSlot.room_id,
            TimetableSlot.period,
            TimetableSlot.starts_minute,
            TimetableSlot.ends_minute,
            TimetableSlot.subgroup,
            recorded.c.id.label("lesson_id"),
            recorded.c.academic_year_id,
        )
        .outerjoin(recorded, recorded.c.slot_id == TimetableSlot.id)
        .where(
            TimetableSlot.teacher_id == teacher_id,
            TimetableSlot.weekday == isoweekday(on),
            in_force(on),
            or_(recorded.c.teacher_id.is_(None), recorded.c.teacher_id == teacher_id),
        )
    )
    replacing = (
        select(
            TimetableSlot.id,
            TimetableSlot.class_group_id,
            TimetableSlot.subject_id,
            TimetableSlot.room_id,
            TimetableSlot.period,
            TimetableSlot.starts_minute,
            TimetableSlot.ends_minute,
            TimetableSlot.subgroup,
            recorded.c.id,
            recorded.c.academic_year_id,
        )
        .join(recorded, recorded.c.slot_id == TimetableSlot.id)
        .where(and_(recorded.c.teacher_id == teacher_id, TimetableSlot.teacher_id != teacher_id))
    )
    union = own.union_all(replacing).subquery()
    return select(union).order_by(union.c.starts_minute, union.c.slot_id)


_DAY_KLASS = aliased(ClassGroup)  # made once: see lms/rules.py


def teacher_day_query(principal: Principal, teacher_id: Any, on: date | ColumnElement[Any]) -> Any:
    """The ``teacherDay`` page: :func:`day_slots_query` of the classes the caller may read, in
    the day's order (the resolvers' statement, and the compiled path's list:
    schema/compiled/lms.py). Whether the caller may ask for ``teacher_id`` at all is the
    page's own check."""
    inner = day_slots_query(teacher_id, on).subquery()
    klass = _DAY_KLASS
    return (
        select(inner)
        .where(exists().where(klass.id == inner.c.class_group_id, class_readable(principal, klass)))
        .order_by(inner.c.starts_minute, inner.c.slot_id)
    )
