"""Per-request DataLoaders: every relation of the graph resolves through one of these, so the
number of SQL statements grows with the depth of a query, never with its rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from models import (
    CatchmentArea,
    District,
    Enrollment,
    Guardianship,
    Institution,
    Person,
    PersonPin,
    Region,
    StaffPosition,
)
from resolvers.access import enrollment_readable, person_readable, staff_readable
from resolvers.enrollments import ENROLLMENT_COLUMNS
from resolvers.institutions import INSTITUTION_COLUMNS
from resolvers.people import PERSON_COLUMNS
from resolvers.relay import Ordering, Page, PageArgs, paged_per_parent, slice_rows

if TYPE_CHECKING:
    from resolvers.context import Context

Where = Callable[[Any], list[ColumnElement[bool]]]


async def _execute(session: AsyncSession, *, stmt: Any) -> Any:
    return await session.execute(stmt)


class RowsById:
    """Rows of one table by primary key, optionally restricted by a row rule."""

    def __init__(
        self, ctx: Context, columns: Sequence[Any], pk: Any, rule: ColumnElement[bool] | None = None
    ) -> None:
        self.ctx, self.columns, self.pk, self.rule = ctx, columns, pk, rule
        self.loader: DataLoader[int, Any] = DataLoader(load_fn=self._load)

    async def _load(self, ids: list[int]) -> list[Any]:
        stmt = select(*self.columns).where(self.pk.in_(ids))
        if self.rule is not None:
            stmt = stmt.where(self.rule)
        rows = await self.ctx.run(lambda s: s.execute(stmt))
        found = {row.id: row for row in rows}
        return [found.get(i) for i in ids]

    async def load(self, pk: int) -> Any:
        return await self.loader.load(pk)

    async def load_many(self, pks: Sequence[int]) -> list[Any]:
        return list(await self.loader.load_many(pks))


class RowsByParent:
    """All rows that belong to a parent (for small, naturally bounded lists)."""

    def __init__(
        self,
        ctx: Context,
        columns: Sequence[Any],
        parent: Any,
        order_by: Sequence[Any],
        where: Sequence[ColumnElement[bool]] = (),
    ) -> None:
        self.ctx, self.columns, self.parent = ctx, columns, parent
        self.order_by, self.where = order_by, where
        self.loader: DataLoader[int, list[Any]] = DataLoader(load_fn=self._load)

    async def _load(self, parent_ids: list[int]) -> list[list[Any]]:
        stmt = (
            select(*self.columns)
            .where(self.parent.in_(parent_ids), *self.where)
            .order_by(*self.order_by)
        )
        rows = await self.ctx.run(lambda s: s.execute(stmt))
        grouped: dict[int, list[Any]] = defaultdict(list)
        for row in rows:
            grouped[row._mapping[self.parent.key]].append(row)
        return [grouped.get(pid, []) for pid in parent_ids]

    async def load(self, parent_id: int) -> list[Any]:
        return await self.loader.load(parent_id)


class PagesByParent:
    """One connection page per parent, all parents of a request level in one statement
    (a window function cuts each parent's page), plus grouped counts for ``totalCount``."""

    def __init__(self, ctx: Context, columns: Sequence[Any], parent: Any, where: Where) -> None:
        self.ctx, self.columns, self.parent, self.where = ctx, columns, parent, where
        self.pages: DataLoader[tuple[int, PageArgs, Hashable, Ordering], Page] = DataLoader(
            load_fn=self._load_pages
        )
        self.counts: DataLoader[tuple[int, Hashable], int] = DataLoader(load_fn=self._load_counts)

    async def page(self, parent_id: int, args: PageArgs, flt: Hashable, ordering: Ordering) -> Page:
        return await self.pages.load((parent_id, args, flt, ordering))

    async def count(self, parent_id: int, flt: Hashable) -> int:
        return await self.counts.load((parent_id, flt))

    async def _load_pages(self, keys: list[tuple[int, PageArgs, Hashable, Ordering]]) -> list[Page]:
        groups: dict[tuple[PageArgs, Hashable, Ordering], list[int]] = defaultdict(list)
        for parent_id, args, flt, ordering in keys:
            groups[(args, flt, ordering)].append(parent_id)
        result: dict[tuple[int, PageArgs, Hashable, Ordering], Page] = {}
        for (args, flt, ordering), parent_ids in groups.items():
            base = select(*self.columns).where(self.parent.in_(parent_ids), *self.where(flt))
            stmt = paged_per_parent(base, self.parent, args, ordering)
            rows = await self.ctx.run(partial(_execute, stmt=stmt))
            by_parent: dict[int, list[Any]] = defaultdict(list)
            for row in rows:
                by_parent[row._mapping[self.parent.key]].append(row)
            for pid in parent_ids:
                result[(pid, args, flt, ordering)] = slice_rows(
                    by_parent.get(pid, []), args, ordering
                )
        return [result[k] for k in keys]

    async def _load_counts(self, keys: list[tuple[int, Hashable]]) -> list[int]:
        groups: dict[Hashable, list[int]] = defaultdict(list)
        for parent_id, flt in keys:
            groups[flt].append(parent_id)
        counts: dict[tuple[int, Hashable], int] = {}
        for flt, parent_ids in groups.items():
            stmt = (
                select(self.parent, func.count())
                .where(self.parent.in_(parent_ids), *self.where(flt))
                .group_by(self.parent)
            )
            rows = await self.ctx.run(partial(_execute, stmt=stmt))
            found = {row[0]: row[1] for row in rows}
            for pid in parent_ids:
                counts[(pid, flt)] = found.get(pid, 0)
        return [counts[k] for k in keys]


class Loaders:
    """The request's loaders, named for the rows they return and the key they take."""

    def __init__(self, ctx: Context) -> None:
        from resolvers.enrollments import enrollment_filter_clauses

        principal = ctx.principal
        self.region_by_id = RowsById(ctx, tuple(Region.__table__.c), Region.id)
        self.district_by_id = RowsById(ctx, tuple(District.__table__.c), District.id)
        self.institution_by_id = RowsById(ctx, INSTITUTION_COLUMNS, Institution.id)
        self.person_by_id = RowsById(ctx, PERSON_COLUMNS, Person.id, person_readable(principal))
        self.enrollment_by_id = RowsById(
            ctx, ENROLLMENT_COLUMNS, Enrollment.id, enrollment_readable(principal)
        )
        self.guardianship_by_id = RowsById(
            ctx,
            tuple(Guardianship.__table__.c),
            Guardianship.id,
            person_readable(principal, Guardianship.child_id),
        )
        self.staff_position_by_id = RowsById(
            ctx, tuple(StaffPosition.__table__.c), StaffPosition.id, staff_readable(principal)
        )
        self.catchment_area_by_id = RowsById(
            ctx, tuple(CatchmentArea.__table__.c), CatchmentArea.id
        )

        self.districts_by_region = RowsByParent(
            ctx,
            tuple(District.__table__.c),
            District.region_id,
            (District.name_en, District.id),
            (District.valid_to.is_(None),),
        )
        self.catchment_areas_by_institution = RowsByParent(
            ctx, tuple(CatchmentArea.__table__.c), CatchmentArea.institution_id, (CatchmentArea.id,)
        )
        self.pins_by_person = RowsByParent(
            ctx, tuple(PersonPin.__table__.c), PersonPin.person_id, (PersonPin.valid_from.desc(),)
        )
        # Links are shown only where the person at the other end is readable too.
        self.guardianships_by_child = RowsByParent(
            ctx,
            tuple(Guardianship.__table__.c),
            Guardianship.child_id,
            (Guardianship.valid_from, Guardianship.id),
            (person_readable(principal, Guardianship.guardian_id),),
        )
        self.guardianships_by_guardian = RowsByParent(
            ctx,
            tuple(Guardianship.__table__.c),
            Guardianship.guardian_id,
            (Guardianship.valid_from, Guardianship.id),
            (person_readable(principal, Guardianship.child_id),),
        )
        self.staff_positions_by_person = RowsByParent(
            ctx,
            tuple(StaffPosition.__table__.c),
            StaffPosition.person_id,
            (StaffPosition.start_date.desc(), StaffPosition.id),
        )

        readable_enrollment = enrollment_readable(principal)
        self.enrollments_by_institution = PagesByParent(
            ctx,
            ENROLLMENT_COLUMNS,
            Enrollment.institution_id,
            lambda flt: [readable_enrollment, *enrollment_filter_clauses(flt)],
        )
        self.enrollments_by_person = PagesByParent(
            ctx,
            ENROLLMENT_COLUMNS,
            Enrollment.person_id,
            lambda flt: [readable_enrollment, *enrollment_filter_clauses(flt)],
        )
        readable_staff = staff_readable(principal)
        self.staff_positions_by_institution = PagesByParent(
            ctx,
            tuple(StaffPosition.__table__.c),
            StaffPosition.institution_id,
            lambda flt: [readable_staff, *([StaffPosition.end_date.is_(None)] if flt else [])],
        )
        # Each domain's loaders hang off their own attribute.
        from resolvers.licensing.loaders import LicensingLoaders

        self.licensing = LicensingLoaders(ctx)
