"""Classes (issue 15): a school's class groups for a year with the subjects of the state
curriculum, their pupils (through their enrollments) and their teachers (within their posts).

The database holds the rules that must hold under concurrent requests: a pupil is in a class
only through an open enrollment at that school in that grade (foreign keys and a trigger),
in one class at a time, and a class holds no more pupils than its capacity (a CHECK on the
count its trigger keeps). The workflow checks them first to say precisely what is wrong."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import (
    ARRAY,
    Integer,
    SmallInteger,
    delete,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AcademicYear,
    AcademicYearClosure,
    ClassGroup,
    ClassMembership,
    ClassMembershipHalf,
    ClassSubject,
    ClosureStatus,
    CurriculumPlan,
    Enrollment,
    Institution,
    InstitutionKind,
    Language,
    LmsPolicy,
    Sector,
    TeachingAssignment,
)
from resolvers.access import Principal, require
from resolvers.clock import today
from resolvers.errors import DomainError, ErrorCode, NotFound, Problem
from resolvers.lms.errors import LmsCode
from resolvers.lms.rules import holds_post, may_manage_school
from resolvers.lms.years import POLICY_COLUMNS, Policy, policy_of, require_in_year

LETTER = re.compile(r"^[А-ЯЁӨҮҢA-Z0-9]{1,3}$")
MAX_PUPILS_PER_CALL = 60


def class_name(grade: int, letter: str) -> str:
    return f"{grade}{letter}"


async def school_of(
    session: AsyncSession, principal: Principal, institution_id: int, *, field: str
) -> Institution:
    """A school the caller manages (NOT_FOUND, WRONG_INSTITUTION_KIND or FORBIDDEN)."""
    inst = await session.get(Institution, institution_id)
    if inst is None:
        raise NotFound("The school", field=field)
    check_school(principal, inst, field=field)
    return inst


def check_school(principal: Principal, inst: Institution, *, field: str) -> None:
    """The institution is a school (WRONG_INSTITUTION_KIND) the caller manages (FORBIDDEN)."""
    if inst.kind != InstitutionKind.SCHOOL:
        raise DomainError(LmsCode.WRONG_INSTITUTION_KIND, "This is not a school", field=field)
    require(may_manage_school(principal, inst), "This school is outside your scope")


async def class_group(
    session: AsyncSession, class_group_id: int, *, field: str, lock: bool = False
) -> ClassGroup:
    klass = await session.get(ClassGroup, class_group_id, with_for_update=lock)
    if klass is None:
        raise NotFound("The class", field=field)
    return klass


def year_closed(year_id: Any, institution_id: Any) -> Any:
    """Whether the school has closed this academic year (a column for a statement)."""
    return (
        select(AcademicYearClosure.id)
        .where(
            AcademicYearClosure.academic_year_id == year_id,
            AcademicYearClosure.institution_id == institution_id,
            AcademicYearClosure.status == ClosureStatus.DONE,
        )
        .exists()
    )


def _refuse_closed(closed: bool, *, field: str) -> None:
    if closed:
        raise DomainError(
            LmsCode.YEAR_CLOSED, "The school has closed this academic year", field=field
        )


async def managed_class_in_open_year(
    session: AsyncSession, principal: Principal, class_group_id: int, *, field: str
) -> tuple[ClassGroup, Institution, AcademicYear]:
    """A class of a school the caller manages, locked (changes to one class's pupils, teachers
    and timetable are decided one after another), with its school and academic year; refused
    when the school has closed that year (YEAR_CLOSED). The class locked and its school, year
    and closure read in one statement (four before). The closure is read as the lock's
    statement began, as a read just before it would be (closing a year takes no class's
    lock, so a separate read after the lock ordered nothing more)."""
    found = (
        await session.execute(
            select(
                ClassGroup,
                Institution,
                AcademicYear,
                year_closed(ClassGroup.academic_year_id, ClassGroup.institution_id).label("closed"),
            )
            .join(Institution, Institution.id == ClassGroup.institution_id)
            .join(AcademicYear, AcademicYear.id == ClassGroup.academic_year_id)
            .where(ClassGroup.id == class_group_id)
            .with_for_update(of=ClassGroup)
        )
    ).first()
    if found is None:
        raise NotFound("The class", field=field)
    klass, inst, year, closed = found
    if not may_manage_school(principal, inst):
        raise NotFound("The class", field=field)
    _refuse_closed(closed, field=field)
    return klass, inst, year


async def require_year_open(
    session: AsyncSession, year_id: int, institution_id: int, *, field: str
) -> None:
    """A school's closed year takes no more changes (YEAR_CLOSED)."""
    _refuse_closed(
        bool(await session.scalar(select(year_closed(year_id, institution_id)))), field=field
    )


