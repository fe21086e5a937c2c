"""How long the commands that do not serve take to start: `bilim --help` and `bilim token`
(issue 20: under a second; they took 8-11 s when they built the schema).

    python -m bench.startup [--runs 5]

Prints, per command, the median wall time and the median CPU time (user + system of the
child process) over the runs, with the machine's load: on a busy machine read the CPU time,
which load inflates far less than the wall time."""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

COMMANDS = {
    "bilim --help": ["--help"],
    "bilim token": ["token", "--role", "ministry"],
    "bilim token --help": ["token", "--help"],
}


def measure(args: list[str], data_dir: str) -> tuple[float, float]:
    """Wall and CPU seconds of one run of the command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", *args],
        env={**os.environ, "BILIM_DATA_DIR": data_dir},
        capture_output=True,
        check=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as data_dir:
        for name, args in COMMANDS.items():
            measure(args, data_dir)  # warm the file cache and create the signing key
            walls, cpus = zip(*(measure(args, data_dir) for _ in range(runs)), strict=True)
            print(
                f"{name:<20} wall {statistics.median(walls):.2f} s, "
                f"CPU {statistics.median(cpus):.2f} s (median of {runs})"
            )


if __name__ == "__main__":
    main()
