"""The hub's notion of "today": the calendar date in Kyrgyzstan (UTC+6), not the server's."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

KYRGYZSTAN = ZoneInfo("Asia/Bishkek")


def today() -> date:
    """Today's date in Bishkek."""
    return datetime.now(KYRGYZSTAN).date()
