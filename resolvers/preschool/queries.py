"""The kindergarten queue's lists: applications narrowed by who may read them, where a child
stands in each queue, and a kindergarten's free places."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    IntakeKind,
    KindergartenApplication,
    KindergartenOffer,
    KindergartenPlaces,
    KindergartenPreference,
    QueueStatus,
)
from resolvers.access import Principal
from resolvers.clock import today
from resolvers.errors import DomainError
from resolvers.intake import current_season
from resolvers.preschool.rules import application_readable
from resolvers.relay import Ordering

KA = KindergartenApplication
APPLICATION_COLUMNS = tuple(KA.__table__.c)
OFFER_COLUMNS = tuple(KindergartenOffer.__table__.c)
PLACES_COLUMNS = tuple(KindergartenPlaces.__table__.c)

APPLICATION_ORDERINGS = {
    # The order offers follow: verified benefit first, then registration time.
    "QUEUE": Ordering(((KA.benefit_verified, True), (KA.registered_at, False), (KA.id, False))),
    "REGISTERED_AT": Ordering(((KA.registered_at, False), (KA.id, False))),
    "ID": Ordering(((KA.id, False),)),
}


@dataclass(frozen=True)
class ApplicationFilter:
    status: QueueStatus | None = None
    kindergarten_id: int | None = None
    age_group: str | None = None
    intake_year: int | None = None
    child_id: int | None = None


def applications_query(principal: Principal, flt: ApplicationFilter) -> Select[Any]:
    """Applications the principal may read, narrowed by the filter."""
    stmt = select(*APPLICATION_COLUMNS).where(application_readable(principal))
    if flt.status is not None:
        stmt = stmt.where(KA.status == flt.status)
    if flt.kindergarten_id is not None:
        stmt = stmt.where(
            KA.id.in_(
                select(KindergartenPreference.application_id).where(
                    KindergartenPreference.kindergarten_id == flt.kindergarten_id
                )
            )
        )
    if flt.age_group is not None:
        stmt = stmt.where(KA.age_group == flt.age_group)
    if flt.intake_year is not None:
        stmt = stmt.where(KA.intake_year == flt.intake_year)
    if flt.child_id is not None:
        stmt = stmt.where(KA.child_id == flt.child_id)
    return stmt


@dataclass(frozen=True)
class QueuePositionRow:
    """Where one preference stands in its (kindergarten, intake, age group) queue."""

    preference_id: int
    ahead: int
    ahead_with_benefit: int
    ahead_registered_later: int


# Made once: an ORM alias copies every column of its table, a cost paid on every request
# that builds the rule (resolvers/people/rules.py does the same; issue 21).
_ME, _PREF = aliased(KA), aliased(KindergartenPreference)
_OTHER, _OTHER_PREF = aliased(KA), aliased(KindergartenPreference)


def queue_positions_query(preference_ids: Sequence[int]) -> Select[int, int, int, int]:
    """For each preference of a waiting application: how many waiting children of the same
    kindergarten, intake year and age group come first in offer order (verified benefit, then
    registration time), how many of those hold a benefit, and how many of those registered
    later than this child (they are ahead only because of their benefit)."""
    me, pref, other, other_pref = _ME, _PREF, _OTHER, _OTHER_PREF
    ahead_of_me = tuple_(~other.benefit_verified, other.registered_at, other.id) < tuple_(
        ~me.benefit_verified, me.registered_at, me.id
    )
    return (
        select(
            pref.id.label("preference_id"),
            func.count(other.id).label("ahead"),
            func.count(other.id).filter(other.benefit_verified).label("ahead_with_benefit"),
            func.count(other.id)
            .filter(other.registered_at > me.registered_at)
            .label("ahead_registered_later"),
        )
        .select_from(pref)
        .join(me, me.id == pref.application_id)
        .outerjoin(
            other_pref,
            and_(
                other_pref.kindergarten_id == pref.kindergarten_id,
                other_pref.application_id != me.id,
            ),
        )
        .outerjoin(
            other,
            and_(
                other.id == other_pref.application_id,
                other.status == QueueStatus.WAITING,
                other.intake_year == me.intake_year,
                other.age_group == me.age_group,
                ahead_of_me,
            ),
        )
        .where(pref.id.in_(preference_ids), me.status == QueueStatus.WAITING)
        .group_by(pref.id)
    )


async def kindergarten_places(session: AsyncSession, kindergarten_id: int) -> list[Any]:
    """A kindergarten's free places of this season, per age group (none out of season)."""
    try:
        season = await current_season(session, IntakeKind.KINDERGARTEN, today())
    except DomainError:
        return []
    rows = await session.execute(
        select(*PLACES_COLUMNS)
        .where(
            KindergartenPlaces.season_id == season.id,
            KindergartenPlaces.kindergarten_id == kindergarten_id,
        )
        .order_by(KindergartenPlaces.age_group)
    )
    return list(rows)