async def add_curriculum(session: AsyncSession, klass: ClassGroup) -> None:
    """Give a class the subjects (and weekly hours) of the state curriculum for its grade."""
    plan = select(
        literal(klass.id, Integer),
        CurriculumPlan.subject_id,
        CurriculumPlan.weekly_hours,
    ).where(
        CurriculumPlan.curriculum_model == klass.curriculum_model,
        CurriculumPlan.grade == klass.grade,
    )
    await session.execute(
        insert(ClassSubject).from_select(["class_group_id", "subject_id", "weekly_hours"], plan)
    )


async def _school_year_open(
    session: AsyncSession, principal: Principal, school_id: int, year_id: int
) -> tuple[Institution, AcademicYear, Policy]:
    """A school the caller manages (as :func:`school_of`), an academic year it has not closed
    (NOT_FOUND, YEAR_CLOSED) and the school's policy: one statement (four before)."""
    policy = (
        select(*POLICY_COLUMNS)
        .where((LmsPolicy.institution_id == Institution.id) | LmsPolicy.institution_id.is_(None))
        .order_by(LmsPolicy.institution_id.is_(None))
        .limit(1)
        .lateral("policy")
    )
    found = (
        await session.execute(
            select(
                Institution,
                AcademicYear,
                year_closed(year_id, Institution.id).label("closed"),
                *policy.c,
            )
            .select_from(Institution)
            .outerjoin(AcademicYear, AcademicYear.id == year_id)
            .join(policy, true())
            .where(Institution.id == school_id)
        )
    ).first()
    if found is None:
        raise NotFound("The school", field="schoolId")
    inst, year = found[0], found[1]
    check_school(principal, inst, field="schoolId")
    if year is None:
        raise NotFound("The academic year", field="academicYearId")
    _refuse_closed(found.closed, field="academicYearId")
    return inst, year, policy_of(found)


async def create_class_group(
    session: AsyncSession,
    principal: Principal,
    *,
    school_id: int,
    year_id: int,
    grade: int,
    letter: str,
    language: Language,
    shift: int,
    homeroom_teacher_id: int | None,
    capacity: int | None,
) -> ClassGroup:
    """Open a class of a school for a year ("5А"), with the subjects of the curriculum its
    cohort learns under (S1: the 12-year standard or the legacy model). Its capacity is the
    school's class size limit (F5: 36 unless the school's policy row says otherwise)."""
    inst, year, policy = await _school_year_open(session, principal, school_id, year_id)
    letter = letter.strip().upper()
    if not LETTER.match(letter):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "A class letter is 1-3 capital letters or digits",
            field="letter",
        )
    model = policy.curriculum_model(year.start_year, grade)
    if not 1 <= grade <= policy.last_grade(model):
        raise DomainError(
            LmsCode.INVALID_GRADE,
            f"This school teaches grades 1 to {policy.last_grade(model)}",
            field="grade",
        )
    if inst.languages and language.value not in inst.languages:
        raise DomainError(
            LmsCode.LANGUAGE_NOT_TAUGHT,
            "The school does not teach in this language",
            field="language",
        )
    if not 1 <= shift <= 3:
        raise DomainError(ErrorCode.INVALID_INPUT, "The shift is 1, 2 or 3", field="shift")
    capacity = capacity if capacity is not None else policy.max_class_size
    if not 1 <= capacity <= policy.max_class_size:
        raise DomainError(
            LmsCode.CLASS_SIZE_EXCEEDED,
            f"A class here holds at most {policy.max_class_size} pupils",
            field="capacity",
        )
    if homeroom_teacher_id is not None:
        await require_staff(session, homeroom_teacher_id, inst.id, field="homeroomTeacherId")
    klass = ClassGroup(
        institution_id=inst.id,
        academic_year_id=year.id,
        grade=grade,
        letter=letter,
        language=language,
        shift=shift,
        curriculum_model=model,
        homeroom_teacher_id=homeroom_teacher_id,
        capacity=capacity,
    )
    session.add(klass)
    await session.flush()
    await add_curriculum(session, klass)
    return klass


async def require_staff(
    session: AsyncSession, person_id: int, institution_id: int, *, field: str
) -> int:
    post = await holds_post(session, person_id, institution_id, on=today())
    if post is None:
        raise DomainError(LmsCode.NOT_STAFF, "The person holds no post at this school", field=field)
    return post


async def _open_enrollments(session: AsyncSession, pupil_ids: list[int]) -> dict[int, Any]:
    rows = await session.execute(
        select(
            Enrollment.id, Enrollment.person_id, Enrollment.institution_id, Enrollment.grade_level
        ).where(
            Enrollment.person_id.in_(pupil_ids),
            Enrollment.sector == Sector.SCHOOL,
            Enrollment.exit_date.is_(None),
        )
    )
    return {row.person_id: row for row in rows}


