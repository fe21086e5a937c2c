"""Personal fields, in one place, and the check that keeps a partner's request inside the
subgraph its key grants.

A field is personal when it says who a person is or where to find them: names, PIN, birth
date, addresses, contacts. The registry below names them; on top of it, any field whose name
looks personal (``pin``, ``...Name`` of a person, ``birthDate``, ``...address``, ``phone``,
``email``, ``contact...``) counts as personal unless it is listed as public, so a new domain
that forgets to register its contact field fails closed, not open."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    ObjectFieldNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    is_input_object_type,
    type_from_ast,
    visit,
)

from resolvers.access.errors import AccessCode
from resolvers.access.principals import Principal
from resolvers.errors import RequestError
from resolvers.relay import Ordering

# Output and filter fields that are personal whatever their name ("Type.field").
PERSONAL_FIELDS: set[str] = {
    "Person.pin",
    "Person.lastName",
    "Person.firstName",
    "Person.patronymic",
    "Person.fullName",
    "Person.birthDate",
    "Person.registeredAddress",
    "Person.registeredDistrict",
    "Person.pinHistory",
    "PinRecord.pin",
    # Searching by these is reading them: a filter on a PIN answers "is this PIN here?".
    "PersonFilter.pin",
    "PersonFilter.name",
    "PersonFilter.bornAfter",
    "PersonFilter.bornBefore",
}

# The mark a schema field or input field carries in its metadata when it holds personal data
# (``schema.fields.personal``): an identifier like a birth certificate's number, which no name
# rule would catch.
PERSONAL_MARK = "personal"

# Names that look personal but are not: an institution's address is public.
PUBLIC_FIELDS: set[str] = {
    "Institution.address",
    "CreateInstitutionInput.address",
    "UpdateInstitutionInput.address",
}

PERSONAL_NAME = re.compile(
    r"^(pin|pins|.*Pin|pinHistory|.*[fF]irstName|.*[lL]astName|patronymic|fullName|.*[bB]irthDate"
    r"|.*[aA]ddress|.*[pP]hone.*|.*[eE]mail.*|contact.*|.*Contacts?)$"
)

# Types every key may read: pagination plumbing and the caller's own view.
STRUCTURAL_TYPES = {"PageInfo", "UserError", "Viewer", "RateLimit", "CostReport"}
ALWAYS_ALLOWED = {"Query.viewer", "Query.rateLimit", "Query.node", "Query.nodes"}


def allow_every_key(*, fields: Iterable[str] = (), types: Iterable[str] = ()) -> None:
    """Fields and types every key may use whatever its subgraph (a key's own plumbing, such
    as its webhook subscriptions); domains call this at import time."""
    ALWAYS_ALLOWED.update(fields)
    STRUCTURAL_TYPES.update(types)


def mark_personal(*fields: str) -> None:
    """Register more personal fields ("Type.field"); domains call this at import time."""
    PERSONAL_FIELDS.update(fields)
    personal_fields.cache_clear()


@lru_cache(maxsize=4)
def personal_fields(schema: GraphQLSchema) -> frozenset[str]:
    """Every personal "Type.field" of the schema, output and input fields alike: the registry,
    the fields marked personal, and personal-looking names. The one rule of what is personal:
    partners' grants and the audit trail's redaction both read it."""
    found = set(PERSONAL_FIELDS)
    for name, gtype in schema.type_map.items():
        if name.startswith("__"):
            continue
        fields = getattr(gtype, "fields", None) or {}
        for field_name, field in fields.items():
            pair = f"{name}.{field_name}"
            if _marked_personal(field) or (
                pair not in PUBLIC_FIELDS and PERSONAL_NAME.match(field_name)
            ):
                found.add(pair)
    return frozenset(found)


def _marked_personal(field: Any) -> bool:
    definition = (getattr(field, "extensions", None) or {}).get("strawberry-definition")
    return bool((getattr(definition, "metadata", None) or {}).get(PERSONAL_MARK))


def is_structural(type_name: str) -> bool:
    return type_name in STRUCTURAL_TYPES or type_name.endswith(("Connection", "Edge"))


def field_allowed(pair: str, allowed: frozenset[str]) -> bool:
    """Is "Type.field" inside a key's subgraph ("Type.field" or "Type.*" entries)?"""
    type_name, _, field_name = pair.partition(".")
    if field_name == "id" or field_name.startswith("__") or type_name.startswith("__"):
        return True
    if pair in ALWAYS_ALLOWED or is_structural(type_name):
        return True
    return pair in allowed or f"{type_name}.*" in allowed


