"""A field's typed error is answered as that field's error, whatever its siblings were doing.

When one field fails with an expected error (a list asked without its bound, an unknown subject)
and the error nulls its parent, graphql-core cancels the sibling fields still running. A sibling
cancelled in the middle of a statement used to leave the request's connection invalidated, so
the request's commit failed as if the database were down and the whole answer became 503
SERVICE_UNAVAILABLE (design: "Errors": expected failures come back with stable codes; 503 only
when the database cannot be reached). The statement now runs to its end first
(``resolvers.context.Context.run``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Hub
from tests.content.factories import learner, make_lesson, make_pupil, make_unit

FEED = "grade school { id name } nextLessons { id title subject { nameKy } }"


async def _ask(hub: Hub, token: str, query: str) -> tuple[int, dict[str, Any]]:
    response = await hub.client.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )
    return response.status_code, response.json()


async def _pupil(hub: Hub, session: AsyncSession) -> str:
    pupil, _ = await make_pupil(session, grade=6, languages=["ru"])
    unit = await make_unit(session, grade=6, term=1, unit_no=1, languages=["ky", "ru"])
    await make_lesson(session, unit=unit, language="ru", title="math")
    await session.commit()
    return learner(hub, pupil)


class TestAFieldErrorBesideFieldsReadingTheDatabase:
    async def test_a_list_asked_without_its_bound_is_its_own_error_not_503(
        self, resolver_hub: Hub, session: AsyncSession
    ) -> None:
        # given a pupil with a feed
        token = await _pupil(resolver_hub, session)
        # when they ask for their progress without `first`, beside fields reading the database,
        # and again the same feed without the progress under another name
        status, body = await _ask(
            resolver_hub,
            token,
            f"{{ broken: myLearning {{ {FEED} progress {{ totalCount }} }} "
            f"whole: myLearning {{ {FEED} }} }}",
        )
        # then the answer is the field's typed error, at its path
        assert status == 200, body
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "INVALID_PAGINATION"
        assert error["path"] == ["broken", "progress"]
        # and GraphQL's rule for the rest: the non-null progress nulls its feed, the other feed
        # keeps its data
        assert body["data"]["broken"] is None
        assert body["data"]["whole"]["grade"] == 6
        assert body["data"]["whole"]["school"] is not None

    async def test_an_unknown_subject_is_its_own_error_and_the_hub_answers_on(
        self, resolver_hub: Hub, session: AsyncSession
    ) -> None:
        token = await _pupil(resolver_hub, session)
        # when a filter names a subject nobody has, beside fields reading the database
        status, body = await _ask(
            resolver_hub,
            token,
            f'{{ myLearning {{ {FEED} astrology: nextLessons(subject: "ASTROLOGY") {{ id }} '
            "progress(first: 5) { totalCount nodes { lesson { id title } } } } }",
        )
        # then it is that field's typed error, not SERVICE_UNAVAILABLE
        assert status == 200, body
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNKNOWN_SUBJECT"]
        # and the next request of the same pupil is answered whole
        status, body = await _ask(resolver_hub, token, f"{{ myLearning {{ {FEED} }} }}")
        assert status == 200
        assert "errors" not in body, body
