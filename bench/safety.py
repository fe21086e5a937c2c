"""Per-request overhead of the safety machinery: N anonymous `regions(first: 9)` requests
through the in-process client (no network), on an embedded PostgreSQL.

    python -m bench.safety --requests 2000

Run it on a commit before the safety work and after to compare (docs/performance.md quotes both)."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

QUERY = "{ regions(first: 9) { nodes { code } } }"


async def _run(requests: int) -> list[float]:
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
            extra: dict[str, Any] = {"anonymous_points_per_hour": 10_000_000}
            fields = getattr(Settings, "model_fields", {})
            settings = Settings(
                database_url=url,
                data_dir=Path(folder),
                environment="test",
                **{k: v for k, v in extra.items() if k in fields},
            )
            app = create_app(settings)
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                    for _ in range(100):  # warm up pools and caches
                        await client.post("/graphql", json={"query": QUERY})
                    timings = []
                    for _ in range(requests):
                        started = time.perf_counter()
                        response = await client.post("/graphql", json={"query": QUERY})
                        timings.append(time.perf_counter() - started)
                        assert response.status_code == 200
                        assert "errors" not in response.json()
        finally:
            pg.stop()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    timings = asyncio.run(_run(args.requests))
    ms = sorted(t * 1000 for t in timings)
    print(
        f"{args.requests} requests in {sum(timings):.2f} s: mean {statistics.mean(ms):.3f} ms, "
        f"p50 {ms[len(ms) // 2]:.3f} ms, p95 {ms[int(len(ms) * 0.95)]:.3f} ms"
    )


if __name__ == "__main__":
    main()
