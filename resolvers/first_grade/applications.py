"""A guardian's application for a child's place in grade 1 (or 2): applying, the school's
check of the documents, and withdrawal while the application is open (domain.md F1-F4)."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Integer, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    BenefitStatus,
    EducationLevel,
    Enrollment,
    FirstGradeApplication,
    FirstGradeStage,
    FirstGradeStatus,
    Institution,
    InstitutionKind,
    IntakeSeason,
    Language,
    Person,
    RejectionReason,
    Sector,
)
from resolvers import driver
from resolvers import licensing as licensing_service
from resolvers.access import Principal, require
from resolvers.clock import today
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.first_grade.eligibility import (
    entry_grade,
    in_catchment,
    licence_days,
    open_first_grade_season,
    stage_on,
)
from resolvers.first_grade.errors import FirstGradeCode
from resolvers.first_grade.events import HISTORY
from resolvers.first_grade.rules import ENDED, OPEN, application_readable, may_withdraw
from resolvers.institutions.rules import may_manage_institution
from resolvers.intake import (
    PHONE_MAX,
    REASON_MAX,
    claim_benefit,
    clean_text,
    guardians_child_for_update,
)
from resolvers.lookup import readable_or_not_found
from resolvers.new_rows import insert_of, insert_row
from resolvers.people.pin import check_pin_matches, parse_pin

FGA = FirstGradeApplication
CERTIFICATE_MAX = 40
ADDRESS_MAX = 300


class CountedAddress(NamedTuple):
    """The address an application's stage counts, and whether it is in the school's
    catchment."""

    district_id: int | None
    address: str | None
    catchment: bool


def _check_child_pin(child: Person, pin: str) -> None:
    """The PIN given is the child's current PIN, and agrees with their record (P1)."""
    parse_pin(pin, field="pin")
    if child.pin != pin:
        raise DomainError(
            FirstGradeCode.PIN_MISMATCH, "The PIN is not the child's current PIN", field="pin"
        )
    check_pin_matches(pin, sex=child.sex, birth_date=child.birth_date, field="pin")


def _birth_certificate(value: str) -> str:
    certificate = clean_text(value, CERTIFICATE_MAX, "birthCertificate")
    if certificate is None or len(certificate) < 4:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "Give the birth certificate's series and number",
            field="birthCertificate",
        )
    return certificate


async def _school_taking(
    session: AsyncSession, school_id: int, season: IntakeSeason, language: Language
) -> Institution:
    """The chosen school: a school open at the school year's start, licensed (if it needs a
    licence) on the days allocation checks, today and the first school day, teaching in the
    chosen language."""
    school = await driver.get_object(session, Institution, school_id)
    if school is None:
        raise NotFound("The school", field="schoolId")
    if school.kind != InstitutionKind.SCHOOL:
        raise DomainError(
            FirstGradeCode.WRONG_INSTITUTION_KIND, "This is not a school", field="schoolId"
        )
    if school.outside_e_enrollment:
        raise DomainError(
            FirstGradeCode.OUTSIDE_E_ENROLLMENT,
            "This school admits first graders outside e-enrollment: apply to the school",
            field="schoolId",
        )
    if school.closed_on is not None and school.closed_on <= season.school_year_starts:
        raise DomainError(
            FirstGradeCode.INSTITUTION_CLOSED, "The school is closed", field="schoolId"
        )
    for day in licence_days(season):
        await licensing_service.require_teaching_licence(
            session,
            institution_id=school.id,
            on=day,
            level=EducationLevel.PRIMARY,
            field="schoolId",
            institution=school,
        )
    if language.value not in school.languages:
        raise DomainError(
            FirstGradeCode.LANGUAGE_NOT_TAUGHT,
            "The school does not teach in this language",
            field="language",
        )
    return school


async def _counted_address(
    session: AsyncSession,
    school_id: int,
    child: Person,
    stage: FirstGradeStage,
    district_id: int | None,
    address: str | None,
) -> CountedAddress:
    """Stage 1 counts the child's registered address, and takes only the catchment's
    children; later stages count the actual residence the family gives (F2)."""
    if stage == FirstGradeStage.CATCHMENT:
        district_id, where = child.registered_district_id, child.registered_address
    else:
        where = clean_text(address, ADDRESS_MAX, "address")
        if district_id is None or where is None:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "Give the district and address where the child actually lives",
                field="address",
            )
    catchment = await in_catchment(session, school_id, district_id, where)
    if stage == FirstGradeStage.CATCHMENT and not catchment:
        raise DomainError(
            FirstGradeCode.NOT_IN_CATCHMENT,
            "In stage 1 a school takes children registered in its catchment area",
            field="schoolId",
        )
    return CountedAddress(district_id, where, catchment)


