"""A partner key's OneRoster write grant (issue 15): the ministry grants a key the writing of
some schools' gradebooks, sees the grant on the key, and cannot grant it for an institution
that is unknown or not a school."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import ApiKey, InstitutionKind
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import gid, make_institution
from tests.people.helpers import count_rows

CREATE_API_KEY = """
mutation CreateApiKey($input: CreateApiKeyInput!) {
  createApiKey(input: $input) {
    apiKey { id onerosterWriteInstitutions { id name } }
    userErrors { field code message }
  }
}
"""
API_KEYS = """query ApiKeys { apiKeys(first: 10) {
  nodes { name onerosterWriteInstitutions { id } } } }"""
KEY_BY_NODE = """query Key($id: ID!) { node(id: $id) {
  ... on ApiKey { onerosterWriteInstitutions { id } } } }"""
WRITER = {"allowedFields": ["Mark.*", "ClassGroup.*", "Person.*"], "personalData": True}


class TestTheGrantOnTheKey:
    async def test_the_ministry_sees_which_schools_a_key_writes(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        # given two schools
        first, second = await make_institution(session), await make_institution(session)
        await session.commit()
        schools = sorted([gid("Institution", first.id), gid("Institution", second.id)])
        # when the ministry makes a key writing both, and one writing nothing
        made = await hub.data(
            CREATE_API_KEY,
            {"input": WRITER | {"name": "LMS vendor", "onerosterWriteInstitutionIds": schools}},
            token=ministry,
        )
        await hub.data(CREATE_API_KEY, {"input": WRITER | {"name": "Reader"}}, token=ministry)
        # then the new key, the list and the node show the grant (the reader's is empty)
        key = made["createApiKey"]["apiKey"]
        assert sorted(i["id"] for i in key["onerosterWriteInstitutions"]) == schools
        assert {i["name"] for i in key["onerosterWriteInstitutions"]} == {first.name, second.name}
        listed = (await hub.data(API_KEYS, token=ministry))["apiKeys"]["nodes"]
        grants = {
            k["name"]: sorted(i["id"] for i in k["onerosterWriteInstitutions"]) for k in listed
        }
        assert grants == {"LMS vendor": schools, "Reader": []}
        node = await hub.data(KEY_BY_NODE, {"id": key["id"]}, token=ministry)
        assert sorted(i["id"] for i in node["node"]["onerosterWriteInstitutions"]) == schools
        # and nobody else reads keys (the node is hidden from a region's officer)
        officer = hub.token(Role.REGION_OFFICER, scopes=["region:1"])
        hidden = await hub.gql(KEY_BY_NODE, {"id": key["id"]}, token=officer)
        assert hidden["data"]["node"] is None


class TestRefusedGrants:
    async def test_an_institution_that_is_not_a_school_is_refused_nothing_written(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine, ministry: str
    ) -> None:
        school = await make_institution(session)
        college = await make_institution(session, kind=InstitutionKind.COLLEGE)
        await session.commit()
        ids = [gid("Institution", school.id), gid("Institution", college.id)]
        data = await hub.data(
            CREATE_API_KEY,
            {"input": WRITER | {"name": "LMS vendor", "onerosterWriteInstitutionIds": ids}},
            token=ministry,
        )
        (error,) = data["createApiKey"]["userErrors"]
        assert (error["field"], error["code"]) == ("onerosterWriteInstitutionIds", "INVALID_SCOPE")
        assert f"not a school: {college.id} (college)" in error["message"]
        assert data["createApiKey"]["apiKey"] is None
        assert await count_rows(engine, ApiKey) == 0

    async def test_an_unknown_institution_is_refused_nothing_written(
        self, hub: Hub, engine: AsyncEngine, ministry: str
    ) -> None:
        unknown = gid("Institution", 999_999_999)
        data = await hub.data(
            CREATE_API_KEY,
            {"input": WRITER | {"name": "LMS vendor", "onerosterWriteInstitutionIds": [unknown]}},
            token=ministry,
        )
        (error,) = data["createApiKey"]["userErrors"]
        assert (error["field"], error["code"]) == ("onerosterWriteInstitutionIds", "NOT_FOUND")
        assert await count_rows(engine, ApiKey) == 0
