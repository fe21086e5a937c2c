"""The race harness (`python -m bench.races`, issue 12) runs every race against a served hub and
reports what it saw.

It checks that the harness runs and reports, and that each race, run once, leaves no invariant
broken and no unexpected error (K7, F5, K3 and the double clicks; issue 12's "0 and 0"). The
full figures (20 runs of each race) are in docs/integrity.md.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bench import races
from bench.races.catalogue import RACES
from bench.races.report import COLUMNS, table, write_csv

# Refusals that mean the harness's own request or arrangement is wrong (a malformed document,
# a token the hub refuses, an id or a season it cannot find), never a race's outcome.
HARNESS_FAULTS = {
    "GRAPHQL_VALIDATION_FAILED",
    "BAD_REQUEST",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "INVALID_ID",
    "INVALID_INPUT",
    "INVALID_DATE",
    "SEASON_CLOSED",
    "WINDOW_CLOSED",
    "NOT_IN_CATCHMENT",
    "UNKNOWN_CERTIFICATE",
    "NOT_ELIGIBLE",
    "CHILD_TOO_OLD",
    "CHILD_TOO_YOUNG",
}


@pytest.mark.slow
async def test_every_race_runs_once_against_a_served_hub_and_is_reported(
    db_url: str, tmp_path: Path
) -> None:
    # given a hub served by `bilim serve` on the test's database, and the smallest races
    options = races.Options(
        runs=1,
        size=1,
        database_url=db_url,
        data_dir=tmp_path / "hub",
        results=tmp_path / "results",
        quiet=True,
    )

    # when every race runs once
    report = await races.run(options)

    # then every race ran, in the catalogue's order, with both racers answered over HTTP
    assert [r.name for r in report.races] == [r.name for r in RACES]
    for race in report.races:
        assert len(race.runs) == 1, race.name
        answers = race.runs[0].answers
        assert len(answers) == 2, race.name
        assert all(a.status > 0 and a.latency_ms > 0 for a in answers), (race.name, answers)
        # and the requests were well-formed, authorised and arranged right: one racer at least
        # was acknowledged, and no refusal points at the harness itself
        assert any(a.ok for a in answers), (race.name, answers)
        assert not set(race.refusals) & HARNESS_FAULTS, (race.name, race.refusals)
    # and the report says it all: the table names every race and totals the findings
    text = table(report)
    assert all(r.name in text for r in RACES)
    assert text.splitlines()[0].split()[:3] == ["race", "runs", "violations"]
    assert f"in {len(RACES)} runs" in text.splitlines()[-1]
    summary, detail = write_csv(report, options.results, "test")
    with summary.open() as f:
        rows = list(csv.DictReader(f))
    assert [r["race"] for r in rows] == [r.name for r in RACES]
    assert set(rows[0]) >= {c.replace(" ", "_") for c in COLUMNS}
    with detail.open() as f:
        assert len(list(csv.DictReader(f))) == 2 * len(RACES)
    # and the hub held every invariant and answered every racer with data or a typed refusal
    assert (report.violations, report.unexpected) == (0, 0), text
    assert report.failed is False


def test_the_command_line_selects_races_and_refuses_unknown_ones() -> None:
    options = races.parse(
        ["--runs", "3", "--seed", "9", "--races", "import-twice,enroll-vs-accept"]
    )
    assert (options.runs, options.seed) == (3, 9)
    assert [r.name for r in races.chosen(options.races)] == ["import-twice", "enroll-vs-accept"]
    with pytest.raises(SystemExit, match="unknown race"):
        races.chosen(("no-such-race",))
