"""The anonymous report channel (S4, issue 15): a pupil reports pressure, bullying or abuse;
the report reaches the counsellors of the district (and region) their school is in, never the
school's staff, and nobody can tell from the hub who sent it.

How the reporter stays unknown:

* the report row holds no person, no school and no time of day: the category, the text,
  where it is routed (a district holds thousands of pupils) and the day it came;
* the mutation's audit row is written as anonymous, without the request's variables or the
  report's id (``@mutation(..., anonymous=True)``), and no outbox event is written;
* the rate limit (the national policy's reports per pupil per day) counts under a bucket
  named by an HMAC of (pupil, day) under a key derived from the server's pepper: the table
  holds no pupil id, no report points to it, and past days' buckets are deleted. It tells
  how many reports a pupil sent today, to whoever holds the pepper, never which ones;
* the reporter follows the report with a receipt shown once (only its SHA-256 is stored).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    ConcernCategory,
    ConcernQuota,
    ConcernReport,
    ConcernReportEvent,
    ConcernStatus,
    District,
    Enrollment,
    Institution,
    Person,
    Sector,
)
from resolvers.access import Principal, require
from resolvers.clock import today
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.lms.errors import LmsCode
from resolvers.lms.rules import can_report_concern, concern_readable, is_counsellor
from resolvers.lms.years import school_policy
from resolvers.relay import Ordering

MIN_BODY, MAX_BODY, MAX_NOTE = 10, 4000, 2000
QUOTA_PURPOSE = b"bilim-hub concern quota v1"

CONCERN_ORDER = Ordering(((ConcernReport.id, True),))

# Where a report may go from where it is (counsellors move it on).
TRANSITIONS: dict[ConcernStatus, frozenset[ConcernStatus]] = {
    ConcernStatus.RECEIVED: frozenset({ConcernStatus.IN_REVIEW, ConcernStatus.DISMISSED}),
    ConcernStatus.IN_REVIEW: frozenset(
        {ConcernStatus.REFERRED, ConcernStatus.RESOLVED, ConcernStatus.DISMISSED}
    ),
    ConcernStatus.REFERRED: frozenset({ConcernStatus.RESOLVED, ConcernStatus.DISMISSED}),
    ConcernStatus.RESOLVED: frozenset(),
    ConcernStatus.DISMISSED: frozenset(),
}


@dataclass(frozen=True)
class Reported:
    """A report just made and its receipt (shown once). The audit trail records no target:
    the report's id beside the caller would name the reporter."""

    report: ConcernReport
    receipt: str

    @property
    def audit_target(self) -> None:
        return None


def receipt_hash(receipt: str) -> str:
    return hashlib.sha256(receipt.encode()).hexdigest()


def quota_bucket(pepper: bytes, pupil_id: int, day: str) -> str:
    key = hmac.new(pepper, QUOTA_PURPOSE, hashlib.sha256).digest()
    return hmac.new(key, f"{pupil_id}:{day}".encode(), hashlib.sha256).hexdigest()


async def _spend_quota(session: AsyncSession, pepper: bytes, pupil_id: int, limit: int) -> None:
    """Count one report against today's bucket, atomically, or refuse (RATE_LIMITED)."""
    day = today()
    await session.execute(delete(ConcernQuota).where(ConcernQuota.day < day))
    stmt = pg_insert(ConcernQuota).values(
        bucket=quota_bucket(pepper, pupil_id, day.isoformat()), day=day, used=1
    )
    spent = await session.scalar(
        stmt.on_conflict_do_update(
            index_elements=[ConcernQuota.bucket],
            set_={"used": ConcernQuota.used + 1},
            where=ConcernQuota.used < limit,
        ).returning(ConcernQuota.used)
    )
    if spent is None:
        raise DomainError(
            ErrorCode.RATE_LIMITED,
            f"At most {limit} reports a day; call the helpline if it is urgent",
        )


