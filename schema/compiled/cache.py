"""The compiled path's caches: plans per query text, and statements per shape of request.

A statement is built once per *shape* of request and kept as SQL text (:meth:`Compiler.prepared`):
the primary keys inside global IDs, the values inside (opened) cursors (but a boolean, kept in
the shape), the values of free arguments (:data:`schema.compiled.plan.FREE_ARGUMENTS`, a
licence's number, as its module compares them) and the caller's own keys
(their person, and their regions, districts and institutions) are stood in for by unique
values, which must reach the SQL only as bind arguments. So the query builders the compiled
path reuses (``persons_query``, ``institutions_query``, the row rules) must never decide in
Python on an ID's key, a cursor's values, a free argument or a caller's keys; they decide in
SQL. A caller's scope reaches the SQL as one array argument (:func:`resolvers.access.among`,
``= ANY(:ids)``), so one statement text serves every caller of a role whatever the size of
their scope, and PostgreSQL reuses its prepared plan. What a rule may decide in Python, and so
what a kept statement is filed under (:func:`_rule_key`): the caller's role, their key's grant,
whether they have a person and whether each scope is empty.

A stand-in of the request that does not come out as an argument makes that shape build its
statement per request instead; so does a caller's stand-in written into the SQL text or a
scope put into the SQL id by id (``IN (:id_1, ...)``): the statement would be the stand-in
caller's, not the real one's."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import strawberry
from graphql import (
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    specified_rules,
    type_from_ast,
)
from graphql.execution.values import get_variable_values
from sqlalchemy import Select
from sqlalchemy.dialects.postgresql import asyncpg as postgresql_asyncpg

from resolvers.access import Principal
from resolvers.errors import RequestError
from resolvers.relay import INT4_MAX, CursorKeys, cursor_text, decode_id, encode_id
from schema.compiled.builder import Builder
from schema.compiled.plan import Plan, Unsupported, free_value, plan_query

PLANS_KEPT = 512
TEMPLATES_KEPT = 1024
_DIALECT = postgresql_asyncpg.dialect()


class Compiler:
    """Decides once per query text whether the compiled path can answer it, and builds the
    statement for each request."""

    def __init__(self, schema: strawberry.Schema, rules: Sequence[Any], max_tokens: int) -> None:
        self.schema = schema
        self.gql: GraphQLSchema = schema._schema
        # The normal path's checks: the depth, alias and field limits first (alone: a
        # document over them is refused before graphql's rules walk it), then graphql's rules.
        self.limits = list(rules)
        self.rules = list(specified_rules)
        self.max_tokens = max_tokens
        self.plans: OrderedDict[tuple[str, str | None], Plan | None] = OrderedDict()
        self.templates: OrderedDict[tuple[Any, ...], Template] = OrderedDict()
        self.templates_built = 0
        # Statements put together by the builder (a kept one, or one for a single request).
        self.statements_built = 0

    def plan(self, query: str, operation_name: str | None) -> Plan | None:
        key = (query, operation_name)
        if key in self.plans:
            self.plans.move_to_end(key)
            return self.plans[key]
        plan = plan_query(self.gql, self.limits, self.rules, self.max_tokens, query, operation_name)
        self.plans[key] = plan
        if len(self.plans) > PLANS_KEPT:
            self.plans.popitem(last=False)
        return plan

    def statement(
        self,
        plan: Plan,
        principal: Principal,
        raw_variables: dict[str, Any] | None,
        cursors: CursorKeys,
    ) -> Select[Any]:
        """The one statement answering ``plan`` for this caller; raises Unsupported when this
        request must take the normal path (its arguments or variables need the resolvers'
        errors)."""
        coerced = get_variable_values(
            self.gql, plan.operation.variable_definitions or (), raw_variables or {}
        )
        if isinstance(coerced, list):
            raise Unsupported("variables")
        self.statements_built += 1
        builder = Builder(self.schema, plan, principal, coerced, cursors)
        try:
            return builder.root()
        except (RequestError, GraphQLError) as err:
            raise Unsupported(str(err)) from None

    def prepared(
        self,
        plan: Plan,
        principal: Principal,
        raw_variables: dict[str, Any] | None,
        cursors: CursorKeys,
    ) -> tuple[str, tuple[Any, ...]]:
        """The SQL text and arguments answering ``plan`` for this caller.

        Building a statement costs milliseconds, so it is built once per *shape* of a request
        (the plan, the caller's role and which of their keys they have, and the variables with
        the primary keys of their global IDs and the values inside their cursors left out) and
        kept as SQL text; a request of a known shape only puts its keys, cursor values and its
        caller's keys into the arguments."""
        variables = raw_variables or {}
        coerced = get_variable_values(
            self.gql, plan.operation.variable_definitions or (), variables
        )
        if isinstance(coerced, list):
            raise Unsupported("variables")
        shape = _RequestShape(plan, self.gql, cursors)
        stand_ins = shape.substitute(variables)
        key = (plan.source, _rule_key(principal), shape.key)
        # After the request's own: the caller's stand-ins are numbered alike for every caller
        # the key files together, so a kept statement's slots hold for each of them.
        caller = shape.caller(principal)
        template = self.templates.get(key)
        if template is None:
            template = self._template(plan, caller, stand_ins, shape, cursors)
            self.templates[key] = template
            if len(self.templates) > TEMPLATES_KEPT:
                self.templates.popitem(last=False)
        else:
            self.templates.move_to_end(key)
        if template.sql is None:
            # This shape could not be templated: build the statement for this request.
            sql, _, processed = _text_of(self.statement(plan, principal, variables, cursors))
            return sql, tuple(processed)
        args = list(template.defaults)
        for position, stand_in in template.slots:
            args[position] = shape.real[stand_in]
        return template.sql, tuple(args)

    def _template(
        self,
        plan: Plan,
        principal: Principal,
        stand_ins: dict[str, Any],
        shape: _RequestShape,
        cursors: CursorKeys,
    ) -> Template:
        self.templates_built += 1
        if shape.collides():
            return Template(None, (), ())
        sql, values, processed = _text_of(self.statement(plan, principal, stand_ins, cursors))
        slots = []
        found: set[Any] = set()
        for position, value in enumerate(values):
            if shape.in_a_scope(value):
                # A scope put into the SQL id by id: its text depends on the scope's size.
                return Template(None, (), ())
            stand_in = shape.stand_in_of(value)
            if stand_in is not None:
                slots.append((position, stand_in))
                found.add(stand_in)
        if not shape.required <= found:
            # A key or cursor value did not reach the statement as a plain argument.
            return Template(None, (), ())
        if any(shape.written(stand_in, sql) for stand_in in set(shape.real) - found):
            # A caller's key written into the SQL text: the statement is the stand-in's.
            return Template(None, (), ())
        return Template(sql, tuple(processed), tuple(slots))


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
    """What the *text* of a caller's row rules depends on: their role, their key's grant (its
    subgraph and personal data decide which fields and rules apply), and which of their keys
    they have (a rule may decide in Python on a person being there or a scope being empty,
    e.g. a partner without regions reads the country). The keys themselves are arguments."""
    return (
        principal.role,
        principal.person_id is not None,
        bool(principal.region_ids),
        bool(principal.district_ids),
        bool(principal.institution_ids),
        principal.grant,
    )


