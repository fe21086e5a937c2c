"""Institutions: the public registry, catchment areas, and the lists hanging off each one."""

from __future__ import annotations

import enum
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import strawberry

from models import InstitutionKind as InstitutionKindEnum
from models import Language as LanguageEnum
from models import Ownership as OwnershipEnum
from resolvers import institutions as institutions_service
from resolvers.context import Context, Info
from resolvers.enrollments import ENROLLMENT_ORDERINGS
from resolvers.enrollments.loaders import EnrollmentsByInstitutionLoader
from resolvers.errors import ErrorCode as Code
from resolvers.errors import RequestError
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
from resolvers.mutations import perform
from resolvers.people.loaders import StaffPositionsByInstitutionLoader
from resolvers.relay import Ordering, encode_id
from schema.common import (
    After,
    Before,
    Connection,
    First,
    Last,
    Node,
    UserError,
    bounds,
    list_connection,
    page_connection,
    require_signed_in,
    user_errors,
)
from schema.geography import District, Region
from schema.node import node_type, pk_of, query_pk

if TYPE_CHECKING:
    from schema.enrollments import Enrollment, EnrollmentFilterInput, EnrollmentOrder
    from schema.licensing.types import Accreditation, InstitutionProgramme, Licence
    from schema.people import StaffPosition

strawberry.enum(InstitutionKindEnum, name="InstitutionKind", description="What an institution is.")
InstitutionKind: TypeAlias = InstitutionKindEnum
strawberry.enum(OwnershipEnum, name="Ownership", description="Who owns an institution.")
Ownership: TypeAlias = OwnershipEnum
strawberry.enum(LanguageEnum, name="Language", description="Language of instruction (ISO 639-1).")
Language: TypeAlias = LanguageEnum

