"""First-grade e-enrollment: applying, the 12-year entry rule, verification, allocation by
priority, and admission ending the kindergarten place across systems."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import (
    Enrollment,
    ExitReason,
    FirstGradeApplication,
    FirstGradeQuota,
    FirstGradeStatus,
    GuardianKind,
    Institution,
    InstitutionKind,
    IntakeKind,
    IntakeSeason,
    KindergartenApplication,
    OutboxEvent,
    Person,
    QueueStatus,
    Sector,
    Sex,
)
from resolvers.access import Role
from resolvers.clock import today
from tests.conftest import Hub
from tests.factories import (
    BISHKEK_LENIN,
    gid,
    make_catchment_area,
    make_enrollment,
    make_first_grade_application,
    make_first_grade_quota,
    make_guardianship,
    make_institution,
    make_intake_season,
    make_kindergarten_application,
    make_person,
)
from tests.preschool.helpers import errors_of

APPLY = """
mutation Apply($input: ApplyForFirstGradeInput!) {
  applyForFirstGrade(input: $input) {
    application { id status gradeLevel stage catchment language statusHistory { status } }
    userErrors { field code message }
  }
}
"""
VERIFY = """
mutation Verify($input: VerifyFirstGradeApplicationInput!) {
  verifyFirstGradeApplication(input: $input) {
    application { status rejectionReason benefitStatus statusHistory { status reason } }
    userErrors { field code }
  }
}
"""
ALLOCATE = """
mutation Allocate($input: AllocateFirstGradePlacesInput!) {
  allocateFirstGradePlaces(input: $input) { admitted waitlisted rejected schools userErrors { code } }
}
"""
QUOTA = """
mutation Quota($input: SetFirstGradeQuotaInput!) {
  setFirstGradeQuota(input: $input) { quota { classes places admitted free } userErrors { field code } }
}
"""


class School:
    def __init__(self, season: IntakeSeason, school: Institution, mother: Person) -> None:
        self.season, self.school, self.mother = season, school, mother

    @property
    def id(self) -> str:
        return gid("Institution", self.school.id)


async def arrange(session: AsyncSession, **policy: object) -> School:
    season = await make_intake_season(session, kind=IntakeKind.FIRST_GRADE, **policy)
    school = await make_institution(session, kind=InstitutionKind.SCHOOL, languages=["ky", "ru"])
    await make_catchment_area(session, institution=school, streets=["ул. Ахунбаева"])
    mother = await make_person(session, birth_date=date(1989, 6, 1), first_name="Айнура")
    return School(season, school, mother)


async def child_of(
    session: AsyncSession, s: School, *, born: date, address: str = "ул. Ахунбаева, 12"
) -> Person:
    child = await make_person(
        session,
        birth_date=born,
        sex=Sex.MALE,
        registered_district_id=BISHKEK_LENIN,
        registered_address=address,
    )
    await make_guardianship(session, guardian=s.mother, child=child, kind=GuardianKind.MOTHER)
    return child


def apply_input(s: School, child: Person, **extra: object) -> dict:
    return {
        "input": {
            "childId": gid("Person", child.id),
            "pin": child.pin,
            "birthCertificate": "I-АН № 654321",
            "schoolId": s.id,
            "language": "KY",
            **extra,
        }
    }


def school_admin(hub: Hub, s: School) -> str:
    return hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{s.school.id}"])


class TestApplyForFirstGrade:
    async def test_entry_grade_follows_the_twelve_year_rule(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given children born in Y-6 (two of them, one with the pre-school programme) and Y-7
        s = await arrange(session)
        y = s.season.year
        six, six_pre, seven = (
            await child_of(session, s, born=date(y - 6, 2, 1)),
            await child_of(session, s, born=date(y - 6, 3, 1)),
            await child_of(session, s, born=date(y - 7, 11, 30)),
        )
        await session.commit()
        token = hub.token(Role.GUARDIAN, person_id=s.mother.id)
        # when their mother applies for each
        grades = []
        for child, pre in ((six, False), (six_pre, True), (seven, False)):
            body = await hub.gql(
                APPLY, apply_input(s, child, finishedPreschoolProgramme=pre), token=token
            )
            assert errors_of(body, "applyForFirstGrade") == []
            grades.append(body["data"]["applyForFirstGrade"]["application"]["gradeLevel"])
        # then Y-6 enters grade 1, Y-6 with the programme and Y-7 grade 2
        assert grades == [1, 2, 2]

    async def test_stage_one_application_in_catchment_is_submitted(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        s = await arrange(session)
        child = await child_of(session, s, born=date(s.season.year - 6, 5, 5))
        await session.commit()
        body = await hub.gql(
            APPLY, apply_input(s, child), token=hub.token(Role.GUARDIAN, person_id=s.mother.id)
        )
        app = body["data"]["applyForFirstGrade"]["application"]
        assert (app["status"], app["stage"], app["catchment"]) == ("SUBMITTED", "CATCHMENT", True)
        assert app["statusHistory"] == [{"status": "SUBMITTED"}]
        async with engine.connect() as conn:
            topics = (await conn.execute(select(OutboxEvent.topic))).scalars().all()
        assert "enrollment.first_grade_applied" in topics

    async def test_bad_input_gets_a_typed_error_and_writes_nothing(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        s = await arrange(session)
        y = s.season.year
        child = await child_of(session, s, born=date(y - 6, 5, 5))
        young = await child_of(session, s, born=date(y - 5, 1, 1))
        old = await child_of(session, s, born=date(y - 8, 12, 31))
        outside = await child_of(session, s, born=date(y - 6, 5, 5), address="ул. Московская, 1")
        kindergarten = await make_institution(session, kind=InstitutionKind.KINDERGARTEN)
        await session.commit()
        token = hub.token(Role.GUARDIAN, person_id=s.mother.id)
        cases = [
            (apply_input(s, young), "CHILD_TOO_YOUNG"),
            (apply_input(s, old), "CHILD_TOO_OLD"),
            (apply_input(s, outside), "NOT_IN_CATCHMENT"),
            (apply_input(s, child, pin="2" + "0" * 13), "INVALID_PIN"),
            (apply_input(s, child, pin=old.pin), "PIN_MISMATCH"),
            (apply_input(s, child, language="UZ"), "LANGUAGE_NOT_TAUGHT"),
            (
                apply_input(s, child, schoolId=gid("Institution", kindergarten.id)),
                "WRONG_INSTITUTION_KIND",
            ),
            (
                apply_input(s, child, benefitCategory="astronaut", benefitProof="x"),
                "UNKNOWN_BENEFIT_CATEGORY",
            ),
            (apply_input(s, child, birthCertificate=" "), "INVALID_INPUT"),
        ]
        async with engine.connect() as conn:
            before = (
                await conn.execute(select(func.count()).select_from(FirstGradeApplication))
            ).scalar_one()
        for variables, code in cases:
            body = await hub.gql(APPLY, variables, token=token)
            assert errors_of(body, "applyForFirstGrade") == [code], (variables, body)
        officer = await hub.gql(APPLY, apply_input(s, child), token=school_admin(hub, s))
        assert errors_of(officer, "applyForFirstGrade") == ["FORBIDDEN"]
        first = await hub.gql(APPLY, apply_input(s, child), token=token)
        duplicate = await hub.gql(APPLY, apply_input(s, child), token=token)
        assert errors_of(first, "applyForFirstGrade") == []
        assert errors_of(duplicate, "applyForFirstGrade") == ["DUPLICATE_APPLICATION"]
        async with engine.connect() as conn:
            after = (
                await conn.execute(select(func.count()).select_from(FirstGradeApplication))
            ).scalar_one()
        assert after == before + 1

    async def test_stage_two_counts_actual_residence(self, hub: Hub, session: AsyncSession) -> None:
        # given stage 1 is over and stage 2 is open
        on = today()
        s = await arrange(
            session,
            stage1_starts=on - timedelta(days=30),
            stage1_ends=on - timedelta(days=5),
            stage2_starts=on - timedelta(days=2),
            stage2_ends=on + timedelta(days=20),
            starts_on=on - timedelta(days=30),
        )
        child = await child_of(
            session, s, born=date(s.season.year - 6, 5, 5), address="ул. Московская, 1"
        )
        await session.commit()
        token = hub.token(Role.GUARDIAN, person_id=s.mother.id)
        # when a child registered elsewhere applies with an actual address in the catchment
        missing = await hub.gql(APPLY, apply_input(s, child), token=token)
        body = await hub.gql(
            APPLY,
            apply_input(
                s,
                child,
                addressDistrictId=gid("District", BISHKEK_LENIN),
                address="ул. Ахунбаева, 40",
            ),
            token=token,
        )
        # then the address is required, and with it the child counts as in the catchment
        assert errors_of(missing, "applyForFirstGrade") == ["INVALID_INPUT"]
        app = body["data"]["applyForFirstGrade"]["application"]
        assert (app["stage"], app["catchment"]) == ("RESIDENCE", True)


class TestVerify:
    async def test_school_verifies_or_rejects_with_a_reason_code(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange(session)
        apps = []
        for _ in range(2):
            child = await child_of(session, s, born=date(s.season.year - 6, 1, 1))
            apps.append(
                await make_first_grade_application(
                    session,
                    child=child,
                    guardian=s.mother,
                    school=s.school,
                    season=s.season,
                    status=FirstGradeStatus.SUBMITTED,
                )
            )
        await session.commit()
        token = school_admin(hub, s)
        ids = [gid("FirstGradeApplication", x.id) for x in apps]
        no_reason = await hub.gql(
            VERIFY, {"input": {"applicationId": ids[0], "documentsValid": False}}, token=token
        )
        rejected = await hub.gql(
            VERIFY,
            {
                "input": {
                    "applicationId": ids[0],
                    "documentsValid": False,
                    "rejectionReason": "BIRTH_CERTIFICATE_INVALID",
                }
            },
            token=token,
        )
        verified = await hub.gql(
            VERIFY, {"input": {"applicationId": ids[1], "documentsValid": True}}, token=token
        )
        twice = await hub.gql(
            VERIFY, {"input": {"applicationId": ids[1], "documentsValid": True}}, token=token
        )
        other = await hub.gql(
            VERIFY,
            {"input": {"applicationId": ids[1], "documentsValid": True}},
            token=hub.token(Role.SCHOOL_ADMIN, scopes=["institution:999999"]),
        )
        assert errors_of(no_reason, "verifyFirstGradeApplication") == ["REJECTION_REASON_REQUIRED"]
        rej = rejected["data"]["verifyFirstGradeApplication"]["application"]
        assert (rej["status"], rej["rejectionReason"]) == ("REJECTED", "BIRTH_CERTIFICATE_INVALID")
        assert rej["statusHistory"][-1]["reason"] == "birth_certificate_invalid"
        assert (
            verified["data"]["verifyFirstGradeApplication"]["application"]["status"] == "VERIFIED"
        )
        assert errors_of(twice, "verifyFirstGradeApplication") == ["APPLICATION_NOT_PENDING"]
        # another school does not read the application: it is not there for them (issue 22.7)
        assert errors_of(other, "verifyFirstGradeApplication") == ["NOT_FOUND"]


class TestAllocate:
    async def test_places_go_by_catchment_then_benefit_rank_then_time(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given 3 places and five verified applications
        s = await arrange(session)
        await make_first_grade_quota(session, school=s.school, season=s.season, places=3)
        t0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
        specs = [
            ("early outsider", False, None),
            ("catchment late", True, None),
            ("outsider military", False, "military"),
            ("outsider kairylman", False, "kairylman"),
            ("catchment early", True, None),
        ]
        minutes = [0, 50, 40, 10, 30]
        apps = {}
        for (name, catchment, benefit), m in zip(specs, minutes, strict=True):
            child = await child_of(session, s, born=date(s.season.year - 6, 1, 1))
            apps[name] = await make_first_grade_application(
                session,
                child=child,
                guardian=s.mother,
                school=s.school,
                season=s.season,
                catchment=catchment,
                benefit=benefit,
                applied_at=t0 + timedelta(minutes=m),
            )
        await session.commit()
        # when the school allocates
        body = await hub.gql(
            ALLOCATE,
            {"input": {"seasonId": gid("IntakeSeason", s.season.id), "schoolId": s.id}},
            token=school_admin(hub, s),
        )
        # then both catchment children and the military child are admitted, the rest wait
        result = body["data"]["allocateFirstGradePlaces"]
        assert (result["admitted"], result["waitlisted"], result["userErrors"]) == (3, 2, [])
        async with engine.connect() as conn:
            status = dict(
                (
                    await conn.execute(
                        select(FirstGradeApplication.id, FirstGradeApplication.status)
                    )
                ).all()
            )
            quota = (await conn.execute(select(FirstGradeQuota.admitted))).scalar_one()
            enrolled = (
                await conn.execute(
                    select(func.count())
                    .select_from(Enrollment)
                    .where(Enrollment.sector == Sector.SCHOOL, Enrollment.grade_level == 1)
                )
            ).scalar_one()
        admitted = {n for n, a in apps.items() if status[a.id] == "admitted"}
        assert admitted == {"catchment late", "catchment early", "outsider military"}
        assert {status[apps[n].id] for n in ("early outsider", "outsider kairylman")} == {
            "waitlisted"
        }
        assert quota == 3
        assert enrolled == 3

    async def test_allocation_statements_do_not_grow_with_schools_or_applications(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a school with one verified application, and another with six for three places
        # (F5: quotas per school; issue 21: a batch's statements are fixed)
        s = await arrange(session)
        other = await make_institution(session, kind=InstitutionKind.SCHOOL, languages=["ky"])
        for school, applications in ((s.school, 1), (other, 6)):
            await make_first_grade_quota(session, school=school, season=s.season, places=3)
            for _ in range(applications):
                child = await child_of(session, s, born=date(s.season.year - 6, 1, 1))
                await make_first_grade_application(
                    session, child=child, guardian=s.mother, school=school, season=s.season
                )
        await session.commit()
        counts, results = [], []
        for school in (s.school, other):
            # when each school allocates
            hub.counter.reset()
            body = await hub.gql(
                ALLOCATE,
                {
                    "input": {
                        "seasonId": gid("IntakeSeason", s.season.id),
                        "schoolId": gid("Institution", school.id),
                    }
                },
                token=hub.token(
                    Role.SCHOOL_ADMIN,
                    scopes=[f"institution:{s.school.id}", f"institution:{other.id}"],
                ),
            )
            result = body["data"]["allocateFirstGradePlaces"]
            results.append((result["admitted"], result["waitlisted"], result["userErrors"]))
            counts.append(hub.counter.count)
        # then one admission and three admissions with three waiting cost the same statements
        # (13 for a named state school: one fewer than a district's, bench.api's 14 pinned in
        # tests/test_portals.py, which reads the licences and kinds of all its schools)
        assert results == [(1, 0, []), (3, 3, [])]
        assert counts[0] == counts[1] == 13, hub.counter.statements

    async def test_admission_ends_the_kindergarten_place_and_queue_entry_in_one_transaction(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a child at a kindergarten who also waits in the queue for another one
        s = await arrange(session)
        kg_season = await make_intake_season(session, kind=IntakeKind.KINDERGARTEN)
        kg = await make_institution(session, kind=InstitutionKind.KINDERGARTEN)
        other_kg = await make_institution(session, kind=InstitutionKind.KINDERGARTEN)
        child = await child_of(session, s, born=date(s.season.year - 6, 1, 1))
        await make_enrollment(session, person=child, institution=kg, entry_date=date(2023, 9, 1))
        await make_kindergarten_application(
            session,
            child=child,
            guardian=s.mother,
            kindergartens=[other_kg],
            season=kg_season,
            age_group="6-7",
        )
        await make_first_grade_application(
            session, child=child, guardian=s.mother, school=s.school, season=s.season
        )
        await session.commit()
        # when the ministry allocates the season
        body = await hub.gql(
            ALLOCATE,
            {"input": {"seasonId": gid("IntakeSeason", s.season.id)}},
            token=hub.token(Role.MINISTRY),
        )
        # then the child is enrolled in grade 1 from the school year's start, the kindergarten
        # place ends that day and the queue application is cancelled
        assert body["data"]["allocateFirstGradePlaces"]["admitted"] == 1
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(
                        Enrollment.sector,
                        Enrollment.entry_date,
                        Enrollment.exit_date,
                        Enrollment.exit_reason,
                    )
                    .where(Enrollment.person_id == child.id)
                    .order_by(Enrollment.id)
                )
            ).all()
            queue_status = (await conn.execute(select(KindergartenApplication.status))).scalar_one()
        start = s.season.school_year_starts
        assert [tuple(r) for r in rows] == [
            ("preschool", date(2023, 9, 1), start, ExitReason.COMPLETED_LEVEL),
            ("school", start, None, None),
        ]
        assert queue_status == QueueStatus.CANCELLED

    async def test_quota_respects_class_size_and_concurrent_allocations_never_overfill(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a school with 40 verified applications
        s = await arrange(session)
        for _ in range(40):
            child = await child_of(session, s, born=date(s.season.year - 6, 1, 1))
            await make_first_grade_application(
                session, child=child, guardian=s.mother, school=s.school, season=s.season
            )
        await session.commit()
        token = school_admin(hub, s)
        season = gid("IntakeSeason", s.season.id)
        # when the school asks for 37 places in one class, then 36 in one class
        too_big = await hub.gql(
            QUOTA,
            {"input": {"seasonId": season, "schoolId": s.id, "classes": 1, "places": 37}},
            token=token,
        )
        ok = await hub.gql(
            QUOTA,
            {"input": {"seasonId": season, "schoolId": s.id, "classes": 1, "places": 36}},
            token=token,
        )
        # and five allocations run at once
        bodies = await asyncio.gather(
            *(
                hub.gql(ALLOCATE, {"input": {"seasonId": season, "schoolId": s.id}}, token=token)
                for _ in range(5)
            )
        )
        # then a class never exceeds 36 and exactly 36 children are admitted
        assert errors_of(too_big, "setFirstGradeQuota") == ["CLASS_SIZE_EXCEEDED"]
        assert ok["data"]["setFirstGradeQuota"]["quota"]["places"] == 36
        assert sum(b["data"]["allocateFirstGradePlaces"]["admitted"] for b in bodies) == 36
        async with engine.connect() as conn:
            admitted = (
                await conn.execute(
                    select(func.count())
                    .select_from(FirstGradeApplication)
                    .where(FirstGradeApplication.status == "admitted")
                )
            ).scalar_one()
        assert admitted == 36
        lower = await hub.gql(
            QUOTA,
            {"input": {"seasonId": season, "schoolId": s.id, "classes": 1, "places": 30}},
            token=token,
        )
        assert errors_of(lower, "setFirstGradeQuota") == ["QUOTA_BELOW_ADMITTED"]

    async def test_default_quota_comes_from_design_capacity(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a Kyrgyz- and Russian-medium school of design capacity 900 (12 grades, 2
        # streams: 37 Kyrgyz places, 2 classes) and 2 children applying to the Kyrgyz stream
        s = await arrange(session)
        for _ in range(2):
            child = await child_of(session, s, born=date(s.season.year - 6, 1, 1))
            await make_first_grade_application(
                session, child=child, guardian=s.mother, school=s.school, season=s.season
            )
        await session.commit()
        await hub.gql(
            ALLOCATE,
            {"input": {"seasonId": gid("IntakeSeason", s.season.id), "schoolId": s.id}},
            token=school_admin(hub, s),
        )
        data = await hub.data(
            "query($s: ID!, $k: ID!) { firstGradeQuotas(seasonId: $s, schoolId: $k) { classes places admitted free } }",
            {"s": gid("IntakeSeason", s.season.id), "k": s.id},
        )
        assert data["firstGradeQuotas"] == [{"classes": 2, "places": 37, "admitted": 2, "free": 35}]

    async def test_guardian_sees_only_their_childrens_applications(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange(session)
        child = await child_of(session, s, born=date(s.season.year - 6, 1, 1))
        await make_first_grade_application(
            session, child=child, guardian=s.mother, school=s.school, season=s.season
        )
        stranger = await make_person(session, birth_date=date(1980, 1, 1))
        await session.commit()
        query = "{ firstGradeApplications(first: 5) { totalCount nodes { child { id } } } }"
        mine = await hub.data(query, token=hub.token(Role.GUARDIAN, person_id=s.mother.id))
        theirs = await hub.data(query, token=hub.token(Role.GUARDIAN, person_id=stranger.id))
        school = await hub.data(query, token=school_admin(hub, s))
        assert mine["firstGradeApplications"]["totalCount"] == 1
        assert theirs["firstGradeApplications"]["totalCount"] == 0
        assert school["firstGradeApplications"]["nodes"] == [
            {"child": {"id": gid("Person", child.id)}}
        ]
