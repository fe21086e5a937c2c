"""What the races found: per race, runs, violations, unexpected errors, typed refusals and
latency; printed as a table and written as CSV (one row per race, and one per run)."""

from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.races.hub import Answer


@dataclass
class RunRecord:
    """One run of a race: who went first, how far apart, what each got, what broke."""

    run: int
    first: str
    gap_ms: float
    answers: list[Answer]
    violations: list[str]


@dataclass
class RaceResult:
    name: str
    finding: str
    summary: str
    runs: list[RunRecord] = field(default_factory=list)

    @property
    def violating_runs(self) -> int:
        return sum(1 for r in self.runs if r.violations)

    @property
    def violations(self) -> Counter[str]:
        return Counter(v for r in self.runs for v in r.violations)

    @property
    def unexpected(self) -> Counter[str]:
        return Counter(u for r in self.runs for a in r.answers for u in a.unexpected)

    @property
    def refusals(self) -> Counter[str]:
        return Counter(c for r in self.runs for a in r.answers for c in a.refusals)

    @property
    def both_acknowledged(self) -> int:
        return sum(1 for r in self.runs if all(a.ok for a in r.answers))

    @property
    def latencies(self) -> list[float]:
        return sorted(a.latency_ms for r in self.runs for a in r.answers)

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the answers' latencies, in ms."""
        values = self.latencies
        if not values:
            return 0.0
        return values[max(0, math.ceil(p / 100 * len(values)) - 1)]


@dataclass
class Report:
    races: list[RaceResult]
    seed: int
    runs: int

    @property
    def violations(self) -> int:
        return sum(r.violating_runs for r in self.races)

    @property
    def unexpected(self) -> int:
        return sum(r.unexpected.total() for r in self.races)

    @property
    def failed(self) -> bool:
        return self.violations > 0 or self.unexpected > 0


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{k} {n}" for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


COLUMNS = (
    "race",
    "runs",
    "violations",
    "unexpected",
    "both ok",
    "p50 ms",
    "p99 ms",
    "typed refusals",
    "broken invariants",
    "unexpected errors",
)


def rows(report: Report) -> list[list[str]]:
    return [
        [
            r.name,
            str(len(r.runs)),
            str(r.violating_runs),
            str(r.unexpected.total()),
            str(r.both_acknowledged),
            f"{r.percentile(50):.0f}",
            f"{r.percentile(99):.0f}",
            _counts(r.refusals),
            _counts(r.violations),
            _counts(r.unexpected),
        ]
        for r in report.races
    ]


def table(report: Report) -> str:
    """The report as a fixed-width table (violations: runs that broke an invariant;
    unexpected: answers with an unexpected error; both ok: runs where both racers were
    acknowledged)."""
    body = rows(report)
    numeric = len(COLUMNS) - 3
    widths = [max(len(c), *(len(row[i]) for row in body)) for i, c in enumerate(COLUMNS)]
    lines = []
    for row in [list(COLUMNS), *body]:
        cells = [
            cell.rjust(widths[i]) if 0 < i < numeric else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    total = (
        f"{report.violations} run(s) with violations, {report.unexpected} unexpected error(s) "
        f"in {sum(len(r.runs) for r in report.races)} runs (seed {report.seed})"
    )
    return "\n".join([*lines, "", total])


def write_csv(report: Report, folder: Path, stamp: str) -> tuple[Path, Path]:
    """``races-<stamp>.csv`` (a row per race) and ``races-<stamp>-runs.csv`` (a row per run)."""
    folder.mkdir(parents=True, exist_ok=True)
    summary, detail = folder / f"races-{stamp}.csv", folder / f"races-{stamp}-runs.csv"
    with summary.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*(c.replace(" ", "_") for c in COLUMNS), "finding", "seed", "what"])
        for race, row in zip(report.races, rows(report), strict=True):
            writer.writerow([*row, race.finding, report.seed, race.summary])
    with detail.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                *("race", "run", "first", "gap_ms", "racer", "status", "latency_ms"),
                *("unexpected", "refusals", "violations"),
            ]
        )
        for race in report.races:
            for run in race.runs:
                for answer in run.answers:
                    writer.writerow(
                        [
                            race.name,
                            run.run,
                            run.first,
                            f"{run.gap_ms:.1f}",
                            answer.racer,
                            answer.status,
                            f"{answer.latency_ms:.1f}",
                            " ".join(answer.unexpected),
                            " ".join(answer.refusals),
                            "; ".join(run.violations),
                        ]
                    )
    return summary, detail