_CHILD = bindparam("child_id", type_=Integer)
# _check_not_applied_or_enrolled's statement, made once and sent through the driver (issue 21;
# the ended statuses one comparison each: a statement made once takes no expanding IN).
_APPLIED_OR_ENROLLED = driver.Made(
    select(
        exists().where(
            FGA.child_id == _CHILD,
            FGA.season_id == bindparam("season_id", type_=Integer),
            *(FGA.status != status for status in ENDED),
        ),
        exists().where(
            Enrollment.person_id == _CHILD,
            Enrollment.sector == Sector.SCHOOL,
            Enrollment.exit_date.is_(None),
        ),
    )
)


async def _check_not_applied_or_enrolled(
    session: AsyncSession, child_id: int, season_id: int
) -> None:
    """One active application per child and season, and none for a child at school (both
    asked in one statement)."""
    params = {"child_id": child_id, "season_id": season_id}
    found = await driver.one(session, _APPLIED_OR_ENROLLED, params)
    if found[0]:
        raise DomainError(
            FirstGradeCode.DUPLICATE_APPLICATION,
            "The child already has an application this season",
            field="childId",
        )
    if found[1]:
        raise DomainError(
            FirstGradeCode.ALREADY_ENROLLED, "The child already attends a school", field="childId"
        )


async def apply_for_first_grade(
    session: AsyncSession,
    principal: Principal,
    *,
    child_id: int,
    pin: str,
    birth_certificate: str,
    school_id: int,
    language: Language,
    finished_preschool_programme: bool,
    benefit_code: str | None,
    benefit_proof: str | None,
    address_district_id: int | None,
    address: str | None,
    contact_phone: str | None,
) -> FirstGradeApplication:
    """A guardian applies for a child's place at a school.

    Rules (domain.md, First-grade e-enrollment; issue 3): the child's PIN must match their
    record; the entry grade follows the 12-year rule; in stage 1 only children registered in
    the school's catchment area apply, in stage 2 the actual residence counts; the school
    teaches in the chosen language; one active application per child and season (also a
    partial unique index); a benefit names a category of the season, with proof. A school
    that needs a licence (private ones) holds one in force covering primary education today
    and on the first school day, the days allocation checks, or takes no applications
    (``LICENCE_REQUIRED``, issue 5; issue 12, finding 10).
    """
    child = await guardians_child_for_update(session, principal, child_id)
    _check_child_pin(child, pin)
    certificate = _birth_certificate(birth_certificate)
    on = today()
    season = await open_first_grade_season(session, on)
    stage = stage_on(season, on)
    school = await _school_taking(session, school_id, season, language)
    grade = entry_grade(child.birth_date, season, finished_preschool=finished_preschool_programme)
    if school.grade_from is not None and not school.grade_from <= grade <= (school.grade_to or 12):
        raise DomainError(
            FirstGradeCode.GRADE_NOT_TAUGHT,
            f"The school does not teach grade {grade}",
            field="schoolId",
        )
    benefit = await claim_benefit(session, season.id, benefit_code, benefit_proof)
    counted = await _counted_address(session, school.id, child, stage, address_district_id, address)
    await _check_not_applied_or_enrolled(session, child.id, season.id)
    # Inserted by a statement made once, every column read back (resolvers/new_rows.py).
    application: FirstGradeApplication = await insert_row(
        session,
        _NEW_APPLICATION,
        season_id=season.id,
        child_id=child.id,
        guardian_id=principal.person_id,
        school_id=school.id,
        language=language,
        grade_level=grade,
        finished_preschool_programme=finished_preschool_programme,
        stage=stage,
        birth_certificate=certificate,
        address_district_id=counted.district_id,
        address=counted.address,
        catchment=counted.catchment,
        **benefit.columns(),
        contact_phone=clean_text(contact_phone, PHONE_MAX, "contactPhone"),
        status=FirstGradeStatus.SUBMITTED,
        rejection_reason=None,
        enrollment_id=None,
    )
    await HISTORY.record_and_emit(
        session,
        principal.subject,
        application.id,
        FirstGradeStatus.SUBMITTED,
        topic="enrollment.first_grade_applied",
        aggregate_type="FirstGradeApplication",
        payload={"school_id": school.id, "grade_level": grade, "stage": stage.value},
    )
    return application


_NEW_APPLICATION = insert_of(
    FGA,
    "season_id",
    "child_id",
    "guardian_id",
    "school_id",
    "language",
    "grade_level",
    "finished_preschool_programme",
    "stage",
    "birth_certificate",
    "address_district_id",
    "address",
    "catchment",
    "benefit_category_id",
    "benefit_status",
    "benefit_proof",
    "contact_phone",
    "status",
    "rejection_reason",
    "enrollment_id",
)


