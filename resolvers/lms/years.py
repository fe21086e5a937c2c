"""The school year (S3): academic years and their four terms, the school days of a year, and
the LMS policy that is data (class size, the 12-year standard's first intake, basic schools).

Year-end promotion lives in :mod:`resolvers.lms.promotion`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import AcademicYear, CurriculumModel, LmsPolicy, Term
from resolvers.access import Principal, Role, require
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.lms.errors import LmsCode
from resolvers.lms.rules import may_manage_school

TERMS = 4
MONDAY = 0


@dataclass(frozen=True)
class TermDates:
    number: int
    starts_on: date
    ends_on: date


def _weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def default_terms(starts_on: date, ends_on: date) -> list[TermDates]:
    """The four quarters of a year with the holidays the ministry usually sets between them
    (the 2024/25 order: a week of autumn holidays from the first Monday of November, winter
    holidays from 30 December to 12 January, a week of spring holidays from the third Monday
    of March). The ministry passes its own dates when they differ."""
    year = starts_on.year
    autumn = _weekday_on_or_after(date(year, 11, 1), MONDAY)
    winter_from, winter_to = date(year, 12, 30), date(year + 1, 1, 12)
    spring = _weekday_on_or_after(date(year + 1, 3, 1), MONDAY) + timedelta(weeks=2)
    return [
        TermDates(1, starts_on, autumn - timedelta(days=1)),
        TermDates(2, autumn + timedelta(days=7), winter_from - timedelta(days=1)),
        TermDates(3, winter_to + timedelta(days=1), spring - timedelta(days=1)),
        TermDates(4, spring + timedelta(days=7), ends_on),
    ]


def _check_year_dates(starts_on: date, ends_on: date) -> None:
    if not date(starts_on.year, 8, 15) <= starts_on <= date(starts_on.year, 9, 30):
        raise DomainError(
            ErrorCode.INVALID_DATE,
            "A school year starts between mid-August and the end of September",
            field="startsOn",
        )
    if not date(starts_on.year + 1, 5, 1) <= ends_on <= date(starts_on.year + 1, 6, 30):
        raise DomainError(
            ErrorCode.INVALID_DATE,
            "A school year ends in May or June of the next calendar year",
            field="endsOn",
        )


def _check_terms(terms: list[TermDates], starts_on: date, ends_on: date) -> None:
    if [t.number for t in terms] != list(range(1, TERMS + 1)):
        raise DomainError(ErrorCode.INVALID_INPUT, "Give the four terms in order", field="terms")
    previous_end = starts_on - timedelta(days=1)
    for i, term in enumerate(terms):
        if term.ends_on < term.starts_on or term.starts_on <= previous_end:
            raise DomainError(
                ErrorCode.INVALID_DATE,
                "Terms follow each other without overlapping",
                field=f"terms[{i}]",
            )
        previous_end = term.ends_on
    if terms[0].starts_on < starts_on or terms[-1].ends_on > ends_on:
        raise DomainError(LmsCode.DATE_OUTSIDE_YEAR, "The terms lie within the year", field="terms")


def can_manage_years(principal: Principal) -> bool:
    """May this principal create academic years? The ministry (S3: it sets each year's dates)."""
    return principal.is_ministry


async def create_academic_year(
    session: AsyncSession,
    principal: Principal,
    *,
    starts_on: date,
    ends_on: date,
    terms: list[TermDates] | None,
) -> AcademicYear:
    """Create a school year with its four terms (S3); its partitions of the lesson, attendance
    and mark tables are made with it. Years never overlap (an exclusion constraint)."""
    require(can_manage_years(principal), "Only the ministry sets the school year")
    _check_year_dates(starts_on, ends_on)
    terms = terms or default_terms(starts_on, ends_on)
    _check_terms(terms, starts_on, ends_on)
    year = AcademicYear(
        start_year=starts_on.year,
        name=f"{starts_on.year}-{starts_on.year + 1}",
        starts_on=starts_on,
        ends_on=ends_on,
    )
    session.add(year)
    await session.flush()
    session.add_all(
        Term(academic_year_id=year.id, number=t.number, starts_on=t.starts_on, ends_on=t.ends_on)
        for t in terms
    )
    await session.flush()
    await emit(
        session,
        topic="lms.academic_year_created",
        aggregate_type="AcademicYear",
        aggregate_id=year.id,
        payload={"start_year": year.start_year},
    )
    return year


async def academic_year(session: AsyncSession, year_id: int, *, field: str) -> AcademicYear:
    year = await session.get(AcademicYear, year_id)
    if year is None:
        raise NotFound("The academic year", field=field)
    return year


async def year_on(session: AsyncSession, on: date) -> AcademicYear | None:
    """The academic year a date falls in, if any."""
    return (
        await session.scalars(
            select(AcademicYear).where(AcademicYear.starts_on <= on, AcademicYear.ends_on >= on)
        )
    ).first()


async def next_year(session: AsyncSession, year: AcademicYear) -> AcademicYear | None:
    """The academic year after ``year``, if the ministry has created it."""
    return (
        await session.scalars(
            select(AcademicYear).where(AcademicYear.start_year == year.start_year + 1)
        )
    ).first()


def require_in_year(year: AcademicYear, on: date, *, field: str) -> None:
    if not year.starts_on <= on <= year.ends_on:
        raise DomainError(
            LmsCode.DATE_OUTSIDE_YEAR,
            f"{on.isoformat()} is outside the {year.name} school year",
            field=field,
        )


async def require_school_day(
    session: AsyncSession, year: AcademicYear, on: date, *, field: str
) -> Term:
    """The term ``on`` falls in: DATE_OUTSIDE_YEAR outside the year, DATE_IN_HOLIDAYS between
    its terms."""
    require_in_year(year, on, field=field)
    term = await session.scalar(
        select(Term).where(
            Term.academic_year_id == year.id, Term.starts_on <= on, Term.ends_on >= on
        )
    )
    if term is None:
        raise DomainError(
            LmsCode.DATE_IN_HOLIDAYS, f"{on.isoformat()} falls in the holidays", field=field
        )
    return term


# --- policy ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """The LMS policy that holds at one school: its own row over the national one."""

    twelve_year_from: int
    basic_only: bool
    max_class_size: int
    school_days: int
    min_marks_for_result: int
    concern_reports_per_day: int

    def curriculum_model(self, start_year: int, grade: int) -> CurriculumModel:
        """The model a class learns under: the 12-year standard for cohorts that entered
        grade 1 from ``twelve_year_from`` on (F4, S1), the 11-year model before."""
        entered = start_year - grade + 1
        if entered >= self.twelve_year_from:
            return CurriculumModel.TWELVE_YEAR
        return CurriculumModel.ELEVEN_YEAR

    def last_grade(self, model: CurriculumModel) -> int:
        """The last grade a pupil of this school learns in before leaving it."""
        if self.basic_only:
            return 9
        return 12 if model == CurriculumModel.TWELVE_YEAR else 11


POLICY_COLUMNS = (
    LmsPolicy.twelve_year_from,
    LmsPolicy.basic_only,
    LmsPolicy.max_class_size,
    LmsPolicy.school_days,
    LmsPolicy.min_marks_for_result,
    LmsPolicy.concern_reports_per_day,
)


def policy_of(row: Any) -> Policy:
    return Policy(**{c.key: row._mapping[c.key] for c in POLICY_COLUMNS})


async def school_policy(session: AsyncSession, institution_id: int | None) -> Policy:
    """The policy of a school (its row, else the national one)."""
    row = (
        await session.execute(
            select(*POLICY_COLUMNS)
            .where(
                (LmsPolicy.institution_id == institution_id) | LmsPolicy.institution_id.is_(None)
            )
            .order_by(LmsPolicy.institution_id.is_(None))
            .limit(1)
        )
    ).one()
    return policy_of(row)


async def set_school_policy(
    session: AsyncSession,
    principal: Principal,
    *,
    institution: Any | None,
    max_class_size: int | None,
    basic_only: bool | None,
    twelve_year_from: int | None,
    school_days: int | None,
) -> LmsPolicy:
    """Set a school's own LMS policy (or, with no school, the national row): the ministry
    anywhere, officers for the schools in their scope. What is not given stays as it holds
    now (the school's row, else the national one)."""
    if institution is None:
        require(principal.is_ministry, "Only the ministry sets the national policy")
    else:
        require(
            principal.role != Role.SCHOOL_ADMIN and may_manage_school(principal, institution),
            "The ministry or the school's district or region sets its policy",
        )
    if max_class_size is not None and not 1 <= max_class_size <= 60:
        raise DomainError(ErrorCode.INVALID_INPUT, "A class holds 1 to 60", field="maxClassSize")
    if twelve_year_from is not None and not 2025 <= twelve_year_from <= 2100:
        raise DomainError(ErrorCode.INVALID_INPUT, "A year from 2025", field="twelveYearFrom")
    if school_days is not None and school_days not in (5, 6):
        raise DomainError(ErrorCode.INVALID_INPUT, "5 or 6 school days", field="schoolDays")
    institution_id = None if institution is None else institution.id
    row = await session.scalar(
        select(LmsPolicy).where(LmsPolicy.institution_id.is_not_distinct_from(institution_id))
    )
    if row is None:
        current = await school_policy(session, institution_id)
        row = LmsPolicy(
            institution_id=institution_id,
            twelve_year_from=current.twelve_year_from,
            basic_only=current.basic_only,
            max_class_size=current.max_class_size,
            school_days=current.school_days,
            min_marks_for_result=current.min_marks_for_result,
            concern_reports_per_day=current.concern_reports_per_day,
        )
        session.add(row)
    for name, value in (
        ("max_class_size", max_class_size),
        ("basic_only", basic_only),
        ("twelve_year_from", twelve_year_from),
        ("school_days", school_days),
    ):
        if value is not None:
            setattr(row, name, value)
    await session.flush()
    return row
