"""Resolving global IDs to objects, for `node`, `nodes` and mutation inputs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from strawberry.types.base import get_object_definition

from resolvers.context import Context
from resolvers.errors import DomainError, ErrorCode, RequestError
from resolvers.loaders import KeyedLoader
from resolvers.relay import decode_id

T = TypeVar("T")

# GraphQL type name -> how to fetch one such object for this request (None if unreadable).
NODE_RESOLVERS: dict[str, Callable[[Context, int], Awaitable[Any]]] = {}
# GraphQL type name -> the node type (registered by fetched_by).
NODE_TYPES: dict[str, type] = {}


async def loaded(
    loader: KeyedLoader[Any, Any], pk: int | None, convert: Callable[[Any], T]
) -> T | None:
    """The object ``pk`` names, read through ``loader`` (and so through its row rule): null
    when ``pk`` is unset, or the row is missing or unreadable."""
    if pk is None:
        return None
    row = await loader.load(pk)
    return None if row is None else convert(row)


def node_class(name: str) -> Any:
    """The node type registered under ``name``: how a type reaches another that refers back to
    it (Person.enrollments and Enrollment.person) by name, as strawberry.lazy does for
    annotations, instead of importing it."""
    return NODE_TYPES[name]


def fetched_by(loader: Callable[[Context], KeyedLoader[Any, Any]]) -> Callable[[type[T]], type[T]]:
    """Register the node type below (a strawberry type with ``from_row``) for ``node`` and
    ``nodes``, fetched by primary key through ``loader``."""

    def register(cls: type[T]) -> type[T]:
        convert = cast(Any, cls).from_row

        async def fetch(ctx: Context, pk: int) -> Any:
            return await loaded(loader(ctx), pk, convert)

        name = get_object_definition(cls, strict=True).name
        NODE_RESOLVERS[name] = fetch
        NODE_TYPES[name] = cls
        return cls

    return register


async def resolve_node(ctx: Context, global_id: str) -> Any:
    type_name, pk = decode_id(global_id)
    fetch = NODE_RESOLVERS.get(type_name)
    if fetch is None:
        raise RequestError(ErrorCode.INVALID_ID, f"{global_id!r} is not a valid ID")
    grant = ctx.principal.grant
    if grant is not None and not grant.names_type(type_name):
        # A partner learns nothing, not even existence, of types outside its subgraph.
        return None
    return await fetch(ctx, pk)


def pk_of(global_id: str, type_name: str, *, field: str) -> int:
    """The primary key inside a mutation input's global ID; a bad ID is the caller's error."""
    try:
        return decode_id(global_id, expected=type_name)[1]
    except RequestError as err:
        raise DomainError(ErrorCode.INVALID_ID, err.message, field=field) from None


def optional_pk(global_id: str | None, type_name: str, *, field: str) -> int | None:
    return None if global_id is None else pk_of(global_id, type_name, field=field)


def query_pk(global_id: str, type_name: str) -> int:
    """The primary key inside a query argument's global ID (a bad ID is a request error)."""
    return decode_id(global_id, expected=type_name)[1]
