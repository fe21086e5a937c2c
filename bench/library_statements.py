"""Where a new catalogue search's time goes, search by search: the window statement of each of
the library benchmark's searches (``bench.library``'s mix, in its Zipf rank order) run with
``EXPLAIN (ANALYZE, BUFFERS)`` against the benchmark's kept database, ranked by cost and summed
by the way it was read (walked, the GIN index, nothing found) and by its filter.

    python -m bench.library_statements --data-dir DIR [--first 600] [--top 20]

Needs the data directory ``bench.library`` built (its embedded PostgreSQL; the benchmark's
first run loads it). Times are EXPLAIN's (planning and execution, wall clock: on a shared
machine they carry its load), so read the shares and the buffers, and measure CPU with the
benchmark itself. Each search runs once before it is measured (its pages cached), the way a
worker's new search finds a warm database."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from bench.api import RESULTS
from bench.library import search_variables
from models import BibKind, Language, database
from resolvers.library import CatalogueFilter, SearchKey, search, windows

PARTS = ("CTE query", "CTE sampled", "CTE walk", "CTE gin_open", "CTE gin_shut", "CTE gin")


def catalogue_filter(given: dict[str, Any] | None) -> CatalogueFilter:
    """The GraphQL filter input of the mix as the resolvers take it."""
    given = given or {}
    return CatalogueFilter(
        language=Language[given["language"]] if "language" in given else None,
        kind=BibKind[given["kind"]] if "kind" in given else None,
        grade=given.get("grade"),
        school_subject=given.get("schoolSubject"),
        open_access=given.get("openAccess"),
    )


def _node(plan: dict[str, Any], name: str) -> dict[str, Any] | None:
    if plan.get("Subplan Name") == name:
        return plan
    for child in plan.get("Plans", []):
        found = _node(child, name)
        if found is not None:
            return found
    return None


def _buffers(node: dict[str, Any]) -> int:
    return int(node.get("Shared Hit Blocks", 0)) + int(node.get("Shared Read Blocks", 0))


async def explain(session: AsyncSession, key: SearchKey) -> dict[str, Any]:
    """One search's window statement, as a new search sends it, explained."""
    words = search.search_words(key.text or "")
    stmt = windows.window_stmt(key, words)
    sql = str(stmt.compile(session.bind, compile_kwargs={"literal_binds": True}))
    await session.execute(text(sql))
    [plan] = await session.scalar(text(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}"))
    row: dict[str, Any] = {
        "ms": round(plan["Planning Time"] + plan["Execution Time"], 3),
        "planning_ms": plan["Planning Time"],
        "buffers": _buffers(plan["Plan"]),
    }
    for name in PARTS:
        node = _node(plan["Plan"], name)
        if node is not None:
            row[name.split()[1]] = {
                "ms": node.get("Actual Total Time", 0.0),
                "rows": node.get("Actual Rows", 0),
                "buffers": _buffers(node),
            }
    walked = row.get("walk", {}).get("rows", 0) >= search.WINDOW
    found = windows._window(list((await session.execute(text(sql))).all()))
    row["counted"] = found.facets.counted
    row["read_by"] = "walk" if walked else "gin" if found.facets.counted else "gin, nothing"
    return row


async def measure(url: str, first: int) -> list[dict[str, Any]]:
    engine = create_async_engine(database.async_url(url))
    rows = []
    try:
        async with AsyncSession(engine) as session:
            for rank, asked in enumerate(search_variables(5000, 1)[:first]):
                if not search.has_words(asked["search"]):
                    continue
                key = SearchKey.of(asked["search"], catalogue_filter(asked["filter"]))
                rows.append({"rank": rank, **asked, **await explain(session, key)})
    finally:
        await engine.dispose()
    return rows


def report(rows: list[dict[str, Any]], top: int) -> None:
    total = sum(r["ms"] for r in rows)
    print(f"{len(rows)} searches, mean {total / len(rows):.2f} ms (planning and execution)")
    for name in PARTS:
        part = name.split()[1]
        mean = sum(r.get(part, {}).get("ms", 0.0) for r in rows) / len(rows)
        print(f"  {part:9} mean {mean:6.2f} ms")
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[(r["read_by"], ",".join(sorted(r["filter"] or {})) or "-")].append(r)
    print("by how the window was read and the filter:")
    for (read_by, flt), group in sorted(groups.items(), key=lambda g: -sum(r["ms"] for r in g[1])):
        spent = sum(r["ms"] for r in group)
        print(
            f"  {read_by:13} {flt:14} {len(group):5} searches, {100 * spent / total:4.1f}% of the"
            f" time, median {statistics.median(r['ms'] for r in group):7.2f} ms,"
            f" {statistics.median(r['buffers'] for r in group):7.0f} buffers"
        )
    print(f"the {top} most costly:")
    for r in sorted(rows, key=lambda r: -r["ms"])[:top]:
        print(
            f"  {r['ms']:8.2f} ms {r['buffers']:6} buffers  {r['read_by']:13} {r['counted']:6}"
            f" matches  {r['search']!r} {r['filter'] or ''}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=RESULTS / "library-data")
    parser.add_argument("--first", type=int, default=600, help="the mix's first N searches")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    embedded = database.EmbeddedPostgres(args.data_dir)
    embedded.start()
    try:
        rows = asyncio.run(measure(embedded.url(database.EMBEDDED_DATABASE), args.first))
    finally:
        embedded.stop()
    report(rows, args.top)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "library-statements.json"
    out.write_text(json.dumps(rows, indent=1, ensure_ascii=False))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
