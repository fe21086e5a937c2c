"""Institution registry mutations: create and update a record, add a catchment area."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from models import Language as LanguageEnum
from resolvers import institutions as institutions_service
from resolvers.context import Context
from resolvers.errors import ErrorCode as Code
from resolvers.errors import RequestError
from schema.common import UserError
from schema.fields import Payload, mutation
from schema.institutions.types import (
    CatchmentArea,
    Institution,
    InstitutionKind,
    Language,
    Ownership,
    SchoolType,
)
from schema.node import pk_of


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
    school_type: SchoolType | None = strawberry.field(
        default=None, description="What a school is; brings its default grades and F6 flag."
    )
    grade_from: int | None = strawberry.field(default=None, description="First grade taught.")
    grade_to: int | None = strawberry.field(default=None, description="Last grade taught.")
    shifts: int | None = strawberry.field(default=None, description="Shifts a day (1-3).")
    outside_e_enrollment: bool | None = strawberry.field(
        default=None, description="Takes first graders outside e-enrollment (F6)."
    )


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
    school_type: SchoolType | None = strawberry.field(
        default=None, description="What a school is; brings its default grades and F6 flag."
    )
    grade_from: int | None = strawberry.field(default=None, description="First grade taught.")
    grade_to: int | None = strawberry.field(default=None, description="Last grade taught.")
    shifts: int | None = strawberry.field(default=None, description="Shifts a day (1-3).")
    outside_e_enrollment: bool | None = strawberry.field(
        default=None, description="Takes first graders outside e-enrollment (F6)."
    )


@strawberry.type(description="Result of createInstitution / updateInstitution.")
class InstitutionPayload(Payload):
    institution: Institution | None = strawberry.field(description="The institution.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="A catchment area for a school.")
class AddCatchmentAreaInput:
    institution_id: strawberry.ID = strawberry.field(description="The school.")
    district_id: strawberry.ID = strawberry.field(description="District of the area.")
    name: str = strawberry.field(description="Name of the micro-district.")
    streets: list[str] = strawberry.field(description="Streets it covers (at most 500).")


@strawberry.type(description="Result of addCatchmentArea.")
class AddCatchmentAreaPayload(Payload):
    catchment_area: CatchmentArea | None = strawberry.field(description="The new area.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


def _languages(items: list[Any] | None) -> list[LanguageEnum] | None:
    if items is not None and len(items) > 5:
        raise RequestError(Code.INVALID_INPUT, "At most 5 languages")
    return None if items is None else [LanguageEnum(i) for i in items]


def _fields(
    input: CreateInstitutionInput | UpdateInstitutionInput, **more: Any
) -> institutions_service.InstitutionFields:
    """The registry fields both inputs carry, and ``more`` (the ones only one of them has)."""
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
        school=institutions_service.SchoolProfile(
            school_type=input.school_type,
            grade_from=input.grade_from,
            grade_to=input.grade_to,
            shifts=input.shifts,
            outside_e_enrollment=input.outside_e_enrollment,
        ),
        **more,
    )


@strawberry.type
class Mutation:
    @mutation(
        "institutions.create_institution",
        InstitutionPayload,
        description="Add an institution to the registry (officers).",
    )
    async def create_institution(
        session: AsyncSession, ctx: Context, input: CreateInstitutionInput
    ) -> Any:
        fields = _fields(
            input,
            country_code=input.country_code,
            region_id=pk_of(input.region_id, "Region", field="regionId")
            if input.region_id
            else None,
        )
        return await institutions_service.create_institution(session, ctx.principal, fields)

    @mutation(
        "institutions.update_institution",
        InstitutionPayload,
        description="Change an institution's registry record.",
    )
    async def update_institution(
        session: AsyncSession, ctx: Context, input: UpdateInstitutionInput
    ) -> Any:
        institution_id = pk_of(input.id, "Institution", field="id")
        fields = _fields(input, closed_on=input.closed_on)
        return await institutions_service.update_institution(
            session, ctx.principal, institution_id, fields
        )

    @mutation(
        "institutions.add_catchment_area",
        AddCatchmentAreaPayload,
        description="Give a school a catchment area.",
    )
    async def add_catchment_area(
        session: AsyncSession, ctx: Context, input: AddCatchmentAreaInput
    ) -> Any:
        return await institutions_service.add_catchment_area(
            session,
            ctx.principal,
            institution_id=pk_of(input.institution_id, "Institution", field="institutionId"),
            district_id=pk_of(input.district_id, "District", field="districtId"),
            name=input.name,
            streets=input.streets,
        )
