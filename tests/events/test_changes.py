"""The change feed (issue 18): changes of the types a partner may read in commit order,
resumable by cursor (OneRoster's "changed since"); a cursor older than the retention answers
CURSOR_EXPIRED; retention prunes only what every consumer has passed."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from resolvers.access import Role
from resolvers.access.keys import load_pepper
from resolvers.events import retention
from resolvers.relay import encode_id
from tests.conftest import Hub
from tests.factories import make_api_key
from tests.institutions.test_institution_registry import CREATE_INSTITUTION, school_input

FEED = """
query Feed($since: String, $types: [String!], $first: Int!) {
  changes(since: $since, types: $types, first: $first) {
    changes { cursor operation typeName objectId eventType node { id ... on Institution { name } } }
    endCursor hasMore
  }
}
"""
CURSOR = "query { changesCursor }"


async def partner_key(hub: Hub, session: AsyncSession, fields: list[str]) -> dict[str, str]:
    _, key = await make_api_key(session, pepper=load_pepper(hub.settings), allowed_fields=fields)
    await session.commit()
    return {"X-Api-Key": key}


async def school(hub: Hub, name: str) -> str:
    body = await hub.data(
        CREATE_INSTITUTION,
        {"input": school_input(name=name, legalId=None)},
        token=hub.token(Role.MINISTRY),
    )
    created: str = body["createInstitution"]["institution"]["id"]
    return created


async def feed(hub: Hub, headers: dict[str, str], **variables: object) -> dict:
    response = await hub.client.post(
        "/graphql", json={"query": FEED, "variables": {"first": 10, **variables}}, headers=headers
    )
    return response.json()


class TestChanges:
    async def test_a_partner_pulls_changes_since_its_cursor_in_commit_order(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a partner that took the cursor of now, and two schools registered after
        key = await partner_key(hub, session, ["Institution.id", "Institution.name"])
        start = (await hub.client.post("/graphql", json={"query": CURSOR}, headers=key)).json()
        cursor = start["data"]["changesCursor"]
        first = await school(hub, "Мектеп №1")
        second = await school(hub, "Мектеп №2")
        # when it pulls one change at a time
        page1 = (await feed(hub, key, since=cursor, first=1))["data"]["changes"]
        page2 = (await feed(hub, key, since=page1["endCursor"], first=1))["data"]["changes"]
        page3 = (await feed(hub, key, since=page2["endCursor"], first=1))["data"]["changes"]
        # then it gets them in order, with the objects as they are now, and then nothing
        assert [c["objectId"] for c in page1["changes"]] == [first]
        assert page1["hasMore"] is True
        change = page2["changes"][0]
        assert change["objectId"] == second
        assert change["operation"] == "CREATED"
        assert change["typeName"] == "Institution"
        assert change["eventType"] == "institutions.institution_created"
        assert change["node"] == {"id": second, "name": "Мектеп №2"}
        assert page3["changes"] == []
        assert page3["hasMore"] is False

    async def test_types_outside_the_keys_subgraph_are_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        key = await partner_key(hub, session, ["Institution.id", "Institution.name"])
        body = await feed(hub, key, types=["Licence"])
        assert body["errors"][0]["extensions"]["code"] == "FIELD_NOT_IN_SCOPE"
        assert body["errors"][0]["message"] == "Outside this API key's scope: Licence"

    async def test_only_partners_and_the_ministry_read_changes(self, hub: Hub) -> None:
        guardian = hub.token(Role.GUARDIAN, person_id=1)
        body = await hub.gql(FEED, {"first": 1}, token=guardian)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    async def test_a_cursor_older_than_the_retention_says_to_resync(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a partner's cursor, then a change, and the events grown older than retention
        key = await partner_key(hub, session, ["Institution.id", "Institution.name"])
        start = (await hub.client.post("/graphql", json={"query": CURSOR}, headers=key)).json()
        await school(hub, "Мектеп №3")
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE outbox SET at = now() - interval '40 days'"))
        # when retention prunes them
        pruned = await retention.prune(engine, retention_days=30)
        assert pruned.events >= 1
        # then the old cursor answers CURSOR_EXPIRED, and a new one works
        body = await feed(hub, key, since=start["data"]["changesCursor"])
        assert body["errors"][0]["extensions"]["code"] == "CURSOR_EXPIRED"
        fresh = (await hub.client.post("/graphql", json={"query": CURSOR}, headers=key)).json()
        assert "errors" not in await feed(hub, key, since=fresh["data"]["changesCursor"])

    async def test_a_deletion_names_the_object_gone(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a partner's cursor, then an institution deleted (no row left to read)
        key = await partner_key(hub, session, ["Institution.id", "Institution.name"])
        start = (await hub.client.post("/graphql", json={"query": CURSOR}, headers=key)).json()
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO outbox (topic, aggregate_type, aggregate_id, payload) "
                    "VALUES ('institutions.institution_deleted', 'Institution', 987654, '{}')"
                )
            )
        # when it pulls, then the deletion comes with the object's ID and no node
        body = await feed(hub, key, since=start["data"]["changesCursor"])
        [change] = body["data"]["changes"]["changes"]
        assert change["operation"] == "DELETED"
        assert change["objectId"] == encode_id("Institution", 987654)
        assert change["node"] is None

    async def test_a_bad_cursor_is_refused(self, hub: Hub, session: AsyncSession) -> None:
        key = await partner_key(hub, session, ["Institution.id", "Institution.name"])
        body = await feed(hub, key, since="bm90LWEtY3Vyc29y")
        assert body["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"


class TestRetention:
    async def test_events_a_consumer_has_not_passed_are_kept(self, engine: AsyncEngine) -> None:
        # given old events, and a consumer still before them
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO outbox (topic, aggregate_type, aggregate_id, payload, at) "
                    "SELECT 'tests.old', 'Test', g, '{}', now() - interval '90 days' "
                    "FROM generate_series(1, 5) g"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO event_consumer (name, after_txid, after_id) SELECT 'behind', 0, 0"
                )
            )
        # when retention runs, then nothing goes
        assert (await retention.prune(engine, retention_days=30)).events == 0
        # and once the consumer has passed them, they go
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE event_consumer SET after_txid = (SELECT max(txid) FROM outbox), "
                    "after_id = (SELECT max(id) FROM outbox)"
                )
            )
        assert (await retention.prune(engine, retention_days=30)).events == 5
