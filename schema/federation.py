"""The hub as an Apollo Federation v2 subgraph: the entities partners' subgraphs may extend
and how ``_entities`` fetches them. The keys are declared here, in one place, over the
domains' own types; every reference resolves through the same loaders (and so the same row
rules) as ``node``: a partner's router reads through its key exactly what the key could read
through ``node``, and a batch of 100 references is one statement per type."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet
from strawberry.types.base import get_object_definition

from resolvers.context import Context, Info
from resolvers.errors import ErrorCode, RequestError
from resolvers.institutions.loaders import InstitutionByLegalIdLoader
from resolvers.relay import decode_id
from schema.geography import District, Region
from schema.institutions import Institution
from schema.node import resolve_node
from schema.people import Person

# type -> its keys (a key is a selection set of the type's fields)
ENTITY_KEYS: dict[type, tuple[str, ...]] = {
    Person: ("id",),
    Institution: ("id", "legalId"),
    Region: ("id",),
    District: ("id",),
}


async def _by_global_id(ctx: Context, type_name: str, global_id: str) -> Any:
    """The object a representation's ``id`` names, or null when it names another type or
    one the caller may not read (resolve_node's rules)."""
    try:
        found_type, _ = decode_id(global_id)
    except RequestError:
        return None
    if found_type != type_name:
        return None
    return await resolve_node(ctx, global_id)


def _resolver(cls: type) -> Callable[..., Any]:
    type_name = get_object_definition(cls, strict=True).name

    async def resolve_reference(
        info: Info, id: str | None = None, legalId: str | None = None, **_: Any
    ) -> Any:
        ctx = info.context
        if id is not None:
            return await _by_global_id(ctx, type_name, id)
        if legalId is not None and cls is Institution:
            grant = ctx.principal.grant
            if grant is not None and not grant.names_type(type_name):
                return None
            row = await InstitutionByLegalIdLoader(ctx).load(legalId)
            return None if row is None else Institution.from_row(row)
        raise RequestError(ErrorCode.INVALID_INPUT, f"A {type_name} reference needs its key")

    return resolve_reference


def declare_entities() -> None:
    """Put ``@key`` on each entity type and give it its reference resolver (idempotent)."""
    for cls, keys in ENTITY_KEYS.items():
        definition = get_object_definition(cls, strict=True)
        directives = list(definition.directives or ())
        present = {d.fields for d in directives if isinstance(d, Key)}
        missing = [Key(fields=FieldSet(key), resolvable=True) for key in keys if key not in present]
        definition.directives = [*directives, *missing]
        cls.resolve_reference = staticmethod(_resolver(cls))  # type: ignore[attr-defined]


_SCHEMA_LINK = re.compile(r"\Aschema @link\([^\n]*\) \{\n(?:  [^\n]*\n)*\}\n\n")
_APPLIED_KEY = re.compile(r" @key\(fields: \"[^\"]*\", resolvable: true\)")


def federation_sdl(schema: Any) -> str:
    """The subgraph's SDL as ``_service { sdl }`` gives it to a gateway (with ``@link`` and
    ``@key``); committed as schema.federation.graphql."""
    return str(schema.as_str()) + "\n"


def client_sdl(schema: Any) -> str:
    """The SDL clients build against (schema.graphql): the same types and fields, without the
    federation directives that only gateways read, so any GraphQL tool parses it."""
    return _APPLIED_KEY.sub("", _SCHEMA_LINK.sub("", federation_sdl(schema)))
