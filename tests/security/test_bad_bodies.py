"""Issue 22.3: a request body the hub cannot take is answered 400 with a JSON error body
(``BAD_REQUEST``), never a 500: bodies that are not a JSON object, invalid UTF-8, JSON nested
thousands of levels deep, on POST, GET and multipart alike."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import Hub
from tests.people.helpers import error_codes

JSON = {"content-type": "application/json"}
QUERY = "query($v: PersonFilter) { persons(first: 1, filter: $v) { totalCount } }"


def nested(levels: int, *, kind: str = "object") -> bytes:
    """A JSON value nested ``levels`` deep."""
    if kind == "object":
        return b'{"a":' * levels + b"1" + b"}" * levels
    return b"[" * levels + b"]" * levels


def refused(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert error_codes(response.json()) == ["BAD_REQUEST"]


def with_variables(raw: bytes) -> bytes:
    return b'{"query": ' + json.dumps(QUERY).encode() + b', "variables": {"v": ' + raw + b"}}"


class TestBodies:
    @pytest.mark.parametrize("body", [b"null", b" null ", b"1", b'"query"', b"true", b"-0.5"])
    async def test_a_body_that_is_not_a_json_object_is_a_400(self, hub: Hub, body: bytes) -> None:
        refused(await hub.client.post("/graphql", content=body, headers=JSON))

    @pytest.mark.parametrize(
        "body",
        [
            b'{"query": "{ regions(first: 1) { totalCount } }", "operationName": "a\xff"}',
            b'{"query": "{ viewer { role } }\xc3"}',
            b'{"query": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8 is not UTF-8
        ],
    )
    async def test_invalid_utf8_in_a_string_is_a_400(self, hub: Hub, body: bytes) -> None:
        refused(await hub.client.post("/graphql", content=body, headers=JSON))

    @pytest.mark.parametrize("levels", [40, 1_000, 5_000, 100_000])
    @pytest.mark.parametrize("kind", ["object", "list"])
    async def test_deeply_nested_variables_are_a_400(
        self, hub: Hub, ministry: str, levels: int, kind: str
    ) -> None:
        response = await hub.client.post(
            "/graphql",
            content=with_variables(nested(levels, kind=kind)),
            headers={**JSON, "authorization": f"Bearer {ministry}"},
        )
        refused(response)

    async def test_deeply_nested_variables_over_get_are_a_400(self, hub: Hub) -> None:
        params = {"query": QUERY, "variables": '{"v": ' + nested(1_000).decode() + "}"}
        refused(await hub.client.get("/graphql", params=params))

    @pytest.mark.parametrize("operations", ["null", "[1]", '"x"', nested(3_000).decode()])
    async def test_multipart_operations_that_are_not_an_object_are_a_400(
        self, hub: Hub, operations: str
    ) -> None:
        response = await hub.client.post(
            "/graphql",
            data={"operations": operations, "map": "{}"},
            files={"0": ("a.csv", b"x", "text/csv")},
        )
        refused(response)

    async def test_nesting_a_real_request_needs_is_answered(self, hub: Hub, ministry: str) -> None:
        body: Any = {"v": {"name": "Asanov"}}
        response = await hub.post(QUERY, body, token=ministry)
        assert response.status_code == 200
        assert "errors" not in response.json()


class TestDepthCheck:
    """decode_json walks a value only when its text has more opening brackets than the limit
    (no fewer can nest deeper): the limit itself still holds at its edge."""

    @pytest.mark.parametrize("kind", ["object", "list"])
    def test_the_limit_is_kept_at_its_edge(self, kind: str) -> None:
        from cross_web import HTTPException

        from schema.http.limits import MAX_JSON_DEPTH, decode_json

        assert decode_json(nested(MAX_JSON_DEPTH, kind=kind)) is not None
        assert decode_json(nested(MAX_JSON_DEPTH, kind=kind).decode()) is not None
        with pytest.raises(HTTPException):
            decode_json(nested(MAX_JSON_DEPTH + 1, kind=kind))

    def test_brackets_in_strings_only_make_the_walk_happen(self) -> None:
        from schema.http.limits import MAX_JSON_DEPTH, decode_json

        # a shallow value whose strings hold many brackets is walked and taken
        text = '{"query": "' + "{" * (MAX_JSON_DEPTH * 3) + '", "v": [[1]]}'
        assert decode_json(text)["v"] == [[1]]
