"""Race harness (issue 12): real concurrent requests against a served hub, each race run on
fresh state, the invariants checked with SQL once both answers are in.

    python -m bench.races                          # `bilim serve` on an embedded PostgreSQL
    python -m bench.races --runs 50 --seed 7 --races allocate-vs-confirm,import-twice
    python -m bench.races --url http://127.0.0.1:8000/graphql \\
        --database-url postgresql://... --data-dir ~/.local/share/bilim-hub

By default the harness starts `bilim serve` as a user does, in a data folder of its own
(a temporary one unless ``--data-dir``) on a free port, with the embedded PostgreSQL; with
``--database-url`` alone the served hub uses that database instead. With ``--url`` it drives a
hub already running, arranging and checking in ``--database-url`` and signing tokens with the
key of ``--data-dir`` (the hub's data folder), as `bilim token` does. The races write into the
database (new districts, schools, people, seasons moved to today): point them at a throwaway one.

Each race runs ``--runs`` times. A run arranges its own state, sends its two racers (each on a
connection of its own) 0-250 ms apart in a random order (0-50 ms for double clicks; ``--seed``
makes the order and gaps repeatable), and checks its invariants with SQL once both answers are
in. Counted: violations (runs leaving an invariant broken) and unexpected errors (a top-level
INTERNAL_ERROR, an HTTP 5xx, an answer that is not JSON); typed refusals (user errors with a
code) are expected and listed by code. The table goes to stdout and, as CSV, to bench/results/;
the exit status is 1 when any violation or unexpected error was seen.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.races.arrange import Arena
from bench.races.catalogue import RACES, Race
from bench.races.hub import Racer, Tokens, served
from bench.races.report import RaceResult, Report, RunRecord, table, write_csv
from resolvers.settings import default_data_dir

RESULTS = Path(__file__).resolve().parent.parent / "results"


@dataclass
class Options:
    runs: int = 20
    seed: int = 1
    races: tuple[str, ...] = ()
    # Other children arranged beside the racing one (applicants of the same school, ...).
    size: int = 6
    url: str | None = None
    database_url: str | None = None
    data_dir: Path | None = None
    workers: int = 1
    results: Path = RESULTS
    quiet: bool = False
    # Names this invocation's files in ``results`` (the CSVs, the served hub's log).
    stamp: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y%m%dT%H%M%S"))


def chosen(names: tuple[str, ...]) -> list[Race]:
    if not names:
        return list(RACES)
    known = {r.name: r for r in RACES}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown race(s) {', '.join(unknown)}; races: {', '.join(known)}")
    return [known[n] for n in names]


async def run_race(
    race: Race, arena: Arena, racers: tuple[Racer, Racer], runs: int, rng: random.Random, size: int
) -> RaceResult:
    result = RaceResult(race.name, race.finding, race.summary)
    assert arena.checker is not None
    for n in range(1, runs + 1):
        async with arena.town() as town:
            setup = await race.arrange(town, size)
        gap_ms = rng.uniform(0, race.gap_ms)
        first = rng.randrange(2)
        delays = (0.0, gap_ms / 1000) if first == 0 else (gap_ms / 1000, 0.0)
        await asyncio.gather(*(r.warm() for r in racers))
        answers = await asyncio.gather(
            *(
                racer.send(request, delay)
                for racer, request, delay in zip(racers, setup.requests, delays, strict=True)
            )
        )
        violations = await setup.check(arena.checker, answers)
        result.runs.append(RunRecord(n, setup.requests[first].racer, gap_ms, answers, violations))
    return result


async def race_all(options: Options, url: str, database_url: str, data_dir: Path) -> Report:
    arena = Arena(database_url, Tokens(data_dir))
    racers = (Racer(url), Racer(url))
    rng = random.Random(options.seed)
    report = Report([], options.seed, options.runs)
    try:
        await arena.open()
        for race in chosen(options.races):
            result = await run_race(race, arena, racers, options.runs, rng, options.size)
            report.races.append(result)
            if not options.quiet:
                print(
                    f"{race.name}: {result.violating_runs} violation(s), "
                    f"{result.unexpected.total()} unexpected in {len(result.runs)} runs",
                    file=sys.stderr,
                )
    finally:
        for racer in racers:
            await racer.close()
        await arena.close()
    return report


async def run(options: Options) -> Report:
    """Run the races chosen in ``options`` against the hub they name (or one started here)."""
    chosen(options.races)  # unknown names fail before a hub starts
    if options.url:
        if not options.database_url:
            raise SystemExit("--url needs --database-url (to arrange each run and check it)")
        data_dir = options.data_dir or default_data_dir()
        return await race_all(options, options.url, options.database_url, data_dir)
    own = options.data_dir is None
    data_dir = options.data_dir or Path(tempfile.mkdtemp(prefix="bilim-races-"))
    try:
        with served(data_dir, workers=options.workers, database_url=options.database_url) as hub:
            try:
                assert hub.database_url is not None
                return await race_all(options, hub.url, hub.database_url, data_dir)
            finally:
                # The hub logs each unexpected error with its request id: keep the log.
                if hub.log is not None and hub.log.exists():
                    options.results.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(hub.log, options.results / f"races-{options.stamp}-hub.log")
    finally:
        if own:
            shutil.rmtree(data_dir, ignore_errors=True)


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.races",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--runs", type=int, default=20, help="runs of each race (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the racers' order and gaps")
    parser.add_argument(
        "--races",
        default="",
        help="comma-separated names (default: all): " + ", ".join(r.name for r in RACES),
    )
    parser.add_argument(
        "--size", type=int, default=6, help="other applicants arranged in each run (default 6)"
    )
    parser.add_argument("--url", help="/graphql of a hub already running")
    parser.add_argument("--database-url", help="the database that hub serves")
    parser.add_argument("--data-dir", type=Path, help="the hub's data folder (its signing key)")
    parser.add_argument("--workers", type=int, default=1, help="workers of the served hub")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of the CSV files")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.size < 1:
        parser.error("--runs and --size are at least 1")
    return Options(
        runs=args.runs,
        seed=args.seed,
        races=tuple(n.strip() for n in args.races.split(",") if n.strip()),
        size=args.size,
        url=args.url,
        database_url=args.database_url,
        data_dir=args.data_dir.expanduser().resolve() if args.data_dir else None,
        workers=args.workers,
        results=args.results,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    report = asyncio.run(run(options))
    print(table(report))
    summary, detail = write_csv(report, options.results, options.stamp)
    print(f"written to {summary} and {detail}")
    return 1 if report.failed else 0