@dataclass(frozen=True)
class FieldUse:
    """The fields a document reads and the input fields it filters by."""

    output: frozenset[str]
    inputs: frozenset[str]

    @property
    def all(self) -> frozenset[str]:
        return self.output | self.inputs


class _Collector(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.output: set[str] = set()
        self.inputs: set[str] = set()

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        parent = self.type_info.get_parent_type()
        if parent is not None:
            self.output.add(f"{parent.name}.{node.name.value}")

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        parent = self.type_info.get_parent_input_type()
        if parent is not None:
            self.inputs.add(f"{get_named_type(parent).name}.{node.name.value}")


def _input_fields(gtype: GraphQLInputType, value: Any, into: set[str], depth: int = 0) -> None:
    """Input fields a variable's value sets, walked against its type (nested inputs too)."""
    if value is None or depth > 20:
        return
    if isinstance(gtype, GraphQLNonNull):
        _input_fields(gtype.of_type, value, into, depth + 1)
    elif isinstance(gtype, GraphQLList):
        for item in value if isinstance(value, list) else [value]:
            _input_fields(gtype.of_type, item, into, depth + 1)
    elif is_input_object_type(gtype) and isinstance(value, dict):
        assert isinstance(gtype, GraphQLInputObjectType)
        for key, item in value.items():
            field = gtype.fields.get(key)
            if field is None:
                continue
            into.add(f"{gtype.name}.{key}")
            _input_fields(field.type, item, into, depth + 1)


def fields_used(
    schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any] | None
) -> FieldUse:
    """Every "Type.field" the document selects (fragments included) and every input field it
    sets, in literals or through variables."""
    type_info = TypeInfo(schema)
    collector = _Collector(type_info)
    visit(document, TypeInfoVisitor(type_info, collector))
    inputs = set(collector.inputs)
    for definition in document.definitions:
        for var in getattr(definition, "variable_definitions", None) or ():
            gtype = type_from_ast(schema, var.type)
            if gtype is not None and variables and var.variable.name.value in variables:
                _input_fields(gtype, variables[var.variable.name.value], inputs)
    return FieldUse(output=frozenset(collector.output), inputs=frozenset(inputs))


def check_scope(
    schema: GraphQLSchema,
    use: FieldUse,
    *,
    allowed: frozenset[str],
    personal_granted: bool,
) -> frozenset[str]:
    """Refuse a partner's request that leaves its subgraph or asks for personal data its key
    does not grant; return the personal fields it reads (for the audit trail)."""
    personal = personal_fields(schema)
    asked = use.all & personal
    if asked and not personal_granted:
        raise RequestError(
            AccessCode.PERSONAL_DATA_NOT_GRANTED,
            "This API key is not granted personal data: " + ", ".join(sorted(asked)),
            fields=sorted(asked),
        )
    outside = sorted(p for p in use.output if not field_allowed(p, allowed))
    if outside:
        raise RequestError(
            AccessCode.FIELD_NOT_IN_SCOPE,
            "Outside this API key's scope: " + ", ".join(outside),
            fields=outside,
        )
    return asked


def without_personal_data(principal: Principal) -> bool:
    """Is this caller a partner whose key is not granted personal data?"""
    return principal.grant is not None and not principal.grant.personal_data


def ordering_for(principal: Principal, ordering: Ordering, *, asked: bool) -> Ordering:
    """The order a list is read in: ``ordering``, unless it is by personal fields and the
    caller is a partner not granted personal data (the order and its cursors would tell what
    the fields hold: who comes first, where a page starts). Such a partner asking for it is
    refused; a list it reads in that order by default comes in the order of its last key (the
    id) instead."""
    if not ordering.personal or not without_personal_data(principal):
        return ordering
    if not asked:
        return Ordering(ordering.keys[-1:])
    fields = sorted(ordering.personal)
    raise RequestError(
        AccessCode.PERSONAL_DATA_NOT_GRANTED,
        "This API key is not granted personal data, so it may not order by: " + ", ".join(fields),
        fields=fields,
    )


def unknown_fields(schema: GraphQLSchema, entries: Iterable[str]) -> list[str]:
    """Scope entries that name no type or field of the schema (a typo would grant nothing)."""
    bad = []
    for entry in entries:
        type_name, _, field_name = entry.partition(".")
        gtype = schema.type_map.get(type_name)
        fields = getattr(gtype, "fields", None)
        if fields is None or (field_name != "*" and field_name not in fields):
            bad.append(entry)
    return bad
