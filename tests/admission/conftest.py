"""Admission scenarios run on a calendar the test sets: `on_day(date)` moves the hub's today."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from resolvers import clock


@pytest.fixture
def on_day(monkeypatch: pytest.MonkeyPatch) -> Callable[[date], None]:
    def move(day: date) -> None:
        monkeypatch.setattr(clock, "today", lambda: day)

    return move
