"""The electronic diary (issue 15, S4): a pupil's days as the pupil and their guardians read
them: every lesson of the timetable (or given in its place) with its topic, homework, marks,
attendance and the teachers' comments, day by day, holidays marked. A subject taught in halves
shows the pupil's own half's lessons (issue 16; every lesson while the pupil is in no half of
it). A guardian reads only their own children's diary (the person rule: whoever may read the
pupil). A fixed number of statements, whatever the length of the range."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, Integer, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from models import AssessmentScheme, AttendanceStatus, ClassLessonStatus, MarkWork
from resolvers import people as people_service
from resolvers.access import Principal
from resolvers.errors import ErrorCode, RequestError
from resolvers.events import emit

MAX_DAYS = 31


@dataclass(frozen=True)
class DiarySubject:
    id: int
    code: str
    name_ky: str
    name_ru: str
    name_en: str


@dataclass(frozen=True)
class DiaryRoom:
    id: int
    name: str
    capacity: int | None


@dataclass(frozen=True)
class DiaryRecord:
    """What was recorded of a lesson: the topic, held or cancelled, the register taken."""

    id: int
    slot_id: int | None
    class_group_id: int
    subject_id: int
    teacher_id: int
    on_date: date
    starts_minute: int
    ends_minute: int
    subgroup: int
    topic: str | None
    status: ClassLessonStatus
    register_taken: bool


@dataclass(frozen=True)
class DiaryHomework:
    id: int
    body: str
    due_on: date


@dataclass(frozen=True)
class DiaryMark:
    """One of the pupil's current marks, as :class:`schema.lms.records.Mark` reads it."""

    lesson_id: int
    pupil_id: int
    work: MarkWork
    scheme: AssessmentScheme
    value: int | None
    criterion: str | None
    comment: str | None
    on_date: date
    recorded_at: datetime
    correction_reason: str | None
    superseded_at: None = None


@dataclass(frozen=True)
class DiaryAbsence:
    status: AttendanceStatus
    reason: str | None


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
    lesson: DiaryRecord | None = None
    homework: DiaryHomework | None = None
    marks: list[DiaryMark] = field(default_factory=list)
    attendance: DiaryAbsence | None = None
    subject: DiarySubject | None = None
    teacher_name: str | None = None
    room: DiaryRoom | None = None


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


# The whole diary of a pupil over a range in one statement: PostgreSQL builds one JSON
# document of the memberships, the halves of their class the pupil learns subjects in, the
# timetable, the lessons with their homework, the pupil's marks and absences, the names shown
# (subjects, teachers, rooms) and the days off. The years are passed to the partitioned tables
# as an array built once (an init plan), so only the year's partitions are read (run-time
# pruning); each part reads an index on (class, date) or (pupil, date), the halves their
# primary key (membership, subject). Which lessons of a half are the pupil's is decided in
# Python (:func:`_for_pupil`), from the halves, marks and absences the statement returns.
# Teachers' names are those of people who hold a staff post (a guardian may not read the
# teacher as a person, but sees who teaches their child).
DIARY_SQL = text(
    """
WITH m AS MATERIALIZED (
  SELECT id, class_group_id, academic_year_id, since, until FROM class_membership
  WHERE pupil_id = :pupil AND since <= :end AND (until IS NULL OR until > :start)),
ys AS MATERIALIZED (SELECT ARRAY(SELECT DISTINCT academic_year_id FROM m) AS years,
                           ARRAY(SELECT DISTINCT class_group_id FROM m) AS classes),
s AS MATERIALIZED (
  SELECT t.id, t.class_group_id, t.subject_id, t.teacher_id, t.room_id, t.weekday, t.period,
         t.starts_minute, t.ends_minute, t.subgroup, t.valid_from, t.valid_to
  FROM timetable_slot t
  WHERE t.class_group_id = ANY ((SELECT classes FROM ys)::int[])
    AND t.valid_from <= :end AND (t.valid_to IS NULL OR t.valid_to > :start)),
l AS MATERIALIZED (
  SELECT c.academic_year_id, c.id, c.slot_id, c.class_group_id, c.subject_id, c.teacher_id,
         c.on_date, c.starts_minute, c.ends_minute, c.subgroup, c.topic, c.status,
         c.attendance_taken_at IS NOT NULL AS taken
  FROM class_lesson c
  WHERE c.academic_year_id = ANY ((SELECT years FROM ys)::int[])
    AND c.class_group_id = ANY ((SELECT classes FROM ys)::int[])
    AND c.on_date BETWEEN :start AND :end)
SELECT json_build_object(
  'members', (SELECT json_agg(json_build_array(id, class_group_id, since, until)) FROM m),
  -- the half of their class the pupil learns a subject in (issue 16), by the primary key
  'halves', (SELECT json_agg(json_build_array(h.membership_id, h.subject_id, h.subgroup))
             FROM class_membership_half h WHERE h.membership_id IN (SELECT id FROM m)),
  'slots', (SELECT json_agg(json_build_array(id, class_group_id, subject_id, teacher_id,
              room_id, weekday, period, starts_minute, ends_minute, subgroup, valid_from,
              valid_to)) FROM s),
  'lessons', (SELECT json_agg(json_build_array(l.id, l.slot_id, l.class_group_id,
              l.subject_id, l.teacher_id, l.on_date, l.starts_minute, l.ends_minute,
              l.subgroup, l.topic, l.status, l.taken, h.id, h.body, h.due_on))
              FROM l LEFT JOIN homework h
                ON h.academic_year_id = l.academic_year_id AND h.lesson_id = l.id),
  'marks', (SELECT json_agg(json_build_array(k.lesson_id, k.work, k.scheme, k.value,
              k.criterion, k.comment, k.on_date, k.recorded_at, k.correction_reason)
              ORDER BY k.id)
            FROM mark k
            WHERE k.academic_year_id = ANY ((SELECT years FROM ys)::int[])
              AND k.pupil_id = :pupil AND k.on_date BETWEEN :start AND :end
              AND k.superseded_at IS NULL),
  'absences', (SELECT json_agg(json_build_array(a.lesson_id, a.status, a.reason))
               FROM attendance a
               WHERE a.academic_year_id = ANY ((SELECT years FROM ys)::int[])
                 AND a.pupil_id = :pupil AND a.on_date BETWEEN :start AND :end),
  'subjects', (SELECT json_agg(json_build_array(j.id, j.code, j.name_ky, j.name_ru,
               j.name_en)) FROM subject j
               WHERE j.id IN (SELECT subject_id FROM s UNION SELECT subject_id FROM l)),
  'teachers', (SELECT json_agg(json_build_array(t.teacher_id,
               -- by the primary key, one teacher at a time: never a scan of people or posts
               (SELECT concat_ws(' ', p.last_name, p.first_name, p.patronymic)
                FROM person p WHERE p.id = t.teacher_id
                  AND EXISTS (SELECT FROM staff_position sp WHERE sp.person_id = p.id))))
               FROM (SELECT teacher_id FROM s UNION SELECT teacher_id FROM l) t),
  'rooms', (SELECT json_agg(json_build_array(r.id, r.name, r.capacity)) FROM room r
            WHERE r.id IN (SELECT room_id FROM s)),
  -- A row with working = true is a working day the ministry decreed (a Saturday worked in
  -- exchange, a holiday moved away): a school day, never a day off.
  'holidays', (SELECT json_agg(json_build_array(day, name)) FROM public_holiday
               WHERE day BETWEEN :start AND :end AND NOT working),
  'terms', (SELECT json_agg(json_build_array(starts_on, ends_on)) FROM term
            WHERE academic_year_id = ANY ((SELECT years FROM ys)::int[])))
"""
).bindparams(
    bindparam("pupil", type_=Integer),
    bindparam("start", type_=Date),
    bindparam("end", type_=Date),
)


