"""Applying and allocating agree on the licence dates (issue 12, finding 10; domain.md L1,
F1): a private school takes first-grade applications only if it holds a licence covering
primary education today and on the first school day, the days allocation checks, so it never
takes an application it could not allocate."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import FirstGradeApplication, Ownership
from resolvers.access import Role
from resolvers.clock import today
from tests.conftest import Hub
from tests.factories import make_catchment_area, make_institution, make_licence
from tests.first_grade.test_first_grade import (
    APPLY,
    School,
    apply_input,
    arrange,
    child_of,
)
from tests.preschool.helpers import errors_of


async def private_school(session: AsyncSession, s: School) -> School:
    """A private school in the same catchment, taking the same season."""
    school = await make_institution(session, ownership=Ownership.PRIVATE, languages=["ky"])
    await make_catchment_area(session, institution=school, streets=["ул. Ахунбаева"])
    return School(s.season, school, s.mother)


async def applications(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(FirstGradeApplication)) or 0)


class TestApplyingChecksTheAllocationDays:
    async def test_school_licensed_today_but_not_on_the_first_school_day_takes_no_application(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a private school whose licence in force today lapses before the school year
        s = await arrange(session)
        school = await private_school(session, s)
        first_day = s.season.school_year_starts
        await make_licence(
            session,
            institution=school.school,
            levels=["primary"],
            issued_on=today() - timedelta(days=300),
            valid_until=first_day - timedelta(days=10),
        )
        child = await child_of(session, s, born=date(s.season.year - 6, 4, 4))
        await session.commit()

        # when a mother applies there
        body = await hub.gql(
            APPLY,
            apply_input(school, child),
            token=hub.token(Role.GUARDIAN, person_id=s.mother.id),
        )

        # then it is refused on the school, as allocation would refuse to admit, and nothing
        # is written
        assert errors_of(body, "applyForFirstGrade") == ["LICENCE_REQUIRED"]
        error = body["data"]["applyForFirstGrade"]["userErrors"][0]
        assert error["field"] == "schoolId"
        assert first_day.isoformat() in error["message"]
        assert await applications(engine) == 0

    async def test_school_licensed_through_the_first_school_day_takes_applications(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a private school licensed from before today with no end
        s = await arrange(session)
        school = await private_school(session, s)
        await make_licence(
            session,
            institution=school.school,
            levels=["primary"],
            issued_on=today() - timedelta(days=300),
        )
        child = await child_of(session, s, born=date(s.season.year - 6, 4, 4))
        await session.commit()

        # when a mother applies there, then the application is taken
        body = await hub.gql(
            APPLY,
            apply_input(school, child),
            token=hub.token(Role.GUARDIAN, person_id=s.mother.id),
        )
        assert errors_of(body, "applyForFirstGrade") == []
        assert await applications(engine) == 1
