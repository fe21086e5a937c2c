"""Allocation: a season's verified applications ranked per school and entry grade, the first
ones admitted into the quota, the rest waitlisted (domain.md F3, F5).

Locks follow ``resolvers/locks.py``: the applicants' person rows, then the schools' quota
rows, then the applications, then (through admission) the kindergarten side and the
enrollments. So two allocations over the same children (a school's and its district's), an
allocation and a quota change, an allocation and a withdrawal, and an allocation and any
kindergarten or registry workflow on one of its children each run one after the other."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Select, case, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    BenefitCategory,
    BenefitStatus,
    EducationLevel,
    Enrollment,
    FirstGradeApplication,
    FirstGradeStatus,
    Guardianship,
    Institution,
    InstitutionKind,
    IntakeSeason,
    RejectionReason,
    Sector,
)
from resolvers import licensing as licensing_service
from resolvers.access import Principal, Role, require
from resolvers.first_grade.admission import admit_to_first_grade
from resolvers.first_grade.eligibility import first_grade_season, licence_days
from resolvers.first_grade.events import HISTORY, emit_for
from resolvers.first_grade.quotas import FreePlaces, add_default_quotas, free_places_for_update
from resolvers.first_grade.rules import PENDING
from resolvers.intake import any_of, emit_many, managed_intake_institution, officer_scope
from resolvers.locks import lock_persons

log = logging.getLogger("bilim.enrollment")

FGA = FirstGradeApplication


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


def _ranking(season: IntakeSeason, application_ids: list[int]) -> Select[Any]:
    """The applications (locked by the caller), numbered per (school, grade, language of
    instruction: each stream its own quota, F1/F5) in priority
    order: catchment first, then (if the season says so) siblings at the school, then verified
    benefits by their category's rank, then time of application (domain.md, Priority)."""
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
            FGA.child_id,
            FGA.school_id,
            FGA.grade_level,
            FGA.language,
            func.row_number()
            .over(partition_by=(FGA.school_id, FGA.grade_level, FGA.language), order_by=order)
            .label("place"),
        )
        .where(any_of(FGA.id, application_ids))
        .outerjoin(BenefitCategory, BenefitCategory.id == FGA.benefit_category_id)
    )


async def _licensed_schools(
    session: AsyncSession, principal: Principal, season: IntakeSeason, school_id: int | None
) -> Select[Any]:
    """The schools to allocate: the one named (managed by the caller, and licensed if it
    needs to be), or those in the caller's scope less the ones lacking a licence they need."""
    days = licence_days(season)
    schools = _schools_in_scope(principal, school_id)
    if school_id is not None:
        school = await managed_intake_institution(
            session, principal, school_id, InstitutionKind.SCHOOL
        )
        # The school read once: an exempt one reads no licence, one that needs a licence reads
        # it (FOR SHARE) once a day checked; nothing is left to filter out after (issue 21).
        for day in days:
            await licensing_service.require_teaching_licence(
                session,
                institution_id=school_id,
                on=day,
                level=EducationLevel.PRIMARY,
                field="schoolId",
                institution=school,
            )
        return schools
    # Across a district or region, schools without the licence they need admit no one: their
    # applications wait untouched (issue 5) while the other schools are allocated.
    applied_to = (
        select(FGA.school_id)
        .where(FGA.season_id == season.id, FGA.status.in_(PENDING), FGA.school_id.in_(schools))
        .distinct()
    )
    unlicensed = await licensing_service.unlicensed_on_days(
        session, applied_to, days=days, level=EducationLevel.PRIMARY
    )
    if unlicensed:
        schools = schools.where(Institution.id.not_in(sorted(unlicensed)))
    return schools


def _pending_at(season: IntakeSeason, schools: Select[Any]) -> tuple[Any, ...]:
    return (FGA.season_id == season.id, FGA.status.in_(PENDING), FGA.school_id.in_(schools))


async def _lock_applicants(
    session: AsyncSession, season: IntakeSeason, schools: Select[Any]
) -> list[int]:
    """Step 1: the person rows of the children with applications pending at the schools,
    locked in id order; their ids. From here on no other workflow opens a school or
    kindergarten place for them, or changes their applications, until this one commits."""
    return await lock_persons(session, select(FGA.child_id).where(*_pending_at(season, schools)))


class Pending(NamedTuple):
    """The applications :func:`_lock_pending` locked, and those of them it rejected."""

    locked: list[int]
    rejected: list[int]