async def _route(session: AsyncSession, pupil_id: int) -> tuple[int | None, int | None]:
    """The region and district of the pupil's school, else of their registered address."""
    row = (
        await session.execute(
            select(Institution.region_id, Institution.district_id)
            .join(Enrollment, Enrollment.institution_id == Institution.id)
            .where(
                Enrollment.person_id == pupil_id,
                Enrollment.sector == Sector.SCHOOL,
                Enrollment.exit_date.is_(None),
            )
            .limit(1)
        )
    ).first()
    if row is None:
        row = (
            await session.execute(
                select(District.region_id, District.id)
                .join(Person, Person.registered_district_id == District.id)
                .where(Person.id == pupil_id)
            )
        ).first()
    if row is None:
        return None, None
    return row[0], row[1]


async def report_concern(
    session: AsyncSession,
    principal: Principal,
    *,
    category: ConcernCategory,
    body: str,
    pepper: bytes,
) -> Reported:
    """A pupil's anonymous report of pressure, bullying or abuse (S4): routed to the
    counsellors of their school's district and region; the reporter is not stored with it,
    and may send a few a day (RATE_LIMITED past the national policy's number)."""
    require(can_report_concern(principal), "Pupils send concern reports")
    assert principal.person_id is not None
    body = body.strip()
    if not MIN_BODY <= len(body) <= MAX_BODY:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"Tell what happened ({MIN_BODY}-{MAX_BODY} characters)",
            field="body",
        )
    policy = await school_policy(session, None)
    await _spend_quota(session, pepper, principal.person_id, policy.concern_reports_per_day)
    region_id, district_id = await _route(session, principal.person_id)
    receipt = "CR-" + secrets.token_urlsafe(18)
    report = ConcernReport(
        category=category,
        body=body,
        region_id=region_id,
        district_id=district_id,
        status=ConcernStatus.RECEIVED,
        received_on=today(),
        receipt_hash=receipt_hash(receipt),
    )
    session.add(report)
    await session.flush()
    return Reported(report=report, receipt=receipt)


async def advance_concern_report(
    session: AsyncSession,
    principal: Principal,
    *,
    report_id: int,
    status: ConcernStatus,
    note: str | None,
    reply: str | None,
) -> ConcernReport:
    """A counsellor moves a report on (received, in review, referred, resolved, dismissed),
    with a note for the file and, if they wish, an answer the reporter reads with the
    receipt. A report outside their scope is not found."""
    require(is_counsellor(principal), "Counsellors handle concern reports")
    report = await session.scalar(
        select(ConcernReport)
        .where(ConcernReport.id == report_id, concern_readable(principal))
        .with_for_update()
    )
    if report is None:
        raise NotFound("The report", field="reportId")
    if status not in TRANSITIONS[report.status]:
        raise DomainError(
            LmsCode.INVALID_TRANSITION,
            f"A {report.status.value} report cannot become {status.value}",
            field="status",
        )
    note = (note or "").strip() or None
    reply = (reply or "").strip() or None
    for name, value in (("note", note), ("reply", reply)):
        if value is not None and len(value) > MAX_NOTE:
            raise DomainError(ErrorCode.INVALID_INPUT, "At most 2000 characters", field=name)
    report.status = status
    if reply is not None:
        report.reply = reply
    report.updated_at = datetime.now(UTC)
    session.add(
        ConcernReportEvent(report_id=report.id, status=status, note=note, actor=principal.subject)
    )
    await session.flush()
    return report


async def report_by_receipt(session: AsyncSession, receipt: str) -> ConcernReport | None:
    """The report a receipt follows (anyone holding the receipt; nobody else)."""
    if not receipt.startswith("CR-") or len(receipt) > 64:
        return None
    report: ConcernReport | None = await session.scalar(
        select(ConcernReport).where(ConcernReport.receipt_hash == receipt_hash(receipt))
    )
    return report


def concern_reports_query(principal: Principal, status: ConcernStatus | None) -> Any:
    """The reports a counsellor may read, narrowed by status."""
    stmt = select(*ConcernReport.__table__.c).where(concern_readable(principal))
    if status is not None:
        stmt = stmt.where(ConcernReport.status == status)
    return stmt
