"""The season a workflow runs in, its age groups and benefit categories, ages in months
(working-day deadlines: ``calendar``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, Integer, Select, String, bindparam, func, select, true, type_coerce
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from models import BenefitCategory, Institution, IntakeKind, IntakeSeason, KindergartenAgeGroup
from resolvers import driver
from resolvers.errors import DomainError
from resolvers.intake.errors import IntakeCode

CODE_MAX = 40


def _running(
    kind: IntakeKind, on: Any, opens: Any = IntakeSeason.starts_on, *, columns: Any = ()
) -> Select[Any]:
    """The season of ``kind`` running on ``on`` (the latest one if seasons overlap): its
    entity, or these of its ``columns``."""
    return (
        select(*(columns or (IntakeSeason,)))
        .where(IntakeSeason.kind == kind, opens <= on, IntakeSeason.ends_on >= on)
        .order_by(IntakeSeason.year.desc())
        .limit(1)
    )


def require_season(
    season: IntakeSeason | None, kind: IntakeKind, field: str | None = None
) -> IntakeSeason:
    """The season found running, or ``SEASON_CLOSED`` when there is none."""
    if season is None:
        raise DomainError(
            IntakeCode.SEASON_CLOSED,
            f"No {kind.value.replace('_', '-')} season is open today",
            field=field,
        )
    return season


async def current_season(
    session: AsyncSession,
    kind: IntakeKind,
    on: date,
    *,
    opens: Any = IntakeSeason.starts_on,
    field: str | None = None,
) -> IntakeSeason:
    """The season of ``kind`` running on ``on`` (the latest one if seasons overlap). A season
    runs from its ``opens`` date (its first day; first-grade applications: stage 1) to its
    last day."""
    made = _RUNNING.get((kind, opens.key))
    if made is None:
        stmt = _running(kind, bindparam("on", type_=Date), opens, columns=_SEASON.columns)
        made = _RUNNING[(kind, opens.key)] = driver.Made(stmt)
    found = await driver.one_or_none(session, made, {"on": on})
    # The session's object for the season, as the ORM's query leaves one it already holds.
    season = driver.object_of(session, _SEASON, found) if found is not None else None
    return require_season(season, kind, field)


# current_season's statements, made once per kind and opening column and sent through the
# driver (issue 21: built per call each cost an application more CPU than its execution).
_SEASON = driver.entity(IntakeSeason)
_RUNNING: dict[tuple[IntakeKind, str], driver.Made] = {}


async def institution_and_season(
    session: AsyncSession, institution_id: int, kind: IntakeKind, on: date
) -> tuple[Institution | None, IntakeSeason | None]:
    """The institution ``institution_id`` and the season of ``kind`` running on ``on``, each
    ``None`` if missing, in one statement (issue 21: statements per mutation). The caller
    checks them in its own order (:func:`require_season` for the season); the institution
    stays in the session, so a ``session.get`` of it reads nothing while the caller holds it."""
    made = _INSTITUTION_AND_SEASON.get(kind)
    if made is None:
        made = _INSTITUTION_AND_SEASON[kind] = _institution_and_season(kind)
    row = await driver.one_or_none(session, made, {"institution_id": institution_id, "on": on})
    if row is None:
        return None, None
    # The session's objects from the row's two halves (through the driver, issue 21), as the
    # ORM's query leaves objects it already holds; a half of NULLs is a row missing.
    at = len(_INSTITUTION.columns)
    inst = season = None
    if row[_INSTITUTION.key_at] is not None:
        inst = driver.object_of(session, _INSTITUTION, row[:at])
    if row[at + _SEASON.key_at] is not None:
        season = driver.object_of(session, _SEASON, row[at:])
    return inst, season


_INSTITUTION = driver.entity(Institution)
_INSTITUTION_AND_SEASON: dict[IntakeKind, driver.Made] = {}


def _institution_and_season(kind: IntakeKind) -> driver.Made:
    """:func:`institution_and_season`'s statement for ``kind``, made once."""
    institution = (
        select(*_INSTITUTION.columns)
        .where(Institution.id == bindparam("institution_id", type_=Integer))
        .subquery("institution")
    )
    season = _running(kind, bindparam("on", type_=Date), columns=_SEASON.columns).subquery("season")
    return driver.Made(
        select(*institution.c, *season.c).select_from(institution).join(season, true(), full=True)
    )


@dataclass(frozen=True)
class SeasonSetting:
    """The running season with what an application is checked against: its age groups
    (youngest first) and the benefit category it claims, if any."""

    season: IntakeSeason
    age_groups: list[KindergartenAgeGroup]
    benefit: BenefitCategory | None
    benefit_code: str | None
    field: str

    def benefit_category(self) -> BenefitCategory | None:
        """The claimed category (as :func:`benefit_category`): an unknown code is the
        caller's error, raised when the workflow comes to check the benefit."""
        if self.benefit_code is not None and self.benefit is None:
            raise _unknown_benefit(self.benefit_code, self.field)
        return self.benefit


