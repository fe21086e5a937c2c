"""Which documents the compiled path answers, and their shapes.

A query is planned once per text: parsed and validated with the normal path's rules, then
checked field by field against what the compiler knows (the entities below, their plain
fields and relations, the roots and connections). Anything else is :class:`Unsupported` and
takes the normal path."""

from __future__ import annotations

import enum
import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
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
    validate,
)
from sqlalchemy import ColumnElement, FromClause, Text, cast, func
from strawberry.types.base import StrawberryList, StrawberryOptional
from strawberry.types.enum import StrawberryEnumDefinition

from models import District, Enrollment, Guardianship, Institution, Lesson, Person, Region, Subject
from schema.compiled.sql import cast_enum, enum_json, json_text, lit


class Unsupported(Exception):
    """The selection (or this request's arguments) is outside the compiled path."""


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
    # Variables passed as one of :data:`FREE_ARGUMENTS` and nowhere else, with the argument
    # (root field and argument name): their values are templated too.
    free_variables: tuple[tuple[str, tuple[str, str]], ...] = ()


def plan_query(
    gql: GraphQLSchema,
    limits: Sequence[Any],
    rules: Sequence[Any],
    max_tokens: int,
    query: str,
    operation_name: str | None,
) -> Plan | None:
    """The plan of a query text, or None when the compiled path does not answer it: it does not
    parse, or validate under ``limits`` then ``rules`` (the normal path reports why), it is
    not a query, it has directives, or a field of it has no compiled form."""
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLError:
        return None
    if validate(gql, document, limits) or validate(gql, document, rules):
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
        document,
        operation,
        fragments,
        _cursor_variables(document),
        (query, operation_name),
        _free_variables(document),
    )
    try:
        _Shape(gql, plan).check_root()
    except Unsupported:
        return None
    return plan


def shaped(root: str) -> Any:
    """The module compiling the root field ``root`` (one of :data:`SHAPED_ROOTS`)."""
    return importlib.import_module(SHAPED_ROOTS[root])


def _cursor_variables(document: DocumentNode) -> frozenset[str]:
    """Variables passed only as ``after``/``before`` (a variable used anywhere else too is
    taken whole, not as a cursor)."""
    cursors: set[str] = set()
    others: set[str] = set()

    def walk(selection_set: SelectionSetNode | None) -> None:
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                for arg in sel.arguments or ():
                    used = set(_variables_in(arg.value))
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


def _free_variables(document: DocumentNode) -> tuple[tuple[str, tuple[str, str]], ...]:
    """Variables passed only as one argument of :data:`FREE_ARGUMENTS` (a variable used
    anywhere else too is taken whole)."""
    free: dict[str, set[tuple[str, str]]] = {}
    others: set[str] = set()

    def walk(selection_set: SelectionSetNode | None) -> None:
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                for arg in sel.arguments or ():
                    argument = (sel.name.value, arg.name.value)
                    if argument in FREE_ARGUMENTS and isinstance(arg.value, VariableNode):
                        free.setdefault(arg.value.name.value, set()).add(argument)
                    else:
                        others.update(_variables_in(arg.value))
            walk(getattr(sel, "selection_set", None))

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            walk(definition.selection_set)
    return tuple(
        (name, next(iter(arguments)))
        for name, arguments in sorted(free.items())
        if len(arguments) == 1 and name not in others
    )


def _variables_in(node: Any) -> Iterator[str]:
    if isinstance(node, VariableNode):
        yield node.name.value
    for child in getattr(node, "values", None) or ():  # lists
        yield from _variables_in(child)
    for child in getattr(node, "fields", None) or ():  # input objects
        yield from _variables_in(child.value)


