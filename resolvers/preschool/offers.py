"""Offers of free places to the children next in their queues, and what a family (or the
deadline) decides on them (domain.md K4, K5)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    Integer,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from models import (
    DeclineRule,
    EducationLevel,
    Institution,
    InstitutionKind,
    IntakeKind,
    IntakeSeason,
    KindergartenApplication,
    KindergartenOffer,
    KindergartenPlaces,
    OfferStatus,
    QueueStatus,
)
from resolvers import driver
from resolvers import licensing as licensing_service
from resolvers.access import Principal, require
from resolvers.clock import today
from resolvers.errors import DomainError, ErrorCode
from resolvers.intake import (
    add_working_days,
    any_of,
    emit_many,
    institution_and_season,
    managed_intake_institution,
    require_guardian_reached,
    require_season,
)
from resolvers.preschool.declining import decline
from resolvers.preschool.errors import PreschoolCode
from resolvers.preschool.picking import (
    ALL_CANDIDATES,
    APPLICATION,
    NEW_OFFERS,
    OFFER,
    OFFERED,
    queue_candidates,
)
from resolvers.preschool.places import free_places_for_update, return_places
from resolvers.preschool.rows import HISTORY, LIVE, offer_ref, offer_rows_for_update
from resolvers.preschool.rules import kindergarten_ids_of
from resolvers.preschool.school import require_not_at_school
from resolvers.rows import write_rows

log = logging.getLogger("bilim.preschool")

KA = KindergartenApplication
# Places picked for offers: places row id -> the applications offered one of its places.
Picks = dict[int, list[int]]


def place_begins(season: IntakeSeason, on: date) -> date:
    """The day a place offered on ``on`` begins: the season's first day, or ``on`` if later."""
    return max(on, season.school_year_starts)


async def _check_turn(
    session: AsyncSession,
    kindergarten_id: int,
    season: IntakeSeason,
    places: list[KindergartenPlaces],
    application: KindergartenApplication | None,
) -> KindergartenPlaces:
    """For an offer to one named child: they wait in this queue and nobody waits before them."""
    in_queue = (
        application is not None
        and application.status == QueueStatus.WAITING
        and application.intake_year == season.year
        and kindergarten_id in await kindergarten_ids_of(session, application.id)
    )
    if not in_queue:
        raise DomainError(
            PreschoolCode.NOT_IN_QUEUE,
            "The child is not waiting in this kindergarten's queue for this intake",
            field="applicationId",
        )
    assert application is not None
    begins = place_begins(season, today())
    if application.starts_school_on <= begins:
        raise DomainError(
            PreschoolCode.STARTS_SCHOOL_FIRST,
            f"The child starts school on {application.starts_school_on.isoformat()}, by the "
            f"day the place would begin ({begins.isoformat()})",
            field="applicationId",
        )
    group = next((p for p in places if p.age_group == application.age_group), None)
    if group is None or group.free_places == 0:
        raise DomainError(
            PreschoolCode.NO_FREE_PLACES,
            "No place is free in the child's age group",
            field="applicationId",
        )
    first = await session.scalar(
        queue_candidates(kindergarten_id, season.year, application.age_group, 1, begins)
    )
    if first != application.id:
        raise DomainError(
            PreschoolCode.OUT_OF_TURN,
            "Other children come before this one in the queue",
            field="applicationId",
        )
    return group


async def _next_in_queues(
    session: AsyncSession,
    kindergarten_id: int,
    intake_year: int,
    places: list[KindergartenPlaces],
    count: int | None,
    begins: date,
) -> Picks:
    """The children next in each age group's queue, as many as the group has free places,
    ``count`` at most in all (all free places if unset)."""
    if count is None:
        return await _next_in_all_queues(session, kindergarten_id, intake_year, places, begins)
    picks: Picks = {}
    budget = count
    for p in places:
        if budget <= 0:
            break
        wanted = min(p.free_places, budget)
        if wanted == 0:
            continue
        ids = list(
            await session.scalars(
                queue_candidates(kindergarten_id, intake_year, p.age_group, wanted, begins)
            )
        )
        if ids:
            picks[p.id] = ids
            budget -= len(ids)
    return picks


