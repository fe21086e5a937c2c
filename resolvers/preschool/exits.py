"""Leaving the queue or the kindergarten on a guardian's request or a commission's conclusion
(domain.md K7). Leaving for school is ``school.leave_for_school``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Enrollment,
    ExitReason,
    KindergartenApplication,
    KindergartenOffer,
    OfferStatus,
    QueueStatus,
)
from models.preschool import ACTIVE_QUEUE_STATUSES
from resolvers.access import Principal, Role, require
from resolvers.clock import today
from resolvers.errors import DomainError
from resolvers.intake import REASON_MAX, clean_text, require_guardian_reached
from resolvers.preschool.errors import PreschoolCode
from resolvers.preschool.offers import cancel_live_offer
from resolvers.preschool.places import return_places
from resolvers.preschool.rows import HISTORY, child_application_for_update
from resolvers.preschool.rules import may_handle_application

KA = KindergartenApplication


async def _end_held_place(
    session: AsyncSession, application: KindergartenApplication
) -> int | None:
    """End the place the application holds today; the places row of the age group it was
    offered from, to give it back to."""
    if application.enrollment_id is None:
        return None
    held = await session.get(Enrollment, application.enrollment_id, with_for_update=True)
    if held is None or held.exit_date is not None:
        return None
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
    return admitted_by


async def withdraw_application(
    session: AsyncSession,
    principal: Principal,
    *,
    application_id: int,
    reason: str | None,
) -> KindergartenApplication:
    """Take a child out of the queue, or out of their kindergarten (guardian's request or a
    commission's conclusion: domain.md, Exit). A live offer is cancelled; a held place ends
    today; either way the place returns to its age group, free for the next child. Locks in
    the order of resolvers/locks.py: the child, the application, its offer, the places rows,
    the enrollment."""
    application = await child_application_for_update(session, principal, application_id)
    if principal.role == Role.GUARDIAN:
        require_guardian_reached(principal, application.child_id)
    else:
        require(
            await may_handle_application(session, principal, application),
            "This application is outside your kindergartens",
        )
    if application.status not in (*ACTIVE_QUEUE_STATUSES, QueueStatus.ADMITTED):
        raise DomainError(
            PreschoolCode.APPLICATION_CLOSED, "The application is closed", field="applicationId"
        )
    note = clean_text(reason, REASON_MAX, "reason")
    offer = await cancel_live_offer(session, application.id)
    held = await _end_held_place(session, application)
    seats = [p for p in (offer.places_id if offer else None, held) if p is not None]
    await return_places(session, seats)
    application.status = QueueStatus.WITHDRAWN
    await session.flush()
    await HISTORY.record_and_emit(
        session,
        principal.subject,
        application.id,
        QueueStatus.WITHDRAWN,
        note,
        topic="preschool.application_withdrawn",
        aggregate_type="KindergartenApplication",
    )
    return application
