"""A kindergarten's free places per age group: declared by its officers, taken by offers under
row locks (a CHECK keeps them >= 0), returned when an offer or a place ends."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Integer, String, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import InstitutionKind, IntakeKind, KindergartenAgeGroup, KindergartenPlaces
from resolvers import driver
from resolvers.access import Principal
from resolvers.clock import today
from resolvers.errors import DomainError, ErrorCode
from resolvers.events import emit
from resolvers.intake import age_groups, current_season, managed_intake_institution
from resolvers.preschool.errors import PreschoolCode


def _group_holding(
    groups: Sequence[KindergartenAgeGroup], age_group: str, free_places: int, count: int
) -> KindergartenAgeGroup:
    """The season's age group ``age_group``, if ``count`` groups of it hold ``free_places``."""
    group = next((g for g in groups if g.code == age_group), None)
    if group is None:
        raise DomainError(
            PreschoolCode.UNKNOWN_AGE_GROUP,
            f"{age_group[:16]!r} is not an age group of this season",
            field="ageGroup",
        )
    if not 1 <= count <= 20:
        raise DomainError(ErrorCode.INVALID_INPUT, "Groups are 1 to 20", field="groups")
    if free_places < 0:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Free places cannot be negative", field="freePlaces"
        )
    if free_places > count * group.group_size:
        raise DomainError(
            PreschoolCode.EXCEEDS_GROUP_SIZE,
            f"{count} group(s) of {group.code} hold at most {count * group.group_size}",
            field="freePlaces",
        )
    return group


async def declare_free_places(
    session: AsyncSession,
    principal: Principal,
    *,
    kindergarten_id: int,
    age_group: str,
    free_places: int,
    groups: int,
) -> KindergartenPlaces:
    """Set how many places of an age group a kindergarten has free to offer this season.

    Rules (domain.md): allocation is per kindergarten and age group; a group holds at most its
    cap (25 for 2-3 years, 30 for the others: season policy), so free places are at most
    ``groups`` times the cap. Places already offered are not counted here.
    """
    inst = await managed_intake_institution(
        session, principal, kindergarten_id, InstitutionKind.KINDERGARTEN
    )
    season = await current_season(session, IntakeKind.KINDERGARTEN, today())
    group = _group_holding(await age_groups(session, season.id), age_group, free_places, groups)
    places = await session.scalar(
        select(KindergartenPlaces)
        .where(
            KindergartenPlaces.season_id == season.id,
            KindergartenPlaces.kindergarten_id == inst.id,
            KindergartenPlaces.age_group == group.code,
        )
        .with_for_update()
    )
    if places is None:
        places = KindergartenPlaces(
            season_id=season.id,
            kindergarten_id=inst.id,
            age_group=group.code,
            free_places=free_places,
            declared_by=principal.subject,
        )
        session.add(places)
    else:
        places.free_places = free_places
        places.declared_by = principal.subject
        places.declared_at = datetime.now(UTC)
    await session.flush()
    await emit(
        session,
        topic="preschool.free_places_declared",
        aggregate_type="KindergartenPlaces",
        aggregate_id=places.id,
        payload={"kindergarten_id": inst.id, "age_group": group.code, "free": free_places},
    )
    return places


_PLACES = driver.entity(KindergartenPlaces)


def _free_places(by_group: bool) -> driver.Made:
    """:func:`free_places_for_update`'s statement, of one age group or all, made once."""
    stmt = (
        select(*_PLACES.columns)
        .where(
            KindergartenPlaces.season_id == bindparam("season_id", type_=Integer),
            KindergartenPlaces.kindergarten_id == bindparam("kindergarten_id", type_=Integer),
        )
        .order_by(KindergartenPlaces.id)
        .with_for_update()
    )
    if by_group:
        stmt = stmt.where(KindergartenPlaces.age_group == bindparam("age_group", type_=String))
    return driver.Made(stmt)


_FREE_PLACES = {by_group: _free_places(by_group) for by_group in (False, True)}


async def free_places_for_update(
    session: AsyncSession, season_id: int, kindergarten_id: int, age_group: str | None
) -> list[KindergartenPlaces]:
    """A kindergarten's places rows of the season (one age group, or all), locked for the
    offers about to take them; NO_FREE_PLACES when none is free."""
    params = {"season_id": season_id, "kindergarten_id": kindergarten_id, "age_group": age_group}
    found = await driver.rows(session, _FREE_PLACES[age_group is not None], params)
    # The session's objects, as the ORM's query leaves those it already holds (issue 21).
    places = [driver.object_of(session, _PLACES, row) for row in found]
    if sum(p.free_places for p in places) == 0:
        raise DomainError(
            PreschoolCode.NO_FREE_PLACES,
            "No free places are declared here" + (f" for {age_group}" if age_group else ""),
            field="kindergartenId",
        )
    return places


async def return_place(session: AsyncSession, places_id: int, n: int = 1) -> None:
    """Give ``n`` places back to their age group, free for the next child."""
    await session.execute(
        update(KindergartenPlaces)
        .where(KindergartenPlaces.id == places_id)
        .values(free_places=KindergartenPlaces.free_places + n)
    )


async def return_places(session: AsyncSession, places_ids: Iterable[int]) -> None:
    """Give back one place per id (ids may repeat), one statement per places row, in id
    order so that concurrent returns lock the rows in the same order."""
    for places_id, n in sorted(Counter(places_ids).items()):
        await return_place(session, places_id, n)