async def _next_in_all_queues(
    session: AsyncSession,
    kindergarten_id: int,
    intake_year: int,
    places: list[KindergartenPlaces],
    begins: date,
) -> Picks:
    """Every free place offered: each age group's next children, as many as it has free
    places, locked as :func:`queue_candidates` locks them, in one statement (a LATERAL read
    per group) rather than one per group. Only without a ``count``: with one, a group takes
    what the groups before it left, and reading them all at once would lock children no
    offer goes to."""
    wanted = [p for p in places if p.free_places > 0]
    if not wanted:
        return {}
    params = {
        "kindergarten_id": kindergarten_id,
        "intake_year": intake_year,
        "begins": begins,
        "age_groups": [p.age_group for p in wanted],
        "wanted": [p.free_places for p in wanted],
    }
    # (id, age group, benefit verified, registered at) of each child picked.
    rows = await driver.rows(session, ALL_CANDIDATES, params)
    by_group = {p.age_group: p.id for p in wanted}
    picks: Picks = {}
    for app_id, group, _, _ in sorted(rows, key=lambda r: (not r[2], r[3], r[0])):
        picks.setdefault(by_group[group], []).append(app_id)
    # In the places' order, as the loop of :func:`_next_in_queues` makes them.
    return {p.id: picks[p.id] for p in wanted if p.id in picks}


class Offered(NamedTuple):
    """The offers made, and their applications as the step left them (the payload's loader is
    given those: the officer reached them through their own kindergarten's queue, issue 21)."""

    offers: list[KindergartenOffer]
    applications: list[KindergartenApplication]


async def _make_offers(
    session: AsyncSession,
    actor: str,
    kindergarten_id: int,
    places: list[KindergartenPlaces],
    picks: Picks,
    deadline: date,
) -> Offered:
    """Write the picked offers, mark their applications offered, take the places, and tell
    each family (status history, outbox)."""
    by_id = {p.id: p for p in places}
    picked = [(app_id, places_id) for places_id, app_ids in picks.items() for app_id in app_ids]
    application_ids = [app_id for app_id, _ in picked]
    # The offers come back whole from their INSERT, made once and sent through the driver, the
    # session's objects made from their columns: no read after it (issue 21).
    inserted = await driver.rows(
        session,
        NEW_OFFERS,
        {
            "application_ids": application_ids,
            "places_ids": [places_id for _, places_id in picked],
            "age_groups": [by_id[places_id].age_group for _, places_id in picked],
            "kindergarten_id": kindergarten_id,
            "status": OfferStatus.OPEN,
            "deadline": deadline,
            "offered_by": actor,
        },
    )
    offers = [driver.object_of(session, OFFER, row) for row in inserted]
    # One offer per application (a child is picked once): each application's, in pick order.
    offer_of = {offer.application_id: offer for offer in offers}
    offer_ids = [offer_of[app_id].id for app_id in application_ids]
    updated = await driver.rows(
        session,
        OFFERED,
        {
            "application_ids": application_ids,
            "places_ids": list(picks),
            "places_taken": [len(app_ids) for app_ids in picks.values()],
        },
    )
    # The applications as the UPDATE left them (``populate_existing``).
    applications = [driver.object_of(session, APPLICATION, row, populate=True) for row in updated]
    for places_id, app_ids in picks.items():
        # What the statement above wrote, told to the loaded rows without another UPDATE.
        place = by_id[places_id]
        set_committed_value(place, "free_places", place.free_places - len(app_ids))
    await HISTORY.record(
        session, actor, application_ids, QueueStatus.OFFERED, f"offered by {kindergarten_id}"
    )
    await emit_many(
        session,
        topic="preschool.place_offered",
        aggregate_type="KindergartenOffer",
        events=[
            (
                oid,
                {
                    "application_id": app_id,
                    "kindergarten_id": kindergarten_id,
                    "deadline": deadline.isoformat(),
                },
            )
            for oid, app_id in zip(offer_ids, application_ids, strict=True)
        ],
    )
    return Offered(sorted(offers, key=lambda offer: offer.id), applications)


