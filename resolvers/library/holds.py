"""Holds: a queue per title at each library, first come first served. A returned copy goes to
the first person waiting, set aside on the hold shelf for ``hold_pickup_days``; a hold not
picked up by then expires (the job), and the copy passes to the next person or the shelf."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    BibFile,
    FileAccess,
    Hold,
    HoldStatus,
    ItemStatus,
    LibraryHolding,
    LibraryItem,
    Person,
)
from resolvers.access import Principal
from resolvers.clock import today
from resolvers.errors import DomainError, NotFound
from resolvers.events import emit
from resolvers.library.catalogue import load_record
from resolvers.library.errors import LibraryCode
from resolvers.library.holdings import Policy, policy_for
from resolvers.library.rules import hold_readable, may_run_library
from resolvers.people.rules import self_or_child
from resolvers.relay import Ordering

HOLD_COLUMNS = tuple(Hold.__table__.c)
HOLD_ORDERINGS = {
    "QUEUE": Ordering(((Hold.placed_at, False), (Hold.id, False))),
    "NEWEST": Ordering(((Hold.id, True),)),
}
OPEN_HOLD = (HoldStatus.WAITING, HoldStatus.READY)


@dataclass(frozen=True)
class HoldFilter:
    institution_id: int | None = None
    record_id: int | None = None
    person_id: int | None = None
    status: HoldStatus | None = None


def holds_query(principal: Principal, flt: HoldFilter) -> Select[Any]:
    clauses: list[ColumnElement[bool]] = [hold_readable(principal)]
    if flt.institution_id is not None:
        clauses.append(Hold.institution_id == flt.institution_id)
    if flt.record_id is not None:
        clauses.append(Hold.record_id == flt.record_id)
    if flt.person_id is not None:
        clauses.append(Hold.person_id == flt.person_id)
    if flt.status is not None:
        clauses.append(Hold.status == flt.status)
    return select(*HOLD_COLUMNS).where(*clauses)


def queue_position() -> Any:
    """A waiting hold's place in its title's queue at its library (1 = next)."""
    ahead = Hold.__table__.alias("ahead")
    return (
        select(func.count() + 1)
        .where(
            ahead.c.record_id == Hold.record_id,
            ahead.c.institution_id == Hold.institution_id,
            ahead.c.status == HoldStatus.WAITING,
            tuple_(ahead.c.placed_at, ahead.c.id) < tuple_(Hold.placed_at, Hold.id),
        )
        .scalar_subquery()
    )


async def may_act_for(
    session: AsyncSession, principal: Principal, person_id: int, institution_id: int
) -> bool:
    """May this principal place or cancel a hold for this person at this library? The
    person themself, their guardian, or the library's staff."""
    if may_run_library(principal, institution_id) or principal.person_id == person_id:
        return True
    found = await session.scalar(
        select(Person.id).where(Person.id == person_id, self_or_child(principal, Person.id))
    )
    return found is not None


@dataclass(frozen=True)
class Placed:
    """A new hold and the title it waits for (as the step read it)."""

    hold: Hold
    record: Any


async def place_hold(
    session: AsyncSession,
    principal: Principal,
    *,
    record_id: int,
    institution_id: int,
    person_id: int,
    eligible: Any,
) -> Placed:
    """Join a title's queue at a library. Rules: the person borrows there (``eligible``:
    BORROWER_NOT_ELIGIBLE); an e-book anyone may read needs no hold, nor does a title with a
    copy on the shelf (HOLD_NOT_NEEDED); the library holds copies of it (NO_COPIES_HERE); one
    open hold per person and title (ALREADY_ON_HOLD: the partial unique index
    ``uq_library_hold_open`` refuses the second, mapped to that code, so no read asks first)."""
    if not await may_act_for(session, principal, person_id, institution_id):
        raise NotFound("The person", field="personId")
    record = await load_record(session, record_id)
    await eligible(session, institution_id, person_id)
    open_file = (
        select(BibFile.id)
        .where(BibFile.record_id == record.id, BibFile.access == FileAccess.OPEN)
        .exists()
    )
    here = (LibraryHolding.institution_id == institution_id) & (
        LibraryHolding.record_id == record.id
    )
    # The open file and the library's copies in one statement (two reads before).
    shelf = (
        await session.execute(
            select(
                open_file.label("open_file"),
                select(LibraryHolding.held).where(here).scalar_subquery().label("held"),
                select(LibraryHolding.available).where(here).scalar_subquery().label("available"),
            )
        )
    ).one()
    if shelf.open_file:
        raise DomainError(
            LibraryCode.HOLD_NOT_NEEDED,
            "This book is open to read online: no hold is needed",
            field="recordId",
        )
    if not shelf.held:
        raise DomainError(
            LibraryCode.NO_COPIES_HERE, "This library holds no copy of the title", field="recordId"
        )
    if shelf.available > 0:
        raise DomainError(
            LibraryCode.HOLD_NOT_NEEDED, "A copy is on the shelf: borrow it", field="recordId"
        )
    hold = Hold(record_id=record.id, institution_id=institution_id, person_id=person_id)
    session.add(hold)
    await session.flush()
    await emit(session, topic="library.hold_placed", aggregate_type="Hold", aggregate_id=hold.id)
    return Placed(hold, record)


