"""Per-request DataLoaders: every relation of the graph resolves through one of these, so the
number of SQL statements grows with the depth of a query, never with its rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from models import (
    BenefitCategory,
    CatchmentArea,
    District,
    Enrollment,
    FirstGradeApplication,
    FirstGradeApplicationEvent,
    FirstGradeQuota,
    Guardianship,
    Institution,
    IntakeSeason,
    KindergartenAgeGroup,
    KindergartenApplication,
    KindergartenApplicationEvent,
    KindergartenOffer,
    KindergartenPreference,
    Person,
    PersonPin,
    Region,
    StaffPosition,
)
from resolvers import first_grade, intake_loaders, preschool
from resolvers.access import enrollment_readable, person_readable, staff_readable
from resolvers.enrollments import ENROLLMENT_COLUMNS, enrollment_filter_clauses
from resolvers.institutions import INSTITUTION_COLUMNS
from resolvers.people import PERSON_COLUMNS
from resolvers.relay import Ordering, Page, PageArgs, paged_per_parent, slice_rows

if TYPE_CHECKING:
    from resolvers.admission.loaders import AdmissionLoaders
    from resolvers.context import Context
    from resolvers.licensing.loaders import LicensingLoaders

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
    """The request's loaders, named for the rows they return and the key they take. Each is
    made on first use: a request pays only for the loaders its query touches."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.principal = ctx.principal

    @cached_property
    def region_by_id(self) -> RowsById:
        return RowsById(self.ctx, tuple(Region.__table__.c), Region.id)

    @cached_property
    def district_by_id(self) -> RowsById:
        return RowsById(self.ctx, tuple(District.__table__.c), District.id)

    @cached_property
    def institution_by_id(self) -> RowsById:
        return RowsById(self.ctx, INSTITUTION_COLUMNS, Institution.id)

    @cached_property
    def person_by_id(self) -> RowsById:
        return RowsById(self.ctx, PERSON_COLUMNS, Person.id, person_readable(self.principal))

    @cached_property
    def enrollment_by_id(self) -> RowsById:
        return RowsById(
            self.ctx, ENROLLMENT_COLUMNS, Enrollment.id, enrollment_readable(self.principal)
        )

    @cached_property
    def guardianship_by_id(self) -> RowsById:
        return RowsById(
            self.ctx,
            tuple(Guardianship.__table__.c),
            Guardianship.id,
            person_readable(self.principal, Guardianship.child_id),
        )

    @cached_property
    def staff_position_by_id(self) -> RowsById:
        return RowsById(
            self.ctx,
            tuple(StaffPosition.__table__.c),
            StaffPosition.id,
            staff_readable(self.principal),
        )

    @cached_property
    def catchment_area_by_id(self) -> RowsById:
        return RowsById(self.ctx, tuple(CatchmentArea.__table__.c), CatchmentArea.id)

    @cached_property
    def districts_by_region(self) -> RowsByParent:
        return RowsByParent(
            self.ctx,
            tuple(District.__table__.c),
            District.region_id,
            (District.name_en, District.id),
            (District.valid_to.is_(None),),
        )

    @cached_property
    def catchment_areas_by_institution(self) -> RowsByParent:
        return RowsByParent(
            self.ctx,
            tuple(CatchmentArea.__table__.c),
            CatchmentArea.institution_id,
            (CatchmentArea.id,),
        )

    @cached_property
    def pins_by_person(self) -> RowsByParent:
        return RowsByParent(
            self.ctx,
            tuple(PersonPin.__table__.c),
            PersonPin.person_id,
            (PersonPin.valid_from.desc(),),
        )

    @cached_property
    def guardianships_by_child(self) -> RowsByParent:
        return RowsByParent(
            self.ctx,
            tuple(Guardianship.__table__.c),
            Guardianship.child_id,
            (Guardianship.valid_from, Guardianship.id),
            (person_readable(self.principal, Guardianship.guardian_id),),
        )

    @cached_property
    def guardianships_by_guardian(self) -> RowsByParent:
        return RowsByParent(
            self.ctx,
            tuple(Guardianship.__table__.c),
            Guardianship.guardian_id,
            (Guardianship.valid_from, Guardianship.id),
            (person_readable(self.principal, Guardianship.child_id),),
        )

    @cached_property
    def staff_positions_by_person(self) -> RowsByParent:
        return RowsByParent(
            self.ctx,
            tuple(StaffPosition.__table__.c),
            StaffPosition.person_id,
            (StaffPosition.start_date.desc(), StaffPosition.id),
        )

    @cached_property
    def enrollments_by_institution(self) -> PagesByParent:
        return PagesByParent(
            self.ctx,
            ENROLLMENT_COLUMNS,
            Enrollment.institution_id,
            lambda flt: [enrollment_readable(self.principal), *enrollment_filter_clauses(flt)],
        )

    @cached_property
    def enrollments_by_person(self) -> PagesByParent:
        return PagesByParent(
            self.ctx,
            ENROLLMENT_COLUMNS,
            Enrollment.person_id,
            lambda flt: [enrollment_readable(self.principal), *enrollment_filter_clauses(flt)],
        )

    @cached_property
    def staff_positions_by_institution(self) -> PagesByParent:
        return PagesByParent(
            self.ctx,
            tuple(StaffPosition.__table__.c),
            StaffPosition.institution_id,
            lambda flt: [
                staff_readable(self.principal),
                *([StaffPosition.end_date.is_(None)] if flt else []),
            ],
        )

    @cached_property
    def intake_season_by_id(self) -> RowsById:
        return RowsById(self.ctx, tuple(IntakeSeason.__table__.c), IntakeSeason.id)

    @cached_property
    def benefit_category_by_id(self) -> RowsById:
        return RowsById(self.ctx, tuple(BenefitCategory.__table__.c), BenefitCategory.id)

    @cached_property
    def age_groups_by_season(self) -> RowsByParent:
        return RowsByParent(
            self.ctx,
            tuple(KindergartenAgeGroup.__table__.c),
            KindergartenAgeGroup.season_id,
            (KindergartenAgeGroup.min_months,),
        )

    @cached_property
    def benefit_categories_by_season(self) -> RowsByParent:
        return RowsByParent(
            self.ctx,
            tuple(BenefitCategory.__table__.c),
            BenefitCategory.season_id,
            (BenefitCategory.rank, BenefitCategory.code),
        )

    @cached_property
    def applicant_by_id(self) -> RowsById:
        return RowsById(
            self.ctx, PERSON_COLUMNS, Person.id, intake_loaders.applicant_readable(self.principal)
        )

    @cached_property
    def kindergarten_application_by_id(self) -> RowsById:
        return RowsById(
            self.ctx,
            preschool.APPLICATION_COLUMNS,
            KindergartenApplication.id,
            preschool.application_readable(self.principal),
        )

    @cached_property
    def kindergarten_offer_by_id(self) -> RowsById:
        return RowsById(
            self.ctx,
            preschool.OFFER_COLUMNS,
            KindergartenOffer.id,
            preschool.offer_readable(self.principal),
        )

    @cached_property
    def kindergarten_preferences_by_application(self) -> RowsByParent:
        return RowsByParent(
            self.ctx,
            tuple(KindergartenPreference.__table__.c),
            KindergartenPreference.application_id,
            (KindergartenPreference.rank,),
        )

    @cached_property
    def kindergarten_offers_by_application(self) -> RowsByParent:
        return RowsByParent(
            self.ctx,
            preschool.OFFER_COLUMNS,
            KindergartenOffer.application_id,
            (KindergartenOffer.id.desc(),),
        )

    @cached_property
    def kindergarten_history_by_application(self) -> RowsByParent:
        return RowsByParent(
            self.ctx,
            tuple(KindergartenApplicationEvent.__table__.c),
            KindergartenApplicationEvent.application_id,
            (KindergartenApplicationEvent.id,),
        )

    @cached_property
    def queue_position_by_preference(self) -> intake_loaders.QueuePositions:
        return intake_loaders.QueuePositions(self.ctx)

    @cached_property
    def first_grade_application_by_id(self) -> RowsById:
        return RowsById(
            self.ctx,
            first_grade.APPLICATION_COLUMNS,
            FirstGradeApplication.id,
            first_grade.application_readable(self.principal),
        )

    @cached_property
    def first_grade_quota_by_id(self) -> RowsById:
        return RowsById(self.ctx, first_grade.QUOTA_COLUMNS, FirstGradeQuota.id)

    @cached_property
    def first_grade_history_by_application(self) -> RowsByParent:
        return RowsByParent(
            self.ctx,
            tuple(FirstGradeApplicationEvent.__table__.c),
            FirstGradeApplicationEvent.application_id,
            (FirstGradeApplicationEvent.id,),
        )

    @cached_property
    def admission(self) -> AdmissionLoaders:
        """University admission and study abroad (each loader inside is built on first use)."""
        from resolvers.admission.loaders import AdmissionLoaders  # imports this module

        return AdmissionLoaders(self.ctx)

    @cached_property
    def licensing(self) -> LicensingLoaders:
        """Licensing and accreditation (each loader inside is built on first use)."""
        from resolvers.licensing.loaders import LicensingLoaders  # imports this module

        return LicensingLoaders(self.ctx)
