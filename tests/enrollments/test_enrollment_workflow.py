"""enrollStudent, transferStudent and withdrawStudent: one open school enrollment per pupil."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import Enrollment, ExitReason, Institution, InstitutionKind, Outcome, Person, Sector
from resolvers.access import Role
from resolvers.enrollments import workflow as enrollments_service
from resolvers.errors import DomainError, ErrorCode
from tests.conftest import Hub
from tests.enrollments.helpers import (
    ENROLL_STUDENT,
    TRANSFER_STUDENT,
    WITHDRAW_STUDENT,
    run_mutation,
)
from tests.factories import gid, make_enrollment, make_institution, make_person
from tests.people.helpers import (
    audit_entries,
    count_rows,
    error_codes,
    outbox_topics,
    user_error_codes,
)

SEPTEMBER = date(2026, 9, 1)


@dataclass
class Schools:
    pupil: Person
    first: Institution
    second: Institution
    kindergarten: Institution


@pytest.fixture
async def schools(session: AsyncSession) -> Schools:
    pupil = await make_person(session, birth_date=date(2018, 3, 3))
    first = await make_institution(session, name="Мектеп №1")
    second = await make_institution(session, name="Мектеп №2")
    kindergarten = await make_institution(
        session, name="Бакча №7", kind=InstitutionKind.KINDERGARTEN
    )
    await session.commit()
    return Schools(pupil, first, second, kindergarten)


async def enroll(
    hub: Hub, token: str, pupil: Person, school: Institution, **values: Any
) -> dict[str, Any]:
    values.setdefault("entryDate", SEPTEMBER.isoformat())
    values.setdefault("gradeLevel", 3)
    return await run_mutation(
        hub,
        ENROLL_STUDENT,
        "enrollStudent",
        token,
        personId=gid("Person", pupil.id),
        institutionId=gid("Institution", school.id),
        **values,
    )


async def open_school_enrollments(engine: AsyncEngine, pupil: Person) -> int:
    return await count_rows(
        engine,
        Enrollment,
        Enrollment.person_id == pupil.id,
        Enrollment.sector == Sector.SCHOOL,
        Enrollment.exit_date.is_(None),
    )


class TestEnrollStudent:
    async def test_pupil_is_enrolled_in_a_grade(
        self, hub: Hub, schools: Schools, engine: AsyncEngine
    ) -> None:
        # given a school admin holding the pupil's documents (the PIN)
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{schools.first.id}"])

        # when
        payload = await enroll(
            hub, token, schools.pupil, schools.first, classGroup=" 3Б ", pin=schools.pupil.pin
        )

        # then
        assert payload["userErrors"] == []
        enrollment = payload["enrollment"]
        assert (enrollment["sector"], enrollment["gradeLevel"], enrollment["classGroup"]) == (
            "SCHOOL",
            3,
            "3Б",
        )
        assert enrollment["isCurrent"] is True
        assert enrollment["person"] == {"id": gid("Person", schools.pupil.id)}
        assert await open_school_enrollments(engine, schools.pupil) == 1
        assert await outbox_topics(engine) == ["enrollments.student_enrolled"]

    async def test_enrolled_pupil_cannot_enroll_at_a_second_school(
        self, hub: Hub, ministry: str, schools: Schools, engine: AsyncEngine
    ) -> None:
        # given
        await enroll(hub, ministry, schools.pupil, schools.first)

        # when
        payload = await enroll(hub, ministry, schools.pupil, schools.second)

        # then
        assert user_error_codes(payload) == ["ALREADY_ENROLLED"]
        assert await count_rows(engine, Enrollment) == 1
        audit = await audit_entries(engine, "enrollments.enroll_student")
        assert [(a.outcome, a.error_codes) for a in audit] == [
            (Outcome.SUCCEEDED, []),
            (Outcome.REJECTED, ["ALREADY_ENROLLED"]),
        ]

    async def test_concurrent_enrollments_at_two_schools_leave_one_open(
        self, hub: Hub, ministry: str, schools: Schools, engine: AsyncEngine
    ) -> None:
        # when
        at_first, at_second = await asyncio.gather(
            enroll(hub, ministry, schools.pupil, schools.first),
            enroll(hub, ministry, schools.pupil, schools.second),
        )

        # then
        outcomes = sorted([user_error_codes(at_first), user_error_codes(at_second)])
        assert outcomes == [[], ["ALREADY_ENROLLED"]]
        assert await open_school_enrollments(engine, schools.pupil) == 1
        assert await count_rows(engine, Enrollment) == 1

    @pytest.mark.parametrize("grade", [None, 0, 13, -1])
    async def test_school_enrollment_needs_a_grade_from_one_to_twelve(
        self, hub: Hub, ministry: str, schools: Schools, engine: AsyncEngine, grade: int | None
    ) -> None:
        # when
        payload = await enroll(hub, ministry, schools.pupil, schools.first, gradeLevel=grade)

        # then
        assert user_error_codes(payload) == ["INVALID_GRADE"]
        assert payload["userErrors"][0]["field"] == "gradeLevel"
        assert await count_rows(engine, Enrollment) == 0

    async def test_entry_before_birth_is_an_invalid_date(
        self, hub: Hub, ministry: str, schools: Schools, engine: AsyncEngine
    ) -> None:
        # when
        payload = await enroll(hub, ministry, schools.pupil, schools.first, entryDate="2018-03-02")

        # then
        assert user_error_codes(payload) == ["INVALID_DATE"]
        assert payload["userErrors"][0]["field"] == "entryDate"
        assert await count_rows(engine, Enrollment) == 0

    async def test_closed_institution_takes_nobody(
        self, hub: Hub, ministry: str, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        pupil = await make_person(session, birth_date=date(2018, 3, 3))
        closed = await make_institution(session, closed_on=date(2026, 6, 1))
        await session.commit()

        # when
        payload = await enroll(hub, ministry, pupil, closed)

        # then
        assert user_error_codes(payload) == ["INSTITUTION_CLOSED"]
        assert await count_rows(engine, Enrollment) == 0

    async def test_school_admin_cannot_enroll_at_another_school(
        self, hub: Hub, schools: Schools, engine: AsyncEngine
    ) -> None:
        # given
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{schools.second.id}"])

        # when
        payload = await enroll(hub, token, schools.pupil, schools.first)

        # then
        assert user_error_codes(payload) == ["FORBIDDEN"]
        assert await count_rows(engine, Enrollment) == 0
        audit = await audit_entries(engine, "enrollments.enroll_student")
        assert [a.outcome for a in audit] == [Outcome.FORBIDDEN]

    async def test_anonymous_caller_is_unauthenticated(
        self, hub: Hub, schools: Schools, engine: AsyncEngine
    ) -> None:
        # when
        body = await hub.gql(
            ENROLL_STUDENT,
            {
                "input": {
                    "personId": gid("Person", schools.pupil.id),
                    "institutionId": gid("Institution", schools.first.id),
                    "entryDate": SEPTEMBER.isoformat(),
                    "gradeLevel": 3,
                }
            },
        )

        # then
        assert error_codes(body) == ["UNAUTHENTICATED"]
        assert await count_rows(engine, Enrollment) == 0

    async def test_second_mutation_of_a_document_fails_alone(
        self, hub: Hub, ministry: str, schools: Schools, engine: AsyncEngine
    ) -> None:
        # given
        document = """
        mutation Two($a: EnrollStudentInput!, $b: EnrollStudentInput!) {
          first: enrollStudent(input: $a) { enrollment { id } userErrors { code } }
          second: enrollStudent(input: $b) { enrollment { id } userErrors { code } }
        }
        """
        pupil = gid("Person", schools.pupil.id)
        common = {"personId": pupil, "entryDate": SEPTEMBER.isoformat(), "gradeLevel": 3}

        # when
        data = await hub.data(
            document,
            {
                "a": {**common, "institutionId": gid("Institution", schools.first.id)},
                "b": {**common, "institutionId": gid("Institution", schools.second.id)},
            },
            token=ministry,
        )

        # then
        assert data["first"]["userErrors"] == []
        assert data["second"] == {"enrollment": None, "userErrors": [{"code": "ALREADY_ENROLLED"}]}
        async with engine.connect() as conn:
            kept = (await conn.execute(select(Enrollment.institution_id))).scalars().all()
        assert kept == [schools.first.id]
        assert await outbox_topics(engine) == ["enrollments.student_enrolled"]
        audit = await audit_entries(engine, "enrollments.enroll_student")
        assert [a.outcome for a in audit] == [Outcome.SUCCEEDED, Outcome.REJECTED]


class TestOpenSchoolEnrollmentConstraint:
    async def test_database_refuses_a_second_open_school_enrollment(
        self, session: AsyncSession, schools: Schools
    ) -> None:
        # given
        await make_enrollment(session, person=schools.pupil, institution=schools.first)
        await session.commit()

        # when / then: two open periods also overlap, so either guard may refuse first
        with pytest.raises(
            IntegrityError, match=r"uq_enrollment_open_school|ex_enrollment_school_overlap"
        ):
            await make_enrollment(
                session,
                person=schools.pupil,
                institution=schools.second,
                entry_date=date(2026, 10, 1),
            )

    async def test_database_refuses_overlapping_school_periods(
        self, session: AsyncSession, schools: Schools
    ) -> None:
        # given
        await make_enrollment(
            session,
            person=schools.pupil,
            institution=schools.first,
            entry_date=date(2025, 9, 1),
            exit_date=date(2026, 5, 31),
        )
        await session.commit()

        # when / then
        with pytest.raises(IntegrityError, match="ex_enrollment_school_overlap"):
            await make_enrollment(
                session,
                person=schools.pupil,
                institution=schools.second,
                entry_date=date(2026, 1, 10),
                exit_date=date(2026, 3, 1),
            )

    async def test_database_refuses_kindergarten_and_school_places_over_the_same_days_k7(
        self, session: AsyncSession, schools: Schools
    ) -> None:
        # given a pupil at school since September (domain.md K7: a child at school holds no
        # kindergarten place)
        await make_enrollment(session, person=schools.pupil, institution=schools.first)
        await session.commit()

        # when a kindergarten place overlapping it is written past the workflows, then the
        # exclusion constraint refuses it
        with pytest.raises(IntegrityError, match="ex_enrollment_preschool_school_overlap"):
            await make_enrollment(
                session,
                person=schools.pupil,
                institution=schools.kindergarten,
                entry_date=date(2025, 5, 1),
            )

    async def test_kindergarten_place_that_ends_as_school_begins_is_kept(
        self, session: AsyncSession, schools: Schools, engine: AsyncEngine
    ) -> None:
        # when the kindergarten place ends on the first school day (the day excluded)
        await make_enrollment(
            session,
            person=schools.pupil,
            institution=schools.kindergarten,
            entry_date=date(2022, 9, 1),
            exit_date=date(2025, 9, 1),
        )
        await make_enrollment(session, person=schools.pupil, institution=schools.first)
        await session.commit()

        # then both are stored
        assert await count_rows(engine, Enrollment, Enrollment.person_id == schools.pupil.id) == 2


class TestTransferStudent:
    async def test_transfer_closes_the_old_enrollment_and_links_the_new_one(
        self, hub: Hub, ministry: str, schools: Schools, engine: AsyncEngine
    ) -> None:
        # given
        opened = await enroll(hub, ministry, schools.pupil, schools.first)
        old_id = opened["enrollment"]["id"]

        # when
        payload = await run_mutation(
            hub,
            TRANSFER_STUDENT,
            "transferStudent",
            ministry,
            enrollmentId=old_id,
            toInstitutionId=gid("Institution", schools.second.id),
            date="2026-11-02",
            classGroup="3А",
        )

        # then
        assert payload["userErrors"] == []
        new = payload["enrollment"]
        assert new["institution"] == {"id": gid("Institution", schools.second.id)}
        assert (new["entryDate"], new["gradeLevel"], new["classGroup"]) == ("2026-11-02", 3, "3А")
        assert new["isCurrent"] is True
        assert new["previousEnrollment"] == {
            "id": old_id,
            "exitDate": "2026-11-02",
            "exitReason": "TRANSFERRED",
        }
        assert await open_school_enrollments(engine, schools.pupil) == 1
        assert await count_rows(engine, Enrollment) == 2
        assert await outbox_topics(engine) == [
            "enrollments.student_enrolled",
            "enrollments.student_transferred",
        ]

    async def test_failure_after_closing_the_old_enrollment_leaves_it_open(
        self,
        hub: Hub,
        ministry: str,
        schools: Schools,
        engine: AsyncEngine,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # given: the last step of the transfer (queueing its event) fails
        opened = await enroll(hub, ministry, schools.pupil, schools.first)

        async def failing_emit(*args: Any, **kwargs: Any) -> None:
            raise DomainError(ErrorCode.INVALID_INPUT, "the outbox refused the event")

        monkeypatch.setattr(enrollments_service, "emit", failing_emit)

        # when
        payload = await run_mutation(
            hub,
            TRANSFER_STUDENT,
            "transferStudent",
            ministry,
            enrollmentId=opened["enrollment"]["id"],
            toInstitutionId=gid("Institution", schools.second.id),
            date="2026-11-02",
        )

        # then: neither the closing nor the new enrollment was kept
        assert user_error_codes(payload) == ["INVALID_INPUT"]
        assert await count_rows(engine, Enrollment) == 1
        assert await count_rows(engine, Enrollment, Enrollment.exit_date.is_(None)) == 1
        assert (
            await count_rows(engine, Enrollment, Enrollment.institution_id == schools.first.id) == 1
        )

    async def test_transfer_from_school_to_kindergarten_changes_nothing(
        self, hub: Hub, ministry: str, schools: Schools, engine: AsyncEngine
    ) -> None:
        # given
        opened = await enroll(hub, ministry, schools.pupil, schools.first)

        # when
        payload = await run_mutation(
            hub,
            TRANSFER_STUDENT,
            "transferStudent",
            ministry,
            enrollmentId=opened["enrollment"]["id"],
            toInstitutionId=gid("Institution", schools.kindergarten.id),
            date="2026-11-02",
        )

        # then
        assert user_error_codes(payload) == ["WRONG_INSTITUTION_KIND"]
        assert await count_rows(engine, Enrollment) == 1
        assert await open_school_enrollments(engine, schools.pupil) == 1
        assert await count_rows(engine, Enrollment, Enrollment.exit_reason.is_not(None)) == 0

    async def test_ended_enrollment_cannot_be_transferred(
        self, hub: Hub, ministry: str, session: AsyncSession, schools: Schools, engine: AsyncEngine
    ) -> None:
        # given
        ended = await make_enrollment(
            session,
            person=schools.pupil,
            institution=schools.first,
            entry_date=date(2025, 9, 1),
            exit_date=date(2026, 5, 31),
        )
        await session.commit()

        # when
        payload = await run_mutation(
            hub,
            TRANSFER_STUDENT,
            "transferStudent",
            ministry,
            enrollmentId=gid("Enrollment", ended.id),
            toInstitutionId=gid("Institution", schools.second.id),
            date="2026-09-01",
        )

        # then
        assert user_error_codes(payload) == ["NOT_ENROLLED"]
        assert await count_rows(engine, Enrollment) == 1

    async def test_transfer_before_the_enrollment_began_is_an_invalid_date(
        self, hub: Hub, ministry: str, schools: Schools, engine: AsyncEngine
    ) -> None:
        # given
        opened = await enroll(hub, ministry, schools.pupil, schools.first)

        # when
        payload = await run_mutation(
            hub,
            TRANSFER_STUDENT,
            "transferStudent",
            ministry,
            enrollmentId=opened["enrollment"]["id"],
            toInstitutionId=gid("Institution", schools.second.id),
            date="2026-08-31",
        )

        # then
        assert user_error_codes(payload) == ["INVALID_DATE"]
        assert await open_school_enrollments(engine, schools.pupil) == 1
        assert await count_rows(engine, Enrollment) == 1

    async def test_receiving_school_outside_the_callers_scope_is_forbidden(
        self, hub: Hub, ministry: str, schools: Schools, engine: AsyncEngine
    ) -> None:
        # given
        opened = await enroll(hub, ministry, schools.pupil, schools.first)
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{schools.first.id}"])

        # when
        payload = await run_mutation(
            hub,
            TRANSFER_STUDENT,
            "transferStudent",
            token,
            enrollmentId=opened["enrollment"]["id"],
            toInstitutionId=gid("Institution", schools.second.id),
            date="2026-11-02",
        )

        # then
        assert user_error_codes(payload) == ["FORBIDDEN"]
        assert await count_rows(engine, Enrollment) == 1


class TestWithdrawStudent:
    async def test_withdrawal_ends_the_enrollment_once(
        self, hub: Hub, ministry: str, schools: Schools, engine: AsyncEngine
    ) -> None:
        # given
        opened = await enroll(hub, ministry, schools.pupil, schools.first)
        enrollment_id = opened["enrollment"]["id"]

        # when
        first = await run_mutation(
            hub,
            WITHDRAW_STUDENT,
            "withdrawStudent",
            ministry,
            enrollmentId=enrollment_id,
            date="2026-11-20",
            reason="MOVED_ABROAD",
        )
        again = await run_mutation(
            hub,
            WITHDRAW_STUDENT,
            "withdrawStudent",
            ministry,
            enrollmentId=enrollment_id,
            date="2026-11-21",
        )

        # then
        assert first["userErrors"] == []
        ended = first["enrollment"]
        assert (ended["exitDate"], ended["exitReason"], ended["isCurrent"]) == (
            "2026-11-20",
            "MOVED_ABROAD",
            False,
        )
        assert user_error_codes(again) == ["NOT_ENROLLED"]
        assert await open_school_enrollments(engine, schools.pupil) == 0
        assert (
            await count_rows(engine, Enrollment, Enrollment.exit_reason == ExitReason.MOVED_ABROAD)
            == 1
        )

    async def test_withdrawal_is_not_a_transfer(
        self, hub: Hub, ministry: str, schools: Schools, engine: AsyncEngine
    ) -> None:
        # given
        opened = await enroll(hub, ministry, schools.pupil, schools.first)

        # when
        payload = await run_mutation(
            hub,
            WITHDRAW_STUDENT,
            "withdrawStudent",
            ministry,
            enrollmentId=opened["enrollment"]["id"],
            date="2026-11-20",
            reason="TRANSFERRED",
        )

        # then
        assert user_error_codes(payload) == ["INVALID_INPUT"]
        assert await open_school_enrollments(engine, schools.pupil) == 1

    async def test_other_schools_admin_cannot_withdraw(
        self, hub: Hub, ministry: str, schools: Schools, engine: AsyncEngine
    ) -> None:
        # given
        opened = await enroll(hub, ministry, schools.pupil, schools.first)
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{schools.second.id}"])

        # when
        payload = await run_mutation(
            hub,
            WITHDRAW_STUDENT,
            "withdrawStudent",
            token,
            enrollmentId=opened["enrollment"]["id"],
            date="2026-11-20",
        )

        # then the other school does not read the enrollment: it is not there (issue 22.7)
        assert user_error_codes(payload) == ["NOT_FOUND"]
        assert await open_school_enrollments(engine, schools.pupil) == 1
