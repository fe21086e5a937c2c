"""The kindergarten e-queue as a state machine (domain.md, "Kindergarten e-queue").

An application moves ``waiting -> offered -> accepted -> admitted``; a declined or expired
offer sends it back to ``waiting`` (keeping its registration time) or to ``removed``, as the
season's decline rule says; a family can ``withdraw`` at any point, and a first-grade admission
``cancels`` it. Every transition writes a status-history row and an outbox event in the
request's transaction. Capacity lives in ``kindergarten_places`` rows, taken under row locks;
a partial unique index keeps a child from holding two live offers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    BenefitStatus,
    DeclineRule,
    EducationLevel,
    Enrollment,
    ExitReason,
    Institution,
    InstitutionKind,
    IntakeKind,
    IntakeSeason,
    KindergartenAgeGroup,
    KindergartenApplication,
    KindergartenApplicationEvent,
    KindergartenOffer,
    KindergartenPlaces,
    KindergartenPreference,
    OfferStatus,
    Person,
    QueueStatus,
    Residency,
    Sector,
)
from models.preschool import ACTIVE_QUEUE_STATUSES
from resolvers import institutions as institutions_service
from resolvers import licensing as licensing_service
from resolvers.access import Principal, Role, require
from resolvers.clock import today
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.institutions.rules import may_manage_institution
from resolvers.intake import (
    OFFICER_ROLES,
    add_working_days,
    age_groups,
    any_of,
    benefit_category,
    children_of,
    current_season,
    emit_many,
    months_between,
    officer_scope,
    require_guardian_of,
)
from resolvers.mutations import register_constraint
from resolvers.relay import Ordering

log = logging.getLogger("bilim.preschool")

KA = KindergartenApplication
APPLICATION_COLUMNS = tuple(KA.__table__.c)
OFFER_COLUMNS = tuple(KindergartenOffer.__table__.c)

APPLICATION_ORDERINGS = {
    # The order offers follow: verified benefit first, then registration time.
    "QUEUE": Ordering(((KA.benefit_verified, True), (KA.registered_at, False), (KA.id, False))),
    "REGISTERED_AT": Ordering(((KA.registered_at, False), (KA.id, False))),
    "ID": Ordering(((KA.id, False),)),
}

PHONE_MAX = 30
PROOF_MAX = 300
REASON_MAX = 200


# --- who may read what ---------------------------------------------------------------------


def application_readable(principal: Principal) -> ColumnElement[bool]:
    """May this principal read this application? A guardian: their children's; an officer:
    those naming (or offered, or holding a place at) a kindergarten in their scope; the
    ministry: all."""
    if principal.is_ministry:
        return true()
    clauses: list[ColumnElement[bool]] = []
    if principal.role == Role.GUARDIAN and principal.person_id is not None:
        clauses.append(KA.child_id.in_(children_of(principal.person_id)))
    if principal.role in OFFICER_ROLES:
        pref, via_pref = aliased(KindergartenPreference), aliased(Institution)
        offer, via_offer = aliased(KindergartenOffer), aliased(Institution)
        clauses.append(
            exists().where(
                pref.application_id == KA.id,
                pref.kindergarten_id == via_pref.id,
                officer_scope(principal, via_pref),
            )
        )
        clauses.append(
            exists().where(
                offer.application_id == KA.id,
                offer.kindergarten_id == via_offer.id,
                officer_scope(principal, via_offer),
            )
        )
    return or_(*clauses) if clauses else false()


def offer_readable(principal: Principal) -> ColumnElement[bool]:
    """Offers are read by whoever may read their application."""
    return KindergartenOffer.application_id.in_(
        select(KA.id).where(application_readable(principal))
    )


@dataclass(frozen=True)
class ApplicationFilter:
    status: QueueStatus | None = None
    kindergarten_id: int | None = None
    age_group: str | None = None
    intake_year: int | None = None
    child_id: int | None = None


def applications_query(principal: Principal, flt: ApplicationFilter) -> Select[Any]:
    """Applications the principal may read, narrowed by the filter."""
    stmt = select(*APPLICATION_COLUMNS).where(application_readable(principal))
    if flt.status is not None:
        stmt = stmt.where(KA.status == flt.status)
    if flt.kindergarten_id is not None:
        stmt = stmt.where(
            KA.id.in_(
                select(KindergartenPreference.application_id).where(
                    KindergartenPreference.kindergarten_id == flt.kindergarten_id
                )
            )
        )
    if flt.age_group is not None:
        stmt = stmt.where(KA.age_group == flt.age_group)
    if flt.intake_year is not None:
        stmt = stmt.where(KA.intake_year == flt.intake_year)
    if flt.child_id is not None:
        stmt = stmt.where(KA.child_id == flt.child_id)
    return stmt


@dataclass(frozen=True)
class QueuePositionRow:
    """Where one preference stands in its (kindergarten, intake, age group) queue."""

    preference_id: int
    ahead: int
    ahead_with_benefit: int
    ahead_registered_later: int


def queue_positions_query(preference_ids: Sequence[int]) -> Select[int, int, int, int]:
    """For each preference of a waiting application: how many waiting children of the same
    kindergarten, intake year and age group come first in offer order (verified benefit, then
    registration time), how many of those hold a benefit, and how many of those registered
    later than this child (they are ahead only because of their benefit)."""
    me, pref = aliased(KA), aliased(KindergartenPreference)
    other, other_pref = aliased(KA), aliased(KindergartenPreference)
    ahead_of_me = tuple_(~other.benefit_verified, other.registered_at, other.id) < tuple_(
        ~me.benefit_verified, me.registered_at, me.id
    )
    return (
        select(
            pref.id.label("preference_id"),
            func.count(other.id).label("ahead"),
            func.count(other.id).filter(other.benefit_verified).label("ahead_with_benefit"),
            func.count(other.id)
            .filter(other.registered_at > me.registered_at)
            .label("ahead_registered_later"),
        )
        .select_from(pref)
        .join(me, me.id == pref.application_id)
        .outerjoin(
            other_pref,
            and_(
                other_pref.kindergarten_id == pref.kindergarten_id,
                other_pref.application_id != me.id,
            ),
        )
        .outerjoin(
            other,
            and_(
                other.id == other_pref.application_id,
                other.status == QueueStatus.WAITING,
                other.intake_year == me.intake_year,
                other.age_group == me.age_group,
                ahead_of_me,
            ),
        )
        .where(pref.id.in_(preference_ids), me.status == QueueStatus.WAITING)
        .group_by(pref.id)
    )


# --- status history ------------------------------------------------------------------------


async def record_status(
    session: AsyncSession,
    actor: str,
    application_ids: Sequence[int],
    status: QueueStatus,
    reason: str | None = None,
) -> None:
    """Append a status-history row for each application."""
    if not application_ids:
        return
    ids = select(func.unnest(literal(list(application_ids), type_=ARRAY(Integer))).label("id"))
    await session.execute(
        insert(KindergartenApplicationEvent).from_select(
            ["application_id", "status", "actor", "reason"],
            select(
                ids.subquery().c.id,
                literal(status.value),
                literal(actor),
                literal(reason, type_=String),
            ),
        )
    )


# --- registration --------------------------------------------------------------------------


def place_in_age_group(
    born: date, season: IntakeSeason, groups: Sequence[KindergartenAgeGroup]
) -> tuple[int, KindergartenAgeGroup]:
    """The intake year and age group a child waits for: the group containing their age on
    1 September of the season's year; a child younger than the youngest group waits for the
    first September they reach it (domain.md: groups 2-3 ... 6-7, by age)."""
    if not groups:
        raise DomainError(ErrorCode.INVALID_POLICY, "The season has no age groups")
    for year in range(season.year, season.year + 8):
        months = months_between(born, date(year, 9, 1))
        for group in groups:
            if group.min_months <= months < group.max_months:
                return year, group
        if months >= groups[-1].max_months:
            break
    raise DomainError(
        ErrorCode.CHILD_TOO_OLD,
        "The child is past the oldest kindergarten group at this intake",
        field="childId",
    )


async def _kindergartens(
    session: AsyncSession, ids: Sequence[int], max_preferences: int, on: date
) -> list[Institution]:
    if not 1 <= len(ids) <= max_preferences:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"Name 1 to {max_preferences} preferred kindergartens",
            field="kindergartenIds",
        )
    if len(set(ids)) != len(ids):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "A kindergarten is named only once",
            field="kindergartenIds",
        )
    found = {
        i.id: i for i in await session.scalars(select(Institution).where(Institution.id.in_(ids)))
    }
    result = []
    for i in ids:
        inst = found.get(i)
        if inst is None:
            raise NotFound("A preferred kindergarten", field="kindergartenIds")
        if inst.kind != InstitutionKind.KINDERGARTEN:
            raise DomainError(
                ErrorCode.WRONG_INSTITUTION_KIND,
                f"{inst.name} is not a kindergarten",
                field="kindergartenIds",
            )
        if inst.closed_on is not None and inst.closed_on <= on:
            raise DomainError(
                ErrorCode.INSTITUTION_CLOSED, f"{inst.name} is closed", field="kindergartenIds"
            )
        result.append(inst)
    return result


def _clean(value: str | None, limit: int, field: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = " ".join(value.split())
    if len(value) > limit:
        raise DomainError(ErrorCode.INVALID_INPUT, f"At most {limit} characters", field=field)
    return value


async def apply_to_kindergarten_queue(
    session: AsyncSession,
    principal: Principal,
    *,
    child_id: int,
    kindergarten_ids: Sequence[int],
    benefit_code: str | None,
    benefit_proof: str | None,
    residency: Residency,
    contact_phone: str | None,
) -> KindergartenApplication:
    """Register a child in the queue of 1 to N preferred kindergartens (N: season policy).

    Rules (domain.md, Kindergarten e-queue; issue 3): the applicant is the child's guardian;
    the child is 6 months to 7 years old on the application date (policy); one active
    application per child (also a partial unique index); every preference is an open
    kindergarten; a benefit names a category of the season and its proof; the age group is
    derived from the birth date as of 1 September of the intake year.
    """
    await require_guardian_of(session, principal, child_id)
    # Lock the child so two applications for them are decided one after the other.
    child = await session.get(Person, child_id, with_for_update=True)
    if child is None:
        raise NotFound("The child", field="childId")
    on = today()
    season = await current_season(session, IntakeKind.KINDERGARTEN, on)
    months = months_between(child.birth_date, on)
    if months < season.min_age_months:
        raise DomainError(
            ErrorCode.CHILD_TOO_YOUNG,
            f"A child is registered from the age of {season.min_age_months} months",
            field="childId",
        )
    if months >= season.max_age_months:
        raise DomainError(
            ErrorCode.CHILD_TOO_OLD,
            f"A child is registered until the age of {season.max_age_months // 12} years",
            field="childId",
        )
    kindergartens = await _kindergartens(session, kindergarten_ids, season.max_preferences, on)
    category = await benefit_category(session, season.id, benefit_code, field="benefitCategory")
    proof = _clean(benefit_proof, PROOF_MAX, "benefitProof")
    if category is not None and proof is None:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "Describe the document proving the benefit",
            field="benefitProof",
        )
    phone = _clean(contact_phone, PHONE_MAX, "contactPhone")
    active = await session.scalar(
        select(KA.id).where(KA.child_id == child.id, KA.status.in_(ACTIVE_QUEUE_STATUSES))
    )
    if active is not None:
        raise DomainError(
            ErrorCode.DUPLICATE_APPLICATION,
            "The child already has an active application; transfer it instead",
            field="childId",
        )
    placed = await session.scalar(
        select(Enrollment.id).where(
            Enrollment.person_id == child.id,
            Enrollment.sector.in_((Sector.PRESCHOOL, Sector.SCHOOL)),
            Enrollment.exit_date.is_(None),
        )
    )
    if placed is not None:
        raise DomainError(
            ErrorCode.ALREADY_ENROLLED,
            "The child already holds a place; transfer the existing application instead",
            field="childId",
        )
    intake_year, group = place_in_age_group(
        child.birth_date, season, await age_groups(session, season.id)
    )
    application = KA(
        child_id=child.id,
        guardian_id=principal.person_id,
        season_id=season.id,
        status=QueueStatus.WAITING,
        intake_year=intake_year,
        age_group=group.code,
        benefit_category_id=category.id if category else None,
        benefit_status=BenefitStatus.CLAIMED if category else BenefitStatus.NONE,
        benefit_proof=proof if category else None,
        residency=residency,
        contact_phone=phone,
    )
    session.add(application)
    await session.flush()
    session.add_all(
        KindergartenPreference(application_id=application.id, kindergarten_id=k.id, rank=rank)
        for rank, k in enumerate(kindergartens, start=1)
    )
    await record_status(session, principal.subject, [application.id], QueueStatus.WAITING)
    await emit(
        session,
        topic="preschool.application_registered",
        aggregate_type="KindergartenApplication",
        aggregate_id=application.id,
        payload={
            "kindergarten_ids": [k.id for k in kindergartens],
            "intake_year": intake_year,
            "age_group": group.code,
        },
    )
    await session.refresh(application)
    return application


async def _application_for_update(
    session: AsyncSession, application_id: int, field: str = "applicationId"
) -> KindergartenApplication:
    application = await session.get(KA, application_id, with_for_update=True)
    if application is None:
        raise NotFound("The application", field=field)
    return application


async def _kindergarten_ids_of(session: AsyncSession, application_id: int) -> list[int]:
    return list(
        await session.scalars(
            select(KindergartenPreference.kindergarten_id)
            .where(KindergartenPreference.application_id == application_id)
            .order_by(KindergartenPreference.rank)
        )
    )


async def may_handle_application(
    session: AsyncSession, principal: Principal, application: KindergartenApplication
) -> bool:
    """May this officer act on this application? It names, or was offered, a kindergarten
    the officer manages."""
    if principal.is_ministry:
        return True
    ids = set(await _kindergarten_ids_of(session, application.id))
    ids |= set(
        await session.scalars(
            select(KindergartenOffer.kindergarten_id).where(
                KindergartenOffer.application_id == application.id
            )
        )
    )
    if not ids:
        return False
    institutions = await session.scalars(select(Institution).where(Institution.id.in_(ids)))
    return any(may_manage_institution(principal, i) for i in institutions)


async def verify_benefit(
    session: AsyncSession,
    principal: Principal,
    *,
    application_id: int,
    verified: bool,
    reason: str | None,
) -> KindergartenApplication:
    """Record the officer's check of a claimed benefit's proof documents.

    Rule (issue 3): only a verified benefit puts a child ahead of earlier registrants.
    """
    application = await _application_for_update(session, application_id)
    require(
        await may_handle_application(session, principal, application),
        "This application is outside your kindergartens",
    )
    if application.status not in ACTIVE_QUEUE_STATUSES:
        raise DomainError(
            ErrorCode.APPLICATION_CLOSED, "The application is closed", field="applicationId"
        )
    if application.benefit_status == BenefitStatus.NONE:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "The application claims no benefit", field="applicationId"
        )
    application.benefit_status = BenefitStatus.VERIFIED if verified else BenefitStatus.REJECTED
    await session.flush()
    note = _clean(reason, REASON_MAX, "reason")
    await record_status(
        session,
        principal.subject,
        [application.id],
        application.status,
        f"benefit {'verified' if verified else 'rejected'}" + (f": {note}" if note else ""),
    )
    await emit(
        session,
        topic="preschool.benefit_checked",
        aggregate_type="KindergartenApplication",
        aggregate_id=application.id,
        payload={"verified": verified},
    )
    await session.refresh(application)
    return application


# --- places and offers ---------------------------------------------------------------------


async def _managed_kindergarten(
    session: AsyncSession, principal: Principal, kindergarten_id: int
) -> Institution:
    return await institutions_service.managed_institution(
        session,
        principal,
        kindergarten_id,
        kind=InstitutionKind.KINDERGARTEN,
        label="kindergarten",
        field="kindergartenId",
    )


async def declare_free_places(
    session: AsyncSession,
    principal: Principal,
    *,
    kindergarten_id: int,
    age_group: str,
    free_places: int,
    groups: int,
) -> KindergartenPlaces:
    """Set how many places of an age group a kindergarten has free to offer this season.

    Rules (domain.md): allocation is per kindergarten and age group; a group holds at most its
    cap (25 for 2-3 years, 30 for the others: season policy), so free places are at most
    ``groups`` times the cap. Places already offered are not counted here.
    """
    inst = await _managed_kindergarten(session, principal, kindergarten_id)
    season = await current_season(session, IntakeKind.KINDERGARTEN, today())
    group = next((g for g in await age_groups(session, season.id) if g.code == age_group), None)
    if group is None:
        raise DomainError(
            ErrorCode.UNKNOWN_AGE_GROUP,
            f"{age_group[:16]!r} is not an age group of this season",
            field="ageGroup",
        )
    if not 1 <= groups <= 20:
        raise DomainError(ErrorCode.INVALID_INPUT, "Groups are 1 to 20", field="groups")
    if free_places < 0:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Free places cannot be negative", field="freePlaces"
        )
    if free_places > groups * group.group_size:
        raise DomainError(
            ErrorCode.EXCEEDS_GROUP_SIZE,
            f"{groups} group(s) of {group.code} hold at most {groups * group.group_size}",
            field="freePlaces",
        )
    places = await session.scalar(
        select(KindergartenPlaces)
        .where(
            KindergartenPlaces.season_id == season.id,
            KindergartenPlaces.kindergarten_id == inst.id,
            KindergartenPlaces.age_group == group.code,
        )
        .with_for_update()
    )
    if places is None:
        places = KindergartenPlaces(
            season_id=season.id,
            kindergarten_id=inst.id,
            age_group=group.code,
            free_places=free_places,
            declared_by=principal.subject,
        )
        session.add(places)
    else:
        places.free_places = free_places
        places.declared_by = principal.subject
        places.declared_at = datetime.now(UTC)
    await session.flush()
    await emit(
        session,
        topic="preschool.free_places_declared",
        aggregate_type="KindergartenPlaces",
        aggregate_id=places.id,
        payload={"kindergarten_id": inst.id, "age_group": group.code, "free": free_places},
    )
    return places


def _queue_candidates(
    kindergarten_id: int, intake_year: int, age_group: str, limit: int
) -> Select[Any]:
    """The next waiting children of a (kindergarten, intake, group) queue in offer order,
    locked; rows another transaction is offering right now are skipped, not waited for."""
    return (
        select(KA.id)
        .join(KindergartenPreference, KindergartenPreference.application_id == KA.id)
        .where(
            KindergartenPreference.kindergarten_id == kindergarten_id,
            KA.status == QueueStatus.WAITING,
            KA.intake_year == intake_year,
            KA.age_group == age_group,
        )
        .order_by(KA.benefit_verified.desc(), KA.registered_at, KA.id)
        .limit(limit)
        .with_for_update(of=KA, skip_locked=True)
    )


async def _check_turn(
    session: AsyncSession,
    kindergarten_id: int,
    season: IntakeSeason,
    places: list[KindergartenPlaces],
    application_id: int,
) -> KindergartenPlaces:
    """For an offer to one named child: they wait in this queue and nobody waits before them."""
    application = await session.get(KA, application_id, with_for_update=True)
    in_queue = (
        application is not None
        and application.status == QueueStatus.WAITING
        and application.intake_year == season.year
        and kindergarten_id in await _kindergarten_ids_of(session, application.id)
    )
    if not in_queue:
        raise DomainError(
            ErrorCode.NOT_IN_QUEUE,
            "The child is not waiting in this kindergarten's queue for this intake",
            field="applicationId",
        )
    assert application is not None
    group = next((p for p in places if p.age_group == application.age_group), None)
    if group is None or group.free_places == 0:
        raise DomainError(
            ErrorCode.NO_FREE_PLACES,
            "No place is free in the child's age group",
            field="applicationId",
        )
    first = await session.scalar(
        _queue_candidates(kindergarten_id, season.year, application.age_group, 1)
    )
    if first != application.id:
        raise DomainError(
            ErrorCode.OUT_OF_TURN,
            "Other children come before this one in the queue",
            field="applicationId",
        )
    return group


async def offer_places(
    session: AsyncSession,
    principal: Principal,
    *,
    kindergarten_id: int,
    age_group: str | None = None,
    count: int | None = None,
    application_id: int | None = None,
) -> list[KindergartenOffer]:
    """Offer a kindergarten's free places to the children next in its queues.

    Rules (domain.md; issue 3): per kindergarten and age group, verified benefit holders first,
    then registration time; each offer carries a deadline of N working days (season policy,
    15 by default) counted on the holiday calendar. Capacity is protected by the database: the
    places rows are locked ``FOR UPDATE`` and their CHECK keeps free places >= 0; candidates
    are locked ``FOR UPDATE SKIP LOCKED`` and re-checked as waiting; a partial unique index
    forbids two live offers for one child. ``application_id`` offers one place to a named
    child, who must be first in their queue. A kindergarten that needs a licence (private
    ones; domain.md, "Licensing and accreditation") offers nothing without one in force today
    covering preschool education (``LICENCE_REQUIRED``, issue 5).
    """
    inst = await _managed_kindergarten(session, principal, kindergarten_id)
    on = today()
    await licensing_service.require_teaching_licence(
        session,
        institution_id=inst.id,
        on=on,
        level=EducationLevel.PRESCHOOL,
        field="kindergartenId",
    )
    season = await current_season(session, IntakeKind.KINDERGARTEN, on)
    if count is not None and not 1 <= count <= 1000:
        raise DomainError(ErrorCode.INVALID_INPUT, "Offer 1 to 1,000 places", field="count")
    stmt = (
        select(KindergartenPlaces)
        .where(
            KindergartenPlaces.season_id == season.id,
            KindergartenPlaces.kindergarten_id == inst.id,
        )
        .order_by(KindergartenPlaces.id)
        .with_for_update()
    )
    if age_group is not None:
        stmt = stmt.where(KindergartenPlaces.age_group == age_group)
    places = list(await session.scalars(stmt))
    if sum(p.free_places for p in places) == 0:
        raise DomainError(
            ErrorCode.NO_FREE_PLACES,
            "No free places are declared here" + (f" for {age_group}" if age_group else ""),
            field="kindergartenId",
        )
    if application_id is not None:
        group = await _check_turn(session, inst.id, season, places, application_id)
        picks = {group.id: [application_id]}
    else:
        picks = {}
        budget = count if count is not None else sum(p.free_places for p in places)
        for p in places:
            if budget <= 0:
                break
            wanted = min(p.free_places, budget)
            if wanted == 0:
                continue
            ids = list(
                await session.scalars(_queue_candidates(inst.id, season.year, p.age_group, wanted))
            )
            if ids:
                picks[p.id] = ids
                budget -= len(ids)
    if not picks:
        raise DomainError(
            ErrorCode.NOT_IN_QUEUE,
            "Nobody waits in these queues for this intake",
            field="kindergartenId",
        )
    deadline = await add_working_days(
        session, on, season.offer_deadline_working_days, season.weekend_days
    )
    by_id = {p.id: p for p in places}
    rows = [
        {
            "application_id": app_id,
            "places_id": places_id,
            "kindergarten_id": inst.id,
            "age_group": by_id[places_id].age_group,
            "status": OfferStatus.OPEN,
            "deadline": deadline,
            "offered_by": principal.subject,
        }
        for places_id, app_ids in picks.items()
        for app_id in app_ids
    ]
    offer_ids = list(
        await session.scalars(
            insert(KindergartenOffer).returning(KindergartenOffer.id, sort_by_parameter_order=True),
            rows,
        )
    )
    application_ids = [app_id for app_ids in picks.values() for app_id in app_ids]
    await session.execute(
        update(KA)
        .where(KA.id.in_(application_ids))
        .values(status=QueueStatus.OFFERED, updated_at=func.now())
        .execution_options(synchronize_session=False)
    )
    for places_id, app_ids in picks.items():
        by_id[places_id].free_places -= len(app_ids)
    await session.flush()
    await record_status(
        session, principal.subject, application_ids, QueueStatus.OFFERED, f"offered by {inst.id}"
    )
    await emit_many(
        session,
        topic="preschool.place_offered",
        aggregate_type="KindergartenOffer",
        events=[
            (
                oid,
                {
                    "application_id": r["application_id"],
                    "kindergarten_id": inst.id,
                    "deadline": deadline.isoformat(),
                },
            )
            for oid, r in zip(offer_ids, rows, strict=True)
        ],
    )
    offers = await session.scalars(
        select(KindergartenOffer)
        .where(KindergartenOffer.id.in_(offer_ids))
        .order_by(KindergartenOffer.id)
    )
    return list(offers)


async def _offer_for_update(session: AsyncSession, offer_id: int) -> KindergartenOffer:
    offer = await session.get(KindergartenOffer, offer_id, with_for_update=True)
    if offer is None:
        raise NotFound("The offer", field="offerId")
    return offer


async def _return_place(session: AsyncSession, places_id: int, n: int = 1) -> None:
    await session.execute(
        update(KindergartenPlaces)
        .where(KindergartenPlaces.id == places_id)
        .values(free_places=KindergartenPlaces.free_places + n)
    )


async def accept_offer(
    session: AsyncSession, principal: Principal, *, offer_id: int
) -> KindergartenOffer:
    """The guardian accepts an open offer before its deadline (issue 3; domain.md: documents
    are due within the deadline)."""
    offer = await _offer_for_update(session, offer_id)
    application = await _application_for_update(session, offer.application_id, "offerId")
    await require_guardian_of(session, principal, application.child_id)
    if offer.status != OfferStatus.OPEN:
        raise DomainError(ErrorCode.OFFER_NOT_OPEN, "The offer is no longer open", field="offerId")
    if today() > offer.deadline:
        raise DomainError(
            ErrorCode.OFFER_EXPIRED,
            f"The offer expired on {offer.deadline.isoformat()}",
            field="offerId",
        )
    offer.status = OfferStatus.ACCEPTED
    offer.decided_at = datetime.now(UTC)
    application.status = QueueStatus.ACCEPTED
    await session.flush()
    await record_status(session, principal.subject, [application.id], QueueStatus.ACCEPTED)
    await emit(
        session,
        topic="preschool.offer_accepted",
        aggregate_type="KindergartenOffer",
        aggregate_id=offer.id,
        payload={"application_id": application.id, "kindergarten_id": offer.kindergarten_id},
    )
    return offer


async def _after_decline(
    session: AsyncSession,
    actor: str,
    season: IntakeSeason,
    application_ids: list[int],
    why: str,
) -> QueueStatus:
    """Apply the season's decline rule: back to the queue with the original registration time,
    or out of it (domain.md: decline or no-show is *configurable*)."""
    status = (
        QueueStatus.WAITING if season.decline_rule == DeclineRule.REQUEUE else (QueueStatus.REMOVED)
    )
    await session.execute(
        update(KA)
        .where(KA.id.in_(application_ids))
        .values(status=status, updated_at=func.now())
        .execution_options(synchronize_session=False)
    )
    await record_status(session, actor, application_ids, status, why)
    return status


async def decline_offer(
    session: AsyncSession, principal: Principal, *, offer_id: int
) -> KindergartenOffer:
    """The guardian declines an offer: the place returns to the kindergarten, and the
    application follows the season's decline rule."""
    offer = await _offer_for_update(session, offer_id)
    application = await _application_for_update(session, offer.application_id, "offerId")
    await require_guardian_of(session, principal, application.child_id)
    if offer.status not in (OfferStatus.OPEN, OfferStatus.ACCEPTED):
        raise DomainError(ErrorCode.OFFER_NOT_OPEN, "The offer is no longer open", field="offerId")
    offer.status = OfferStatus.DECLINED
    offer.decided_at = datetime.now(UTC)
    await session.flush()
    await _return_place(session, offer.places_id)
    season = await session.get(IntakeSeason, application.season_id)
    assert season is not None
    status = await _after_decline(
        session, principal.subject, season, [application.id], "offer declined"
    )
    await emit(
        session,
        topic="preschool.offer_declined",
        aggregate_type="KindergartenOffer",
        aggregate_id=offer.id,
        payload={"application_id": application.id, "application_status": status.value},
    )
    return offer


