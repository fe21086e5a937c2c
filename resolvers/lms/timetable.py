"""The timetable (issue 15): a school's bell schedule per shift, its rooms, and the weekly
slots of its classes. No teacher, class (or half of it) or room is in two places at once:
exclusion constraints in PostgreSQL, so that of two head teachers editing at once only one
wins. A slot's subject is in the class's curriculum and its teacher is assigned to teach it
there (foreign keys); the weekly hours per subject are reported against the plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    cast,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    BellPeriod,
    ClassGroup,
    ClassLesson,
    ClassSubject,
    Room,
    TeachingAssignment,
    TimetableSlot,
)
from resolvers.access import Principal
from resolvers.clock import today
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.lms.classes import managed_class_in_open_year, school_of
from resolvers.lms.errors import LmsCode
from resolvers.lms.rules import class_readable
from resolvers.lms.years import require_in_year

MAX_PERIODS = 13


@dataclass(frozen=True)
class PeriodTimes:
    number: int
    starts_minute: int
    ends_minute: int


# long: the shift's periods checked, then the slots moved with them, in one workflow.
async def set_bell_schedule(
    session: AsyncSession,
    principal: Principal,
    *,
    school_id: int,
    shift: int,
    periods: list[PeriodTimes],
) -> list[BellPeriod]:
    """Set the periods of a shift at a school (numbers and times). Slots in a period whose
    time changes move with it; if that makes a teacher, class or room clash with another
    shift's slot, nothing is written (TIMETABLE_CLASH)."""
    inst = await school_of(session, principal, school_id, field="schoolId")
    if not 1 <= shift <= 3:
        raise DomainError(ErrorCode.INVALID_INPUT, "The shift is 1, 2 or 3", field="shift")
    if not periods or len(periods) > MAX_PERIODS:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"Give 1 to {MAX_PERIODS} periods", field="periods"
        )
    numbers = [p.number for p in periods]
    if len(set(numbers)) != len(numbers):
        raise DomainError(ErrorCode.INVALID_INPUT, "A period is given twice", field="periods")
    for i, p in enumerate(periods):
        if not (0 <= p.starts_minute < p.ends_minute <= 1440) or not 0 <= p.number <= 12:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "A period is 0-12 and ends after it starts",
                field=f"periods[{i}]",
            )
    # Periods no slot uses are cleared first, so a new schedule may move them freely.
    await session.execute(
        delete(BellPeriod).where(
            BellPeriod.institution_id == inst.id,
            BellPeriod.shift == shift,
            ~exists().where(
                TimetableSlot.institution_id == BellPeriod.institution_id,
                TimetableSlot.shift == BellPeriod.shift,
                TimetableSlot.period == BellPeriod.number,
            ),
        )
    )
    stmt = pg_insert(BellPeriod).values(
        [
            {
                "institution_id": inst.id,
                "shift": shift,
                "number": p.number,
                "starts_minute": p.starts_minute,
                "ends_minute": p.ends_minute,
            }
            for p in periods
        ]
    )
    await session.execute(
        stmt.on_conflict_do_update(
            constraint="uq_bell_period_institution_id",
            set_={
                "starts_minute": stmt.excluded.starts_minute,
                "ends_minute": stmt.excluded.ends_minute,
            },
        )
    )
    await session.execute(
        update(TimetableSlot)
        .where(
            TimetableSlot.institution_id == inst.id,
            TimetableSlot.shift == shift,
            BellPeriod.institution_id == TimetableSlot.institution_id,
            BellPeriod.shift == TimetableSlot.shift,
            BellPeriod.number == TimetableSlot.period,
            or_(
                BellPeriod.starts_minute != TimetableSlot.starts_minute,
                BellPeriod.ends_minute != TimetableSlot.ends_minute,
            ),
        )
        .values(
            starts_minute=BellPeriod.starts_minute,
            ends_minute=BellPeriod.ends_minute,
            updated_at=func.now(),
        )
    )
    rows = await session.scalars(
        select(BellPeriod)
        .where(BellPeriod.institution_id == inst.id, BellPeriod.shift == shift)
        .order_by(BellPeriod.number)
    )
    return list(rows)


async def create_room(
    session: AsyncSession, principal: Principal, *, school_id: int, name: str, capacity: int | None
) -> Room:
    """Add a room to a school."""
    inst = await school_of(session, principal, school_id, field="schoolId")
    name = name.strip()
    if not 1 <= len(name) <= 40:
        raise DomainError(ErrorCode.INVALID_INPUT, "Name the room (1-40 characters)", field="name")
    if capacity is not None and not 1 <= capacity <= 500:
        raise DomainError(ErrorCode.INVALID_INPUT, "A room seats 1 to 500", field="capacity")
    room = Room(institution_id=inst.id, name=name, capacity=capacity)
    session.add(room)
    await session.flush()
    return room


