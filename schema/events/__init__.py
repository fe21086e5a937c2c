"""Events in the graph: subscriptions (``Subscription``), partners' webhook subscriptions and
the change feed, notices to families (types in ``types``, root fields in ``queries``,
``mutations`` and ``subscriptions``). ``families`` and ``exposure`` tell the events machinery
what it cannot know alone (who a family is, what a partner's key may read); ``wiring`` builds
the process's events runtime from them."""

from resolvers.access.fields import allow_every_key
from schema.events.mutations import Mutation
from schema.events.queries import Query
from schema.events.subscriptions import Subscription
from schema.events.types import WebhookDelivery, WebhookSubscription

# A partner's key manages its own webhook subscriptions and pulls the change feed whatever its
# subgraph; what the feed's nodes and the deliveries carry stays within the subgraph.
allow_every_key(
    fields=[
        "Query.changes",
        "Query.changesCursor",
        "Query.webhookSubscriptions",
        "Mutation.createWebhookSubscription",
        "Mutation.setWebhookSubscriptionEnabled",
        "Mutation.deleteWebhookSubscription",
        "Mutation.replayWebhookDelivery",
    ],
    types=[
        "ChangeFeed",
        "Change",
        "WebhookSubscription",
        "WebhookDelivery",
        "DeliveryAttempt",
        "CreateWebhookSubscriptionPayload",
        "WebhookSubscriptionPayload",
        "WebhookDeliveryPayload",
    ],
)

__all__ = ["Mutation", "Query", "Subscription", "WebhookDelivery", "WebhookSubscription"]