async def verify_application(
    session: AsyncSession,
    principal: Principal,
    *,
    application_id: int,
    documents_valid: bool,
    benefit_confirmed: bool | None,
    rejection_reason: RejectionReason | None,
    note: str | None,
) -> FirstGradeApplication:
    """The school checks the documents: a valid application is verified (its benefit
    confirmed or not), an invalid one is rejected with a reason code (issue 3)."""
    application = await readable_or_not_found(
        session,
        FGA,
        application_id,
        application_readable(principal),
        what="The application",
        field="applicationId",
    )
    school = await session.get(Institution, application.school_id)
    assert school is not None
    require(may_manage_institution(principal, school), "This school is outside your scope")
    if application.status != FirstGradeStatus.SUBMITTED:
        raise DomainError(
            FirstGradeCode.APPLICATION_NOT_PENDING,
            "Only a submitted application is verified",
            field="applicationId",
        )
    reason = clean_text(note, REASON_MAX, "note")
    if documents_valid:
        application.status = FirstGradeStatus.VERIFIED
        if application.benefit_status == BenefitStatus.CLAIMED:
            application.benefit_status = (
                BenefitStatus.VERIFIED if benefit_confirmed else BenefitStatus.REJECTED
            )
    else:
        if rejection_reason is None:
            raise DomainError(
                FirstGradeCode.REJECTION_REASON_REQUIRED,
                "A rejection carries a reason code",
                field="rejectionReason",
            )
        application.status = FirstGradeStatus.REJECTED
        application.rejection_reason = rejection_reason
        reason = rejection_reason.value + (f": {reason}" if reason else "")
    await session.flush()
    await HISTORY.record(session, principal.subject, [application.id], application.status, reason)
    await emit(
        session,
        topic=f"enrollment.first_grade_{application.status.value}",
        aggregate_type="FirstGradeApplication",
        aggregate_id=application.id,
        payload={"rejection_reason": rejection_reason.value if rejection_reason else None},
    )
    await session.refresh(application)
    return application


async def _withdrawable_for_update(
    session: AsyncSession, principal: Principal, application_id: int
) -> FirstGradeApplication:
    """The application, locked ``FOR UPDATE``, if this principal may act on it: the child's
    guardian (an active guardianship, as the kindergarten queue checks) or staff in whose
    scope its school lies (``may_manage_institution``, as verification checks). Both are
    exactly the readers of ``application_readable``; to anyone else it does not exist, and
    they neither lock it nor learn that it is there."""
    return await readable_or_not_found(
        session,
        FGA,
        application_id,
        application_readable(principal),
        what="The application",
        field="applicationId",
    )


async def withdraw_first_grade_application(
    session: AsyncSession,
    principal: Principal,
    *,
    application_id: int,
    reason: str | None,
) -> FirstGradeApplication:
    """Take back an application still open (submitted, verified or waitlisted) at the
    family's request; the child may then apply again this season.

    Rules: who acts is the child's guardian or the school's staff (``may_withdraw``,
    ``_withdrawable_for_update``); an admitted child is enrolled, and leaves school through
    the registry's ``withdrawStudent``, not here; rejected, cancelled and withdrawn
    applications are closed. The row lock orders a withdrawal and an allocation: allocation
    locks the applications it ranks, so it either sees this one withdrawn and leaves it out
    (its place goes to the next child) or has admitted it first, and the withdrawal is
    refused. A non-admitted application holds no quota place, so nothing is returned.
    """
    require(may_withdraw(principal), "Only a guardian or the school withdraws an application")
    note = clean_text(reason, REASON_MAX, "reason")
    application = await _withdrawable_for_update(session, principal, application_id)
    if application.status == FirstGradeStatus.ADMITTED:
        raise DomainError(
            FirstGradeCode.APPLICATION_CLOSED,
            "The child is admitted and enrolled: leaving school is a withdrawal from the "
            "school (withdrawStudent), not of the application",
            field="applicationId",
        )
    if application.status not in OPEN:
        raise DomainError(
            FirstGradeCode.APPLICATION_CLOSED,
            f"The application is closed ({application.status.value})",
            field="applicationId",
        )
    was = application.status
    application.status = FirstGradeStatus.WITHDRAWN
    await session.flush()
    await HISTORY.record(
        session, principal.subject, [application.id], FirstGradeStatus.WITHDRAWN, note
    )
    await emit(
        session,
        topic="enrollment.first_grade_withdrawn",
        aggregate_type="FirstGradeApplication",
        aggregate_id=application.id,
        payload={
            "school_id": application.school_id,
            "grade_level": application.grade_level,
            "previous_status": was.value,
        },
    )
    await session.refresh(application)
    return application