async def process_expired_offers(
    session: AsyncSession, principal: Principal, *, on: date | None = None
) -> int:
    """Expire open offers whose deadline has passed, return their places and apply each
    season's decline rule (the job ``bilim jobs run``; also a ministry mutation)."""
    require(principal.is_ministry, "Only the ministry runs the queue's jobs")
    if on is not None and on > today():
        raise DomainError(
            ErrorCode.INVALID_DATE, "Offers cannot be expired ahead of time", field="asOf"
        )
    on = on or today()
    expired = list(
        (
            await session.execute(
                update(KindergartenOffer)
                .where(
                    KindergartenOffer.status == OfferStatus.OPEN,
                    KindergartenOffer.deadline < on,
                )
                .values(status=OfferStatus.EXPIRED, decided_at=func.now())
                .returning(
                    KindergartenOffer.id,
                    KindergartenOffer.application_id,
                    KindergartenOffer.places_id,
                )
            )
        ).all()
    )
    if not expired:
        return 0
    returned: dict[int, int] = {}
    for row in expired:
        returned[row.places_id] = returned.get(row.places_id, 0) + 1
    for places_id, n in sorted(returned.items()):
        await _return_place(session, places_id, n)
    seasons = dict(
        (
            await session.execute(
                select(KA.id, KA.season_id).where(KA.id.in_([r.application_id for r in expired]))
            )
        ).all()
    )
    by_season: dict[int, list[int]] = {}
    for app_id, season_id in seasons.items():
        by_season.setdefault(season_id, []).append(app_id)
    for season_id, app_ids in by_season.items():
        season = await session.get(IntakeSeason, season_id)
        assert season is not None
        await _after_decline(session, principal.subject, season, app_ids, "offer expired")
    await emit_many(
        session,
        topic="preschool.offer_expired",
        aggregate_type="KindergartenOffer",
        events=[(r.id, {"application_id": r.application_id}) for r in expired],
    )
    log.info("preschool.offers_expired", extra={"count": len(expired)})
    return len(expired)


