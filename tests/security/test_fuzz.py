"""A small schema fuzz run (schemathesis, derandomised): no generated operation, sent as an
anonymous caller, a guardian or the ministry, gets a 5xx or an unhandled error. The large run
is `python -m bench.fuzz`."""

from __future__ import annotations

import pytest

from bench.fuzz import generate, send_all
from resolvers.access import Role
from tests.security.conftest import HubMaker

EXAMPLES = 3


@pytest.fixture(scope="module")
def documents() -> dict[str, list[str]]:
    return generate(EXAMPLES)


def test_every_query_and_mutation_is_fuzzed(documents: dict[str, list[str]]) -> None:
    from schema import schema

    graphql_schema = schema._schema
    assert graphql_schema.query_type is not None
    assert graphql_schema.mutation_type is not None
    # schemathesis leaves out the federation's _entities and _service (names starting with an
    # underscore); tests/federation and tests/analytics/test_federation.py send them.
    expected = {f"Query.{n}" for n in graphql_schema.query_type.fields if not n.startswith("_")} | {
        f"Mutation.{n}" for n in graphql_schema.mutation_type.fields
    }
    assert set(documents) == expected
    assert all(documents.values())


async def test_generated_operations_never_fail_unhandled(
    make_hub: HubMaker, documents: dict[str, list[str]]
) -> None:
    async with make_hub(points_per_hour=1_000_000, anonymous_points_per_hour=1_000_000) as hub:
        tokens = {
            "anonymous": None,
            "guardian": hub.token(Role.GUARDIAN, person_id=1),
            "ministry": hub.token(Role.MINISTRY),
        }
        findings = await send_all(hub.client, documents, tokens)
    assert findings.failures == []
    assert findings.sent >= len(documents) * len(tokens)