async def cancel_hold(session: AsyncSession, principal: Principal, *, hold_id: int) -> Hold:
    """Leave a queue; a copy set aside for the hold passes to the next person waiting."""
    hold = await session.get(Hold, hold_id, with_for_update=True, populate_existing=True)
    if hold is None or not await may_act_for(
        session, principal, hold.person_id, hold.institution_id
    ):
        raise NotFound("The hold", field="holdId")
    if hold.status not in OPEN_HOLD:
        raise DomainError(LibraryCode.HOLD_CLOSED, "The hold is no longer open", field="holdId")
    item_id = hold.item_id
    await _close(session, hold, HoldStatus.CANCELLED)
    if item_id is not None:
        item = await session.get(LibraryItem, item_id, with_for_update=True, populate_existing=True)
        assert item is not None
        await route_copy(session, item, await policy_for(session, item.institution_id))
    return hold


async def _close(session: AsyncSession, hold: Hold, status: HoldStatus) -> None:
    hold.status = status
    hold.item_id = None
    hold.expires_on = None
    hold.closed_at = datetime.now().astimezone()
    await session.flush()


async def route_copy(session: AsyncSession, item: LibraryItem, policy: Policy) -> Hold | None:
    """A copy back on the shelf goes to the first person waiting for its title at its
    library (set aside until ``hold_pickup_days`` from today), or becomes available."""
    first = await session.scalar(
        select(Hold)
        .where(
            Hold.record_id == item.record_id,
            Hold.institution_id == item.institution_id,
            Hold.status == HoldStatus.WAITING,
        )
        .order_by(Hold.placed_at, Hold.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if first is None:
        item.status = ItemStatus.AVAILABLE
        await session.flush()
        return None
    item.status = ItemStatus.ON_HOLD_SHELF
    first.status = HoldStatus.READY
    first.item_id = item.id
    first.expires_on = today() + timedelta(days=policy.hold_pickup_days)
    await session.flush()
    await emit(
        session,
        topic="library.hold_ready",
        aggregate_type="Hold",
        aggregate_id=first.id,
        payload={"expires_on": first.expires_on.isoformat()},
    )
    return first


async def fulfil_hold_on_checkout(session: AsyncSession, item: LibraryItem, person_id: int) -> None:
    """At checkout: a copy on the hold shelf goes only to the person it was set aside for
    (ITEM_HELD_FOR_ANOTHER); the borrower's open hold on the title is fulfilled."""
    # One statement for both: the hold the copy is set aside for, and the borrower's own
    # waiting hold on the title (each by its partial index).
    holds = list(
        await session.scalars(
            select(Hold)
            .where(
                ((Hold.item_id == item.id) & (Hold.status == HoldStatus.READY))
                | (
                    (Hold.record_id == item.record_id)
                    & (Hold.institution_id == item.institution_id)
                    & (Hold.person_id == person_id)
                    & (Hold.status == HoldStatus.WAITING)
                )
            )
            .order_by(Hold.id)
            .with_for_update()
        )
    )
    ready = next((h for h in holds if h.status == HoldStatus.READY), None)
    if item.status == ItemStatus.ON_HOLD_SHELF and (ready is None or ready.person_id != person_id):
        raise DomainError(
            LibraryCode.ITEM_HELD_FOR_ANOTHER,
            "This copy is set aside for another reader",
            field="barcode",
        )
    own = ready or next((h for h in holds if h.status == HoldStatus.WAITING), None)
    if own is not None:
        await _close(session, own, HoldStatus.FULFILLED)


async def waiting_for(session: AsyncSession, record_id: int, institution_id: int) -> bool:
    found = await session.scalar(
        select(Hold.id)
        .where(
            Hold.record_id == record_id,
            Hold.institution_id == institution_id,
            Hold.status == HoldStatus.WAITING,
        )
        .limit(1)
    )
    return found is not None


async def expire_holds(session: AsyncSession, *, on: date | None = None) -> int:
    """The job: holds set aside and not picked up by their day expire; each copy passes to
    the next person waiting, or back to the shelf."""
    day = on or today()
    expired = list(
        await session.scalars(
            select(Hold)
            .where(Hold.status == HoldStatus.READY, Hold.expires_on < day)
            .order_by(Hold.id)
            .with_for_update(skip_locked=True)
        )
    )
    policies: dict[int, Policy] = {}
    for hold in expired:
        item_id = hold.item_id
        await _close(session, hold, HoldStatus.EXPIRED)
        await emit(
            session, topic="library.hold_expired", aggregate_type="Hold", aggregate_id=hold.id
        )
        item = await session.get(LibraryItem, item_id, with_for_update=True, populate_existing=True)
        if item is None:
            continue
        if item.institution_id not in policies:
            policies[item.institution_id] = await policy_for(session, item.institution_id)
        await route_copy(session, item, policies[item.institution_id])
    return len(expired)
