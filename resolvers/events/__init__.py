"""Events: the audit trail and the transactional outbox every workflow writes to, and what
reads the outbox: the dispatcher and its durable consumers (notices to families, partners'
webhooks), the live feed of GraphQL subscriptions, the change feed, and retention.

This is the hub's mechanism: every domain imports it to emit, and it imports no domain.
What needs a domain's data (who a family is, what a partner's key may read) is given to it
by a layer above (schema/events/).

Modules: ``outbox`` (emit, the transaction-ordered read), ``audit_trail``, ``consumers``
(progress and leases), ``dispatcher``, ``wakeup`` (LISTEN/NOTIFY), ``subscriptions`` (the live
feed), ``notices`` and ``templates``, ``webhooks``, ``sending`` (claims and retries),
``changes``, ``retention``, ``runtime`` (what runs in a process), ``rules``, ``loaders``.
"""

from resolvers.events.audit_trail import (
    audit_values,
    record_audit,
    record_audit_apart,
    write_audit,
)
from resolvers.events.changes import ChangeKind, ChangePage, change_kind, changes_since
from resolvers.events.consumers import Consumer
from resolvers.events.dispatcher import Dispatcher, DispatchSettings
from resolvers.events.errors import EventsCode
from resolvers.events.notices import NoticeRequest, Recipients
from resolvers.events.outbox import (
    Event,
    Position,
    Trail,
    append,
    append_bound,
    emit,
    head,
    open_trail,
    read_after,
    take_trail,
    trail_of,
)
from resolvers.events.runtime import EventsRuntime, dispatches, key_principal
from resolvers.events.subscriptions import LiveFeed, Subscription
from resolvers.events.webhooks import Exposure, matches

__all__ = [
    "ChangeKind",
    "ChangePage",
    "Consumer",
    "DispatchSettings",
    "Dispatcher",
    "Event",
    "EventsCode",
    "EventsRuntime",
    "Exposure",
    "LiveFeed",
    "NoticeRequest",
    "Position",
    "Recipients",
    "Subscription",
    "Trail",
    "append",
    "append_bound",
    "audit_values",
    "change_kind",
    "changes_since",
    "dispatches",
    "emit",
    "head",
    "key_principal",
    "matches",
    "open_trail",
    "read_after",
    "record_audit",
    "record_audit_apart",
    "take_trail",
    "trail_of",
    "write_audit",
]
