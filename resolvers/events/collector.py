"""Subscribers' sockets and Python's cyclic collector (issue 18: commit to socket p99).

A worker with 2,000 open subscriptions holds ~200 tracked objects per socket (its tasks,
coroutines, generators, the GraphQL operation's state): ~450,000 objects that live as long as
the socket. Every full collection walks all of them, about half a second of CPU on this
machine, every 5-7 s at 200 events/s, and every event pushed meanwhile waits: that pause was
the tail of commit-to-socket latency. The worker already freezes what it loaded at start
(app.py: ``gc.freeze()``); this moves the sockets' objects there too, in batches, once they
have settled:

* after ``batch`` new subscriptions (or any, once ``settle_seconds`` passed since the last
  freeze) and a quiet moment: one collection of what is not frozen (cheap: the frozen are not
  walked), then ``gc.freeze()``;
* cyclic garbage of a frozen socket that closed is not collected while frozen (plain
  reference counting still frees the rest): once as many frozen subscriptions closed as half
  of those frozen (and at least ``batch``), everything is unfrozen, collected once (the one
  full pause, rare) and frozen again; so it is, whatever closed, once ``full_seconds`` (an
  hour) passed since the last full collection while something was frozen here (any other
  frozen object that died with a cycle is reclaimed then).

Measured with `python -m bench.events --backlog 0 --seconds 30` (2,000 sockets, 200 events/s):
full collections during the load 390-480 ms -> 65-180 ms of CPU, p99 469-513 -> 193 ms.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger("bilim.events")


class LongLived:
    """Counts this worker's subscriptions opened and closed, and freezes them as above."""

    def __init__(
        self,
        *,
        batch: int = 50,
        every_seconds: float = 2.0,
        settle_seconds: float = 60.0,
        full_seconds: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.batch = batch
        self.every_seconds = every_seconds
        self.settle_seconds = settle_seconds
        self.full_seconds = full_seconds
        self.clock = clock
        self.open = 0
        self.frozen = 0  # subscriptions open at the last freeze, or frozen since
        self.new = 0  # opened since the last freeze
        self.gone = 0  # frozen ones closed since the last full collection
        self.last = self.last_full = clock()
        self.freezes = 0
        self.refreezes = 0

    def opened(self) -> None:
        self.open += 1
        self.new += 1

    def closed(self) -> None:
        self.open -= 1
        if self.new > 0:
            self.new -= 1  # not frozen yet: the collector still walks it
        else:
            self.gone += 1

    def step(self) -> str | None:
        """Freeze or refreeze if it is time; what was done."""
        now = self.clock()
        overdue = self.freezes > 0 and now - self.last_full >= self.full_seconds
        if overdue or self.gone >= max(self.batch, self.frozen // 2):
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self.frozen, self.new, self.gone = self.open, 0, 0
            self.last = self.last_full = self.clock()
            self.refreezes += 1
            return "refrozen"
        settled = now - self.last >= self.settle_seconds
        if self.new >= self.batch or (self.new > 0 and settled):
            gc.collect()
            gc.freeze()
            self.frozen += self.new
            self.new = 0
            self.last = self.clock()
            self.freezes += 1
            return "frozen"
        return None

    async def run(self) -> None:
        """Every ``every_seconds``: a step, once no subscription opened for that long (a burst
        of connections is frozen when it is over, not at each of its sockets)."""
        seen = -1
        while True:
            await asyncio.sleep(self.every_seconds)
            if self.new == seen or self.gone or self.clock() - self.last >= self.settle_seconds:
                done = self.step()
                if done is not None:
                    log.debug("events.subscribers_%s", done, extra={"open": self.open})
            seen = self.new
