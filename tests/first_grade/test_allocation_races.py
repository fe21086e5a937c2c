"""Allocation racing other workflows, in real concurrent transactions and in both orders
(issue 12, findings 3 and 4; domain.md F5): a child enrolled elsewhere meanwhile is left out
with a typed reason while everyone else is allocated; a school's allocation and its district's,
and an allocation and a quota change, wait for each other in the lock order of
resolvers/locks.py and never deadlock, overfill or fail."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import (
    Enrollment,
    FirstGradeApplication,
    FirstGradeApplicationEvent,
    FirstGradeQuota,
    FirstGradeStatus,
    Institution,
    InstitutionKind,
    OutboxEvent,
    Person,
    RejectionReason,
    Sector,
    database,
)
from resolvers import enrollments as enrollments_service
from resolvers import first_grade as first_grade_service
from resolvers.access import Principal, Role
from resolvers.clock import today
from tests.conftest import Hub
from tests.factories import (
    BISHKEK_LENIN,
    gid,
    make_enrollment,
    make_first_grade_application,
    make_first_grade_quota,
    make_institution,
)
from tests.first_grade.test_first_grade import ALLOCATE, QUOTA, School, arrange, child_of
from tests.first_grade.test_withdrawal import blocked_on_a_lock
from tests.preschool.helpers import errors_of


@dataclass
class Applicants:
    s: School
    applications: list[FirstGradeApplication]
    children: list[Person]


async def applicants(
    session: AsyncSession, s: School, n: int, school: Institution | None = None
) -> Applicants:
    """``n`` children with verified applications to the school (``s.school`` by default)."""
    school = school or s.school
    children, applications = [], []
    for i in range(n):
        child = await child_of(session, s, born=date(s.season.year - 6, 1 + i % 12, 1 + i))
        children.append(child)
        applications.append(
            await make_first_grade_application(
                session, child=child, guardian=s.mother, school=school, season=s.season
            )
        )
    return Applicants(s, applications, children)


async def statuses(engine: AsyncEngine, applications: list[FirstGradeApplication]) -> list[str]:
    async with engine.connect() as conn:
        rows = dict(
            (
                await conn.execute(
                    select(FirstGradeApplication.id, FirstGradeApplication.status).where(
                        FirstGradeApplication.id.in_([a.id for a in applications])
                    )
                )
            ).all()
        )
    return [str(rows[a.id]) for a in applications]


async def quota_counts(engine: AsyncEngine) -> list[tuple[int, int, int]]:
    """(school, places, admitted) of every quota, with the admissions counted from the rows."""
    async with engine.connect() as conn:
        quotas = (
            await conn.execute(
                select(
                    FirstGradeQuota.school_id, FirstGradeQuota.places, FirstGradeQuota.admitted
                ).order_by(FirstGradeQuota.school_id)
            )
        ).all()
        admitted = dict(
            (
                await conn.execute(
                    select(FirstGradeApplication.school_id, func.count())
                    .where(FirstGradeApplication.status == FirstGradeStatus.ADMITTED)
                    .group_by(FirstGradeApplication.school_id)
                )
            ).all()
        )
    for school_id, places, count in quotas:
        assert admitted.get(school_id, 0) == count, (school_id, count, admitted)
        assert count <= places
    return [(q.school_id, q.places, q.admitted) for q in quotas]


async def school_places(engine: AsyncEngine, person_id: int) -> int:
    async with engine.connect() as conn:
        n = await conn.scalar(
            select(func.count())
            .select_from(Enrollment)
            .where(Enrollment.person_id == person_id, Enrollment.sector == Sector.SCHOOL)
        )
    return int(n or 0)


def allocate_school(s: School, school: Institution | None = None) -> dict:
    return {
        "input": {
            "seasonId": gid("IntakeSeason", s.season.id),
            "schoolId": gid("Institution", (school or s.school).id),
        }
    }


def admin(*schools: Institution) -> Principal:
    return Principal(
        subject="school:race",
        role=Role.SCHOOL_ADMIN,
        institution_ids=frozenset(s.id for s in schools),
    )


def admin_token(hub: Hub, *schools: Institution) -> str:
    return hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{s.id}" for s in schools])


class TestChildEnrolledElsewhereDuringAllocation:
    async def test_child_enrolled_before_the_allocation_is_left_out_with_a_reason(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given three applicants with a place each, one of whom took a school place elsewhere
        s = await arrange(session)
        a = await applicants(session, s, 3)
        await make_first_grade_quota(session, school=s.school, season=s.season, places=3)
        elsewhere = await make_institution(session, kind=InstitutionKind.SCHOOL)
        await make_enrollment(
            session, person=a.children[0], institution=elsewhere, grade_level=1, entry_date=today()
        )
        await session.commit()

        # when the school allocates
        body = await hub.gql(ALLOCATE, allocate_school(s), token=admin_token(hub, s.school))

        # then the two others are admitted; that child's application is rejected with the
        # reason already_enrolled, which the guardian and the school read on it, in its
        # history and in an outbox event (issue 12, finding 4)
        result = body["data"]["allocateFirstGradePlaces"]
        assert (result["admitted"], result["rejected"], result["userErrors"]) == (2, 1, [])
        assert await statuses(engine, a.applications) == ["rejected", "admitted", "admitted"]
        async with engine.connect() as conn:
            reason = await conn.scalar(
                select(FirstGradeApplication.rejection_reason).where(
                    FirstGradeApplication.id == a.applications[0].id
                )
            )
            history = (
                await conn.execute(
                    select(
                        FirstGradeApplicationEvent.status, FirstGradeApplicationEvent.reason
                    ).where(FirstGradeApplicationEvent.application_id == a.applications[0].id)
                )
            ).all()
            event = (
                await conn.execute(
                    select(OutboxEvent.payload).where(
                        OutboxEvent.topic == "enrollment.first_grade_rejected",
                        OutboxEvent.aggregate_id == a.applications[0].id,
                    )
                )
            ).scalar_one()
        assert reason == RejectionReason.ALREADY_ENROLLED
        assert [tuple(h) for h in history] == [("rejected", "already_enrolled")]
        assert event == {"rejection_reason": "already_enrolled"}
        await quota_counts(engine)

    async def test_enrollment_holding_the_child_then_allocation_goes_on_without_them(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given three applicants with a place each, one of them being enrolled at another
        # school in a transaction not yet committed
        s = await arrange(session)
        a = await applicants(session, s, 3)
        await make_first_grade_quota(session, school=s.school, season=s.season, places=3)
        elsewhere = await make_institution(session, kind=InstitutionKind.SCHOOL)
        await session.commit()
        async with database.session_factory(engine)() as enrolling:
            await enrollments_service.enroll_student(
                enrolling,
                admin(elsewhere),
                person_id=a.children[0].id,
                institution_id=elsewhere.id,
                entry_date=today(),
                grade_level=1,
                programme=None,
                class_group=None,
                pin=a.children[0].pin,
            )
            # when the school allocates meanwhile, and the enrollment then commits
            allocation = asyncio.create_task(
                hub.gql(ALLOCATE, allocate_school(s), token=admin_token(hub, s.school))
            )
            await blocked_on_a_lock(engine, allocation)
            await enrolling.commit()
        body = await allocation

        # then the allocation waited, left that child out with the typed reason, and admitted
        # the others: it did not fail as a whole
        result = body["data"]["allocateFirstGradePlaces"]
        assert (result["admitted"], result["rejected"], result["userErrors"]) == (2, 1, [])
        assert await statuses(engine, a.applications) == ["rejected", "admitted", "admitted"]
        assert await school_places(engine, a.children[0].id) == 1
        await quota_counts(engine)

    async def test_allocation_holding_the_child_then_enrollment_elsewhere_is_refused(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given the same three applicants, being allocated in a transaction not yet committed
        s = await arrange(session)
        a = await applicants(session, s, 3)
        await make_first_grade_quota(session, school=s.school, season=s.season, places=3)
        elsewhere = await make_institution(session, kind=InstitutionKind.SCHOOL)
        await session.commit()
        async with database.session_factory(engine)() as allocating:
            await first_grade_service.allocate_first_grade_places(
                allocating, admin(s.school), season_id=s.season.id, school_id=s.school.id
            )
            # when another school enrolls one of them meanwhile, and the allocation commits
            enrollment = asyncio.create_task(
                hub.gql(
                    "mutation($i: EnrollStudentInput!) { enrollStudent(input: $i) "
                    "{ userErrors { field code } } }",
                    {
                        "i": {
                            "personId": gid("Person", a.children[0].id),
                            "institutionId": gid("Institution", elsewhere.id),
                            "entryDate": today().isoformat(),
                            "gradeLevel": 1,
                            "pin": a.children[0].pin,
                        }
                    },
                    token=admin_token(hub, elsewhere),
                )
            )
            await blocked_on_a_lock(engine, enrollment)
            await allocating.commit()
        body = await enrollment

        # then the enrollment waited and was refused with a code: the child has one school
        assert errors_of(body, "enrollStudent") == ["ALREADY_ENROLLED"]
        assert await statuses(engine, a.applications) == ["admitted"] * 3
        assert await school_places(engine, a.children[0].id) == 1


class TestAllocationsRacingEachOther:
    async def arrange_district(self, session: AsyncSession) -> tuple[School, Institution, list]:
        """Two schools of one district, each one place short: the first with a quota of two,
        the second with a default quota of two from its design capacity."""
        s = await arrange(session, grades_per_school=1)
        second = await make_institution(session, kind=InstitutionKind.SCHOOL, design_capacity=2)
        first_apps = await applicants(session, s, 3)
        second_apps = await applicants(session, s, 3, school=second)
        await make_first_grade_quota(session, school=s.school, season=s.season, places=2)
        await session.commit()
        return s, second, [*first_apps.applications, *second_apps.applications]

    def district_officer(self) -> Principal:
        return Principal(
            subject="district:race",
            role=Role.DISTRICT_OFFICER,
            district_ids=frozenset({BISHKEK_LENIN}),
        )

    async def check_allocated(self, engine: AsyncEngine, apps: list) -> None:
        """Two admitted and one waitlisted at each school; quotas kept; one place a child."""
        found = await statuses(engine, apps)
        assert sorted(found[:3]) == ["admitted", "admitted", "waitlisted"], found
        assert sorted(found[3:]) == ["admitted", "admitted", "waitlisted"], found
        assert [(p, n) for _school, p, n in await quota_counts(engine)] == [(2, 2), (2, 2)]
        for application in apps:
            assert await school_places(engine, application.child_id) <= 1

    async def test_school_allocation_first_then_district_allocation_waits_f5(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given the school's own allocation in a transaction not yet committed
        s, _second, apps = await self.arrange_district(session)
        async with database.session_factory(engine)() as allocating:
            await first_grade_service.allocate_first_grade_places(
                allocating, admin(s.school), season_id=s.season.id, school_id=s.school.id
            )
            # when the district allocates all its schools meanwhile, and the school's commits
            district = asyncio.create_task(
                hub.gql(
                    ALLOCATE,
                    {"input": {"seasonId": gid("IntakeSeason", s.season.id)}},
                    token=hub.token(Role.DISTRICT_OFFICER, scopes=[f"district:{BISHKEK_LENIN}"]),
                )
            )
            await blocked_on_a_lock(engine, district)
            await allocating.commit()
        body = await district

        # then the district's waited (no deadlock, no error) and filled the other school
        result = body["data"]["allocateFirstGradePlaces"]
        assert (result["admitted"], result["userErrors"]) == (2, []), body
        await self.check_allocated(engine, apps)

    async def test_district_allocation_first_then_school_allocation_waits_f5(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given the district's allocation in a transaction not yet committed
        s, _second, apps = await self.arrange_district(session)
        async with database.session_factory(engine)() as allocating:
            await first_grade_service.allocate_first_grade_places(
                allocating, self.district_officer(), season_id=s.season.id, school_id=None
            )
            # when the school allocates meanwhile, and the district's commits
            school = asyncio.create_task(
                hub.gql(ALLOCATE, allocate_school(s), token=admin_token(hub, s.school))
            )
            await blocked_on_a_lock(engine, school)
            await allocating.commit()
        body = await school

        # then the school's waited and found its places taken: nothing more to admit
        result = body["data"]["allocateFirstGradePlaces"]
        assert (result["admitted"], result["userErrors"]) == (0, []), body
        await self.check_allocated(engine, apps)


class TestAllocationRacingQuotaChange:
    async def test_allocation_first_then_a_quota_below_the_admitted_is_refused_f5(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given three applicants and three places, being allocated in a transaction not yet
        # committed
        s = await arrange(session)
        await applicants(session, s, 3)
        await make_first_grade_quota(session, school=s.school, season=s.season, places=3)
        await session.commit()
        async with database.session_factory(engine)() as allocating:
            await first_grade_service.allocate_first_grade_places(
                allocating, admin(s.school), season_id=s.season.id, school_id=s.school.id
            )
            # when the school lowers its quota to two meanwhile, and the allocation commits
            change = asyncio.create_task(
                hub.gql(QUOTA, quota_input(s, 2), token=admin_token(hub, s.school))
            )
            await blocked_on_a_lock(engine, change)
            await allocating.commit()
        body = await change

        # then the change waited and was refused with a code: three are admitted already
        assert errors_of(body, "setFirstGradeQuota") == ["QUOTA_BELOW_ADMITTED"]
        assert await quota_counts(engine) == [(s.school.id, 3, 3)]

    async def test_quota_change_first_then_allocation_fills_the_new_quota_f5(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given three applicants and three places, the quota being lowered to two in a
        # transaction not yet committed
        s = await arrange(session)
        a = await applicants(session, s, 3)
        await make_first_grade_quota(session, school=s.school, season=s.season, places=3)
        await session.commit()
        async with database.session_factory(engine)() as changing:
            await first_grade_service.set_quota(
                changing,
                admin(s.school),
                season_id=s.season.id,
                school_id=s.school.id,
                grade_level=1,
                classes=1,
                places=2,
            )
            # when the school allocates meanwhile, and the change commits
            allocation = asyncio.create_task(
                hub.gql(ALLOCATE, allocate_school(s), token=admin_token(hub, s.school))
            )
            await blocked_on_a_lock(engine, allocation)
            await changing.commit()
        body = await allocation

        # then the allocation waited and filled the two places the quota now has
        result = body["data"]["allocateFirstGradePlaces"]
        assert (result["admitted"], result["waitlisted"], result["userErrors"]) == (2, 1, [])
        assert sorted(await statuses(engine, a.applications)) == [
            "admitted",
            "admitted",
            "waitlisted",
        ]
        assert await quota_counts(engine) == [(s.school.id, 2, 2)]


def quota_input(s: School, places: int) -> dict:
    return {
        "input": {
            "seasonId": gid("IntakeSeason", s.season.id),
            "schoolId": s.id,
            "gradeLevel": 1,
            "classes": 1,
            "places": places,
        }
    }
