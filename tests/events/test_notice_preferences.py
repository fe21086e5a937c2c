"""Notice preferences (issue 18; domain.md K5): a person sets their own language and contacts;
a token naming a person the register does not hold gets the unknown-id answer, not a fault."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import NoticePreference
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import make_family

SET = """
mutation Prefs($input: SetNoticePreferencesInput!) {
  setNoticePreferences(input: $input) {
    noticePreferences { language email phone }
    userErrors { field code message }
  }
}
"""
READ = "{ noticePreferences { language email phone } }"


async def preferences_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(NoticePreference)) or 0)


async def test_a_guardian_sets_and_reads_their_own_preferences(
    hub: Hub, session: AsyncSession
) -> None:
    # given a mother in the register
    mother, _ = await make_family(session)
    await session.commit()
    token = hub.token(Role.GUARDIAN, person_id=mother.id)

    # when she sets her preferences
    body = await hub.data(
        SET, {"input": {"language": "RU", "email": "mama@example.kg"}}, token=token
    )

    # then they are kept, and read back as hers
    wanted = {"language": "RU", "email": "mama@example.kg", "phone": None}
    assert body["setNoticePreferences"] == {"noticePreferences": wanted, "userErrors": []}
    assert (await hub.data(READ, token=token))["noticePreferences"] == wanted


async def test_a_token_naming_a_person_not_in_the_register_is_not_found(
    hub: Hub, session: AsyncSession, engine: AsyncEngine
) -> None:
    # given a guardian's token whose person the register does not hold
    mother, _ = await make_family(session)
    await session.commit()
    token = hub.token(Role.GUARDIAN, person_id=mother.id + 1_000_000)

    # when it sets notice preferences
    body = await hub.gql(SET, {"input": {"language": "KY"}}, token=token)

    # then the answer is the unknown-id one (no foreign-key fault) and nothing is written
    assert "errors" not in body, body["errors"]
    assert body["data"]["setNoticePreferences"] == {
        "noticePreferences": None,
        "userErrors": [{"field": None, "code": "NOT_FOUND", "message": "The person was not found"}],
    }
    assert await preferences_count(engine) == 0
