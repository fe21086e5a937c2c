"""The parts the workflow pages' compiled modules share (issue 21): a GraphQL type described
as a table of its fields (plain fields as SQL expressions, relations as a check and a build),
its JSON over a row, lists of it, and its connections.

A module (``kindergarten``, ``first_grade`` ...) describes its types with :class:`Kind` and its
roots with a ``check`` (is every selected field known? else :class:`Unsupported`, the request
takes the resolvers) and a ``build`` (the root's JSON in SQL). People, institutions and
enrollments reached from an application are written by the registry's compiled forms
(:class:`schema.compiled.builder.Builder`), under the rule the resolvers' loader applies."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import FieldNode
from sqlalchemy import (
    ColumnElement,
    Date,
    FromClause,
    Select,
    and_,
    case,
    cast,
    func,
    null,
    select,
)

from models import BenefitCategory, IntakeKind, IntakeSeason
from resolvers.access import PERSONAL_ROLES, Principal
from resolvers.errors import RequestError
from resolvers.intake.rules import applicant_readable
from resolvers.relay import Ordering, PageArgs, decode_id
from schema.compiled.plan import PAGE_INFO_FIELDS, Unsupported, connection_type
from schema.compiled.sql import (
    NULL_JSON,
    adapt,
    enum_json,
    global_id,
    json_list,
    json_object,
    json_string,
    lit,
    timestamp_value,
)

if TYPE_CHECKING:
    from schema.compiled.builder import Builder
    from schema.compiled.plan import _Shape

Column = Callable[[FromClause], ColumnElement[Any]]
Build = Callable[["Builder", FromClause, Sequence[FieldNode]], ColumnElement[Any]]
Check = Callable[["_Shape", Sequence[FieldNode]], None]


def col(name: str) -> Column:
    return lambda src: src.c[name]


def enum_of(enum_cls: type[enum.Enum], name: str) -> Column:
    return lambda src: enum_json(enum_cls, src.c[name])


def gid(type_name: str) -> Column:
    return lambda src: global_id(type_name, src.c.id)


def timestamp(name: str) -> Column:
    return lambda src: timestamp_value(src.c[name])


@dataclass(frozen=True)
class Relation:
    """A field whose value is an object or a list: how its selection is checked, and built
    over the parent's row."""

    check: Check
    build: Build


