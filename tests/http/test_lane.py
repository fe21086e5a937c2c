"""POST /graphql takes a short lane past Starlette's general stack (issue 21): the same answer,
headers and guards as every other request gets through the full stack."""

from __future__ import annotations

from typing import Any

from starlette.middleware.cors import CORSMiddleware

from schema.http.lane import GraphQLLane, _with_vary
from tests.conftest import Hub

REGIONS = "{ regions(first: 1) { nodes { code } } }"


class TestLane:
    async def test_a_post_without_an_origin_varies_by_origin_as_cors_would_say(
        self, hub: Hub
    ) -> None:
        # when a server-side client posts a query (no Origin)
        response = await hub.client.post(
            "/graphql", json={"query": REGIONS}, headers={"x-request-id": "lane-1"}
        )
        # then the answer, its request id and CORS's Vary, as through the full stack
        assert response.status_code == 200
        assert response.json()["data"]["regions"]["nodes"]
        assert response.headers["x-request-id"] == "lane-1"
        assert response.headers["vary"] == "Origin"
        # and a GET (the full stack) says the same
        got = await hub.client.get("/graphql", params={"query": REGIONS})
        assert got.headers["vary"] == "Origin"

    async def test_an_oversized_body_is_still_refused(self, hub: Hub) -> None:
        response = await hub.client.post(
            "/graphql",
            content=b"{" + b" " * 1_000_001 + b"}",
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 413

    def test_the_hub_posts_through_the_lane(self, hub: Hub) -> None:
        from app import create_app

        lane: Any = create_app(hub.settings).lane
        assert isinstance(lane, GraphQLLane)
        assert isinstance(lane.cors, CORSMiddleware)

    def test_vary_is_added_to_what_the_response_varies_by(self) -> None:
        assert _with_vary([(b"vary", b"Accept")]) == [(b"vary", b"Accept, Origin")]
        assert _with_vary([]) == [(b"vary", b"Origin")]