async def confirm_admission(
    session: AsyncSession,
    principal: Principal,
    *,
    offer_id: int,
    entry_date: date | None,
) -> KindergartenOffer:
    """After checking the family's documents, the kindergarten admits the child: the accepted
    offer becomes a kindergarten enrollment (a transferring child's old place ends the day the
    new one begins, linked as the previous enrollment).

    Rule (issue 3): only an accepted offer is confirmed, by an officer of its kindergarten. A
    kindergarten that needs a licence holds one in force today and on the entry date, covering
    preschool education (``LICENCE_REQUIRED``, issue 5): a suspended kindergarten admits no
    one, and the child's offer stays accepted until the licence is restored.
    """
    offer = await _offer_for_update(session, offer_id)
    inst = await _managed_kindergarten(session, principal, offer.kindergarten_id)
    application = await _application_for_update(session, offer.application_id, "offerId")
    if offer.status != OfferStatus.ACCEPTED:
        raise DomainError(
            ErrorCode.OFFER_NOT_ACCEPTED,
            "Only an offer the family accepted is confirmed",
            field="offerId",
        )
    start = entry_date or today()
    child = await session.get(Person, application.child_id)
    assert child is not None
    if start < child.birth_date or (inst.closed_on is not None and inst.closed_on <= start):
        raise DomainError(
            ErrorCode.INVALID_DATE, "The entry date is not possible", field="entryDate"
        )
    for day in sorted({today(), start}):
        await licensing_service.require_teaching_licence(
            session,
            institution_id=inst.id,
            on=day,
            level=EducationLevel.PRESCHOOL,
            field="offerId",
        )
    previous: Enrollment | None = None
    if application.enrollment_id is not None:
        previous = await session.get(Enrollment, application.enrollment_id, with_for_update=True)
        if previous is not None and previous.exit_date is None:
            if start < previous.entry_date:
                raise DomainError(
                    ErrorCode.INVALID_DATE,
                    "The entry date is before the current place began",
                    field="entryDate",
                )
            previous.exit_date = start
            previous.exit_reason = ExitReason.TRANSFERRED
    enrollment = Enrollment(
        person_id=application.child_id,
        institution_id=inst.id,
        sector=Sector.PRESCHOOL,
        entry_date=start,
        programme=None,
        class_group=offer.age_group,
        previous_enrollment_id=previous.id if previous is not None else None,
    )
    session.add(enrollment)
    await session.flush()
    offer.status = OfferStatus.ADMITTED
    offer.decided_at = datetime.now(UTC)
    application.status = QueueStatus.ADMITTED
    application.enrollment_id = enrollment.id
    await session.flush()
    await record_status(session, principal.subject, [application.id], QueueStatus.ADMITTED)
    await emit(
        session,
        topic="preschool.child_admitted",
        aggregate_type="KindergartenApplication",
        aggregate_id=application.id,
        payload={"enrollment_id": enrollment.id, "kindergarten_id": inst.id},
    )
    return offer