@dataclass(frozen=True)
class SlotChange:
    """What a head teacher sets in one place of a class's week; no subject clears it."""

    class_group_id: int
    weekday: int
    period: int
    subgroup: int
    subject_id: int | None
    teacher_id: int | None
    room_id: int | None
    effective_from: date | None


def _check_place(change: SlotChange) -> None:
    if not 1 <= change.weekday <= 6:
        raise DomainError(ErrorCode.INVALID_INPUT, "A weekday is 1 (Monday) to 6", field="weekday")
    if not 0 <= change.subgroup <= 2:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "The subgroup is 0 (whole class), 1 or 2", field="subgroup"
        )
    if (change.subject_id is None) != (change.teacher_id is None):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "Give the subject and its teacher, or neither",
            field="teacherId",
        )


@dataclass(frozen=True)
class _Place:
    """The bell period a change's place names, and what it asks of the class's plan."""

    starts_minute: int
    ends_minute: int


async def _place_facts(session: AsyncSession, klass: Any, change: SlotChange) -> _Place:
    """The period's times (UNKNOWN_PERIOD without one); the subject is in the class's
    curriculum, its teacher assigned to teach it there, the room one of the school's: what the
    foreign keys hold, said precisely. One statement for the period, plan and assignment."""
    bell = (
        (BellPeriod.institution_id == klass.institution_id)
        & (BellPeriod.shift == klass.shift)
        & (BellPeriod.number == change.period)
    )
    in_plan = (
        select(ClassSubject.id)
        .where(
            ClassSubject.class_group_id == klass.id, ClassSubject.subject_id == change.subject_id
        )
        .exists()
    )
    assigned = (
        select(TeachingAssignment.id)
        .where(
            TeachingAssignment.class_group_id == klass.id,
            TeachingAssignment.subject_id == change.subject_id,
            TeachingAssignment.teacher_id == change.teacher_id,
            TeachingAssignment.ended_on.is_(None),
        )
        .exists()
    )
    facts = (
        await session.execute(
            select(
                select(BellPeriod.starts_minute).where(bell).scalar_subquery().label("starts"),
                select(BellPeriod.ends_minute).where(bell).scalar_subquery().label("ends"),
                in_plan.label("in_plan"),
                assigned.label("assigned"),
            )
        )
    ).one()
    if facts.starts is None:
        raise DomainError(
            LmsCode.UNKNOWN_PERIOD,
            f"Shift {klass.shift} has no period {change.period}: set the bell schedule first",
            field="period",
        )
    if change.subject_id is not None:
        if not facts.in_plan:
            raise DomainError(
                LmsCode.SUBJECT_NOT_IN_CURRICULUM,
                "The class does not learn this subject",
                field="subjectId",
            )
        if not facts.assigned:
            raise DomainError(
                LmsCode.TEACHER_NOT_ASSIGNED,
                "The teacher is not assigned this subject in this class",
                field="teacherId",
            )
        if change.room_id is not None:
            room = await session.get(Room, change.room_id)
            if room is None or room.institution_id != klass.institution_id:
                raise NotFound("The room", field="roomId")
    return _Place(facts.starts, facts.ends)


def _overlapping(klass_id: int, change: SlotChange, period: _Place) -> Any:
    """Slots of the class in the same place of the week that the change replaces."""
    clauses = [
        TimetableSlot.class_group_id == klass_id,
        TimetableSlot.weekday == change.weekday,
        TimetableSlot.starts_minute < period.ends_minute,
        TimetableSlot.ends_minute > period.starts_minute,
    ]
    if change.subgroup != 0:
        clauses.append(or_(TimetableSlot.subgroup == change.subgroup, TimetableSlot.subgroup == 0))
    return and_(*clauses)


async def _end_replaced(
    session: AsyncSession, klass_id: int, change: SlotChange, period: _Place, start: date
) -> None:
    """End the slots the change replaces on ``start``: a slot that began before it ends then;
    one that begins on or after it goes, unless lessons were recorded in it."""
    replaced = list(
        await session.scalars(
            select(TimetableSlot)
            .where(
                _overlapping(klass_id, change, period),
                or_(TimetableSlot.valid_to.is_(None), TimetableSlot.valid_to > start),
            )
            .with_for_update()
        )
    )
    for slot in replaced:
        if slot.valid_from < start:
            slot.valid_to = start
            continue
        used = await session.scalar(
            select(ClassLesson.id).where(ClassLesson.slot_id == slot.id).limit(1)
        )
        if used is not None:
            raise DomainError(
                LmsCode.TIMETABLE_CLASH,
                "Lessons were recorded in the slot this replaces; change it from a later date",
                field="effectiveFrom",
            )
        await session.delete(slot)
    await session.flush()


