"""linkGuardian: who may be whose guardian."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import Guardianship, Outcome, Person
from tests.conftest import Hub
from tests.factories import gid, make_guardianship, make_institution, make_person
from tests.people.helpers import audit_entries, count_rows, outbox_topics, user_error_codes

LINK_GUARDIAN = """
mutation LinkGuardian($input: LinkGuardianInput!) {
  linkGuardian(input: $input) {
    guardianship {
      id kind validFrom validTo
      guardian { id } child { id }
    }
    userErrors { field code message }
  }
}
"""


async def link(
    hub: Hub, token: str, guardian_id: str, child_id: str, kind: str = "FATHER"
) -> dict[str, Any]:
    data = await hub.data(
        LINK_GUARDIAN,
        {"input": {"guardianId": guardian_id, "childId": child_id, "kind": kind}},
        token=token,
    )
    payload: dict[str, Any] = data["linkGuardian"]
    return payload


async def parent_and_child(session: AsyncSession) -> tuple[Person, Person]:
    parent = await make_person(session, birth_date=date(1985, 6, 1), first_name="Марат")
    child = await make_person(session, birth_date=date(2015, 6, 1), first_name="Айбек")
    await session.commit()
    return parent, child


class TestLinkGuardian:
    async def test_guardian_is_linked_to_child(
        self, hub: Hub, ministry: str, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        parent, child = await parent_and_child(session)

        # when
        payload = await link(hub, ministry, gid("Person", parent.id), gid("Person", child.id))

        # then
        assert payload["userErrors"] == []
        link_ = payload["guardianship"]
        assert link_["kind"] == "FATHER"
        assert link_["validTo"] is None
        assert link_["guardian"] == {"id": gid("Person", parent.id)}
        assert link_["child"] == {"id": gid("Person", child.id)}
        assert await count_rows(engine, Guardianship) == 1
        assert await outbox_topics(engine) == ["people.guardian_linked"]

    async def test_child_cannot_be_their_own_guardian(
        self, hub: Hub, ministry: str, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        _, child = await parent_and_child(session)

        # when
        payload = await link(hub, ministry, gid("Person", child.id), gid("Person", child.id))

        # then
        assert user_error_codes(payload) == ["SELF_GUARDIANSHIP"]
        assert await count_rows(engine, Guardianship) == 0
        audit = await audit_entries(engine, "people.link_guardian")
        assert [(a.outcome, a.error_codes) for a in audit] == [
            (Outcome.REJECTED, ["SELF_GUARDIANSHIP"])
        ]

    async def test_second_active_link_of_the_same_pair_is_refused(
        self, hub: Hub, ministry: str, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        parent, child = await parent_and_child(session)
        await make_guardianship(session, guardian=parent, child=child)
        await session.commit()

        # when
        payload = await link(hub, ministry, gid("Person", parent.id), gid("Person", child.id))

        # then
        assert user_error_codes(payload) == ["ALREADY_LINKED"]
        assert await count_rows(engine, Guardianship) == 1

    async def test_guardian_younger_than_child_is_invalid(
        self, hub: Hub, ministry: str, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        parent, child = await parent_and_child(session)

        # when: the roles are swapped
        payload = await link(hub, ministry, gid("Person", child.id), gid("Person", parent.id))

        # then
        assert user_error_codes(payload) == ["INVALID_INPUT"]
        assert payload["userErrors"][0]["field"] == "guardianId"
        assert await count_rows(engine, Guardianship) == 0

    @pytest.mark.parametrize("end", ["guardian", "child"])
    async def test_unknown_person_is_not_found(
        self, hub: Hub, ministry: str, session: AsyncSession, engine: AsyncEngine, end: str
    ) -> None:
        # given
        parent, child = await parent_and_child(session)
        ids = {"guardian": gid("Person", parent.id), "child": gid("Person", child.id)}
        ids[end] = gid("Person", 987654)

        # when
        payload = await link(hub, ministry, ids["guardian"], ids["child"])

        # then
        assert user_error_codes(payload) == ["NOT_FOUND"]
        assert payload["userErrors"][0]["field"] == f"{end}Id"
        assert await count_rows(engine, Guardianship) == 0

    async def test_id_of_another_type_is_invalid(
        self, hub: Hub, ministry: str, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        _, child = await parent_and_child(session)
        school = await make_institution(session)
        await session.commit()

        # when
        payload = await link(hub, ministry, gid("Institution", school.id), gid("Person", child.id))

        # then
        assert user_error_codes(payload) == ["INVALID_ID"]
        assert payload["userErrors"][0]["field"] == "guardianId"
        assert await count_rows(engine, Guardianship) == 0

    async def test_garbage_id_is_invalid(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        # given
        _, child = await parent_and_child(session)

        # when
        payload = await link(hub, ministry, "not-an-id!", gid("Person", child.id))

        # then
        assert user_error_codes(payload) == ["INVALID_ID"]
