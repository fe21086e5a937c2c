"""Statistics tables, cells, indicators and export files."""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Any, TypeAlias

import strawberry

from models import InstitutionKind as InstitutionKindEnum
from models import Language as LanguageEnum
from models import Ownership as OwnershipEnum
from models import Sex as SexEnum
from resolvers import analytics as analytics_service
from resolvers.analytics import (
    AreaLevel as AreaLevelEnum,
)
from resolvers.analytics import (
    Dimension as DimensionEnum,
)
from resolvers.analytics import (
    ExportFormat as ExportFormatEnum,
)
from resolvers.analytics import (
    IndicatorKind as IndicatorKindEnum,
)
from resolvers.analytics import (
    IscedLevel as IscedLevelEnum,
)
from resolvers.analytics import (
    Measure as MeasureEnum,
)
from resolvers.analytics import (
    Settlement as SettlementEnum,
)
from resolvers.context import Info
from resolvers.geography.loaders import DistrictByIdLoader, RegionByIdLoader
from schema.geography import District, Region
from schema.institutions import InstitutionKind, Language, Ownership
from schema.people import Sex

strawberry.enum(MeasureEnum, name="Measure", description="What a statistics table counts.")
Measure: TypeAlias = MeasureEnum
strawberry.enum(
    DimensionEnum, name="StatisticsDimension", description="What a statistics table groups by."
)
StatisticsDimension: TypeAlias = DimensionEnum
strawberry.enum(SettlementEnum, name="Settlement", description="Urban or rural.")
Settlement: TypeAlias = SettlementEnum
strawberry.enum(
    IscedLevelEnum, name="IscedLevel", description="ISCED 2011 level (international reporting)."
)
IscedLevel: TypeAlias = IscedLevelEnum
strawberry.enum(
    IndicatorKindEnum, name="IndicatorKind", description="An indicator the ministry reports."
)
IndicatorKind: TypeAlias = IndicatorKindEnum
strawberry.enum(AreaLevelEnum, name="AreaLevel", description="Regions or districts.")
AreaLevel: TypeAlias = AreaLevelEnum
strawberry.enum(ExportFormatEnum, name="ExportFormat", description="A file format of an export.")
ExportFormat: TypeAlias = ExportFormatEnum


@strawberry.type(description="One cell of a statistics table: the grouped keys and the count.")
class StatisticsCell:
    region_pk: strawberry.Private[int | None]
    district_pk: strawberry.Private[int | None]
    settlement: Settlement | None = strawberry.field(description="Urban or rural, if grouped.")
    institution_kind: InstitutionKind | None = strawberry.field(
        description="Kind of institution, if grouped."
    )
    ownership: Ownership | None = strawberry.field(description="Ownership, if grouped.")
    level: IscedLevel | None = strawberry.field(description="ISCED level, if grouped.")
    grade: int | None = strawberry.field(description="Grade (0-12), if grouped.")
    sex: Sex | None = strawberry.field(description="Sex, if grouped.")
    age: int | None = strawberry.field(description="Age in years on the census date, if grouped.")
    language: Language | None = strawberry.field(
        description="Language of instruction (the institution's first), if grouped."
    )
    age_group: str | None = strawberry.field(
        description="Kindergarten age group (queue only), if grouped."
    )
    count: int | None = strawberry.field(
        description="The count; null when hidden by disclosure control."
    )
    suppressed: bool = strawberry.field(
        description="Hidden: under the threshold, or hidden so that no total reveals another."
    )

    @strawberry.field(description="The region, if grouped by region.")
    async def region(self, info: Info) -> Region | None:
        if self.region_pk is None:
            return None
        return Region.from_row(await RegionByIdLoader(info.context).load(self.region_pk))

    @strawberry.field(description="The district, if grouped by district.")
    async def district(self, info: Info) -> District | None:
        if self.district_pk is None:
            return None
        return District.from_row(await DistrictByIdLoader(info.context).load(self.district_pk))


_ENUMS: dict[DimensionEnum, type] = {
    DimensionEnum.SETTLEMENT: SettlementEnum,
    DimensionEnum.INSTITUTION_KIND: InstitutionKindEnum,
    DimensionEnum.OWNERSHIP: OwnershipEnum,
    DimensionEnum.LEVEL: IscedLevelEnum,
    DimensionEnum.SEX: SexEnum,
    DimensionEnum.LANGUAGE: LanguageEnum,
}


def cell_from(
    table: analytics_service.StatisticsTable, cell: analytics_service.Cell
) -> StatisticsCell:
    keys = dict(zip(table.group_by, cell.keys, strict=True))
    values = {
        dim: (_ENUMS[dim](v) if dim in _ENUMS and v is not None else v) for dim, v in keys.items()
    }
    return StatisticsCell(
        region_pk=values.get(DimensionEnum.REGION),
        district_pk=values.get(DimensionEnum.DISTRICT),
        settlement=values.get(DimensionEnum.SETTLEMENT),
        institution_kind=values.get(DimensionEnum.INSTITUTION_KIND),
        ownership=values.get(DimensionEnum.OWNERSHIP),
        level=values.get(DimensionEnum.LEVEL),
        grade=values.get(DimensionEnum.GRADE),
        sex=values.get(DimensionEnum.SEX),
        age=values.get(DimensionEnum.AGE),
        language=values.get(DimensionEnum.LANGUAGE),
        age_group=values.get(DimensionEnum.AGE_GROUP),
        count=cell.shown,
        suppressed=cell.suppressed,
    )


