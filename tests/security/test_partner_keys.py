"""Data partners' API keys: made and revoked by the ministry, hashed, scoped to a subgraph,
personal data only when granted (and then audited)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import ApiKey, AuditEntry
from resolvers.access import Role
from resolvers.access.keys import hash_secret
from tests.conftest import Hub
from tests.factories import (
    BISHKEK,
    CHUY,
    CHUY_SOKULUK,
    gid,
    make_api_key,
    make_enrollment,
    make_institution,
    make_person,
)
from tests.people.helpers import count_rows, error_codes, user_error_codes
from tests.security.conftest import with_key

CREATE_API_KEY = """
mutation CreateApiKey($input: CreateApiKeyInput!) {
  createApiKey(input: $input) {
    key
    apiKey { id prefix name allowedFields personalData pointsPerHour revokedAt regions { code } }
    userErrors { field code message }
  }
}
"""

REVOKE_API_KEY = """
mutation RevokeApiKey($id: ID!) {
  revokeApiKey(input: { id: $id }) { apiKey { revokedAt } userErrors { code } }
}
"""

API_KEYS = "query ApiKeys { apiKeys(first: 10) { nodes { prefix name } } }"

SCHOOLS = "query Schools { institutions(first: 5) { nodes { name } } }"

PUPIL_SEX = "query PupilSex { persons(first: 10) { nodes { id sex } } }"

PUPIL_NAMES = "query PupilNames { persons(first: 10) { nodes { id lastName } } }"

NAMES_BY_FRAGMENT = """
query NamesByFragment { persons(first: 10) { nodes { ...Who } } }
fragment Who on Person { sex birthDate }
"""

NAMES_BY_NODE = """
query NamesByNode($id: ID!) { node(id: $id) { ... on Person { fullName } } }
"""

NAMES_NESTED = """
query NamesNested {
  institutions(first: 5) { nodes { enrollments(first: 5) { nodes { person { pin } } } } }
}
"""

SEARCH_BY_PIN = """
query SearchByPin($filter: PersonFilter) { persons(first: 1, filter: $filter) { totalCount } }
"""

PARTNER_FIELDS = [
    "Query.institutions",
    "Query.persons",
    "Institution.*",
    "Person.*",
    "Enrollment.*",
]


class TestCreateApiKey:
    async def test_ministry_creates_a_key_shown_once_and_stored_hashed(
        self, hub: Hub, ministry: str, engine: AsyncEngine, pepper: bytes
    ) -> None:
        # given
        variables = {
            "input": {
                "name": "Statistics office",
                "allowedFields": PARTNER_FIELDS,
                "regionIds": [gid("Region", BISHKEK)],
                "pointsPerHour": 900,
            }
        }

        # when
        payload = (await hub.data(CREATE_API_KEY, variables, token=ministry))["createApiKey"]

        # then
        assert payload["userErrors"] == []
        key, made = payload["key"], payload["apiKey"]
        scheme, prefix, secret = key.split("_", 2)
        assert (scheme, prefix) == ("bk", made["prefix"])
        assert made["personalData"] is False
        assert made["regions"] == [{"code": "KG-GB"}]
        async with engine.connect() as conn:
            stored = (await conn.execute(select(ApiKey.secret_hash, ApiKey.prefix))).one()
        assert stored.secret_hash == hash_secret(pepper, secret)
        assert secret not in stored.secret_hash
        listed = await hub.data(API_KEYS, token=ministry)
        assert listed["apiKeys"]["nodes"] == [{"prefix": prefix, "name": "Statistics office"}]

    async def test_the_new_key_works_at_once(self, hub: Hub, ministry: str) -> None:
        # given
        variables = {"input": {"name": "Registry", "allowedFields": PARTNER_FIELDS}}
        key = (await hub.data(CREATE_API_KEY, variables, token=ministry))["createApiKey"]["key"]

        # when
        response = await with_key(hub, key, "{ viewer { role subject } }")

        # then
        assert response.json()["data"]["viewer"]["role"] == "PARTNER"

    @pytest.mark.parametrize("role", [Role.REGION_OFFICER, Role.SCHOOL_ADMIN, Role.AUDITOR])
    async def test_only_the_ministry_creates_keys(
        self, hub: Hub, engine: AsyncEngine, role: Role
    ) -> None:
        # given
        scopes = {Role.REGION_OFFICER: ["region:8"], Role.SCHOOL_ADMIN: ["institution:1"]}
        token = hub.token(role, scopes=scopes.get(role))
        variables = {"input": {"name": "Mine", "allowedFields": PARTNER_FIELDS}}

        # when
        payload = (await hub.data(CREATE_API_KEY, variables, token=token))["createApiKey"]

        # then
        assert (payload["key"], user_error_codes(payload)) == (None, ["FORBIDDEN"])
        assert await count_rows(engine, ApiKey) == 0

    async def test_scope_naming_unknown_fields_is_refused(
        self, hub: Hub, ministry: str, engine: AsyncEngine
    ) -> None:
        # when
        variables = {"input": {"name": "Typo", "allowedFields": ["Persn.*", "Query.persons"]}}
        payload = (await hub.data(CREATE_API_KEY, variables, token=ministry))["createApiKey"]

        # then
        assert user_error_codes(payload) == ["INVALID_SCOPE"]
        assert payload["userErrors"][0]["field"] == "allowedFields"
        assert await count_rows(engine, ApiKey) == 0

    async def test_partners_cannot_list_keys(
        self, hub: Hub, session: AsyncSession, pepper: bytes
    ) -> None:
        # given
        _, key = await make_api_key(
            session, pepper=pepper, allowed_fields=["Query.apiKeys", "ApiKey.*"]
        )
        await session.commit()

        # when
        body = (await with_key(hub, key, API_KEYS)).json()

        # then
        assert error_codes(body) == ["FORBIDDEN"]


class TestRevokedAndBadKeys:
    async def test_revoked_key_is_refused_at_once(
        self, hub: Hub, ministry: str, session: AsyncSession, pepper: bytes
    ) -> None:
        # given a key that works
        row, key = await make_api_key(session, pepper=pepper, allowed_fields=PARTNER_FIELDS)
        await session.commit()
        assert (await with_key(hub, key, SCHOOLS)).status_code == 200

        # when the ministry revokes it
        payload = (await hub.data(REVOKE_API_KEY, {"id": gid("ApiKey", row.id)}, token=ministry))[
            "revokeApiKey"
        ]

        # then
        assert payload["userErrors"] == []
        assert payload["apiKey"]["revokedAt"]
        response = await with_key(hub, key, SCHOOLS)
        assert response.status_code == 401
        assert error_codes(response.json()) == ["UNAUTHENTICATED"]
        again = (await hub.data(REVOKE_API_KEY, {"id": gid("ApiKey", row.id)}, token=ministry))[
            "revokeApiKey"
        ]
        assert user_error_codes(again) == ["ALREADY_REVOKED"]

    async def test_expired_wrong_and_malformed_keys_are_unauthenticated(
        self, hub: Hub, session: AsyncSession, pepper: bytes
    ) -> None:
        # given
        _, expired = await make_api_key(
            session,
            pepper=pepper,
            allowed_fields=PARTNER_FIELDS,
            expires_at=datetime.now(UTC) - timedelta(minutes=1),
        )
        _, good = await make_api_key(session, pepper=pepper, allowed_fields=PARTNER_FIELDS)
        await session.commit()
        prefix = good.split("_")[1]
        keys = {
            "expired": expired,
            "wrong-secret": f"bk_{prefix}_{'x' * 43}",
            "unknown-prefix": f"bk_zzzzzzzz_{'x' * 43}",
            "malformed": "bk_short",
            "sql": "bk_' OR 1=1 --_aaaaaaaaaaaaaaaaaaaaaaaa",
        }

        # when
        answers = {}
        for name, key in keys.items():
            for header in ("authorization", "x-api-key"):
                response = await with_key(hub, key, SCHOOLS, header=header)
                answers[(name, header)] = (response.status_code, *error_codes(response.json()))

        # then
        assert set(answers.values()) == {(401, "UNAUTHENTICATED")}

    async def test_a_token_cannot_claim_the_partner_role(self, hub: Hub) -> None:
        # given a correctly signed token naming the partner role
        token = hub.token(Role.MINISTRY)
        import jwt

        claims = jwt.decode(token, options={"verify_signature": False})
        forged = jwt.encode(
            {**claims, "role": "partner"},
            hub.keyring.keys[hub.keyring.active],
            algorithm="HS256",
            headers={"kid": hub.keyring.active},
        )

        # when
        response = await hub.post(SCHOOLS, token=forged)

        # then
        assert response.status_code == 401

    async def test_token_and_key_together_are_refused(
        self, hub: Hub, ministry: str, session: AsyncSession, pepper: bytes
    ) -> None:
        _, key = await make_api_key(session, pepper=pepper, allowed_fields=PARTNER_FIELDS)
        await session.commit()
        response = await hub.post(
            SCHOOLS, headers={"authorization": f"Bearer {ministry}", "x-api-key": key}
        )
        assert response.status_code == 401


class TestPartnerSubgraph:
    @pytest.fixture
    async def pupil(self, session: AsyncSession) -> int:
        school = await make_institution(session)
        pupil = await make_person(session)
        await make_enrollment(session, person=pupil, institution=school)
        await session.commit()
        return pupil.id

    async def test_partner_reads_non_personal_fields_of_its_subgraph(
        self, hub: Hub, session: AsyncSession, pepper: bytes, pupil: int
    ) -> None:
        # given
        _, key = await make_api_key(session, pepper=pepper, allowed_fields=PARTNER_FIELDS)
        await session.commit()

        # when
        body = (await with_key(hub, key, PUPIL_SEX)).json()

        # then
        assert "errors" not in body, body
        assert body["data"]["persons"]["nodes"] == [{"id": gid("Person", pupil), "sex": "FEMALE"}]

    @pytest.mark.parametrize(
        ("query", "variables"),
        [
            (PUPIL_NAMES, None),
            (NAMES_BY_FRAGMENT, None),
            (NAMES_BY_NODE, {"id": "UGVyc29uOjE"}),
            (NAMES_NESTED, None),
            (SEARCH_BY_PIN, {"filter": {"pin": "21705201600001"}}),
            ('{ persons(first: 1, filter: { name: "Ас" }) { totalCount } }', None),
        ],
        ids=["field", "fragment", "node", "nested", "pin-filter-variable", "name-filter-literal"],
    )
    async def test_personal_data_without_grant_is_a_typed_error_never_a_leak(
        self,
        hub: Hub,
        session: AsyncSession,
        pepper: bytes,
        pupil: int,
        query: str,
        variables: dict[str, object] | None,
    ) -> None:
        # given
        _, key = await make_api_key(session, pepper=pepper, allowed_fields=PARTNER_FIELDS)
        await session.commit()

        # when
        body = (await with_key(hub, key, query, variables)).json()

        # then
        assert body["data"] is None
        assert error_codes(body) == ["PERSONAL_DATA_NOT_GRANTED"]

    async def test_fields_outside_the_subgraph_are_refused(
        self, hub: Hub, session: AsyncSession, pepper: bytes
    ) -> None:
        # given a key for the institution registry only
        _, key = await make_api_key(
            session, pepper=pepper, allowed_fields=["Query.institutions", "Institution.name"]
        )
        await session.commit()

        # when
        allowed = (await with_key(hub, key, SCHOOLS)).json()
        outside = (await with_key(hub, key, PUPIL_SEX)).json()
        other_field = (
            await with_key(hub, key, "{ institutions(first: 1) { nodes { legalId } } }")
        ).json()

        # then
        assert "errors" not in allowed
        assert error_codes(outside) == ["FIELD_NOT_IN_SCOPE"]
        assert outside["errors"][0]["extensions"]["fields"] == ["Person.sex", "Query.persons"]
        assert error_codes(other_field) == ["FIELD_NOT_IN_SCOPE"]

    async def test_granted_personal_reads_are_audited(
        self, hub: Hub, session: AsyncSession, pepper: bytes, engine: AsyncEngine, pupil: int
    ) -> None:
        # given
        row, key = await make_api_key(
            session, pepper=pepper, allowed_fields=PARTNER_FIELDS, personal_data=True
        )
        await session.commit()

        # when
        response = await hub.post(
            SEARCH_BY_PIN.replace("totalCount", "totalCount nodes { lastName }"),
            {"filter": {"pin": "21705201600001"}},
            headers={"x-api-key": key, "x-request-id": "partner-req-1"},
        )

        # then
        assert "errors" not in response.json(), response.json()
        async with engine.connect() as conn:
            audit = (
                await conn.execute(
                    select(AuditEntry.__table__).where(
                        AuditEntry.operation == "access.personal_read"
                    )
                )
            ).all()
        assert len(audit) == 1
        entry = audit[0]
        assert (entry.actor, entry.api_key_prefix, entry.role) == (
            f"key:{row.prefix}",
            row.prefix,
            "partner",
        )
        assert (entry.operation_name, entry.request_id) == ("SearchByPin", "partner-req-1")
        assert entry.details == {"fields": ["Person.lastName", "PersonFilter.pin"]}
        assert entry.variables == {"filter": {"pin": "[personal]"}}

    async def test_regional_partner_reads_rows_of_its_regions_only(
        self, hub: Hub, session: AsyncSession, pepper: bytes
    ) -> None:
        # given a pupil in Bishkek and one in Chuy, and a key for Chuy
        bishkek_school = await make_institution(session)
        chuy_school = await make_institution(session, region_id=CHUY, district_id=CHUY_SOKULUK)
        here, there = await make_person(session), await make_person(session)
        await make_enrollment(session, person=here, institution=bishkek_school)
        await make_enrollment(session, person=there, institution=chuy_school)
        _, key = await make_api_key(
            session, pepper=pepper, allowed_fields=PARTNER_FIELDS, region_ids=[CHUY]
        )
        await session.commit()

        # when
        body = (await with_key(hub, key, PUPIL_SEX)).json()
        by_node = (
            await with_key(
                hub, key, "query($id: ID!) { node(id: $id) { id } }", {"id": gid("Person", here.id)}
            )
        ).json()

        # then
        assert [n["id"] for n in body["data"]["persons"]["nodes"]] == [gid("Person", there.id)]
        assert by_node["data"]["node"] is None


class TestPartnerNodeLookups:
    async def test_node_of_a_type_outside_the_subgraph_is_null_even_when_it_exists(
        self, hub: Hub, session: AsyncSession, pepper: bytes
    ) -> None:
        # given an enrollment, and a key whose subgraph names persons but not enrollments
        school = await make_institution(session)
        pupil = await make_person(session)
        enrollment = await make_enrollment(session, person=pupil, institution=school)
        fields = ["Query.persons", "Person.*"]
        _, key = await make_api_key(session, pepper=pepper, allowed_fields=fields)
        await session.commit()
        query = "query($id: ID!) { node(id: $id) { id } }"
        # when the partner looks the enrollment up by id
        body = (await with_key(hub, key, query, {"id": gid("Enrollment", enrollment.id)})).json()
        # then it learns nothing, not even that the enrollment exists
        assert body["data"] == {"node": None}
        # while a person of its subgraph is found
        body = (await with_key(hub, key, query, {"id": gid("Person", pupil.id)})).json()
        assert body["data"] == {"node": {"id": gid("Person", pupil.id)}}
