"""Kindergarten vouchers (domain.md K8; issue 14.7): a place in a private kindergarten paid by
the state, for a low-income family's child or a child with a disability.

A voucher moves ``claimed -> verified -> in_use -> ended``; an officer may refuse a claim
(with a reason), and a live voucher ends when the child starts school (K7, through
:func:`end_vouchers_for_school`, which the school-entry hook runs), when the family gives it
up or the child leaves, when it passes its last day (:func:`expire_vouchers`), or on an
officer's decision (with a reason). The database holds one live voucher per child (partial
unique index), what each state carries (CHECKs) and the transitions allowed (a trigger), and
refuses a voucher used anywhere but at a private kindergarten (the same trigger). Since
migration 0034 it also ends the voucher in use on a place whatever ends that place
(``withdrawStudent``, ``transferStudent``, an admission elsewhere: reason ``left``, with the
outbox event), keeps a voucher in use only on an open place, and refuses a place from a day
the child is already due at school (F4, as the queue does: ``STARTS_SCHOOL_FIRST``).

Locks: the child's person row first (``resolvers/locks.py``, step 1), then the voucher, then
the enrollment: two claims, two uses, or a use racing a school admission of one child run one
after the other.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    District,
    EducationLevel,
    Enrollment,
    ExitReason,
    Institution,
    InstitutionKind,
    IntakeKind,
    IntakeSeason,
    KindergartenVoucher,
    Ownership,
    Person,
    Sector,
    VoucherEndReason,
    VoucherGround,
    VoucherStatus,
)
from models.preschool_vouchers import LIVE_VOUCHER_STATUSES
from resolvers import licensing as licensing_service
from resolvers.access import Principal, Role, require
from resolvers.clock import today
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.intake import (
    PROOF_MAX,
    REASON_MAX,
    clean_text,
    current_season,
    emit_many,
    guardians_child_for_update,
    months_between,
    require_guardian_reached,
)
from resolvers.preschool.errors import PreschoolCode
from resolvers.preschool.rules import may_decide_voucher, voucher_readable
from resolvers.preschool.school import (
    refuse_at_school,
    require_before_school,
    require_not_at_school,
    school_place_from,
)
from resolvers.relay import Ordering

log = logging.getLogger(__name__)

KV = KindergartenVoucher
VOUCHER_COLUMNS = tuple(KV.__table__.c)
VOUCHER_ORDERINGS = {
    "CLAIMED_AT": Ordering(((KV.claimed_at, False), (KV.id, False))),
    "ID": Ordering(((KV.id, False),)),
}


def vouchers_query(
    principal: Principal,
    *,
    status: VoucherStatus | None = None,
    child_id: int | None = None,
    district_id: int | None = None,
) -> Select[Any]:
    """Vouchers the principal may read, narrowed by the filter."""
    stmt = select(*VOUCHER_COLUMNS).where(voucher_readable(principal))
    if status is not None:
        stmt = stmt.where(KV.status == status)
    if child_id is not None:
        stmt = stmt.where(KV.child_id == child_id)
    if district_id is not None:
        stmt = stmt.where(KV.district_id == district_id)
    return stmt


class LockedVoucher(NamedTuple):
    """A voucher locked after its child's row, with the child and the voucher's season read by
    the child's locking statement (held here: the session keeps loaded rows weakly)."""

    voucher: KindergartenVoucher
    child: Person
    season: IntakeSeason


async def _voucher_for_update(
    session: AsyncSession, principal: Principal, voucher_id: int
) -> LockedVoucher:
    """The voucher the caller may read, locked after its child's person row (NOT_FOUND when
    missing or not theirs to read: an id alone locks nothing). The rule, the child's lock and
    the reads of the child and the season are one statement (issue 21: statements per
    mutation); the voucher's own lock follows (``resolvers/locks.py``)."""
    found = (
        await session.execute(
            select(Person, IntakeSeason)
            .join(KV, KV.child_id == Person.id)
            .join(IntakeSeason, IntakeSeason.id == KV.season_id)
            .where(KV.id == voucher_id, voucher_readable(principal))
            .with_for_update(of=Person, key_share=True)
            .execution_options(populate_existing=True)
        )
    ).first()
    if found is None:
        raise NotFound("The voucher", field="voucherId")
    voucher = await session.get(KV, voucher_id, with_for_update=True, populate_existing=True)
    if voucher is None:
        raise NotFound("The voucher", field="voucherId")
    return LockedVoucher(voucher, found.Person, found.IntakeSeason)


async def _voucher_district(
    session: AsyncSession, child: Person, district_id: int | None
) -> District:
    """The district whose officers check the claim: the one named, else the child's
    registered district."""
    pk = district_id if district_id is not None else child.registered_district_id
    if pk is None:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "The child has no registered district: name the district you live in",
            field="districtId",
        )
    district = await session.get(District, pk)
    if district is None:
        raise NotFound("The district", field="districtId")
    if district.valid_to is not None and district.valid_to <= today():
        raise DomainError(
            ErrorCode.INVALID_INPUT, "The district no longer exists", field="districtId"
        )
    return district


