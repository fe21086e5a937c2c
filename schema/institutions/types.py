"""Institutions in the graph: the registry record, catchment areas, and the lists and public
licensing facts hanging off each one."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import strawberry

from models import InstitutionKind as InstitutionKindEnum
from models import Language as LanguageEnum
from models import Ownership as OwnershipEnum
from resolvers import licensing as licensing_service
from resolvers.context import Context, Info
from resolvers.enrollments.loaders import EnrollmentsByInstitutionLoader
from resolvers.geography.loaders import DistrictByIdLoader, RegionByIdLoader
from resolvers.institutions.loaders import (
    CatchmentAreaByIdLoader,
    CatchmentAreasByInstitutionLoader,
    InstitutionByIdLoader,
)
from resolvers.licensing.loaders import (
    InstitutionalAccreditationsByInstitutionLoader,
    InstitutionProgrammesByInstitutionLoader,
    LicencesByInstitutionLoader,
)
from resolvers.people import STAFF_ORDER
from resolvers.people.loaders import StaffPositionsByInstitutionLoader
from resolvers.relay import encode_id
from schema.common import Connection, Node
from schema.enrollment_lists import EnrollmentFilterInput, EnrollmentOrder, enrollment_pages
from schema.fields import ChildPages, connection
from schema.geography import District, Region
from schema.node import fetched_by, loaded, node_class

if TYPE_CHECKING:
    from schema.enrollments import Enrollment
    from schema.licensing.types import Accreditation, InstitutionProgramme, Licence
    from schema.people import StaffPosition

strawberry.enum(InstitutionKindEnum, name="InstitutionKind", description="What an institution is.")
InstitutionKind: TypeAlias = InstitutionKindEnum
strawberry.enum(OwnershipEnum, name="Ownership", description="Who owns an institution.")
Ownership: TypeAlias = OwnershipEnum
strawberry.enum(LanguageEnum, name="Language", description="Language of instruction (ISO 639-1).")
Language: TypeAlias = LanguageEnum

EnrollmentT = Annotated["Enrollment", strawberry.lazy("schema.enrollments")]
StaffPositionT = Annotated["StaffPosition", strawberry.lazy("schema.people")]
LicenceT = Annotated["Licence", strawberry.lazy("schema.licensing.types")]
AccreditationT = Annotated["Accreditation", strawberry.lazy("schema.licensing.types")]
InstitutionProgrammeT = Annotated["InstitutionProgramme", strawberry.lazy("schema.licensing.types")]


async def institution_of(info: Info, pk: int) -> Institution:
    """The institution a row names (institutions are public: never null)."""
    return Institution.from_row(await InstitutionByIdLoader(info.context).load(pk))


@fetched_by(CatchmentAreaByIdLoader)
@strawberry.type(description="A micro-district a school serves.")
class CatchmentArea(Node):
    pk: strawberry.Private[int]
    district_pk: strawberry.Private[int]
    name: str = strawberry.field(description="Name of the micro-district.")
    streets: list[str] = strawberry.field(description="Streets (and house ranges) it covers.")

    @classmethod
    def from_row(cls, row: Any) -> CatchmentArea:
        return cls(
            id=strawberry.ID(encode_id("CatchmentArea", row.id)),
            pk=row.id,
            district_pk=row.district_id,
            name=row.name,
            streets=list(row.streets),
        )

    @strawberry.field(description="District the area lies in.")
    async def district(self, info: Info) -> District:
        return District.from_row(await DistrictByIdLoader(info.context).load(self.district_pk))


@fetched_by(InstitutionByIdLoader)
@strawberry.type(description="A kindergarten, school, college, university or foreign university.")
class Institution(Node):
    pk: strawberry.Private[int]
    region_pk: strawberry.Private[int | None]
    district_pk: strawberry.Private[int | None]
    kind: InstitutionKind = strawberry.field(description="What the institution is.")
    ownership: Ownership = strawberry.field(description="State, municipal or private.")
    name: str = strawberry.field(description="Official name.")
    name_ru: str | None = strawberry.field(description="Name in Russian.")
    legal_id: str | None = strawberry.field(description="14-digit legal-entity identifier.")
    country_code: str = strawberry.field(description="ISO 3166-1 country (KG at home).")
    address: str | None = strawberry.field(description="Address of the main building.")
    languages: list[Language] = strawberry.field(description="Languages of instruction.")
    design_capacity: int | None = strawberry.field(description="Places by design.")
    opened_on: date | None = strawberry.field(description="Opening date.")
    closed_on: date | None = strawberry.field(description="Closing date, if closed.")

    @classmethod
    def from_row(cls, row: Any) -> Institution:
        return cls(
            id=strawberry.ID(encode_id("Institution", row.id)),
            pk=row.id,
            region_pk=row.region_id,
            district_pk=row.district_id,
            kind=row.kind,
            ownership=row.ownership,
            name=row.name,
            name_ru=row.name_ru,
            legal_id=row.legal_id,
            country_code=row.country_code,
            address=row.address,
            languages=[LanguageEnum(x) for x in row.languages],
            design_capacity=row.design_capacity,
            opened_on=row.opened_on,
            closed_on=row.closed_on,
        )

    @strawberry.field(description="Region (null for foreign universities).")
    async def region(self, info: Info) -> Region | None:
        return await loaded(RegionByIdLoader(info.context), self.region_pk, Region.from_row)

    @strawberry.field(description="District, city or ayil aimak.")
    async def district(self, info: Info) -> District | None:
        return await loaded(DistrictByIdLoader(info.context), self.district_pk, District.from_row)

    @strawberry.field(description="Catchment areas (schools only).")
    async def catchment_areas(self, info: Info) -> list[CatchmentArea]:
        rows = await CatchmentAreasByInstitutionLoader(info.context).load(self.pk)
        return [CatchmentArea.from_row(r) for r in rows]

    @connection(
        Connection[EnrollmentT], description="Enrollments you may read at this institution."
    )
    def enrollments(
        self,
        ctx: Context,
        filter: EnrollmentFilterInput | None = None,
        order_by: EnrollmentOrder | None = None,
    ) -> ChildPages:
        pages = EnrollmentsByInstitutionLoader(ctx)
        return enrollment_pages(pages, self.pk, filter, order_by, default=EnrollmentOrder.ID)

    @connection(
        Connection[StaffPositionT], description="Staff posts you may read at this institution."
    )
    def staff(self, ctx: Context, current_only: bool = True) -> ChildPages:
        pages = StaffPositionsByInstitutionLoader(ctx)
        convert = node_class("StaffPosition").from_row
        return ChildPages(pages, self.pk, current_only, STAFF_ORDER, convert)

    # --- licensing (issue 5): public facts only ---

    @strawberry.field(
        description="Needs a licence to teach (state and municipal schools and kindergartens "
        "are exempt)."
    )
    def licence_required(self) -> bool:
        return licensing_service.licence_required(self.kind, self.ownership)

    @strawberry.field(description="The licence in force, else the most recent one (public).")
    async def licence(self, info: Info) -> LicenceT | None:
        rows = await LicencesByInstitutionLoader(info.context).load(self.pk)
        return node_class("Licence").from_row(rows[0]) if rows else None

    @strawberry.field(
        description="May admit learners today: exempt, or holding a licence in force today."
    )
    async def may_teach_today(self, info: Info) -> bool:
        if not licensing_service.licence_required(self.kind, self.ownership):
            return True
        rows = await LicencesByInstitutionLoader(info.context).load(self.pk)
        return bool(rows) and node_class("Licence").from_row(rows[0]).valid_today()

    @strawberry.field(
        description="Institutional accreditation in force today, else the latest decided one."
    )
    async def accreditation(self, info: Info) -> AccreditationT | None:
        loader = InstitutionalAccreditationsByInstitutionLoader(info.context)
        return node_class("Accreditation").current(await loader.load(self.pk))

    @strawberry.field(description="Programmes it teaches (by classifier code).")
    async def programmes(self, info: Info) -> list[InstitutionProgrammeT]:
        rows = await InstitutionProgrammesByInstitutionLoader(info.context).load(self.pk)
        return [node_class("InstitutionProgramme").from_row(r) for r in rows]
