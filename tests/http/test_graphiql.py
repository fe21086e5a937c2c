"""GraphiQL's page and the demo tokens its role picker offers (issue 20): the tokens exist only
in development or on a demo hub, never in production."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models.people import GuardianKind, Guardianship
from resolvers.access import KeyRing, principal_from_token
from resolvers.settings import Settings
from schema.http.graphiql import demo_tokens_served
from tests.conftest import Hub, running_hub
from tests.factories import make_person

HTML = {"accept": "text/html"}


@pytest.fixture
async def demo_hub(settings: Settings) -> AsyncIterator[Hub]:
    async with running_hub(settings.model_copy(update={"demo": True})) as hub:
        yield hub


class TestDemoTokens:
    async def test_a_demo_hub_hands_out_a_token_per_role(
        self, demo_hub: Hub, session: AsyncSession
    ) -> None:
        # given: a guardian in the data
        child = await make_person(session)
        parent = await make_person(session)
        session.add(
            Guardianship(guardian_id=parent.id, child_id=child.id, kind=GuardianKind.MOTHER)
        )
        await session.commit()
        # when
        response = await demo_hub.client.get("/demo/tokens")
        # then: the roles, each token valid for the hub
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        personas = {p["key"]: p for p in response.json()["personas"]}
        assert {"ministry", "guardian"} <= set(personas)
        ring = KeyRing.load(demo_hub.settings)
        guardian = principal_from_token(personas["guardian"]["token"], ring, demo_hub.settings)
        assert guardian.person_id == parent.id
        body = await demo_hub.data(
            "{ persons(first: 5) { totalCount } }", token=personas["ministry"]["token"]
        )
        assert body["persons"]["totalCount"] == 2

    async def test_production_has_no_demo_tokens_even_with_demo_data(
        self, settings: Settings
    ) -> None:
        production = settings.model_copy(update={"environment": "production", "demo": True})
        async with running_hub(production) as hub:
            response = await hub.client.get("/demo/tokens")
            page = await hub.client.get("/graphql", headers=HTML)
        assert response.status_code == 404
        assert '"tokens": null' in page.text

    async def test_a_test_hub_without_demo_data_has_none(self, hub: Hub) -> None:
        assert (await hub.client.get("/demo/tokens")).status_code == 404

    def test_development_hands_them_out(self, settings: Settings) -> None:
        assert demo_tokens_served(settings.model_copy(update={"environment": "development"}))


class TestPage:
    async def test_the_page_has_no_placeholder_header_and_keeps_the_headers(
        self, demo_hub: Hub
    ) -> None:
        page = await demo_hub.client.get("/graphql", headers=HTML)
        assert page.status_code == 200
        # the old default header answered 401 on first load
        assert "<token from" not in page.text
        assert "shouldPersistHeaders: true" in page.text
        assert '"tokens": "/demo/tokens"' in page.text
