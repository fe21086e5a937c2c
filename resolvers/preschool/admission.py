"""Admission: a kindergarten confirms an accepted offer once the family's documents are
checked, and the child's place becomes a kindergarten enrollment."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    EducationLevel,
    Enrollment,
    ExitReason,
    Institution,
    InstitutionKind,
    KindergartenApplication,
    KindergartenOffer,
    OfferStatus,
    Person,
    QueueStatus,
    Sector,
)
from resolvers import licensing as licensing_service
from resolvers.access import Principal
from resolvers.clock import today
from resolvers.errors import DomainError, ErrorCode
from resolvers.intake import managed_intake_institution
from resolvers.new_rows import ENROLLMENT_ATTRIBUTES, NEW_ENROLLMENT, insert_row
from resolvers.preschool.errors import PreschoolCode
from resolvers.preschool.rows import HISTORY, offer_ref, offer_rows_for_update
from resolvers.preschool.school import require_not_at_school
from resolvers.rows import write_row, write_rows


async def _check_entry_date(
    session: AsyncSession, application: KindergartenApplication, inst: Institution, start: date
) -> None:
    """The child is born and the kindergarten open on the first day, and it holds the licence
    it needs (if any) today and on that day."""
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
            institution=inst,
        )


async def _end_held_place(
    session: AsyncSession, application: KindergartenApplication, start: date
) -> Enrollment | None:
    """A transferring child's current place, ended the day the new one begins."""
    if application.enrollment_id is None:
        return None
    previous = await session.get(Enrollment, application.enrollment_id, with_for_update=True)
    if previous is not None and previous.exit_date is None:
        if start < previous.entry_date:
            raise DomainError(
                ErrorCode.INVALID_DATE,
                "The entry date is before the current place began",
                field="entryDate",
            )
        # Written now (resolvers/rows.py), before the new place is inserted.
        await write_row(session, previous, exit_date=start, exit_reason=ExitReason.TRANSFERRED)
    return previous


async def _enroll(
    session: AsyncSession,
    actor: str,
    offer: KindergartenOffer,
    application: KindergartenApplication,
    enrollment: Enrollment,
) -> Enrollment:
    """Open the enrollment and close the offer and application as admitted."""
    enrollment = await _insert_enrollment(session, enrollment)
    # Both rows in one statement made once (resolvers/rows.py).
    await write_rows(
        session,
        (application, {"status": QueueStatus.ADMITTED, "enrollment_id": enrollment.id}),
        (offer, {"status": OfferStatus.ADMITTED, "decided_at": datetime.now(UTC)}),
    )
    await HISTORY.record_and_emit(
        session,
        actor,
        application.id,
        QueueStatus.ADMITTED,
        topic="preschool.child_admitted",
        aggregate_type="KindergartenApplication",
        payload={"enrollment_id": enrollment.id, "kindergarten_id": enrollment.institution_id},
    )
    return enrollment


async def _insert_enrollment(session: AsyncSession, new: Enrollment) -> Enrollment:
    """Insert the transient ``new`` by a statement made once and sent through the driver
    (resolvers/new_rows.py; issue 21: the unit of work's flush of one new row cost ~0.4 ms) and
    give the session's object for the row, persistent as if loaded with what was written."""
    inserted: Enrollment = await insert_row(
        session, NEW_ENROLLMENT, **{n: getattr(new, n) for n in ENROLLMENT_ATTRIBUTES}
    )
    return inserted


class Admitted(NamedTuple):
    """What an admission wrote: the offer, its application and the new enrollment (the
    payload's loaders are given the last two, issue 21)."""

    offer: KindergartenOffer
    application: KindergartenApplication
    enrollment: Enrollment


async def confirm_admission(
    session: AsyncSession,
    principal: Principal,
    *,
    offer_id: int,
    entry_date: date | None,
) -> Admitted:
    """After checking the family's documents, the kindergarten admits the child: the accepted
    offer becomes a kindergarten enrollment (a transferring child's old place ends the day the
    new one begins, linked as the previous enrollment).

    Rule (issue 3): only an accepted offer is confirmed, by an officer of its kindergarten. A
    kindergarten that needs a licence holds one in force today and on the entry date, covering
    preschool education (``LICENCE_REQUIRED``, issue 5): a suspended kindergarten admits no
    one, and the child's offer stays accepted until the licence is restored. A child with a
    school place open on the entry date or later is not admitted (``ALREADY_ENROLLED``, K7);
    the child's row is locked first (resolvers/locks.py), so a school admission of the same
    child lands wholly before this one, and is seen, or after it, and ends the place.
    """
    ref = await offer_ref(session, principal, offer_id)
    inst = await managed_intake_institution(
        session, principal, ref.kindergarten_id, InstitutionKind.KINDERGARTEN
    )
    offer, application = await offer_rows_for_update(session, ref)
    if offer.status != OfferStatus.ACCEPTED:
        raise DomainError(
            PreschoolCode.OFFER_NOT_ACCEPTED,
            "Only an offer the family accepted is confirmed",
            field="offerId",
        )
    start = entry_date or today()
    await _check_entry_date(session, application, inst, start)
    await require_not_at_school(session, application.child_id, start)
    previous = await _end_held_place(session, application, start)
    enrollment = Enrollment(
        person_id=application.child_id,
        institution_id=inst.id,
        sector=Sector.PRESCHOOL,
        entry_date=start,
        programme=None,
        class_group=offer.age_group,
        previous_enrollment_id=previous.id if previous is not None else None,
    )
    enrollment = await _enroll(session, principal.subject, offer, application, enrollment)
    return Admitted(offer, application, enrollment)
