"""What a request may cost: GitHub-style node counts refused above the limit, points charged
to an hourly budget in PostgreSQL (shared by every worker, kept when a request rolls back),
reported in ``extensions.cost`` and by the ``rateLimit`` field."""

from __future__ import annotations

import asyncio

from graphql import parse
from sqlalchemy.ext.asyncio import AsyncEngine

from models import CostBudget
from resolvers.cost import estimate
from schema import schema
from tests.conftest import Hub
from tests.people.helpers import count_rows, error_codes
from tests.security.conftest import HubMaker

REGIONS = "{ regions(first: 9) { nodes { code } } }"

NESTED = """
{ institutions(first: 50) { nodes {
    enrollments(first: 10) { nodes { person { guardians { guardian { id } } } } }
} } }
"""

HUGE = """
{ institutions(first: 100) { nodes {
    enrollments(first: 100) { nodes { person {
      enrollments(first: 100) { totalCount } } } } } } }
"""

RATE_LIMIT = "{ rateLimit { limit cost remaining nodeCount resetAt } }"


def cost_of(query: str, variables: dict[str, object] | None = None) -> tuple[int, int]:
    found = estimate(schema._schema, parse(query), None, variables)
    return found.nodes, found.points


class TestEstimate:
    def test_connections_multiply_by_their_page_size(self) -> None:
        # 50 institutions, 500 enrollments, 500 persons, 5,000 guardianships (10 guessed)
        assert cost_of(NESTED) == (50 + 500 + 5000, 6)

    def test_page_sizes_come_from_variables_too(self) -> None:
        query = "query($n: Int) { regions(first: $n) { edges { node { code } } } }"
        assert cost_of(query, {"n": 7}) == (7, 1)

    def test_nodes_costs_its_number_of_ids(self) -> None:
        query = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
        assert cost_of(query, {"ids": ["a"] * 40}) == (40, 1)

    def test_fragments_count_where_they_are_spread(self) -> None:
        query = """
        { institutions(first: 10) { nodes { ...E } } }
        fragment E on Institution { enrollments(first: 10) { totalCount } }
        """
        assert cost_of(query)[0] == 10 + 100

    def test_mutation_fields_cost_ten_points(self) -> None:
        query = 'mutation { withdrawStudent(input: {enrollmentId: "x", date: "2026-01-01"}) { userErrors { code } } }'
        assert cost_of(query)[1] == 11


class TestLimits:
    async def test_cost_is_reported_in_extensions(self, hub: Hub) -> None:
        # when
        body = await hub.gql(REGIONS)

        # then
        cost = body["extensions"]["cost"]
        assert (cost["requested"], cost["nodeCount"], cost["limit"]) == (1, 9, 10_000)
        assert cost["remaining"] == 9_999
        assert cost["resetAt"]

    async def test_over_the_node_limit_is_refused_before_running(self, hub: Hub) -> None:
        # when
        hub.counter.reset()
        body = await hub.gql(HUGE, token=hub.token("ministry"))

        # then
        assert body["data"] is None
        assert error_codes(body) == ["QUERY_TOO_COSTLY"]
        assert hub.counter.count == 0

    async def test_rate_limit_field_shows_the_budget(self, hub: Hub, ministry: str) -> None:
        # when
        first = (await hub.data(RATE_LIMIT, token=ministry))["rateLimit"]
        second = (await hub.data(RATE_LIMIT, token=ministry))["rateLimit"]

        # then
        assert (first["limit"], first["cost"], first["remaining"]) == (5000, 1, 4999)
        assert second["remaining"] == 4998

    async def test_budget_spent_is_refused_until_the_window_resets(
        self, make_hub: HubMaker
    ) -> None:
        async with make_hub(anonymous_points_per_hour=3) as hub:
            # given three requests that spend the budget
            for _ in range(3):
                assert "errors" not in await hub.gql(REGIONS)

            # when
            response = await hub.post(REGIONS)

            # then
            body = response.json()
            assert error_codes(body) == ["RATE_LIMITED"]
            assert body["extensions"]["cost"]["remaining"] == 0
            assert int(response.headers["retry-after"]) > 0

    async def test_budget_is_shared_by_workers_and_concurrent_requests(
        self, make_hub: HubMaker, engine: AsyncEngine
    ) -> None:
        # given two workers (two apps, two pools) over one database and a budget of 10
        async with make_hub(points_per_hour=10) as one, make_hub(points_per_hour=10) as two:
            token = one.token("ministry", subject="ministry:analyst-1")

            # when 30 requests race across both
            bodies = await asyncio.gather(
                *[(one if i % 2 else two).gql(REGIONS, token=token) for i in range(30)]
            )

        # then exactly ten ran
        outcomes = sorted(error_codes(b)[0] if "errors" in b else "ok" for b in bodies)
        assert outcomes.count("ok") == 10
        assert outcomes.count("RATE_LIMITED") == 20
        assert await count_rows(engine, CostBudget) == 1

    async def test_points_are_spent_even_when_the_request_rolls_back(
        self, hub: Hub, ministry: str
    ) -> None:
        # given a mutation that fails (a bad id), costing 11 points
        mutation = 'mutation { withdrawStudent(input: {enrollmentId: "bad", date: "2026-01-01"}) { userErrors { code } } }'
        await hub.gql(mutation, token=ministry)

        # when
        after = (await hub.data(RATE_LIMIT, token=ministry))["rateLimit"]

        # then
        assert after["remaining"] == 5000 - 11 - 1

    async def test_budget_statements_are_not_counted_as_the_requests_own(self, hub: Hub) -> None:
        # when
        hub.counter.reset()
        await hub.data(REGIONS)

        # then: the page only (no totalCount asked)
        assert hub.counter.count == 1