async def diary(
    session: AsyncSession, principal: Principal, *, pupil_id: int, start: date, end: date
) -> Diary | None:
    """A pupil's diary from ``start`` to ``end`` (at most 31 days), or None if the caller may
    not read the pupil. Two statements whatever the range: the person rule, then the diary."""
    check_range(start, end)
    if not await people_service.can_read_person(session, principal, pupil_id):
        return None
    found = (
        await session.execute(DIARY_SQL, {"pupil": pupil_id, "start": start, "end": end})
    ).scalar_one()
    parts = found if isinstance(found, dict) else json.loads(found)
    days = [DiaryDay(start + timedelta(days=i), None) for i in range((end - start).days + 1)]
    if not parts["members"]:
        return Diary(pupil_id, start, end, days)
    _fill(days, pupil_id, parts)
    return Diary(pupil_id, start, end, days)


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _days_off(parts: dict[str, Any], start: date, end: date) -> dict[date, str]:
    """Days without lessons in the range: public holidays by name, and the school holidays
    (days of the years outside their terms)."""
    found = {date.fromisoformat(day): name for day, name in parts["holidays"] or ()}
    spans = [(date.fromisoformat(a), date.fromisoformat(b)) for a, b in parts["terms"] or ()]
    day = start
    while day <= end:
        if day not in found and not any(a <= day <= b for a, b in spans):
            found[day] = "holidays"
        day += timedelta(days=1)
    return found


@dataclass(frozen=True)
class _Slot:
    id: int
    class_group_id: int
    subject_id: int
    teacher_id: int
    room_id: int | None
    weekday: int
    period: int
    starts_minute: int
    ends_minute: int
    subgroup: int
    valid_from: date
    valid_to: date | None


