"""Events in the graph: subscriptions (``Subscription``), partners' webhook subscriptions and
the change feed, notices to families (types in ``types``, root fields in ``queries``,
``mutations`` and ``subscriptions``). ``families`` and ``exposure`` tell the events machinery
what it cannot know alone (who a family is, what a partner's key may read); ``wiring`` builds
the process's events runtime from them."""

from schema.events.mutations import Mutation
from schema.events.queries import Query
from schema.events.subscriptions import Subscription
from schema.events.types import WebhookDelivery, WebhookSubscription

__all__ = ["Mutation", "Query", "Subscription", "WebhookDelivery", "WebhookSubscription"]
