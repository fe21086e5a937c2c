"""The change feed: every create, update and delete of the types a partner may read, in the
outbox's order, resumable by cursor (OneRoster's "changed since"); a cursor from before the
retention can no longer be resumed and says so (``CURSOR_EXPIRED``: resync, then take a new
cursor)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models import OutboxRetention
from resolvers.errors import RequestError
from resolvers.events.errors import EventsCode
from resolvers.events.outbox import HORIZON_SQL, MAX_ID, Event, Position, read_after

MAX_CHANGES = 500


class ChangeKind(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


# What an event's verb (the topic after the domain) says happened to its object.
CREATING_VERBS = (
    "registered",
    "created",
    "applied",
    "submitted",
    "announced",
    "opened",
    "planned",
    "added",
    "appointed",
    "linked",
    "offered",
    "issued",
    "enrolled",
    "imported",
)
DELETING_VERBS = ("deleted", "erased")
# Topics whose verb reads otherwise than what they do to their object.
KINDS: dict[str, ChangeKind] = {
    "preschool.season_opened": ChangeKind.CREATED,
    "admission.season_opened": ChangeKind.CREATED,
    "preschool.free_places_declared": ChangeKind.UPDATED,
    "people.pin_changed": ChangeKind.UPDATED,
}


def change_kind(topic: str) -> ChangeKind:
    """Created, updated or deleted, from the event's topic."""
    known = KINDS.get(topic)
    if known is not None:
        return known
    verb = topic.partition(".")[2]
    if verb.endswith(DELETING_VERBS):
        return ChangeKind.DELETED
    if verb.endswith(CREATING_VERBS):
        return ChangeKind.CREATED
    return ChangeKind.UPDATED


@dataclass(frozen=True)
class ChangePage:
    events: list[Event]
    # Where the next pull starts: after the last change, or after every settled event
    # when the page reached the end (so a quiet type does not rescan the same events).
    end: Position
    has_more: bool


async def pruned_through(session: AsyncSession) -> Position:
    """Events up to here are gone (0, 0 when nothing was pruned yet)."""
    row = (
        await session.execute(select(OutboxRetention.pruned_txid, OutboxRetention.pruned_id))
    ).first()
    return Position(0, 0) if row is None else Position(row.pruned_txid, row.pruned_id)


async def current_cursor(session: AsyncSession) -> Position:
    """The cursor of now: take it before a full sync, pull changes since it after."""
    horizon = int((await session.execute(text(f"SELECT {HORIZON_SQL}"))).scalar_one())
    return Position(horizon - 1, MAX_ID)


async def changes_since(
    session: AsyncSession,
    since: Position | None,
    aggregate_types: Sequence[str],
    first: int,
) -> ChangePage:
    """Up to ``first`` changes of ``aggregate_types`` after ``since`` (from the oldest kept
    when None); CURSOR_EXPIRED when events after ``since`` were already pruned."""
    pruned = await pruned_through(session)
    if since is None:
        since = pruned
    elif since < pruned:
        raise RequestError(
            EventsCode.CURSOR_EXPIRED,
            "Changes after this cursor are no longer kept: resync the types you mirror, "
            "then pull changes from a new cursor (changesCursor)",
        )
    if not aggregate_types:
        return ChangePage([], since, False)
    events = await read_after(session, since, first + 1, aggregate_types=aggregate_types)
    if len(events) > first:
        return ChangePage(events[:first], events[first - 1].position, True)
    end = max(since, await current_cursor(session))
    if events:
        end = max(end, events[-1].position)
    return ChangePage(events, end, False)