@strawberry.type(description="A file made from a statistics table.")
class ExportFile:
    filename: str = strawberry.field(description="A file name for saving it.")
    media_type: str = strawberry.field(description="Its media (MIME) type.")
    content_base64: str = strawberry.field(description="Its bytes, base64-encoded.")


@strawberry.type(
    description="Counts of one measure as of a census date. Counts of people under the "
    "disclosure threshold are hidden (with the cells that would reveal them) for every caller "
    "but the ministry."
)
class StatisticsTable:
    table: strawberry.Private[analytics_service.StatisticsTable]
    measure: Measure = strawberry.field(description="What is counted.")
    census_date: date = strawberry.field(description="The day the counts hold on.")
    group_by: list[StatisticsDimension] = strawberry.field(description="The grouped dimensions.")
    cells: list[StatisticsCell] = strawberry.field(description="Non-zero cells, in key order.")
    total: int | None = strawberry.field(description="The sum of all cells; null when hidden.")
    exact: bool = strawberry.field(description="True when no count was hidden from this caller.")
    from_rollup: bool = strawberry.field(
        description="Read from the census rollup (false: counted live for this date)."
    )

    @classmethod
    def from_table(cls, table: analytics_service.StatisticsTable) -> StatisticsTable:
        return cls(
            table=table,
            measure=table.measure,
            census_date=table.census_date,
            group_by=table.group_by,
            cells=[cell_from(table, c) for c in table.cells],
            total=None if table.total_suppressed else table.total,
            exact=table.exact or not any(c.suppressed for c in table.cells),
            from_rollup=table.from_rollup,
        )

    @strawberry.field(description="The table as a CSV or XLSX file (what this caller sees).")
    async def export(self, info: Info, format: ExportFormat) -> ExportFile:
        name, media, data = await info.context.run(
            lambda s: analytics_service.export(s, self.table, format)
        )
        return ExportFile(
            filename=name, media_type=media, content_base64=base64.b64encode(data).decode()
        )


@strawberry.type(description="One indicator for one area (or the country) on a census date.")
class Indicator:
    region_pk: strawberry.Private[int | None]
    district_pk: strawberry.Private[int | None]
    kind: IndicatorKind = strawberry.field(description="Which indicator.")
    value: float | None = strawberry.field(
        description="The ratio (or, for the queue, the count); null when unknown or hidden."
    )
    numerator: int | None = strawberry.field(description="What is divided; null when hidden.")
    denominator: int | None = strawberry.field(
        description="What it is divided by; null when hidden or not known (no population)."
    )

    @strawberry.field(description="The region; null for the country's figure.")
    async def region(self, info: Info) -> Region | None:
        if self.region_pk is None:
            return None
        return Region.from_row(await RegionByIdLoader(info.context).load(self.region_pk))

    @strawberry.field(description="The district, when reported by district.")
    async def district(self, info: Info) -> District | None:
        if self.district_pk is None:
            return None
        return District.from_row(await DistrictByIdLoader(info.context).load(self.district_pk))

    @classmethod
    def from_value(cls, v: analytics_service.IndicatorValue) -> Indicator:
        return cls(
            region_pk=v.region_id,
            district_pk=v.district_id,
            kind=v.kind,
            value=v.value,
            numerator=v.numerator,
            denominator=v.denominator,
        )


@strawberry.type(description="The ministry's indicators on one census date.")
class Indicators:
    census_date: date = strawberry.field(description="The day the figures hold on.")
    values: list[Indicator] = strawberry.field(
        description="Per area, then the country (region and district null), per kind."
    )


@strawberry.type(description="A grade and its ISCED level.")
class GradeLevel:
    grade: int = strawberry.field(description="Grade, 0 (preparatory) to 12.")
    isced: IscedLevel = strawberry.field(description="Its ISCED 2011 level.")


@strawberry.type(
    description="The disclosure control rule for counts of people, as the ministry set it: "
    "cells under the threshold are hidden from every caller but the ministry."
)
class DisclosurePolicy:
    threshold: int = strawberry.field(
        description="Cells counting from 1 to threshold - 1 people are hidden."
    )
    secondary_suppression: bool = strawberry.field(
        description="More cells are hidden so that no hidden cell can be found by subtraction "
        "from a total."
    )
    source: str = strawberry.field(description="The decree or handbook the rule follows.")
    changed_at: datetime | None = strawberry.field(description="When the rule was last set.")

    @classmethod
    def from_row(cls, row: Any) -> DisclosurePolicy:
        return cls(
            threshold=row.threshold,
            secondary_suppression=row.secondary_suppression,
            source=row.source,
            changed_at=row.changed_at,
        )
