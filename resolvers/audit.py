"""The audit trail as auditors read it, and what of a request it may keep.

Rows are appended by mutations (:func:`resolvers.mutations.perform`) and by partners' reads of
personal data (:mod:`resolvers.safety`); a trigger refuses UPDATE, DELETE and TRUNCATE."""

from __future__ import annotations

import re
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    ObjectFieldNode,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    VariableNode,
    Visitor,
    get_named_type,
    type_from_ast,
    visit,
)
from sqlalchemy import Select, select

from models import AuditEntry, Outcome
from resolvers.access import Principal, Role
from resolvers.access.fields import PERSONAL_NAME, personal_fields
from resolvers.relay import Ordering

# Variables never kept in the audit trail: secrets, and personal values (the trail must not
# become a second copy of the registry; the changed row itself says what was written).
SECRET_NAME = re.compile(r"(?i)(pass(word)?|secret|token|api[_-]?key|authorization|pepper|otp)")
PERSONAL = "[personal]"
MAX_AUDIT_STRING = 200
MAX_AUDIT_ITEMS = 50

AUDIT_ORDERING = Ordering(((AuditEntry.id, True),))


def redact(value: Any, *, key: str = "", depth: int = 0) -> Any:
    """Variables as the audit trail keeps them, by name alone: secrets and personal-looking
    values replaced, long strings and lists cut (:func:`redact_variables` adds the fields
    the schema says are personal)."""
    if key and SECRET_NAME.search(key):
        return "[secret]"
    if key and PERSONAL_NAME.match(key):
        return PERSONAL
    if depth > 8:
        return "[deep]"
    if isinstance(value, dict):
        return {
            str(k)[:60]: redact(v, key=str(k), depth=depth + 1)
            for k, v in list(value.items())[:MAX_AUDIT_ITEMS]
        }
    if isinstance(value, list):
        return [redact(v, key=key, depth=depth + 1) for v in value[:MAX_AUDIT_ITEMS]]
    if isinstance(value, str) and len(value) > MAX_AUDIT_STRING:
        return value[:MAX_AUDIT_STRING] + "…"
    if value is None or isinstance(value, str | int | float | bool):
        return value
    # Uploaded files and other objects: their kind, never their content.
    return f"[{type(value).__name__}]"


def redact_variables(
    schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any] | None
) -> dict[str, Any]:
    """A request's variables as the audit trail keeps them. Every value that fills a personal
    input field (:func:`resolvers.access.fields.personal_fields`, the hub's one rule of what is
    personal: its registry, the fields marked personal, personal-looking names) is replaced,
    found by the types the document gives the variables, whatever a variable is named and
    however deep the field sits in an input; then :func:`redact` (secrets and personal-looking
    names, long strings and lists cut)."""
    personal, direct, declared = _document_analysis(schema, document)
    kept: dict[str, Any] = {}
    for name, value in (variables or {}).items():
        gtype = declared.get(name)
        if name in direct:
            kept[name] = PERSONAL
        elif gtype is not None:
            kept[name] = _by_type(value, gtype, personal, 0)
        else:
            kept[name] = value
    redacted: dict[str, Any] = redact(kept)
    return redacted


# What a document says of its variables (which fill personal fields directly, which type each
# has), worked out once per parsed document: the parser cache hands the same document to every
# request of the same text, and walking it with the schema's type info cost every mutation
# ~0.3 ms (issue 21). Kept by the document's identity (a document's own hash walks the whole
# tree), checked against a weak reference, the oldest dropped past ``DOCUMENTS_KEPT``.
DOCUMENTS_KEPT = 512
_ANALYSES: OrderedDict[
    int,
    tuple[weakref.ref[DocumentNode], GraphQLSchema, frozenset[str], frozenset[str], dict[str, Any]],
] = OrderedDict()


