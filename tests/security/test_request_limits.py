"""Issue 22.2: documents whose fragments amplify aliases and fields are measured once per
fragment and refused before anything else walks them, the hub answering meanwhile; refusals
spend the caller's budget."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from resolvers import cost, shape
from tests.conftest import Hub
from tests.people.helpers import error_codes
from tests.security.conftest import HubMaker

REGIONS = "{ regions(first: 1) { totalCount } }"


def nested_fragments(levels: int, *, width: int = 10, aliased: bool = True) -> str:
    """F0 selects ``width`` fields (aliased or not); each next fragment spreads the one below
    ``width`` times: width ** (levels + 1) fields from a few hundred bytes."""
    fields = " ".join(f"a{i}: __typename" if aliased else "__typename" for i in range(width))
    parts = [f"query {{ ...F{levels} }}", f"fragment F0 on Query {{ {fields} }}"]
    for level in range(1, levels + 1):
        spreads = " ".join(f"...F{level - 1}" for _ in range(width))
        parts.append(f"fragment F{level} on Query {{ {spreads} }}")
    return "\n".join(parts)


class Calls:
    """Counts the calls of a function replaced on its class or module."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
        self.count = 0
        original = getattr(owner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counted)


class TestFragmentBombs:
    @pytest.mark.parametrize("levels", [5, 6, 10])
    async def test_nested_fragment_alias_bomb_is_refused_walking_each_fragment_once(
        self, hub: Hub, monkeypatch: pytest.MonkeyPatch, levels: int
    ) -> None:
        # given a document of 10 ** (levels + 1) aliases, and counters on the walks
        measured = Calls(monkeypatch, shape._Measure, "selection_set")
        estimated = Calls(monkeypatch, cost._Walker, "walk")

        # when
        body = await hub.gql(nested_fragments(levels))

        # then it is refused, each selection set measured once per parse (the operation's
        # and each fragment's; the compiled path parses it too), and the cost estimate never
        # walked it
        assert body.get("data") is None
        assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
        assert f"{10 ** (levels + 1)} aliases found" in body["errors"][0]["message"]
        assert measured.count == 2 * (1 + levels + 1)
        assert estimated.count == 0

    async def test_the_hub_answers_others_while_bombs_are_refused(self, hub: Hub) -> None:
        # when ten ten-level bombs and a plain query arrive together
        bombs = [hub.gql(nested_fragments(10) + f"\n# {n}") for n in range(10)]
        *refused, answered = await asyncio.gather(*bombs, hub.gql(REGIONS))

        # then every bomb is refused and the query answered
        assert all(error_codes(b) == ["QUERY_TOO_COMPLEX"] for b in refused)
        assert answered["data"]["regions"]["totalCount"] > 0

    async def test_fields_amplified_without_aliases_are_refused(self, hub: Hub) -> None:
        # 10 ** 4 fields merged into one: no alias, but every use of a fragment counts
        body = await hub.gql(nested_fragments(3, aliased=False))
        assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
        assert "10000 fields" in body["errors"][0]["message"]

    async def test_one_field_repeated_in_a_selection_set_is_refused(self, hub: Hub) -> None:
        # graphql compares fields of one response name pairwise (990 of them took 1.6 s)
        body = await hub.gql("{" + " viewer { role }" * 400 + " }")
        assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
        assert "selected 400 times" in body["errors"][0]["message"]

    async def test_fragment_spread_twice_at_one_level_repeats_once(self, hub: Hub) -> None:
        query = "{ viewer { ...V ...V role } } fragment V on Viewer { role subject }"
        assert "errors" not in await hub.gql(query)

    @pytest.mark.parametrize(("depth", "refused"), [(12, False), (13, True)])
    async def test_depth_through_fragments_is_counted_as_before(
        self, hub: Hub, depth: int, refused: bool
    ) -> None:
        # regions (0) and nodes (1) above the fragment; its chain ends with a leaf at `depth`
        links = depth - 2
        chain = " ".join(f"{('districts', 'region')[i % 2]} {{" for i in range(links))
        query = (
            "{ regions(first: 1) { nodes { ...R } } } "
            f"fragment R on Region {{ {chain} id {'}' * links} }}"
        )
        body = await hub.gql(query)
        assert ("QUERY_TOO_COMPLEX" in error_codes(body)) is refused


class TestRefusalsSpendTheBudget:
    async def test_refused_documents_spend_a_point_each_then_are_rate_limited(
        self, make_hub: HubMaker
    ) -> None:
        async with make_hub(anonymous_points_per_hour=3) as hub:
            # when an anonymous caller floods the hub with refused documents
            answers = [await hub.gql(nested_fragments(5)) for _ in range(3)]
            syntax = await hub.gql("{ regions(")
            plain = await hub.gql(REGIONS)

        # then the first three are refused for what they are, and then the budget is spent
        assert all(error_codes(a) == ["QUERY_TOO_COMPLEX"] for a in answers)
        assert error_codes(syntax) == ["RATE_LIMITED"]
        assert error_codes(plain) == ["RATE_LIMITED"]

    async def test_a_refused_request_is_charged_one_point(self, hub: Hub) -> None:
        # when
        await hub.gql("{ regions(first: 1) { nodes { password } } }")
        body = await hub.gql(REGIONS)

        # then the next request sees the refusal's point spent as well as its own
        cost_report = body["extensions"]["cost"]
        assert cost_report["limit"] - cost_report["remaining"] == 2
