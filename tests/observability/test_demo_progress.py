"""Issue 20: the demo data's progress moves while it loads (it sat at 0 and jumped to the
end), and the end says how much was loaded."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from resolvers import demo
from serving import loaded_line

# The module (resolvers.demo's `load` is the function of the same name).
demo_load = importlib.import_module("resolvers.demo.load")


class _RecordingBar:
    """Stands for the progress bar on a terminal: records each step."""

    made: list[_RecordingBar] = []

    def __init__(self, enabled: bool, total: int) -> None:
        self.total = total
        self.steps: list[int] = []
        _RecordingBar.made.append(self)

    def describe(self, text: str) -> None:
        pass

    def advance(self, units: int) -> None:
        self.steps.append(units)

    def stop(self) -> None:
        pass


async def test_demo_progress_moves_in_many_steps_to_its_total(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the demo's dataset, its progress bar recorded
    monkeypatch.setattr(demo_load, "_Bar", _RecordingBar)
    _RecordingBar.made.clear()
    # when it loads
    counts: dict[str, Any] = await demo.load(db_url, scale=demo.DEMO_SCALE, seed=1, progress=True)
    # then the bar moved in tens of steps, reaching its total
    (bar,) = _RecordingBar.made
    assert len(bar.steps) >= 20, bar.steps
    assert sum(bar.steps) == bar.total
    # and the closing line says how much was loaded
    line = loaded_line(counts, 12.4)
    assert line.startswith("Demo data loaded in 12 s: ")
    assert f"{counts['institutions']:,} institutions" in line