async def set_timetable_slot(
    session: AsyncSession, principal: Principal, change: SlotChange
) -> TimetableSlot | None:
    """Set (or clear) one place in a class's week from a date on (issue 15). The exclusion
    constraints refuse a teacher, class or room in two places at once, whichever of two
    concurrent edits commits second (TIMETABLE_CLASH)."""
    _check_place(change)
    klass, _inst, year = await managed_class_in_open_year(
        session, principal, change.class_group_id, field="classGroupId"
    )
    start = change.effective_from or max(year.starts_on, min(today(), year.ends_on))
    require_in_year(year, start, field="effectiveFrom")
    period = await _place_facts(session, klass, change)
    await _end_replaced(session, klass.id, change, period, start)
    if change.subject_id is None or change.teacher_id is None:
        return None
    slot = TimetableSlot(
        academic_year_id=year.id,
        institution_id=klass.institution_id,
        class_group_id=klass.id,
        subject_id=change.subject_id,
        teacher_id=change.teacher_id,
        room_id=change.room_id,
        weekday=change.weekday,
        shift=klass.shift,
        period=change.period,
        starts_minute=period.starts_minute,
        ends_minute=period.ends_minute,
        subgroup=change.subgroup,
        valid_from=start,
    )
    session.add(slot)
    await session.flush()
    return slot


# --- reading --------------------------------------------------------------------------------

SLOT_COLUMNS = tuple(TimetableSlot.__table__.c)


def in_force(on: date | ColumnElement[Any]) -> Any:
    """The slots in force on ``on`` (a date, or a date PostgreSQL works out: the compiled
    path's today)."""
    return and_(
        TimetableSlot.valid_from <= on,
        or_(TimetableSlot.valid_to.is_(None), TimetableSlot.valid_to > on),
    )


def isoweekday(on: date | ColumnElement[Any]) -> Any:
    """``on``'s weekday, 1 (Monday) to 7, as slots store it: Python's for a date, PostgreSQL's
    for a date it works out."""
    if isinstance(on, date):
        return on.isoweekday()
    return cast(func.extract("isodow", on), Integer)


def week_of(on: date) -> tuple[date, date]:
    monday = on - timedelta(days=on.weekday())
    return monday, monday + timedelta(days=6)


def slots_query(
    *,
    class_group_id: int | None,
    teacher_id: int | None,
    room_id: int | None,
    on: date | ColumnElement[Any],
) -> Select[Any]:
    """The weekly slots of a class, teacher or room in force on a date, in week order (the
    slot's id last: two slots of a teacher or room at one time come in one order)."""
    stmt = select(*SLOT_COLUMNS).where(in_force(on))
    if class_group_id is not None:
        stmt = stmt.where(TimetableSlot.class_group_id == class_group_id)
    if teacher_id is not None:
        stmt = stmt.where(TimetableSlot.teacher_id == teacher_id)
    if room_id is not None:
        stmt = stmt.where(TimetableSlot.room_id == room_id)
    return stmt.order_by(*TIMETABLE_ORDER)


TIMETABLE_ORDER = (
    TimetableSlot.weekday,
    TimetableSlot.starts_minute,
    TimetableSlot.subgroup,
    TimetableSlot.id,
)
_READ_KLASS = aliased(ClassGroup)  # made once: see lms/rules.py


def timetable_query(
    principal: Principal,
    *,
    class_group_id: int | None,
    teacher_id: int | None,
    room_id: int | None,
    on: date | ColumnElement[Any],
) -> Select[Any]:
    """The ``timetable`` page: :func:`slots_query` of the classes the caller may read (the
    resolvers' statement, and the compiled path's list: schema/compiled/lms.py)."""
    stmt = slots_query(class_group_id=class_group_id, teacher_id=teacher_id, room_id=room_id, on=on)
    klass = _READ_KLASS
    return stmt.where(
        exists().where(klass.id == TimetableSlot.class_group_id, class_readable(principal, klass))
    )


@dataclass(frozen=True)
class SubjectHours:
    """A subject of a class: weekly hours in the plan and in the timetable."""

    subject_id: int
    planned: Decimal
    scheduled: int


async def hours_against_plan(
    session: AsyncSession, class_group_id: int, on: date
) -> list[SubjectHours]:
    """Each subject of a class with its planned weekly hours and the lessons a week its
    timetable gives it on a date (a lesson split between the class's halves counts once)."""
    scheduled = (
        select(
            TimetableSlot.subject_id,
            func.count(func.distinct(func.row(TimetableSlot.weekday, TimetableSlot.period))).label(
                "n"
            ),
        )
        .where(TimetableSlot.class_group_id == class_group_id, in_force(on))
        .group_by(TimetableSlot.subject_id)
        .subquery()
    )
    rows = await session.execute(
        select(ClassSubject.subject_id, ClassSubject.weekly_hours, scheduled.c.n)
        .outerjoin(scheduled, scheduled.c.subject_id == ClassSubject.subject_id)
        .where(ClassSubject.class_group_id == class_group_id)
        .order_by(ClassSubject.subject_id)
    )
    return [SubjectHours(r.subject_id, r.weekly_hours, int(r.n or 0)) for r in rows]
