"""Results, completion, certificates and credit recognition on the open education portal.

The university's course team records each student's assessment results; a certificate is
issued only for an enrollment that completed the run (every required assessment has a result
and the weighted score reaches the run's pass mark) and carries a number anyone can check
(``verifyCertificate``: public facts only, as licences are checked). The student's own
university records on the enrollment the credits it recognises."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AssessmentResult,
    CourseAssessment,
    CourseCertificate,
    CourseEnrollment,
    CourseEnrollmentStatus,
    CourseRun,
    Enrollment,
    Institution,
    OpenCourse,
    Person,
    Sector,
)
from resolvers import clock
from resolvers.access import Principal, Role, require
from resolvers.content.errors import ContentCode
from resolvers.content.rules import may_offer_courses
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.mutations import register_constraint

register_constraint(
    "uq_course_certificate_enrollment",
    ContentCode.CERTIFICATE_EXISTS,
    "A certificate was issued for this enrollment already",
    "enrollmentId",
)

# Crockford's base32: no I, L, O or U, so a number read aloud or typed is not mistaken.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Who speaks for a student's own university when it recognises credits.
RECOGNISING_ROLES = (Role.SCHOOL_ADMIN, Role.ADMISSION_OFFICER, Role.CONTENT_EDITOR)


async def _enrollment_of_course(
    session: AsyncSession, enrollment_id: int, *, lock: bool = False
) -> tuple[CourseEnrollment, CourseRun, OpenCourse]:
    enrollment = await session.get(
        CourseEnrollment, enrollment_id, with_for_update=lock or None, populate_existing=lock
    )
    if enrollment is None:
        raise NotFound("The course enrollment", field="enrollmentId")
    run = await session.get(CourseRun, enrollment.run_id)
    assert run is not None
    course = await session.get(OpenCourse, run.course_id)
    assert course is not None
    return enrollment, run, course


async def record_assessment_result(
    session: AsyncSession,
    principal: Principal,
    *,
    enrollment_id: int,
    assessment_id: int,
    score: Decimal,
) -> CourseEnrollment:
    """Record (or correct) a student's score, 0-100, in one assessment of their course (the
    university's course team), until the certificate is issued (ENROLLMENT_COMPLETED)."""
    enrollment, _run, course = await _enrollment_of_course(session, enrollment_id, lock=True)
    require(
        may_offer_courses(principal, course.institution_id),
        "Only the university's course team records results",
    )
    if enrollment.status == CourseEnrollmentStatus.COMPLETED:
        raise DomainError(
            ContentCode.ENROLLMENT_COMPLETED,
            "The enrollment is completed; its results are final",
            field="enrollmentId",
        )
    assessment = await session.get(CourseAssessment, assessment_id)
    if assessment is None or assessment.course_id != course.id:
        raise NotFound("The course's assessment", field="assessmentId")
    if not Decimal(0) <= score <= Decimal(100):
        raise DomainError(ErrorCode.INVALID_INPUT, "A score is 0-100", field="score")
    values = {"score": score, "recorded_by": principal.subject[:120]}
    stmt = insert(AssessmentResult).values(
        enrollment_id=enrollment.id, assessment_id=assessment.id, **values
    )
    await session.execute(
        stmt.on_conflict_do_update(constraint="uq_course_assessment_result", set_=values)
    )
    return enrollment


async def final_score(session: AsyncSession, enrollment_id: int, course_id: int) -> Decimal:
    """The weighted score of an enrollment (weights add up to 100), or NOT_COMPLETED naming a
    required assessment without a result."""
    rows = await session.execute(
        select(
            CourseAssessment.title,
            CourseAssessment.weight,
            CourseAssessment.required,
            AssessmentResult.score,
        )
        .outerjoin(
            AssessmentResult,
            (AssessmentResult.assessment_id == CourseAssessment.id)
            & (AssessmentResult.enrollment_id == enrollment_id),
        )
        .where(CourseAssessment.course_id == course_id)
        .order_by(CourseAssessment.position)
    )
    total = Decimal(0)
    for row in rows:
        if row.score is None:
            if row.required:
                raise DomainError(
                    ContentCode.NOT_COMPLETED,
                    f"{row.title!r} has no result yet",
                    field="enrollmentId",
                )
            continue
        total += Decimal(row.weight) * row.score / 100
    return total.quantize(Decimal("0.01"))


def _number(year: int) -> str:
    return f"OC-{year}-" + "".join(secrets.choice(_ALPHABET) for _ in range(10))


