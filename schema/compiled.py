"""The compiled path: hot read operations answered by one SQL statement.

For a query whose every field is one the compiler knows (people, institutions, enrollments,
guardianship and geography, their relations and connections), PostgreSQL builds the JSON of
the whole selection, global IDs and cursors included, and the hub sends it on as it comes:
no per-field Python work, one statement whatever the depth. The statement is made of the
same parts as the normal path's: the filters, orderings and page rules of :mod:`resolvers`,
and the row rules of :mod:`resolvers.access`, so a caller reads exactly what they would read
through the resolvers. Tests run every supported shape through both paths and compare.

Anything else (a field it does not know, ``last``/``before``, directives, a node of another
type, an argument the resolvers would refuse) is not compiled: the request takes the normal
path, which also produces every error.

A statement is built once per *shape* of request and kept as SQL text (:meth:`Compiler.prepared`):
the primary keys inside global IDs and the values inside cursors are stood in for by unique
values, which must reach the SQL only as bind arguments. So the query builders this module
reuses (``persons_query``, ``institutions_query``, the row rules) must never decide in Python
on an ID's key or a cursor's values; they decide in SQL. A stand-in that does not come out as
an argument makes that shape build its statement per request instead.
"""

from __future__ import annotations

import enum
import json
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
    parse,
    specified_rules,
    type_from_ast,
    validate,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from sqlalchemy import (
    ColumnElement,
    FromClause,
    LargeBinary,
    Select,
    Text,
    and_,
    case,
    cast,
    func,
    literal_column,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import asyncpg as postgresql_asyncpg
from sqlalchemy.sql.util import ClauseAdapter
from sqlalchemy.types import TypeDecorator
from strawberry.types.arguments import convert_arguments
from strawberry.types.base import StrawberryList, StrawberryOptional
from strawberry.types.enum import StrawberryEnumDefinition

from models import District, Enrollment, Guardianship, Institution, Person, Region
from resolvers.access import Principal
from resolvers.enrollments import ENROLLMENT_ORDERINGS, enrollment_filter_clauses
from resolvers.enrollments.rules import enrollment_readable
from resolvers.errors import RequestError
from resolvers.institutions import INSTITUTION_ORDERINGS, institutions_query
from resolvers.people import PERSON_ORDERINGS, persons_query
from resolvers.people.rules import person_readable
from resolvers.relay import (
    INT4_MAX,
    Ordering,
    PageArgs,
    decode_cursor_any,
    decode_id,
    encode_cursor,
    encode_id,
)

PLANS_KEPT = 512


class Unsupported(Exception):
    """The selection (or this request's arguments) is outside the compiled path."""


# --- small SQL pieces ----------------------------------------------------------------------


def lit(value: str) -> ColumnElement[Any]:
    """A SQL string literal written into the statement (part of its cached shape)."""
    return literal_column("'" + value.replace("'", "''") + "'", Text)


def b64url(raw: ColumnElement[Any]) -> ColumnElement[Any]:
    """Unpadded base64url of a text, as :func:`resolvers.relay.encode_id` makes it."""
    encoded = func.encode(func.convert_to(raw, lit("UTF8")), lit("base64"))
    return func.rtrim(func.translate(encoded, literal_column("E'+/\\n'"), lit("-_")), lit("="))


def global_id(type_name: str, pk: ColumnElement[Any]) -> ColumnElement[Any]:
    """``encode_id`` in SQL. The text is ASCII (a type name, a colon, digits), so a cast makes
    its bytes (half the cost of ``convert_to``), and under 58 bytes base64 has no line breaks."""
    if len(type_name) + 1 + 19 > 57:
        return b64url(lit(type_name + ":").op("||")(cast(pk, Text)))
    raw = cast(lit(type_name + ":").op("||")(cast(pk, Text)), LargeBinary)
    return func.rtrim(
        func.translate(func.encode(raw, lit("base64")), lit("+/"), lit("-_")), lit("=")
    )


def cursor_of(ordering: Ordering, src: FromClause) -> ColumnElement[Any]:
    """The cursor of a row, as :func:`resolvers.relay.encode_cursor` makes it: ``jsonb``'s
    text form is Python's ``json.dumps`` with ``ensure_ascii=False``."""
    values = []
    for col, _ in ordering.keys:
        value: ColumnElement[Any] = src.c[col.key]
        python_type = col.type.python_type
        if python_type is datetime:
            raise Unsupported("timestamp cursors")
        if python_type is date:
            value = func.jsonb_build_object(lit("$d"), value)
        values.append(value)
    return b64url(cast(func.jsonb_build_array(*values), Text))


class JsonText(TypeDecorator[str]):
    """Marks an expression whose text is JSON already (an object, a list, ``null``)."""

    impl = Text
    cache_ok = True


JSON_TEXT = JsonText()
NULL_JSON: ColumnElement[Any] = type_coerce(literal_column("'null'"), JSON_TEXT)


def json_text(expr: ColumnElement[Any]) -> ColumnElement[Any]:
    return type_coerce(expr, JSON_TEXT)


def json_raw(text_: str) -> ColumnElement[Any]:
    """JSON text written into the statement as it is."""
    return json_text(lit(text_))


def json_string(value: str) -> ColumnElement[Any]:
    """A constant string written into the statement as its JSON text."""
    return json_raw(json.dumps(value, ensure_ascii=False))


def json_value(value: ColumnElement[Any]) -> ColumnElement[Any]:
    """The JSON text of a value: nested JSON as it is, a SQL value by ``to_json`` (the
    encoding ``json_build_object`` gives it), SQL NULL as ``null``."""
    if not isinstance(value.type, JsonText):
        value = cast(func.to_json(value), Text)
    return func.coalesce(value, NULL_JSON)


def _concat(parts: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
    """``a || b || ...`` as a balanced tree (an object of many fields stays shallow for the
    SQL compiler's recursion)."""
    if len(parts) == 1:
        return json_text(parts[0])
    half = len(parts) // 2
    return json_text(_concat(parts[:half]).op("||")(_concat(parts[half:])))


def json_object(pairs: Sequence[tuple[str, ColumnElement[Any]]]) -> ColumnElement[Any]:
    """``{"key":value,...}`` by text concatenation: PostgreSQL's ``json_build_object``
    spends a quarter more time per object (it looks up every argument's type on every call),
    and writes ``"key" : value`` where the resolvers write ``"key":value``."""
    if not pairs:
        return json_raw("{}")
    parts: list[ColumnElement[Any]] = []
    prefix = "{"
    for key, value in pairs:
        parts.append(json_raw(prefix + json.dumps(key) + ":"))
        parts.append(json_value(value))
        prefix = ","
    parts.append(json_raw("}"))
    return _concat(parts)


def json_list(element: ColumnElement[Any], *order: Any) -> ColumnElement[Any]:
    """``[element,...]`` over an aggregate's rows in ``order``; ``[]`` over no rows."""
    joined = func.coalesce(func.string_agg(element, aggregate_order_by(lit(","), *order)), lit(""))
    return _concat([json_raw("["), joined, json_raw("]")])


def enum_json(enum_cls: type[enum.Enum], col: ColumnElement[Any]) -> ColumnElement[Any]:
    """A stored enum value as its GraphQL name."""
    members = list(enum_cls)
    if all(m.name == str(m.value).upper() for m in members):
        return func.upper(col)
    return case({lit(str(m.value)): lit(m.name) for m in members}, value=col)


def cast_enum(value: Any) -> type[enum.Enum]:
    if not (isinstance(value, type) and issubclass(value, enum.Enum)):
        raise TypeError(value)
    return value


def adapt(expr: Any, alias: FromClause) -> Any:
    """Rewrite an expression over a base table onto an alias of it."""
    return ClauseAdapter(alias).traverse(expr)


# --- the plan cache ------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """A parsed, validated query the compiled path can answer."""

    document: DocumentNode
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    # Variables passed as ``after``/``before`` and nowhere else: cursors, whose values are
    # templated.
    cursor_variables: frozenset[str] = frozenset()
    # The query text and operation name: what kept statements are filed under.
    source: tuple[str, str | None] = ("", None)


class Compiler:
    """Decides once per query text whether the compiled path can answer it, and builds the
    statement for each request."""

    def __init__(self, schema: strawberry.Schema, rules: Sequence[Any], max_tokens: int) -> None:
        self.schema = schema
        self.gql: GraphQLSchema = schema._schema
        # The normal path's checks: graphql's rules plus the depth and alias limits.
        self.rules = [*specified_rules, *rules]
        self.max_tokens = max_tokens
        self.plans: OrderedDict[tuple[str, str | None], Plan | None] = OrderedDict()
        self.templates: OrderedDict[tuple[Any, ...], Template] = OrderedDict()
        self.templates_built = 0

    def plan(self, query: str, operation_name: str | None) -> Plan | None:
        key = (query, operation_name)
        if key in self.plans:
            self.plans.move_to_end(key)
            return self.plans[key]
        plan = self._plan(query, operation_name)
        self.plans[key] = plan
        if len(self.plans) > PLANS_KEPT:
            self.plans.popitem(last=False)
        return plan

    def _plan(self, query: str, operation_name: str | None) -> Plan | None:
        try:
            document = parse(query, max_tokens=self.max_tokens)
        except GraphQLError:
            return None
        if validate(self.gql, document, self.rules):
            return None  # the normal path reports the errors
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation != OperationType.QUERY:
            return None
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        if _has_directives(operation.selection_set) or any(
            _has_directives(f.selection_set) or f.directives for f in fragments.values()
        ):
            return None
        plan = Plan(
            document, operation, fragments, _cursor_variables(document), (query, operation_name)
        )
        try:
            _Shape(self, plan).check_root()
        except Unsupported:
            return None
        return plan

    def statement(
        self, plan: Plan, principal: Principal, raw_variables: dict[str, Any] | None
    ) -> Select[Any]:
        """The one statement answering ``plan`` for this caller; raises Unsupported when this
        request must take the normal path (its arguments or variables need the resolvers'
        errors)."""
        coerced = get_variable_values(
            self.gql, plan.operation.variable_definitions or (), raw_variables or {}
        )
        if isinstance(coerced, list):
            raise Unsupported("variables")
        builder = _Builder(self, plan, principal, coerced)
        try:
            return builder.root()
        except (RequestError, GraphQLError) as err:
            raise Unsupported(str(err)) from None

    def prepared(
        self, plan: Plan, principal: Principal, raw_variables: dict[str, Any] | None
    ) -> tuple[str, tuple[Any, ...]]:
        """The SQL text and arguments answering ``plan`` for this caller.

        Building a statement costs milliseconds, so it is built once per *shape* of a request
        (the plan, the caller's row rules, and the variables with the primary keys of their
        global IDs and the values inside their cursors left out) and kept as SQL text; a
        request of a known shape only puts its keys and cursor values into the arguments."""
        variables = raw_variables or {}
        coerced = get_variable_values(
            self.gql, plan.operation.variable_definitions or (), variables
        )
        if isinstance(coerced, list):
            raise Unsupported("variables")
        shape = _Shape_of(plan, self.gql)
        stand_ins = shape.substitute(variables)
        key = (plan.source, _rule_key(principal), shape.key)
        template = self.templates.get(key)
        if template is None:
            template = self._template(plan, principal, stand_ins, shape)
            self.templates[key] = template
            if len(self.templates) > TEMPLATES_KEPT:
                self.templates.popitem(last=False)
        else:
            self.templates.move_to_end(key)
        if template.sql is None:
            # This shape could not be templated: build the statement for this request.
            sql, _, processed = _text_of(self.statement(plan, principal, variables))
            return sql, tuple(processed)
        args = list(template.defaults)
        for position, stand_in in template.slots:
            args[position] = shape.real[stand_in]
        return template.sql, tuple(args)

    def _template(
        self, plan: Plan, principal: Principal, stand_ins: dict[str, Any], shape: _Shape_of
    ) -> Template:
        self.templates_built += 1
        if shape.collides():
            return Template(None, (), ())
        sql, values, processed = _text_of(self.statement(plan, principal, stand_ins))
        slots = []
        found: set[Any] = set()
        for position, value in enumerate(values):
            stand_in = shape.stand_in_of(value)
            if stand_in is not None:
                slots.append((position, stand_in))
                found.add(stand_in)
        if found != set(shape.real):
            # A key or cursor value did not reach the statement as a plain argument.
            return Template(None, (), ())
        return Template(sql, tuple(processed), tuple(slots))


TEMPLATES_KEPT = 1024
_DIALECT = postgresql_asyncpg.dialect()


@dataclass(frozen=True)
class Template:
    """A statement's SQL text with its arguments; ``slots`` name the positions that take the
    request's own keys and cursor values."""

    sql: str | None
    defaults: tuple[Any, ...]
    slots: tuple[tuple[int, Any], ...]


def _text_of(stmt: Select[Any]) -> tuple[str, list[Any], list[Any]]:
    """SQL text, raw argument values and the values as the driver takes them."""
    compiled = stmt.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    names = compiled.positiontup or []
    processors: dict[str, Any] = dict(compiled._bind_processors)
    raw = [params[name] for name in names]
    processed = [
        processors[name](value) if callable(processors.get(name)) else value
        for name, value in zip(names, raw, strict=True)
    ]
    return compiled.string, raw, processed


def _rule_key(principal: Principal) -> tuple[Any, ...]:
    """What the row rules of a caller depend on."""
    return (
        principal.role,
        principal.person_id,
        principal.region_ids,
        principal.district_ids,
        principal.institution_ids,
        principal.grant,
    )


class _Shape_of:
    """A request's variables split into their shape and their free values: the primary keys
    of global IDs and the values inside cursors, replaced by unique stand-ins."""

    def __init__(self, plan: Plan, gql: GraphQLSchema) -> None:
        self.plan = plan
        self.gql = gql
        self.parts: list[Any] = []
        self.real: dict[Any, Any] = {}

    @property
    def key(self) -> tuple[Any, ...]:
        return tuple(self.parts)

    def _stand_in(self, value: Any) -> Any:
        n = len(self.real) + 1
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, int):
            # Keys and cursor values must stay valid values of a 32-bit key column.
            stand_in: Any = INT4_MAX - n
        elif isinstance(value, str):
            stand_in = f"\ue000{n}"
        elif isinstance(value, date) and not isinstance(value, datetime):
            stand_in = date(1, 1, 1) + timedelta(days=n)
        else:
            return None
        self.real[(type(stand_in), stand_in)] = value
        return stand_in

    def stand_in_of(self, value: Any) -> Any:
        key = (type(value), value)
        return key if key in self.real else None

    def collides(self) -> bool:
        """Does a value kept whole in the shape equal a stand-in (it would be taken for one)?"""

        def flat(value: Any) -> Iterator[Any]:
            if isinstance(value, tuple):
                for item in value:
                    yield from flat(item)
            else:
                yield value

        return any(self.stand_in_of(v) is not None for v in flat(tuple(self.parts)))

    def substitute(self, variables: dict[str, Any]) -> dict[str, Any]:
        """Stand-ins for the request's variables, guided by their declared types: only values
        of type ``ID`` and cursor variables are stood in for; everything else is shape."""
        out: dict[str, Any] = {}
        for definition in self.plan.operation.variable_definitions or ():
            name = definition.variable.name.value
            if name not in variables:
                self.parts.append((name, "absent"))
                continue
            gtype = type_from_ast(self.gql, definition.type)
            cursor = name in self.plan.cursor_variables
            out[name] = self._value(variables[name], gtype, cursor, name)
        return out

    def _exact(self, value: Any, path: str) -> Any:
        self.parts.append((path, type(value).__name__, _frozen(value)))
        return value

    def _value(self, value: Any, gtype: Any, cursor: bool, path: str) -> Any:
        if isinstance(gtype, GraphQLNonNull):
            gtype = gtype.of_type
        if value is None:
            self.parts.append((path, None))
            return None
        if isinstance(gtype, GraphQLList):
            if not isinstance(value, list):
                return self._exact(value, path)
            self.parts.append((path, "[", len(value)))
            return [self._value(v, gtype.of_type, False, f"{path}[]") for v in value]
        if isinstance(gtype, GraphQLInputObjectType):
            if not isinstance(value, dict):
                return self._exact(value, path)
            self.parts.append((path, "{", tuple(sorted(value))))
            return {
                k: self._value(
                    value[k], getattr(gtype.fields.get(k), "type", None), False, f"{path}.{k}"
                )
                for k in sorted(value)
            }
        named = getattr(gtype, "name", None)
        if named == "String" and cursor and isinstance(value, str):
            return self._cursor(value, path)
        if named == "ID" and isinstance(value, str):
            try:
                type_name, pk = decode_id(value)
            except RequestError:
                return self._exact(value, path)
            if encode_id(type_name, pk) != value:
                return self._exact(value, path)  # not in the canonical form: keep it whole
            stand_in = self._stand_in(pk)
            self.parts.append((path, "id", type_name))
            return encode_id(type_name, stand_in)
        return self._exact(value, path)

    def _cursor(self, value: str, path: str) -> str:
        try:
            decoded = decode_cursor_any(value)
        except RequestError:
            self.parts.append((path, value))
            return value
        kinds: list[Any] = []
        replaced: list[Any] = []
        for component in decoded:
            # An integer outside a 32-bit key's range is kept whole: the statement built for it
            # refuses it, as the resolvers do.
            out_of_range = isinstance(component, int) and not -INT4_MAX - 1 <= component <= INT4_MAX
            stand_in = None if out_of_range else self._stand_in(component)
            if stand_in is None:
                kinds.append(("=", repr(component)))
                replaced.append(component)
            else:
                kinds.append(type(component).__name__)
                replaced.append(stand_in)
        self.parts.append((path, "cursor", tuple(kinds)))
        return encode_cursor(replaced)


def _frozen(value: Any) -> Any:
    """A hashable form of a JSON value."""
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def _cursor_variables(document: DocumentNode) -> frozenset[str]:
    """Variables passed only as ``after``/``before`` (a variable used anywhere else too is
    taken whole, not as a cursor)."""
    cursors: set[str] = set()
    others: set[str] = set()

    def values(node: Any) -> Iterator[str]:
        if isinstance(node, VariableNode):
            yield node.name.value
        for child in getattr(node, "values", None) or ():  # lists
            yield from values(child)
        for child in getattr(node, "fields", None) or ():  # input objects
            yield from values(child.value)

    def walk(selection_set: SelectionSetNode | None) -> None:
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                for arg in sel.arguments or ():
                    used = set(values(arg.value))
                    if arg.name.value in ("after", "before") and isinstance(
                        arg.value, VariableNode
                    ):
                        cursors.update(used)
                    else:
                        others.update(used)
            walk(getattr(sel, "selection_set", None))

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            walk(definition.selection_set)
    return frozenset(cursors - others)


def _has_directives(selection_set: SelectionSetNode | None) -> bool:
    for sel in selection_set.selections if selection_set else ():
        if sel.directives:
            return True
        if _has_directives(getattr(sel, "selection_set", None)):
            return True
    return False


# --- what the compiler knows ---------------------------------------------------------------

Scalar = Callable[[FromClause], ColumnElement[Any]]


def _col(name: str) -> Scalar:
    return lambda src: src.c[name]


def _enum(enum_cls: type[enum.Enum], name: str) -> Scalar:
    return lambda src: enum_json(enum_cls, src.c[name])


def _full_name(src: FromClause) -> ColumnElement[Any]:
    parts = (src.c.last_name, src.c.first_name, src.c.patronymic)
    return func.concat_ws(lit(" "), *[func.nullif(p, lit("")) for p in parts])


def _languages(src: FromClause) -> ColumnElement[Any]:
    # Stored lower case, shown by enum name; empty array -> empty list.
    joined = func.upper(func.array_to_string(src.c.languages, lit(",")))
    return json_text(cast(func.to_json(func.string_to_array(joined, lit(","))), Text))


def _scalars_of(model: Any, graphql_type: str, extra: dict[str, Scalar]) -> dict[str, Scalar]:
    """Plain fields of a type whose Python name is a column of its table."""
    from schema import schema

    table = model.__table__
    definition = schema.get_type_by_name(graphql_type)
    assert definition is not None
    scalars: dict[str, Scalar] = {}
    for field in definition.fields:  # type: ignore[union-attr]
        if field.base_resolver is not None or field.python_name not in table.c:
            continue
        ftype = field.type
        if isinstance(ftype, StrawberryOptional):
            ftype = ftype.of_type
        name = schema.config.name_converter.get_graphql_name(field)
        if isinstance(ftype, StrawberryList):
            continue
        if isinstance(ftype, StrawberryEnumDefinition):
            scalars[name] = _enum(cast_enum(ftype.wrapped_cls), field.python_name)
        elif isinstance(
            getattr(ftype, "__strawberry_definition__", None), StrawberryEnumDefinition
        ):
            scalars[name] = _enum(cast_enum(ftype), field.python_name)
        elif ftype in (str, int, bool, date):
            scalars[name] = _col(field.python_name)
    scalars.update(extra)
    return scalars


@dataclass
class Entity:
    model: Any
    scalars: dict[str, Scalar]

    @property
    def table(self) -> Any:
        return self.model.__table__


_ENTITIES: dict[str, Entity] = {}


def entities() -> dict[str, Entity]:
    if not _ENTITIES:
        _ENTITIES.update(
            {
                "Person": Entity(Person, _scalars_of(Person, "Person", {"fullName": _full_name})),
                "Institution": Entity(
                    Institution,
                    _scalars_of(Institution, "Institution", {"languages": _languages}),
                ),
                "Enrollment": Entity(
                    Enrollment,
                    _scalars_of(
                        Enrollment,
                        "Enrollment",
                        {"isCurrent": lambda src: src.c.exit_date.is_(None)},
                    ),
                ),
                "Guardianship": Entity(Guardianship, _scalars_of(Guardianship, "Guardianship", {})),
                "Region": Entity(Region, _scalars_of(Region, "Region", {})),
                "District": Entity(District, _scalars_of(District, "District", {})),
            }
        )
    return _ENTITIES


RELATIONS = {
    "Person": {"registeredDistrict", "guardians", "children", "enrollments"},
    "Guardianship": {"guardian", "child"},
    "Enrollment": {"person", "institution", "previousEnrollment"},
    "Institution": {"region", "district", "enrollments"},
    "District": {"region"},
    "Region": {"districts"},
}
ROOTS = {"node", "persons", "institutions", "regions", "__typename"}
CONNECTION_FIELDS = {"totalCount", "pageInfo", "nodes", "edges", "__typename"}
PAGE_INFO_FIELDS = {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"}
EDGE_FIELDS = {"cursor", "node", "__typename"}


class _Fields:
    """Field collection of a selection for one runtime type (fragments applied)."""

    def __init__(self, gql: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.gql, self.fragments = gql, fragments

    def applies(self, condition: str | None, runtime: str) -> bool:
        if condition is None or condition == runtime:
            return True
        abstract = self.gql.get_type(condition)
        target = self.gql.get_type(runtime)
        return (
            isinstance(abstract, GraphQLInterfaceType)
            and isinstance(target, GraphQLObjectType)
            and self.gql.is_sub_type(abstract, target)
        )

    def collect(self, runtime: str, nodes: Sequence[FieldNode]) -> dict[str, list[FieldNode]]:
        out: dict[str, list[FieldNode]] = {}
        for node in nodes:
            self._into(out, runtime, node.selection_set)
        return out

    def collect_set(
        self, runtime: str, selection_set: SelectionSetNode
    ) -> dict[str, list[FieldNode]]:
        out: dict[str, list[FieldNode]] = {}
        self._into(out, runtime, selection_set)
        return out

    def _into(
        self, out: dict[str, list[FieldNode]], runtime: str, selection_set: SelectionSetNode | None
    ) -> None:
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                key = sel.alias.value if sel.alias else sel.name.value
                out.setdefault(key, []).append(sel)
            elif isinstance(sel, InlineFragmentNode):
                cond = sel.type_condition.name.value if sel.type_condition else None
                if self.applies(cond, runtime):
                    self._into(out, runtime, sel.selection_set)
            elif isinstance(sel, FragmentSpreadNode):
                fragment = self.fragments[sel.name.value]
                if self.applies(fragment.type_condition.name.value, runtime):
                    self._into(out, runtime, fragment.selection_set)


def _named(gql_type: Any) -> GraphQLNamedType:
    return get_named_type(gql_type)


def _connection_type(gql: GraphQLSchema, node: FieldNode) -> str:
    """The connection type a list field returns: the field is looked up by name on the types
    that have connections (the root and its Person and Institution)."""
    name = node.name.value
    for parent in ("Query", "Person", "Institution"):
        gtype = gql.get_type(parent)
        if isinstance(gtype, GraphQLObjectType) and name in gtype.fields:
            return _named(gtype.fields[name].type).name
    raise Unsupported(name)


class _Shape:
    """The static check: does every field of the query have a compiled form?"""

    def __init__(self, compiler: Compiler, plan: Plan) -> None:
        self.gql = compiler.gql
        self.fields = _Fields(self.gql, plan.fragments)
        self.plan = plan

    def check_root(self) -> None:
        assert self.gql.query_type is not None
        for key, nodes in self.fields.collect_set(
            "Query", self.plan.operation.selection_set
        ).items():
            name = nodes[0].name.value
            if name not in ROOTS:
                raise Unsupported(name)
            if name == "node":
                # Whatever the id's type, the selection must be known for each supported type.
                for type_name in ("Person", "Institution", "Enrollment"):
                    self.check_object(type_name, nodes)
                self._only_known_conditions(nodes)
            elif name == "persons":
                self.check_connection("Person", nodes)
            elif name == "institutions":
                self.check_connection("Institution", nodes)
            elif name == "regions":
                self.check_connection("Region", nodes)
            del key

    def _only_known_conditions(self, nodes: Sequence[FieldNode]) -> None:
        """Fragments on other node types would need their resolvers."""
        known = {"Node", "Person", "Institution", "Enrollment"}

        def walk(selection_set: SelectionSetNode | None) -> None:
            for sel in selection_set.selections if selection_set else ():
                if isinstance(sel, InlineFragmentNode):
                    if sel.type_condition and sel.type_condition.name.value not in known:
                        raise Unsupported("fragment on another type")
                    walk(sel.selection_set)
                elif isinstance(sel, FragmentSpreadNode):
                    fragment = self.plan.fragments[sel.name.value]
                    if fragment.type_condition.name.value not in known:
                        raise Unsupported("fragment on another type")
                    walk(fragment.selection_set)

        for node in nodes:
            walk(node.selection_set)

    def check_object(self, type_name: str, nodes: Sequence[FieldNode]) -> None:
        entity = entities()[type_name]
        for _key, sub in self.fields.collect(type_name, nodes).items():
            name = sub[0].name.value
            if name in ("__typename", "id") or name in entity.scalars:
                continue
            if name not in RELATIONS.get(type_name, ()):
                raise Unsupported(f"{type_name}.{name}")
            target = _named(self._field(type_name, name).type).name
            if name == "enrollments":
                self.check_connection("Enrollment", sub)
            else:
                self.check_object(target, sub)

    def check_connection(self, node_type: str, nodes: Sequence[FieldNode]) -> None:
        connection = _connection_type(self.gql, nodes[0])
        for _key, sub in self.fields.collect(connection, nodes).items():
            name = sub[0].name.value
            if name not in CONNECTION_FIELDS:
                raise Unsupported(name)
            if name == "nodes":
                self.check_object(node_type, sub)
            elif name == "pageInfo":
                for _k, info in self.fields.collect("PageInfo", sub).items():
                    if info[0].name.value not in PAGE_INFO_FIELDS:
                        raise Unsupported("pageInfo")
            elif name == "edges":
                edge = _named(self.gql.get_type(connection).fields["edges"].type).name  # type: ignore[union-attr]
                for _k, esub in self.fields.collect(edge, sub).items():
                    ename = esub[0].name.value
                    if ename not in EDGE_FIELDS:
                        raise Unsupported("edges")
                    if ename == "node":
                        self.check_object(node_type, esub)

    def _field(self, type_name: str, name: str) -> GraphQLField:
        gtype = self.gql.get_type(type_name)
        assert isinstance(gtype, GraphQLObjectType)
        return gtype.fields[name]


# --- building the statement ----------------------------------------------------------------


class _Builder:
    def __init__(
        self, compiler: Compiler, plan: Plan, principal: Principal, variables: VariableValues
    ) -> None:
        self.compiler = compiler
        self.gql = compiler.gql
        self.schema = compiler.schema
        self.plan = plan
        self.principal = principal
        self.variables = variables
        self.fields = _Fields(self.gql, plan.fragments)
        self.entities = entities()

    # arguments, exactly as the resolvers receive them

    def args(self, parent: str, node: FieldNode) -> dict[str, Any]:
        gtype = self.gql.get_type(parent)
        assert isinstance(gtype, GraphQLObjectType)
        field_def = gtype.fields[node.name.value]
        raw = get_argument_values(field_def, node, self.variables)
        definition = field_def.extensions["strawberry-definition"]
        return convert_arguments(
            raw,
            definition.arguments,
            scalar_registry=self.schema.schema_converter.scalar_registry,
            config=self.schema.config,
        )

    # the root

    def root(self) -> Select[Any]:
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for key, nodes in self.fields.collect_set(
            "Query", self.plan.operation.selection_set
        ).items():
            name = nodes[0].name.value
            if name == "__typename":
                pairs.append((key, json_string("Query")))
            elif name == "node":
                pairs.append((key, self.node(nodes)))
            elif name == "persons":
                pairs.append((key, self.persons(nodes)))
            elif name == "institutions":
                pairs.append((key, self.institutions(nodes)))
            elif name == "regions":
                pairs.append((key, self.regions(nodes)))
            else:
                raise Unsupported(name)
        # As bytes: the hub sends them on without decoding and encoding 200 kB of text.
        return select(func.convert_to(json_object(pairs), lit("UTF8")))

    def node(self, nodes: list[FieldNode]) -> ColumnElement[Any]:
        from schema.node import NODE_RESOLVERS

        args = self.args("Query", nodes[0])
        type_name, pk = decode_id(args["id"])
        if type_name not in NODE_RESOLVERS:
            raise Unsupported("unknown type")  # the resolver's INVALID_ID
        grant = self.principal.grant
        if grant is not None and not grant.names_type(type_name):
            return NULL_JSON
        if type_name == "Person":
            return self.person_by(lambda p: p.c.id == pk, nodes)
        if type_name == "Institution":
            return self.object_by("Institution", lambda i: i.c.id == pk, nodes)
        if type_name == "Enrollment":
            return self.enrollment_by(lambda e: e.c.id == pk, nodes)
        raise Unsupported(type_name)

    def persons(self, nodes: list[FieldNode]) -> ColumnElement[Any]:
        from schema.common import bounds
        from schema.people import _person_filter

        if self.principal.is_anonymous:
            raise Unsupported("anonymous")  # the resolver's UNAUTHENTICATED
        args = self.args("Query", nodes[0])
        page = bounds(args.get("first"), args.get("after"), args.get("last"), args.get("before"))
        stmt = persons_query(self.principal, _person_filter(args.get("filter")))
        ordering = PERSON_ORDERINGS[args["order_by"].value]
        return self.connection("Person", nodes, stmt, ordering, page, correlate=None)

    def institutions(self, nodes: list[FieldNode]) -> ColumnElement[Any]:
        from schema.common import bounds
        from schema.institutions import _institution_filter

        args = self.args("Query", nodes[0])
        page = bounds(args.get("first"), args.get("after"), args.get("last"), args.get("before"))
        stmt = institutions_query(_institution_filter(args.get("filter")))
        ordering = INSTITUTION_ORDERINGS[args["order_by"].value]
        return self.connection("Institution", nodes, stmt, ordering, page, correlate=None)

    def regions(self, nodes: list[FieldNode]) -> ColumnElement[Any]:
        from schema.common import bounds
        from schema.geography import REGION_ORDER

        args = self.args("Query", nodes[0])
        page = bounds(args.get("first"), args.get("after"), args.get("last"), args.get("before"))
        stmt = select(*Region.__table__.c)
        return self.connection("Region", nodes, stmt, REGION_ORDER, page, correlate=None)

    # objects

    def object_json(
        self, type_name: str, src: FromClause, nodes: Sequence[FieldNode]
    ) -> ColumnElement[Any]:
        entity = self.entities[type_name]
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for key, sub in self.fields.collect(type_name, nodes).items():
            name = sub[0].name.value
            if name == "__typename":
                pairs.append((key, json_string(type_name)))
            elif name == "id":
                # Stored by PostgreSQL where the table has it (persons, institutions, enrollments).
                stored = src.c.get("gid")
                pairs.append(
                    (key, stored if stored is not None else global_id(type_name, src.c.id))
                )
            elif name in entity.scalars:
                pairs.append((key, entity.scalars[name](src)))
            else:
                pairs.append((key, self.relation(type_name, name, src, sub)))
        return json_object(pairs)

    def object_by(
        self,
        type_name: str,
        where: Callable[[FromClause], ColumnElement[bool]],
        nodes: Sequence[FieldNode],
        *,
        correlate: FromClause | None = None,
    ) -> ColumnElement[Any]:
        alias = self.entities[type_name].table.alias()
        stmt = select(self.object_json(type_name, alias, nodes)).where(where(alias))
        if correlate is not None:
            stmt = stmt.correlate(correlate)
        return stmt.scalar_subquery()

    def person_by(
        self,
        where: Callable[[FromClause], ColumnElement[bool]],
        nodes: Sequence[FieldNode],
        *,
        correlate: FromClause | None = None,
    ) -> ColumnElement[Any]:
        return self.object_by(
            "Person",
            lambda p: and_(where(p), person_readable(self.principal, p.c.id)),
            nodes,
            correlate=correlate,
        )

    def enrollment_by(
        self,
        where: Callable[[FromClause], ColumnElement[bool]],
        nodes: Sequence[FieldNode],
        *,
        correlate: FromClause | None = None,
    ) -> ColumnElement[Any]:
        rule = enrollment_readable(self.principal)
        return self.object_by(
            "Enrollment", lambda e: and_(where(e), adapt(rule, e)), nodes, correlate=correlate
        )

    def list_of(
        self,
        type_name: str,
        where: Callable[[FromClause], ColumnElement[bool]],
        order: Callable[[FromClause], list[ColumnElement[Any]]],
        nodes: Sequence[FieldNode],
        correlate: FromClause,
    ) -> ColumnElement[Any]:
        alias = self.entities[type_name].table.alias()
        agg = json_list(self.object_json(type_name, alias, nodes), *order(alias))
        stmt = select(agg).where(where(alias)).correlate(correlate)
        return stmt.scalar_subquery()

    def relation(
        self, type_name: str, name: str, src: FromClause, nodes: list[FieldNode]
    ) -> ColumnElement[Any]:
        principal = self.principal
        if type_name == "Person":
            if name == "registeredDistrict":
                return self.object_by(
                    "District",
                    lambda d: d.c.id == src.c.registered_district_id,
                    nodes,
                    correlate=src,
                )
            if name == "guardians":
                return self.list_of(
                    "Guardianship",
                    lambda g: and_(
                        g.c.child_id == src.c.id, person_readable(principal, g.c.guardian_id)
                    ),
                    lambda g: [g.c.valid_from, g.c.id],
                    nodes,
                    src,
                )
            if name == "children":
                return self.list_of(
                    "Guardianship",
                    lambda g: and_(
                        g.c.guardian_id == src.c.id, person_readable(principal, g.c.child_id)
                    ),
                    lambda g: [g.c.valid_from, g.c.id],
                    nodes,
                    src,
                )
            if name == "enrollments":
                return self.enrollments(
                    type_name, src, nodes, parent="person_id", default="ENTRY_DATE_DESC"
                )
        if type_name == "Institution":
            if name == "region":
                return self.object_by(
                    "Region", lambda r: r.c.id == src.c.region_id, nodes, correlate=src
                )
            if name == "district":
                return self.object_by(
                    "District", lambda d: d.c.id == src.c.district_id, nodes, correlate=src
                )
            if name == "enrollments":
                return self.enrollments(
                    type_name, src, nodes, parent="institution_id", default="ID"
                )
        if type_name == "Enrollment":
            if name == "person":
                return self.person_by(lambda p: p.c.id == src.c.person_id, nodes, correlate=src)
            if name == "institution":
                return self.object_by(
                    "Institution", lambda i: i.c.id == src.c.institution_id, nodes, correlate=src
                )
            if name == "previousEnrollment":
                return self.enrollment_by(
                    lambda e: e.c.id == src.c.previous_enrollment_id, nodes, correlate=src
                )
        if type_name == "Guardianship":
            if name == "guardian":
                return self.person_by(lambda p: p.c.id == src.c.guardian_id, nodes, correlate=src)
            if name == "child":
                return self.person_by(lambda p: p.c.id == src.c.child_id, nodes, correlate=src)
        if type_name == "District" and name == "region":
            return self.object_by(
                "Region", lambda r: r.c.id == src.c.region_id, nodes, correlate=src
            )
        if type_name == "Region" and name == "districts":
            return self.list_of(
                "District",
                lambda d: and_(d.c.region_id == src.c.id, d.c.valid_to.is_(None)),
                lambda d: [d.c.name_en, d.c.id],
                nodes,
                src,
            )
        raise Unsupported(f"{type_name}.{name}")

    def enrollments(
        self, type_name: str, src: FromClause, nodes: list[FieldNode], *, parent: str, default: str
    ) -> ColumnElement[Any]:
        from schema.common import bounds
        from schema.enrollments import enrollment_filter

        args = self.args(type_name, nodes[0])
        page = bounds(args.get("first"), args.get("after"), args.get("last"), args.get("before"))
        flt = enrollment_filter(args.get("filter"))
        order_by = args.get("order_by")
        ordering = ENROLLMENT_ORDERINGS[order_by.name if order_by is not None else default]
        e = Enrollment.__table__.alias()
        rules = [enrollment_readable(self.principal), *enrollment_filter_clauses(flt)]
        stmt = select(e).where(e.c[parent] == src.c.id, *[adapt(r, e) for r in rules])
        return self.connection(
            "Enrollment", nodes, stmt, adapt_ordering(ordering, e), page, correlate=src
        )

    # connections

    def connection(
        self,
        node_type: str,
        nodes: list[FieldNode],
        stmt: Select[Any],
        ordering: Ordering,
        args: PageArgs,
        *,
        correlate: FromClause | None,
    ) -> ColumnElement[Any]:
        if args.last is not None or args.before is not None:
            raise Unsupported("backwards pages")
        size = args.size
        if correlate is not None:
            stmt = stmt.correlate(correlate)
        after = stmt
        if args.after is not None:
            after = after.where(ordering.after(ordering.decode(args.after)))
        page = after.order_by(*ordering.clauses()).limit(size).subquery()
        src = page
        # Aggregates over the page keep its order; the page holds exactly its rows, so the
        # index walk stops at the page's end and nothing needs numbering.
        on_page = Ordering(tuple((page.c[col.key], desc) for col, desc in ordering.keys))
        in_order = on_page.clauses()
        backwards = on_page.clauses(reverse=True)
        connection_type = _connection_type(self.gql, nodes[0])
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for key, sub in self.fields.collect(connection_type, nodes).items():
            name = sub[0].name.value
            if name == "__typename":
                pairs.append((key, json_string(connection_type)))
            elif name == "totalCount":
                counted = select(func.count()).select_from(stmt.order_by(None).subquery())
                if correlate is not None:
                    counted = counted.correlate(correlate)
                pairs.append((key, counted.scalar_subquery()))
            elif name == "nodes":
                agg = json_list(self.object_json(node_type, src, sub), *in_order)
                pairs.append((key, agg))
            elif name == "edges":
                edge_type = _named(
                    self.gql.get_type(connection_type).fields["edges"].type  # type: ignore[union-attr]
                ).name
                edge_pairs: list[tuple[str, ColumnElement[Any]]] = []
                for ekey, esub in self.fields.collect(edge_type, sub).items():
                    ename = esub[0].name.value
                    if ename == "__typename":
                        edge_pairs.append((ekey, json_string(edge_type)))
                    elif ename == "cursor":
                        edge_pairs.append((ekey, cursor_of(ordering, src)))
                    else:
                        edge_pairs.append((ekey, self.object_json(node_type, src, esub)))
                agg = json_list(json_object(edge_pairs), *in_order)
                pairs.append((key, agg))
            elif name == "pageInfo":
                info_pairs: list[tuple[str, ColumnElement[Any]]] = []
                for ikey, isub in self.fields.collect("PageInfo", sub).items():
                    iname = isub[0].name.value
                    if iname == "__typename":
                        info_pairs.append((ikey, json_string("PageInfo")))
                    elif iname == "hasNextPage":
                        # One row past the page says whether items follow.
                        beyond = select(func.count()).select_from(
                            after.order_by(*ordering.clauses()).limit(size + 1).subquery()
                        )
                        if correlate is not None:
                            beyond = beyond.correlate(correlate)
                        info_pairs.append((ikey, beyond.scalar_subquery() > size))
                    elif iname == "hasPreviousPage":
                        info_pairs.append(
                            (ikey, json_raw("true" if args.after is not None else "false"))
                        )
                    elif iname in ("startCursor", "endCursor"):
                        first_or_last = in_order if iname == "startCursor" else backwards
                        cursors = func.array_agg(
                            aggregate_order_by(cursor_of(ordering, src), *first_or_last)
                        )
                        info_pairs.append((ikey, cursors[1]))
                pairs.append((key, json_object(info_pairs)))
        page_used = any(
            sub[0].name.value in ("nodes", "edges", "pageInfo")
            for sub in self.fields.collect(connection_type, nodes).values()
        )
        built = select(json_object(pairs))
        if page_used:
            # HAVING makes it one aggregate row even over an empty page.
            built = built.select_from(src).having(true())
        if correlate is not None:
            built = built.correlate(correlate)
        return built.scalar_subquery()


def adapt_ordering(ordering: Ordering, alias: FromClause) -> Ordering:
    return Ordering(tuple((alias.c[col.key], desc) for col, desc in ordering.keys))


def aggregate_order_by(expr: Any, *order: Any) -> Any:
    from sqlalchemy.dialects.postgresql import aggregate_order_by as pg_order_by

    return pg_order_by(expr, *order)
