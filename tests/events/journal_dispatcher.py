"""A dispatcher process for the crash test: one consumer that writes every event it is given
to a journal file (flushed to disk before the batch is acknowledged), slowly enough that a
kill lands mid-batch. Run: ``python -m tests.events.journal_dispatcher URL JOURNAL DELAY``."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence

from models import database
from resolvers.events import Dispatcher, DispatchSettings, Event
from resolvers.events.wakeup import Wakeup


class Journal:
    name = "journal"

    def __init__(self, path: str, delay: float) -> None:
        self.file = open(path, "a")  # noqa: SIM115 (kept open for the process's life)
        self.delay = delay

    async def deliver(self, events: Sequence[Event]) -> None:
        for event in events:
            self.file.write(f"{event.id}\n")
            self.file.flush()
            os.fsync(self.file.fileno())
            await asyncio.sleep(self.delay)


async def main(url: str, journal: str, delay: float) -> None:
    engine = database.create_engine(url, pool_size=2)
    wakeup = Wakeup(url)
    wakeup.start()
    dispatcher = Dispatcher(
        engine,
        [Journal(journal, delay)],
        wakeup,
        DispatchSettings(batch=20, lease_seconds=2.0, poll_seconds=0.1),
    )
    await dispatcher.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