async def offer_places(
    session: AsyncSession,
    principal: Principal,
    *,
    kindergarten_id: int,
    age_group: str | None = None,
    count: int | None = None,
    application_id: int | None = None,
) -> Offered:
    """Offer a kindergarten's free places to the children next in its queues.

    Rules (domain.md; issue 3): per kindergarten and age group, verified benefit holders first,
    then registration time; each offer carries a deadline of N working days (season policy,
    15 by default) counted on the holiday calendar. Capacity is protected by the database: the
    places rows are locked ``FOR UPDATE`` and their CHECK keeps free places >= 0; candidates
    are locked ``FOR UPDATE SKIP LOCKED`` and re-checked as waiting; a partial unique index
    forbids two live offers for one child. ``application_id`` offers one place to a named
    child, who must be first in their queue. A kindergarten that needs a licence (private
    ones; domain.md, "Licensing and accreditation") offers nothing without one in force today
    covering preschool education (``LICENCE_REQUIRED``, issue 5). F4 (issue 14.6): no place
    goes to a child who starts school by the day it would begin (``STARTS_SCHOOL_FIRST`` for
    a named child; passed over in the queue otherwise).
    """
    on = today()
    # The kindergarten and the season in one read; ``found`` holds the kindergarten, so the
    # check below reads it from the session (issue 21: statements per mutation).
    found, running = await institution_and_season(
        session, kindergarten_id, IntakeKind.KINDERGARTEN, on
    )
    inst = await managed_intake_institution(
        session, principal, kindergarten_id, InstitutionKind.KINDERGARTEN
    )
    assert found is None or found is inst
    await licensing_service.require_teaching_licence(
        session,
        institution_id=inst.id,
        on=on,
        level=EducationLevel.PRESCHOOL,
        field="kindergartenId",
        institution=inst,
    )
    season = require_season(running, IntakeKind.KINDERGARTEN)
    if count is not None and not 1 <= count <= 1000:
        raise DomainError(ErrorCode.INVALID_INPUT, "Offer 1 to 1,000 places", field="count")
    # A named child's application is locked before the places rows (resolvers/locks.py).
    named = (
        await session.get(KA, application_id, with_for_update=True, populate_existing=True)
        if application_id is not None
        else None
    )
    places = await free_places_for_update(session, season.id, inst.id, age_group)
    if application_id is not None:
        group = await _check_turn(session, inst.id, season, places, named)
        picks = {group.id: [application_id]}
    else:
        begins = place_begins(season, on)
        picks = await _next_in_queues(session, inst.id, season.year, places, count, begins)
    if not picks:
        raise DomainError(
            PreschoolCode.NOT_IN_QUEUE,
            "Nobody waits in these queues for this intake",
            field="kindergartenId",
        )
    deadline = await add_working_days(
        session, on, season.offer_deadline_working_days, season.weekend_days
    )
    return await _make_offers(session, principal.subject, inst.id, places, picks, deadline)


class Decided(NamedTuple):
    """A family's decision on an offer: the offer and its application as they now are, and the
    offer's kindergarten (read with the offer): the payload's loaders are given them (issue
    21)."""

    offer: KindergartenOffer
    application: KindergartenApplication
    kindergarten: Institution


async def accept_offer(session: AsyncSession, principal: Principal, *, offer_id: int) -> Decided:
    """The guardian accepts an open offer before its deadline (issue 3; domain.md: documents
    are due within the deadline). A child with a school place open today or later accepts no
    kindergarten place (``ALREADY_ENROLLED``, K7): the child's row is locked first, so a school
    admission of the child runs wholly before or after."""
    ref = await offer_ref(session, principal, offer_id)
    require_guardian_reached(principal, ref.child_id)
    offer, application = await offer_rows_for_update(session, ref)
    if offer.status != OfferStatus.OPEN:
        raise DomainError(
            PreschoolCode.OFFER_NOT_OPEN, "The offer is no longer open", field="offerId"
        )
    if today() > offer.deadline:
        raise DomainError(
            PreschoolCode.OFFER_EXPIRED,
            f"The offer expired on {offer.deadline.isoformat()}",
            field="offerId",
        )
    await require_not_at_school(session, application.child_id, today())
    # Both rows in one statement made once (resolvers/rows.py).
    await write_rows(
        session,
        (application, {"status": QueueStatus.ACCEPTED}),
        (offer, {"status": OfferStatus.ACCEPTED, "decided_at": datetime.now(UTC)}),
    )
    await HISTORY.record_and_emit(
        session,
        principal.subject,
        application.id,
        QueueStatus.ACCEPTED,
        topic="preschool.offer_accepted",
        aggregate_type="KindergartenOffer",
        aggregate_id=offer.id,
        payload={"application_id": application.id, "kindergarten_id": offer.kindergarten_id},
    )
    return Decided(offer, application, ref.kindergarten)


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
    await HISTORY.record(session, actor, application_ids, status, why)
    return status


