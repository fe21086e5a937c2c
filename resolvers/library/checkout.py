"""A checkout at a library's desk in two statements: one reads and locks everything the rules
ask about, one writes the loan.

1. **The desk statement** (:func:`_desk_stmt`, built once, its values bound): the institution,
   the copy by barcode (locked), the borrower with the open-enrollment or staff test (locked),
   the holds on the copy and the borrower's own hold on the title (locked), the library's
   policy and the borrower's open loans there, and the copy's record (for the answer). The
   copy is locked first (the ``FROM``), then the borrower and the holds as the answer's columns
   are computed: the order the separate statements took before.
2. **The lending statement** (:func:`_lend_stmt`): the copy marked on loan and the loan inserted
   in one statement, on the condition that the borrower's open loans are still under the limit.

Why the limit is checked twice: one statement reads with one snapshot, taken when it starts.
When a second desk lends to the same borrower at the same moment, the desk statement waits for
the borrower's lock and then sees the borrower's row as it is now (PostgreSQL rechecks a locked
row), but its count of open loans is from before it waited. The count it reads gives the
precise refusal in the ordinary case; the lending statement, which starts after the lock is
held, counts again and lends nothing past the limit. Every rule of :func:`lend` is kept; the
partial unique index ``uq_loan_open_item`` still holds one open loan per copy whatever
happens."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    BibRecord,
    Hold,
    HoldStatus,
    Institution,
    ItemStatus,
    LibraryItem,
    LibraryPolicy,
    Loan,
    Person,
)
from resolvers.access import Principal, require
from resolvers.clock import today
from resolvers.errors import DomainError, NotFound
from resolvers.library.errors import LibraryCode
from resolvers.library.holdings import ITEM_COLUMNS, check_barcode
from resolvers.library.rules import borrower_at, may_run_library
from resolvers.library.search import RECORD_COLUMNS

RECORD_PREFIX = "record_"


@dataclass(frozen=True)
class Lent:
    """A checkout's loan, its copy (as the checkout left it) and the copy's record."""

    loan: Loan
    item: LibraryItem
    record: Any


def _open_loans(person_id: Any, institution_id: Any) -> Any:
    """The borrower's open loans at the library (textbook sets aside), from the open-loans
    index alone (``ix_loan_open_borrower``)."""
    return (
        select(func.count())
        .where(
            Loan.person_id == person_id,
            Loan.institution_id == institution_id,
            Loan.returned_at.is_(None),
            Loan.textbook_issue.is_(False),
        )
        .scalar_subquery()
    )


@functools.cache
def _desk_stmt() -> Select[Any]:
    """Everything a checkout's rules read, the rows they protect locked (module docstring).
    Built once: its aliased enrollment clauses cost more CPU to build than PostgreSQL spends
    running it."""
    institution_id = bindparam("institution_id", type_=Integer)
    person_id = bindparam("person_id", type_=Integer)
    barcode = bindparam("barcode", type_=String)
    item = (
        select(*ITEM_COLUMNS)
        .where(LibraryItem.institution_id == institution_id, LibraryItem.barcode == barcode)
        .with_for_update()
        .cte("item")
        .prefix_with("MATERIALIZED")
    )
    borrower = (
        select(Person.id)
        .where(Person.id == person_id, borrower_at(institution_id, Person.id))
        .with_for_update(of=Person)
        .cte("borrower")
        .prefix_with("MATERIALIZED")
    )
    holds = (
        select(Hold.id, Hold.status, Hold.person_id)
        .where(
            or_(
                and_(Hold.item_id == item.c.id, Hold.status == HoldStatus.READY),
                and_(
                    Hold.record_id == item.c.record_id,
                    Hold.institution_id == item.c.institution_id,
                    Hold.person_id == person_id,
                    Hold.status == HoldStatus.WAITING,
                ),
            )
        )
        .order_by(Hold.id)
        .with_for_update(of=Hold)
        .cte("holds")
        .prefix_with("MATERIALIZED")
    )
    policy = (
        select(
            LibraryPolicy.loan_days.label("loan_days"),
            LibraryPolicy.max_loans.label("max_loans"),
        )
        .where(
            (LibraryPolicy.institution_id == institution_id)
            | LibraryPolicy.institution_id.is_(None)
        )
        .order_by(LibraryPolicy.institution_id.is_(None))
        .limit(1)
        .subquery("policy")
    )
    record = BibRecord.__table__.alias("record")
    one = select(literal(1).label("one")).subquery("one")
    return (
        select(
            select(Institution.id)
            .where(Institution.id == institution_id)
            .scalar_subquery()
            .label("institution"),
            *item.c,
            select(borrower.c.id).scalar_subquery().label("borrower_id"),
            select(func.array_agg(holds.c.id)).scalar_subquery().label("hold_ids"),
            select(func.array_agg(holds.c.status)).scalar_subquery().label("hold_statuses"),
            select(func.array_agg(holds.c.person_id)).scalar_subquery().label("hold_people"),
            policy.c.loan_days,
            policy.c.max_loans,
            _open_loans(person_id, institution_id).label("open_loans"),
            *[record.c[c.key].label(RECORD_PREFIX + c.key) for c in RECORD_COLUMNS],
        )
        .select_from(one)
        .outerjoin(item, true())
        .outerjoin(record, record.c.id == item.c.record_id)
        .outerjoin(policy, true())
    )


@functools.cache
def _lend_stmt() -> Any:
    """The copy on loan and its loan, in one statement, only while the borrower's open loans
    are under the limit (counted afresh: the module docstring says why)."""
    item_id = bindparam("lent_item", type_=Integer)
    person_id = bindparam("borrower", type_=Integer)
    institution_id = bindparam("library", type_=Integer)
    moved = (
        update(LibraryItem)
        .where(
            LibraryItem.id == item_id,
            _open_loans(person_id, institution_id) < bindparam("loan_limit", type_=Integer),
        )
        .values(status=ItemStatus.ON_LOAN, updated_at=func.now())
        .returning(LibraryItem.id, LibraryItem.record_id, LibraryItem.institution_id)
        .cte("moved")
    )
    lent = (
        insert(Loan)
        .from_select(
            ["item_id", "record_id", "institution_id", "person_id", "due_on", "textbook_issue"],
            select(
                moved.c.id,
                moved.c.record_id,
                moved.c.institution_id,
                person_id,
                bindparam("due", type_=Date),
                literal(False, Boolean),
            ),
        )
        .returning(*Loan.__table__.c)
        .cte("lent")
    )
    return select(*lent.c)


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
    set aside for this borrower (ITEM_HELD_FOR_ANOTHER), whose hold is then fulfilled; the
    borrower has fewer open loans there than the policy allows (LOAN_LIMIT_REACHED). The
    copy's row lock orders two desks lending it at once, the borrower's orders one borrower's
    checkouts, and the partial unique index ``uq_loan_open_item`` holds one open loan per copy
    whatever happens."""
    code = check_barcode(barcode)
    if not may_run_library(principal, institution_id):
        # Refused before anything is locked; NOT_FOUND first, as for any library step.
        if await session.get(Institution, institution_id) is None:
            raise NotFound("The institution", field="institutionId")
        require(False, "This library is outside your scope")
    desk = (
        await session.execute(
            _desk_stmt(),
            {"institution_id": institution_id, "person_id": person_id, "barcode": code},
        )
    ).one()
    _check(desk, person_id)
    own_hold = _own_hold(desk, person_id)
    if own_hold is not None:
        await session.execute(
            update(Hold)
            .where(Hold.id == own_hold)
            .values(
                status=HoldStatus.FULFILLED,
                item_id=None,
                expires_on=None,
                closed_at=datetime.now().astimezone(),
            )
        )
    due_on = today() + timedelta(days=desk.loan_days)
    row = (
        await session.execute(
            _lend_stmt(),
            {
                "lent_item": desk.id,
                "borrower": person_id,
                "library": institution_id,
                "loan_limit": desk.max_loans,
                "due": due_on,
            },
        )
    ).one_or_none()
    if row is None:  # another desk lent to this borrower meanwhile, up to the limit
        raise _limit_reached(desk.max_loans)
    item = LibraryItem(**{c.key: desk._mapping[c.key] for c in ITEM_COLUMNS})
    item.status = ItemStatus.ON_LOAN
    record = {c.key: desk._mapping[RECORD_PREFIX + c.key] for c in RECORD_COLUMNS}
    return Lent(Loan(**row._mapping), item, _Row(record))