async def _cancel_live_offer(
    session: AsyncSession, application_id: int, status: OfferStatus = OfferStatus.CANCELLED
) -> KindergartenOffer | None:
    offer = await session.scalar(
        select(KindergartenOffer)
        .where(
            KindergartenOffer.application_id == application_id,
            KindergartenOffer.status.in_((OfferStatus.OPEN, OfferStatus.ACCEPTED)),
        )
        .with_for_update()
    )
    if offer is not None:
        offer.status = status
        offer.decided_at = datetime.now(UTC)
        await session.flush()
        await _return_place(session, offer.places_id)
    return offer


async def transfer_application(
    session: AsyncSession,
    principal: Principal,
    *,
    application_id: int,
    kindergarten_ids: Sequence[int],
) -> KindergartenApplication:
    """Move an application to other kindergartens (the family moves), keeping its original
    registration time (domain.md). A live offer is cancelled and its place returned; a child
    who already holds a place keeps it until admitted at the new kindergarten."""
    application = await _application_for_update(session, application_id)
    await require_guardian_of(session, principal, application.child_id)
    if application.status not in (*ACTIVE_QUEUE_STATUSES, QueueStatus.ADMITTED):
        raise DomainError(
            ErrorCode.APPLICATION_CLOSED, "The application is closed", field="applicationId"
        )
    season = await session.get(IntakeSeason, application.season_id)
    assert season is not None
    kindergartens = await _kindergartens(session, kindergarten_ids, season.max_preferences, today())
    if application.enrollment_id is not None:
        current = await session.get(Enrollment, application.enrollment_id)
        if (
            current is not None
            and current.exit_date is None
            and any(k.id == current.institution_id for k in kindergartens)
        ):
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "The child already attends this kindergarten",
                field="kindergartenIds",
            )
    await _cancel_live_offer(session, application.id)
    await session.execute(
        delete(KindergartenPreference).where(
            KindergartenPreference.application_id == application.id
        )
    )
    session.add_all(
        KindergartenPreference(application_id=application.id, kindergarten_id=k.id, rank=rank)
        for rank, k in enumerate(kindergartens, start=1)
    )
    application.status = QueueStatus.WAITING
    await session.flush()
    await record_status(
        session, principal.subject, [application.id], QueueStatus.WAITING, "transferred"
    )
    await emit(
        session,
        topic="preschool.application_transferred",
        aggregate_type="KindergartenApplication",
        aggregate_id=application.id,
        payload={"kindergarten_ids": [k.id for k in kindergartens]},
    )
    await session.refresh(application)
    return application


