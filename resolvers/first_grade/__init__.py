"""First-grade e-enrollment as a state machine (domain.md, "First-grade e-enrollment").

An application moves ``submitted -> verified -> admitted`` (or ``waitlisted``, admitted by a
later allocation) or ``submitted -> rejected`` with a reason code; while still open
(submitted, verified, waitlisted) the family may withdraw it (``withdrawn``). Allocation ranks a
school's verified applications (catchment, then the season's benefit categories by rank,
then time of application) into its quota; admission opens the school enrollment and, in the
same transaction, ends the child's kindergarten place and cancels any queue application.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ARRAY,
    Integer,
    Select,
    String,
    case,
    exists,
    false,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    BenefitCategory,
    BenefitStatus,
    CatchmentArea,
    EducationLevel,
    Enrollment,
    ExitReason,
    FirstGradeApplication,
    FirstGradeApplicationEvent,
    FirstGradeQuota,
    FirstGradeStage,
    FirstGradeStatus,
    Guardianship,
    Institution,
    InstitutionKind,
    IntakeKind,
    IntakeSeason,
    Language,
    OutboxEvent,
    Person,
    RejectionReason,
    Sector,
)
from resolvers import institutions as institutions_service
from resolvers import licensing as licensing_service
from resolvers import preschool as preschool_service
from resolvers.access import Principal, Role, require
from resolvers.clock import today
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.institutions.rules import may_manage_institution
from resolvers.intake import (
    OFFICER_ROLES,
    any_of,
    benefit_category,
    children_of,
    officer_scope,
    require_guardian_of,
)
from resolvers.mutations import register_constraint
from resolvers.pin import check_pin_matches, parse_pin
from resolvers.relay import Ordering

log = logging.getLogger("bilim.enrollment")

FGA = FirstGradeApplication
APPLICATION_COLUMNS = tuple(FGA.__table__.c)
QUOTA_COLUMNS = tuple(FirstGradeQuota.__table__.c)

APPLICATION_ORDERINGS = {
    "APPLIED_AT": Ordering(((FGA.applied_at, False), (FGA.id, False))),
    "CATCHMENT_FIRST": Ordering(((FGA.catchment, True), (FGA.applied_at, False), (FGA.id, False))),
    "ID": Ordering(((FGA.id, False),)),
}

PENDING = (FirstGradeStatus.VERIFIED, FirstGradeStatus.WAITLISTED)
# Still open: the family may withdraw it (allocation takes only the PENDING ones).
OPEN = (FirstGradeStatus.SUBMITTED, *PENDING)
# Ended without a place: the child may apply again this season (the partial unique index
# uq_first_grade_application_active_child ignores these too).
ENDED = (FirstGradeStatus.REJECTED, FirstGradeStatus.CANCELLED, FirstGradeStatus.WITHDRAWN)
CERTIFICATE_MAX = 40
ADDRESS_MAX = 300
PROOF_MAX = 300
PHONE_MAX = 30
WITHDRAWAL_REASON_MAX = 200  # first_grade_application_event.reason


# --- who may read what ---------------------------------------------------------------------


def application_readable(principal: Principal) -> Any:
    """May this principal read this application? A guardian: their children's; school admins
    and district/region officers: those to schools in their scope; the ministry: all."""
    if principal.is_ministry:
        return true()
    if principal.role == Role.GUARDIAN and principal.person_id is not None:
        return FGA.child_id.in_(children_of(principal.person_id))
    if principal.role not in OFFICER_ROLES:
        return false()
    inst = aliased(Institution)
    return exists().where(inst.id == FGA.school_id, officer_scope(principal, inst))


def quota_readable(principal: Principal) -> Any:
    """Quotas are public figures: everyone may read how many places a school offers."""
    return true()


@dataclass(frozen=True)
class ApplicationFilter:
    season_id: int | None = None
    school_id: int | None = None
    status: FirstGradeStatus | None = None
    grade_level: int | None = None
    child_id: int | None = None


def applications_query(principal: Principal, flt: ApplicationFilter) -> Select[Any]:
    """Applications the principal may read, narrowed by the filter."""
    stmt = select(*APPLICATION_COLUMNS).where(application_readable(principal))
    if flt.season_id is not None:
        stmt = stmt.where(FGA.season_id == flt.season_id)
    if flt.school_id is not None:
        stmt = stmt.where(FGA.school_id == flt.school_id)
    if flt.status is not None:
        stmt = stmt.where(FGA.status == flt.status)
    if flt.grade_level is not None:
        stmt = stmt.where(FGA.grade_level == flt.grade_level)
    if flt.child_id is not None:
        stmt = stmt.where(FGA.child_id == flt.child_id)
    return stmt


async def record_status(
    session: AsyncSession,
    actor: str,
    application_ids: Sequence[int],
    status: FirstGradeStatus,
    reason: str | None = None,
) -> None:
    """Append a status-history row for each application (one statement however many)."""
    if not application_ids:
        return
    ids = select(
        func.unnest(literal(list(application_ids), type_=ARRAY(Integer))).label("id")
    ).subquery()
    await session.execute(
        insert(FirstGradeApplicationEvent).from_select(
            ["application_id", "status", "actor", "reason"],
            select(ids.c.id, literal(status.value), literal(actor), literal(reason, type_=String)),
        )
    )


# --- rules ---------------------------------------------------------------------------------


def entry_grade(born: date, season: IntakeSeason, *, finished_preschool: bool) -> int:
    """The grade a child enters (domain.md, Age; 12-year schooling from 2025): born in Y-6,
    grade 1; born in Y-7, grade 2; a Y-6 child who finished the pre-school programme may enter
    grade 2 (when the season's policy allows). Y is the season's year; offsets are policy."""
    if born.year == season.year - season.grade1_birth_year_offset:
        return 2 if finished_preschool and season.preschool_programme_grade2 else 1
    if born.year == season.year - season.grade2_birth_year_offset:
        return 2
    if born.year > season.year - season.grade1_birth_year_offset:
        raise DomainError(
            ErrorCode.CHILD_TOO_YOUNG,
            f"Children born in {season.year - season.grade1_birth_year_offset} or earlier "
            f"enter school in {season.year}",
            field="childId",
        )
    raise DomainError(
        ErrorCode.CHILD_TOO_OLD,
        f"Children born before {season.year - season.grade2_birth_year_offset} do not apply "
        "through first-grade enrollment",
        field="childId",
    )


def stage_on(season: IntakeSeason, on: date) -> FirstGradeStage:
    """Which stage of the season ``on`` falls in (domain.md: stage 1 by registered address,
    stage 2 by actual residence, then directors enroll on request)."""
    assert season.stage1_starts is not None
    assert season.stage1_ends is not None
    assert season.stage2_starts is not None
    assert season.stage2_ends is not None
    if season.stage1_starts <= on <= season.stage1_ends:
        return FirstGradeStage.CATCHMENT
    if season.stage2_starts <= on <= season.stage2_ends:
        return FirstGradeStage.RESIDENCE
    if season.stage2_ends < on <= season.ends_on:
        return FirstGradeStage.DIRECTOR
    raise DomainError(
        ErrorCode.SEASON_CLOSED,
        "Applications are not taken today (between or outside the season's stages)",
        field="schoolId",
    )


async def open_first_grade_season(session: AsyncSession, on: date) -> IntakeSeason:
    season = await session.scalar(
        select(IntakeSeason)
        .where(
            IntakeSeason.kind == IntakeKind.FIRST_GRADE,
            IntakeSeason.stage1_starts <= on,
            IntakeSeason.ends_on >= on,
        )
        .order_by(IntakeSeason.year.desc())
        .limit(1)
    )
    if season is None:
        raise DomainError(
            ErrorCode.SEASON_CLOSED, "No first-grade season is open today", field="schoolId"
        )
    return season


async def in_catchment(
    session: AsyncSession, school_id: int, district_id: int | None, address: str | None
) -> bool:
    """Does the address lie in one of the school's catchment areas? An area lists its
    streets; an area with no streets covers its whole district."""
    if district_id is None:
        return False
    areas = await session.scalars(
        select(CatchmentArea).where(
            CatchmentArea.institution_id == school_id, CatchmentArea.district_id == district_id
        )
    )
    text = (address or "").lower()
    return any(
        not area.streets or any(street.lower() in text for street in area.streets) for area in areas
    )


def _clean(value: str | None, limit: int, field: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = " ".join(value.split())
    if len(value) > limit:
        raise DomainError(ErrorCode.INVALID_INPUT, f"At most {limit} characters", field=field)
    return value


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
    that needs a licence (private ones) holds one in force today covering primary education,
    or takes no applications (``LICENCE_REQUIRED``, issue 5).
    """
    await require_guardian_of(session, principal, child_id)
    child = await session.get(Person, child_id, with_for_update=True)
    if child is None:
        raise NotFound("The child", field="childId")
    parse_pin(pin, field="pin")
    if child.pin != pin:
        raise DomainError(
            ErrorCode.PIN_MISMATCH, "The PIN is not the child's current PIN", field="pin"
        )
    check_pin_matches(pin, sex=child.sex, birth_date=child.birth_date, field="pin")
    certificate = _clean(birth_certificate, CERTIFICATE_MAX, "birthCertificate")
    if certificate is None or len(certificate) < 4:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "Give the birth certificate's series and number",
            field="birthCertificate",
        )
    on = today()
    season = await open_first_grade_season(session, on)
    stage = stage_on(season, on)
    school = await session.get(Institution, school_id)
    if school is None:
        raise NotFound("The school", field="schoolId")
    if school.kind != InstitutionKind.SCHOOL:
        raise DomainError(
            ErrorCode.WRONG_INSTITUTION_KIND, "This is not a school", field="schoolId"
        )
    if school.closed_on is not None and school.closed_on <= season.school_year_starts:
        raise DomainError(ErrorCode.INSTITUTION_CLOSED, "The school is closed", field="schoolId")
    await licensing_service.require_teaching_licence(
        session, institution_id=school.id, on=on, level=EducationLevel.PRIMARY, field="schoolId"
    )
    if language.value not in school.languages:
        raise DomainError(
            ErrorCode.LANGUAGE_NOT_TAUGHT,
            "The school does not teach in this language",
            field="language",
        )
    grade = entry_grade(child.birth_date, season, finished_preschool=finished_preschool_programme)
    category = await benefit_category(session, season.id, benefit_code, field="benefitCategory")
    proof = _clean(benefit_proof, PROOF_MAX, "benefitProof")
    if category is not None and proof is None:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "Describe the document proving the benefit",
            field="benefitProof",
        )
    if stage == FirstGradeStage.CATCHMENT:
        district_id, where = child.registered_district_id, child.registered_address
    else:
        district_id, where = address_district_id, _clean(address, ADDRESS_MAX, "address")
        if district_id is None or where is None:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "Give the district and address where the child actually lives",
                field="address",
            )
    catchment = await in_catchment(session, school.id, district_id, where)
    if stage == FirstGradeStage.CATCHMENT and not catchment:
        raise DomainError(
            ErrorCode.NOT_IN_CATCHMENT,
            "In stage 1 a school takes children registered in its catchment area",
            field="schoolId",
        )
    duplicate = await session.scalar(
        select(FGA.id).where(
            FGA.child_id == child.id,
            FGA.season_id == season.id,
            FGA.status.not_in(ENDED),
        )
    )
    if duplicate is not None:
        raise DomainError(
            ErrorCode.DUPLICATE_APPLICATION,
            "The child already has an application this season",
            field="childId",
        )
    at_school = await session.scalar(
        select(Enrollment.id).where(
            Enrollment.person_id == child.id,
            Enrollment.sector == Sector.SCHOOL,
            Enrollment.exit_date.is_(None),
        )
    )
    if at_school is not None:
        raise DomainError(
            ErrorCode.ALREADY_ENROLLED, "The child already attends a school", field="childId"
        )
    application = FGA(
        season_id=season.id,
        child_id=child.id,
        guardian_id=principal.person_id,
        school_id=school.id,
        language=language,
        grade_level=grade,
        finished_preschool_programme=finished_preschool_programme,
        stage=stage,
        birth_certificate=certificate,
        address_district_id=district_id,
        address=where,
        catchment=catchment,
        benefit_category_id=category.id if category else None,
        benefit_status=BenefitStatus.CLAIMED if category else BenefitStatus.NONE,
        benefit_proof=proof if category else None,
        contact_phone=_clean(contact_phone, PHONE_MAX, "contactPhone"),
        status=FirstGradeStatus.SUBMITTED,
    )
    session.add(application)
    await session.flush()
    await record_status(session, principal.subject, [application.id], FirstGradeStatus.SUBMITTED)
    await emit(
        session,
        topic="enrollment.first_grade_applied",
        aggregate_type="FirstGradeApplication",
        aggregate_id=application.id,
        payload={"school_id": school.id, "grade_level": grade, "stage": stage.value},
    )
    await session.refresh(application)
    return application