class _RequestShape:
    """A request's variables split into their shape and their free values: the primary keys
    of global IDs and the values inside cursors, replaced by unique stand-ins."""

    def __init__(self, plan: Plan, gql: GraphQLSchema, cursors: CursorKeys) -> None:
        self.plan = plan
        self.gql = gql
        self.cursors = cursors
        self.parts: list[Any] = []
        self.real: dict[Any, Any] = {}
        # The request's own stand-ins, which must all reach the statement as arguments (the
        # caller's may not: a statement need not read who is asking).
        self.required: set[Any] = set()
        # The stand-in ids inside the caller's scopes, which reach the SQL only inside arrays.
        self.scope_members: set[int] = set()

    @property
    def key(self) -> tuple[Any, ...]:
        return tuple(self.parts)

    def caller(self, principal: Principal) -> Principal:
        """The principal a kept statement is built for: ``principal`` with stand-ins for its
        person and for each of its scopes (one stand-in id in a scope that is not empty)."""
        person = principal.person_id
        return replace(
            principal,
            subject=self._stand_in(principal.subject, required=False),
            person_id=None if person is None else self._stand_in(person, required=False),
            region_ids=self._scope(principal.region_ids),
            district_ids=self._scope(principal.district_ids),
            institution_ids=self._scope(principal.institution_ids),
        )

    def _scope(self, ids: frozenset[int]) -> frozenset[int]:
        """One stand-in id for a scope that is not empty; the scope's ids are its array's."""
        if not ids:
            return ids
        member = INT4_MAX - len(self.real) - 1
        self.real[(list, (member,))] = sorted(ids)
        self.scope_members.add(member)
        return frozenset({member})

    def in_a_scope(self, value: Any) -> bool:
        return type(value) is int and value in self.scope_members

    def written(self, stand_in: tuple[type, Any], sql: str) -> bool:
        """Is a stand-in's value written into the statement's text?"""
        kind, value = stand_in
        if kind is list:
            return any(str(member) in sql for member in value)
        return str(value) in sql

    def _stand_in(self, value: Any, *, required: bool = True) -> Any:
        n = len(self.real) + 1
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, int):
            # Keys and cursor values must stay valid values of a 32-bit key column.
            stand_in: Any = INT4_MAX - n
        elif isinstance(value, str):
            stand_in = f"\ue000{n}"
        elif isinstance(value, datetime):
            # A timestamp inside a cursor (the kindergarten queue's registration time): its
            # pages after the first share the first's statement.
            stand_in = datetime(1, 1, 1, tzinfo=value.tzinfo) + timedelta(days=n)
        elif isinstance(value, date):
            stand_in = date(1, 1, 1) + timedelta(days=n)
        else:
            return None
        self.real[(type(stand_in), stand_in)] = value
        if required:
            self.required.add((type(stand_in), stand_in))
        return stand_in

    def stand_in_of(self, value: Any) -> Any:
        if isinstance(value, list):
            key: tuple[type, Any] = (list, tuple(value))
        else:
            key = (type(value), value)
        try:
            return key if key in self.real else None
        except TypeError:  # an unhashable value: not a stand-in
            return None

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
        of type ``ID``, cursor variables and free arguments' variables are stood in for;
        everything else is shape."""
        out: dict[str, Any] = {}
        free = dict(self.plan.free_variables)
        for definition in self.plan.operation.variable_definitions or ():
            name = definition.variable.name.value
            if name not in variables:
                self.parts.append((name, "absent"))
                continue
            if name in free and isinstance(variables[name], str):
                out[name] = self._free(variables[name], free[name], name)
                continue
            gtype = type_from_ast(self.gql, definition.type)
            cursor = name in self.plan.cursor_variables
            out[name] = self._value(variables[name], gtype, cursor, name)
        return out

    def _free(self, value: str, argument: tuple[str, str], path: str) -> str:
        """A free argument's value (plan.FREE_ARGUMENTS): stood in for by a string the module
        compares as it is, the statement taking the value as the module would compare it."""
        compared = free_value(argument, value)
        if compared is None:
            return self._exact(value, path)
        stand_in: str = self._stand_in(compared)
        self.parts.append((path, "free"))
        return stand_in

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
            digest, decoded = self.cursors.values(value)
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
        self.parts.append((path, "cursor", digest, tuple(kinds)))
        # Sealed again around the stand-ins: the builder opens it as it opens any cursor.
        return self.cursors.seal(digest, cursor_text(replaced))


def _frozen(value: Any) -> Any:
    """A hashable form of a JSON value."""
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value