async def _lock_pending(
    session: AsyncSession,
    actor: str,
    season: IntakeSeason,
    schools: Select[Any],
    children: list[int],
) -> Pending:
    """Step 3: the locked children's pending applications, locked in id order. A withdrawal
    that committed first is seen (the lock re-reads the row) and left out, its place going to
    the next child; one that comes later waits, then finds the application admitted or
    waitlisted. An application verified after step 1 waits for the next allocation.

    Children who hold a school place from the first school day on (enrolled elsewhere, before
    this allocation locked them) are not admitted twice, and the allocation goes on without
    them: each such application is rejected with the reason ``already_enrolled``, which the
    guardian and the school read on it, in its history and in an outbox event (issue 12,
    finding 4). The lock and the rejection are one statement (issue 21): the UPDATE reads the
    locked rows, so every lock is taken before it runs."""
    start = season.school_year_starts
    enrolled = aliased(Enrollment)
    locked = (
        select(FGA.id)
        .where(*_pending_at(season, schools), any_of(FGA.child_id, children))
        .order_by(FGA.id)
        .with_for_update()
        .cte("locked")
    )
    rejected = (
        update(FGA)
        .where(
            FGA.id.in_(select(locked.c.id)),
            exists().where(
                enrolled.person_id == FGA.child_id,
                enrolled.sector == Sector.SCHOOL,
                or_(enrolled.exit_date.is_(None), enrolled.exit_date > start),
            ),
        )
        .values(
            status=FirstGradeStatus.REJECTED,
            rejection_reason=RejectionReason.ALREADY_ENROLLED,
            updated_at=func.now(),
        )
        .returning(FGA.id)
        .cte("rejected")
    )
    rows = (
        await session.execute(
            select(locked.c.id, rejected.c.id.is_not(None).label("rejected"))
            .select_from(locked)
            .outerjoin(rejected, rejected.c.id == locked.c.id)
            .order_by(locked.c.id)
        )
    ).all()
    already = [r.id for r in rows if r.rejected]
    if already:
        reason = RejectionReason.ALREADY_ENROLLED.value
        await HISTORY.record(session, actor, already, FirstGradeStatus.REJECTED, reason)
        await emit_many(
            session,
            topic="enrollment.first_grade_rejected",
            aggregate_type="FirstGradeApplication",
            events=[(i, {"rejection_reason": reason}) for i in already],
        )
    return Pending([r.id for r in rows], already)


class Ranked(NamedTuple):
    """The applications ranked within their school's free places in their language (and their
    children), and the rest."""

    admit: list[int]
    children: list[int]
    wait: list[int]


async def _rank(
    session: AsyncSession, season: IntakeSeason, application_ids: list[int], free: FreePlaces
) -> Ranked:
    ranked = Ranked([], [], [])
    if not application_ids:
        return ranked
    for row in await session.execute(_ranking(season, application_ids)):
        places = free.get((row.school_id, row.grade_level, row.language), 0)
        if row.place <= places:
            ranked.admit.append(row.id)
            ranked.children.append(row.child_id)
        else:
            ranked.wait.append(row.id)
    return ranked


async def _waitlist(session: AsyncSession, actor: str, application_ids: list[int]) -> None:
    """Verified applications left without a place wait for a later allocation."""
    waitlisted = list(
        (
            await session.execute(
                update(FGA)
                .where(any_of(FGA.id, application_ids), FGA.status == FirstGradeStatus.VERIFIED)
                .values(status=FirstGradeStatus.WAITLISTED, updated_at=func.now())
                .returning(FGA.id)
                .execution_options(synchronize_session=False)
            )
        ).scalars()
    )
    await HISTORY.record(session, actor, waitlisted, FirstGradeStatus.WAITLISTED, "no place left")
    await emit_for(session, "enrollment.first_grade_waitlisted", waitlisted)


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
    catchment, then the season's benefit categories, then time of application. Locks in the
    order of ``resolvers/locks.py`` (issue 12, finding 3): the applicants' person rows, the
    quota rows (``admitted <= places`` is a CHECK, so concurrent allocations never overfill a
    school), the applications; a concurrent change of one of them (a withdrawal, a school or
    kindergarten place opened elsewhere) lands wholly before or after. A child who holds a
    school place by then is left out with the typed reason ``already_enrolled`` while
    everyone else is allocated (finding 4). Set-based: one ranking statement for all schools
    in scope. Licences (issue 5): allocating one named school that needs a licence and holds
    none in force today and on the first school day covering primary education is refused
    (``LICENCE_REQUIRED``, nothing written); an allocation across a district or region leaves
    such schools out, their applications untouched.
    """
    require(
        principal.is_ministry
        or principal.role in (Role.SCHOOL_ADMIN, Role.DISTRICT_OFFICER, Role.REGION_OFFICER),
        "Only school administrators and officers allocate places",
    )
    season = await first_grade_season(session, season_id)
    schools = await _licensed_schools(session, principal, season, school_id)
    children = await _lock_applicants(session, season, schools)
    await add_default_quotas(session, season, schools)
    free = await free_places_for_update(session, season.id, schools)
    pending, rejected = await _lock_pending(session, principal.subject, season, schools, children)
    ranked = sorted(set(pending) - set(rejected))
    admit, children, wait = await _rank(session, season, ranked, free)
    # The schools were picked holding their licences (read FOR SHARE, still held).
    await admit_to_first_grade(
        session,
        principal,
        season=season,
        application_ids=admit,
        children=children,
        licences_held=True,
    )
    await _waitlist(session, principal.subject, wait)
    log.info(
        "enrollment.places_allocated",
        extra={"admitted": len(admit), "waitlisted": len(wait), "season_id": season.id},
    )
    return AllocationResult(
        admitted=len(admit), waitlisted=len(wait), rejected=len(rejected), schools=len(free)
    )
