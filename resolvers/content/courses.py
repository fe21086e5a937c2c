"""Open courses (issue 16): a university licensed for higher education offers a course (its
modules and weighted assessments), runs it with dates and a capacity, and students enroll: a
person with an open higher-education enrollment, or anyone for an open run. The database holds
a run's capacity: every enrollment adds one to the run's count in the same transaction, and a
CHECK refuses a count past the capacity, so concurrent enrollments never overfill a run."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from models import (
    AssessmentKind,
    CourseAssessment,
    CourseEnrollment,
    CourseModule,
    CourseRun,
    EducationLevel,
    Enrollment,
    Institution,
    InstitutionKind,
    OpenCourse,
    ProgrammeCode,
    Sector,
    StudyLevel,
)
from resolvers import clock
from resolvers import licensing as licensing_service
from resolvers.access import Principal, require
from resolvers.content.errors import ContentCode
from resolvers.content.rules import may_offer_courses
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.mutations import register_constraint

register_constraint(
    "uq_open_course_code",
    ContentCode.COURSE_CODE_TAKEN,
    "The university already has a course with this code",
    "code",
)
register_constraint(
    "ck_course_run_capacity", ContentCode.RUN_FULL, "Every place of the run is taken", "runId"
)
register_constraint(
    "uq_course_enrollment_person",
    ContentCode.ALREADY_ENROLLED,
    "You are enrolled in this run already",
    "runId",
)

COURSE_LANGUAGES = ("ky", "ru", "uz", "tg", "en")
HIGHER_LEVELS = (EducationLevel.HIGHER, EducationLevel.POSTGRADUATE)
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{1,39}$")
MAX_PARTS = 50


@dataclass(frozen=True)
class ModuleSpec:
    title: str
    hours: Decimal
    summary: str | None = None


@dataclass(frozen=True)
class AssessmentSpec:
    title: str
    kind: AssessmentKind
    weight: int
    required: bool = True


@dataclass(frozen=True)
class CourseSpec:
    """A course as its university describes it."""

    code: str
    title: str
    language: str
    level: StudyLevel
    credits: Decimal
    programme_code: str
    description: str | None = None


def _title(value: str, field: str) -> str:
    cleaned = " ".join(value.split())
    if not 1 <= len(cleaned) <= 300:
        raise DomainError(ErrorCode.INVALID_INPUT, "A title is 1-300 characters", field=field)
    return cleaned


async def offering_university(
    session: AsyncSession, principal: Principal, institution_id: int, *, on: date, field: str
) -> Institution:
    """The university offering a course, if the caller runs its courses, it is a university,
    and it holds a licence for higher education in force on ``on`` (the licensing guard:
    LICENCE_REQUIRED)."""
    require(
        may_offer_courses(principal, institution_id),
        "Only the university's course team offers its courses",
    )
    university = await session.get(Institution, institution_id)
    if university is None:
        raise NotFound("The university", field=field)
    if university.kind != InstitutionKind.UNIVERSITY:
        raise DomainError(
            ContentCode.WRONG_INSTITUTION_KIND, "Open courses come from universities", field=field
        )
    await licensing_service.require_teaching_licence(
        session,
        institution_id=institution_id,
        on=on,
        level=HIGHER_LEVELS,
        field=field,
        institution=university,
    )
    return university


def _course_values(spec: CourseSpec) -> dict[str, Any]:
    code = spec.code.strip().upper()
    if not _CODE.match(code):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "A course code is 2-40 capital letters, digits, '.', '_' or '-'",
            field="code",
        )
    language = spec.language.strip().lower()
    if language not in COURSE_LANGUAGES:
        raise DomainError(
            ContentCode.LANGUAGE_NOT_OFFERED,
            "Courses are in Kyrgyz, Russian, Uzbek, Tajik or English",
            field="language",
        )
    if not Decimal("0.5") <= spec.credits <= Decimal(60) or spec.credits % Decimal("0.5"):
        raise DomainError(ErrorCode.INVALID_INPUT, "Credits are 0.5-60 in halves", field="credits")
    description = (spec.description or "").strip()
    if len(description) > 20_000:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "A description is at most 20,000 characters",
            field="description",
        )
    return {
        "code": code,
        "title": _title(spec.title, "title"),
        "description": description or None,
        "language": language,
        "level": spec.level,
        # As the column keeps it (NUMERIC(4, 1)): the answer shows the written course unread.
        "credits": spec.credits.quantize(Decimal("0.1")),
    }


def _parts(modules: Sequence[ModuleSpec], assessments: Sequence[AssessmentSpec]) -> None:
    if not 1 <= len(modules) <= MAX_PARTS:
        raise DomainError(ErrorCode.INVALID_INPUT, f"1-{MAX_PARTS} modules", field="modules")
    if not 1 <= len(assessments) <= MAX_PARTS:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"1-{MAX_PARTS} assessments", field="assessments"
        )
    for index, module in enumerate(modules):
        _title(module.title, f"modules[{index}].title")
        if not Decimal(0) < module.hours <= Decimal(1000):
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "A module lasts 0-1,000 hours",
                field=f"modules[{index}].hours",
            )
    for index, assessment in enumerate(assessments):
        _title(assessment.title, f"assessments[{index}].title")
        if not 0 <= assessment.weight <= 100:
            raise DomainError(
                ContentCode.INVALID_WEIGHTS,
                "A weight is 0-100",
                field=f"assessments[{index}].weight",
            )
    if sum(a.weight for a in assessments) != 100:
        raise DomainError(
            ContentCode.INVALID_WEIGHTS,
            "The assessments' weights add up to 100",
            field="assessments",
        )


@dataclass(frozen=True)
class OfferedCourse:
    """A new course with its modules and assessments as written (the loaders' columns)."""

    course: OpenCourse
    modules: list[Any]
    assessments: list[Any]


async def create_open_course(
    session: AsyncSession,
    principal: Principal,
    *,
    institution_id: int,
    spec: CourseSpec,
    modules: Sequence[ModuleSpec],
    assessments: Sequence[AssessmentSpec],
) -> OfferedCourse:
    """Offer a course (the university's course team). The university must be licensed for
    higher education today (LICENCE_REQUIRED); the programme code must be a higher-education
    entry of the classifier (UNKNOWN_PROGRAMME); weights add up to 100 (INVALID_WEIGHTS)."""
    values = _course_values(spec)
    _parts(modules, assessments)
    await offering_university(
        session, principal, institution_id, on=clock.today(), field="institutionId"
    )
    programme = spec.programme_code.strip().upper()
    level = await session.scalar(select(ProgrammeCode.level).where(ProgrammeCode.code == programme))
    if level is None or EducationLevel(level) not in HIGHER_LEVELS:
        raise DomainError(
            ContentCode.UNKNOWN_PROGRAMME,
            f"No higher-education programme has the code {programme!r}",
            field="programmeCode",
        )
    course = OpenCourse(
        institution_id=institution_id,
        programme_code=programme,
        created_by=principal.subject[:120],
        **values,
    )
    session.add(course)
    await session.flush()
    # Written with RETURNING, in the order given: the answer's modules and assessments are these
    # rows (they were read again after).
    written_modules = await session.execute(
        insert(CourseModule).returning(*CourseModule.__table__.c, sort_by_parameter_order=True),
        [
            {
                "course_id": course.id,
                "position": i + 1,
                "title": _title(m.title, "title"),
                "summary": (m.summary or "").strip()[:2000] or None,
                "hours": m.hours,
            }
            for i, m in enumerate(modules)
        ],
    )
    module_rows = list(written_modules)
    written_assessments = await session.execute(
        insert(CourseAssessment).returning(
            *CourseAssessment.__table__.c, sort_by_parameter_order=True
        ),
        [
            {
                "course_id": course.id,
                "position": i + 1,
                "title": _title(a.title, "title"),
                "kind": a.kind,
                "weight": a.weight,
                "required": a.required,
            }
            for i, a in enumerate(assessments)
        ],
    )
    assessment_rows = list(written_assessments)
    await emit(
        session,
        topic="content.course_offered",
        aggregate_type="OpenCourse",
        aggregate_id=course.id,
        payload={"institution_id": institution_id},
    )
    # The course's generated columns came back with its INSERT: nothing to read again.
    return OfferedCourse(course, module_rows, assessment_rows)


async def create_course_run(
    session: AsyncSession,
    principal: Principal,
    *,
    course_id: int,
    starts_on: date,
    ends_on: date,
    enrollment_closes_on: date,
    capacity: int | None,
    open_to_all: bool,
    pass_mark: int,
) -> CourseRun:
    """Schedule a run of a course (its university's course team). The university must be
    licensed for higher education on the run's first day."""
    course = await session.get(OpenCourse, course_id)
    if course is None:
        raise NotFound("The course", field="courseId")
    if not starts_on <= ends_on:
        raise DomainError(ErrorCode.INVALID_DATE, "A run starts before it ends", field="endsOn")
    if not clock.today() <= enrollment_closes_on <= ends_on:
        raise DomainError(
            ErrorCode.INVALID_DATE,
            "Enrollment closes between today and the run's last day",
            field="enrollmentClosesOn",
        )
    if capacity is not None and not 1 <= capacity <= 1_000_000:
        raise DomainError(ErrorCode.INVALID_INPUT, "A capacity is at least 1", field="capacity")
    if not 0 <= pass_mark <= 100:
        raise DomainError(ErrorCode.INVALID_INPUT, "A pass mark is 0-100", field="passMark")
    await offering_university(
        session, principal, course.institution_id, on=starts_on, field="courseId"
    )
    run = CourseRun(
        course_id=course.id,
        starts_on=starts_on,
        ends_on=ends_on,
        enrollment_closes_on=enrollment_closes_on,
        capacity=capacity,
        open_to_all=open_to_all,
        pass_mark=pass_mark,
    )
    session.add(run)
    await session.flush()
    await session.refresh(run)
    return run


@dataclass(frozen=True)
class Enrolled:
    """A new course enrollment and its run (with the run's new count)."""

    enrollment: CourseEnrollment
    run: CourseRun


async def enroll_in_course_run(
    session: AsyncSession, principal: Principal, *, run_id: int
) -> Enrolled:
    """Enroll the signed-in learner in a run.

    Rules: enrollment is open (ENROLLMENT_CLOSED after its last day); the learner is a student
    (an open higher-education enrollment) unless the run is open to all (NOT_ELIGIBLE); the
    university still holds its licence (LICENCE_REQUIRED); once per run (ALREADY_ENROLLED, a
    unique constraint); a place is left (RUN_FULL: the run's count is raised in this
    transaction and a CHECK holds it within the capacity, whatever runs concurrently)."""
    person_id = principal.person_id
    require(person_id is not None, "Sign in as the learner to enroll")
    assert person_id is not None
    # The run, its course and the university's kind and ownership (for the licence guard) in
    # one statement.
    found = (
        await session.execute(
            select(CourseRun, OpenCourse, Institution)
            .join(OpenCourse, OpenCourse.id == CourseRun.course_id)
            .join(Institution, Institution.id == OpenCourse.institution_id)
            .where(CourseRun.id == run_id)
        )
    ).first()
    if found is None:
        raise NotFound("The course run", field="runId")
    run, course, university = found
    if clock.today() > run.enrollment_closes_on:
        raise DomainError(
            ContentCode.ENROLLMENT_CLOSED,
            f"Enrollment closed on {run.enrollment_closes_on.isoformat()}",
            field="runId",
        )
    if not run.open_to_all and not await _is_student(session, person_id):
        raise DomainError(
            ContentCode.NOT_ELIGIBLE,
            "This run is for students of universities",
            field="runId",
        )
    await licensing_service.require_teaching_licence(
        session,
        institution_id=course.institution_id,
        on=clock.today(),
        level=HIGHER_LEVELS,
        field="runId",
        institution=university,
    )
    enrollment = CourseEnrollment(run_id=run.id, person_id=person_id)
    session.add(enrollment)
    await session.flush()
    # The CHECK (enrolled <= capacity) holds under concurrency: the update locks the run row;
    # the run comes back with its new count (the answer shows it).
    counted = (
        await session.execute(
            update(CourseRun)
            .where(CourseRun.id == run.id)
            .values(enrolled=CourseRun.enrolled + 1)
            .returning(CourseRun.enrolled, CourseRun.updated_at)
            .execution_options(synchronize_session=False)
        )
    ).one()
    set_committed_value(run, "enrolled", counted.enrolled)
    set_committed_value(run, "updated_at", counted.updated_at)
    await emit(
        session,
        topic="content.course_enrolled",
        aggregate_type="CourseEnrollment",
        aggregate_id=enrollment.id,
        payload={"run_id": run.id},
    )
    # The enrollment's generated columns came back with its INSERT: nothing to read again.
    return Enrolled(enrollment, run)


async def _is_student(session: AsyncSession, person_id: int) -> bool:
    found = await session.scalar(
        select(
            exists().where(
                Enrollment.person_id == person_id,
                Enrollment.sector == Sector.HIGHER,
                Enrollment.exit_date.is_(None),
            )
        )
    )
    return bool(found)
