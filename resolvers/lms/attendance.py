"""Attendance (issue 15): a lesson's register, taken for the whole class in one request, all
or nothing. Only the pupils who were not present are stored (absent, late, excused with the
reason); once the register is taken, every other pupil of the class was present."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, func, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from models import Attendance, AttendanceStatus, ClassLesson
from resolvers.access import Principal
from resolvers.clock import today
from resolvers.errors import DomainError, ErrorCode, Problem
from resolvers.lms.diary import diary_changed
from resolvers.lms.errors import LmsCode
from resolvers.lms.halves import LessonPupils, lesson_pupils, not_in_half
from resolvers.lms.lessons import writable_lesson

MAX_ENTRIES = 60
MAX_REASON = 300


@dataclass(frozen=True)
class AttendanceEntry:
    pupil_id: int
    status: AttendanceStatus
    reason: str | None = None
    minutes_late: int | None = None


async def pupils_of_lesson(session: AsyncSession, lesson: ClassLesson) -> set[int]:
    """The pupils the lesson is for: those in its class on its date, but for a lesson of a
    half, not those learning its subject in the other half (:mod:`resolvers.lms.halves`)."""
    return (await lesson_pupils(session, lesson)).pupils


def _check_entries(
    entries: list[AttendanceEntry], pupils: LessonPupils, lesson: ClassLesson, field: str
) -> None:
    problems: list[Problem] = []
    seen: set[int] = set()
    for i, entry in enumerate(entries):
        at = f"{field}[{i}]"
        if entry.pupil_id in seen:
            problems.append(Problem(ErrorCode.INVALID_INPUT, "The pupil is listed twice", at))
        seen.add(entry.pupil_id)
        if entry.pupil_id in pupils.other_half:
            problems.append(not_in_half(entry.pupil_id, at, lesson))
        elif entry.pupil_id not in pupils.pupils:
            problems.append(
                Problem(LmsCode.PUPIL_NOT_IN_CLASS, "The pupil is not in this class", at)
            )
        reason = (entry.reason or "").strip()
        if entry.status == AttendanceStatus.EXCUSED and not reason:
            problems.append(Problem(ErrorCode.INVALID_INPUT, "Say why the pupil is excused", at))
        if len(reason) > MAX_REASON:
            problems.append(Problem(ErrorCode.INVALID_INPUT, "The reason is too long", at))
        if entry.minutes_late is not None and (
            entry.status != AttendanceStatus.LATE or not 1 <= entry.minutes_late <= 90
        ):
            problems.append(
                Problem(ErrorCode.INVALID_INPUT, "Minutes late (1-90) go with LATE only", at)
            )
    if problems:
        first, *more = problems
        raise DomainError(first.code, first.message, field=first.field, more=more)


async def _register_taken(session: AsyncSession, lesson: ClassLesson) -> None:
    """Mark the lesson's register taken; its new times come back with the update (the lesson
    was read again after it)."""
    taken = (
        await session.execute(
            update(ClassLesson)
            .where(
                tuple_(ClassLesson.academic_year_id, ClassLesson.id)
                == tuple_(lesson.academic_year_id, lesson.id)
            )
            .values(attendance_taken_at=func.now(), updated_at=func.now())
            .returning(ClassLesson.attendance_taken_at, ClassLesson.updated_at)
            .execution_options(synchronize_session=False)
        )
    ).one()
    set_committed_value(lesson, "attendance_taken_at", taken.attendance_taken_at)
    set_committed_value(lesson, "updated_at", taken.updated_at)


async def record_attendance(
    session: AsyncSession,
    principal: Principal,
    *,
    lesson_id: int,
    entries: list[AttendanceEntry],
    on: date | None = None,
) -> ClassLesson:
    """Take a lesson's register for the whole class at once (issue 15): every entry is for a
    pupil of the class on the lesson's date (PUPIL_NOT_IN_CLASS otherwise, also held by a
    trigger) and, in a lesson of a half, not of the other half of its subject
    (PUPIL_NOT_IN_HALF; issue 16), and nothing is written unless all are. Pupils not listed
    (or listed PRESENT) were present; taking the register again replaces it."""
    if len(entries) > MAX_ENTRIES:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"At most {MAX_ENTRIES} entries", field="entries"
        )
    lesson, _inst = await writable_lesson(
        session, principal, lesson_id, field="lessonId", on=on or today()
    )
    pupils = await lesson_pupils(session, lesson)
    _check_entries(entries, pupils, lesson, "entries")
    missing = [e for e in entries if e.status != AttendanceStatus.PRESENT]
    keep = [e.pupil_id for e in missing]
    dropped = delete(Attendance).where(
        Attendance.academic_year_id == lesson.academic_year_id,
        Attendance.lesson_id == lesson.id,
    )
    if keep:
        dropped = dropped.where(Attendance.pupil_id.not_in(keep))
    # Whose diary changes: pupils no longer marked absent or late, and those marked now.
    touched = set(await session.scalars(dropped.returning(Attendance.pupil_id)))
    touched |= set(keep)
    if missing:
        stmt = pg_insert(Attendance).values(
            [
                {
                    "academic_year_id": lesson.academic_year_id,
                    "lesson_id": lesson.id,
                    "pupil_id": e.pupil_id,
                    "class_group_id": lesson.class_group_id,
                    "on_date": lesson.on_date,
                    "status": e.status,
                    "reason": (e.reason or "").strip() or None,
                    "minutes_late": e.minutes_late,
                    "recorded_by": principal.subject,
                }
                for e in missing
            ]
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[
                    Attendance.academic_year_id,
                    Attendance.lesson_id,
                    Attendance.pupil_id,
                ],
                set_={
                    "status": stmt.excluded.status,
                    "reason": stmt.excluded.reason,
                    "minutes_late": stmt.excluded.minutes_late,
                    "recorded_by": stmt.excluded.recorded_by,
                    "recorded_at": func.now(),
                },
            )
        )
    await _register_taken(session, lesson)
    await diary_changed(session, topic="lms.attendance_recorded", lesson=lesson, pupil_ids=touched)
    return lesson
