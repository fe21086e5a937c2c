"""Who an event concerns, worked out once per batch of events for every subscriber of a
worker (the live feed's router, resolvers/events/subscriptions.py).

For each application a batch of events is about, the application is read once as the system
and the current guardians of its owner (the child; the applicant at university or abroad)
once for all, in one statement per node type and one for the guardianships: then a guardian's
or a pupil's subscription decides in memory, by the same rule its row rule states in SQL
(:meth:`View.readable_by`, held equal to the SQL rules by tests/events/test_audience.py), and
its push reads nothing more. Officers' subscriptions still read through their row rule, once
per event for all officers of one scope (schema/events/subscriptions.py).

Each event also gets its routing keys: the applications it is about and the people who may
read them, the guardian a new guardianship names, the kindergartens a queue event names, the
pupils whose diary it changes."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Collection, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from resolvers.access import PERSONAL_ROLES, Principal, Role
from resolvers.context import Context
from resolvers.events import Event
from resolvers.people.loaders import GuardianshipsByChildLoader
from resolvers.relay import CursorKeys
from schema.events.catalogue import applications_of
from schema.node import NODE_RESOLVERS

log = logging.getLogger("bilim.events")

SYSTEM = Principal(subject="events:subscriptions", role=Role.MINISTRY)
# What its owner reads themself: the applicant their application at university or abroad
# (people.rules.self_or_child), a person themself (person_readable: a pupil their diary); a
# kindergarten or first-grade application is read by the child's guardians only.
SELF_READ = frozenset({"AdmissionApplication", "ForeignApplication", "Person"})
# Every application event carries this key (officers following everything they may read).
ALL_APPLICATIONS: tuple[str] = ("applications",)
# An application whose readers could not be worked out (its subscribers read it themselves).
UNRESOLVED: tuple[str] = ("applications-unresolved",)
# Events that change a pupil's diary: marks, attendance, homework (issue 15, S4).
DIARY_TOPICS = frozenset(
    {
        "lms.marks_recorded",
        "lms.attendance_recorded",
        "lms.homework_assigned",
        "lms.homework_reviewed",
    }
)


def application_key(app: tuple[str, int]) -> tuple[str, str, int]:
    return ("application", app[0], app[1])


def reader_key(person_id: int) -> tuple[str, int]:
    return ("reader", person_id)


def guardian_key(person_id: int | None) -> tuple[str, int | None]:
    return ("guardian", person_id)


def kindergarten_key(kindergarten_id: int | None) -> tuple[str, int | None]:
    return ("kindergarten", kindergarten_id)


def pupil_key(pupil_id: int) -> tuple[str, int]:
    return ("pupil", pupil_id)


def kindergartens_named(event: Event) -> list[int | None]:
    """The kindergartens a queue event names ([None]: none, it may move any queue)."""
    named = event.payload.get("kindergarten_ids") or [event.payload.get("kindergarten_id")]
    return [k if isinstance(k, int) else None for k in named]


def pupils_named(event: Event) -> list[int]:
    """The pupils whose diary an LMS event changes."""
    if event.topic not in DIARY_TOPICS:
        return []
    ids = event.payload.get("pupil_ids") or []
    return [i for i in ids if isinstance(i, int)]


@dataclass(frozen=True)
class View:
    """An object as the system read it for a batch, and who of the families may read it."""

    type_name: str
    node: Any
    owner: int | None
    guardians: frozenset[int]

    @property
    def readers(self) -> frozenset[int]:
        """Everyone a personal role's rule lets read it."""
        if self.owner is not None and self.type_name in SELF_READ:
            return self.guardians | {self.owner}
        return self.guardians

    def readable_by(self, principal: Principal) -> bool | None:
        """May this principal read it? Decided here for guardians and pupils, by the rule of
        their row rules (a guardian: their current children's; the applicant: their own at
        university or abroad; a pupil's diary: the pupil and their guardians); None for other
        roles (they read through their SQL rule)."""
        if principal.role not in PERSONAL_ROLES or principal.person_id is None:
            return None
        if self.node is None:
            return False
        person = principal.person_id
        if principal.role == Role.GUARDIAN and person in self.guardians:
            return True
        return person == self.owner and self.type_name in SELF_READ


