"""Leaving the queue or the kindergarten: a guardian's request or a commission's conclusion,
and a first-grade admission, which ends any queue entry (domain.md K7)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
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
from resolvers.events import emit
from resolvers.intake import REASON_MAX, any_of, clean_text, emit_many, require_guardian_of
from resolvers.preschool.errors import PreschoolCode
from resolvers.preschool.offers import LIVE, cancel_live_offer
from resolvers.preschool.places import return_place, return_places
from resolvers.preschool.rows import HISTORY, application_for_update
from resolvers.preschool.rules import may_handle_application

KA = KindergartenApplication


async def _end_held_place(session: AsyncSession, application: KindergartenApplication) -> None:
    """End the place the application holds today, and give it back to the age group it was
    offered from."""
    if application.enrollment_id is None:
        return
    held = await session.get(Enrollment, application.enrollment_id, with_for_update=True)
    if held is None or held.exit_date is not None:
        return
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
        await return_place(session, admitted_by)


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
    application = await application_for_update(session, principal, application_id)
    if principal.role == Role.GUARDIAN:
        await require_guardian_of(session, principal, application.child_id)
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
    await cancel_live_offer(session, application.id)
    await _end_held_place(session, application)
    application.status = QueueStatus.WITHDRAWN
    await session.flush()
    await HISTORY.record(session, principal.subject, [application.id], QueueStatus.WITHDRAWN, note)
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
                KindergartenOffer.status.in_(LIVE),
            )
            .values(status=OfferStatus.CANCELLED, decided_at=func.now())
            .returning(KindergartenOffer.places_id)
        )
    ).scalars()
    await return_places(session, offers)
    await HISTORY.record(
        session, actor, cancelled, QueueStatus.CANCELLED, "admitted to first grade"
    )
    await emit_many(
        session,
        topic="preschool.application_cancelled",
        aggregate_type="KindergartenApplication",
        events=[(i, {"reason": "first_grade_admission"}) for i in cancelled],
    )
    return cancelled
