"""graphql's validation rules run once per document (schema/validation.py): the parser cache
hands every request of one text the same document, and the result is kept by the document's
identity (issue 21: strawberry's cache hashed the whole syntax tree on every request)."""

from __future__ import annotations

from typing import Any

import pytest

from schema import validation
from tests.conftest import Hub


@pytest.fixture
def validated(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The documents graphql's rules ran on, in order."""
    seen: list[Any] = []
    run = validation.validate_document

    def counted(gql: Any, document: Any, rules: Any) -> Any:
        seen.append(document)
        return run(gql, document, rules)

    monkeypatch.setattr(validation, "validate_document", counted)
    return seen


class TestValidationOnce:
    async def test_the_same_text_is_validated_once(self, hub: Hub, validated: list[Any]) -> None:
        # given a query text no request sent before
        query = "query ValidatedOnce { viewer { role } }"
        # when it is sent three times
        answers = [await hub.post(query) for _ in range(3)]
        # then each is answered, and the rules ran once
        assert [a.json()["data"]["viewer"]["role"] for a in answers] == ["ANONYMOUS"] * 3
        assert len(validated) == 1

    async def test_an_invalid_text_is_refused_every_time(
        self, hub: Hub, validated: list[Any]
    ) -> None:
        # given a query text naming a field the schema does not have
        query = "query NotValidTwice { viewer { noSuchField } }"
        # when it is sent twice
        answers = [(await hub.post(query)).json() for _ in range(2)]
        # then both are refused with the same error, the rules having run once
        codes = [[e["extensions"]["code"] for e in a["errors"]] for a in answers]
        assert codes == [["GRAPHQL_VALIDATION_FAILED"]] * 2
        assert answers[0]["errors"][0]["message"] == answers[1]["errors"][0]["message"]
        assert len(validated) == 1

    async def test_another_text_is_validated_on_its_own(
        self, hub: Hub, validated: list[Any]
    ) -> None:
        # given two query texts, one valid and one not
        good, bad = "query OneOfTwo { viewer { role } }", "query TwoOfTwo { viewer { nope } }"
        # when each is sent
        ok, refused = (await hub.post(good)).json(), (await hub.post(bad)).json()
        # then each got its own verdict
        assert ok["data"]["viewer"]["role"] == "ANONYMOUS"
        assert refused["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert len(validated) == 2
