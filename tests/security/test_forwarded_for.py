"""Issue 22.4: a client's own ``X-Forwarded-For`` does not choose its address, so it cannot
take a fresh anonymous budget with each request. Only the proxies of
``BILIM_TRUSTED_PROXIES`` (empty by default) are believed, by uvicorn's rule: the caller is the
rightmost entry that is not a trusted proxy. `bilim serve` gives uvicorn the same setting."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from cli import server_options
from resolvers.settings import Settings
from tests.people.helpers import error_codes
from tests.security.conftest import HubMaker
from tests.test_cli import _free_port, _serve, _stop, _wait_ready

REGIONS = "{ regions(first: 1) { totalCount } }"


def codes_of(responses: list[httpx.Response]) -> list[list[str]]:
    return [error_codes(r.json()) for r in responses]


class TestServedHub:
    @pytest.mark.slow
    def test_forged_addresses_share_the_peers_budget(self, tmp_path: Path) -> None:
        # given `bilim serve` with an anonymous budget of 3 points, reached from 127.0.0.1
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        budget = {"BILIM_ANONYMOUS_POINTS_PER_HOUR": "3"}
        process = _serve(tmp_path / "hub", port, "--no-access-log", env=budget)
        try:
            _wait_ready(url, process)
            # when each request names another address of its own
            answers = [
                httpx.post(
                    f"{url}/graphql",
                    json={"query": REGIONS},
                    headers={"x-forwarded-for": f"198.51.100.{n}"},
                    timeout=10,
                )
                for n in range(5)
            ]
        finally:
            _stop(process)

        # then they spend one budget, the connection's
        assert codes_of(answers) == [[], [], [], ["RATE_LIMITED"], ["RATE_LIMITED"]]

    def test_serve_gives_uvicorn_no_trusted_proxy_by_default(self) -> None:
        assert server_options(Settings())["proxy_headers"] is False
        behind = server_options(Settings(trusted_proxies="10.0.0.0/8"))
        assert behind["proxy_headers"] is True
        assert behind["forwarded_allow_ips"] == "10.0.0.0/8"


class TestTheApp:
    async def test_a_forged_header_is_ignored_without_trusted_proxies(
        self, make_hub: HubMaker
    ) -> None:
        async with make_hub(anonymous_points_per_hour=2) as hub:
            answers = [
                await hub.client.post(
                    "/graphql",
                    json={"query": REGIONS},
                    headers={"x-forwarded-for": f"198.51.100.{n}"},
                )
                for n in range(3)
            ]
        assert codes_of(answers) == [[], [], ["RATE_LIMITED"]]

    async def test_behind_a_trusted_proxy_a_forged_first_entry_does_not_choose_the_budget(
        self, make_hub: HubMaker
    ) -> None:
        # given the hub behind a proxy on 127.0.0.1 that appends the address it saw
        async with make_hub(anonymous_points_per_hour=2, trusted_proxies="127.0.0.1") as hub:
            # when one client forges a new first entry each time
            answers = [
                await hub.client.post(
                    "/graphql",
                    json={"query": REGIONS},
                    headers={"x-forwarded-for": f"198.51.100.{n}, 203.0.113.7"},
                )
                for n in range(3)
            ]
            # and another client comes through the same proxy
            other = await hub.client.post(
                "/graphql", json={"query": REGIONS}, headers={"x-forwarded-for": "203.0.113.8"}
            )

        # then the budget is the address the proxy saw
        assert codes_of(answers) == [[], [], ["RATE_LIMITED"]]
        assert error_codes(other.json()) == []

    async def test_trusted_proxies_take_networks_and_chains(self, make_hub: HubMaker) -> None:
        # given two proxies, the outer one on 10.1.2.3, before the hub
        async with make_hub(
            anonymous_points_per_hour=1, trusted_proxies="127.0.0.1, 10.0.0.0/8"
        ) as hub:
            # when one client behind them forges a new first entry each time
            answers = [
                await hub.client.post(
                    "/graphql",
                    json={"query": REGIONS},
                    headers={"x-forwarded-for": f"198.51.100.{n}, 203.0.113.9, 10.1.2.3"},
                )
                for n in range(2)
            ]
        # then the client is the address the outer proxy saw
        assert codes_of(answers) == [[], ["RATE_LIMITED"]]
