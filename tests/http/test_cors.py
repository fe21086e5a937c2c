"""Portals on other origins (CORS, issue 20): the origins the settings allow may call
/graphql from a browser (preflight answered and cached), others get no CORS header; by default
no origin in production, the dev servers' origins in development."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from resolvers.settings import Settings
from schema.http.cors import DEV_ORIGINS, allowed_origins
from tests.conftest import Hub, running_hub

PORTAL = "https://mektep.edu.kg"
REGIONS = "{ regions(first: 1) { nodes { code } } }"


def preflight(origin: str, headers: str = "authorization, content-type") -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": headers,
    }


@pytest.fixture
async def portal_hub(settings: Settings) -> AsyncIterator[Hub]:
    allowed = settings.model_copy(update={"cors_origins": PORTAL, "cors_max_age_seconds": 600})
    async with running_hub(allowed) as hub:
        yield hub


class TestAllowedOrigin:
    async def test_a_preflight_is_answered_with_what_the_hub_allows(self, portal_hub: Hub) -> None:
        response = await portal_hub.client.options(
            "/graphql", headers=preflight(PORTAL, "authorization, content-type, x-request-id")
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == PORTAL
        assert response.headers["access-control-max-age"] == "600"
        allowed = {h.strip() for h in response.headers["access-control-allow-headers"].split(",")}
        assert {"authorization", "content-type", "x-request-id"} <= allowed
        assert "POST" in response.headers["access-control-allow-methods"]
        # bearer tokens, never cookies
        assert "access-control-allow-credentials" not in response.headers

    async def test_the_request_itself_carries_the_origin_and_exposes_the_request_id(
        self, portal_hub: Hub
    ) -> None:
        response = await portal_hub.client.post(
            "/graphql", json={"query": REGIONS}, headers={"origin": PORTAL}
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == PORTAL
        assert "x-request-id" in response.headers["access-control-expose-headers"]


class TestRefusedOrigin:
    async def test_a_preflight_from_another_origin_is_refused(self, portal_hub: Hub) -> None:
        response = await portal_hub.client.options(
            "/graphql", headers=preflight("https://evil.example")
        )
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers

    async def test_a_request_from_another_origin_gets_no_cors_header(self, portal_hub: Hub) -> None:
        # the browser withholds the answer from the page's script without this header
        response = await portal_hub.client.post(
            "/graphql", json={"query": REGIONS}, headers={"origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in response.headers

    async def test_a_header_the_hub_does_not_read_is_refused(self, portal_hub: Hub) -> None:
        # a partner's key is a server's secret: not sent from a browser
        response = await portal_hub.client.options(
            "/graphql", headers=preflight(PORTAL, "x-api-key")
        )
        assert response.status_code == 400


class TestDefaults:
    async def test_no_origin_is_allowed_by_default_in_test_and_production(
        self, hub: Hub, settings: Settings
    ) -> None:
        response = await hub.client.options("/graphql", headers=preflight(PORTAL))
        assert response.status_code == 400
        production = settings.model_copy(update={"environment": "production"})
        assert allowed_origins(production) == []

    def test_development_allows_the_dev_servers(self, settings: Settings) -> None:
        development = settings.model_copy(update={"environment": "development"})
        assert allowed_origins(development) == list(DEV_ORIGINS)

    def test_origins_are_a_comma_separated_setting(self, settings: Settings) -> None:
        chosen = settings.model_copy(
            update={"environment": "production", "cors_origins": f"{PORTAL}/, https://a.kg"}
        )
        assert allowed_origins(chosen) == [PORTAL, "https://a.kg"]
