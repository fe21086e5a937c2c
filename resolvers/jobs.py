"""Scheduled jobs (``bilim jobs run``): the work no request triggers, such as expiring
kindergarten offers whose deadline passed, ending vouchers past their last day and reminding
families two working days before. Each job runs in its own transaction with an audit row,
as a system principal with the ministry's reach."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import Outcome, database
from resolvers import analytics as analytics_service
from resolvers import preschool as preschool_service
from resolvers.access import Principal, Role
from resolvers.events import record_audit
from resolvers.library import run_library_jobs
from resolvers.licensing.policy import run_licensing_jobs

log = logging.getLogger("bilim.jobs")

JOB_PRINCIPAL = Principal(subject="job:bilim", role=Role.MINISTRY)


async def _done(session: AsyncSession, operation: str, details: dict[str, Any]) -> None:
    """A job's audit row, then its commit: each job stands alone."""
    await record_audit(
        session,
        principal=JOB_PRINCIPAL,
        request_id=None,
        operation=operation,
        outcome=Outcome.SUCCEEDED,
        details=details,
    )
    await session.commit()


async def run_all(url: str) -> dict[str, int]:
    """Run every job once against the database at ``url``; return what each did."""
    engine = database.create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with database.session_factory(engine)() as session:
            expired = await preschool_service.process_expired_offers(session, JOB_PRINCIPAL)
            await _done(session, "preschool.process_expired_offers", {"expired": expired})
            vouchers = await preschool_service.expire_vouchers(session, JOB_PRINCIPAL)
            await _done(session, "preschool.expire_vouchers", {"expired": vouchers})
            reminded = await preschool_service.remind_expiring_offers(session, JOB_PRINCIPAL)
            await _done(session, "preschool.remind_expiring_offers", {"reminded": reminded})
            licensing = await run_licensing_jobs(session, JOB_PRINCIPAL)
            await _done(
                session,
                "licensing.run_jobs",
                {
                    "licences_expired": licensing.licences_expired,
                    "accreditations_expired": licensing.accreditations_expired,
                },
            )
            library = await run_library_jobs(session)
            # After the day's expiries, so the census counts what they changed.
            rollups = await analytics_service.refresh_recent(session)
            await record_audit(
                session,
                principal=JOB_PRINCIPAL,
                request_id=None,
                operation="library.run_jobs",
                outcome=Outcome.SUCCEEDED,
                details={
                    "overdue_loans": library.overdue_loans,
                    "expired_holds": library.expired_holds,
                },
            )
            await _done(session, "analytics.refresh_rollups", {"cells": rollups})
    finally:
        await engine.dispose()
    done = {
        "expired_offers": expired,
        "expired_vouchers": vouchers,
        "offer_reminders": reminded,
        "expired_licences": licensing.licences_expired,
        "expired_accreditations": licensing.accreditations_expired,
        "overdue_loans": library.overdue_loans,
        "expired_holds": library.expired_holds,
        "statistics_cells": sum(rollups.values()),
    }
    log.info("jobs.run", extra=done)
    return done
