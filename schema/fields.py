"""Declared fields: a mutation or a list is a few lines naming who may call it, the step it
runs and what it answers; the plumbing (savepoint, audit, payload, paging) lives here once.

A mutation::

    @mutation("preschool.accept_offer", KindergartenOfferPayload,
              description="Accept an offer before its deadline (guardian).")
    async def accept_offer(session: AsyncSession, ctx: Context, input: OfferDecisionInput) -> Any:
        return await preschool_service.accept_offer(session, ctx.principal, offer_id=...)

runs its step through ``perform`` (a savepoint, typed errors, an audit row) and builds the
payload from the result. The step's ``input`` annotation is the mutation's input type;
everything it raises as a ``DomainError`` (bad ids included: decode them inside the step)
becomes ``userErrors``. By default only signed-in callers may call a mutation.

A list (a Relay connection)::

    @connection(Connection[Enrollment], description="Enrollments you may read.",
                permission_classes=[signed_in("Sign in to read enrollments")])
    def enrollments(self, ctx: Context, filter: EnrollmentFilterInput | None = None) -> Listing:
        return Listing(enrollments_query(ctx.principal, ...), ORDERING, Enrollment.from_row)

takes ``first``/``after``/``last``/``before`` besides the step's own arguments, checks them,
and pages what the step names: a :class:`Listing` (a statement, for root lists) or a
:class:`ChildPages` (a parent's page through a ``PagesByParent`` loader, for nested lists).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Self, cast

import strawberry
from sqlalchemy import Select
from strawberry.permission import BasePermission
from strawberry.types.base import StrawberryList, StrawberryOptional, get_object_definition
from strawberry.types.nodes import SelectedField

from resolvers.access.fields import PERSONAL_MARK, ordering_for, without_personal_data
from resolvers.context import Context, Info
from resolvers.loaders import PagesByParent
from resolvers.mutations import MutationResult, perform
from resolvers.relay import Ordering, PageArgs
from schema.common import (
    After,
    Before,
    First,
    Last,
    bounds,
    list_connection,
    page_connection,
    user_errors,
)
from schema.permissions import SignedIn

Step = Callable[..., Awaitable[Any]]


def personal(description: str, **options: Any) -> Any:
    """A field or input field that holds personal data not named like it (an identifier such as
    a birth certificate's number): partners not granted personal data may not read or set it,
    and the audit trail never keeps its value (:func:`resolvers.access.fields.personal_fields`)."""
    return strawberry.field(description=description, metadata={PERSONAL_MARK: True}, **options)


class Payload:
    """Base of mutation payloads: the changed object in one field, and ``userErrors``.

    :meth:`from_result` fills the one field from the step's value: a node type through its
    ``from_row`` (``None`` when nothing was written), a list of them row by row, a plain value
    as it is. A payload with more than one field overrides it."""

    @classmethod
    def from_result(cls, result: MutationResult[Any]) -> Self:
        name, convert = _value_field(cast(Any, cls))
        return cls(**{name: convert(result.value), "user_errors": user_errors(result.problems)})


@cache
def _value_field(cls: Any) -> tuple[str, Callable[[Any], Any]]:
    fields = [
        f for f in get_object_definition(cls, strict=True).fields if f.python_name != "user_errors"
    ]
    if len(fields) != 1:
        raise TypeError(f"{cls.__name__} has {len(fields)} value fields: override from_result")
    field = fields[0]
    kind = field.type
    if isinstance(kind, StrawberryList):
        item: Any = kind.of_type
        return field.python_name, lambda rows: [item.from_row(r) for r in rows or ()]
    if isinstance(kind, StrawberryOptional) and hasattr(kind.of_type, "from_row"):
        node: Any = kind.of_type
        return field.python_name, lambda row: None if row is None else node.from_row(row)
    return field.python_name, lambda value: value


def _parameters(step: Callable[..., Any], skip: int) -> list[inspect.Parameter]:
    """The step's own arguments after its first ``skip`` (session, context, ...)."""
    return list(inspect.signature(step).parameters.values())[skip:]


def _declared(
    resolve: Callable[..., Any], step: Callable[..., Any], parameters: list[inspect.Parameter]
) -> Callable[..., Any]:
    """``resolve`` presented to strawberry with ``parameters`` and the step's name; the step's
    annotations resolve in the step's own module."""
    resolve.__name__ = step.__name__
    resolve.__qualname__ = step.__qualname__
    resolve.__module__ = step.__module__
    resolve.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return resolve


def mutation(
    operation: str,
    payload: type[Payload],
    *,
    description: str,
    permission_classes: Sequence[type[BasePermission]] = (SignedIn,),
    anonymous: bool = False,
) -> Callable[[Step], Any]:
    """Declare a mutation field running ``step(session, ctx, input)`` as the audited operation
    ``operation`` (``domain.action``); an ``anonymous`` one is audited without its caller and
    variables (:func:`resolvers.mutations.perform`)."""

    def declare(step: Step) -> Any:
        (input_parameter,) = _parameters(step, 2)

        async def resolve(info: Info, input: Any) -> Any:
            ctx = info.context
            result = await perform(
                ctx, operation, lambda session: step(session, ctx, input), anonymous=anonymous
            )
            return payload.from_result(result)

        info = inspect.Parameter("info", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Info)
        _declared(resolve, step, [info, input_parameter])
        resolve.__signature__ = resolve.__signature__.replace(  # type: ignore[attr-defined]
            return_annotation=payload
        )
        return strawberry.mutation(
            resolve, description=description, permission_classes=list(permission_classes)
        )

    return declare


@dataclass(frozen=True)
class Listing:
    """A root list: its statement (row rule and filter applied), its order, and how a row
    becomes a node; its ``total`` when the step knows it already (else counted on demand)."""

    stmt: Select[Any]
    ordering: Ordering
    convert: Callable[[Any], Any]
    total: int | None = None
    # Values of the statement's named bind parameters (a statement built once, its values bound
    # per request).
    params: Mapping[str, Any] | None = None

    async def connection(self, ctx: Context, args: PageArgs) -> Any:
        return await list_connection(
            ctx,
            self.stmt,
            args,
            self.ordering,
            self.convert,
            total=self.total,
            params=self.params,
        )


@dataclass(frozen=True)
class ChildPages:
    """A nested list: the parent's pages through a loader that pages every parent of the
    request level in one statement."""

    loader: PagesByParent
    parent_id: int
    filter: Hashable
    ordering: Ordering
    convert: Callable[[Any], Any]

    async def connection(self, ctx: Context, args: PageArgs) -> Any:
        return await page_connection(
            args,
            lambda: self.loader.page(self.parent_id, args, self.filter, self.ordering),
            self.convert,
            lambda: self.loader.count(self.parent_id, self.filter),
        )


def _asks(info: Info, name: str) -> bool:
    """Does the request give the field's argument ``name`` a value (not left to its default)?"""
    field = info.selected_fields[0]
    return isinstance(field, SelectedField) and field.arguments.get(name) is not None


_PAGING = [
    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
    for name, annotation in (("first", First), ("after", After), ("last", Last), ("before", Before))
]


def connection(
    returns: Any,
    *,
    description: str,
    permission_classes: Sequence[type[BasePermission]] = (),
) -> Callable[[Callable[..., Listing | ChildPages | Awaitable[Listing | ChildPages]]], Any]:
    """Declare a list field ``returns`` (a ``Connection[...]``) paging what
    ``step(self, ctx, **arguments)`` names.

    A list that needs a signed-in caller is nullable: an anonymous caller gets ``null`` there
    and an ``UNAUTHENTICATED`` error located at the field, and the request's other fields are
    answered (a non-null list's refusal would null the whole ``data``; issue 20)."""
    if any(issubclass(p, SignedIn) for p in permission_classes):
        returns = returns | None

    def declare(step: Callable[..., Any]) -> Any:
        async def resolve(
            self: Any,
            info: Info,
            first: int | None = None,
            after: str | None = None,
            last: int | None = None,
            before: str | None = None,
            **arguments: Any,
        ) -> Any:
            ctx = info.context
            args = bounds(first, after, last, before)
            source = step(self, ctx, **arguments)
            if inspect.isawaitable(source):
                source = await source
            ordering = source.ordering
            if ordering.personal and without_personal_data(ctx.principal):
                ordering = ordering_for(ctx.principal, ordering, asked=_asks(info, "orderBy"))
            if isinstance(source, Listing):
                return await list_connection(
                    ctx,
                    source.stmt,
                    args,
                    ordering,
                    source.convert,
                    total=source.total,
                    params=source.params,
                )
            pages, pid, flt = source.loader, source.parent_id, source.filter
            return await page_connection(
                args,
                lambda: pages.page(pid, args, flt, ordering),
                source.convert,
                lambda: pages.count(pid, flt),
            )

        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in _parameters(step, 2)]
        positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
        head = [
            inspect.Parameter("self", positional),
            inspect.Parameter("info", positional, annotation=Info),
        ]
        _declared(resolve, step, [*head, *own, *_PAGING])
        resolve.__signature__ = resolve.__signature__.replace(  # type: ignore[attr-defined]
            return_annotation=returns
        )
        return strawberry.field(
            resolve, description=description, permission_classes=list(permission_classes)
        )

    return declare