async def _emit(session: AsyncSession, topic: str, voucher: KindergartenVoucher) -> None:
    await emit(
        session,
        topic=f"preschool.voucher_{topic}",
        aggregate_type="KindergartenVoucher",
        aggregate_id=voucher.id,
        payload={"status": voucher.status.value},
    )


async def claim_voucher(
    session: AsyncSession,
    principal: Principal,
    *,
    child_id: int,
    ground: VoucherGround,
    proof: str,
    district_id: int | None,
) -> Claimed:
    """A guardian claims a voucher for their child, naming the ground (low income or a
    disability) and the document proving it (K8).

    Rule: one live voucher per child (``DUPLICATE_VOUCHER``; the partial unique index holds it
    when two claims race); no voucher for a child at school (``ALREADY_ENROLLED``, K7) or who
    starts school by today (``STARTS_SCHOOL_FIRST``, F4: no place could begin before it); a
    kindergarten season is open (its end is the voucher's last day once verified).
    """
    child = await guardians_child_for_update(session, principal, child_id)
    note = clean_text(proof, PROOF_MAX, "proof")
    if note is None:
        raise DomainError(ErrorCode.INVALID_INPUT, "Name the eligibility document", field="proof")
    season = await current_season(session, IntakeKind.KINDERGARTEN, today())
    district = await _voucher_district(session, child, district_id)
    await require_not_at_school(session, child.id, today(), field="childId")
    require_before_school(season, child.birth_date, today(), field="childId")
    live = await session.scalar(
        select(KV.id).where(KV.child_id == child.id, KV.status.in_(LIVE_VOUCHER_STATUSES))
    )
    if live is not None:
        raise DomainError(
            PreschoolCode.DUPLICATE_VOUCHER, "The child already holds a voucher", field="childId"
        )
    assert principal.person_id is not None  # a guardian's token carries their person
    # The row comes back whole from its INSERT: no read after it (issue 21).
    voucher: KindergartenVoucher = (
        await session.scalars(
            insert(KV).returning(KV),
            [
                {
                    "child_id": child.id,
                    "guardian_id": principal.person_id,
                    "season_id": season.id,
                    "district_id": district.id,
                    "region_id": district.region_id,
                    "ground": ground,
                    "proof": note,
                    "status": VoucherStatus.CLAIMED,
                }
            ],
        )
    ).one()
    await _emit(session, "claimed", voucher)
    return Claimed(voucher, district)


async def decide_voucher(
    session: AsyncSession,
    principal: Principal,
    *,
    voucher_id: int,
    verified: bool,
    reason: str | None,
) -> KindergartenVoucher:
    """An officer of the voucher's district records the check of the eligibility proof: the
    voucher is verified (valid to the season's last day, a policy row) or refused (a reason is
    required). Rule K8: only a verified voucher places a child (issue 14.7)."""
    voucher, _, season = await _voucher_for_update(session, principal, voucher_id)
    require(may_decide_voucher(principal, voucher), "Only the district's officers decide")
    if voucher.status != VoucherStatus.CLAIMED:
        raise DomainError(
            PreschoolCode.VOUCHER_NOT_CLAIMED, "The voucher was already decided", field="voucherId"
        )
    note = clean_text(reason, REASON_MAX, "reason")
    if not verified and note is None:
        raise DomainError(ErrorCode.INVALID_INPUT, "Say why the voucher is refused", field="reason")
    if verified:
        if season.ends_on < today():
            raise DomainError(
                PreschoolCode.VOUCHER_EXPIRED, "The claim's season is over", field="voucherId"
            )
        voucher.valid_until = season.ends_on
    voucher.status = VoucherStatus.VERIFIED if verified else VoucherStatus.REFUSED
    voucher.decided_at = datetime.now(UTC)
    voucher.decided_by = principal.subject
    voucher.decision_reason = note
    await session.flush()
    await _emit(session, "verified" if verified else "refused", voucher)
    await session.refresh(voucher)
    return voucher


def _require_usable(voucher: KindergartenVoucher, start: date) -> None:
    """A verified voucher whose last day is not before the place begins."""
    if voucher.status in (VoucherStatus.ENDED, VoucherStatus.REFUSED):
        raise DomainError(PreschoolCode.VOUCHER_ENDED, "The voucher is closed", field="voucherId")
    if voucher.status != VoucherStatus.VERIFIED:
        message = (
            "The voucher is already used"
            if voucher.status == VoucherStatus.IN_USE
            else "The voucher is not verified yet"
        )
        raise DomainError(PreschoolCode.VOUCHER_NOT_VERIFIED, message, field="voucherId")
    assert voucher.valid_until is not None
    if start > voucher.valid_until or today() > voucher.valid_until:
        raise DomainError(
            PreschoolCode.VOUCHER_EXPIRED,
            f"The voucher is valid until {voucher.valid_until.isoformat()}",
            field="entryDate",
        )


