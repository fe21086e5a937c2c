"""Withdrawing a first-grade application: who may, from which states, what it writes, what
allocation makes of it, and a withdrawal racing an allocation in real concurrent transactions."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import (
    AuditEntry,
    Enrollment,
    FirstGradeApplication,
    FirstGradeApplicationEvent,
    FirstGradeQuota,
    FirstGradeStatus,
    OutboxEvent,
    Person,
    RejectionReason,
    Sector,
    database,
)
from resolvers import first_grade as first_grade_service
from resolvers.access import Principal, Role
from tests.conftest import Hub
from tests.factories import (
    gid,
    make_first_grade_application,
    make_first_grade_quota,
    make_institution,
    make_person,
    make_staff_position,
)
from tests.first_grade.test_first_grade import (
    ALLOCATE,
    APPLY,
    School,
    apply_input,
    arrange,
    child_of,
    school_admin,
)
from tests.preschool.helpers import errors_of

WITHDRAW = """
mutation Withdraw($input: WithdrawFirstGradeApplicationInput!) {
  withdrawFirstGradeApplication(input: $input) {
    application { id status statusHistory { status actor reason } }
    userErrors { field code message }
  }
}
"""
REASON = "The family moved to Osh"


def withdraw_input(application: FirstGradeApplication | str, reason: str | None = None) -> dict:
    ident = (
        application
        if isinstance(application, str)
        else gid("FirstGradeApplication", application.id)
    )
    return {"input": {"applicationId": ident, **({"reason": reason} if reason else {})}}


def guardian(hub: Hub, person: Person) -> str:
    return hub.token(Role.GUARDIAN, person_id=person.id)


async def an_application(
    session: AsyncSession, s: School, status: FirstGradeStatus, **kw: Any
) -> FirstGradeApplication:
    """A child of the school's mother with an application in ``status``."""
    child = await child_of(session, s, born=date(s.season.year - 6, 1, 1))
    closing = status == FirstGradeStatus.REJECTED
    application = await make_first_grade_application(
        session,
        child=child,
        guardian=s.mother,
        school=s.school,
        season=s.season,
        status=FirstGradeStatus.SUBMITTED if closing else status,
        **kw,
    )
    if closing:  # a rejection carries its reason (CHECK)
        application.status, application.rejection_reason = status, RejectionReason.OTHER
        await session.flush()
    return application