@dataclass(frozen=True)
class Kind:
    """A GraphQL object type the compiled path writes: its plain fields and its relations."""

    name: str
    scalars: Mapping[str, Column]
    relations: Mapping[str, Relation] = field(default_factory=dict)

    def check(self, shape: _Shape, nodes: Sequence[FieldNode]) -> None:
        for _key, sub in shape.fields.collect(self.name, nodes).items():
            name = sub[0].name.value
            if name == "__typename" or name in self.scalars:
                continue
            if name not in self.relations:
                raise Unsupported(f"{self.name}.{name}")
            self.relations[name].check(shape, sub)

    def json(self, builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> Any:
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for key, sub in builder.fields.collect(self.name, nodes).items():
            name = sub[0].name.value
            if name == "__typename":
                pairs.append((key, json_string(self.name)))
            elif name in self.scalars:
                pairs.append((key, self.scalars[name](src)))
            else:
                pairs.append((key, self.relations[name].build(builder, src, sub)))
        return json_object(pairs)


def one(
    kind: Kind | Callable[[], Kind],
    table: Any,
    where: Callable[[FromClause, FromClause], ColumnElement[bool]],
) -> Relation:
    """An object of ``kind`` from ``table`` (null when none): ``where(row, parent)``."""

    def build(builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> Any:
        k = _kind(kind)
        row = table.alias()
        stmt = select(k.json(builder, row, nodes)).where(where(row, src)).correlate(src)
        return stmt.scalar_subquery()

    return Relation(lambda shape, nodes: _kind(kind).check(shape, nodes), build)


def many(
    kind: Kind | Callable[[], Kind],
    table: Any,
    where: Callable[[FromClause, FromClause], ColumnElement[bool]],
    order: Callable[[FromClause], list[Any]],
) -> Relation:
    """A list of ``kind`` from ``table`` in ``order`` (``[]`` when none)."""

    def build(builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> Any:
        k = _kind(kind)
        row = table.alias()
        element = k.json(builder, row, nodes)
        stmt = select(json_list(element, *order(row))).where(where(row, src)).correlate(src)
        return stmt.scalar_subquery()

    return Relation(lambda shape, nodes: _kind(kind).check(shape, nodes), build)


def _kind(kind: Kind | Callable[[], Kind]) -> Kind:
    return kind if isinstance(kind, Kind) else kind()


def person(key: str, rule: Callable[[Builder], ColumnElement[bool]]) -> Relation:
    """The person in the parent's column ``key``, under ``rule`` (a condition on ``Person``,
    the one the resolvers' loader applies; null when it does not let the caller read them),
    written by the registry's compiled Person."""

    def build(builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> Any:
        readable = rule(builder)
        return builder.object_by(
            "Person",
            lambda p: and_(p.c.id == src.c[key], adapt(readable, p)),
            nodes,
            correlate=src,
        )

    return Relation(lambda shape, nodes: shape.check_object("Person", nodes), build)


def institution(key: str) -> Relation:
    """The institution in the parent's column ``key`` (institutions are public)."""

    def build(builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> Any:
        return builder.object_by(
            "Institution", lambda i: i.c.id == src.c[key], nodes, correlate=src
        )

    return Relation(lambda shape, nodes: shape.check_object("Institution", nodes), build)


def enrollment(key: str) -> Relation:
    """The enrollment in the parent's column ``key``, under the enrollment rule."""

    def build(builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> Any:
        return builder.enrollment_by(lambda e: e.c.id == src.c[key], nodes, correlate=src)

    return Relation(lambda shape, nodes: shape.check_object("Enrollment", nodes), build)


def check_connection(shape: _Shape, kind: Kind, nodes: Sequence[FieldNode]) -> None:
    """A connection of ``kind``: its count, page info and nodes (edges take the resolvers)."""
    connection = connection_type(shape.gql, nodes[0])
    for _key, sub in shape.fields.collect(connection, nodes).items():
        name = sub[0].name.value
        if name in ("__typename", "totalCount"):
            continue
        if name == "nodes":
            kind.check(shape, sub)
        elif name == "pageInfo":
            for _k, info in shape.fields.collect("PageInfo", sub).items():
                if info[0].name.value not in PAGE_INFO_FIELDS:
                    raise Unsupported("pageInfo")
        else:
            raise Unsupported(f"{connection}.{name}")


def connection(
    builder: Builder,
    kind: Kind,
    nodes: list[FieldNode],
    stmt: Select[Any],
    ordering: Ordering,
    args: dict[str, Any],
) -> ColumnElement[Any]:
    """A root connection of ``kind`` over ``stmt`` (row rule and filter applied), paged as the
    resolvers page it."""
    from schema.common import bounds

    page: PageArgs = bounds(
        args.get("first"), args.get("after"), args.get("last"), args.get("before")
    )
    return builder.connection(
        kind.name,
        nodes,
        stmt,
        ordering,
        page,
        correlate=None,
        element=lambda src, sub: kind.json(builder, src, sub),
    )


def pk_of(value: Any, type_name: str) -> int:
    """The key of a global ID of ``type_name``; any other (or a malformed one) takes the
    resolvers, which answer it with their error."""
    try:
        found, pk = decode_id(value)
    except RequestError:
        raise Unsupported("id") from None
    if found != type_name:
        raise Unsupported("id of another type")
    return pk


# Today in Bishkek (resolvers.clock.today) as PostgreSQL reads it: a kept statement must not
# carry the day it was built on. (Tests that move the hub's clock move Python's only: a page
# that reads today is compared with the resolvers on the real date.)
TODAY = cast(func.timezone(lit("Asia/Bishkek"), func.now()), Date)


# --- the caller: every row rule these modules apply, read from the principal here -------------


@dataclass(frozen=True)
class Caller:
    """What a workflow page's SQL takes from the caller, besides the list statement the
    resolvers build from the principal (``applications_query(principal, ...)``)."""

    applicants: ColumnElement[bool]  # on Person: who the caller reads on an application
    # Contacts (phone, address) are shown on every application read, but to a guardian or
    # pupil only on those they made (resolvers.people.rules.reads_contacts_given_by).
    contacts_of: int | None
    contacts_all: bool


def caller(
    builder: Builder, application: Any, readable: Callable[[Principal], ColumnElement[bool]]
) -> Caller:
    """The caller's rules for a workflow's ``application`` table, ``readable`` being its
    application rule (the applicant loaders' rule: :func:`resolvers.intake.rules.
    applicant_readable`)."""
    principal = builder.principal
    return Caller(
        applicants=applicant_readable(principal, application, readable(principal)),
        contacts_of=principal.person_id,
        contacts_all=principal.role not in PERSONAL_ROLES,
    )


def contact(rules: Caller, src: FromClause, column: str) -> ColumnElement[Any]:
    """A contact the applying guardian (``guardian_id``) gave, as the caller may read it."""
    if rules.contacts_all:
        return src.c[column]
    if rules.contacts_of is None:
        return null()
    return case((src.c.guardian_id == rules.contacts_of, src.c[column]), else_=null())


def no_partners(builder: Builder) -> None:
    """Partners' keys decide field by field what they read (resolvers/access/fields.py);
    anonymous callers are refused by the field's permission: both take the resolvers."""
    if builder.principal.is_anonymous or builder.principal.grant is not None:
        raise Unsupported("anonymous or partner")


NULL = NULL_JSON


# --- the intake types both workflows share ---------------------------------------------------

_CATEGORY = Kind("BenefitCategory", {"code": col("code"), "name": col("name"), "rank": col("rank")})
BENEFIT_CATEGORY = one(
    _CATEGORY, BenefitCategory.__table__, lambda c, a: c.c.id == a.c.benefit_category_id
)

_SEASON = Kind(
    "IntakeSeason",
    {
        "id": gid("IntakeSeason"),
        "kind": enum_of(IntakeKind, "kind"),
        "year": col("year"),
        "name": col("name"),
        "startsOn": col("starts_on"),
        "endsOn": col("ends_on"),
        "schoolYearStarts": col("school_year_starts"),
        "stage1Starts": col("stage1_starts"),
        "stage1Ends": col("stage1_ends"),
        "stage2Starts": col("stage2_starts"),
        "stage2Ends": col("stage2_ends"),
        "grade1BirthYear": lambda s: s.c.year - s.c.grade1_birth_year_offset,
        "grade2BirthYear": lambda s: s.c.year - s.c.grade2_birth_year_offset,
    },
)
SEASON = one(_SEASON, IntakeSeason.__table__, lambda s, a: s.c.id == a.c.season_id)
