"""Subscribers' objects kept out of full collections (issue 18, resolvers/events/collector.py):
frozen in batches once opened, everything collected and frozen again once half of the frozen
subscriptions closed or an hour passed; and a subscription's events do not accumulate the
executor's memo of collected fields (schema/execution.py), which grew the worker with every
event and made its full collections longer."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any, cast

import pytest
from graphql import parse

from resolvers.events.collector import LongLived
from resolvers.events.subscriptions import LiveFeed
from schema import schema
from schema.execution import SettlingExecutor


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def frozen_back() -> Iterator[None]:
    """Whatever a test freezes goes back to the collector after it."""
    yield
    gc.unfreeze()


def test_subscriptions_are_frozen_in_batches_and_refrozen_when_half_closed(
    frozen_back: None,
) -> None:
    clock = Clock()
    long_lived = LongLived(batch=3, settle_seconds=60, full_seconds=3600, clock=clock)
    feed = LiveFeed(cast(Any, None), None, poll_seconds=1.0, long_lived=long_lived)
    # given two subscriptions: under a batch, nothing is frozen yet
    subs = [feed.subscribe(lambda e: True, {n}) for n in range(2)]
    assert long_lived.step() is None
    # when a third opens, the batch is frozen: the objects alive now leave the collector
    subs.append(feed.subscribe(lambda e: True, {2}))
    before = gc.get_freeze_count()
    assert long_lived.step() == "frozen"
    assert gc.get_freeze_count() > before
    assert (long_lived.open, long_lived.frozen, long_lived.new) == (3, 3, 0)
    # and one more is frozen alone once a minute passed
    subs.append(feed.subscribe(lambda e: True, {3}))
    assert long_lived.step() is None
    clock.now = 61
    assert long_lived.step() == "frozen"
    assert long_lived.frozen == 4
    # when frozen ones close, under half of them nothing happens; at the batch, all is
    # unfrozen, collected once and frozen again
    subs.pop().close()
    subs.pop().close()
    assert long_lived.step() is None
    subs.pop().close()
    assert long_lived.step() == "refrozen"
    assert (long_lived.open, long_lived.frozen, long_lived.gone) == (1, 1, 0)
    # and closing one twice counts once
    subs[0].close()
    subs[0].close()
    assert long_lived.open == 0


def test_a_full_collection_comes_at_least_hourly_once_something_was_frozen(
    frozen_back: None,
) -> None:
    clock = Clock()
    long_lived = LongLived(batch=1, clock=clock)
    clock.now = 3599
    assert long_lived.step() is None  # nothing frozen here yet: nothing to reclaim
    long_lived.opened()
    assert long_lived.step() == "frozen"
    # an hour after the process's start (its last full collection), then hourly
    clock.now = 3600
    assert long_lived.step() == "refrozen"
    clock.now = 7199
    assert long_lived.step() is None
    clock.now = 7200
    assert long_lived.step() == "refrozen"


def test_each_event_of_a_subscription_gets_its_own_memo_of_collected_fields() -> None:
    document = parse("subscription { applicationStatusChanged { status at application { id } } }")
    executor = SettlingExecutor.build(schema._schema, document)
    assert not isinstance(executor, list), executor  # the document is valid
    # when two events are executed
    first = executor.build_per_event_executor({"a": 1})
    second = executor.build_per_event_executor({"a": 2})
    # then neither writes into the subscription's memo nor into the other's (the memo is
    # keyed by the identity of each execution's field lists: shared, it grew by every event)
    memos = {id(executor._relevant_sub_fields), id(first._relevant_sub_fields)}
    assert len(memos | {id(second._relevant_sub_fields)}) == 3
    assert first.root_value == {"a": 1}
