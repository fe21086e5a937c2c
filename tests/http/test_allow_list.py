"""Allow-list mode against real clients (issue 20): Apollo Client adds ``__typename`` to every
selection set, so the portal's own ``Regions`` as Apollo sends it must be answered, by text or
by the id of the published persisted-query manifest; a document that is not a portal's stays
refused, ``__typename`` or not."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from graphql import parse

from resolvers import persisted
from resolvers.settings import Settings
from tests.conftest import Hub, running_hub

# portals/public/Regions.graphql exactly as Apollo Client 3 sends it: graphql-js's print of
# addTypenameToDocument's output (taken from @apollo/client 3 under Node), comments gone.
APOLLO_REGIONS = """query Regions {
  regions(first: 20) {
    nodes {
      id
      code
      kind
      nameKy
      nameRu
      nameEn
      districts {
        id
        kind
        nameKy
        nameRu
        nameEn
        __typename
      }
      __typename
    }
    __typename
  }
}"""
# Its sha256, as Apollo's persisted-query link and manifest generator compute it.
APOLLO_REGIONS_ID = "f4d10b2db577a4c4b34126c4f7d2634951abcc8d7bbecdd440bad5ed4f2e08fa"
UNLISTED = "query Mine { regions(first: 3) { nodes { code nameEn __typename } __typename } }"


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


@pytest.fixture
async def allowlist_hub(settings: Settings) -> AsyncIterator[Hub]:
    async with running_hub(settings.model_copy(update={"persisted_queries": "allowlist"})) as hub:
        yield hub


class TestApolloClientInAllowListMode:
    async def test_the_portal_document_as_apollo_sends_it_is_answered(
        self, allowlist_hub: Hub
    ) -> None:
        body = (await allowlist_hub.client.post("/graphql", json={"query": APOLLO_REGIONS})).json()
        assert "errors" not in body, body
        nodes = body["data"]["regions"]["nodes"]
        assert nodes
        assert nodes[0]["__typename"] == "Region"

    async def test_it_is_answered_by_its_manifest_id_alone(self, allowlist_hub: Hub) -> None:
        assert hashlib.sha256(APOLLO_REGIONS.encode()).hexdigest() == APOLLO_REGIONS_ID
        request = {
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": APOLLO_REGIONS_ID}}
        }
        body = (await allowlist_hub.client.post("/graphql", json=request)).json()
        assert "errors" not in body, body
        assert body["data"]["regions"]["nodes"]

    async def test_an_unknown_document_is_refused_typename_or_not(self, allowlist_hub: Hub) -> None:
        body = (await allowlist_hub.client.post("/graphql", json={"query": UNLISTED})).json()
        assert codes(body) == ["OPERATION_NOT_ALLOWED"]
        assert body["data"] is None

    async def test_an_unknown_id_cannot_be_taught_by_a_portal_client(
        self, allowlist_hub: Hub
    ) -> None:
        digest = hashlib.sha256(UNLISTED.encode()).hexdigest()
        request = {
            "query": UNLISTED,
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}},
        }
        body = (await allowlist_hub.client.post("/graphql", json=request)).json()
        assert codes(body) == ["OPERATION_NOT_ALLOWED"]


class TestPublishedManifests:
    async def test_each_portal_has_a_manifest_in_apollos_format(self, hub: Hub) -> None:
        response = await hub.client.get("/persisted-queries/public.json")
        assert response.status_code == 200
        manifest = response.json()
        assert (manifest["format"], manifest["version"]) == ("apollo-persisted-query-manifest", 1)
        regions = next(o for o in manifest["operations"] if o["name"] == "Regions")
        assert regions == {
            "id": APOLLO_REGIONS_ID,
            "name": "Regions",
            "type": "query",
            "body": APOLLO_REGIONS,
        }

    async def test_an_unknown_portal_has_none(self, hub: Hub) -> None:
        assert (await hub.client.get("/persisted-queries/nope.json")).status_code == 404

    def test_every_published_operation_is_allowed_by_text_and_by_id(self) -> None:
        allow_list = persisted.AllowList.load(persisted.PORTALS_DIR)
        for portal in persisted.portals(persisted.PORTALS_DIR):
            manifest = persisted.manifest(persisted.PORTALS_DIR / portal)
            names = [o["name"] for o in manifest["operations"]]
            assert len(names) == len(set(names)), portal  # one name, one operation per client
            for operation in manifest["operations"]:
                assert operation["id"] in allow_list.by_hash
                assert allow_list.allows(operation["body"], parse(operation["body"]))


class TestLoadingTheAllowList:
    def test_a_document_changed_on_disk_is_read_again(self, tmp_path: Path) -> None:
        # given an allow-list loaded from a portal folder (its parse is kept for the next hub)
        document = tmp_path / "portal" / "Count.graphql"
        document.parent.mkdir()
        document.write_text("query Count { regions(first: 1) { totalCount } }")
        before = persisted.AllowList.load(tmp_path)
        # when the document changes
        changed = "query Count { regions(first: 10) { totalCount } }"
        document.write_text(changed)
        # then the next hub's allow-list holds the new text, not the old one
        after = persisted.AllowList.load(tmp_path)
        assert persisted.sha256(changed) in after.by_hash
        assert persisted.sha256(changed) not in before.by_hash
        assert after.by_hash.keys().isdisjoint(before.by_hash)
        # and a document added beside it is read too
        (tmp_path / "portal" / "Other.graphql").write_text("query Other { __typename }")
        assert len(persisted.AllowList.load(tmp_path).by_hash) == len(after.by_hash) + 2
