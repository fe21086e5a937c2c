"""Who may start in which grade, or in a kindergarten, by age (domain.md F4, K1; issue 14.5).

F4 (12-year schooling from 2025): children born in Y-6 enter grade 1, those born in Y-7 grade
2, and a Y-6 child who finished the pre-school programme may enter grade 2; so grade g is the
grade of children born in Y-5-g. Above grade 2 a pupil may be up to the season's
``grade_age_tolerance_years`` older (the 11-year model's later entry, repeated years: policy,
no public source fixed it); never younger than the pre-school route allows. K1: kindergartens
take children aged 6 months to 7 years on the day they start (the kindergarten season's
``min_age_months`` / ``max_age_months``).

The figures are the season's policy rows (``intake_season``), read here from the model: the
registry sits below the intake domain and may not import it. Y is the school year the day
belongs to: from three months before the season's first school day (a pupil enrolled in
July sits in September's grade). A commission's decision overrides the rule: the caller
names it (``ageDecision``), the enrollment keeps it and the mutation's audit row records it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import InstitutionKind, IntakeKind, IntakeSeason, Person
from resolvers.enrollments.errors import EnrollmentCode
from resolvers.errors import DomainError, ErrorCode

DECISION_MAX = 120
# A day this many months before the first school day already belongs to the coming year.
SUMMER_MONTHS = 3


def school_year_of(on: date, first_day: date) -> int:
    """The year Y (of its 1 September) of the school year ``on`` belongs to."""
    return on.year if on.month >= first_day.month - SUMMER_MONTHS else on.year - 1


async def _policy(session: AsyncSession, kind: IntakeKind, on: date) -> IntakeSeason | None:
    """The season whose policy holds on ``on``: the latest one begun by then (or the first)."""
    seasons = list(
        await session.scalars(
            select(IntakeSeason).where(IntakeSeason.kind == kind).order_by(IntakeSeason.year)
        )
    )
    if not seasons:
        return None
    year = school_year_of(on, seasons[0].school_year_starts)
    return next((s for s in reversed(seasons) if s.year <= year), seasons[0])


def grade_birth_years(season: IntakeSeason, year: int, grade: int) -> tuple[int, int]:
    """(earliest, latest) birth year of a pupil in ``grade`` in school year ``year`` (F4)."""
    nominal = year - season.grade1_birth_year_offset - (grade - 1)
    latest = nominal + (1 if grade >= 2 and season.preschool_programme_grade2 else 0)
    earliest = nominal - (season.grade_age_tolerance_years if grade > 2 else 0)
    return earliest, latest


def months_old(born: date, on: date) -> int:
    """Whole months of age on ``on``."""
    return (on.year - born.year) * 12 + on.month - born.month - (on.day < born.day)


def _check_grade(season: IntakeSeason, person: Person, on: date, grade: int) -> None:
    year = school_year_of(on, season.school_year_starts)
    earliest, latest = grade_birth_years(season, year, grade)
    born = person.birth_date.year
    if earliest <= born <= latest:
        return
    code = EnrollmentCode.CHILD_TOO_YOUNG if born > latest else EnrollmentCode.CHILD_TOO_OLD
    span = f"{earliest}" if earliest == latest else f"{earliest} to {latest}"
    raise DomainError(
        code,
        f"Grade {grade} in {year}/{year + 1} takes children born in {span} (entry-age rule); "
        "name the commission's decision (ageDecision) to enroll outside it",
        field="gradeLevel",
    )


def _check_kindergarten(season: IntakeSeason, person: Person, on: date, field: str) -> None:
    age = months_old(person.birth_date, on)
    if season.min_age_months <= age < season.max_age_months:
        return
    young = age < season.min_age_months
    code = EnrollmentCode.CHILD_TOO_YOUNG if young else EnrollmentCode.CHILD_TOO_OLD
    raise DomainError(
        code,
        f"Kindergartens take children aged {season.min_age_months} months to "
        f"{season.max_age_months // 12} years; name the commission's decision (ageDecision) "
        "to enroll outside it",
        field=field,
    )


def clean_decision(decision: str | None) -> str | None:
    """The commission's decision reference, trimmed; blank means none was given."""
    text = (decision or "").strip()
    if len(text) > DECISION_MAX:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"The decision's reference has at most {DECISION_MAX} characters",
            field="ageDecision",
        )
    return text or None


async def check_entry_age(
    session: AsyncSession,
    person: Person,
    kind: InstitutionKind,
    *,
    on: date,
    grade_level: int | None,
    decision: str | None,
    date_field: str,
) -> None:
    """Is ``person`` of age to start in this grade (F4) or kindergarten (K1) on ``on``?
    ``CHILD_TOO_YOUNG`` / ``CHILD_TOO_OLD`` unless a commission's decision is named. Other kinds of
    institution have no entry age here."""
    if decision is not None:
        return
    if kind == InstitutionKind.SCHOOL and grade_level is not None:
        season = await _policy(session, IntakeKind.FIRST_GRADE, on)
        if season is not None:
            _check_grade(season, person, on, grade_level)
    elif kind == InstitutionKind.KINDERGARTEN:
        season = await _policy(session, IntakeKind.KINDERGARTEN, on)
        if season is not None:
            _check_kindergarten(season, person, on, date_field)