def _check_pupils(klass: ClassGroup, pupil_ids: list[int], enrollments: dict[int, Any]) -> None:
    problems = []
    for i, pupil_id in enumerate(pupil_ids):
        found = enrollments.get(pupil_id)
        if found is None or found.institution_id != klass.institution_id:
            problems.append(
                (LmsCode.NOT_ENROLLED, "The pupil has no open enrollment at this school", i)
            )
        elif found.grade_level != klass.grade:
            problems.append(
                (LmsCode.INVALID_GRADE, f"The pupil is in grade {found.grade_level}", i)
            )
    if problems:
        (code, message, i), *more = problems
        raise DomainError(
            code,
            message,
            field=f"pupilIds[{i}]",
            more=[Problem(code=c, message=m, field=f"pupilIds[{j}]") for c, m, j in more],
        )


async def assign_pupils_to_class(
    session: AsyncSession,
    principal: Principal,
    *,
    class_group_id: int,
    pupil_ids: list[int],
    since: date | None,
) -> ClassGroup:
    """Put pupils in a class from a date, all or none (issue 15). Each needs an open
    enrollment at the class's school in its grade (the database holds this too); a pupil in
    another class of the year moves; one already here stays; the class never holds more than
    its capacity (CLASS_SIZE_EXCEEDED, held by a CHECK when two assignments race)."""
    if not pupil_ids or len(pupil_ids) > MAX_PUPILS_PER_CALL:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"Give 1 to {MAX_PUPILS_PER_CALL} pupils", field="pupilIds"
        )
    if len(set(pupil_ids)) != len(pupil_ids):
        raise DomainError(ErrorCode.INVALID_INPUT, "A pupil is listed twice", field="pupilIds")
    klass, _inst, year = await managed_class_in_open_year(
        session, principal, class_group_id, field="classGroupId"
    )
    since = since or max(year.starts_on, min(today(), year.ends_on))
    require_in_year(year, since, field="since")
    enrollments = await _open_enrollments(session, pupil_ids)
    _check_pupils(klass, pupil_ids, enrollments)
    current = {
        row.pupil_id: row
        for row in await session.execute(
            select(ClassMembership.id, ClassMembership.pupil_id, ClassMembership.class_group_id)
            .where(
                ClassMembership.pupil_id.in_(pupil_ids),
                ClassMembership.academic_year_id == year.id,
                ClassMembership.until.is_(None),
            )
            .with_for_update()
        )
    }
    joining = [p for p in pupil_ids if getattr(current.get(p), "class_group_id", None) != klass.id]
    if klass.pupil_count + len(joining) > klass.capacity:
        raise DomainError(
            LmsCode.CLASS_SIZE_EXCEEDED,
            f"{class_name(klass.grade, klass.letter)} holds at most {klass.capacity} pupils"
            f" ({klass.pupil_count} now)",
            field="pupilIds",
        )
    moving = [current[p].id for p in joining if p in current]
    if moving:
        await session.execute(
            update(ClassMembership)
            .where(ClassMembership.id.in_(moving))
            .values(until=func.greatest(since, ClassMembership.since), updated_at=func.now())
        )
    if joining:
        await session.execute(
            insert(ClassMembership),
            [
                {
                    "class_group_id": klass.id,
                    "enrollment_id": enrollments[p].id,
                    "pupil_id": p,
                    "institution_id": klass.institution_id,
                    "academic_year_id": year.id,
                    "grade": klass.grade,
                    "since": since,
                }
                for p in joining
            ],
        )
        # The registry's free-text class follows, so EMIS lists by class stay right.
        await session.execute(
            update(Enrollment)
            .where(Enrollment.id.in_([enrollments[p].id for p in joining]))
            .values(class_group=class_name(klass.grade, klass.letter), updated_at=func.now())
        )
    await session.refresh(klass)
    return klass