async def _private_kindergarten(
    session: AsyncSession, kindergarten_id: int, start: date
) -> Institution:
    """A private kindergarten, open on ``start``, holding a licence in force today and then
    covering preschool education (``LICENCE_REQUIRED``: an unlicensed institution admits no
    one, issue 5)."""
    inst = await session.get(Institution, kindergarten_id)
    if inst is None:
        raise NotFound("The kindergarten", field="kindergartenId")
    if inst.kind != InstitutionKind.KINDERGARTEN:
        raise DomainError(
            PreschoolCode.WRONG_INSTITUTION_KIND,
            "This is not a kindergarten",
            field="kindergartenId",
        )
    if inst.ownership != Ownership.PRIVATE:
        raise DomainError(
            PreschoolCode.NOT_PRIVATE_KINDERGARTEN,
            "A voucher pays for a private kindergarten; a state one has the queue",
            field="kindergartenId",
        )
    if inst.closed_on is not None and inst.closed_on <= start:
        raise DomainError(
            PreschoolCode.INSTITUTION_CLOSED, "The kindergarten is closed", field="kindergartenId"
        )
    for day in sorted({today(), start}):
        await licensing_service.require_teaching_licence(
            session,
            institution_id=inst.id,
            on=day,
            level=EducationLevel.PRESCHOOL,
            field="kindergartenId",
            institution=inst,
        )
    return inst


async def _check_child(
    session: AsyncSession, child: Person, season: IntakeSeason, start: date
) -> None:
    """The child is of kindergarten age on ``start`` (K1, the season's policy), does not
    start school by then (F4, the queue's school-entry rule: ``STARTS_SCHOOL_FIRST``), holds no
    kindergarten place, and has no school place then or later (K7)."""
    months = months_between(child.birth_date, start)
    if months < season.min_age_months:
        raise DomainError(
            PreschoolCode.CHILD_TOO_YOUNG, "The child is too young", field="entryDate"
        )
    if months >= season.max_age_months:
        raise DomainError(
            PreschoolCode.CHILD_TOO_OLD, "The child is past kindergarten age", field="entryDate"
        )
    require_before_school(season, child.birth_date, start)
    # Both places read in one statement (issue 21: statements per mutation).
    held, at_school = (
        await session.execute(
            select(
                select(Enrollment.id)
                .where(
                    Enrollment.person_id == child.id,
                    Enrollment.sector == Sector.PRESCHOOL,
                    Enrollment.exit_date.is_(None),
                )
                .limit(1)
                .scalar_subquery(),
                select(func.min(Enrollment.entry_date))
                .where(Enrollment.person_id == child.id, *school_place_from(start))
                .scalar_subquery(),
            )
        )
    ).one()
    if held is not None:
        raise DomainError(
            PreschoolCode.ALREADY_ENROLLED,
            "The child already holds a kindergarten place",
            field="voucherId",
        )
    refuse_at_school(at_school, field="voucherId")


class Claimed(NamedTuple):
    """A claim's voucher and its district (the payload's loader is given the district)."""

    voucher: KindergartenVoucher
    district: District


class Used(NamedTuple):
    """A used voucher, its kindergarten and the place it opened (the payload's loaders are
    given the last two, issue 21)."""

    voucher: KindergartenVoucher
    kindergarten: Institution
    enrollment: Enrollment


async def use_voucher(
    session: AsyncSession,
    principal: Principal,
    *,
    voucher_id: int,
    kindergarten_id: int,
    entry_date: date | None,
) -> Used:
    """The guardian uses a verified voucher at a private licensed kindergarten: the child's
    kindergarten enrollment opens there on ``entry_date`` (today if unset), paid by the state.

    Rules: K8 (a verified voucher, within its validity, at a private kindergarten); the
    licensing rule (issue 5: a kindergarten that needs a licence and holds none in force today
    and on the first day admits no one); K1 (kindergarten age); F4 and issue 14.6 (no place
    for a child who starts school by its first day, ``STARTS_SCHOOL_FIRST``; the database
    holds it too); K7 (no place for a child at school). Two uses of one voucher racing each
    other run one after the other on the child's row: the second finds it in use
    (``VOUCHER_NOT_VERIFIED``).
    """
    voucher, child, season = await _voucher_for_update(session, principal, voucher_id)
    # A guardian reaches a voucher through their active guardianship of its child (the row
    # rule): only a guardian acting for themself is left to refuse.
    require_guardian_reached(principal, voucher.child_id)
    start = entry_date or today()
    if start < today():
        raise DomainError(ErrorCode.INVALID_DATE, "The first day is in the past", field="entryDate")
    _require_usable(voucher, start)
    inst = await _private_kindergarten(session, kindergarten_id, start)
    await _check_child(session, child, season, start)
    enrollment = Enrollment(
        person_id=voucher.child_id,
        institution_id=inst.id,
        sector=Sector.PRESCHOOL,
        entry_date=start,
        programme=None,
        class_group=None,
    )
    session.add(enrollment)
    await session.flush()
    # The voucher comes back whole from its UPDATE: no read after it (issue 21).
    used: KindergartenVoucher = (
        await session.scalars(
            update(KV)
            .where(KV.id == voucher.id)
            .values(
                status=VoucherStatus.IN_USE,
                kindergarten_id=inst.id,
                enrollment_id=enrollment.id,
                used_on=start,
                updated_at=func.now(),
            )
            .returning(KV)
            .execution_options(populate_existing=True)
        )
    ).one()
    await _emit(session, "used", used)
    return Used(used, inst, enrollment)


