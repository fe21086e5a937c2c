"""People mutations: register a person, re-issue a PIN, link a guardian, appoint staff."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from models import PinChangeReason as PinChangeReasonEnum
from resolvers import people as people_service
from resolvers.context import Context
from schema.common import UserError
from schema.fields import Payload, mutation
from schema.node import pk_of
from schema.people.types import (
    GuardianKind,
    Guardianship,
    Person,
    PinChangeReason,
    Sex,
    StaffPosition,
    StaffRole,
)


@strawberry.input(description="A person to register, as the civil registry knows them.")
class RegisterPersonInput:
    pin: str = strawberry.field(description="14-digit PIN.")
    first_name: str = strawberry.field(description="Given name.")
    last_name: str = strawberry.field(description="Family name.")
    patronymic: str | None = strawberry.field(default=None, description="Patronymic.")
    birth_date: date = strawberry.field(description="Date of birth; must match the PIN.")
    sex: Sex = strawberry.field(description="Sex; must match the PIN.")
    registered_district_id: strawberry.ID | None = strawberry.field(
        default=None, description="District of the registered address."
    )
    registered_address: str | None = strawberry.field(default=None, description="Address.")


@strawberry.type(description="Result of registerPerson.")
class RegisterPersonPayload(Payload):
    person: Person | None = strawberry.field(description="The registered person.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="A new PIN for a person.")
class ReissuePinInput:
    person_id: strawberry.ID = strawberry.field(description="The person.")
    new_pin: str = strawberry.field(description="The new 14-digit PIN.")
    reason: PinChangeReason = strawberry.field(
        default=PinChangeReasonEnum.REISSUED,
        description="REISSUED keeps sex and birth date; CORRECTED fixes them from the PIN.",
    )


@strawberry.type(description="Result of reissuePin.")
class ReissuePinPayload(Payload):
    person: Person | None = strawberry.field(description="The person, with the new PIN.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Link a guardian to a child.")
class LinkGuardianInput:
    guardian_id: strawberry.ID = strawberry.field(description="The guardian (a Person).")
    child_id: strawberry.ID = strawberry.field(description="The child (a Person).")
    kind: GuardianKind = strawberry.field(description="How the guardian is tied to the child.")
    valid_from: date | None = strawberry.field(default=None, description="Start; today if unset.")
    guardian_pin: str | None = strawberry.field(
        default=None,
        description="The guardian's current PIN: needed when you may not read the guardian yet.",
    )


@strawberry.type(description="Result of linkGuardian.")
class LinkGuardianPayload(Payload):
    guardianship: Guardianship | None = strawberry.field(description="The new link.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Appoint a person to a post.")
class AppointStaffInput:
    person_id: strawberry.ID = strawberry.field(description="The person.")
    institution_id: strawberry.ID = strawberry.field(description="The institution.")
    role: StaffRole = strawberry.field(description="The post.")
    title: str | None = strawberry.field(default=None, description="Title, as named locally.")
    subject: str | None = strawberry.field(default=None, description="Subject taught.")
    rate: float = strawberry.field(default=1.0, description="Share of a full-time post.")
    start_date: date = strawberry.field(description="First day in the post.")
    pin: str | None = strawberry.field(
        default=None, description="The person's current PIN: needed when you may not read them yet."
    )


@strawberry.type(description="Result of appointStaff.")
class AppointStaffPayload(Payload):
    staff_position: StaffPosition | None = strawberry.field(description="The new post.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type
class Mutation:
    @mutation(
        "people.register_person",
        RegisterPersonPayload,
        description="Register a person (officers and school administrators).",
    )
    async def register_person(
        session: AsyncSession, ctx: Context, input: RegisterPersonInput
    ) -> Any:
        return await people_service.register_person(
            session,
            ctx.principal,
            pin=input.pin.strip(),
            first_name=input.first_name,
            last_name=input.last_name,
            patronymic=input.patronymic,
            birth_date=input.birth_date,
            sex=input.sex,
            registered_district_id=pk_of(
                input.registered_district_id, "District", field="registeredDistrictId"
            )
            if input.registered_district_id
            else None,
            registered_address=input.registered_address,
        )

    @mutation(
        "people.reissue_pin",
        ReissuePinPayload,
        description="Give a person a new PIN; the old one stays in the history.",
    )
    async def reissue_pin(session: AsyncSession, ctx: Context, input: ReissuePinInput) -> Any:
        return await people_service.reissue_pin(
            session,
            ctx.principal,
            person_id=pk_of(input.person_id, "Person", field="personId"),
            new_pin=input.new_pin.strip(),
            reason=input.reason,
        )

    @mutation(
        "people.link_guardian", LinkGuardianPayload, description="Link a guardian to a child."
    )
    async def link_guardian(session: AsyncSession, ctx: Context, input: LinkGuardianInput) -> Any:
        return await people_service.link_guardian(
            session,
            ctx.principal,
            guardian_id=pk_of(input.guardian_id, "Person", field="guardianId"),
            child_id=pk_of(input.child_id, "Person", field="childId"),
            kind=input.kind,
            valid_from=input.valid_from,
            guardian_pin=input.guardian_pin,
        )

    @mutation(
        "people.appoint_staff",
        AppointStaffPayload,
        description="Appoint a person to a post at an institution you manage.",
    )
    async def appoint_staff(session: AsyncSession, ctx: Context, input: AppointStaffInput) -> Any:
        return await people_service.appoint_staff(
            session,
            ctx.principal,
            person_id=pk_of(input.person_id, "Person", field="personId"),
            institution_id=pk_of(input.institution_id, "Institution", field="institutionId"),
            role=input.role,
            title=input.title,
            subject=input.subject,
            rate=input.rate,
            start_date=input.start_date,
            pin=input.pin,
        )