async def _school_managed(
    session: AsyncSession, principal: Principal, school_id: int
) -> Institution:
    return await institutions_service.managed_institution(
        session,
        principal,
        school_id,
        kind=InstitutionKind.SCHOOL,
        label="school",
        field="schoolId",
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
    application = await session.get(FGA, application_id, with_for_update=True)
    if application is None:
        raise NotFound("The application", field="applicationId")
    school = await session.get(Institution, application.school_id)
    assert school is not None
    require(may_manage_institution(principal, school), "This school is outside your scope")
    if application.status != FirstGradeStatus.SUBMITTED:
        raise DomainError(
            ErrorCode.APPLICATION_NOT_PENDING,
            "Only a submitted application is verified",
            field="applicationId",
        )
    reason = _clean(note, 200, "note")
    if documents_valid:
        application.status = FirstGradeStatus.VERIFIED
        if application.benefit_status == BenefitStatus.CLAIMED:
            application.benefit_status = (
                BenefitStatus.VERIFIED if benefit_confirmed else BenefitStatus.REJECTED
            )
    else:
        if rejection_reason is None:
            raise DomainError(
                ErrorCode.REJECTION_REASON_REQUIRED,
                "A rejection carries a reason code",
                field="rejectionReason",
            )
        application.status = FirstGradeStatus.REJECTED
        application.rejection_reason = rejection_reason
        reason = rejection_reason.value + (f": {reason}" if reason else "")
    await session.flush()
    await record_status(session, principal.subject, [application.id], application.status, reason)
    await emit(
        session,
        topic=f"enrollment.first_grade_{application.status.value}",
        aggregate_type="FirstGradeApplication",
        aggregate_id=application.id,
        payload={"rejection_reason": rejection_reason.value if rejection_reason else None},
    )
    await session.refresh(application)
    return application


def may_withdraw(principal: Principal) -> bool:
    """May this principal withdraw first-grade applications at all? A guardian (for their
    children), and the staff who handle applications at a school: school admins, district and
    region officers, the ministry (the rule ``verify_application`` applies)."""
    return (
        principal.is_ministry
        or principal.role in OFFICER_ROLES
        or (principal.role == Role.GUARDIAN and principal.person_id is not None)
    )


async def _withdrawable_for_update(
    session: AsyncSession, principal: Principal, application_id: int
) -> FirstGradeApplication:
    """The application, locked ``FOR UPDATE``, if this principal may act on it: the child's
    guardian (an active guardianship, as the kindergarten queue checks) or staff in whose
    scope its school lies (``may_manage_institution``, as verification checks). Both are
    exactly the readers of ``application_readable``; to anyone else it does not exist, and
    they neither lock it nor learn that it is there."""
    application = await session.scalar(
        select(FGA)
        .where(FGA.id == application_id, application_readable(principal))
        .with_for_update(of=FGA)
        .execution_options(populate_existing=True)
    )
    if application is None:
        raise NotFound("The application", field="applicationId")
    return application


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
    note = _clean(reason, WITHDRAWAL_REASON_MAX, "reason")
    application = await _withdrawable_for_update(session, principal, application_id)
    if application.status == FirstGradeStatus.ADMITTED:
        raise DomainError(
            ErrorCode.APPLICATION_CLOSED,
            "The child is admitted and enrolled: leaving school is a withdrawal from the "
            "school (withdrawStudent), not of the application",
            field="applicationId",
        )
    if application.status not in OPEN:
        raise DomainError(
            ErrorCode.APPLICATION_CLOSED,
            f"The application is closed ({application.status.value})",
            field="applicationId",
        )
    was = application.status
    application.status = FirstGradeStatus.WITHDRAWN
    await session.flush()
    await record_status(
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


async def set_quota(
    session: AsyncSession,
    principal: Principal,
    *,
    season_id: int,
    school_id: int,
    grade_level: int,
    classes: int,
    places: int,
) -> FirstGradeQuota:
    """Set a school's places in an entry grade (domain.md: quotas from design capacity; a
    class holds at most 36 pupils, season policy). Places already admitted stay admitted: the
    quota cannot drop below them (CHECK constraint)."""
    school = await _school_managed(session, principal, school_id)
    season = await session.get(IntakeSeason, season_id)
    if season is None or season.kind != IntakeKind.FIRST_GRADE:
        raise NotFound("The first-grade season", field="seasonId")
    if grade_level not in (1, 2):
        raise DomainError(ErrorCode.INVALID_GRADE, "Entry grades are 1 and 2", field="gradeLevel")
    if classes < 0 or places < 0 or classes > 30:
        raise DomainError(ErrorCode.INVALID_INPUT, "Classes are 0 to 30", field="classes")
    if places > classes * season.class_size_max:
        raise DomainError(
            ErrorCode.CLASS_SIZE_EXCEEDED,
            f"{classes} class(es) hold at most {classes * season.class_size_max} pupils",
            field="places",
        )
    stmt = (
        pg_insert(FirstGradeQuota)
        .values(
            season_id=season.id,
            school_id=school.id,
            grade_level=grade_level,
            classes=classes,
            places=places,
        )
        .on_conflict_do_update(
            constraint="uq_first_grade_quota_grade",
            set_={"classes": classes, "places": places},
        )
        .returning(FirstGradeQuota.id)
    )
    quota_id = (await session.execute(stmt)).scalar_one()
    quota = await session.get(FirstGradeQuota, quota_id, populate_existing=True)
    assert quota is not None
    await emit(
        session,
        topic="enrollment.first_grade_quota_set",
        aggregate_type="FirstGradeQuota",
        aggregate_id=quota.id,
        payload={"school_id": school.id, "grade_level": grade_level, "places": places},
    )
    return quota


# --- allocation and admission --------------------------------------------------------------


@dataclass
class AllocationResult:
    admitted: int
    waitlisted: int
    rejected: int
    schools: int


def _schools_in_scope(principal: Principal, school_id: int | None) -> Select[Any]:
    stmt = select(Institution.id).where(
        Institution.kind == InstitutionKind.SCHOOL, officer_scope(principal, Institution)
    )
    if school_id is not None:
        stmt = stmt.where(Institution.id == school_id)
    return stmt


def _ranking(season: IntakeSeason, schools: Select[Any]) -> Select[Any]:
    """Pending applications of the schools, numbered per (school, grade) in priority order:
    catchment first, then (if the season says so) siblings at the school, then verified
    benefits by their category's rank, then time of application (domain.md, Priority).

    The ranked rows are locked ``FOR UPDATE`` by the same statement, so no withdrawal can
    change one between ranking and admission: one that committed first is seen withdrawn
    (the lock re-reads the row) and left out, its place going to the next child; one that
    comes later waits, then finds the application admitted or waitlisted."""
    locked = (
        select(FGA.id)
        .where(
            FGA.season_id == season.id,
            FGA.status.in_(PENDING),
            FGA.school_id.in_(schools),
        )
        .order_by(FGA.id)
        .with_for_update(of=FGA)
        .cte("locked")
    )
    benefit_rank = case(
        (FGA.benefit_status == BenefitStatus.VERIFIED, BenefitCategory.rank), else_=None
    )
    order: list[Any] = [FGA.catchment.desc()]
    if season.sibling_priority:
        sibling_enr, sibling_link = aliased(Enrollment), aliased(Guardianship)
        order.append(
            exists()
            .where(
                sibling_enr.institution_id == FGA.school_id,
                sibling_enr.sector == Sector.SCHOOL,
                sibling_enr.exit_date.is_(None),
                sibling_enr.person_id != FGA.child_id,
                sibling_link.child_id == sibling_enr.person_id,
                sibling_link.guardian_id == FGA.guardian_id,
                sibling_link.valid_to.is_(None),
            )
            .desc()
        )
    order += [benefit_rank.asc().nulls_last(), FGA.applied_at, FGA.id]
    return (
        select(
            FGA.id,
            FGA.school_id,
            FGA.grade_level,
            func.row_number()
            .over(partition_by=(FGA.school_id, FGA.grade_level), order_by=order)
            .label("place"),
        )
        .join(locked, locked.c.id == FGA.id)
        .outerjoin(BenefitCategory, BenefitCategory.id == FGA.benefit_category_id)
    )


async def allocate_first_grade_places(
    session: AsyncSession,
    principal: Principal,
    *,
    season_id: int,
    school_id: int | None,
) -> AllocationResult:
    """Fill schools' first-grade places from their verified applications; the rest wait.

    Rules (domain.md; issue 3): quotas per school and entry grade (default: design capacity
    divided by the season's number of grades, in classes of at most 36); priority is
    catchment, then the season's benefit categories, then time of application. Quota rows are
    locked ``FOR UPDATE`` and ``admitted <= places`` is a CHECK, so concurrent allocations
    never overfill a school; the applications ranked are locked ``FOR UPDATE`` by the ranking
    statement itself, so a concurrent change of one (a withdrawal) lands wholly before the
    ranking or after the admission. Set-based: one ranking statement for all schools in scope.
    Licences (issue 5): allocating one named school that needs a licence and holds none in
    force today and on the first school day covering primary education is refused
    (``LICENCE_REQUIRED``, nothing written); an allocation across a district or region leaves
    such schools out, their applications untouched.
    """
    require(
        principal.is_ministry
        or principal.role in (Role.SCHOOL_ADMIN, Role.DISTRICT_OFFICER, Role.REGION_OFFICER),
        "Only school administrators and officers allocate places",
    )
    season = await session.get(IntakeSeason, season_id)
    if season is None or season.kind != IntakeKind.FIRST_GRADE:
        raise NotFound("The first-grade season", field="seasonId")
    days = sorted({today(), season.school_year_starts})
    if school_id is not None:
        await _school_managed(session, principal, school_id)
        for day in days:
            await licensing_service.require_teaching_licence(
                session,
                institution_id=school_id,
                on=day,
                level=EducationLevel.PRIMARY,
                field="schoolId",
            )
    schools = _schools_in_scope(principal, school_id)
    # Across a district or region, schools without the licence they need admit no one: their
    # applications wait untouched (issue 5) while the other schools are allocated.
    applied_to = list(
        await session.scalars(
            select(FGA.school_id)
            .where(
                FGA.season_id == season.id,
                FGA.status.in_(PENDING),
                FGA.school_id.in_(schools),
            )
            .distinct()
        )
    )
    unlicensed: set[int] = set()
    for day in days:
        unlicensed |= await licensing_service.unlicensed_among(
            session, applied_to, on=day, level=EducationLevel.PRIMARY
        )
    if unlicensed:
        schools = schools.where(Institution.id.not_in(sorted(unlicensed)))
    actor = principal.subject

    # Children who meanwhile got a school place elsewhere cannot be admitted twice.
    enrolled = aliased(Enrollment)
    already = list(
        (
            await session.execute(
                update(FGA)
                .where(
                    FGA.season_id == season.id,
                    FGA.status.in_(PENDING),
                    FGA.school_id.in_(schools),
                    exists().where(
                        enrolled.person_id == FGA.child_id,
                        enrolled.sector == Sector.SCHOOL,
                        enrolled.exit_date.is_(None),
                    ),
                )
                .values(
                    status=FirstGradeStatus.REJECTED,
                    rejection_reason=RejectionReason.ALREADY_ENROLLED,
                    updated_at=func.now(),
                )
                .returning(FGA.id)
                .execution_options(synchronize_session=False)
            )
        ).scalars()
    )
    await record_status(session, actor, already, FirstGradeStatus.REJECTED, "already_enrolled")

    # Schools without a quota get one from their design capacity.
    places = func.coalesce(Institution.design_capacity, 0) / season.grades_per_school
    classes = func.ceil(places / float(season.class_size_max))
    needed = (
        select(
            literal(season.id),
            FGA.school_id,
            FGA.grade_level,
            classes,
            func.least(places, classes * season.class_size_max),
        )
        .join(Institution, Institution.id == FGA.school_id)
        .where(FGA.season_id == season.id, FGA.status.in_(PENDING), FGA.school_id.in_(schools))
        .distinct()
    )
    await session.execute(
        pg_insert(FirstGradeQuota)
        .from_select(["season_id", "school_id", "grade_level", "classes", "places"], needed)
        .on_conflict_do_nothing(constraint="uq_first_grade_quota_grade")
    )
    quotas = {
        (row.school_id, row.grade_level): row.places - row.admitted
        for row in await session.execute(
            select(
                FirstGradeQuota.school_id,
                FirstGradeQuota.grade_level,
                FirstGradeQuota.places,
                FirstGradeQuota.admitted,
            )
            .where(FirstGradeQuota.season_id == season.id, FirstGradeQuota.school_id.in_(schools))
            .order_by(FirstGradeQuota.id)
            .with_for_update()
        )
    }
    admit: list[int] = []
    wait: list[int] = []
    for row in await session.execute(_ranking(season, schools)):
        free = quotas.get((row.school_id, row.grade_level), 0)
        (admit if row.place <= free else wait).append(row.id)
    await admit_to_first_grade(session, principal, season=season, application_ids=admit)
    waitlisted = list(
        (
            await session.execute(
                update(FGA)
                .where(any_of(FGA.id, wait), FGA.status == FirstGradeStatus.VERIFIED)
                .values(status=FirstGradeStatus.WAITLISTED, updated_at=func.now())
                .returning(FGA.id)
                .execution_options(synchronize_session=False)
            )
        ).scalars()
    )
    await record_status(session, actor, waitlisted, FirstGradeStatus.WAITLISTED, "no place left")
    await _emit_for(session, "enrollment.first_grade_waitlisted", waitlisted)
    log.info(
        "enrollment.places_allocated",
        extra={"admitted": len(admit), "waitlisted": len(wait), "season_id": season.id},
    )
    return AllocationResult(
        admitted=len(admit), waitlisted=len(wait), rejected=len(already), schools=len(quotas)
    )


async def _emit_for(session: AsyncSession, topic: str, application_ids: Sequence[int]) -> None:
    """One outbox event per application, built in the database (ids and codes only)."""
    if not application_ids:
        return
    await session.execute(
        insert(OutboxEvent).from_select(
            ["topic", "aggregate_type", "aggregate_id", "payload"],
            select(
                literal(topic),
                literal("FirstGradeApplication"),
                FGA.id,
                func.jsonb_build_object(
                    "school_id",
                    FGA.school_id,
                    "grade_level",
                    FGA.grade_level,
                    "enrollment_id",
                    FGA.enrollment_id,
                ),
            ).where(any_of(FGA.id, application_ids)),
        )
    )


async def admit_to_first_grade(
    session: AsyncSession,
    principal: Principal,
    *,
    season: IntakeSeason,
    application_ids: Sequence[int],
) -> None:
    """Admit applications: the one path every first-grade admission takes.

    In one transaction (issue 3, "one person, one record, across systems"): open each child's
    school enrollment on the school year's start date in the entry grade; count it against
    the school's quota (CHECK ``admitted <= places``); end the child's open kindergarten
    enrollment on that same date; cancel any open kindergarten-queue application, returning
    its offered place. Every school admitting holds the licence it needs, in force today and
    on the first school day, covering primary education (``LICENCE_REQUIRED``, issue 5).
    """
    if not application_ids:
        return
    start = season.school_year_starts
    school_ids = list(
        await session.scalars(
            select(FGA.school_id).where(any_of(FGA.id, application_ids)).distinct()
        )
    )
    for day in sorted({today(), start}):
        await licensing_service.require_teaching_licences(
            session,
            institution_ids=school_ids,
            on=day,
            level=EducationLevel.PRIMARY,
            field="schoolId",
        )
    await session.execute(
        insert(Enrollment).from_select(
            ["person_id", "institution_id", "grade_level", "sector", "entry_date"],
            select(
                FGA.child_id,
                FGA.school_id,
                FGA.grade_level,
                literal(Sector.SCHOOL.value),
                literal(start),
            ).where(any_of(FGA.id, application_ids), FGA.status.in_(PENDING)),
        )
    )
    await session.execute(
        update(FGA)
        .where(
            any_of(FGA.id, application_ids),
            Enrollment.person_id == FGA.child_id,
            Enrollment.institution_id == FGA.school_id,
            Enrollment.sector == Sector.SCHOOL,
            Enrollment.exit_date.is_(None),
        )
        .values(
            status=FirstGradeStatus.ADMITTED, enrollment_id=Enrollment.id, updated_at=func.now()
        )
        .execution_options(synchronize_session=False)
    )
    counts = (
        select(FGA.school_id, FGA.grade_level, func.count().label("n"))
        .where(any_of(FGA.id, application_ids))
        .group_by(FGA.school_id, FGA.grade_level)
        .subquery()
    )
    await session.execute(
        update(FirstGradeQuota)
        .where(
            FirstGradeQuota.season_id == season.id,
            FirstGradeQuota.school_id == counts.c.school_id,
            FirstGradeQuota.grade_level == counts.c.grade_level,
        )
        .values(admitted=FirstGradeQuota.admitted + counts.c.n)
        .execution_options(synchronize_session=False)
    )
    children = select(FGA.child_id).where(any_of(FGA.id, application_ids))
    await session.execute(
        update(Enrollment)
        .where(
            Enrollment.person_id.in_(children),
            Enrollment.sector == Sector.PRESCHOOL,
            Enrollment.exit_date.is_(None),
        )
        .values(
            exit_date=func.greatest(Enrollment.entry_date, start),
            exit_reason=ExitReason.COMPLETED_LEVEL,
            updated_at=func.now(),
        )
        .execution_options(synchronize_session=False)
    )
    child_ids = list(await session.scalars(children))
    await preschool_service.cancel_for_school(session, principal.subject, child_ids)
    await record_status(session, principal.subject, application_ids, FirstGradeStatus.ADMITTED)
    await _emit_for(session, "enrollment.first_grade_admitted", application_ids)


# What the enrollment's constraints mean to a caller when a race reaches the database first.
register_constraint(
    "uq_first_grade_application_active_child",
    ErrorCode.DUPLICATE_APPLICATION,
    "The child already has an application this season",
    "childId",
)
register_constraint(
    "ck_first_grade_quota_admitted",
    ErrorCode.QUOTA_BELOW_ADMITTED,
    "The quota would be below the places already admitted (or overfilled)",
    "places",
)