def _parse(
    parts: dict[str, Any], pupil_id: int
) -> tuple[list[_Slot], list[DiaryRecord], dict[int, DiaryHomework], dict[int, list[DiaryMark]],
           dict[int, DiaryAbsence]]:  # fmt: skip
    slots = [
        _Slot(
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            row[5],
            row[6],
            row[7],
            row[8],
            row[9],
            date.fromisoformat(row[10]),
            _day(row[11]),
        )
        for row in parts["slots"] or ()
    ]
    lessons, homework = [], {}
    for row in parts["lessons"] or ():
        on = date.fromisoformat(row[5])
        lesson = DiaryRecord(
            row[0], row[1], row[2], row[3], row[4], on, row[6], row[7], row[8], row[9],
            ClassLessonStatus(row[10]), row[11],
        )  # fmt: skip
        lessons.append(lesson)
        if row[12] is not None:
            homework[lesson.id] = DiaryHomework(row[12], row[13], date.fromisoformat(row[14]))
    marks: dict[int, list[DiaryMark]] = defaultdict(list)
    for row in parts["marks"] or ():
        marks[row[0]].append(
            DiaryMark(
                row[0],
                pupil_id,
                MarkWork(row[1]),
                AssessmentScheme(row[2]),
                row[3],
                row[4],
                row[5],
                date.fromisoformat(row[6]),
                datetime.fromisoformat(row[7]),
                row[8],
            )
        )
    absences = {
        row[0]: DiaryAbsence(AttendanceStatus(row[1]), row[2]) for row in parts["absences"] or ()
    }
    return slots, lessons, homework, marks, absences


# long: one pass over the days, laying each day's slots and lessons side by side, in order.
def _fill(days: list[DiaryDay], pupil_id: int, parts: dict[str, Any]) -> None:
    members = [(i, c, date.fromisoformat(a), _day(b)) for i, c, a, b in parts["members"]]
    # (membership, subject) -> the half the pupil learns the subject in (none: every lesson)
    halves = {(m, subject): half for m, subject, half in parts["halves"] or ()}
    slots, lessons, homework_of, marks_of, absence_of = _parse(parts, pupil_id)
    recorded = set(marks_of) | set(absence_of)  # lessons with the pupil's marks or absence
    subjects = {row[0]: DiarySubject(*row) for row in parts["subjects"] or ()}
    teachers = {row[0]: row[1] for row in parts["teachers"] or ()}
    rooms = {row[0]: DiaryRoom(*row) for row in parts["rooms"] or ()}
    off = _days_off(parts, days[0].on_date, days[-1].on_date)
    by_slot_day = {(lesson.slot_id, lesson.on_date): lesson for lesson in lessons}
    for day in days:
        day.day_off = off.get(day.on_date)
        in_class = {
            klass: membership
            for membership, klass, since, until in members
            if since <= day.on_date and (until is None or until > day.on_date)
        }
        entries: list[DiaryLesson] = []
        if day.day_off is None:
            for slot in slots:
                if slot.class_group_id in in_class and _in_force(slot, day.on_date):
                    lesson = by_slot_day.get((slot.id, day.on_date))
                    if _for_pupil(halves, in_class, slot, lesson, recorded):
                        entries.append(_entry(slot, day.on_date, lesson))
        # Lessons given outside the week's slots (extra lessons, a slot since changed).
        shown = {id(e.lesson) for e in entries if e.lesson is not None}
        for lesson in lessons:
            if (
                lesson.on_date == day.on_date
                and lesson.class_group_id in in_class
                and id(lesson) not in shown
                and _for_pupil(halves, in_class, lesson, lesson, recorded)
            ):
                entries.append(_entry(None, day.on_date, lesson))
        for entry in entries:
            entry.subject = subjects.get(entry.subject_id)
            entry.teacher_name = teachers.get(entry.teacher_id)
            entry.room = rooms.get(entry.room_id) if entry.room_id is not None else None
            if entry.lesson is not None:
                entry.homework = homework_of.get(entry.lesson.id)
                entry.marks = marks_of.get(entry.lesson.id, [])
                entry.attendance = absence_of.get(entry.lesson.id)
        day.lessons = sorted(entries, key=lambda e: (e.starts_minute, e.subgroup))


def _for_pupil(
    halves: dict[tuple[int, int], int],
    in_class: dict[int, int],
    source: _Slot | DiaryRecord,
    lesson: DiaryRecord | None,
    recorded: set[int],
) -> bool:
    """Whether a slot's (or a lesson's) lesson is the pupil's (issue 16): one of the whole
    class, of the pupil's half of its subject, or of a subject they are in no half of (not yet
    divided: every lesson); one of the other half only if a mark or an absence of theirs is
    recorded in it (halves carry no dates: they were in that half then)."""
    half = halves.get((in_class[source.class_group_id], source.subject_id))
    if source.subgroup == 0 or half is None or half == source.subgroup:
        return True
    return lesson is not None and lesson.id in recorded


def _in_force(slot: _Slot, on: date) -> bool:
    return (
        slot.weekday == on.isoweekday()
        and slot.valid_from <= on
        and (slot.valid_to is None or slot.valid_to > on)
    )


def _entry(slot: _Slot | None, on: date, lesson: DiaryRecord | None) -> DiaryLesson:
    source: Any = lesson if lesson is not None else slot
    return DiaryLesson(
        on_date=on,
        period=slot.period if slot is not None else None,
        starts_minute=source.starts_minute,
        ends_minute=source.ends_minute,
        subgroup=source.subgroup,
        class_group_id=source.class_group_id,
        subject_id=source.subject_id,
        teacher_id=lesson.teacher_id if lesson is not None else source.teacher_id,
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
