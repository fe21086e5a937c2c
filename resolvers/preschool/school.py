"""A child at school holds no kindergarten place, queue application or offer (domain.md K7).

One rule, one place. Whatever opens a school enrollment (first-grade allocation,
``enrollStudent``, ``transferStudent`` into a school) calls :func:`leave_for_school` in its
transaction; the registry reaches it through the hook of ``resolvers/enrollments/
school_entry.py``. The other way round, accepting or confirming a kindergarten offer refuses a
child with a school place (:func:`require_not_at_school`). The database holds the rule too: an
exclusion constraint forbids a person's preschool and school enrollments to overlap
(``ex_enrollment_preschool_school_overlap``).

Locks follow ``resolvers/locks.py``: the caller holds the children's person rows; then the
queue applications, their offers, the places rows the seats return to, and the enrollments.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    bindparam,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Enrollment,
    ExitReason,
    IntakeSeason,
    KindergartenApplication,
    KindergartenOffer,
    KindergartenVoucher,
    OfferHold,
    OfferStatus,
    QueueStatus,
    Sector,
    VoucherEndReason,
    VoucherStatus,
)
from models.preschool import ACTIVE_QUEUE_STATUSES
from models.preschool_vouchers import LIVE_VOUCHER_STATUSES
from resolvers import driver
from resolvers.errors import DomainError
from resolvers.intake import any_of, emit_many
from resolvers.preschool.errors import PreschoolCode
from resolvers.preschool.places import return_places
from resolvers.preschool.rows import HISTORY, LIVE

KA = KindergartenApplication
# A child leaving for school ends these applications: queued, or holding the place.
ENDED_BY_SCHOOL = (*ACTIVE_QUEUE_STATUSES, QueueStatus.ADMITTED)


def school_place_from(on: date | ColumnElement[date]) -> tuple[ColumnElement[bool], ...]:
    """Clauses of a school enrollment still running on or after ``on`` (open, future, or
    ending later): the ones a kindergarten place from ``on`` would overlap."""
    return (
        Enrollment.sector == Sector.SCHOOL,
        or_(Enrollment.exit_date.is_(None), Enrollment.exit_date > on),
    )


def offer_hold(application: Any, on: date) -> OfferHold | None:
    """Why no place is offered to this waiting application, as the guardian reads it (F4,
    issue 14.6): the child starts school by the day a place of their intake would begin
    (the intake's first day, or ``on`` if later), so the queue passes them over."""
    if application.status != QueueStatus.WAITING:
        return None
    starts: date = application.starts_school_on
    begins = max(on, starts.replace(year=application.intake_year))
    return OfferHold.STARTS_SCHOOL if starts <= begins else None


def starts_school_on(season: IntakeSeason, born: date) -> date:
    """The first school day of a child born on ``born`` (F4): the season's first school day
    moved to the year the child enters grade 1 (birth year + the season's offset). The
    database computes the same day for queue applications (migration 0023) and vouchers
    (migration 0034)."""
    first = season.school_year_starts
    return first.replace(year=born.year + season.grade1_birth_year_offset)


def require_before_school(
    season: IntakeSeason, born: date, begins: date, field: str = "entryDate"
) -> None:
    """Refuse (``STARTS_SCHOOL_FIRST``) a kindergarten place beginning on ``begins`` to a
    child who starts school by then (F4, issue 14.6): the place would end before it began."""
    starts = starts_school_on(season, born)
    if starts <= begins:
        raise DomainError(
            PreschoolCode.STARTS_SCHOOL_FIRST,
            f"The child starts school on {starts.isoformat()}, by the day the place would "
            f"begin ({begins.isoformat()})",
            field=field,
        )


async def require_not_at_school(
    session: AsyncSession, child_id: int, on: date, field: str = "offerId"
) -> None:
    """Refuse (``ALREADY_ENROLLED``) a kindergarten place from ``on`` to a child with a
    school enrollment open then or later (K7). The caller holds the child's row, so no school
    place can be opened for them meanwhile."""
    starts = await driver.scalar(session, _SCHOOL_PLACE_STARTS, {"child_id": child_id, "on": on})
    refuse_at_school(starts, field)


# require_not_at_school's statement, made once (issue 21: built per call it cost every
# acceptance and confirmation more CPU than its execution).
_SCHOOL_PLACE_STARTS = driver.Made(
    select(func.min(Enrollment.entry_date)).where(
        Enrollment.person_id == bindparam("child_id", type_=Integer),
        *school_place_from(bindparam("on", type_=Date)),
    )
)


def refuse_at_school(starts: date | None, field: str = "offerId") -> None:
    """Refuse (``ALREADY_ENROLLED``) a kindergarten place to a child whose school place
    starts on ``starts`` (``None``: no school place then or later; K7)."""
    if starts is not None:
        raise DomainError(
            PreschoolCode.ALREADY_ENROLLED,
            f"The child is enrolled at a school from {starts.isoformat()}: a child at school "
            "holds no kindergarten place",
            field=field,
        )


async def _cancel_offers(session: AsyncSession, application_ids: Sequence[int]) -> list[int]:
    """Cancel the applications' open or accepted offers; the places rows of their seats."""
    return list(
        await session.scalars(
            update(KindergartenOffer)
            .where(
                any_of(KindergartenOffer.application_id, application_ids),
                KindergartenOffer.status.in_(LIVE),
            )
            .values(status=OfferStatus.CANCELLED, decided_at=func.now())
            .returning(KindergartenOffer.places_id)
        )
    )


def _end_places_update(child_ids: Sequence[int], start: date) -> Any:
    """The UPDATE ending the children's kindergarten enrollments still running on the first
    school day, that day (an enrollment that was to begin later ends as it begins)."""
    return (
        update(Enrollment)
        .where(
            any_of(Enrollment.person_id, child_ids),
            Enrollment.sector == Sector.PRESCHOOL,
            or_(Enrollment.exit_date.is_(None), Enrollment.exit_date > start),
        )
        .values(
            exit_date=func.greatest(Enrollment.entry_date, start),
            exit_reason=ExitReason.COMPLETED_LEVEL,
            updated_at=func.now(),
        )
    )


async def _end_places(
    session: AsyncSession, child_ids: Sequence[int], start: date
) -> list[tuple[int, int]]:
    """End the children's kindergarten places (:func:`_end_places_update`); (id,
    kindergarten) of each."""
    ended = await session.execute(
        _end_places_update(child_ids, start)
        .returning(Enrollment.id, Enrollment.institution_id)
        .execution_options(synchronize_session=False)
    )
    return [(row.id, row.institution_id) for row in ended]


async def _held_seats(
    session: AsyncSession, holding: dict[int, int | None], ended: Sequence[tuple[int, int]]
) -> list[int]:
    """The places rows of the seats held through the applications whose enrollment just
    ended: the seat each was admitted to (its latest admitted offer at that kindergarten)."""
    kindergarten_of = dict(ended)
    held = {a: e for a, e in holding.items() if e is not None and e in kindergarten_of}
    if not held:
        return []
    latest = await session.execute(
        select(
            KindergartenOffer.application_id,
            KindergartenOffer.kindergarten_id,
            KindergartenOffer.places_id,
        )
        .where(
            any_of(KindergartenOffer.application_id, list(held)),
            KindergartenOffer.status == OfferStatus.ADMITTED,
        )
        .order_by(KindergartenOffer.application_id, KindergartenOffer.id.desc())
        .ext(distinct_on(KindergartenOffer.application_id))
    )
    return [
        r.places_id for r in latest if kindergarten_of[held[r.application_id]] == r.kindergarten_id
    ]


def _end_vouchers(actor: str, child_ids: Sequence[int], start: date) -> Any:
    """The UPDATE ending the children's live vouchers (reason ``school``), their ids back."""
    return (
        update(KindergartenVoucher)
        .where(
            any_of(KindergartenVoucher.child_id, child_ids),
            KindergartenVoucher.status.in_(LIVE_VOUCHER_STATUSES),
        )
        .values(
            status=VoucherStatus.ENDED,
            end_reason=VoucherEndReason.SCHOOL,
            ended_on=start,
            ended_by=actor,
            decided_at=func.coalesce(KindergartenVoucher.decided_at, func.now()),
            updated_at=func.now(),
        )
        .returning(KindergartenVoucher.id)
    )


async def _emit_vouchers_ended(session: AsyncSession, ended: Sequence[int]) -> None:
    await emit_many(
        session,
        topic="preschool.voucher_ended",
        aggregate_type="KindergartenVoucher",
        events=[(i, {"status": "ended", "reason": "school"}) for i in ended],
    )


async def end_vouchers_for_school(
    session: AsyncSession, actor: str, child_ids: Sequence[int], start: date
) -> list[int]:
    """Children starting school on ``start`` hold no voucher (K7, F4): every live voucher of
    theirs ends, the reason ``school``. The caller holds the children's person rows and ends
    their kindergarten enrollments; the ids of the vouchers ended."""
    ended = list(
        await session.scalars(
            _end_vouchers(actor, child_ids, start).execution_options(synchronize_session=False)
        )
    )
    await _emit_vouchers_ended(session, ended)
    return ended


class _Opening(NamedTuple):
    """What the first statement of :func:`leave_for_school` did."""

    vouchers: list[int]
    # The applications locked: id -> the kindergarten enrollment each holds (if any).
    holding: dict[int, int | None]
    # Whether the kindergarten places were ended too (only when no application was locked).
    places_ended: bool


async def _open_leaving(
    session: AsyncSession, actor: str, child_ids: Sequence[int], start: date
) -> _Opening:
    """End the children's vouchers and lock their applications in one statement; when they
    have no application to end (most children entering school), their kindergarten places end
    in the same statement too (issue 21: statements per mutation).

    The parts run in the order the UNION lists them (vouchers, applications, places: steps 1,
    4 and 7 of ``resolvers/locks.py``); the places' UPDATE waits for the applications' lock and
    runs only when it found none: with an application, its offers and seats (steps 5 and 6)
    come first, and :func:`leave_for_school` ends the places after them."""
    vouchers = _end_vouchers(actor, child_ids, start).cte("ended_vouchers")
    applications = (
        select(KA.id, KA.enrollment_id)
        .where(any_of(KA.child_id, child_ids), KA.status.in_(ENDED_BY_SCHOOL))
        .order_by(KA.id)
        .with_for_update()
        .cte("held_applications")
    )
    places = (
        _end_places_update(child_ids, start)
        .where(~exists(select(applications.c.id)))
        .returning(Enrollment.id)
        .cte("ended_places")
    )
    rows = (
        await session.execute(
            union_all(
                select(literal("v").label("kind"), vouchers.c.id, null().label("held")),
                select(literal("a"), applications.c.id, applications.c.enrollment_id),
                select(literal("p"), places.c.id, null()),
            )
        )
    ).all()
    holding = {r.id: r.held for r in rows if r.kind == "a"}
    return _Opening([r.id for r in rows if r.kind == "v"], holding, places_ended=not holding)


async def leave_for_school(
    session: AsyncSession, actor: str, child_ids: Sequence[int], start: date
) -> list[int]:
    """Children starting school on ``start`` leave the kindergarten and its queue (K7): each
    open kindergarten enrollment ends on ``start``; every waiting, offered, accepted or
    admitted application is cancelled with its live offer; every seat offered to them or held
    by them returns to its age group's free places; every live voucher ends (K8). Set-based
    (an allocation passes thousands of children); the ids of the applications cancelled.

    The caller holds the children's person rows (``resolvers/locks.py``, step 1); this locks
    the applications, then offers, places rows and enrollments, in that order.
    """
    if not child_ids:
        return []
    opening = await _open_leaving(session, actor, child_ids, start)
    await _emit_vouchers_ended(session, opening.vouchers)
    if opening.places_ended:
        return []
    holding = opening.holding
    cancelled = list(holding)
    seats = await _cancel_offers(session, cancelled)
    ended = await _end_places(session, child_ids, start)
    seats += await _held_seats(session, holding, ended)
    await return_places(session, seats)
    await session.execute(
        update(KA)
        .where(any_of(KA.id, cancelled))
        .values(status=QueueStatus.CANCELLED, updated_at=func.now())
        .execution_options(synchronize_session=False)
    )
    await HISTORY.record(session, actor, cancelled, QueueStatus.CANCELLED, "left for school")
    await emit_many(
        session,
        topic="preschool.application_cancelled",
        aggregate_type="KindergartenApplication",
        events=[(i, {"reason": "school_entry"}) for i in cancelled],
    )
    return cancelled