class Audience:
    """The live feed's router, and the views it read for the subscribers (the last
    ``size`` objects; a subscriber that finds none reads through its row rule)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cursors: CursorKeys,
        size: int = 20_000,
    ) -> None:
        self.sessions = sessions
        self.cursors = cursors
        self.size = size
        self.views: OrderedDict[tuple[str, int], View] = OrderedDict()

    def view(self, key: tuple[str, int]) -> View | None:
        """What was read of an application (or a pupil, ``("Person", id)``) for the latest
        batch that named it."""
        return self.views.get(key)

    async def route(self, events: Sequence[Event]) -> dict[int, Collection[Hashable]]:
        """The routing keys of each event, after reading what the batch is about."""
        wanted = {app for e in events for app in applications_of(e)}
        wanted |= {("Person", p) for e in events for p in pupils_named(e)}
        try:
            found = await self._read(wanted)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("events.live_audience_failed")
            found = {}
        for key, view in found.items():
            self.views[key] = view
            self.views.move_to_end(key)
        while len(self.views) > self.size:
            self.views.popitem(last=False)
        return {e.id: self._keys(e, found) for e in events}

    def _keys(self, event: Event, found: dict[tuple[str, int], View]) -> set[Hashable]:
        keys: set[Hashable] = set()
        for app in applications_of(event):
            keys |= {application_key(app), ALL_APPLICATIONS}
            view = found.get(app)
            if view is None:
                keys.add(UNRESOLVED)
            else:
                keys |= {reader_key(p) for p in view.readers}
        if event.topic == "people.guardian_linked":
            keys.add(guardian_key(event.payload.get("guardian_id")))
        if event.domain == "preschool":
            keys |= {kindergarten_key(k) for k in kindergartens_named(event)}
        keys |= {pupil_key(p) for p in pupils_named(event)}
        return keys

    async def _read(self, wanted: set[tuple[str, int]]) -> dict[tuple[str, int], View]:
        """The objects and their owners' current guardians: one statement per node type
        (the loaders batch them), one for the guardianships."""
        if not wanted:
            return {}
        system = Context(
            principal=SYSTEM,
            sessions=self.sessions,
            request_id="events-live",
            cursors=self.cursors,
        )
        try:
            keys = sorted(wanted)
            nodes = await asyncio.gather(*(self._node(system, key) for key in keys))
            owners = {key: owner_of(key, node) for key, node in zip(keys, nodes, strict=True)}
            people = sorted({o for o in owners.values() if o is not None})
            links = await GuardianshipsByChildLoader(system).load_many(people)
        finally:
            await system.close(commit=False)
        guardians = {
            child: frozenset(g.guardian_id for g in rows if g.valid_to is None)
            for child, rows in zip(people, links, strict=True)
        }
        views = {}
        for key, node in zip(keys, nodes, strict=True):
            owner = owners[key]
            family = guardians.get(owner, frozenset()) if owner is not None else frozenset()
            views[key] = View(type_name=key[0], node=node, owner=owner, guardians=family)
        return views

    @staticmethod
    async def _node(ctx: Context, key: tuple[str, int]) -> Any:
        if key[0] == "Person":
            return key[1]  # a pupil: the diary's rule is about the person, nothing to read
        return await NODE_RESOLVERS[key[0]](ctx, key[1])


def owner_of(key: tuple[str, int], node: Any) -> int | None:
    """The person an object is for: the child of a kindergarten or first-grade application,
    the applicant at university or abroad, the pupil of a diary."""
    if node is None:
        return None
    if key[0] == "Person":
        return key[1]
    row = getattr(node, "row", None)
    found = getattr(row, "child_id", None) if row is not None else node.person_pk
    return found if isinstance(found, int) else None
