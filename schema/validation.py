"""Validation within the hub's limits: a document is measured first (resolvers/shape.py, each
fragment once) and refused over its limits before graphql's rules walk it; graphql's rules are
run once per document (kept by its identity); then the operation's input values are checked
(resolvers/inputs.py: text, names, integers), before anything executes."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, ValidationContext, ValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from resolvers import inputs, shape
from resolvers.settings import get_settings


def limits() -> shape.Limits:
    settings = get_settings()
    return shape.Limits(
        aliases=settings.max_aliases,
        depth=settings.max_query_depth,
        fields=settings.max_fields,
        repeats=settings.max_repeated_fields,
    )


LIMITS = limits()


class WithinLimits(ValidationRule):
    """The limits as a validation rule, for paths that validate by themselves (the compiled
    path runs it alone, before graphql's rules)."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        refused = shape.checked(context.document, LIMITS)
        if refused is not None:
            context.report_error(refused)


# Validated documents by identity: (document, schema, rules, errors), least recently used first.
_VALIDATED: OrderedDict[int, tuple[DocumentNode, GraphQLSchema, Any, list[GraphQLError]]] = (
    OrderedDict()
)


class Validation(SchemaExtension):
    """Refuse a document over the limits in microseconds; validate the others (cached), then
    check their input values."""

    def __init__(self, maxsize: int = 512) -> None:
        super().__init__()
        self.maxsize = maxsize

    def cached_validate_document(
        self, gql: GraphQLSchema, document: DocumentNode, rules: Any
    ) -> list[GraphQLError]:
        """graphql's rules on ``document``, run once per document object: the parser cache
        hands every request of the same text the same document. Kept by the document's
        identity, not its value: strawberry's ValidationCache hashes the whole syntax tree on
        every request to look it up (~1% of a mutation's CPU, issue 21). The entry holds the
        document, so its id is not reused while it is kept."""
        key = id(document)
        found = _VALIDATED.get(key)
        if found is not None and found[0] is document and found[1] is gql and found[2] == rules:
            _VALIDATED.move_to_end(key)
            return found[3]
        errors = validate_document(gql, document, rules)
        _VALIDATED[key] = (document, gql, rules, errors)
        if len(_VALIDATED) > self.maxsize:
            _VALIDATED.popitem(last=False)
        return errors

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        document: Any = ec.graphql_document
        refused = shape.checked(document, LIMITS)
        if refused is not None:
            ec.pre_execution_errors = [refused]
            yield
            return
        gql = ec.schema._schema
        errors = self.cached_validate_document(gql, document, ec.validation_rules)
        if not errors:
            bad = inputs.refusal(gql, document, ec.operation_name, ec.variables)
            errors = [bad] if bad is not None else errors
        ec.pre_execution_errors = errors
        yield
