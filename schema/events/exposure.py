"""What a partner's key may learn of an event (webhook deliveries and the change feed): the
object's global ID and type and what happened to it, read through the object's own row rule
with the key's principal, plus the event's fields the key's subgraph holds. Personal fields
leave only with a key that is granted personal data; a field the graph does not have, or the
key may not read, is left out (fail closed)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

from graphql import GraphQLSchema, get_named_type
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from resolvers.access import Principal
from resolvers.access.fields import field_allowed, personal_fields
from resolvers.context import Context
from resolvers.events import Event, change_kind
from resolvers.relay import CursorKeys, encode_id
from schema.events.catalogue import graph_type
from schema.node import NODE_RESOLVERS, NODE_TYPES

CAMEL = re.compile(r"_([a-z0-9])")


def camel(name: str) -> str:
    return CAMEL.sub(lambda m: m.group(1).upper(), name)


def shown_fields(
    schema: GraphQLSchema,
    principal: Principal,
    type_name: str,
    payload: dict[str, Any],
    personal: frozenset[str] | None = None,
) -> dict[str, Any]:
    """The event's fields the key may read, named as the graph names them (``school_id`` is
    the field ``school``, sent as that school's global ID)."""
    grant = principal.grant
    gtype = schema.type_map.get(type_name)
    fields = getattr(gtype, "fields", None) or {}
    if personal is None:
        personal = personal_fields(schema)
    shown: dict[str, Any] = {}
    for key, value in payload.items():
        is_ref = key.endswith("_id")
        name = camel(key[:-3] if is_ref else key)
        field = fields.get(name)
        pair = f"{type_name}.{name}"
        if field is None:
            continue
        if grant is not None and not field_allowed(pair, grant.fields):
            continue
        if pair in personal and (grant is None or not grant.personal_data):
            continue
        if is_ref:
            target = get_named_type(field.type).name
            if target not in NODE_TYPES or not isinstance(value, int):
                continue
            value = encode_id(target, value)
        elif isinstance(value, dict | list):
            continue
        shown[name] = value
    return shown


class Exposure:
    """Callable the webhooks consumer is given (resolvers.events.webhooks.Exposure)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        sessions: async_sessionmaker[AsyncSession],
        cursors: CursorKeys,
    ) -> None:
        self.schema = schema
        self.sessions = sessions
        self.cursors = cursors
        # Walking the whole schema per event cost more than the rest of a delivery.
        self.personal = personal_fields(schema)

    async def __call__(
        self, principal: Principal, events: Sequence[Event]
    ) -> list[dict[str, Any] | None]:
        ctx = Context(
            principal=principal,
            sessions=self.sessions,
            request_id="events-exposure",
            cursors=self.cursors,
        )
        try:
            nodes = await readable_nodes(ctx, events)
        finally:
            await ctx.close(commit=False)
        return [
            None
            if node is None
            else {
                "id": node.id,
                "type": type_name,
                "change": change_kind(event.topic).value,
                "fields": shown_fields(
                    self.schema, principal, type_name, event.payload, self.personal
                ),
            }
            for event, (type_name, node) in zip(events, nodes, strict=True)
        ]


async def readable_nodes(ctx: Context, events: Sequence[Event]) -> list[tuple[str, Any]]:
    """For each event, its object's node type and the node as ``ctx``'s caller reads it
    (None: not a node, outside a key's subgraph, or not readable under the row rules). The
    node loaders batch: one statement per type, whatever the number of events."""
    grant = ctx.principal.grant

    async def one(event: Event) -> tuple[str, Any]:
        name = graph_type(event.aggregate_type)
        if name is None or (grant is not None and not grant.names_type(name)):
            return name or event.aggregate_type, None
        fetch = NODE_RESOLVERS.get(name)
        node = None if fetch is None else await fetch(ctx, event.aggregate_id)
        return name, node

    return list(await asyncio.gather(*(one(e) for e in events)))
