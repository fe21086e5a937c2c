"""Circulation at a library's desk: check a copy out to one of the institution's people, take
it back, renew a loan; the loan lists; the overdue job."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, bindparam, func, not_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import ItemStatus, LibraryItem, Loan, Person
from resolvers.access import Principal
from resolvers.clock import today
from resolvers.errors import DomainError, NotFound
from resolvers.events import emit
from resolvers.library.errors import LibraryCode
from resolvers.library.holdings import Policy, item_by_barcode, library_of, policy_for
from resolvers.library.holds import fulfil_hold_on_checkout, route_copy, waiting_for
from resolvers.library.rules import borrower_at, loan_readable, may_run_library
from resolvers.relay import Ordering

LOAN_COLUMNS = tuple(Loan.__table__.c)
LOAN_ORDERINGS = {
    "DUE": Ordering(((Loan.due_on, False), (Loan.id, False))),
    "NEWEST": Ordering(((Loan.id, True),)),
}


@dataclass(frozen=True)
class LoanFilter:
    institution_id: int | None = None
    person_id: int | None = None
    open: bool | None = None
    overdue: bool | None = None
    # Open loans of people no longer enrolled or employed at the lending institution.
    borrower_left: bool | None = None


def loan_filter_clauses(flt: LoanFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if flt.institution_id is not None:
        clauses.append(Loan.institution_id == flt.institution_id)
    if flt.person_id is not None:
        clauses.append(Loan.person_id == flt.person_id)
    if flt.open is True:
        clauses.append(Loan.returned_at.is_(None))
    elif flt.open is False:
        clauses.append(Loan.returned_at.is_not(None))
    if flt.overdue is not None:
        late = Loan.returned_at.is_(None) & (Loan.due_on < today())
        clauses.append(late if flt.overdue else not_(late))
    if flt.borrower_left is not None:
        here = borrower_at(Loan.institution_id, Loan.person_id)
        clauses.append(Loan.returned_at.is_(None))
        clauses.append(not_(here) if flt.borrower_left else here)
    return clauses


def loans_query(principal: Principal, flt: LoanFilter) -> Select[Any]:
    return select(*LOAN_COLUMNS).where(loan_readable(principal), *loan_filter_clauses(flt))


@functools.cache
def _borrower_stmt() -> Select[Any]:
    """Built once, its values bound at each call: the borrower test restates the registry's
    enrollment clauses on an alias, which costs more of a checkout's CPU to build than the
    statement costs PostgreSQL to run (issue 17's checkout target)."""
    person_id = bindparam("person_id", type_=Integer)
    institution_id = bindparam("institution_id", type_=Integer)
    return (
        select(Person.id)
        .where(Person.id == person_id, borrower_at(institution_id, Person.id))
        .with_for_update(of=Person)
    )


async def require_borrower(session: AsyncSession, institution_id: int, person_id: int) -> None:
    """The person borrows at this institution today (an open enrollment or staff post there),
    locked so that one borrower's checkouts are counted one after the other; the same answer
    for an unknown person, so an id reveals nobody."""
    found = await session.scalar(
        _borrower_stmt(), {"person_id": person_id, "institution_id": institution_id}
    )
    if found is None:
        raise DomainError(
            LibraryCode.BORROWER_NOT_ELIGIBLE,
            "This person is not enrolled or employed at this institution",
            field="personId",
        )


@dataclass(frozen=True)
class Lent:
    """A checkout's loan and its copy (locked and changed by the checkout)."""

    loan: Loan
    item: LibraryItem


async def lend(
    session: AsyncSession,
    principal: Principal,
    *,
    institution_id: int,
    barcode: str,
    person_id: int,
) -> Lent:
    """Lend a copy. Rules: the caller runs the library; the barcode names a copy there
    (UNKNOWN_BARCODE); the borrower is enrolled or employed there now
    (BORROWER_NOT_ELIGIBLE); the copy is on the shelf (ITEM_ON_LOAN, ITEM_NOT_AVAILABLE) or
    set aside for this borrower (ITEM_HELD_FOR_ANOTHER); the borrower has fewer open loans
    there than the policy allows (LOAN_LIMIT_REACHED). The copy's row lock orders two desks
    lending it at once, and the partial unique index ``uq_loan_open_item`` holds one open loan
    per copy whatever happens."""
    inst = await library_of(session, principal, institution_id)
    item = await item_by_barcode(session, inst.id, barcode)
    await require_borrower(session, inst.id, person_id)
    if item.status == ItemStatus.ON_LOAN:
        raise DomainError(LibraryCode.ITEM_ON_LOAN, "This copy is already on loan", field="barcode")
    if item.status in (ItemStatus.LOST, ItemStatus.WITHDRAWN):
        raise DomainError(
            LibraryCode.ITEM_NOT_AVAILABLE, f"This copy is {item.status.value}", field="barcode"
        )
    await fulfil_hold_on_checkout(session, item, person_id)
    policy = await _within_limit(session, inst.id, person_id)
    due_on = today() + timedelta(days=policy.loan_days)
    return Lent(await _lend(session, item, person_id, due_on=due_on), item)


async def _within_limit(session: AsyncSession, institution_id: int, person_id: int) -> Policy:
    """The library's policy, once the borrower is found to have fewer open loans (textbook
    sets aside) there than it allows: one statement, the count read from the open-loans
    index alone (``ix_loan_open_borrower``, migration 0035)."""
    open_loans = (
        select(func.count())
        .where(
            Loan.person_id == person_id,
            Loan.institution_id == institution_id,
            Loan.returned_at.is_(None),
            Loan.textbook_issue.is_(False),
        )
        .scalar_subquery()
    )
    policy, count = await policy_for(session, institution_id, also=open_loans)
    if count >= policy.max_loans:
        raise DomainError(
            LibraryCode.LOAN_LIMIT_REACHED,
            f"The borrower has {policy.max_loans} books out already",
            field="personId",
        )
    return policy


async def _lend(
    session: AsyncSession,
    item: LibraryItem,
    person_id: int,
    *,
    due_on: date,
    textbook: bool = False,
) -> Loan:
    loan = Loan(
        item_id=item.id,
        record_id=item.record_id,
        institution_id=item.institution_id,
        person_id=person_id,
        due_on=due_on,
        textbook_issue=textbook,
    )
    session.add(loan)
    item.status = ItemStatus.ON_LOAN
    await session.flush()
    return loan


async def return_item(
    session: AsyncSession, principal: Principal, *, institution_id: int, barcode: str
) -> Loan:
    """Take a copy back: its open loan closes, and the copy goes to the first person waiting
    for the title here, or back on the shelf (LOAN_CLOSED when it was not out)."""
    inst = await library_of(session, principal, institution_id)
    item = await item_by_barcode(session, inst.id, barcode)
    loan = await session.scalar(
        select(Loan).where(Loan.item_id == item.id, Loan.returned_at.is_(None)).with_for_update()
    )
    if loan is None:
        raise DomainError(LibraryCode.LOAN_CLOSED, "This copy is not on loan", field="barcode")
    loan.returned_at = datetime.now().astimezone()
    await session.flush()
    await route_copy(session, item, await policy_for(session, inst.id))
    return loan


async def renew_loan(session: AsyncSession, principal: Principal, *, loan_id: int) -> Loan:
    """Lend a copy for another loan period from today (or from its due day, if later). Rules:
    the library's staff or the borrower; the loan is open (LOAN_CLOSED); renewals left under
    the policy (RENEWAL_LIMIT_REACHED); nobody waits for the title here
    (RENEWAL_BLOCKED_BY_HOLD)."""
    loan = await session.get(Loan, loan_id, with_for_update=True, populate_existing=True)
    if loan is None or not (
        may_run_library(principal, loan.institution_id) or principal.person_id == loan.person_id
    ):
        raise NotFound("The loan", field="loanId")
    if loan.returned_at is not None:
        raise DomainError(LibraryCode.LOAN_CLOSED, "The copy was returned", field="loanId")
    policy = await policy_for(session, loan.institution_id)
    if loan.renewals >= policy.max_renewals:
        raise DomainError(
            LibraryCode.RENEWAL_LIMIT_REACHED,
            f"A loan is renewed at most {policy.max_renewals} times",
            field="loanId",
        )
    if await waiting_for(session, loan.record_id, loan.institution_id):
        raise DomainError(
            LibraryCode.RENEWAL_BLOCKED_BY_HOLD,
            "Another reader waits for this title",
            field="loanId",
        )
    loan.due_on = max(today(), loan.due_on) + timedelta(days=policy.loan_days)
    loan.renewals += 1
    loan.overdue_since = None
    await session.flush()
    return loan


async def mark_overdue_loans(session: AsyncSession, *, on: date | None = None) -> int:
    """The job: open loans past their due day are marked overdue once (the day found), with
    an outbox event each so the borrower (or guardian) is notified."""
    day = on or today()
    marked = list(
        await session.scalars(
            update(Loan)
            .where(Loan.returned_at.is_(None), Loan.due_on < day, Loan.overdue_since.is_(None))
            .values(overdue_since=day)
            .returning(Loan.id)
        )
    )
    for loan_id in marked:
        await emit(
            session, topic="library.loan_overdue", aggregate_type="Loan", aggregate_id=loan_id
        )
    return len(marked)