def _document_analysis(
    schema: GraphQLSchema, document: DocumentNode
) -> tuple[frozenset[str], frozenset[str], dict[str, Any]]:
    """The schema's personal fields, and the document's variables put straight into one and
    their declared types (cached per document and schema)."""
    known = _ANALYSES.get(id(document))
    if known is not None and known[0]() is document and known[1] is schema:
        return known[2], known[3], known[4]
    personal = personal_fields(schema)
    direct = frozenset(_personal_positions(schema, document, personal))
    declared = _declared_types(schema, document)
    _ANALYSES[id(document)] = (weakref.ref(document), schema, personal, direct, declared)
    if len(_ANALYSES) > DOCUMENTS_KEPT:
        _ANALYSES.popitem(last=False)
    return personal, direct, declared


def _declared_types(schema: GraphQLSchema, document: DocumentNode) -> dict[str, Any]:
    declared: dict[str, Any] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for var in definition.variable_definitions or ():
                declared[var.variable.name.value] = type_from_ast(schema, var.type)
    return declared


def _by_type(value: Any, gtype: Any, personal: frozenset[str], depth: int) -> Any:
    """``value`` of input type ``gtype`` with the values of personal input fields replaced."""
    if depth > 20:
        return "[deep]"
    if isinstance(gtype, GraphQLNonNull):
        gtype = gtype.of_type
    if isinstance(gtype, GraphQLList) and isinstance(value, list):
        return [_by_type(v, gtype.of_type, personal, depth + 1) for v in value]
    if isinstance(gtype, GraphQLInputObjectType) and isinstance(value, dict):
        out = {}
        for key, item in value.items():
            field = gtype.fields.get(key)
            if f"{gtype.name}.{key}" in personal:
                out[key] = PERSONAL
            elif field is not None:
                out[key] = _by_type(item, field.type, personal, depth + 1)
            else:
                out[key] = item
        return out
    return value


def _personal_positions(
    schema: GraphQLSchema, document: DocumentNode, personal: frozenset[str]
) -> set[str]:
    """Variables the document puts straight into a personal input field
    (``{birthCertificate: $b}``), or into an argument named like a personal field."""
    found: set[str] = set()
    type_info = TypeInfo(schema)

    class Positions(Visitor):
        def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
            parent = type_info.get_parent_input_type()
            if (
                isinstance(node.value, VariableNode)
                and parent is not None
                and f"{get_named_type(parent).name}.{node.name.value}" in personal
            ):
                found.add(node.value.name.value)

        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            if isinstance(node.value, VariableNode) and PERSONAL_NAME.match(node.name.value):
                found.add(node.value.name.value)

    visit(document, TypeInfoVisitor(type_info, Positions()))
    return found


def can_read_audit(principal: Principal) -> bool:
    """May this principal read the audit trail? Only auditors: the ministry acts, and is
    audited; it does not audit itself."""
    return principal.role == Role.AUDITOR


@dataclass(frozen=True)
class AuditFilter:
    """Filters of the audit trail; every field given narrows it."""

    actor: str | None = None
    role: str | None = None
    api_key_prefix: str | None = None
    operation: str | None = None
    operation_name: str | None = None
    outcome: Outcome | None = None
    request_id: str | None = None
    target_type: str | None = None
    target_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


AUDIT_COLUMNS = tuple(AuditEntry.__table__.c)


def audit_query(flt: AuditFilter) -> Select[Any]:
    stmt: Select[Any] = select(*AUDIT_COLUMNS)
    equal = {
        AuditEntry.actor: flt.actor,
        AuditEntry.role: flt.role,
        AuditEntry.api_key_prefix: flt.api_key_prefix,
        AuditEntry.operation: flt.operation,
        AuditEntry.operation_name: flt.operation_name,
        AuditEntry.outcome: flt.outcome,
        AuditEntry.request_id: flt.request_id,
        AuditEntry.target_type: flt.target_type,
        AuditEntry.target_id: flt.target_id,
    }
    for column, value in equal.items():
        if value is not None:
            stmt = stmt.where(column == value)
    if flt.since is not None:
        stmt = stmt.where(AuditEntry.at >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(AuditEntry.at < flt.until)
    return stmt
