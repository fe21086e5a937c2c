"""CPU cost of the HTTP layer's own steps (issue 20), in microseconds of process CPU time per
call (time.process_time, so other processes' load distorts it little): the media-type
negotiation every /graphql request makes, the allow-list's check of a portal document sent as
Apollo Client sends it (first time and remembered), the allow-list's load at a worker's start,
and one portal's manifest.

    python -m bench.http_layer
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from graphql import parse

from resolvers import persisted
from schema.http import media

APOLLO_ACCEPT = "application/graphql-response+json,application/json;q=0.9"


def cpu_us(step: Callable[[], object], calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        step()
    return (time.process_time() - started) / calls * 1e6


def main() -> None:
    regions = (persisted.PORTALS_DIR / "public" / "Regions.graphql").read_text()
    sent = persisted.as_apollo_sends(parse(regions)).replace("\n", " ")
    document = parse(sent)
    allow_list = persisted.AllowList.load(persisted.PORTALS_DIR)
    first = cpu_us(lambda: allow_list.allows(sent, document), 1)
    figures = {
        "negotiate (Apollo Client 4's Accept)": cpu_us(
            lambda: media.negotiate(APOLLO_ACCEPT), 100_000
        ),
        "negotiate (no Accept)": cpu_us(lambda: media.negotiate(None), 100_000),
        "allow-list check, Apollo's Regions, first time": first,
        "allow-list check, Apollo's Regions, remembered": cpu_us(
            lambda: allow_list.allows(sent, document), 10_000
        ),
        "normalized print of Apollo's Regions": cpu_us(
            lambda: persisted.normalized(document), 2_000
        ),
        "allow-list load (all portals, per worker start)": cpu_us(
            lambda: persisted.AllowList.load(persisted.PORTALS_DIR), 5
        ),
        "manifest of portals/public (once per worker)": cpu_us(
            lambda: persisted.manifest(persisted.PORTALS_DIR / "public"), 20
        ),
    }
    print(f"load average {os.getloadavg()[0]:.1f} (CPU time per call, process_time)")
    for name, value in figures.items():
        print(f"{name:55} {value:12.1f} us")


if __name__ == "__main__":
    main()
