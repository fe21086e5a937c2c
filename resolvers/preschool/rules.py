"""Who may read kindergarten applications and offers, and who may act on an application."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import ColumnElement, Integer, bindparam, exists, false, or_, select, true, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    Institution,
    KindergartenApplication,
    KindergartenOffer,
    KindergartenPreference,
    KindergartenVoucher,
)
from resolvers import driver
from resolvers.access import Principal, Role, among, no_rows
from resolvers.institutions.rules import may_manage_institution
from resolvers.intake import OFFICER_ROLES, officer_scope
from resolvers.people.rules import children_of

KA = KindergartenApplication


# Made once: an ORM alias copies every column of its table, a cost paid on every request
# that builds the rule (resolvers/people/rules.py does the same; issue 21).
_PREF, _VIA_PREF = aliased(KindergartenPreference), aliased(Institution)
_OFFER, _VIA_OFFER = aliased(KindergartenOffer), aliased(Institution)


def application_readable(principal: Principal) -> ColumnElement[bool]:
    """May this principal read this application? A guardian: their children's; an officer:
    those naming (or offered, or holding a place at) a kindergarten in their scope; the
    ministry: all."""
    if principal.is_ministry:
        return true()
    clauses: list[ColumnElement[bool]] = []
    if principal.role == Role.GUARDIAN and principal.person_id is not None:
        clauses.append(_of_guardian(principal.person_id))
    if principal.role in OFFICER_ROLES:
        pref, via_pref, offer, via_offer = _PREF, _VIA_PREF, _OFFER, _VIA_OFFER
        clauses.append(
            exists().where(
                pref.application_id == KA.id,
                pref.kindergarten_id == via_pref.id,
                officer_scope(principal, via_pref),
            )
        )
        clauses.append(
            exists().where(
                offer.application_id == KA.id,
                offer.kindergarten_id == via_offer.id,
                officer_scope(principal, via_offer),
            )
        )
    return or_(*clauses) if clauses else no_rows()


def _of_guardian(guardian_id: int | ColumnElement[int]) -> ColumnElement[bool]:
    """The applications of a guardian's children: a guardian's whole rule."""
    return KA.child_id.in_(children_of(guardian_id))


def offer_readable(principal: Principal) -> ColumnElement[bool]:
    """Offers are read by whoever may read their application."""
    return KindergartenOffer.application_id.in_(
        select(KA.id).where(application_readable(principal))
    )


def application_readable_by_guardian(guardian_id: ColumnElement[int]) -> ColumnElement[bool]:
    """:func:`application_readable` for a guardian whose id is ``guardian_id``, a bind
    parameter (a statement made once for every guardian, issue 21)."""
    return _of_guardian(guardian_id)


def offer_readable_by_guardian(guardian_id: ColumnElement[int]) -> ColumnElement[bool]:
    """:func:`offer_readable` for a guardian whose id is ``guardian_id``, a bind parameter:
    the rule of a statement made once for every guardian (issue 21: a statement built per
    call cost more CPU than its execution)."""
    return KindergartenOffer.application_id.in_(select(KA.id).where(_of_guardian(guardian_id)))


async def kindergarten_ids_of(session: AsyncSession, application_id: int) -> list[int]:
    """The kindergartens an application names, in the family's order."""
    return list(
        await session.scalars(
            select(KindergartenPreference.kindergarten_id)
            .where(KindergartenPreference.application_id == application_id)
            .order_by(KindergartenPreference.rank)
        )
    )


async def may_handle_application(
    session: AsyncSession, principal: Principal, application: KindergartenApplication
) -> bool:
    """May this officer act on this application? It names, or was offered, a kindergarten
    the officer manages."""
    if principal.is_ministry:
        return True
    found = await driver.rows(session, _HANDLED_BY, {"application_id": application.id})
    return any(may_manage_institution(principal, _Scope(*row)) for row in found)


class _Scope(NamedTuple):
    """What :func:`may_manage_institution` reads of a kindergarten."""

    id: int
    region_id: int | None
    district_id: int | None


# may_handle_application's statement: the kindergartens an application names or was offered,
# made once and sent through the driver (issue 21: three statements before, ~0.6 ms of CPU).
_APPLICATION_ID = bindparam("application_id", type_=Integer)
_HANDLED_BY = driver.Made(
    select(Institution.id, Institution.region_id, Institution.district_id).where(
        Institution.id.in_(
            union(
                select(KindergartenPreference.kindergarten_id).where(
                    KindergartenPreference.application_id == _APPLICATION_ID
                ),
                select(KindergartenOffer.kindergarten_id).where(
                    KindergartenOffer.application_id == _APPLICATION_ID
                ),
            )
        )
    )
)


def voucher_readable(principal: Principal) -> ColumnElement[bool]:
    """May this principal read this voucher (K8)? A guardian: their children's; a district
    officer: those of their districts; a region officer: those of their regions; the
    ministry: all."""
    if principal.is_ministry:
        return true()
    KV = KindergartenVoucher
    if principal.role == Role.GUARDIAN and principal.person_id is not None:
        return KV.child_id.in_(children_of(principal.person_id))
    if principal.role == Role.DISTRICT_OFFICER:
        return among(KV.district_id, principal.district_ids)
    if principal.role == Role.REGION_OFFICER:
        return among(KV.region_id, principal.region_ids)
    return false()


def may_decide_voucher(principal: Principal, voucher: KindergartenVoucher) -> bool:
    """May this officer verify, refuse or end this voucher? An officer of its district (or
    region), or the ministry: the district checks the family's eligibility proof."""
    if principal.is_ministry:
        return True
    if principal.role == Role.DISTRICT_OFFICER:
        return voucher.district_id in principal.district_ids
    if principal.role == Role.REGION_OFFICER:
        return voucher.region_id in principal.region_ids
    return False
