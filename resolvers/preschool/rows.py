"""The queue's rows as the workflow takes them: an application or offer reached through the
caller's row rule (NOT_FOUND when missing or not theirs to read: :mod:`resolvers.lookup`),
locked for the transition, and the status history every transition appends to.

A transition on one child takes the child's person row first, then the application, then its
offer (``resolvers/locks.py``): so a withdrawal, an acceptance, a confirmation and a school
admission of the same child run one after the other, never each holding what the other
waits for. Who may reach a row is checked before any lock: an id alone locks nothing."""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Integer, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Institution,
    IntakeSeason,
    KindergartenApplication,
    KindergartenApplicationEvent,
    KindergartenOffer,
    OfferStatus,
    Person,
)
from resolvers import driver
from resolvers.access import Principal, Role
from resolvers.errors import NotFound
from resolvers.intake import StatusHistory
from resolvers.lookup import readable_or_not_found
from resolvers.preschool.rules import (
    application_readable,
    application_readable_by_guardian,
    offer_readable,
    offer_readable_by_guardian,
)
from resolvers.rows import locked_row

HISTORY = StatusHistory(KindergartenApplicationEvent)
KA = KindergartenApplication
# An offer in one of these holds a seat of its places row.
LIVE = (OfferStatus.OPEN, OfferStatus.ACCEPTED)


class OfferRef(NamedTuple):
    """An offer as read before any lock: enough to check who may act, and whose row to lock."""

    offer_id: int
    application_id: int
    child_id: int
    kindergarten_id: int
    # The child's row (locked) and the offer's kindergarten, loaded by the same statement and
    # held here so the session keeps them for the step (it holds loaded rows weakly) and reads
    # neither a second time.
    child: Person
    kindergarten: Institution


async def application_for_update(
    session: AsyncSession, principal: Principal, application_id: int, field: str = "applicationId"
) -> KindergartenApplication:
    """The application, locked, if the caller may read it (NOT_FOUND otherwise)."""
    return await readable_or_not_found(
        session,
        KindergartenApplication,
        application_id,
        application_readable(principal),
        what="The application",
        field=field,
    )


async def _application_locked(
    session: AsyncSession, application_id: int, field: str
) -> KindergartenApplication:
    application = await locked_row(session, KindergartenApplication, application_id)
    if application is None:
        raise NotFound("The application", field=field)
    return application


async def offer_for_update(session: AsyncSession, offer_id: int) -> KindergartenOffer:
    """The offer, locked: called once the caller reached it (:func:`offer_ref`) and its
    application is locked."""
    offer = await locked_row(session, KindergartenOffer, offer_id)
    if offer is None:
        raise NotFound("The offer", field="offerId")
    return offer


async def child_application_for_update(
    session: AsyncSession, principal: Principal, application_id: int, field: str = "applicationId"
) -> KindergartenApplication:
    """The application the caller may read, locked after its child's person row (NOT_FOUND
    when missing or not theirs to read). The rule and the child's lock are one statement: an
    application the caller may not read locks nothing."""
    await _lock_child_of(session, principal, application_id, field)
    return await _application_locked(session, application_id, field)


async def child_application_and_season_for_update(
    session: AsyncSession, principal: Principal, application_id: int, field: str = "applicationId"
) -> tuple[KindergartenApplication, IntakeSeason]:
    """:func:`child_application_for_update`, with the application's season read by the child's
    locking statement (the season itself is not locked)."""
    (season,) = await _lock_child_of(session, principal, application_id, field, IntakeSeason)
    return await _application_locked(session, application_id, field), season


async def _lock_child_of(
    session: AsyncSession, principal: Principal, application_id: int, field: str, *also: Any
) -> tuple[Any, ...]:
    """Lock the child of an application the caller may read (NOT_FOUND otherwise), reading
    ``also`` (entities joined to the application: its season) in the same statement. A
    guardian's is a statement made once, the guardian's id a parameter."""
    params = {"application_id": application_id}
    if principal.role == Role.GUARDIAN and principal.person_id is not None:
        # Through the driver (resolvers/driver.py), the season's object made from its columns.
        params["guardian_id"] = principal.person_id
        found = await driver.one_or_none(session, _GUARDIANS_CHILD_LOCKS[also], params)
        if found is None:
            raise NotFound("The application", field=field)
        return (driver.object_of(session, _SEASON, found[1:]),) if also else ()
    stmt = _child_lock_of(application_readable(principal), *also)
    row = (await session.execute(stmt, params)).first()
    if row is None:
        raise NotFound("The application", field=field)
    return tuple(row[1:])