async def withdraw_application(
    session: AsyncSession,
    principal: Principal,
    *,
    application_id: int,
    reason: str | None,
) -> KindergartenApplication:
    """Take a child out of the queue, or out of their kindergarten (guardian's request or a
    commission's conclusion: domain.md, Exit). A live offer is cancelled; a held place ends
    today; either way the place returns to its age group, free for the next child."""
    application = await _application_for_update(session, application_id)
    if principal.role == Role.GUARDIAN:
        await require_guardian_of(session, principal, application.child_id)
    else:
        require(
            await may_handle_application(session, principal, application),
            "This application is outside your kindergartens",
        )
    if application.status not in (*ACTIVE_QUEUE_STATUSES, QueueStatus.ADMITTED):
        raise DomainError(
            ErrorCode.APPLICATION_CLOSED, "The application is closed", field="applicationId"
        )
    note = _clean(reason, REASON_MAX, "reason")
    await _cancel_live_offer(session, application.id)
    if application.enrollment_id is not None:
        held = await session.get(Enrollment, application.enrollment_id, with_for_update=True)
        if held is not None and held.exit_date is None:
            held.exit_date = max(today(), held.entry_date)
            held.exit_reason = ExitReason.WITHDRAWN
            admitted_by = await session.scalar(
                select(KindergartenOffer.places_id)
                .where(
                    KindergartenOffer.application_id == application.id,
                    KindergartenOffer.status == OfferStatus.ADMITTED,
                    KindergartenOffer.kindergarten_id == held.institution_id,
                )
                .order_by(KindergartenOffer.id.desc())
                .limit(1)
            )
            if admitted_by is not None:
                await _return_place(session, admitted_by)
    application.status = QueueStatus.WITHDRAWN
    await session.flush()
    await record_status(session, principal.subject, [application.id], QueueStatus.WITHDRAWN, note)
    await emit(
        session,
        topic="preschool.application_withdrawn",
        aggregate_type="KindergartenApplication",
        aggregate_id=application.id,
        payload={},
    )
    await session.refresh(application)
    return application