async def assign_pupils_to_half(
    session: AsyncSession,
    principal: Principal,
    *,
    class_group_id: int,
    subject_id: int,
    subgroup: int,
    pupil_ids: list[int],
) -> ClassGroup:
    """Put pupils of a class in a half of it for a subject the timetable teaches in halves
    (``subgroup`` 1 or 2, the slots' subgroup), or back with the whole class (0), all or none.
    Each must be in the class now (PUPIL_NOT_IN_CLASS) and the subject one the class learns
    (SUBJECT_NOT_IN_CURRICULUM). The database holds that the half is of the pupil's own class
    and of a subject it learns (the foreign keys of ``class_membership_half``); the class is
    locked, so two head teachers splitting it are served one after the other."""
    if not pupil_ids or len(pupil_ids) > MAX_PUPILS_PER_CALL:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"Give 1 to {MAX_PUPILS_PER_CALL} pupils", field="pupilIds"
        )
    if len(set(pupil_ids)) != len(pupil_ids):
        raise DomainError(ErrorCode.INVALID_INPUT, "A pupil is listed twice", field="pupilIds")
    if not 0 <= subgroup <= 2:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "The subgroup is 0 (the whole class), 1 or 2",
            field="subgroup",
        )
    klass, _inst, _year = await managed_class_in_open_year(
        session, principal, class_group_id, field="classGroupId"
    )
    memberships = await _memberships_learning(session, klass, subject_id, pupil_ids)
    if subgroup == 0:
        await session.execute(
            delete(ClassMembershipHalf).where(
                ClassMembershipHalf.membership_id.in_(memberships),
                ClassMembershipHalf.subject_id == subject_id,
            )
        )
        return klass
    # One statement text whatever the number of pupils (their memberships as one array).
    stmt = pg_insert(ClassMembershipHalf).from_select(
        ["membership_id", "subject_id", "class_group_id", "subgroup"],
        select(
            func.unnest(literal(memberships, ARRAY(Integer))),
            literal(subject_id, Integer),
            literal(klass.id, Integer),
            literal(subgroup, SmallInteger),
        ),
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[ClassMembershipHalf.membership_id, ClassMembershipHalf.subject_id],
            set_={"subgroup": stmt.excluded.subgroup, "updated_at": func.now()},
        )
    )
    return klass


async def _memberships_learning(
    session: AsyncSession, klass: ClassGroup, subject_id: int, pupil_ids: list[int]
) -> list[int]:
    """The open memberships of the class of ``pupil_ids`` (in their order), in one statement
    with whether the class learns the subject: SUBJECT_NOT_IN_CURRICULUM, or
    PUPIL_NOT_IN_CLASS for each pupil not in the class now."""
    rows = (
        await session.execute(
            select(
                ClassMembership.id,
                ClassMembership.pupil_id,
                select(ClassSubject.id)
                .where(
                    ClassSubject.class_group_id == klass.id, ClassSubject.subject_id == subject_id
                )
                .exists()
                .label("learns"),
            )
            .select_from(ClassGroup)
            .outerjoin(
                ClassMembership,
                (ClassMembership.class_group_id == ClassGroup.id)
                & ClassMembership.until.is_(None)
                & ClassMembership.pupil_id.in_(pupil_ids),
            )
            .where(ClassGroup.id == klass.id)
        )
    ).all()
    if not rows[0].learns:
        raise DomainError(
            LmsCode.SUBJECT_NOT_IN_CURRICULUM,
            "The class does not learn this subject",
            field="subjectId",
        )
    members = {row.pupil_id: row.id for row in rows if row.id is not None}
    missing = [i for i, p in enumerate(pupil_ids) if p not in members]
    if missing:
        first, *more = missing
        message = "The pupil is not in this class"
        raise DomainError(
            LmsCode.PUPIL_NOT_IN_CLASS,
            message,
            field=f"pupilIds[{first}]",
            more=[
                Problem(code=LmsCode.PUPIL_NOT_IN_CLASS, message=message, field=f"pupilIds[{i}]")
                for i in more
            ],
        )
    return [members[p] for p in pupil_ids]


async def assign_teacher(
    session: AsyncSession,
    principal: Principal,
    *,
    class_group_id: int,
    subject_id: int,
    teacher_id: int,
) -> TeachingAssignment:
    """Make a teacher the teacher of a subject in a class (issue 15: within their post at the
    school); the rows that give teachers their rights. Assigning again is a no-op; an ended
    assignment resumes."""
    klass, inst, _year = await managed_class_in_open_year(
        session, principal, class_group_id, field="classGroupId"
    )
    taught = await session.scalar(
        select(ClassSubject.id).where(
            ClassSubject.class_group_id == klass.id, ClassSubject.subject_id == subject_id
        )
    )
    if taught is None:
        raise DomainError(
            LmsCode.SUBJECT_NOT_IN_CURRICULUM,
            "The class does not learn this subject",
            field="subjectId",
        )
    post = await require_staff(session, teacher_id, inst.id, field="teacherId")
    found = await session.scalar(
        select(TeachingAssignment).where(
            TeachingAssignment.class_group_id == klass.id,
            TeachingAssignment.subject_id == subject_id,
            TeachingAssignment.teacher_id == teacher_id,
        )
    )
    if found is not None:
        found.ended_on = None
        found.staff_position_id = post
        await session.flush()
        return found
    assignment = TeachingAssignment(
        class_group_id=klass.id,
        subject_id=subject_id,
        teacher_id=teacher_id,
        staff_position_id=post,
        institution_id=inst.id,
        academic_year_id=klass.academic_year_id,
        since=today(),
    )
    session.add(assignment)
    await session.flush()
    return assignment
