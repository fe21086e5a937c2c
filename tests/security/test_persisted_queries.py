"""Persisted queries: Apollo's automatic protocol (hashes kept in PostgreSQL for every
worker), and allow-list mode in which portal clients run only the portals' operations."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from resolvers.access import Role
from tests.conftest import Hub
from tests.people.helpers import error_codes
from tests.security.conftest import HubMaker

PORTALS = Path(__file__).resolve().parents[2] / "portals"
LISTED = (PORTALS / "public" / "Regions.graphql").read_text()
UNLISTED = "query Mine { regions(first: 3) { nodes { code nameEn } } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(digest: str, query: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    if query is not None:
        body["query"] = query
    return body


class TestAutomaticPersistedQueries:
    async def test_unknown_hash_asks_for_the_query_then_is_remembered_by_every_worker(
        self, make_hub: HubMaker
    ) -> None:
        async with make_hub() as one, make_hub() as two:
            # when a client sends a hash the hub does not know
            first = (await one.client.post("/graphql", json=persisted(sha(UNLISTED)))).json()
            # then it is asked for the document
            assert first["errors"][0]["message"] == "PersistedQueryNotFound"
            assert error_codes(first) == ["PERSISTED_QUERY_NOT_FOUND"]

            # when it sends the document with its hash, then by hash alone to another worker
            registered = await one.client.post("/graphql", json=persisted(sha(UNLISTED), UNLISTED))
            by_hash = await two.client.post("/graphql", json=persisted(sha(UNLISTED)))

            # then both run
            assert len(registered.json()["data"]["regions"]["nodes"]) == 3
            assert by_hash.json()["data"] == registered.json()["data"]

    async def test_a_hash_that_does_not_match_its_query_is_refused(self, hub: Hub) -> None:
        body = (await hub.client.post("/graphql", json=persisted("0" * 64, UNLISTED))).json()
        assert error_codes(body) == ["PERSISTED_QUERY_HASH_MISMATCH"]

    @pytest.mark.parametrize("digest", ["short", "z" * 64, 42])
    async def test_malformed_hashes_are_bad_requests(self, hub: Hub, digest: Any) -> None:
        body = (await hub.client.post("/graphql", json=persisted(digest))).json()
        assert error_codes(body) == ["BAD_REQUEST"]

    async def test_portal_operations_are_known_by_hash_from_the_start(self, hub: Hub) -> None:
        body = (await hub.client.post("/graphql", json=persisted(sha(LISTED)))).json()
        assert "errors" not in body
        assert body["data"]["regions"]["nodes"]

    async def test_get_requests_carry_the_hash_too(self, hub: Hub) -> None:
        params = {
            "extensions": f'{{"persistedQuery":{{"version":1,"sha256Hash":"{sha(LISTED)}"}}}}'
        }
        response = await hub.client.get("/graphql", params=params)
        assert response.status_code == 200
        assert response.json()["data"]["regions"]["nodes"]

    async def test_off_mode_refuses_the_protocol(self, make_hub: HubMaker) -> None:
        async with make_hub(persisted_queries="off") as hub:
            body = (await hub.client.post("/graphql", json=persisted(sha(LISTED)))).json()
            assert error_codes(body) == ["PERSISTED_QUERY_NOT_SUPPORTED"]


class TestAllowListMode:
    async def test_anonymous_callers_run_only_listed_operations(self, make_hub: HubMaker) -> None:
        async with make_hub(persisted_queries="allowlist") as hub:
            # when
            listed = await hub.gql(LISTED)
            by_hash = (await hub.client.post("/graphql", json=persisted(sha(LISTED)))).json()
            reindented = await hub.gql("  " + LISTED.replace("\n", "\n    "))
            unlisted = await hub.gql(UNLISTED)
            taught = (
                await hub.client.post("/graphql", json=persisted(sha(UNLISTED), UNLISTED))
            ).json()
            after = (await hub.client.post("/graphql", json=persisted(sha(UNLISTED)))).json()

            # then
            assert "errors" not in listed
            assert "errors" not in by_hash
            assert "errors" not in reindented
            assert error_codes(unlisted) == ["OPERATION_NOT_ALLOWED"]
            assert error_codes(taught) == ["OPERATION_NOT_ALLOWED"]
            assert error_codes(after) == ["PERSISTED_QUERY_NOT_FOUND"]

    @pytest.mark.parametrize("role", [Role.GUARDIAN, Role.PUPIL])
    async def test_end_users_tokens_are_portal_clients(
        self, make_hub: HubMaker, role: Role
    ) -> None:
        async with make_hub(persisted_queries="allowlist") as hub:
            body = await hub.gql(UNLISTED, token=hub.token(role, person_id=1))
            assert error_codes(body) == ["OPERATION_NOT_ALLOWED"]

    async def test_officers_send_any_operation(self, make_hub: HubMaker) -> None:
        async with make_hub(persisted_queries="allowlist") as hub:
            token = hub.token(Role.REGION_OFFICER, scopes=["region:8"])
            assert "errors" not in await hub.gql(UNLISTED, token=token)


class TestIntrospection:
    INTROSPECT = "{ __schema { queryType { name } } }"

    async def test_anonymous_introspection_is_off_in_production(self, make_hub: HubMaker) -> None:
        async with make_hub(environment="production") as hub:
            anonymous = await hub.gql(self.INTROSPECT)
            by_type = await hub.gql('{ __type(name: "Person") { name } }')
            typename = await hub.gql("{ __typename }")
            signed_in = await hub.gql(self.INTROSPECT, token=hub.token(Role.MINISTRY))
        assert error_codes(anonymous) == ["INTROSPECTION_DISABLED"]
        assert error_codes(by_type) == ["INTROSPECTION_DISABLED"]
        assert "errors" not in typename
        assert signed_in["data"]["__schema"]["queryType"]["name"] == "Query"

    async def test_introspection_is_on_in_development(self, hub: Hub) -> None:
        assert "errors" not in await hub.gql(self.INTROSPECT)


async def stored(engine: AsyncEngine) -> list[str]:
    """The hashes of the documents the hub has learned."""
    async with engine.connect() as conn:
        return list(await conn.scalars(text("SELECT sha256 FROM persisted_query")))


class TestWhatIsStored:
    """Issue 22.9: only documents that parsed and validated, within the size limit, from a
    request charged to its caller's budget."""

    @pytest.mark.parametrize(
        "document",
        [
            "x" * 99_000,  # not GraphQL, and too long
            "not GraphQL at all",
            "{ regions(first: 1) { nodes { password } } }",  # GraphQL, but not this schema's
            '{ node(id: "a\\u0000") { id } }',  # valid, but its input is refused
        ],
    )
    async def test_a_document_that_is_refused_is_not_stored(
        self, hub: Hub, engine: AsyncEngine, document: str
    ) -> None:
        # when an anonymous caller sends it with its hash, then the hash alone
        sent = (await hub.client.post("/graphql", json=persisted(sha(document), document))).json()
        again = (await hub.client.post("/graphql", json=persisted(sha(document)))).json()

        # then it was refused, and the hub did not learn it
        assert error_codes(sent)
        assert error_codes(again) == ["PERSISTED_QUERY_NOT_FOUND"]
        assert await stored(engine) == []

    async def test_documents_over_the_size_limit_are_refused(self, make_hub: HubMaker) -> None:
        async with make_hub(persisted_query_max_bytes=40) as hub:
            body = await hub.client.post("/graphql", json=persisted(sha(UNLISTED), UNLISTED))
        assert error_codes(body.json()) == ["BAD_REQUEST"]
        assert "at most 40 bytes" in body.json()["errors"][0]["message"]

    async def test_learning_a_document_is_charged(
        self, make_hub: HubMaker, engine: AsyncEngine
    ) -> None:
        async with make_hub(anonymous_points_per_hour=1) as hub:
            # given a caller who has spent its budget
            assert "errors" not in await hub.gql("{ regions(first: 1) { totalCount } }")

            # when it sends a new document with its hash
            body = await hub.client.post("/graphql", json=persisted(sha(UNLISTED), UNLISTED))

        # then it is refused and the hub learns nothing
        assert error_codes(body.json()) == ["RATE_LIMITED"]
        assert await stored(engine) == []

    async def test_an_admitted_document_is_stored_once(self, hub: Hub, engine: AsyncEngine) -> None:
        body = (await hub.client.post("/graphql", json=persisted(sha(UNLISTED), UNLISTED))).json()
        assert "errors" not in body
        assert body["extensions"]["cost"]["remaining"] < body["extensions"]["cost"]["limit"]
        assert await stored(engine) == [sha(UNLISTED)]