async def issue_certificate(
    session: AsyncSession, principal: Principal, *, enrollment_id: int
) -> CourseCertificate:
    """Issue the certificate of a completed enrollment (the university's course team).

    Rules: every required assessment has a result and the weighted score reaches the run's
    pass mark (NOT_COMPLETED otherwise: nothing is written); one certificate per enrollment
    (CERTIFICATE_EXISTS, a unique constraint, also when two are issued at once)."""
    enrollment, run, course = await _enrollment_of_course(session, enrollment_id, lock=True)
    require(
        may_offer_courses(principal, course.institution_id),
        "Only the university's course team issues certificates",
    )
    if enrollment.status == CourseEnrollmentStatus.COMPLETED:
        raise DomainError(
            ContentCode.CERTIFICATE_EXISTS,
            "A certificate was issued for this enrollment already",
            field="enrollmentId",
        )
    score = await final_score(session, enrollment.id, course.id)
    if score < run.pass_mark:
        raise DomainError(
            ContentCode.NOT_COMPLETED,
            f"The final score {score} is below the pass mark {run.pass_mark}",
            field="enrollmentId",
        )
    today = clock.today()
    enrollment.status = CourseEnrollmentStatus.COMPLETED
    enrollment.final_score = score
    enrollment.completed_on = today
    certificate = CourseCertificate(
        number=_number(today.year),
        enrollment_id=enrollment.id,
        issued_on=today,
        issued_by=principal.subject[:120],
    )
    session.add(certificate)
    await session.flush()
    await emit(
        session,
        topic="content.certificate_issued",
        aggregate_type="CourseCertificate",
        aggregate_id=certificate.id,
        payload={"enrollment_id": enrollment.id},
    )
    await session.refresh(certificate)
    return certificate


async def recognize_course_credits(
    session: AsyncSession, principal: Principal, *, enrollment_id: int, credits: Decimal
) -> CourseEnrollment:
    """Record on a completed enrollment the credits the student's own university recognises
    (that university's staff: administrators, admission officers, the course team; or the
    ministry). At most the course's credits."""
    enrollment, _run, course = await _enrollment_of_course(session, enrollment_id, lock=True)
    if enrollment.status != CourseEnrollmentStatus.COMPLETED:
        raise DomainError(
            ContentCode.NOT_COMPLETED, "The course is not completed yet", field="enrollmentId"
        )
    university = await _own_university(session, principal, enrollment.person_id)
    if not Decimal(0) < credits <= course.credits:
        raise DomainError(
            ContentCode.CREDITS_EXCEED_COURSE,
            f"The course is worth {course.credits} credits",
            field="credits",
        )
    enrollment.recognised_by_institution_id = university
    enrollment.recognised_credits = credits
    enrollment.recognised_on = clock.today()
    await session.flush()
    await session.refresh(enrollment)
    return enrollment


async def _own_university(session: AsyncSession, principal: Principal, person_id: int) -> int:
    """The university the student is enrolled at now, if the caller speaks for it."""
    universities = list(
        await session.scalars(
            select(Enrollment.institution_id).where(
                Enrollment.person_id == person_id,
                Enrollment.sector == Sector.HIGHER,
                Enrollment.exit_date.is_(None),
            )
        )
    )
    if principal.is_ministry and universities:
        return universities[0]
    if principal.role in RECOGNISING_ROLES:
        for university in universities:
            if university in principal.institution_ids:
                return university
    raise DomainError(
        ErrorCode.FORBIDDEN,
        "Only the student's own university recognises their credits",
        field="enrollmentId",
    )


@dataclass(frozen=True)
class CertificateCheck:
    """The public facts of a certificate: no personal data but the holder's initials."""

    number: str
    valid: bool
    issued_on: date
    revoked_on: date | None
    completed_on: date | None
    final_score: Decimal | None
    course_code: str
    course_title: str
    credits: Decimal
    institution_id: int
    institution_name: str
    holder_initials: str


async def verify_certificate(session: AsyncSession, number: str) -> CertificateCheck | None:
    """The public facts of the certificate with this number, or None (anyone may ask)."""
    wanted = number.strip().upper()
    if not 4 <= len(wanted) <= 32:
        return None
    row: Any = (
        await session.execute(
            select(
                CourseCertificate.number,
                CourseCertificate.issued_on,
                CourseCertificate.revoked_on,
                CourseEnrollment.completed_on,
                CourseEnrollment.final_score,
                OpenCourse.code,
                OpenCourse.title,
                OpenCourse.credits,
                Institution.id.label("institution_id"),
                Institution.name.label("institution_name"),
                Person.first_name,
                Person.last_name,
            )
            .join(CourseEnrollment, CourseEnrollment.id == CourseCertificate.enrollment_id)
            .join(CourseRun, CourseRun.id == CourseEnrollment.run_id)
            .join(OpenCourse, OpenCourse.id == CourseRun.course_id)
            .join(Institution, Institution.id == OpenCourse.institution_id)
            .join(Person, Person.id == CourseEnrollment.person_id)
            .where(CourseCertificate.number == wanted)
        )
    ).first()
    if row is None:
        return None
    initials = " ".join(f"{name[:1]}." for name in (row.first_name, row.last_name) if name)
    return CertificateCheck(
        number=row.number,
        valid=row.revoked_on is None,
        issued_on=row.issued_on,
        revoked_on=row.revoked_on,
        completed_on=row.completed_on,
        final_score=row.final_score,
        course_code=row.code,
        course_title=row.title,
        credits=row.credits,
        institution_id=row.institution_id,
        institution_name=row.institution_name,
        holder_initials=initials,
    )
