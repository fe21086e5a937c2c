"""A global id alone never lets a caller act on, or gain sight of, someone outside their scope:
the workflows that attach a person to the caller's institution need the person's PIN (the
documents in the officer's hands) unless the caller may read the person already."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import Enrollment, Guardianship, StaffPosition
from resolvers.access import Role
from tests.conftest import Hub
from tests.enrollments.helpers import ENROLL_STUDENT, TRANSFER_STUDENT
from tests.factories import gid, make_enrollment, make_institution, make_person
from tests.people.helpers import count_rows

APPOINT_STAFF = """mutation($input: AppointStaffInput!) { appointStaff(input: $input) {
  staffPosition { id } userErrors { field code } } }"""
LINK_GUARDIAN = """mutation($input: LinkGuardianInput!) { linkGuardian(input: $input) {
  guardianship { id } userErrors { field code } } }"""
PERSON = "query($id: ID!) { node(id: $id) { ... on Person { id firstName } } }"


class TestEnrollStudentNeedsThePin:
    async def test_admin_cannot_enroll_a_stranger_by_id_alone(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a child the school admin may not read
        school = await make_institution(session)
        child = await make_person(session, birth_date=date(2018, 3, 3))
        await session.commit()
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school.id}"])
        variables = {
            "personId": gid("Person", child.id),
            "institutionId": gid("Institution", school.id),
            "entryDate": "2026-09-01",
            "gradeLevel": 1,
        }
        # when the admin enrolls the child by id, or with a wrong PIN
        by_id = await hub.data(ENROLL_STUDENT, {"input": variables}, token=token)
        wrong = await hub.data(
            ENROLL_STUDENT, {"input": {**variables, "pin": "11111111111111"}}, token=token
        )
        # then the child is "not found", nothing is written and the child stays unreadable
        for body in (by_id, wrong):
            assert [e["code"] for e in body["enrollStudent"]["userErrors"]] == ["NOT_FOUND"]
        assert await count_rows(engine, Enrollment) == 0
        assert (await hub.data(PERSON, {"id": gid("Person", child.id)}, token=token))[
            "node"
        ] is None

    async def test_admin_with_the_childs_pin_enrolls_and_then_reads_the_child(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        school = await make_institution(session)
        child = await make_person(session, birth_date=date(2018, 3, 3))
        await session.commit()
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school.id}"])
        variables = {
            "personId": gid("Person", child.id),
            "institutionId": gid("Institution", school.id),
            "entryDate": "2026-09-01",
            "gradeLevel": 3,
            "pin": child.pin,
        }
        body = await hub.data(ENROLL_STUDENT, {"input": variables}, token=token)
        assert body["enrollStudent"]["userErrors"] == []
        assert (await hub.data(PERSON, {"id": gid("Person", child.id)}, token=token))[
            "node"
        ] is not None


class TestTransferNeedsTheSourceOrThePin:
    async def test_receiving_admin_cannot_close_another_schools_enrollment_by_id(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a pupil at school A and the admin of school B
        school_a, school_b = await make_institution(session), await make_institution(session)
        pupil = await make_person(session, birth_date=date(2015, 3, 3))
        enrollment = await make_enrollment(session, person=pupil, institution=school_a)
        await session.commit()
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school_b.id}"])
        variables = {
            "enrollmentId": gid("Enrollment", enrollment.id),
            "toInstitutionId": gid("Institution", school_b.id),
            "date": "2026-01-10",
        }
        # when B transfers the pupil by enrollment id alone
        body = await hub.data(TRANSFER_STUDENT, {"input": variables}, token=token)
        # then nothing moves
        assert [e["code"] for e in body["transferStudent"]["userErrors"]] == ["NOT_FOUND"]
        assert await count_rows(engine, Enrollment, Enrollment.exit_date.is_(None)) == 1
        # and with the pupil's PIN the transfer goes through
        body = await hub.data(
            TRANSFER_STUDENT, {"input": {**variables, "pin": pupil.pin}}, token=token
        )
        assert body["transferStudent"]["userErrors"] == []
        assert await count_rows(engine, Enrollment, Enrollment.institution_id == school_b.id) == 1


class TestAppointAndLinkNeedThePin:
    async def test_admin_cannot_appoint_a_stranger_by_id(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        school = await make_institution(session)
        stranger = await make_person(session, birth_date=date(1985, 1, 1))
        await session.commit()
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school.id}"])
        variables = {
            "personId": gid("Person", stranger.id),
            "institutionId": gid("Institution", school.id),
            "role": "TEACHER",
            "startDate": "2025-09-01",
        }
        body = await hub.data(APPOINT_STAFF, {"input": variables}, token=token)
        assert [e["code"] for e in body["appointStaff"]["userErrors"]] == ["NOT_FOUND"]
        assert await count_rows(engine, StaffPosition) == 0

    async def test_admin_cannot_make_a_stranger_guardian_of_a_pupil(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a pupil of the admin's school and an adult the admin may not read
        school = await make_institution(session)
        pupil = await make_person(session, birth_date=date(2015, 3, 3))
        await make_enrollment(session, person=pupil, institution=school)
        stranger = await make_person(session, birth_date=date(1985, 1, 1))
        await session.commit()
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school.id}"])
        variables = {
            "guardianId": gid("Person", stranger.id),
            "childId": gid("Person", pupil.id),
            "kind": "LEGAL_GUARDIAN",
        }
        # when linked by id alone: refused; with the guardian's PIN: linked
        body = await hub.data(LINK_GUARDIAN, {"input": variables}, token=token)
        assert [e["code"] for e in body["linkGuardian"]["userErrors"]] == ["NOT_FOUND"]
        assert await count_rows(engine, Guardianship) == 0
        body = await hub.data(
            LINK_GUARDIAN, {"input": {**variables, "guardianPin": stranger.pin}}, token=token
        )
        assert body["linkGuardian"]["userErrors"] == []