def _as_json(*columns: Any) -> Any:
    return func.jsonb_build_object(*[part for c in columns for part in (c.key, c)])


def setting_code(benefit_code: str | None) -> str | None:
    """The benefit code a season's setting looks up (``code``), None when none is claimed."""
    return benefit_code.strip().lower() if benefit_code and benefit_code.strip() else None


def setting_statement(claimed: bool) -> Select[Any]:
    """A season's setting in one statement (:func:`current_season`, its :func:`age_groups` and
    :func:`benefit_category`) when a benefit is ``claimed`` (:func:`setting_code`) or not: the
    season, its age groups and the claimed category as JSON, its values bound as ``kind``,
    ``on`` and ``code``; a workflow reads it with more, as a subquery (issue 21)."""
    return _SEASON_SETTING if claimed else _SEASON_SETTING_NO_BENEFIT


def setting_of(
    kind: IntakeKind,
    found: tuple[Any, ...] | None,
    benefit_code: str | None,
    *,
    field: str,
) -> SeasonSetting:
    """The :class:`SeasonSetting` of a row of :func:`setting_statement` (the season, its
    groups, its benefit), SEASON_CLOSED when there is none."""
    if found is None:
        raise DomainError(
            IntakeCode.SEASON_CLOSED,
            f"No {kind.value.replace('_', '-')} season is open today",
        )
    season, found_groups, found_benefit = found
    return SeasonSetting(
        season,
        # Transient rows, read-only here: never added to the session.
        [KindergartenAgeGroup(**g) for g in found_groups],
        BenefitCategory(**found_benefit) if found_benefit is not None else None,
        benefit_code if setting_code(benefit_code) is not None else None,
        field,
    )


def _season_setting_statement(benefit_code: Any) -> Select[Any]:
    """:func:`setting_statement`'s statement, its values bound as ``kind``, ``on`` and (when
    ``benefit_code`` is a bind parameter) ``code``."""
    AG, BC = KindergartenAgeGroup, BenefitCategory
    groups = (
        select(
            func.coalesce(
                func.jsonb_agg(
                    aggregate_order_by(
                        _as_json(
                            AG.id,
                            AG.season_id,
                            AG.code,
                            AG.min_months,
                            AG.max_months,
                            AG.group_size,
                        ),
                        AG.min_months,
                    )
                ),
                func.jsonb_build_array(),
            )
        )
        .where(AG.season_id == IntakeSeason.id)
        .scalar_subquery()
    )
    benefit = (
        select(_as_json(BC.id, BC.season_id, BC.code, BC.name, BC.rank))
        .where(BC.season_id == IntakeSeason.id, BC.code == benefit_code)
        .scalar_subquery()
    )
    on = bindparam("on", type_=Date)
    return (
        select(
            IntakeSeason,
            type_coerce(groups, JSONB).label("groups"),
            type_coerce(benefit, JSONB).label("benefit"),
        )
        .where(
            IntakeSeason.kind == bindparam("kind"),
            IntakeSeason.starts_on <= on,
            IntakeSeason.ends_on >= on,
        )
        .order_by(IntakeSeason.year.desc())
        .limit(1)
    )


# Made once, with and without a claimed benefit (``code IS NULL`` when none is claimed, as the
# statement built per call had it): built per call it cost each registration ~0.25 ms of CPU
# (issue 21).
_SEASON_SETTING = _season_setting_statement(bindparam("code", type_=String))
_SEASON_SETTING_NO_BENEFIT = _season_setting_statement(None)


def _unknown_benefit(code: str, field: str) -> DomainError:
    return DomainError(
        IntakeCode.UNKNOWN_BENEFIT_CATEGORY,
        f"{code.strip()[:CODE_MAX]!r} is not a benefit category of this season",
        field=field,
    )


async def age_groups(session: AsyncSession, season_id: int) -> list[KindergartenAgeGroup]:
    """The season's age groups, youngest first."""
    rows = await session.scalars(
        select(KindergartenAgeGroup)
        .where(KindergartenAgeGroup.season_id == season_id)
        .order_by(KindergartenAgeGroup.min_months)
    )
    return list(rows)


async def benefit_category(
    session: AsyncSession, season_id: int, code: str | None, *, field: str
) -> BenefitCategory | None:
    """The season's benefit category with this code; an unknown code is the caller's error."""
    if code is None or not code.strip():
        return None
    found = await session.scalar(
        select(BenefitCategory).where(
            BenefitCategory.season_id == season_id, BenefitCategory.code == code.strip().lower()
        )
    )
    if found is None:
        raise _unknown_benefit(code, field)
    return found


def months_between(born: date, on: date) -> int:
    """Whole months of age on ``on``."""
    months = (on.year - born.year) * 12 + (on.month - born.month)
    return months - 1 if on.day < born.day else months
