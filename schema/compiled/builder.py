"""The compiled path's statement: one SELECT whose single value is the whole answer's JSON.

Each field becomes a SQL expression: plain fields their columns, objects a correlated
subquery writing an object, lists and connections an aggregate over a page. The pieces are
the normal path's: its filters, orderings and page rules (:mod:`resolvers`) and the domains'
row rules, applied to the same arguments as the resolvers receive them."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import strawberry
from graphql import FieldNode, GraphQLObjectType, GraphQLSchema, NullValueNode, VariableNode
from graphql.execution.values import VariableValues, get_argument_values
from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    Text,
    and_,
    case,
    cast,
    func,
    null,
    select,
    true,
)
from strawberry.types.arguments import convert_arguments

from models import Enrollment, Region
from resolvers import content as content_service
from resolvers.access import Principal
from resolvers.access.fields import ordering_for
from resolvers.enrollments import ENROLLMENT_ORDERINGS, enrollment_filter_clauses
from resolvers.enrollments.rules import enrollment_readable
from resolvers.errors import DomainError
from resolvers.institutions import INSTITUTION_ORDERINGS, institutions_query
from resolvers.people import PERSON_ORDERINGS, persons_query
from resolvers.people.rules import person_readable
from resolvers.relay import CursorKeys, Ordering, PageArgs, decode_id
from schema.compiled.plan import (
    SHAPED_FIELDS,
    SHAPED_NODES,
    SHAPED_ROOTS,
    Fields,
    Plan,
    Unsupported,
    connection_type,
    entities,
    named,
    shaped,
)
from schema.compiled.sql import (
    NULL_JSON,
    adapt,
    adapt_ordering,
    aggregate_order_by,
    global_id,
    iso_timestamp,
    json_list,
    json_object,
    json_raw,
    json_string,
    json_text,
    lit,
    unsealed_cursor,
)


def cursor_of(ordering: Ordering, src: FromClause) -> ColumnElement[Any]:
    """A row's cursor, still to be sealed: its list's digest and the text
    :func:`resolvers.relay.cursor_text` writes (``jsonb``'s text form is Python's
    ``json.dumps`` with ``ensure_ascii=False``), between the markers the endpoint replaces by
    the sealed cursor (:func:`schema.compiled.sql.seal_cursors`). Sealing is Python's: the
    key never reaches the database."""
    values = []
    for col, _ in ordering.keys:
        value: ColumnElement[Any] = src.c[col.key]
        python_type = col.type.python_type
        if python_type is datetime:
            # ``isoformat`` of what the driver reads (the kindergarten queue's order); a null
            # stays null (a lesson in review has no ``published_at``: NEWEST's order).
            value = case(
                (value.is_(None), null()),
                else_=func.jsonb_build_object(lit("$d"), iso_timestamp(value)),
            )
        elif python_type is date:
            value = case((value.is_(None), null()), else_=func.jsonb_build_object(lit("$d"), value))
        values.append(value)
    return unsealed_cursor(ordering.digest, cast(func.jsonb_build_array(*values), Text))


# A shaped module's node JSON over a page's rows.
Element = Callable[[FromClause, Sequence[FieldNode]], ColumnElement[Any]]


def _asked(node: FieldNode, name: str, variables: VariableValues) -> bool:
    """Does the request give the argument ``name`` a value (not left to its default)?"""
    for argument in node.arguments or ():
        if argument.name.value == name:
            if isinstance(argument.value, VariableNode):
                return variables.coerced.get(argument.value.name.value) is not None
            return not isinstance(argument.value, NullValueNode)
    return False


class Builder:
    """The statement answering one plan for one caller and one request's variables."""

    def __init__(
        self,
        schema: strawberry.Schema,
        plan: Plan,
        principal: Principal,
        variables: VariableValues,
        cursors: CursorKeys,
    ) -> None:
        self.gql: GraphQLSchema = schema._schema
        self.schema = schema
        self.plan = plan
        self.principal = principal
        self.variables = variables
        self.cursors = cursors
        self.fields = Fields(self.gql, plan.fragments)
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
            elif name == "lessons":
                pairs.append((key, self.lessons(nodes)))
            elif name in SHAPED_ROOTS:
                pairs.append((key, shaped(name).build(self, nodes)))
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
        if type_name in SHAPED_NODES:
            module = importlib.import_module(SHAPED_NODES[type_name])
            built: ColumnElement[Any] = module.build_node(self, type_name, pk, nodes)
            return built
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
        from schema.people import person_filter

        if self.principal.is_anonymous:
            raise Unsupported("anonymous")  # the resolver's UNAUTHENTICATED
        args = self.args("Query", nodes[0])
        page = bounds(args.get("first"), args.get("after"), args.get("last"), args.get("before"))
        stmt = persons_query(self.principal, person_filter(args.get("filter")))
        ordering = PERSON_ORDERINGS[args["order_by"].value]
        return self.connection("Person", nodes, stmt, ordering, page, correlate=None)

    def institutions(self, nodes: list[FieldNode]) -> ColumnElement[Any]:
        from schema.common import bounds
        from schema.institutions import institution_filter

        args = self.args("Query", nodes[0])
        page = bounds(args.get("first"), args.get("after"), args.get("last"), args.get("before"))
        stmt = institutions_query(institution_filter(args.get("filter")))
        ordering = INSTITUTION_ORDERINGS[args["order_by"].value]
        return self.connection("Institution", nodes, stmt, ordering, page, correlate=None)

    def regions(self, nodes: list[FieldNode]) -> ColumnElement[Any]:
        from schema.common import bounds
        from schema.geography import REGION_ORDER

        args = self.args("Query", nodes[0])
        page = bounds(args.get("first"), args.get("after"), args.get("last"), args.get("before"))
        stmt = select(*Region.__table__.c)
        return self.connection("Region", nodes, stmt, REGION_ORDER, page, correlate=None)

    def lessons(self, nodes: list[FieldNode]) -> ColumnElement[Any]:
        from schema.common import bounds
        from schema.content.queries import lesson_filter_known

        known = content_service.known_subject_codes()
        if known is None:
            raise Unsupported("subjects not read yet")  # the resolvers read them once
        args = self.args("Query", nodes[0])
        page = bounds(args.get("first"), args.get("after"), args.get("last"), args.get("before"))
        try:
            flt = lesson_filter_known(args.get("filter"), known)
        except DomainError:
            raise Unsupported("filter") from None  # the resolvers' typed error
        stmt = content_service.lessons_query(self.principal, flt)
        ordering = content_service.LESSON_ORDERINGS[args["order_by"].value]
        return self.connection("Lesson", nodes, stmt, ordering, page, correlate=None)

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

    # long: one branch per relation the compiler knows, each a few lines; split by type it
    # would only scatter the table of relations.
    def relation(
        self, type_name: str, name: str, src: FromClause, nodes: list[FieldNode]
    ) -> ColumnElement[Any]:
        principal = self.principal
        if (type_name, name) in SHAPED_FIELDS:
            module = importlib.import_module(SHAPED_FIELDS[type_name, name])
            field: ColumnElement[Any] = module.build_field(self, name, src, nodes)
            return field
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
        if type_name == "Lesson" and name == "subject":
            return self.object_by(
                "Subject", lambda s: s.c.code == src.c.subject_code, nodes, correlate=src
            )
        if type_name == "Region" and name == "districts":
            return self.list_of(
                "District",
                lambda d: and_(
                    d.c.region_id == src.c.id, d.c.valid_to.is_(None), d.c.parent_id.is_(None)
                ),
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
        element: Element | None = None,
    ) -> ColumnElement[Any]:
        """A connection over ``stmt``; ``element`` writes a node's JSON for the types of a
        shaped module (schema/compiled/workflow.py), else the entities' own."""
        if args.last is not None or args.before is not None:
            raise Unsupported("backwards pages")
        asked = _asked(nodes[0], "orderBy", self.variables)
        ordering = ordering_for(self.principal, ordering, asked=asked)  # refused: normal path
        page = _Page.of(stmt, ordering, args, correlate, self.cursors)
        type_name = connection_type(self.gql, nodes[0])
        selected = self.fields.collect(type_name, nodes)
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for key, sub in selected.items():
            name = sub[0].name.value
            if name == "__typename":
                pairs.append((key, json_string(type_name)))
            elif name == "totalCount":
                counted = select(func.count()).select_from(page.stmt.order_by(None).subquery())
                pairs.append((key, page.correlated(counted).scalar_subquery()))
            elif name == "nodes":
                node = (
                    element(page.src, sub)
                    if element is not None
                    else self.object_json(node_type, page.src, sub)
                )
                pairs.append((key, json_list(node, *page.in_order, where=page.on_page)))
            elif name == "edges":
                if element is not None:
                    raise Unsupported("edges of a shaped list")
                pairs.append((key, self.edges(type_name, node_type, sub, page)))
            elif name == "pageInfo":
                pairs.append((key, self.page_info(sub, page)))
        built = select(json_object(pairs))
        if any(sub[0].name.value in ("nodes", "edges", "pageInfo") for sub in selected.values()):
            # HAVING makes it one aggregate row even over an empty page.
            built = built.select_from(page.src).having(true())
        return page.correlated(built).scalar_subquery()

    def edges(
        self, type_name: str, node_type: str, nodes: list[FieldNode], page: _Page
    ) -> ColumnElement[Any]:
        edge_type = named(
            self.gql.get_type(type_name).fields["edges"].type  # type: ignore[union-attr]
        ).name
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for key, sub in self.fields.collect(edge_type, nodes).items():
            name = sub[0].name.value
            if name == "__typename":
                pairs.append((key, json_string(edge_type)))
            elif name == "cursor":
                pairs.append((key, cursor_of(page.ordering, page.src)))
            else:
                pairs.append((key, self.object_json(node_type, page.src, sub)))
        return json_list(json_object(pairs), *page.in_order, where=page.on_page)

    def page_info(self, nodes: list[FieldNode], page: _Page) -> ColumnElement[Any]:
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for key, sub in self.fields.collect("PageInfo", nodes).items():
            name = sub[0].name.value
            if name == "__typename":
                pairs.append((key, json_string("PageInfo")))
            elif name == "hasNextPage":
                # The page's own extra row (its rows plus one) says whether items follow.
                pairs.append((key, func.count() > page.size))
            elif name == "hasPreviousPage":
                pairs.append((key, json_raw("true" if page.after_cursor else "false")))
            elif name in ("startCursor", "endCursor"):
                first_or_last = page.in_order if name == "startCursor" else page.backwards
                cursors = func.array_agg(
                    aggregate_order_by(cursor_of(page.ordering, page.src), *first_or_last)
                ).filter(page.on_page)
                pairs.append((key, json_text(cursors[1])))
        return json_object(pairs)


