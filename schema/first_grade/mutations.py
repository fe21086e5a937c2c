"""First-grade enrollment's mutations: applying, the school's check, withdrawal, quotas and
allocation."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers import first_grade as first_grade_service
from resolvers.context import Context
from resolvers.mutations import MutationResult
from schema.common import UserError, user_errors
from schema.fields import Payload, mutation, personal
from schema.first_grade.types import (
    FirstGradeApplication,
    FirstGradeQuota,
    FirstGradeRejectionReason,
)
from schema.institutions import Language
from schema.node import optional_pk, pk_of


@strawberry.input(description="Apply for a child's place in grade 1 (or 2) of a school.")
class ApplyForFirstGradeInput:
    child_id: strawberry.ID = strawberry.field(description="The child (a Person).")
    pin: str = strawberry.field(description="The child's 14-digit PIN.")
    birth_certificate: str = personal(description="Birth certificate series and number.")
    school_id: strawberry.ID = strawberry.field(description="The chosen school.")
    language: Language = strawberry.field(description="Language of instruction.")
    finished_preschool_programme: bool = strawberry.field(
        default=False, description="The child finished the pre-school programme."
    )
    benefit_category: str | None = strawberry.field(
        default=None, description="Code of a benefit category of the season, if any."
    )
    benefit_proof: str | None = personal(
        default=None, description="The document proving the benefit."
    )
    address_district_id: strawberry.ID | None = strawberry.field(
        default=None, description="District of actual residence (stage 2 and after)."
    )
    address: str | None = strawberry.field(
        default=None, description="Address of actual residence (stage 2 and after)."
    )
    contact_phone: str | None = strawberry.field(default=None, description="Contact phone.")


@strawberry.type(description="Result of a mutation on a first-grade application.")
class FirstGradeApplicationPayload(Payload):
    application: FirstGradeApplication | None = strawberry.field(description="The application.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Record the school's check of an application's documents.")
class VerifyFirstGradeApplicationInput:
    application_id: strawberry.ID = strawberry.field(description="The application.")
    documents_valid: bool = strawberry.field(description="The documents hold.")
    benefit_confirmed: bool | None = strawberry.field(
        default=None, description="The claimed benefit's proof holds."
    )
    rejection_reason: FirstGradeRejectionReason | None = strawberry.field(
        default=None, description="Required when the documents do not hold."
    )
    note: str | None = strawberry.field(default=None, description="A note for the history.")


@strawberry.input(description="Withdraw an application that is still open.")
class WithdrawFirstGradeApplicationInput:
    application_id: strawberry.ID = strawberry.field(
        description="The application (submitted, verified or waitlisted)."
    )
    reason: str | None = strawberry.field(
        default=None, description="Why, for the status history (at most 200 characters)."
    )


@strawberry.input(description="Set a school's places in an entry grade.")
class SetFirstGradeQuotaInput:
    season_id: strawberry.ID = strawberry.field(description="The season.")
    school_id: strawberry.ID = strawberry.field(description="The school.")
    grade_level: int = strawberry.field(default=1, description="Entry grade (1 or 2).")
    classes: int = strawberry.field(description="Classes to open.")
    places: int = strawberry.field(description="Places in all (at most classes x class size).")


@strawberry.type(description="Result of setFirstGradeQuota.")
class FirstGradeQuotaPayload(Payload):
    quota: FirstGradeQuota | None = strawberry.field(description="The quota.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Allocate places of a season's schools.")
class AllocateFirstGradePlacesInput:
    season_id: strawberry.ID = strawberry.field(description="The season.")
    school_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this school (all schools in your scope if unset)."
    )


@strawberry.type(description="Result of allocateFirstGradePlaces.")
class AllocateFirstGradePlacesPayload(Payload):
    admitted: int = strawberry.field(description="Applications admitted now.")
    waitlisted: int = strawberry.field(description="Verified applications left waiting.")
    rejected: int = strawberry.field(description="Rejected: the child is at a school already.")
    schools: int = strawberry.field(description="School grades allocated.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")

    @classmethod
    def from_result(cls, result: MutationResult[Any]) -> AllocateFirstGradePlacesPayload:
        """The allocation's four counts; all 0 when it was refused."""
        value = result.value
        return cls(
            admitted=value.admitted if value else 0,
            waitlisted=value.waitlisted if value else 0,
            rejected=value.rejected if value else 0,
            schools=value.schools if value else 0,
            user_errors=user_errors(result.problems),
        )


