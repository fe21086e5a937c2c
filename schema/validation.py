"""Validation within the hub's limits: a document is measured first (resolvers/shape.py, each
fragment once) and refused over its limits before graphql's rules walk it; graphql's rules are
cached per document, as strawberry's ValidationCache does; then the operation's input values
are checked (resolvers/inputs.py: text, names, integers), before anything executes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import ValidationContext, ValidationRule
from strawberry.extensions import ValidationCache

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


class Validation(ValidationCache):
    """Refuse a document over the limits in microseconds; validate the others (cached), then
    check their input values."""

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