async def _end_place(session: AsyncSession, voucher: KindergartenVoucher) -> None:
    """The child leaves the kindergarten the voucher placed them in: the enrollment ends today
    (or as it begins, if it was to begin later)."""
    if voucher.enrollment_id is None:
        return
    place = await session.get(Enrollment, voucher.enrollment_id, with_for_update=True)
    if place is not None and place.exit_date is None:
        place.exit_date = max(today(), place.entry_date)
        place.exit_reason = ExitReason.WITHDRAWN


async def end_voucher(
    session: AsyncSession,
    principal: Principal,
    *,
    voucher_id: int,
    reason: str | None,
) -> KindergartenVoucher:
    """End a live voucher. The guardian gives it up (the child leaves: a place it pays for
    ends today); an officer of its district ends it with a reason (the state stops paying; the
    place itself is the kindergarten's and the family's to end). Rule K8, issue 14.7."""
    voucher = (await _voucher_for_update(session, principal, voucher_id)).voucher
    note = clean_text(reason, REASON_MAX, "reason")
    if principal.role == Role.GUARDIAN:
        require_guardian_reached(principal, voucher.child_id)
        why = VoucherEndReason.LEFT
    else:
        require(may_decide_voucher(principal, voucher), "Only the district's officers decide")
        if note is None:
            raise DomainError(ErrorCode.INVALID_INPUT, "Say why the voucher ends", field="reason")
        why = VoucherEndReason.OFFICER
    if voucher.status not in LIVE_VOUCHER_STATUSES:
        raise DomainError(PreschoolCode.VOUCHER_ENDED, "The voucher is closed", field="voucherId")
    ends_place = why == VoucherEndReason.LEFT and voucher.status == VoucherStatus.IN_USE
    voucher.status = VoucherStatus.ENDED
    voucher.end_reason = why
    voucher.end_note = note
    voucher.ended_on = today()
    voucher.ended_by = principal.subject
    if voucher.decided_at is None:  # a claim given up before any decision
        voucher.decided_at = datetime.now(UTC)
    # The voucher ends before its place does: the place's end would otherwise end it through
    # the database's trigger (migration 0034) as "left" with no one named.
    await session.flush()
    if ends_place:
        await _end_place(session, voucher)
        await session.flush()
    await _emit(session, "ended", voucher)
    await session.refresh(voucher)
    return voucher


async def expire_vouchers(
    session: AsyncSession, principal: Principal, *, on: date | None = None
) -> int:
    """End verified and in-use vouchers whose last day is before ``on`` (today if unset): the
    state stops paying (K8). The places stay (the kindergarten's and the family's to end).
    The job ``bilim jobs run`` can call it; also a ministry mutation."""
    require(principal.is_ministry, "Only the ministry runs the queue's jobs")
    day = on or today()
    if day > today():
        raise DomainError(
            ErrorCode.INVALID_DATE, "Vouchers are not expired ahead of time", field="asOf"
        )
    ended = list(
        await session.scalars(
            update(KV)
            .where(
                KV.status.in_((VoucherStatus.VERIFIED, VoucherStatus.IN_USE)),
                KV.valid_until < day,
            )
            .values(
                status=VoucherStatus.ENDED,
                end_reason=VoucherEndReason.EXPIRED,
                ended_on=day,
                ended_by=principal.subject,
                updated_at=func.now(),
            )
            .returning(KV.id)
            .execution_options(synchronize_session=False)
        )
    )
    await emit_many(
        session,
        topic="preschool.voucher_ended",
        aggregate_type="KindergartenVoucher",
        events=[(i, {"status": "ended", "reason": "expired"}) for i in ended],
    )
    log.info("preschool.vouchers_expired", extra={"count": len(ended)})
    return len(ended)
