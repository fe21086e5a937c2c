"""Where the test suite's time goes, per file, from pytest's JUnit report.

    python -m pytest -n 2 --dist loadfile -q --junitxml=/tmp/suite.xml
    python -m bench.suite_times /tmp/suite.xml [--top 20]

Prints each test file's summed test time (set-up, call and tear-down of its tests) and count,
slowest first, then the sum over the suite. Under ``--dist loadfile`` a file runs on one
worker, so the sum divided by the workers is the best wall time the run can reach, and a file
longer than that share decides the run's end. Wall-clock seconds taken on a loaded machine are
noise: compare the sums of two runs taken under the same load, with ``uptime`` beside them."""

from __future__ import annotations

import argparse
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path


def per_file(report: Path) -> dict[str, tuple[float, int]]:
    """Each test file's summed time in seconds and its number of tests."""
    seconds: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for case in ET.parse(report).getroot().iter("testcase"):
        classname = case.get("classname", "")
        # "tests.lms.test_marks.TestX" -> tests/lms/test_marks.py
        parts = classname.split(".")
        module = next((i for i, p in enumerate(parts) if p.startswith("test_")), len(parts) - 1)
        name = "/".join(parts[: module + 1]) + ".py"
        seconds[name] += float(case.get("time", 0.0))
        counts[name] += 1
    return {name: (seconds[name], counts[name]) for name in seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="pytest's --junitxml file")
    parser.add_argument("--top", type=int, default=20, help="files to list")
    args = parser.parse_args()
    files = per_file(args.report)
    total = sum(s for s, _ in files.values())
    tests = sum(n for _, n in files.values())
    for name, (seconds, count) in sorted(files.items(), key=lambda i: -i[1][0])[: args.top]:
        print(f"{seconds:9.1f} s {count:5d} tests  {seconds / count:6.2f} s/test  {name}")
    print(f"{total:9.1f} s {tests:5d} tests  {total / max(tests, 1):6.2f} s/test  (all files)")


if __name__ == "__main__":
    main()
