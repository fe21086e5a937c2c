"""Who applies where, in which grade and stage (domain.md F2-F4): the 12-year age rule, the
season's stages, and schools' catchment areas."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Integer, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CatchmentArea, FirstGradeStage, IntakeKind, IntakeSeason
from resolvers import driver
from resolvers.clock import today
from resolvers.errors import DomainError, NotFound
from resolvers.first_grade.errors import FirstGradeCode
from resolvers.intake import current_season


def entry_grade(born: date, season: IntakeSeason, *, finished_preschool: bool) -> int:
    """The grade a child enters (domain.md, Age; 12-year schooling from 2025): born in Y-6,
    grade 1; born in Y-7, grade 2; a Y-6 child who finished the pre-school programme may enter
    grade 2 (when the season's policy allows). Y is the season's year; offsets are policy."""
    if born.year == season.year - season.grade1_birth_year_offset:
        return 2 if finished_preschool and season.preschool_programme_grade2 else 1
    if born.year == season.year - season.grade2_birth_year_offset:
        return 2
    if born.year > season.year - season.grade1_birth_year_offset:
        raise DomainError(
            FirstGradeCode.CHILD_TOO_YOUNG,
            f"Children born in {season.year - season.grade1_birth_year_offset} or earlier "
            f"enter school in {season.year}",
            field="childId",
        )
    raise DomainError(
        FirstGradeCode.CHILD_TOO_OLD,
        f"Children born before {season.year - season.grade2_birth_year_offset} do not apply "
        "through first-grade enrollment",
        field="childId",
    )


def stage_on(season: IntakeSeason, on: date) -> FirstGradeStage:
    """Which stage of the season ``on`` falls in (domain.md: stage 1 by registered address,
    stage 2 by actual residence, then directors enroll on request)."""
    assert season.stage1_starts is not None
    assert season.stage1_ends is not None
    assert season.stage2_starts is not None
    assert season.stage2_ends is not None
    if season.stage1_starts <= on <= season.stage1_ends:
        return FirstGradeStage.CATCHMENT
    if season.stage2_starts <= on <= season.stage2_ends:
        return FirstGradeStage.RESIDENCE
    if season.stage2_ends < on <= season.ends_on:
        return FirstGradeStage.DIRECTOR
    raise DomainError(
        FirstGradeCode.SEASON_CLOSED,
        "Applications are not taken today (between or outside the season's stages)",
        field="schoolId",
    )


# in_catchment's statement, made once (issue 21).
_CATCHMENT_STREETS = driver.Made(
    select(CatchmentArea.streets).where(
        CatchmentArea.institution_id == bindparam("school_id", type_=Integer),
        CatchmentArea.district_id == bindparam("district_id", type_=Integer),
    )
)


async def in_catchment(
    session: AsyncSession, school_id: int, district_id: int | None, address: str | None
) -> bool:
    """Does the address lie in one of the school's catchment areas? An area lists its
    streets; an area with no streets covers its whole district."""
    if district_id is None:
        return False
    # The areas' streets alone, through the driver (issue 21).
    areas = await driver.rows(
        session, _CATCHMENT_STREETS, {"school_id": school_id, "district_id": district_id}
    )
    text = (address or "").lower()
    return any(
        not streets or any(street.lower() in text for street in streets) for (streets,) in areas
    )


async def open_first_grade_season(session: AsyncSession, on: date) -> IntakeSeason:
    """The first-grade season taking applications on ``on``: from stage 1 to its last day."""
    return await current_season(
        session, IntakeKind.FIRST_GRADE, on, opens=IntakeSeason.stage1_starts, field="schoolId"
    )


async def first_grade_season(session: AsyncSession, season_id: int) -> IntakeSeason:
    """The first-grade season ``season_id`` (NOT_FOUND for a kindergarten season)."""
    season = await session.get(IntakeSeason, season_id)
    if season is None or season.kind != IntakeKind.FIRST_GRADE:
        raise NotFound("The first-grade season", field="seasonId")
    return season


def licence_days(season: IntakeSeason) -> list[date]:
    """The days a school that needs a licence must hold one in force to take part in the
    season: today, and the first school day its pupils enter on. Applying, allocating and
    admitting all check these same days (issue 12, finding 10), so no school takes an
    application it could never allocate."""
    return sorted({today(), season.school_year_starts})