async def cancel_for_school(
    session: AsyncSession, actor: str, child_ids: Sequence[int]
) -> list[int]:
    """Cancel the open queue applications of children admitted to grade 1, returning any
    offered place (domain.md: enrolling in grade 1 ends any queue entry). Set-based: the
    first-grade allocation calls this for thousands of children at once."""
    if not child_ids:
        return []
    cancelled = list(
        (
            await session.execute(
                update(KA)
                .where(any_of(KA.child_id, child_ids), KA.status.in_(ACTIVE_QUEUE_STATUSES))
                .values(status=QueueStatus.CANCELLED, updated_at=func.now())
                .returning(KA.id)
                .execution_options(synchronize_session=False)
            )
        ).scalars()
    )
    if not cancelled:
        return []
    offers = (
        await session.execute(
            update(KindergartenOffer)
            .where(
                KindergartenOffer.application_id.in_(cancelled),
                KindergartenOffer.status.in_((OfferStatus.OPEN, OfferStatus.ACCEPTED)),
            )
            .values(status=OfferStatus.CANCELLED, decided_at=func.now())
            .returning(KindergartenOffer.places_id)
        )
    ).scalars()
    returned: dict[int, int] = {}
    for places_id in offers:
        returned[places_id] = returned.get(places_id, 0) + 1
    for places_id, n in sorted(returned.items()):
        await _return_place(session, places_id, n)
    await record_status(session, actor, cancelled, QueueStatus.CANCELLED, "admitted to first grade")
    await emit_many(
        session,
        topic="preschool.application_cancelled",
        aggregate_type="KindergartenApplication",
        events=[(i, {"reason": "first_grade_admission"}) for i in cancelled],
    )
    return cancelled


# What the queue's constraints mean to a caller when a race reaches the database first.
register_constraint(
    "uq_kindergarten_application_active_child",
    ErrorCode.DUPLICATE_APPLICATION,
    "The child already has an active application",
    "childId",
)
register_constraint(
    "uq_kindergarten_offer_live",
    ErrorCode.NOT_IN_QUEUE,
    "The child already holds an offer",
    "applicationId",
)
register_constraint(
    "ck_kindergarten_places_free_places",
    ErrorCode.NO_FREE_PLACES,
    "No place is free any more",
    "kindergartenId",
)
