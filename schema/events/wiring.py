"""The process's events runtime, given what the layer below cannot know: the families to
notify and what partners' keys may read of each event."""

from __future__ import annotations

from models import database
from resolvers.access import KeyRing
from resolvers.events import EventsRuntime
from resolvers.events.direct import Direct
from resolvers.settings import Settings
from schema.events.audience import Audience
from schema.events.exposure import Exposure
from schema.events.families import FamilyNotices


def events_runtime(settings: Settings) -> EventsRuntime:
    """The runtime with the notices and webhooks consumers (start it with ``start``)."""
    from schema import schema

    runtime = EventsRuntime(settings)
    sessions = database.session_factory(runtime.engine)
    # A payload's connections carry cursors sealed as a request's are (the hub's keys).
    cursors = KeyRing.load(settings).cursors
    # The live feed routes each batch of events once for all this worker's subscribers.
    runtime.audience = Audience(sessions, cursors)
    runtime.live.router = runtime.audience.route
    runtime.add_consumers(
        recipients=FamilyNotices(Direct(runtime.engine)),
        exposure=Exposure(schema._schema, sessions, cursors),
    )
    return runtime
