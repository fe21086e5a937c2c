"""Operations generated from the schema that put one chosen value at one input of the graph:
every argument of every root field and every input field reachable from them, the other
required inputs filled with placeholders. The input checks run before execution, so what the
placeholders would do when executed does not matter."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
    get_nullable_type,
)

from schema import schema

GQL = schema._schema
PLACEHOLDERS: dict[str, Any] = {
    "String": "x",
    "ID": "UGVyc29uOjE",
    "Int": 1,
    "Float": 1.0,
    "Boolean": True,
    "Date": "2026-01-15",
    "DateTime": "2026-01-15T10:00:00+06:00",
    "Decimal": "1",
    "JSON": {},
}
# Scalars whose values travel as JSON strings.
TEXT_SCALARS = {"String", "ID", "Date", "DateTime", "Decimal"}


@dataclass(frozen=True)
class Case:
    """One operation that puts the chosen value at ``location``."""

    location: str
    query: str
    variables: dict[str, Any]


def placeholder(gtype: Any, depth: int = 0) -> Any:
    """A value of ``gtype`` with only its required inputs set."""
    nullable = get_nullable_type(gtype)
    if isinstance(nullable, GraphQLList):
        return [placeholder(nullable.of_type, depth + 1)]
    if isinstance(nullable, GraphQLEnumType):
        return next(iter(nullable.values))
    if isinstance(nullable, GraphQLInputObjectType):
        return {
            name: placeholder(field.type, depth + 1)
            for name, field in nullable.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is None
        }
    assert isinstance(nullable, GraphQLScalarType)
    if nullable.name == "Upload":
        return None
    return PLACEHOLDERS[nullable.name]


def _placed(
    gtype: Any, wanted: Callable[[str], bool], value: Any, seen: frozenset[str]
) -> Iterator[tuple[str | None, Any]]:
    """(input field, value) for each input inside ``gtype`` whose scalar ``wanted`` accepts:
    ``value`` there and placeholders around it (None for the type itself being wanted)."""
    nullable = get_nullable_type(gtype)
    if isinstance(nullable, GraphQLList):
        for location, inner in _placed(nullable.of_type, wanted, value, seen):
            yield location, [inner]
        return
    if isinstance(nullable, GraphQLScalarType):
        if wanted(nullable.name):
            yield None, value
        return
    if not isinstance(nullable, GraphQLInputObjectType) or nullable.name in seen:
        return
    around = placeholder(nullable)
    for name, field in nullable.fields.items():
        for location, inner in _placed(field.type, wanted, value, seen | {nullable.name}):
            yield location or f"{nullable.name}.{name}", {**around, name: inner}


def _selection(field: GraphQLField) -> str:
    named = get_named_type(field.type)
    return "" if isinstance(named, GraphQLScalarType | GraphQLEnumType) else " { __typename }"


def cases(wanted: Callable[[str], bool], value: Any, *, skip: Collection[str] = ()) -> list[Case]:
    """One case per input of the schema whose scalar ``wanted`` accepts (its location not in
    ``skip``): the operation passes ``value`` there."""
    found: list[Case] = []
    roots: list[tuple[str, GraphQLObjectType | None]] = [
        ("query", GQL.query_type),
        ("mutation", GQL.mutation_type),
    ]
    for kind, root in roots:
        assert root is not None
        for field_name, field in root.fields.items():
            for arg_name, arg in field.args.items():
                for location, inner in _placed(arg.type, wanted, value, frozenset()):
                    where = location or f"{root.name}.{field_name}({arg_name})"
                    if where in skip:
                        continue
                    found.append(_case(kind, field_name, field, arg_name, inner, where))
    return found


def _case(kind: str, name: str, field: GraphQLField, target: str, value: Any, where: str) -> Case:
    declared, passed, variables = [], [], {}
    for n, (arg_name, arg) in enumerate(field.args.items()):
        if arg_name != target and not isinstance(arg.type, GraphQLNonNull):
            continue
        declared.append(f"$v{n}: {arg.type}")
        passed.append(f"{arg_name}: $v{n}")
        variables[f"v{n}"] = value if arg_name == target else placeholder(arg.type)
    query = f"{kind}({', '.join(declared)}) {{ {name}({', '.join(passed)}){_selection(field)} }}"
    return Case(where, query, variables)
