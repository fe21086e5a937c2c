"""The hub as a federation subgraph, in process: `_service { sdl }` and `_entities` under the
same row rules as `node`, a batch of persons in one statement."""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import Person, Sex
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import gid, make_institution, make_person

SERVICE = "{ _service { sdl } }"
ENTITIES = """
query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Person { id firstName }
    ... on Institution { id name legalId }
    ... on Region { code }
  }
}
"""


class TestSubgraph:
    async def test_service_sdl_declares_the_keys(self, hub: Hub) -> None:
        sdl = (await hub.data(SERVICE))["_service"]["sdl"]
        assert 'type Person implements Node @key(fields: "id"' in sdl
        assert '@key(fields: "legalId"' in sdl
        assert "specs.apollo.dev/federation/v2.5" in sdl

    async def test_institutions_resolve_by_id_and_by_legal_id(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        school = await make_institution(session, legal_id="01234567890123")
        await session.commit()
        body = await hub.data(
            ENTITIES,
            {
                "representations": [
                    {"__typename": "Institution", "id": gid("Institution", school.id)},
                    {"__typename": "Institution", "legalId": "01234567890123"},
                    {"__typename": "Institution", "legalId": "99999999999999"},
                    {"__typename": "Region", "id": gid("Region", 8)},
                ]
            },
        )
        found = body["_entities"]
        assert found[0]["name"] == found[1]["name"] == school.name
        assert found[2] is None
        assert found[3]["code"] == "KG-GB"

    async def test_a_person_is_read_only_as_node_would_read_it(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given: a child and another family's guardian
        child = await make_person(session)
        stranger = await make_person(session, sex=Sex.MALE)
        await session.commit()
        representation = [{"__typename": "Person", "id": gid("Person", child.id)}]
        # then: anonymous callers and strangers get null, the ministry the person
        anonymous = await hub.gql(ENTITIES, {"representations": representation})
        assert anonymous.get("data") is None or anonymous["data"]["_entities"] == [None]
        as_stranger = await hub.gql(
            ENTITIES,
            {"representations": representation},
            token=hub.token(Role.GUARDIAN, person_id=stranger.id),
        )
        assert as_stranger["data"]["_entities"] == [None]
        ministry = await hub.data(
            ENTITIES, {"representations": representation}, token=hub.token(Role.MINISTRY)
        )
        assert ministry["_entities"][0]["firstName"] == child.first_name

    async def test_an_id_of_another_type_resolves_to_nothing(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        school = await make_institution(session)
        await session.commit()
        body = await hub.data(
            ENTITIES,
            {"representations": [{"__typename": "Person", "id": gid("Institution", school.id)}]},
            token=hub.token(Role.MINISTRY),
        )
        assert body["_entities"] == [None]

    async def test_one_hundred_persons_cost_one_statement(
        self, resolver_hub: Hub, session: AsyncSession
    ) -> None:
        ids = list(
            await session.scalars(
                insert(Person)
                .values(
                    [
                        {
                            "first_name": f"Бала{i}",
                            "last_name": "Асанов",
                            "sex": Sex.MALE,
                            "birth_date": date(2015, 1, 1),
                        }
                        for i in range(100)
                    ]
                )
                .returning(Person.id)
            )
        )
        await session.commit()
        representations = [{"__typename": "Person", "id": gid("Person", i)} for i in ids]
        resolver_hub.counter.reset()
        body = await resolver_hub.data(
            ENTITIES,
            {"representations": representations},
            token=resolver_hub.token(Role.MINISTRY),
        )
        assert len([e for e in body["_entities"] if e]) == 100
        statements = resolver_hub.counter.statements or []
        person_reads = [s for s in statements if "FROM person" in s]
        assert len(person_reads) == 1, resolver_hub.counter.statements