class _Row:
    """A record's columns read by the desk statement, as the record loader's rows give them."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)
        self._mapping = values


def _check(desk: Any, person_id: int) -> None:
    """The desk statement's answer against the rules, in the order a librarian reads them."""
    if desk.institution is None:
        raise NotFound("The institution", field="institutionId")
    if desk.id is None:
        raise DomainError(
            LibraryCode.UNKNOWN_BARCODE, "No copy has this barcode at this library", field="barcode"
        )
    if desk.borrower_id is None:
        raise DomainError(
            LibraryCode.BORROWER_NOT_ELIGIBLE,
            "This person is not enrolled or employed at this institution",
            field="personId",
        )
    status = ItemStatus(desk.status)
    if status == ItemStatus.ON_LOAN:
        raise DomainError(LibraryCode.ITEM_ON_LOAN, "This copy is already on loan", field="barcode")
    if status in (ItemStatus.LOST, ItemStatus.WITHDRAWN):
        raise DomainError(
            LibraryCode.ITEM_NOT_AVAILABLE, f"This copy is {status.value}", field="barcode"
        )
    ready = _ready_for(desk)
    if status == ItemStatus.ON_HOLD_SHELF and ready != person_id:
        raise DomainError(
            LibraryCode.ITEM_HELD_FOR_ANOTHER,
            "This copy is set aside for another reader",
            field="barcode",
        )
    if int(desk.open_loans or 0) >= desk.max_loans:
        raise _limit_reached(desk.max_loans)


def _holds(desk: Any) -> list[tuple[int, str, int]]:
    return list(
        zip(desk.hold_ids or [], desk.hold_statuses or [], desk.hold_people or [], strict=True)
    )


def _ready_for(desk: Any) -> int | None:
    """Who the copy is set aside for (its READY hold's person), if anyone."""
    return next((p for _, s, p in _holds(desk) if s == HoldStatus.READY), None)


def _own_hold(desk: Any, person_id: int) -> int | None:
    """The borrower's hold this checkout fulfils: the copy's READY hold (theirs, checked), or
    their WAITING hold on the title here."""
    holds = sorted(_holds(desk))
    ready = next((h for h, s, _ in holds if s == HoldStatus.READY), None)
    waiting = next((h for h, s, p in holds if s == HoldStatus.WAITING and p == person_id), None)
    return ready if ready is not None else waiting


def _limit_reached(max_loans: int) -> DomainError:
    return DomainError(
        LibraryCode.LOAN_LIMIT_REACHED,
        f"The borrower has {max_loans} books out already",
        field="personId",
    )