def _application_pk(application_id: strawberry.ID) -> int:
    return pk_of(application_id, "FirstGradeApplication", field="applicationId")


@strawberry.type
class Mutation:
    @mutation(
        "enrollment.apply_for_first_grade",
        FirstGradeApplicationPayload,
        description="Apply for a child's place in first grade (guardian).",
    )
    async def apply_for_first_grade(
        session: AsyncSession, ctx: Context, input: ApplyForFirstGradeInput
    ) -> Any:
        return await first_grade_service.apply_for_first_grade(
            session,
            ctx.principal,
            child_id=pk_of(input.child_id, "Person", field="childId"),
            pin=input.pin.strip(),
            birth_certificate=input.birth_certificate,
            school_id=pk_of(input.school_id, "Institution", field="schoolId"),
            language=input.language,
            finished_preschool_programme=input.finished_preschool_programme,
            benefit_code=input.benefit_category,
            benefit_proof=input.benefit_proof,
            address_district_id=optional_pk(
                input.address_district_id, "District", field="addressDistrictId"
            ),
            address=input.address,
            contact_phone=input.contact_phone,
        )

    @mutation(
        "enrollment.verify_first_grade_application",
        FirstGradeApplicationPayload,
        description="Verify or reject an application's documents (school).",
    )
    async def verify_first_grade_application(
        session: AsyncSession, ctx: Context, input: VerifyFirstGradeApplicationInput
    ) -> Any:
        return await first_grade_service.verify_application(
            session,
            ctx.principal,
            application_id=_application_pk(input.application_id),
            documents_valid=input.documents_valid,
            benefit_confirmed=input.benefit_confirmed,
            rejection_reason=input.rejection_reason,
            note=input.note,
        )

    @mutation(
        "enrollment.withdraw_first_grade_application",
        FirstGradeApplicationPayload,
        description="Withdraw a submitted, verified or waitlisted application (the child's "
        "guardian, or the school's staff); the child may then apply again. An admitted child "
        "is enrolled: leaving school is `withdrawStudent`. Closed applications are refused "
        "with APPLICATION_CLOSED.",
    )
    async def withdraw_first_grade_application(
        session: AsyncSession, ctx: Context, input: WithdrawFirstGradeApplicationInput
    ) -> Any:
        return await first_grade_service.withdraw_first_grade_application(
            session,
            ctx.principal,
            application_id=_application_pk(input.application_id),
            reason=input.reason,
        )

    @mutation(
        "enrollment.set_first_grade_quota",
        FirstGradeQuotaPayload,
        description="Set a school's entry-grade places (school or officer).",
    )
    async def set_first_grade_quota(
        session: AsyncSession, ctx: Context, input: SetFirstGradeQuotaInput
    ) -> Any:
        return await first_grade_service.set_quota(
            session,
            ctx.principal,
            season_id=pk_of(input.season_id, "IntakeSeason", field="seasonId"),
            school_id=pk_of(input.school_id, "Institution", field="schoolId"),
            grade_level=input.grade_level,
            classes=input.classes,
            places=input.places,
        )

    @mutation(
        "enrollment.allocate_first_grade_places",
        AllocateFirstGradePlacesPayload,
        description="Fill schools' places by priority (catchment, benefit categories, time of "
        "application); admission ends kindergarten places and queue applications.",
    )
    async def allocate_first_grade_places(
        session: AsyncSession, ctx: Context, input: AllocateFirstGradePlacesInput
    ) -> Any:
        return await first_grade_service.allocate_first_grade_places(
            session,
            ctx.principal,
            season_id=pk_of(input.season_id, "IntakeSeason", field="seasonId"),
            school_id=optional_pk(input.school_id, "Institution", field="schoolId"),
        )
