"""How long the hub takes to refuse a fragment bomb (issue 22.2), and how long a plain query
sent meanwhile waits: anonymous requests through the in-process client (no network), on an
embedded PostgreSQL.

    python -m bench.bombs --levels 5 6 10 --requests 20

A bomb of L levels: fragment F0 selects ten aliased fields, each next fragment spreads the one
below ten times, the operation spreads F<L>: 10 ** (L + 1) aliases from under 2 kB.
docs/security.md quotes the figures."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

QUERY = "{ regions(first: 1) { totalCount } }"


def bomb(levels: int, width: int = 10) -> str:
    """A document of ``width ** (levels + 1)`` aliases."""
    fields = " ".join(f"a{i}: __typename" for i in range(width))
    parts = [f"query {{ ...F{levels} }}", f"fragment F0 on Query {{ {fields} }}"]
    for level in range(1, levels + 1):
        spreads = " ".join(f"...F{level - 1}" for _ in range(width))
        parts.append(f"fragment F{level} on Query {{ {spreads} }}")
    return "\n".join(parts)


def _ms(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    return f"median {statistics.median(ms):.2f} ms, max {ms[-1]:.2f} ms"


async def _timed(client: Any, query: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = await client.post("/graphql", json={"query": query})
    return time.perf_counter() - started, response.json()


async def _run(levels: list[int], requests: int) -> None:
    import httpx

    from app import create_app
    from models import database
    from resolvers.settings import Settings

    with tempfile.TemporaryDirectory() as folder:
        pg = database.EmbeddedPostgres(Path(folder))
        server = pg.start()
        try:
            await database.ensure_database(server, "bench")
            url = pg.url("bench")
            await asyncio.to_thread(database.migrate, url)
            settings = Settings(
                database_url=url,
                data_dir=Path(folder),
                environment="test",
                anonymous_points_per_hour=10_000_000,
            )
            app = create_app(settings)
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                    for _ in range(50):  # warm up pools and caches
                        await _timed(client, QUERY)
                    plain = [(await _timed(client, QUERY))[0] for _ in range(requests)]
                    print(f"plain query alone: {_ms(plain)}")
                    for level in levels:
                        await _measure(client, level, requests)
        finally:
            pg.stop()


async def _measure(client: Any, level: int, requests: int) -> None:
    document = bomb(level)
    refusals: list[float] = []
    waits: list[float] = []
    for n in range(requests):
        # a fresh text each time, so no parse cache answers it
        (took, body), (waited, answer) = await asyncio.gather(
            _timed(client, f"{document}\n# {n}"), _timed(client, QUERY)
        )
        assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX", body
        assert "errors" not in answer, answer
        refusals.append(took)
        waits.append(waited)
    print(
        f"{level} levels ({10 ** (level + 1):,} aliases, {len(document.encode())} bytes): "
        f"refused in {_ms(refusals)}; a plain query sent with it answered in {_ms(waits)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--levels", type=int, nargs="+", default=[5, 6, 10])
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(_run(args.levels, args.requests))


if __name__ == "__main__":
    main()