async def decline_offer(session: AsyncSession, principal: Principal, *, offer_id: int) -> Decided:
    """The guardian declines an offer: the place returns to the kindergarten, and the
    application follows the season's decline rule."""
    ref = await offer_ref(session, principal, offer_id)
    require_guardian_reached(principal, ref.child_id)
    offer, application = await offer_rows_for_update(session, ref)
    if offer.status not in LIVE:
        raise DomainError(
            PreschoolCode.OFFER_NOT_OPEN, "The offer is no longer open", field="offerId"
        )
    status = await decline(session, offer, application)
    await HISTORY.record_and_emit(
        session,
        principal.subject,
        application.id,
        status,
        "offer declined",
        topic="preschool.offer_declined",
        aggregate_type="KindergartenOffer",
        aggregate_id=offer.id,
        payload={"application_id": application.id, "application_status": status.value},
    )
    return Decided(offer, application, ref.kindergarten)


def _expiring(on: date) -> Any:
    return (KindergartenOffer.status == OfferStatus.OPEN, KindergartenOffer.deadline < on)


async def _lock_expiring(session: AsyncSession, on: date) -> list[int]:
    """The applications whose open offers expire, locked in id order before their offers
    (resolvers/locks.py): an offer changes only under its application's lock."""
    return list(
        await session.scalars(
            select(KA.id)
            .where(KA.id.in_(select(KindergartenOffer.application_id).where(*_expiring(on))))
            .order_by(KA.id)
            .with_for_update()
        )
    )


async def _expire_open_offers(
    session: AsyncSession, on: date, application_ids: list[int]
) -> list[Any]:
    """Mark expired the applications' open offers whose deadline is before ``on``: their ids,
    applications and places rows."""
    return list(
        (
            await session.execute(
                update(KindergartenOffer)
                .where(any_of(KindergartenOffer.application_id, application_ids), *_expiring(on))
                .values(status=OfferStatus.EXPIRED, decided_at=func.now())
                .returning(
                    KindergartenOffer.id,
                    KindergartenOffer.application_id,
                    KindergartenOffer.places_id,
                )
            )
        ).all()
    )


async def _after_expiry(session: AsyncSession, actor: str, application_ids: list[int]) -> None:
    """Apply each season's decline rule to the applications whose offers expired."""
    seasons = dict(
        (await session.execute(select(KA.id, KA.season_id).where(KA.id.in_(application_ids)))).all()
    )
    by_season: dict[int, list[int]] = {}
    for app_id, season_id in seasons.items():
        by_season.setdefault(season_id, []).append(app_id)
    for season_id, app_ids in by_season.items():
        season = await session.get(IntakeSeason, season_id)
        assert season is not None
        await _after_decline(session, actor, season, app_ids, "offer expired")


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
    applications = await _lock_expiring(session, on or today())
    if not applications:
        return 0
    expired = await _expire_open_offers(session, on or today(), applications)
    if not expired:
        return 0
    await return_places(session, (row.places_id for row in expired))
    await _after_expiry(session, principal.subject, [r.application_id for r in expired])
    await emit_many(
        session,
        topic="preschool.offer_expired",
        aggregate_type="KindergartenOffer",
        events=[(r.id, {"application_id": r.application_id}) for r in expired],
    )
    log.info("preschool.offers_expired", extra={"count": len(expired)})
    return len(expired)


async def cancel_live_offer(
    session: AsyncSession, application_id: int, status: OfferStatus = OfferStatus.CANCELLED
) -> KindergartenOffer | None:
    """End the locked application's open or accepted offer, if it has one. The caller gives
    its place back (``return_places``, after every other row it locks). One UPDATE finds,
    locks and ends it (issue 21: statements per mutation)."""
    offer: KindergartenOffer | None = await session.scalar(
        _END_LIVE_OFFER,
        {"of_application": application_id, "new_status": status, "ended_at": datetime.now(UTC)},
    )
    return offer


# cancel_live_offer's statement, made once (issue 21).
_END_LIVE_OFFER = (
    update(KindergartenOffer)
    .where(
        KindergartenOffer.application_id == bindparam("of_application", type_=Integer),
        KindergartenOffer.status.in_(LIVE),
    )
    .values(
        status=bindparam("new_status", type_=KindergartenOffer.status.type),
        decided_at=bindparam("ended_at", type_=KindergartenOffer.decided_at.type),
    )
    .returning(KindergartenOffer)
    .execution_options(populate_existing=True, synchronize_session="fetch")
)