async def state_of(engine: AsyncEngine, application_id: int) -> dict[str, Any]:
    """The application as stored, and the rows a withdrawal (or an admission) would add."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(FirstGradeApplication.__table__).where(
                    FirstGradeApplication.id == application_id
                )
            )
        ).one()
        counts = {}
        for model in (FirstGradeApplicationEvent, OutboxEvent, Enrollment, FirstGradeQuota):
            counts[model.__tablename__] = await conn.scalar(select(func.count()).select_from(model))
        admitted = await conn.scalar(select(func.coalesce(func.sum(FirstGradeQuota.admitted), 0)))
        return {"row": row._asdict(), "counts": counts, "admitted": admitted}


async def status_of(engine: AsyncEngine, application_id: int) -> FirstGradeStatus:
    async with engine.connect() as conn:
        status = await conn.scalar(
            select(FirstGradeApplication.status).where(FirstGradeApplication.id == application_id)
        )
    assert status is not None
    return FirstGradeStatus(status)


async def school_enrollments_of(engine: AsyncEngine, person_id: int) -> int:
    async with engine.connect() as conn:
        count = await conn.scalar(
            select(func.count())
            .select_from(Enrollment)
            .where(Enrollment.person_id == person_id, Enrollment.sector == Sector.SCHOOL)
        )
    return int(count or 0)


class TestWithdrawFirstGradeApplication:
    @pytest.mark.parametrize(
        "status",
        [FirstGradeStatus.SUBMITTED, FirstGradeStatus.VERIFIED, FirstGradeStatus.WAITLISTED],
    )
    async def test_guardian_withdraws_an_open_application(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine, status: FirstGradeStatus
    ) -> None:
        # given the family's application, still open
        s = await arrange(session)
        application = await an_application(session, s, status)
        await session.commit()

        # when the mother withdraws it, saying why
        body = await hub.gql(
            WITHDRAW, withdraw_input(application, REASON), token=guardian(hub, s.mother)
        )

        # then it is withdrawn, with a history row naming her and the reason
        assert errors_of(body, "withdrawFirstGradeApplication") == []
        answer = body["data"]["withdrawFirstGradeApplication"]["application"]
        assert answer["status"] == "WITHDRAWN"
        assert await status_of(engine, application.id) == FirstGradeStatus.WITHDRAWN
        async with engine.connect() as conn:
            history = (
                await conn.execute(
                    select(
                        FirstGradeApplicationEvent.status,
                        FirstGradeApplicationEvent.actor,
                        FirstGradeApplicationEvent.reason,
                    ).where(FirstGradeApplicationEvent.application_id == application.id)
                )
            ).all()
            events = (
                await conn.execute(
                    select(OutboxEvent.topic, OutboxEvent.aggregate_id, OutboxEvent.payload)
                )
            ).all()
            audit = (
                await conn.execute(
                    select(AuditEntry.operation, AuditEntry.outcome, AuditEntry.target_id)
                )
            ).all()
        assert [tuple(h) for h in history] == [("withdrawn", f"person:{s.mother.id}", REASON)]
        # and one outbox event with ids and codes only, and the audit row of the mutation
        assert [tuple(e) for e in events] == [
            (
                "enrollment.first_grade_withdrawn",
                application.id,
                {"school_id": s.school.id, "grade_level": 1, "previous_status": status.value},
            )
        ]
        assert [tuple(a) for a in audit] == [
            ("enrollment.withdraw_first_grade_application", "succeeded", application.id)
        ]

    async def test_school_staff_withdraw_on_the_familys_behalf(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a verified application at the school
        s = await arrange(session)
        application = await an_application(session, s, FirstGradeStatus.VERIFIED)
        await session.commit()

        # when the school's admin withdraws it without a reason
        body = await hub.gql(WITHDRAW, withdraw_input(application), token=school_admin(hub, s))

        # then it is withdrawn and the history keeps the withdrawal
        assert errors_of(body, "withdrawFirstGradeApplication") == []
        history = body["data"]["withdrawFirstGradeApplication"]["application"]["statusHistory"]
        assert [(h["status"], h["reason"]) for h in history] == [("WITHDRAWN", None)]
        assert await status_of(engine, application.id) == FirstGradeStatus.WITHDRAWN

    async def test_outsiders_learn_nothing_and_change_nothing(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given the family's verified application, and people with no hand in it
        s = await arrange(session)
        application = await an_application(session, s, FirstGradeStatus.VERIFIED)
        stranger = await make_person(session, birth_date=date(1985, 1, 1))
        elsewhere = await make_institution(session)
        teacher = await make_person(session, birth_date=date(1990, 1, 1))
        await make_staff_position(session, person=teacher, institution=s.school)
        await session.commit()
        before = await state_of(engine, application.id)
        unknown = await hub.gql(
            WITHDRAW,
            withdraw_input(gid("FirstGradeApplication", application.id + 1000)),
            token=guardian(hub, stranger),
        )

        # when another guardian and the admin of another school try to withdraw it
        answers = {
            caller: await hub.gql(WITHDRAW, withdraw_input(application, REASON), token=token)
            for caller, token in {
                "another guardian": guardian(hub, stranger),
                "admin of another school": hub.token(
                    Role.SCHOOL_ADMIN, scopes=[f"institution:{elsewhere.id}"]
                ),
            }.items()
        }
        # and a teacher of the school, whose role withdraws nothing
        teachers = await hub.gql(
            WITHDRAW,
            withdraw_input(application),
            token=hub.token(
                Role.TEACHER, scopes=[f"institution:{s.school.id}"], person_id=teacher.id
            ),
        )

        # then each is told exactly what an unknown ID gets: it does not exist for them
        told = unknown["data"]["withdrawFirstGradeApplication"]
        assert told["userErrors"] == [
            {
                "field": "applicationId",
                "code": "NOT_FOUND",
                "message": told["userErrors"][0]["message"],
            }
        ]
        for caller, body in answers.items():
            payload = body["data"]["withdrawFirstGradeApplication"]
            assert payload == told, caller
        assert errors_of(teachers, "withdrawFirstGradeApplication") == ["FORBIDDEN"]
        # and nothing changed
        assert await state_of(engine, application.id) == before

    @pytest.mark.parametrize(
        "status",
        [
            FirstGradeStatus.ADMITTED,
            FirstGradeStatus.REJECTED,
            FirstGradeStatus.CANCELLED,
            FirstGradeStatus.WITHDRAWN,
        ],
    )
    async def test_closed_application_is_refused(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine, status: FirstGradeStatus
    ) -> None:
        # given an application no longer open
        s = await arrange(session)
        application = await an_application(session, s, status)
        await session.commit()
        before = await state_of(engine, application.id)

        # when the guardian tries to withdraw it
        body = await hub.gql(WITHDRAW, withdraw_input(application), token=guardian(hub, s.mother))

        # then it is refused as closed, and nothing is written
        payload = body["data"]["withdrawFirstGradeApplication"]
        assert errors_of(body, "withdrawFirstGradeApplication") == ["APPLICATION_CLOSED"]
        assert payload["application"] is None
        if status == FirstGradeStatus.ADMITTED:
            assert "withdrawStudent" in payload["userErrors"][0]["message"]
        assert await state_of(engine, application.id) == before

    async def test_bad_input_gets_a_typed_error_and_writes_nothing(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a waitlisted application
        s = await arrange(session)
        application = await an_application(session, s, FirstGradeStatus.WAITLISTED)
        await session.commit()
        before = await state_of(engine, application.id)
        token = guardian(hub, s.mother)
        cases = [
            (withdraw_input("not an id"), "INVALID_ID"),
            (withdraw_input(gid("FirstGradeApplication", 2**40)), "INVALID_ID"),
            (withdraw_input(gid("Person", application.child_id)), "INVALID_ID"),
            (withdraw_input(gid("FirstGradeApplication", application.id + 1000)), "NOT_FOUND"),
            (withdraw_input(application, "x" * 201), "INVALID_INPUT"),
        ]

        # when each is sent, then each gets its stable code on its field, never a top-level error
        for variables, code in cases:
            body = await hub.gql(WITHDRAW, variables, token=token)
            assert errors_of(body, "withdrawFirstGradeApplication") == [code], (variables, body)
            (error,) = body["data"]["withdrawFirstGradeApplication"]["userErrors"]
            assert error["field"] == ("reason" if code == "INVALID_INPUT" else "applicationId")
        # and nothing was written
        assert await state_of(engine, application.id) == before

    async def test_withdrawn_child_may_apply_again(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a child whose application the mother made through the portal
        s = await arrange(session)
        child = await child_of(session, s, born=date(s.season.year - 6, 5, 5))
        await session.commit()
        token = guardian(hub, s.mother)
        first = await hub.gql(APPLY, apply_input(s, child), token=token)
        first_id = first["data"]["applyForFirstGrade"]["application"]["id"]

        # when she withdraws it and applies again
        withdrawn = await hub.gql(WITHDRAW, withdraw_input(first_id), token=token)
        again = await hub.gql(APPLY, apply_input(s, child), token=token)

        # then the new application is taken, and the child has one open application
        assert errors_of(withdrawn, "withdrawFirstGradeApplication") == []
        assert errors_of(again, "applyForFirstGrade") == []
        async with engine.connect() as conn:
            statuses = (
                (
                    await conn.execute(
                        select(FirstGradeApplication.status)
                        .where(FirstGradeApplication.child_id == child.id)
                        .order_by(FirstGradeApplication.id)
                    )
                )
                .scalars()
                .all()
            )
        assert statuses == ["withdrawn", "submitted"]

    async def test_statement_count_is_fixed(self, hub: Hub, session: AsyncSession) -> None:
        # given two applications, one with a long history
        s = await arrange(session)
        short = await an_application(session, s, FirstGradeStatus.SUBMITTED)
        long = await an_application(session, s, FirstGradeStatus.WAITLISTED)
        for status in (FirstGradeStatus.SUBMITTED, FirstGradeStatus.VERIFIED) * 10:
            session.add(
                FirstGradeApplicationEvent(application_id=long.id, status=status, actor="x")
            )
        await session.commit()
        counts = []
        for application in (short, long):
            # when each is withdrawn, reading the status back
            hub.counter.reset()
            body = await hub.gql(WITHDRAW, withdraw_input(application), token=school_admin(hub, s))
            assert errors_of(body, "withdrawFirstGradeApplication") == []
            counts.append(hub.counter.count)
        # then both cost the same few statements (lock, update, history, outbox, audit, reads)
        assert counts[0] == counts[1], hub.counter.statements
        assert counts[1] <= 12, hub.counter.statements


# --- allocation and withdrawal --------------------------------------------------------------


def allocate_input(s: School) -> dict:
    return {"input": {"seasonId": gid("IntakeSeason", s.season.id), "schoolId": s.id}}


async def two_for_one_place(session: AsyncSession, s: School) -> list[FirstGradeApplication]:
    """One place and two verified catchment applications, the first applied earlier."""
    await make_first_grade_quota(session, school=s.school, season=s.season, places=1)
    t0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
    return [
        await an_application(
            session, s, FirstGradeStatus.VERIFIED, applied_at=t0 + timedelta(minutes=m)
        )
        for m in (0, 10)
    ]


async def blocked_on_a_lock(engine: AsyncEngine, task: asyncio.Task[Any]) -> None:
    """Wait until another backend of this database waits for a row lock (or ``task`` ends
    without ever waiting, which fails the test)."""
    async with engine.connect() as conn:
        for _ in range(200):
            waiting = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            )
            await conn.rollback()
            if waiting:
                return
            assert not task.done(), task
            await asyncio.sleep(0.05)
    raise AssertionError("the concurrent transaction never waited for the lock")


class TestAllocationAfterWithdrawal:
    async def test_withdrawn_application_is_not_admitted_and_its_place_goes_to_the_next(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given one place, and the first in line withdrawn
        s = await arrange(session)
        first, second = await two_for_one_place(session, s)
        await session.commit()
        await hub.gql(WITHDRAW, withdraw_input(first), token=guardian(hub, s.mother))

        # when the school allocates
        body = await hub.gql(ALLOCATE, allocate_input(s), token=school_admin(hub, s))

        # then the next child takes the place; the withdrawn one is neither admitted nor enrolled
        result = body["data"]["allocateFirstGradePlaces"]
        assert (result["admitted"], result["waitlisted"], result["userErrors"]) == (1, 0, [])
        assert await status_of(engine, first.id) == FirstGradeStatus.WITHDRAWN
        assert await status_of(engine, second.id) == FirstGradeStatus.ADMITTED
        assert await school_enrollments_of(engine, first.child_id) == 0
        assert await school_enrollments_of(engine, second.child_id) == 1
        async with engine.connect() as conn:
            assert await conn.scalar(select(FirstGradeQuota.admitted)) == 1

    async def test_withdrawing_a_waitlisted_application_lets_the_next_allocation_fill_it(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given one place taken, two children waiting, and the school then opening a second
        s = await arrange(session)
        first, second = await two_for_one_place(session, s)
        third = await an_application(session, s, FirstGradeStatus.VERIFIED)
        await session.commit()
        admin = school_admin(hub, s)
        await hub.gql(ALLOCATE, allocate_input(s), token=admin)
        assert await status_of(engine, second.id) == FirstGradeStatus.WAITLISTED
        await hub.gql(
            "mutation($s: SetFirstGradeQuotaInput!) { setFirstGradeQuota(input: $s) { userErrors { code } } }",
            {
                "s": {
                    "seasonId": gid("IntakeSeason", s.season.id),
                    "schoolId": s.id,
                    "classes": 1,
                    "places": 2,
                }
            },
            token=admin,
        )

        # when the waitlisted family withdraws and the school allocates again
        await hub.gql(WITHDRAW, withdraw_input(second), token=guardian(hub, s.mother))
        body = await hub.gql(ALLOCATE, allocate_input(s), token=admin)

        # then the freed place goes to the child behind, and the withdrawn one counts nowhere
        assert body["data"]["allocateFirstGradePlaces"]["admitted"] == 1
        assert [await status_of(engine, a.id) for a in (first, second, third)] == [
            FirstGradeStatus.ADMITTED,
            FirstGradeStatus.WITHDRAWN,
            FirstGradeStatus.ADMITTED,
        ]
        async with engine.connect() as conn:
            assert await conn.scalar(select(FirstGradeQuota.admitted)) == 2

    async def test_withdrawal_holding_the_row_is_seen_by_the_allocation_waiting_for_it(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given one place and two children, the first in line being withdrawn in a transaction
        # that has not committed yet
        s = await arrange(session)
        first, second = await two_for_one_place(session, s)
        await session.commit()
        mother = Principal(subject="guardian:race", role=Role.GUARDIAN, person_id=s.mother.id)
        async with database.session_factory(engine)() as withdrawing:
            await first_grade_service.withdraw_first_grade_application(
                withdrawing, mother, application_id=first.id, reason=None
            )
            # when the school allocates meanwhile, and the withdrawal then commits
            allocation = asyncio.create_task(
                hub.gql(ALLOCATE, allocate_input(s), token=school_admin(hub, s))
            )
            await blocked_on_a_lock(engine, allocation)
            await withdrawing.commit()
        body = await allocation

        # then the allocation saw the withdrawal: the place went to the second child
        assert body["data"]["allocateFirstGradePlaces"]["admitted"] == 1, body
        assert await status_of(engine, first.id) == FirstGradeStatus.WITHDRAWN
        assert await status_of(engine, second.id) == FirstGradeStatus.ADMITTED
        assert await school_enrollments_of(engine, first.child_id) == 0
        async with engine.connect() as conn:
            assert await conn.scalar(select(FirstGradeQuota.admitted)) == 1

    async def test_withdrawal_waiting_for_the_allocation_finds_the_child_admitted(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given one place and two children, being allocated in a transaction not yet committed
        s = await arrange(session)
        first, _second = await two_for_one_place(session, s)
        await session.commit()
        admin = Principal(
            subject="school:race", role=Role.SCHOOL_ADMIN, institution_ids=frozenset({s.school.id})
        )
        async with database.session_factory(engine)() as allocating:
            await first_grade_service.allocate_first_grade_places(
                allocating, admin, season_id=s.season.id, school_id=s.school.id
            )
            # when the mother withdraws the first child meanwhile, and the allocation commits
            withdrawal = asyncio.create_task(
                hub.gql(WITHDRAW, withdraw_input(first), token=guardian(hub, s.mother))
            )
            await blocked_on_a_lock(engine, withdrawal)
            await allocating.commit()
        body = await withdrawal

        # then the withdrawal waited, found the child admitted, and was refused
        assert errors_of(body, "withdrawFirstGradeApplication") == ["APPLICATION_CLOSED"]
        assert await status_of(engine, first.id) == FirstGradeStatus.ADMITTED
        assert await school_enrollments_of(engine, first.child_id) == 1
        async with engine.connect() as conn:
            history = (
                (
                    await conn.execute(
                        select(FirstGradeApplicationEvent.status).where(
                            FirstGradeApplicationEvent.application_id == first.id
                        )
                    )
                )
                .scalars()
                .all()
            )
        assert history == ["admitted"]

    async def test_withdrawals_and_allocation_at_once_never_admit_a_withdrawn_child(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given three places and six children
        s = await arrange(session)
        await make_first_grade_quota(session, school=s.school, season=s.season, places=3)
        apps = [await an_application(session, s, FirstGradeStatus.VERIFIED) for _ in range(6)]
        await session.commit()
        token = guardian(hub, s.mother)

        # when three families withdraw while the school allocates
        bodies = await asyncio.gather(
            *(hub.gql(WITHDRAW, withdraw_input(a), token=token) for a in apps[:3]),
            hub.gql(ALLOCATE, allocate_input(s), token=school_admin(hub, s)),
        )

        # then each withdrawal either happened, and the child is not admitted, or found the
        # child admitted; the places are all taken, by children not withdrawn
        for application, body in zip(apps[:3], bodies[:3], strict=True):
            status = await status_of(engine, application.id)
            codes = errors_of(body, "withdrawFirstGradeApplication")
            if codes:
                assert (codes, status) == (["APPLICATION_CLOSED"], FirstGradeStatus.ADMITTED)
            else:
                assert status == FirstGradeStatus.WITHDRAWN
                assert await school_enrollments_of(engine, application.child_id) == 0
        statuses = [await status_of(engine, a.id) for a in apps]
        assert statuses.count(FirstGradeStatus.ADMITTED) == 3
        async with engine.connect() as conn:
            assert await conn.scalar(select(FirstGradeQuota.admitted)) == 3