@dataclass(frozen=True)
class _Page:
    """One page of a list: its rows before paging (``stmt``), the page itself with the row
    after it (``src``, its rows numbered in their order; ``on_page`` leaves the row after out)
    with its order both ways, and the row it correlates with."""

    stmt: Select[Any]
    src: FromClause
    on_page: ColumnElement[bool]
    ordering: Ordering
    in_order: list[Any]
    backwards: list[Any]
    size: int
    after_cursor: bool
    correlate: FromClause | None

    @classmethod
    def of(
        cls,
        stmt: Select[Any],
        ordering: Ordering,
        args: PageArgs,
        correlate: FromClause | None,
        cursors: CursorKeys,
    ) -> _Page:
        if correlate is not None:
            stmt = stmt.correlate(correlate)
        after = stmt
        if args.after is not None:
            after = after.where(ordering.after(ordering.decode(args.after, cursors)))
        # The page and the row after it, read in one index walk that stops there (the
        # ``LIMIT`` right over the list's ordered scan, as (d)'s deep pages need), then
        # numbered in their order: ``hasNextPage`` counts the page's rows instead of reading
        # the list a second time, and the aggregates leave the extra row out by its number.
        read = after.order_by(*ordering.clauses()).limit(args.size + 1).subquery()
        keys = Ordering(tuple((read.c[col.key], desc) for col, desc in ordering.keys))
        number = func.row_number().over(order_by=keys.clauses()).label("page_row")
        page = select(read, number).subquery()
        # Aggregates over the page keep its order.
        keys = Ordering(tuple((page.c[col.key], desc) for col, desc in ordering.keys))
        return cls(
            stmt=stmt,
            src=page,
            on_page=page.c.page_row <= args.size,
            ordering=ordering,
            in_order=keys.clauses(),
            backwards=keys.clauses(reverse=True),
            size=args.size,
            after_cursor=args.after is not None,
            correlate=correlate,
        )

    def correlated(self, stmt: Select[Any]) -> Select[Any]:
        return stmt.correlate(self.correlate) if self.correlate is not None else stmt