EnrollmentT = Annotated["Enrollment", strawberry.lazy("schema.enrollments")]
EnrollmentFilterT = Annotated["EnrollmentFilterInput", strawberry.lazy("schema.enrollments")]
EnrollmentOrderT = Annotated["EnrollmentOrder", strawberry.lazy("schema.enrollments")]
StaffPositionT = Annotated["StaffPosition", strawberry.lazy("schema.people")]
LicenceT = Annotated["Licence", strawberry.lazy("schema.licensing.types")]
AccreditationT = Annotated["Accreditation", strawberry.lazy("schema.licensing.types")]
InstitutionProgrammeT = Annotated["InstitutionProgramme", strawberry.lazy("schema.licensing.types")]


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
        if self.region_pk is None:
            return None
        return Region.from_row(await RegionByIdLoader(info.context).load(self.region_pk))

    @strawberry.field(description="District, city or ayil aimak.")
    async def district(self, info: Info) -> District | None:
        if self.district_pk is None:
            return None
        return District.from_row(await DistrictByIdLoader(info.context).load(self.district_pk))

    @strawberry.field(description="Catchment areas (schools only).")
    async def catchment_areas(self, info: Info) -> list[CatchmentArea]:
        rows = await CatchmentAreasByInstitutionLoader(info.context).load(self.pk)
        return [CatchmentArea.from_row(r) for r in rows]

    @strawberry.field(description="Enrollments you may read at this institution.")
    async def enrollments(
        self,
        info: Info,
        filter: EnrollmentFilterT | None = None,
        order_by: EnrollmentOrderT | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[EnrollmentT]:
        from schema.enrollments import Enrollment, EnrollmentOrder, enrollment_filter

        args = bounds(first, after, last, before)
        flt = enrollment_filter(filter)
        ordering = ENROLLMENT_ORDERINGS[(order_by or EnrollmentOrder.ID).name]
        pages = EnrollmentsByInstitutionLoader(info.context)
        return await page_connection(
            args,
            lambda: pages.page(self.pk, args, flt, ordering),
            Enrollment.from_row,
            lambda: pages.count(self.pk, flt),
        )

    @strawberry.field(description="Staff posts you may read at this institution.")
    async def staff(
        self,
        info: Info,
        current_only: bool = True,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[StaffPositionT]:
        from models import StaffPosition as StaffModel
        from schema.people import StaffPosition

        args = bounds(first, after, last, before)
        ordering = Ordering(((StaffModel.id, False),))
        pages = StaffPositionsByInstitutionLoader(info.context)
        return await page_connection(
            args,
            lambda: pages.page(self.pk, args, current_only, ordering),
            StaffPosition.from_row,
            lambda: pages.count(self.pk, current_only),
        )

    # --- licensing (issue 5): public facts only ---

    @strawberry.field(
        description="Needs a licence to teach (state and municipal schools and kindergartens "
        "are exempt)."
    )
    def licence_required(self) -> bool:
        from resolvers.licensing import licence_required

        return licence_required(self.kind, self.ownership)

    @strawberry.field(description="The licence in force, else the most recent one (public).")
    async def licence(self, info: Info) -> LicenceT | None:
        from schema.licensing.types import Licence

        rows = await LicencesByInstitutionLoader(info.context).load(self.pk)
        return Licence.from_row(rows[0]) if rows else None

    @strawberry.field(
        description="May admit learners today: exempt, or holding a licence in force today."
    )
    async def may_teach_today(self, info: Info) -> bool:
        from resolvers.licensing import licence_required
        from schema.licensing.types import Licence

        if not licence_required(self.kind, self.ownership):
            return True
        rows = await LicencesByInstitutionLoader(info.context).load(self.pk)
        return bool(rows) and Licence.from_row(rows[0]).valid_today()

    @strawberry.field(
        description="Institutional accreditation in force today, else the latest decided one."
    )
    async def accreditation(self, info: Info) -> AccreditationT | None:
        from schema.licensing.types import current_accreditation

        loader = InstitutionalAccreditationsByInstitutionLoader(info.context)
        return current_accreditation(await loader.load(self.pk))

    @strawberry.field(description="Programmes it teaches (by classifier code).")
    async def programmes(self, info: Info) -> list[InstitutionProgrammeT]:
        from schema.licensing.types import InstitutionProgramme

        rows = await InstitutionProgrammesByInstitutionLoader(info.context).load(self.pk)
        return [InstitutionProgramme.from_row(r) for r in rows]


@node_type("Institution")
async def fetch_institution(ctx: Context, pk: int) -> Institution | None:
    row = await InstitutionByIdLoader(ctx).load(pk)
    return Institution.from_row(row) if row else None


@node_type("CatchmentArea")
async def fetch_catchment_area(ctx: Context, pk: int) -> CatchmentArea | None:
    row = await CatchmentAreaByIdLoader(ctx).load(pk)
    return CatchmentArea.from_row(row) if row else None


# --- queries -------------------------------------------------------------------------------


@strawberry.input(description="Narrow the institution list; every field given must hold.")
class InstitutionFilter:
    region_id: strawberry.ID | None = strawberry.field(default=None, description="In this region.")
    district_id: strawberry.ID | None = strawberry.field(
        default=None, description="In this district."
    )
    kinds: list[InstitutionKind] | None = strawberry.field(
        default=None, description="Of one of these kinds."
    )
    ownership: Ownership | None = strawberry.field(default=None, description="Of this ownership.")
    language: Language | None = strawberry.field(
        default=None, description="Teaching in this language."
    )
    name: str | None = strawberry.field(
        default=None, description="Part of the name, case-insensitive (max 100 chars)."
    )
    legal_id: str | None = strawberry.field(default=None, description="This legal identifier.")
    include_closed: bool = strawberry.field(default=False, description="Include closed ones.")


@strawberry.enum(description="Orders of the institution list.")
class InstitutionOrder(enum.Enum):
    NAME = "NAME"
    ID = "ID"


def _institution_filter(flt: InstitutionFilter | None) -> institutions_service.InstitutionFilter:
    if flt is None:
        return institutions_service.InstitutionFilter()
    if flt.name is not None and len(flt.name) > 100:
        raise RequestError(Code.INVALID_INPUT, "`name` is at most 100 characters")
    if flt.kinds is not None and len(flt.kinds) > 10:
        raise RequestError(Code.INVALID_INPUT, "`kinds` has at most 10 items")
    return institutions_service.InstitutionFilter(
        region_id=query_pk(flt.region_id, "Region") if flt.region_id else None,
        district_id=query_pk(flt.district_id, "District") if flt.district_id else None,
        kinds=tuple(flt.kinds or ()),
        ownership=flt.ownership,
        language=flt.language,
        name=flt.name,
        legal_id=flt.legal_id,
        open_only=not flt.include_closed,
    )


@strawberry.type
class Query:
    @strawberry.field(description="The institution registry (public).")
    async def institutions(
        self,
        info: Info,
        filter: InstitutionFilter | None = None,
        order_by: InstitutionOrder = InstitutionOrder.NAME,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Institution]:
        args = bounds(first, after, last, before)
        stmt = institutions_service.institutions_query(_institution_filter(filter))
        ordering = institutions_service.INSTITUTION_ORDERINGS[order_by.value]
        return await list_connection(info.context, stmt, args, ordering, Institution.from_row)


# --- mutations -----------------------------------------------------------------------------


@strawberry.input(description="A new institution.")
class CreateInstitutionInput:
    name: str = strawberry.field(description="Official name.")
    name_ru: str | None = strawberry.field(default=None, description="Name in Russian.")
    kind: InstitutionKind = strawberry.field(description="What the institution is.")
    ownership: Ownership = strawberry.field(description="State, municipal or private.")
    legal_id: str | None = strawberry.field(default=None, description="14-digit identifier.")
    country_code: str = strawberry.field(
        default="KG", description="Country (foreign universities)."
    )
    region_id: strawberry.ID | None = strawberry.field(
        default=None, description="Region (at home)."
    )
    district_id: strawberry.ID | None = strawberry.field(default=None, description="District.")
    address: str | None = strawberry.field(default=None, description="Address.")
    languages: list[Language] = strawberry.field(
        default_factory=list, description="Languages of instruction."
    )
    design_capacity: int | None = strawberry.field(default=None, description="Places by design.")
    opened_on: date | None = strawberry.field(default=None, description="Opening date.")


@strawberry.input(description="Changes to an institution; fields left out stay as they are.")
class UpdateInstitutionInput:
    id: strawberry.ID = strawberry.field(description="The institution.")
    name: str | None = strawberry.field(default=None, description="Official name.")
    name_ru: str | None = strawberry.field(default=None, description="Name in Russian.")
    kind: InstitutionKind | None = strawberry.field(default=None, description="Kind.")
    ownership: Ownership | None = strawberry.field(default=None, description="Ownership.")
    legal_id: str | None = strawberry.field(default=None, description="14-digit identifier.")
    district_id: strawberry.ID | None = strawberry.field(default=None, description="District.")
    address: str | None = strawberry.field(default=None, description="Address.")
    languages: list[Language] | None = strawberry.field(default=None, description="Languages.")
    design_capacity: int | None = strawberry.field(default=None, description="Places by design.")
    opened_on: date | None = strawberry.field(default=None, description="Opening date.")
    closed_on: date | None = strawberry.field(default=None, description="Closing date.")


@strawberry.type(description="Result of createInstitution / updateInstitution.")
class InstitutionPayload:
    institution: Institution | None = strawberry.field(description="The institution.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="A catchment area for a school.")
class AddCatchmentAreaInput:
    institution_id: strawberry.ID = strawberry.field(description="The school.")
    district_id: strawberry.ID = strawberry.field(description="District of the area.")
    name: str = strawberry.field(description="Name of the micro-district.")
    streets: list[str] = strawberry.field(description="Streets it covers (at most 500).")


@strawberry.type(description="Result of addCatchmentArea.")
class AddCatchmentAreaPayload:
    catchment_area: CatchmentArea | None = strawberry.field(description="The new area.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


def _languages(items: list[Any] | None) -> list[LanguageEnum] | None:
    if items is not None and len(items) > 5:
        raise RequestError(Code.INVALID_INPUT, "At most 5 languages")
    return None if items is None else [LanguageEnum(i) for i in items]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Add an institution to the registry (officers).")
    async def create_institution(
        self, info: Info, input: CreateInstitutionInput
    ) -> InstitutionPayload:
        ctx = info.context
        require_signed_in(ctx)

        def fields() -> institutions_service.InstitutionFields:
            return institutions_service.InstitutionFields(
                name=input.name,
                name_ru=input.name_ru,
                kind=input.kind,
                ownership=input.ownership,
                legal_id=input.legal_id,
                country_code=input.country_code,
                region_id=pk_of(input.region_id, "Region", field="regionId")
                if input.region_id
                else None,
                district_id=pk_of(input.district_id, "District", field="districtId")
                if input.district_id
                else None,
                address=input.address,
                languages=_languages(input.languages),
                design_capacity=input.design_capacity,
                opened_on=input.opened_on,
            )

        result = await perform(
            ctx,
            "institutions.create_institution",
            lambda s: institutions_service.create_institution(s, ctx.principal, fields()),
        )
        return InstitutionPayload(
            institution=Institution.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(description="Change an institution's registry record.")
    async def update_institution(
        self, info: Info, input: UpdateInstitutionInput
    ) -> InstitutionPayload:
        ctx = info.context
        require_signed_in(ctx)

        def fields() -> institutions_service.InstitutionFields:
            return institutions_service.InstitutionFields(
                name=input.name,
                name_ru=input.name_ru,
                kind=input.kind,
                ownership=input.ownership,
                legal_id=input.legal_id,
                district_id=pk_of(input.district_id, "District", field="districtId")
                if input.district_id
                else None,
                address=input.address,
                languages=_languages(input.languages),
                design_capacity=input.design_capacity,
                opened_on=input.opened_on,
                closed_on=input.closed_on,
            )

        result = await perform(
            ctx,
            "institutions.update_institution",
            lambda s: institutions_service.update_institution(
                s, ctx.principal, pk_of(input.id, "Institution", field="id"), fields()
            ),
        )
        return InstitutionPayload(
            institution=Institution.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(description="Give a school a catchment area.")
    async def add_catchment_area(
        self, info: Info, input: AddCatchmentAreaInput
    ) -> AddCatchmentAreaPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "institutions.add_catchment_area",
            lambda s: institutions_service.add_catchment_area(
                s,
                ctx.principal,
                institution_id=pk_of(input.institution_id, "Institution", field="institutionId"),
                district_id=pk_of(input.district_id, "District", field="districtId"),
                name=input.name,
                streets=input.streets,
            ),
        )
        return AddCatchmentAreaPayload(
            catchment_area=CatchmentArea.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )
