"""GraphQL over HTTP (the specification's two media types, issue 20): a client that accepts
``application/graphql-response+json`` gets it, with a 4xx and no ``data`` entry for a request
that fails before execution; ``application/json`` clients keep 200 with ``"data": null``; a
mutation over GET is a 405 naming the method that may carry it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Hub

REGIONS = "{ regions(first: 2) { nodes { code } } }"
NEW = "application/graphql-response+json"
# What Apollo Client 4 and graphql-http's client send.
BOTH = "application/graphql-response+json, application/json;q=0.9"


async def post(hub: Hub, body: dict[str, Any], accept: str | None) -> httpx.Response:
    headers = {"accept": accept} if accept else {}
    return await hub.client.post("/graphql", json=body, headers=headers)


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


class TestGraphQLResponseMediaType:
    async def test_a_client_accepting_it_gets_it_with_the_data(self, hub: Hub) -> None:
        response = await post(hub, {"query": REGIONS}, NEW)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(NEW)
        assert len(response.json()["data"]["regions"]["nodes"]) == 2

    async def test_it_is_preferred_when_ranked_above_json(self, hub: Hub) -> None:
        response = await post(hub, {"query": REGIONS}, BOTH)
        assert response.headers["content-type"].startswith(NEW)

    async def test_a_parse_failure_is_a_400_without_data(self, hub: Hub) -> None:
        response = await post(hub, {"query": "{ regions(first: 1) { nodes { code }"}, BOTH)
        assert response.status_code == 400
        assert response.headers["content-type"].startswith(NEW)
        body = response.json()
        assert "data" not in body
        assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]

    async def test_a_validation_failure_is_a_400_without_data(self, hub: Hub) -> None:
        response = await post(hub, {"query": "{ regions(first: 1) { nodes { nope } } }"}, NEW)
        assert response.status_code == 400
        assert "data" not in response.json()

    async def test_a_variable_coercion_failure_is_a_400_without_data(self, hub: Hub) -> None:
        query = "query($n: Int!) { regions(first: $n) { totalCount } }"
        response = await post(hub, {"query": query, "variables": {"n": "many"}}, NEW)
        assert response.status_code == 400
        assert "data" not in response.json()

    async def test_an_error_during_execution_keeps_200_and_the_data(self, hub: Hub) -> None:
        # given: a page bound the schema accepts and the resolver refuses (executed, then failed)
        response = await post(hub, {"query": "{ regions(first: 101) { totalCount } }"}, NEW)
        # then: executed, so 200 and a data entry
        assert response.status_code == 200
        assert "data" in response.json()

    async def test_a_refused_token_is_a_401_without_data(self, hub: Hub) -> None:
        response = await hub.client.post(
            "/graphql",
            json={"query": REGIONS},
            headers={"accept": NEW, "authorization": "Bearer not-a-token"},
        )
        assert response.status_code == 401
        assert "data" not in response.json()
        assert codes(response.json()) == ["UNAUTHENTICATED"]


class TestApplicationJsonForOlderClients:
    async def test_no_accept_header_gets_json(self, hub: Hub) -> None:
        response = await post(hub, {"query": REGIONS}, None)
        assert response.headers["content-type"].startswith("application/json")

    async def test_any_type_gets_json(self, hub: Hub) -> None:
        response = await post(hub, {"query": REGIONS}, "*/*")
        assert response.headers["content-type"].startswith("application/json")

    async def test_a_validation_failure_stays_200_with_null_data(self, hub: Hub) -> None:
        response = await post(
            hub, {"query": "{ regions(first: 1) { nodes { nope } } }"}, "application/json"
        )
        assert response.status_code == 200
        assert response.json()["data"] is None
        assert codes(response.json()) == ["GRAPHQL_VALIDATION_FAILED"]


class TestMethods:
    async def test_a_mutation_over_get_is_405_allowing_post(self, hub: Hub) -> None:
        query = 'mutation { withdrawStudent(input: {enrollmentId: "x", date: "2026-01-01"}) { userErrors { code } } }'
        response = await hub.client.get("/graphql", params={"query": query})
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert codes(response.json()) == ["BAD_REQUEST"]

    async def test_a_query_over_get_still_runs(self, hub: Hub) -> None:
        response = await hub.client.get(
            "/graphql", params={"query": REGIONS}, headers={"accept": NEW}
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(NEW)

    async def test_a_plain_options_names_the_methods(self, hub: Hub) -> None:
        response = await hub.client.options("/graphql")
        assert response.status_code == 204
        assert response.headers["allow"] == "GET, POST, OPTIONS"

    async def test_other_methods_are_405(self, hub: Hub) -> None:
        response = await hub.client.put("/graphql", json={"query": REGIONS})
        assert response.status_code == 405