def _child_lock_of(
    readable: ColumnElement[bool], *also: Any, season: bool | None = None
) -> Select[Any]:
    """:func:`_lock_child_of`'s statement with the caller's rule ``readable``, reading ``also``
    (the season, or its columns: then ``season`` says it is joined)."""
    stmt = (
        select(Person.id, *also)
        .select_from(Person)
        .join(KA, KA.child_id == Person.id)
        .where(KA.id == bindparam("application_id", type_=Integer), readable)
        .with_for_update(of=Person, key_share=True)
    )
    if season or (season is None and IntakeSeason in also):
        stmt = stmt.join(IntakeSeason, IntakeSeason.id == KA.season_id)
    return stmt


_SEASON = driver.entity(IntakeSeason)
_GUARDIANS_CHILD_LOCKS: dict[tuple[Any, ...], driver.Made] = {
    also: driver.Made(
        _child_lock_of(
            application_readable_by_guardian(bindparam("guardian_id", type_=Integer)),
            *(_SEASON.columns if also else ()),
            season=bool(also),
        )
    )
    for also in ((), (IntakeSeason,))
}


async def offer_ref(session: AsyncSession, principal: Principal, offer_id: int) -> OfferRef:
    """Who an offer is for, with the child's person row locked (step 1 of the order in
    ``resolvers/locks.py``) and loaded, and the offer's kindergarten, in one statement
    (NOT_FOUND when missing or not the caller's to read: such an offer locks nothing). A
    guardian's is a statement made once, the guardian's id a parameter; another caller's rule
    is built for the call."""
    if principal.role == Role.GUARDIAN and principal.person_id is not None:
        # Through the driver, the child's and kindergarten's objects made from the row's
        # columns (resolvers/driver.py): the families' decisions are the busiest steps.
        params = {"offer_id": offer_id, "guardian_id": principal.person_id}
        found = await driver.one_or_none(session, _GUARDIANS_OFFER_REF, params)
        if found is None:
            raise NotFound("The offer", field="offerId")
        child_at = 4 + len(_PERSON.columns)
        offer, application, child, kindergarten = found[:4]
        return OfferRef(
            offer,
            application,
            child,
            kindergarten,
            driver.object_of(session, _PERSON, found[4:child_at]),
            driver.object_of(session, _INSTITUTION, found[child_at:]),
        )
    stmt = _offer_ref_of(offer_readable(principal)).where(KindergartenOffer.id == offer_id)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound("The offer", field="offerId")
    return OfferRef(*row)


def _offer_ref_of(
    readable: ColumnElement[bool],
) -> Select[int, int, int, int, Person, Institution]:
    """:func:`offer_ref`'s statement with the caller's rule ``readable``. One flat SELECT (the
    planner pulled the former ``ref`` subquery up into the same join anyway): a subquery's
    column collection cost ~0.6 ms of CPU to build on every call, more than the rest of the
    statement (issue 21)."""
    KO = KindergartenOffer
    return (
        select(KO.id, KO.application_id, KA.child_id, KO.kindergarten_id, Person, Institution)
        .join(KA, KA.id == KO.application_id)
        .join(Person, Person.id == KA.child_id)
        .join(Institution, Institution.id == KO.kindergarten_id)
        .where(readable)
        .with_for_update(of=Person, key_share=True)
    )


_PERSON = driver.entity(Person)
_INSTITUTION = driver.entity(Institution)
_GUARDIANS_OFFER_REF = driver.Made(
    select(
        KindergartenOffer.id,
        KindergartenOffer.application_id,
        KA.child_id,
        KindergartenOffer.kindergarten_id,
        *_PERSON.columns,
        *_INSTITUTION.columns,
    )
    .join(KA, KA.id == KindergartenOffer.application_id)
    .join(Person, Person.id == KA.child_id)
    .join(Institution, Institution.id == KindergartenOffer.kindergarten_id)
    .where(
        offer_readable_by_guardian(bindparam("guardian_id", type_=Integer)),
        KindergartenOffer.id == bindparam("offer_id", type_=Integer),
    )
    .with_for_update(of=Person, key_share=True)
)


async def offer_rows_for_update(
    session: AsyncSession, ref: OfferRef
) -> tuple[KindergartenOffer, KindergartenApplication]:
    """The offer and its application (reached through :func:`offer_ref`, which locked the
    child's row), locked in the order: the application, then the offer."""
    application = await _application_locked(session, ref.application_id, "offerId")
    return await offer_for_update(session, ref.offer_id), application
