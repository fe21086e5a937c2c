"""Shared GraphQL building blocks: the Node interface, connections, user errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import strawberry
from sqlalchemy import Select, func, select

from resolvers.abroad.errors import AbroadCode
from resolvers.access.errors import AccessCode
from resolvers.admission.errors import AdmissionCode
from resolvers.content.errors import ContentCode
from resolvers.context import Context
from resolvers.enrollments.errors import EnrollmentCode
from resolvers.errors import ErrorCode as HubCode
from resolvers.errors import Problem
from resolvers.events.errors import EventsCode
from resolvers.first_grade.errors import FirstGradeCode
from resolvers.institutions.errors import InstitutionCode
from resolvers.intake.errors import IntakeCode
from resolvers.library.errors import LibraryCode
from resolvers.licensing.errors import LicensingCode
from resolvers.lms.errors import LmsCode
from resolvers.people.errors import PeopleCode
from resolvers.preschool.errors import PreschoolCode
from resolvers.relay import Ordering, Page, PageArgs, page_args, paged, slice_rows

# Every domain's codes, after the hub-wide ones; a new domain adds its enum here.
CODE_ENUMS: tuple[type[StrEnum], ...] = (
    HubCode,
    PeopleCode,
    InstitutionCode,
    EnrollmentCode,
    IntakeCode,
    PreschoolCode,
    FirstGradeCode,
    AdmissionCode,
    AbroadCode,
    LicensingCode,
    LmsCode,
    LibraryCode,
    ContentCode,
    AccessCode,
    EventsCode,
)


def join_codes(enums: tuple[type[StrEnum], ...]) -> type[StrEnum]:
    """One enum of every code the enums hold, each once (a code several domains raise means
    the same in each), in the order the enums come."""
    names = dict.fromkeys(member.value for each in enums for member in each)
    joined: type[StrEnum] = StrEnum("ErrorCode", {name: name for name in names})  # type: ignore[misc]
    return joined


if TYPE_CHECKING:
    ErrorCode = StrEnum
else:
    ErrorCode = strawberry.enum(
        join_codes(CODE_ENUMS), name="ErrorCode", description="Stable codes of expected failures."
    )


@strawberry.interface(description="An object with an opaque, globally unique ID.")
class Node:
    id: strawberry.ID = strawberry.field(description="The object's global ID.")


@strawberry.type(description="An expected failure of a mutation; nothing was written.")
class UserError:
    field: str | None = strawberry.field(description="The input field at fault, if one is.")
    code: ErrorCode = strawberry.field(description="A stable code to switch on.")
    message: str = strawberry.field(description="What went wrong, for people.")


def user_errors(problems: Sequence[Problem]) -> list[UserError]:
    return [
        UserError(field=p.field, code=ErrorCode(p.code.value), message=p.message) for p in problems
    ]


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(description="Items precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first item.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last item.")


NodeT = TypeVar("NodeT")


@strawberry.type(description="An item of a list and its cursor.")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description="Pass as `after`/`before` to page from here.")
    node: NodeT = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list, with the list's total size.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="The items of this page.")
    # The page behind ``pageInfo``: loaded already, or (for an empty page by its size, `first: 0`)
    # loaded only if ``pageInfo`` is asked for.
    page: strawberry.Private[Page | Callable[[], Awaitable[Page]]]
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Cursors and neighbours of this page.")
    async def page_info(self) -> PageInfo:
        page = self.page if isinstance(self.page, Page) else await self.page()
        return PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        )

    @strawberry.field(description="How many items the whole list (with its filter) holds.")
    async def total_count(self) -> int:
        return await self.count()

    @strawberry.field(description="The items of this page, without cursors.")
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]


def connection_from_page(
    page: Page, convert: Callable[[Any], Any], count: Callable[[], Awaitable[int]]
) -> Any:
    edges = [Edge(cursor=c, node=convert(r)) for r, c in zip(page.rows, page.cursors, strict=True)]
    return Connection(edges=edges, page=page, count=count)


async def page_connection(
    args: PageArgs,
    load: Callable[[], Awaitable[Page]],
    convert: Callable[[Any], Any],
    count: Callable[[], Awaitable[int]],
) -> Any:
    """A connection whose page ``load`` fetches. A page of size 0 (``first: 0``, asked only for
    its ``totalCount``) holds no items whatever the data: its page is loaded only if
    ``pageInfo`` is asked for (whether items lie beyond the cursor)."""
    if args.size == 0:
        return Connection(edges=[], page=load, count=count)
    return connection_from_page(await load(), convert, count)


async def list_connection(
    ctx: Context,
    stmt: Select[Any],
    args: PageArgs,
    ordering: Ordering,
    convert: Callable[[Any], Any],
    *,
    total: int | None = None,
    params: Mapping[str, Any] | None = None,
) -> Any:
    """A top-level connection: one statement for the page (none for ``first: 0`` unless
    ``pageInfo`` is asked for), one more only if ``totalCount`` is asked for and ``total``
    (the list's size, when its step knows it) is not given. ``params``: values of ``stmt``'s
    named bind parameters."""

    async def load() -> Page:
        page_stmt = paged(stmt, args, ordering, ctx.cursors)
        rows = list(await ctx.run(lambda s: s.execute(page_stmt, params)))
        return slice_rows(rows, args, ordering, ctx.cursors)

    async def count() -> int:
        if total is not None:
            return total
        counted = select(func.count()).select_from(stmt.order_by(None).subquery())
        value: int | None = await ctx.run(lambda s: s.scalar(counted, params))
        return int(value or 0)

    return await page_connection(args, load, convert, count)


def bounds(first: int | None, after: str | None, last: int | None, before: str | None) -> PageArgs:
    return page_args(first, after, last, before)


First = Annotated[int | None, strawberry.argument(description="The first n items (at most 100).")]
Last = Annotated[int | None, strawberry.argument(description="The last n items (at most 100).")]
After = Annotated[str | None, strawberry.argument(description="Items after this cursor.")]
Before = Annotated[str | None, strawberry.argument(description="Items before this cursor.")]
