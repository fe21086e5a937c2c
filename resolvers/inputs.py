"""The input values of an operation, checked in one place before it runs (the normal path
and the compiled path call :func:`refusal`), for every argument and variable of the schema,
whatever its field: filters, mutation inputs, cursors, IDs. Issue 22.3.

* **Text** holds no NUL (PostgreSQL refuses it in text) and no lone surrogate (not Unicode:
  PostgreSQL refuses it in UTF-8, and JSON can carry one as ``"\\ud800"``).
* **Names** (an input field or argument called ``name``, ``...Name``, ``nameRu``, ``nameKy``,
  ``nameEn`` or ``patronymic``) hold no bidirectional control: U+202E and its kin reorder what
  an officer reads on the screen.
* **Integers** fit the column they reach: an ``Int`` input is a small integer (PostgreSQL's
  ``smallint``, which grades, ages, scores, thresholds, group sizes and years are stored in)
  unless :data:`WIDE_INTS` lists it with a wider range; years are calendar years a school
  system uses. So a new ``Int`` input is bounded by default. The page sizes ``first`` and
  ``last`` have their own check (``INVALID_PAGINATION``).

Each refusal is a top-level ``INVALID_INPUT`` naming the input (``extensions.field``)."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    type_from_ast,
)

from resolvers.errors import ErrorCode, RequestError

SMALLINT = (-32_768, 32_767)
INT4 = (-(2**31), 2**31 - 1)
YEAR = (1900, 2200)
# Int inputs that reach an ``integer`` column and may pass a smallint's range.
WIDE_INTS: dict[str, tuple[int, int]] = {
    "CreateInstitutionInput.designCapacity": INT4,
    "UpdateInstitutionInput.designCapacity": INT4,
    "TeachingAddressInput.plannedStudents": INT4,
    "LicenceDocumentInput.sizeBytes": INT4,
    "CreateApiKeyInput.pointsPerHour": INT4,
    "PlacesInput.places": INT4,
    "SetFirstGradeQuotaInput.places": INT4,
    "DeclareFreePlacesInput.freePlaces": INT4,
    "CreateForeignProgrammeInput.quota": INT4,
}
PAGE_SIZES = {"first", "last"}
YEAR_NAME = re.compile(r"^(year|.*Year)$")
NAME = re.compile(r"^(name|.*Name|name(Ru|Ky|En)|patronymic)$")
# Unicode's Bidi_Control characters.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _input_name(location: str) -> tuple[str, bool]:
    """The input field's or argument's name at ``location``, and whether it is an argument."""
    if location.endswith(")"):
        return location[location.rindex("(") + 1 : -1], True
    return location.rpartition(".")[2], False


def int_range(location: str) -> tuple[int, int] | None:
    """The range an Int input at ``location`` ("Type.field" or "Type.field(argument)") may take;
    None for the page sizes."""
    name, argument = _input_name(location)
    if argument and name in PAGE_SIZES:
        return None
    if YEAR_NAME.match(name):
        return YEAR
    return WIDE_INTS.get(location, SMALLINT)


def text_problem(value: str) -> str | None:
    """What makes a string unfit for the database, or None."""
    if "\x00" in value:
        return "holds a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone surrogate (not Unicode text)"
    return None


def is_name(location: str) -> bool:
    return bool(NAME.match(_input_name(location)[0]))


def _check_text(value: str, location: str) -> None:
    problem = text_problem(value)
    if problem is None and is_name(location) and not BIDI_CONTROLS.isdisjoint(value):
        problem = "holds a bidirectional control character, not allowed in names"
    if problem is not None:
        raise _invalid(location, f"{location} {problem}")


def _check_int(value: int, location: str) -> None:
    bounds = int_range(location)
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise _invalid(location, f"{location} must be between {bounds[0]} and {bounds[1]}")


def _invalid(location: str, message: str) -> RequestError:
    return RequestError(ErrorCode.INVALID_INPUT, message, field=location)


@dataclass(frozen=True)
class _Literals:
    """What the document's own text says: a refusal of a literal, if any, and where each
    variable is used ("Type.field" of the input field or argument it is passed to)."""

    refused: RequestError | None
    uses: dict[str, tuple[str, ...]]


class _LiteralWalk:
    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self.uses: dict[str, set[str]] = {}

    def definitions(self, document: DocumentNode) -> None:
        """Every operation and fragment once (a literal means the same at every spread)."""
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                root = self.schema.get_root_type(definition.operation)
                self.selections(root, definition.selection_set)
            elif isinstance(definition, FragmentDefinitionNode):
                parent = self.schema.get_type(definition.type_condition.name.value)
                self.selections(parent, definition.selection_set)

    def selections(self, parent: Any, selection_set: SelectionSetNode | None) -> None:
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                self.selections(target, selection.selection_set)
            elif isinstance(selection, FieldNode):
                self.field(parent, selection)

    def field(self, parent: Any, node: FieldNode) -> None:
        definition = (getattr(parent, "fields", None) or {}).get(node.name.value)
        if definition is None:
            return  # introspection or __typename
        for argument in node.arguments or ():
            arg = definition.args.get(argument.name.value)
            if arg is not None:
                location = f"{parent.name}.{node.name.value}({argument.name.value})"
                self.value(argument.value, arg.type, location)
        self.selections(get_named_type(definition.type), node.selection_set)

    def value(self, node: ValueNode, gtype: Any, location: str) -> None:
        nullable = get_nullable_type(gtype)
        if isinstance(node, VariableNode):
            self.uses.setdefault(node.name.value, set()).add(location)
        elif isinstance(node, ListValueNode):
            item = nullable.of_type if isinstance(nullable, GraphQLList) else nullable
            for each in node.values:
                self.value(each, item, location)
        elif isinstance(node, ObjectValueNode) and isinstance(nullable, GraphQLInputObjectType):
            for field in node.fields:
                inner = nullable.fields.get(field.name.value)
                if inner is not None:
                    self.value(field.value, inner.type, f"{nullable.name}.{field.name.value}")
        elif isinstance(node, StringValueNode):
            _check_text(node.value, location)
        elif isinstance(node, IntValueNode) and getattr(nullable, "name", None) == "Int":
            _check_int(int(node.value), location)


def _variable_values(
    value: Any, gtype: GraphQLInputType | None
) -> Iterator[tuple[Any, Any, str | None]]:
    """Every scalar inside a variable's value, with its type and the input it sits in:
    "Type.field" inside an input object, else None (the variable's uses say where it goes)."""
    stack: list[tuple[Any, Any, str | None]] = [(value, gtype, None)]
    while stack:
        item, kind, where = stack.pop()
        nullable = get_nullable_type(kind) if kind is not None else None
        if isinstance(item, list):
            inner = nullable.of_type if isinstance(nullable, GraphQLList) else nullable
            stack.extend((each, inner, where) for each in item)
        elif isinstance(item, dict):
            if not isinstance(nullable, GraphQLInputObjectType):
                continue  # not what the type asks for: coercion refuses it
            for key, each in item.items():
                field = nullable.fields.get(key)
                stack.append((each, field.type if field else None, f"{nullable.name}.{key}"))
        else:
            yield item, kind, where


def _check_variable(value: Any, gtype: Any, uses: tuple[str, ...]) -> None:
    for item, kind, where in _variable_values(value, gtype):
        # A scalar passed as the variable itself is checked at each place it is used.
        locations = (where,) if where is not None else uses or ("variables",)
        if isinstance(item, str):
            for location in locations:
                _check_text(item, location)
        elif (
            isinstance(item, int)
            and not isinstance(item, bool)
            and kind is not None
            and get_named_type(kind).name == "Int"
        ):
            for location in locations:
                _check_int(item, location)


LITERALS_KEPT = 2048
_literals: OrderedDict[tuple[int, int], tuple[DocumentNode, _Literals]] = OrderedDict()


def _literals_of(schema: GraphQLSchema, document: DocumentNode) -> _Literals:
    key = (id(schema), id(document))
    found = _literals.get(key)
    if found is not None and found[0] is document:
        _literals.move_to_end(key)
        return found[1]
    walk = _LiteralWalk(schema)
    refused = None
    try:
        walk.definitions(document)
    except RequestError as err:
        refused = err
    literals = _Literals(refused, {k: tuple(sorted(v)) for k, v in walk.uses.items()})
    _literals[key] = (document, literals)
    if len(_literals) > LITERALS_KEPT:
        _literals.popitem(last=False)
    return literals


def refusal(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> RequestError | None:
    """Why the operation's input is refused (``INVALID_INPUT``), or None: its literals (checked
    once per parsed document) and the variables of this request."""
    literals = _literals_of(schema, document)
    if literals.refused is not None:
        return literals.refused
    operation = get_operation_ast(document, operation_name)
    if operation is None or not variables:
        return None
    try:
        for definition in operation.variable_definitions or ():
            name = definition.variable.name.value
            if name in variables:
                gtype = type_from_ast(schema, definition.type)
                _check_variable(variables[name], gtype, literals.uses.get(name, ()))
    except RequestError as err:
        return err
    return None