def free_value(argument: tuple[str, str], value: str) -> str | None:
    """What the statement compares for ``value`` of a free argument (its module's
    ``free_value``), or None when the value must stay in the request's shape."""
    found: str | None = importlib.import_module(FREE_ARGUMENTS[argument]).free_value(
        argument[1], value
    )
    return found


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
                # The portals' lesson lists (issue 16): the most read page in a closure week.
                "Lesson": Entity(Lesson, _scalars_of(Lesson, "Lesson", {})),
                "Subject": Entity(Subject, _scalars_of(Subject, "Subject", {})),
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
    "Lesson": {"subject"},
}
ROOTS = {"node", "persons", "institutions", "regions", "lessons", "__typename"}
# Roots whose shape has a module of its own (schema/compiled/<shape>.py): its ``check`` and
# its builder, looked up by name (imported late: the modules use this one's parts).
SHAPED_ROOTS = {
    "gradebook": "schema.compiled.gradebook",
    "myLearning": "schema.compiled.feed",
    # issue 21's workflow pages
    "kindergartenApplications": "schema.compiled.kindergarten",
    "kindergartenPlaces": "schema.compiled.kindergarten",
    "firstGradeApplications": "schema.compiled.first_grade",
    "firstGradeQuotas": "schema.compiled.first_grade",
    "admissionApplications": "schema.compiled.admission",
    "programmes": "schema.compiled.admission",
    "testResults": "schema.compiled.admission",
    "foreignApplications": "schema.compiled.abroad",
    "foreignProgrammes": "schema.compiled.abroad",
    "accreditations": "schema.compiled.licensing",
    "licenceApplications": "schema.compiled.licence_dossiers",
    "licences": "schema.compiled.licence_dossiers",
    "verifyLicence": "schema.compiled.licence_dossiers",
    "curriculumUnits": "schema.compiled.content",
    # issue 21's school pages
    "teacherDay": "schema.compiled.lms",
    "timetable": "schema.compiled.lms",
    "concernReports": "schema.compiled.lms",
    "classGroups": "schema.compiled.lms",
    # the open course portal's pages
    "openCourses": "schema.compiled.open_courses",
}
# String arguments a module only compares in SQL, never decides on in Python (a licence's
# number): stood in for like an ID's key, so one kept statement serves every value. The
# module's ``free_value(argument, value)`` gives the value the statement compares (as the
# resolvers normalise it), or None when it must stay in the shape (the module decides on it).
FREE_ARGUMENTS = {("verifyLicence", "number"): "schema.compiled.licence_dossiers"}
# Node types other than the registry's whose ``node(id:)`` a module answers (its
# ``check_node(shape, type_name, nodes)`` and ``build_node(builder, type_name, pk, nodes)``):
# a lesson's page, an open course's page, a licence application's page.
SHAPED_NODES = {
    "Lesson": "schema.compiled.content",
    "OpenCourse": "schema.compiled.open_courses",
    "LicenceApplication": "schema.compiled.licence_dossiers",
}
# Fields a domain's module adds to a type of the registry (its ``check_field`` and
# ``build_field``): the licensing facts of an institution (InstitutionLicensing).
SHAPED_FIELDS = {
    ("Institution", name): "schema.compiled.licensing"
    for name in ("licenceRequired", "licence", "mayTeachToday", "accreditation", "programmes")
} | {
    ("Lesson", name): "schema.compiled.content"
    for name in (
        "publishedAt",
        "text",
        "unit",
        "media",
        "broadcasts",
        "quiz",
        "history",
        "myProgress",
    )
}
CONNECTION_FIELDS = {"totalCount", "pageInfo", "nodes", "edges", "__typename"}
PAGE_INFO_FIELDS = {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"}
EDGE_FIELDS = {"cursor", "node", "__typename"}


class Fields:
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


def named(gql_type: Any) -> GraphQLNamedType:
    return get_named_type(gql_type)


def connection_type(gql: GraphQLSchema, node: FieldNode) -> str:
    """The connection type a list field returns: the field is looked up by name on the types
    that have connections (the root, its Person and Institution, and the shaped modules' parents:
    the feed's courses and an open course's runs)."""
    name = node.name.value
    for parent in ("Query", "Person", "Institution", "MyLearning", "OpenCourse"):
        gtype = gql.get_type(parent)
        if isinstance(gtype, GraphQLObjectType) and name in gtype.fields:
            return named(gtype.fields[name].type).name
    raise Unsupported(name)


class _Shape:
    """The static check: does every field of the query have a compiled form?"""

    def __init__(self, gql: GraphQLSchema, plan: Plan) -> None:
        self.gql = gql
        self.fields = Fields(self.gql, plan.fragments)
        self.plan = plan

    def check_root(self) -> None:
        assert self.gql.query_type is not None
        for key, nodes in self.fields.collect_set(
            "Query", self.plan.operation.selection_set
        ).items():
            name = nodes[0].name.value
            if name not in ROOTS and name not in SHAPED_ROOTS:
                raise Unsupported(name)
            if name == "node":
                # Whatever the id's type, the selection must be known for each supported type.
                for type_name in ("Person", "Institution", "Enrollment"):
                    self.check_object(type_name, nodes)
                for type_name, module in SHAPED_NODES.items():
                    importlib.import_module(module).check_node(self, type_name, nodes)
                self._only_known_conditions(nodes)
            elif name == "persons":
                self.check_connection("Person", nodes)
            elif name == "institutions":
                self.check_connection("Institution", nodes)
            elif name == "regions":
                self.check_connection("Region", nodes)
            elif name == "lessons":
                self.check_connection("Lesson", nodes)
            elif name in SHAPED_ROOTS:
                shaped(name).check(self, nodes)
            del key

    def _only_known_conditions(self, nodes: Sequence[FieldNode]) -> None:
        """Fragments on other node types would need their resolvers."""
        known = {"Node", "Person", "Institution", "Enrollment", *SHAPED_NODES}

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
            if (type_name, name) in SHAPED_FIELDS:
                importlib.import_module(SHAPED_FIELDS[type_name, name]).check_field(self, sub)
                continue
            if name not in RELATIONS.get(type_name, ()):
                raise Unsupported(f"{type_name}.{name}")
            target = named(self._field(type_name, name).type).name
            if name == "enrollments":
                self.check_connection("Enrollment", sub)
            else:
                self.check_object(target, sub)

    def check_connection(self, node_type: str, nodes: Sequence[FieldNode]) -> None:
        connection = connection_type(self.gql, nodes[0])
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
                edge = named(self.gql.get_type(connection).fields["edges"].type).name  # type: ignore[union-attr]
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
