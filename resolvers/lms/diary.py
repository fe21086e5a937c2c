"""The electronic diary (issue 15, S4): a pupil's days as the pupil and their guardians read
them: every lesson of the timetable (or given in its place) with its topic, homework, marks,
attendance and the teachers' comments, day by day, holidays marked. A guardian reads only
their own children's diary (the person rule: whoever may read the pupil). A fixed number of
statements, whatever the length of the range."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Attendance,
    ClassLesson,
    ClassMembership,
    Homework,
    Mark,
    PublicHoliday,
    Term,
    TimetableSlot,
)
from resolvers import people as people_service
from resolvers.access import Principal
from resolvers.errors import ErrorCode, RequestError
from resolvers.events import emit

MAX_DAYS = 31


@dataclass
class DiaryLesson:
    """One lesson of a day: the slot it comes from, and what was recorded in it."""

    on_date: date
    period: int | None
    starts_minute: int
    ends_minute: int
    subgroup: int
    class_group_id: int
    subject_id: int
    teacher_id: int
    room_id: int | None
    lesson: Any = None
    homework: Any = None
    marks: list[Any] = field(default_factory=list)
    attendance: Any = None


@dataclass
class DiaryDay:
    on_date: date
    # Why there are no lessons: a public holiday's name, or the school holidays.
    day_off: str | None
    lessons: list[DiaryLesson] = field(default_factory=list)


@dataclass
class Diary:
    pupil_id: int
    start: date
    end: date
    days: list[DiaryDay]


def check_range(start: date, end: date) -> None:
    if end < start or (end - start).days >= MAX_DAYS:
        raise RequestError(
            ErrorCode.INVALID_INPUT, f"Ask for 1 to {MAX_DAYS} days, `from` before `to`"
        )


async def diary(
    session: AsyncSession, principal: Principal, *, pupil_id: int, start: date, end: date
) -> Diary | None:
    """A pupil's diary from ``start`` to ``end`` (at most 31 days), or None if the caller may
    not read the pupil."""
    check_range(start, end)
    if not await people_service.can_read_person(session, principal, pupil_id):
        return None
    members = list(
        await session.execute(
            select(
                ClassMembership.class_group_id,
                ClassMembership.academic_year_id,
                ClassMembership.since,
                ClassMembership.until,
            ).where(
                ClassMembership.pupil_id == pupil_id,
                ClassMembership.since <= end,
                or_(ClassMembership.until.is_(None), ClassMembership.until > start),
            )
        )
    )
    days = [DiaryDay(start + timedelta(days=i), None) for i in range((end - start).days + 1)]
    if not members:
        return Diary(pupil_id, start, end, days)
    classes = {m.class_group_id for m in members}
    years = {m.academic_year_id for m in members}
    slots, lessons, marks, absences, homework, off = await _rows(
        session, pupil_id, classes, years, start, end
    )
    _fill(days, members, slots, lessons, marks, absences, homework, off)
    return Diary(pupil_id, start, end, days)


async def _rows(
    session: AsyncSession,
    pupil_id: int,
    classes: set[int],
    years: set[int],
    start: date,
    end: date,
) -> tuple[list[Any], list[Any], list[Any], list[Any], list[Any], dict[date, str]]:
    slots = list(
        await session.execute(
            select(*TimetableSlot.__table__.c).where(
                TimetableSlot.class_group_id.in_(classes),
                TimetableSlot.valid_from <= end,
                or_(TimetableSlot.valid_to.is_(None), TimetableSlot.valid_to > start),
            )
        )
    )
    lessons = list(
        await session.execute(
            select(*ClassLesson.__table__.c).where(
                ClassLesson.academic_year_id.in_(years),
                ClassLesson.class_group_id.in_(classes),
                ClassLesson.on_date.between(start, end),
            )
        )
    )
    marks = list(
        await session.execute(
            select(*Mark.__table__.c)
            .where(
                Mark.pupil_id == pupil_id,
                Mark.on_date.between(start, end),
                Mark.superseded_at.is_(None),
            )
            .order_by(Mark.id)
        )
    )
    absences = list(
        await session.execute(
            select(*Attendance.__table__.c).where(
                Attendance.pupil_id == pupil_id, Attendance.on_date.between(start, end)
            )
        )
    )
    keys = [(lesson.academic_year_id, lesson.id) for lesson in lessons]
    homework = (
        list(
            await session.execute(
                select(*Homework.__table__.c).where(
                    tuple_(Homework.academic_year_id, Homework.lesson_id).in_(keys)
                )
            )
        )
        if keys
        else []
    )
    return slots, lessons, marks, absences, homework, await _days_off(session, years, start, end)


async def _days_off(
    session: AsyncSession, years: set[int], start: date, end: date
) -> dict[date, str]:
    """Days without lessons in the range: public holidays by name, and the school holidays
    (days of the years outside their terms)."""
    holidays = select(PublicHoliday.day, PublicHoliday.name).where(
        PublicHoliday.day.between(start, end)
    )
    terms = select(Term.starts_on, Term.ends_on).where(Term.academic_year_id.in_(years))
    found = {row.day: row.name for row in await session.execute(holidays)}
    spans = [(t.starts_on, t.ends_on) for t in await session.execute(terms)]
    day = start
    while day <= end:
        if day not in found and not any(a <= day <= b for a, b in spans):
            found[day] = "holidays"
        day += timedelta(days=1)
    return found


def _fill(
    days: list[DiaryDay],
    members: list[Any],
    slots: list[Any],
    lessons: list[Any],
    marks: list[Any],
    absences: list[Any],
    homework: list[Any],
    off: dict[date, str],
) -> None:
    by_slot_day = {(lesson.slot_id, lesson.on_date): lesson for lesson in lessons}
    homework_of = {(h.academic_year_id, h.lesson_id): h for h in homework}
    marks_of: dict[int, list[Any]] = defaultdict(list)
    for mark in marks:
        marks_of[mark.lesson_id].append(mark)
    absence_of = {a.lesson_id: a for a in absences}
    for day in days:
        day.day_off = off.get(day.on_date)
        in_class = {
            m.class_group_id
            for m in members
            if m.since <= day.on_date and (m.until is None or m.until > day.on_date)
        }
        entries: list[DiaryLesson] = []
        if day.day_off is None:
            for slot in slots:
                if slot.class_group_id in in_class and _in_force(slot, day.on_date):
                    entries.append(
                        _entry(slot, day.on_date, by_slot_day.get((slot.id, day.on_date)))
                    )
        # Lessons given outside the week's slots (extra lessons, a slot since changed).
        shown = {id(e.lesson) for e in entries if e.lesson is not None}
        for lesson in lessons:
            if (
                lesson.on_date == day.on_date
                and lesson.class_group_id in in_class
                and id(lesson) not in shown
            ):
                entries.append(_entry(None, day.on_date, lesson))
        for entry in entries:
            if entry.lesson is not None:
                key = (entry.lesson.academic_year_id, entry.lesson.id)
                entry.homework = homework_of.get(key)
                entry.marks = marks_of.get(entry.lesson.id, [])
                entry.attendance = absence_of.get(entry.lesson.id)
        day.lessons = sorted(entries, key=lambda e: (e.starts_minute, e.subgroup))


def _in_force(slot: Any, on: date) -> bool:
    return (
        slot.weekday == on.isoweekday()
        and slot.valid_from <= on
        and (slot.valid_to is None or slot.valid_to > on)
    )


def _entry(slot: Any, on: date, lesson: Any) -> DiaryLesson:
    source = lesson if lesson is not None else slot
    return DiaryLesson(
        on_date=on,
        period=slot.period if slot is not None else None,
        starts_minute=source.starts_minute,
        ends_minute=source.ends_minute,
        subgroup=source.subgroup,
        class_group_id=source.class_group_id,
        subject_id=source.subject_id,
        teacher_id=lesson.teacher_id if lesson is not None else slot.teacher_id,
        room_id=slot.room_id if slot is not None else None,
        lesson=lesson,
    )


async def diary_changed(
    session: AsyncSession, *, topic: str, lesson: Any, pupil_ids: set[int] | list[int]
) -> None:
    """Say in the outbox, in the workflow's transaction, whose diary a lesson's change touched
    (``diaryUpdated`` pushes it to the pupil and their guardians; issue 18). Ids only."""
    if not pupil_ids:
        return
    await emit(
        session,
        topic=topic,
        aggregate_type="ClassLesson",
        aggregate_id=lesson.id,
        payload={
            "pupil_ids": sorted(pupil_ids),
            "on_date": lesson.on_date.isoformat(),
            "class_group_id": lesson.class_group_id,
        },
    )
