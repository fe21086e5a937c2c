"""The HTTP surface: health, readiness, metrics, GraphiQL, GET/POST rules, request limits."""

from __future__ import annotations

from pathlib import Path

from resolvers import assets
from tests.conftest import Hub

REGIONS = "{ regions(first: 2) { nodes { code } } }"


class TestProbes:
    async def test_healthz_answers_without_the_database(self, hub: Hub) -> None:
        response = await hub.client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    async def test_readyz_reports_database_and_migrations_at_head(self, hub: Hub) -> None:
        response = await hub.client.get("/readyz")
        assert response.status_code == 200
        assert response.json()["migrations"] == "at head"

    async def test_metrics_count_graphql_requests(self, hub: Hub) -> None:
        await hub.data(REGIONS)
        response = await hub.client.get("/metrics")
        assert response.status_code == 200
        assert (
            'bilim_graphql_requests_total{operation="_unnamed",outcome="ok",type="query"}'
            in response.text
        )


class TestHttpTransport:
    async def test_queries_run_over_get(self, hub: Hub) -> None:
        response = await hub.client.get("/graphql", params={"query": REGIONS})
        assert response.status_code == 200
        assert len(response.json()["data"]["regions"]["nodes"]) == 2

    async def test_mutations_are_refused_over_get(self, hub: Hub) -> None:
        query = 'mutation { withdrawStudent(input: {enrollmentId: "x", date: "2026-01-01"}) { userErrors { code } } }'
        response = await hub.client.get("/graphql", params={"query": query})
        assert response.status_code in (400, 405)
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"

    async def test_malformed_json_is_a_400_with_a_json_error(self, hub: Hub) -> None:
        response = await hub.client.post(
            "/graphql", content=b'{"query": ', headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"

    async def test_graphql_syntax_error_has_a_code(self, hub: Hub) -> None:
        body = await hub.gql("{ regions(first: 1) { nodes { code }")
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

    async def test_unknown_field_is_a_validation_error(self, hub: Hub) -> None:
        body = await hub.gql("{ regions(first: 1) { nodes { password } } }")
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

    async def test_oversized_body_is_refused_before_parsing(self, hub: Hub) -> None:
        big = "{ regions(first: 1) { nodes { code } } }" + " " * 1_100_000
        response = await hub.client.post("/graphql", json={"query": big})
        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"

    async def test_too_deep_query_is_refused(self, hub: Hub) -> None:
        nested = "districts { region { " * 8 + "code" + " } }" * 8
        body = await hub.gql(f"{{ regions(first: 1) {{ nodes {{ {nested} }} }} }}")
        assert "errors" in body
        assert body.get("data") is None

    async def test_alias_bomb_is_refused(self, hub: Hub) -> None:
        aliases = " ".join(f"a{i}: regions(first: 1) {{ totalCount }}" for i in range(50))
        body = await hub.gql(f"{{ {aliases} }}")
        assert body.get("data") is None
        assert "errors" in body

    async def test_request_id_is_echoed(self, hub: Hub) -> None:
        response = await hub.client.post(
            "/graphql", json={"query": REGIONS}, headers={"x-request-id": "portal-42"}
        )
        assert response.headers["x-request-id"] == "portal-42"


class TestGraphiQL:
    async def test_page_falls_back_to_the_cdn_and_says_how_to_install(self, hub: Hub) -> None:
        response = await hub.client.get("/graphql", headers={"accept": "text/html"})
        assert response.status_code == 200
        assert "bilim assets install" in response.text
        assert "unpkg.com" in response.text

    async def test_page_uses_local_assets_once_installed(self, hub: Hub) -> None:
        # given a data folder holding the assets (contents are not the point here)
        folder = assets.assets_dir(hub.settings.data_dir)
        folder.mkdir(parents=True)
        for name in assets.FILES:
            (folder / name).write_text(f"/* {name} */")
        # when a browser opens /graphql
        response = await hub.client.get("/graphql", headers={"accept": "text/html"})
        # then every asset comes from the hub itself
        assert "unpkg.com" not in response.text
        assert '/graphiql/graphiql.js"' in response.text
        asset = await hub.client.get("/graphiql/graphiql.js")
        assert asset.status_code == 200
        assert asset.text == "/* graphiql.js */"

    async def test_only_known_asset_names_are_served(self, hub: Hub, tmp_path: Path) -> None:
        response = await hub.client.get("/graphiql/..%2Fsigning-keys.json")
        assert response.status_code == 404


class TestFieldSuggestions:
    async def test_anonymous_callers_get_no_field_suggestions(self, hub: Hub) -> None:
        # given a misspelt field, which graphql-core would answer with "Did you mean 'code'?"
        body = await hub.gql("{ regions(first: 1) { nodes { cod } } }")
        # then the anonymous caller learns only that the field does not exist
        message = body["errors"][0]["message"]
        assert "Cannot query field 'cod'" in message
        assert "Did you mean" not in message

    async def test_signed_in_developers_keep_them_outside_production(
        self, hub: Hub, ministry: str
    ) -> None:
        body = await hub.gql("{ regions(first: 1) { nodes { cod } } }", token=ministry)
        assert "Did you mean" in body["errors"][0]["message"]
