"""appointStaff: posts at institutions the caller manages."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import StaffPosition
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import gid, make_institution, make_person
from tests.people.helpers import count_rows, outbox_topics, user_error_codes

APPOINT_STAFF = """
mutation AppointStaff($input: AppointStaffInput!) {
  appointStaff(input: $input) {
    staffPosition { id role subject rate startDate person { id } institution { id } }
    userErrors { field code }
  }
}
"""


async def appoint(hub: Hub, token: str, **values: Any) -> dict[str, Any]:
    data = await hub.data(APPOINT_STAFF, {"input": values}, token=token)
    payload: dict[str, Any] = data["appointStaff"]
    return payload


class TestAppointStaff:
    async def test_school_admin_appoints_a_teacher_at_their_school(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        school = await make_institution(session)
        teacher = await make_person(session, birth_date=date(1990, 2, 2))
        await session.commit()
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school.id}"])

        # when
        payload = await appoint(
            hub,
            token,
            personId=gid("Person", teacher.id),
            institutionId=gid("Institution", school.id),
            role="TEACHER",
            subject="Математика",
            rate=0.5,
            startDate="2025-09-01",
            pin=teacher.pin,
        )

        # then
        assert payload["userErrors"] == []
        post = payload["staffPosition"]
        assert (post["role"], post["subject"], post["rate"]) == ("TEACHER", "Математика", 0.5)
        assert post["person"] == {"id": gid("Person", teacher.id)}
        assert post["institution"] == {"id": gid("Institution", school.id)}
        assert await outbox_topics(engine) == ["people.staff_appointed"]

    async def test_school_admin_cannot_appoint_at_another_school(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        own, other = await make_institution(session), await make_institution(session)
        teacher = await make_person(session, birth_date=date(1990, 2, 2))
        await session.commit()
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{own.id}"])

        # when
        payload = await appoint(
            hub,
            token,
            personId=gid("Person", teacher.id),
            institutionId=gid("Institution", other.id),
            role="TEACHER",
            startDate="2025-09-01",
        )

        # then
        assert user_error_codes(payload) == ["FORBIDDEN"]
        assert await count_rows(engine, StaffPosition) == 0

    async def test_rate_above_two_is_invalid(
        self, hub: Hub, ministry: str, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        school = await make_institution(session)
        teacher = await make_person(session, birth_date=date(1990, 2, 2))
        await session.commit()

        # when
        payload = await appoint(
            hub,
            ministry,
            personId=gid("Person", teacher.id),
            institutionId=gid("Institution", school.id),
            role="TEACHER",
            rate=2.5,
            startDate="2025-09-01",
        )

        # then
        assert user_error_codes(payload) == ["INVALID_INPUT"]
        assert payload["userErrors"][0]["field"] == "rate"
        assert await count_rows(engine, StaffPosition) == 0
