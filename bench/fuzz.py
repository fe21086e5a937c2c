"""Schema fuzzing: schemathesis generates operations for every query and mutation of the
committed schema; each is sent to the hub as several callers; any 5xx response or
INTERNAL_ERROR is a finding.

    python -m bench.fuzz --examples 100      # large run (embedded PostgreSQL)

tests/security/test_fuzz.py runs the same at a small budget."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


@dataclass
class Findings:
    """What a fuzz run saw: responses by status and code, and the failures."""

    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str, int, Any]] = field(default_factory=list)


def generate(examples: int) -> dict[str, list[str]]:
    """Up to ``examples`` documents per operation ("Query.persons", ...), derandomised so
    that a run is repeatable."""
    import schemathesis.graphql
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from schemathesis.graphql import nodes

    # A file can only arrive as a multipart upload, never inside the document: a string stands
    # in for it, which the hub must refuse cleanly.
    schemathesis.graphql.scalar("Upload", st.just("not-a-file").map(nodes.String))
    decimals = st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False)
    schemathesis.graphql.scalar("Decimal", decimals.map(lambda d: nodes.String(str(d))))
    schema = schemathesis.graphql.from_file(SCHEMA_FILE.read_text())
    out: dict[str, list[str]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        out[operation.label] = _draw(operation, examples, settings, given, HealthCheck)
    return out


def _draw(operation: Any, examples: int, settings: Any, given: Any, health: Any) -> list[str]:
    bodies: list[str] = []

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(health),
    )
    @given(operation.as_strategy())
    def collect(case: Any) -> None:
        bodies.append(str(case.body))

    collect()
    return list(dict.fromkeys(bodies))[:examples]


async def send_all(
    client: Any, documents: dict[str, list[str]], tokens: dict[str, str | None]
) -> Findings:
    """Send every document as every caller; record statuses, codes and failures."""
    findings = Findings()
    for label, bodies in documents.items():
        for body in bodies:
            for who, token in tokens.items():
                headers = {"authorization": f"Bearer {token}"} if token else {}
                response = await client.post("/graphql", json={"query": body}, headers=headers)
                findings.sent += 1
                findings.statuses[response.status_code] += 1
                try:
                    payload = response.json()
                except ValueError:
                    payload = {"raw": response.text[:200]}
                codes = [
                    str((e.get("extensions") or {}).get("code"))
                    for e in (payload.get("errors") or [])
                ]
                findings.codes.update(codes)
                if (
                    response.status_code >= 500
                    or "INTERNAL_ERROR" in codes
                    or (payload.get("errors") and not all(c != "None" for c in codes))
                ):
                    findings.failures.append((label, who, response.status_code, payload))
    return findings


async def _run(examples: int) -> Findings:
    import httpx

    from app import create_app
    from models import database
    from resolvers.access import KeyRing, Role, issue_token
    from resolvers.settings import Settings

    started = time.perf_counter()
    documents = await asyncio.to_thread(generate, examples)
    total = sum(len(b) for b in documents.values())
    print(
        f"generated {total} documents for {len(documents)} operations "
        f"in {time.perf_counter() - started:.1f} s"
    )
    with tempfile.TemporaryDirectory() as folder:
        pg = database.EmbeddedPostgres(Path(folder))
        server = pg.start()
        try:
            await database.ensure_database(server, "fuzz")
            url = pg.url("fuzz")
            await asyncio.to_thread(database.migrate, url)
            settings = Settings(
                database_url=url,
                data_dir=Path(folder),
                environment="test",
                points_per_hour=10_000_000,
                anonymous_points_per_hour=10_000_000,
            )
            app = create_app(settings)
            ring = KeyRing.load(settings)
            tokens = {
                "anonymous": None,
                "ministry": issue_token(ring, settings, role=Role.MINISTRY),
                "guardian": issue_token(ring, settings, role=Role.GUARDIAN, person_id=1),
            }
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                    started = time.perf_counter()
                    findings = await send_all(client, documents, tokens)
                    elapsed = time.perf_counter() - started
        finally:
            pg.stop()
    print(f"sent {findings.sent} requests in {elapsed:.1f} s; statuses {dict(findings.statuses)}")
    print("codes:", dict(findings.codes.most_common()))
    print(f"failures: {len(findings.failures)}")
    for failure in findings.failures[:20]:
        print("  ", failure)
    return findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=100, help="documents per operation")
    args = parser.parse_args()
    findings = asyncio.run(_run(args.examples))
    raise SystemExit(1 if findings.failures else 0)


if __name__ == "__main__":
    main()
