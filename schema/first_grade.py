"""First-grade e-enrollment: applications, schools' quotas and the workflow's mutations."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any, TypeAlias

import strawberry
from sqlalchemy import select

from models import FirstGradeQuota as FirstGradeQuotaModel
from models import FirstGradeStage as FirstGradeStageEnum
from models import FirstGradeStatus as FirstGradeStatusEnum
from models import RejectionReason as RejectionReasonEnum
from resolvers import first_grade as first_grade_service
from resolvers.context import Context, Info
from resolvers.enrollments.loaders import EnrollmentByIdLoader
from resolvers.first_grade.loaders import (
    FirstGradeApplicationByIdLoader,
    FirstGradeHistoryByApplicationLoader,
    FirstGradeQuotaByIdLoader,
)
from resolvers.geography.loaders import DistrictByIdLoader
from resolvers.institutions.loaders import InstitutionByIdLoader
from resolvers.intake.loaders import ApplicantByIdLoader
from resolvers.mutations import perform
from resolvers.relay import encode_id
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
    require_signed_in,
    user_errors,
)
from schema.enrollments import Enrollment
from schema.geography import District
from schema.institutions import Institution, Language
from schema.intake import BenefitCategory, BenefitStatus, IntakeSeason, benefit_of, season_of
from schema.node import node_type, optional_pk, pk_of, query_pk
from schema.people import Person

strawberry.enum(
    FirstGradeStatusEnum,
    name="FirstGradeApplicationStatus",
    description="Where a first-grade application stands.",
)
FirstGradeApplicationStatus: TypeAlias = FirstGradeStatusEnum
strawberry.enum(
    FirstGradeStageEnum,
    name="FirstGradeStage",
    description="The stage an application was made in: catchment (stage 1), actual residence "
    "(stage 2), or the director's enrollment after the season.",
)
FirstGradeStage: TypeAlias = FirstGradeStageEnum
strawberry.enum(
    RejectionReasonEnum,
    name="FirstGradeRejectionReason",
    description="Why a school rejected an application (stable codes).",
)
FirstGradeRejectionReason: TypeAlias = RejectionReasonEnum


@strawberry.type(description="One status a first-grade application went through.")
class FirstGradeStatusChange:
    status: FirstGradeApplicationStatus = strawberry.field(description="The new status.")
    at: datetime = strawberry.field(description="When.")
    actor: str = strawberry.field(description="Who (the caller's subject).")
    reason: str | None = strawberry.field(description="Why, if said.")


@strawberry.type(description="A guardian's application for a child's place in grade 1 (or 2).")
class FirstGradeApplication(Node):
    pk: strawberry.Private[int]
    row: strawberry.Private[Any]
    language: Language = strawberry.field(description="Language of instruction chosen.")
    grade_level: int = strawberry.field(description="Entry grade by the 12-year rule.")
    finished_preschool_programme: bool = strawberry.field(
        description="The child finished the pre-school programme."
    )
    stage: FirstGradeStage = strawberry.field(description="The stage it was made in.")
    birth_certificate: str = strawberry.field(description="Birth certificate series and number.")
    address: str | None = strawberry.field(description="The address the stage counts.")
    catchment: bool = strawberry.field(description="That address is in the school's catchment.")
    benefit_status: BenefitStatus = strawberry.field(description="The claimed benefit's proof.")
    applied_at: datetime = strawberry.field(description="Time of application (priority).")
    status: FirstGradeApplicationStatus = strawberry.field(description="Where it stands.")
    rejection_reason: FirstGradeRejectionReason | None = strawberry.field(
        description="Why it was rejected."
    )

    @classmethod
    def from_row(cls, row: Any) -> FirstGradeApplication:
        return cls(
            id=strawberry.ID(encode_id("FirstGradeApplication", row.id)),
            pk=row.id,
            row=row,
            language=row.language,
            grade_level=row.grade_level,
            finished_preschool_programme=row.finished_preschool_programme,
            stage=row.stage,
            birth_certificate=row.birth_certificate,
            address=row.address,
            catchment=row.catchment,
            benefit_status=row.benefit_status,
            applied_at=row.applied_at,
            status=row.status,
            rejection_reason=row.rejection_reason,
        )

    @strawberry.field(description="The child.")
    async def child(self, info: Info) -> Person | None:
        row = await ApplicantByIdLoader(info.context).load(self.row.child_id)
        return Person.from_row(row) if row else None

    @strawberry.field(description="The guardian who applied.")
    async def guardian(self, info: Info) -> Person | None:
        row = await ApplicantByIdLoader(info.context).load(self.row.guardian_id)
        return Person.from_row(row) if row else None

    @strawberry.field(description="The chosen school.")
    async def school(self, info: Info) -> Institution:
        row = await InstitutionByIdLoader(info.context).load(self.row.school_id)
        return Institution.from_row(row)

    @strawberry.field(description="The season.")
    async def season(self, info: Info) -> IntakeSeason:
        return await season_of(info, self.row.season_id)

    @strawberry.field(description="District of the address the stage counts.")
    async def address_district(self, info: Info) -> District | None:
        if self.row.address_district_id is None:
            return None
        row = await DistrictByIdLoader(info.context).load(self.row.address_district_id)
        return District.from_row(row) if row else None

    @strawberry.field(description="The benefit category claimed, if any.")
    async def benefit_category(self, info: Info) -> BenefitCategory | None:
        return await benefit_of(info, self.row.benefit_category_id)

    @strawberry.field(description="The school enrollment admission opened.")
    async def enrollment(self, info: Info) -> Enrollment | None:
        if self.row.enrollment_id is None:
            return None
        row = await EnrollmentByIdLoader(info.context).load(self.row.enrollment_id)
        return Enrollment.from_row(row) if row else None

    @strawberry.field(description="Every status it went through, oldest first.")
    async def status_history(self, info: Info) -> list[FirstGradeStatusChange]:
        rows = await FirstGradeHistoryByApplicationLoader(info.context).load(self.pk)
        return [
            FirstGradeStatusChange(status=r.status, at=r.at, actor=r.actor, reason=r.reason)
            for r in rows
        ]


@node_type("FirstGradeApplication")
async def fetch_first_grade_application(ctx: Context, pk: int) -> FirstGradeApplication | None:
    row = await FirstGradeApplicationByIdLoader(ctx).load(pk)
    return FirstGradeApplication.from_row(row) if row else None


@strawberry.type(description="A school's places in an entry grade for a season.")
class FirstGradeQuota(Node):
    pk: strawberry.Private[int]
    school_pk: strawberry.Private[int]
    season_pk: strawberry.Private[int]
    grade_level: int = strawberry.field(description="Entry grade (1 or 2).")
    classes: int = strawberry.field(description="Classes opened.")
    places: int = strawberry.field(description="Places in all.")
    admitted: int = strawberry.field(description="Places taken by admissions.")

    @classmethod
    def from_row(cls, row: Any) -> FirstGradeQuota:
        return cls(
            id=strawberry.ID(encode_id("FirstGradeQuota", row.id)),
            pk=row.id,
            school_pk=row.school_id,
            season_pk=row.season_id,
            grade_level=row.grade_level,
            classes=row.classes,
            places=row.places,
            admitted=row.admitted,
        )

    @strawberry.field(description="Places still free.")
    def free(self) -> int:
        return self.places - self.admitted

    @strawberry.field(description="The school.")
    async def school(self, info: Info) -> Institution:
        row = await InstitutionByIdLoader(info.context).load(self.school_pk)
        return Institution.from_row(row)

    @strawberry.field(description="The season.")
    async def season(self, info: Info) -> IntakeSeason:
        return await season_of(info, self.season_pk)


@node_type("FirstGradeQuota")
async def fetch_first_grade_quota(ctx: Context, pk: int) -> FirstGradeQuota | None:
    row = await FirstGradeQuotaByIdLoader(ctx).load(pk)
    return FirstGradeQuota.from_row(row) if row else None


# --- queries -------------------------------------------------------------------------------


@strawberry.input(description="Narrow the application list; every field given must hold.")
class FirstGradeApplicationFilter:
    season_id: strawberry.ID | None = strawberry.field(default=None, description="This season.")
    school_id: strawberry.ID | None = strawberry.field(default=None, description="This school.")
    status: FirstGradeApplicationStatus | None = strawberry.field(
        default=None, description="This status."
    )
    grade_level: int | None = strawberry.field(default=None, description="This entry grade.")
    child_id: strawberry.ID | None = strawberry.field(default=None, description="This child.")


@strawberry.enum(description="Orders of the first-grade application list.")
class FirstGradeApplicationOrder(enum.Enum):
    APPLIED_AT = "APPLIED_AT"
    CATCHMENT_FIRST = "CATCHMENT_FIRST"
    ID = "ID"


def _filter(flt: FirstGradeApplicationFilter | None) -> first_grade_service.ApplicationFilter:
    if flt is None:
        return first_grade_service.ApplicationFilter()
    return first_grade_service.ApplicationFilter(
        season_id=query_pk(flt.season_id, "IntakeSeason") if flt.season_id else None,
        school_id=query_pk(flt.school_id, "Institution") if flt.school_id else None,
        status=flt.status,
        grade_level=flt.grade_level,
        child_id=query_pk(flt.child_id, "Person") if flt.child_id else None,
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="First-grade applications you may read: a guardian their children's, a "
        "school admin their school's, officers their district's or region's, the ministry all."
    )
    async def first_grade_applications(
        self,
        info: Info,
        filter: FirstGradeApplicationFilter | None = None,
        order_by: FirstGradeApplicationOrder = FirstGradeApplicationOrder.APPLIED_AT,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[FirstGradeApplication]:
        ctx = info.context
        require_signed_in(ctx, "Sign in to read applications")
        args = bounds(first, after, last, before)
        stmt = first_grade_service.applications_query(ctx.principal, _filter(filter))
        ordering = first_grade_service.APPLICATION_ORDERINGS[order_by.value]
        return await list_connection(ctx, stmt, args, ordering, FirstGradeApplication.from_row)

    @strawberry.field(description="A school's entry-grade quotas for a season (public).")
    async def first_grade_quotas(
        self,
        info: Info,
        season_id: Annotated[strawberry.ID, strawberry.argument(description="The season.")],
        school_id: Annotated[strawberry.ID, strawberry.argument(description="The school.")],
    ) -> list[FirstGradeQuota]:
        stmt = (
            select(*first_grade_service.QUOTA_COLUMNS)
            .where(
                FirstGradeQuotaModel.season_id == query_pk(season_id, "IntakeSeason"),
                FirstGradeQuotaModel.school_id == query_pk(school_id, "Institution"),
            )
            .order_by(FirstGradeQuotaModel.grade_level)
        )
        rows = await info.context.run(lambda s: s.execute(stmt))
        return [FirstGradeQuota.from_row(r) for r in rows]


# --- mutations -----------------------------------------------------------------------------


@strawberry.input(description="Apply for a child's place in grade 1 (or 2) of a school.")
class ApplyForFirstGradeInput:
    child_id: strawberry.ID = strawberry.field(description="The child (a Person).")
    pin: str = strawberry.field(description="The child's 14-digit PIN.")
    birth_certificate: str = strawberry.field(description="Birth certificate series and number.")
    school_id: strawberry.ID = strawberry.field(description="The chosen school.")
    language: Language = strawberry.field(description="Language of instruction.")
    finished_preschool_programme: bool = strawberry.field(
        default=False, description="The child finished the pre-school programme."
    )
    benefit_category: str | None = strawberry.field(
        default=None, description="Code of a benefit category of the season, if any."
    )
    benefit_proof: str | None = strawberry.field(
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
class FirstGradeApplicationPayload:
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
class FirstGradeQuotaPayload:
    quota: FirstGradeQuota | None = strawberry.field(description="The quota.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Allocate places of a season's schools.")
class AllocateFirstGradePlacesInput:
    season_id: strawberry.ID = strawberry.field(description="The season.")
    school_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this school (all schools in your scope if unset)."
    )


@strawberry.type(description="Result of allocateFirstGradePlaces.")
class AllocateFirstGradePlacesPayload:
    admitted: int = strawberry.field(description="Applications admitted now.")
    waitlisted: int = strawberry.field(description="Verified applications left waiting.")
    rejected: int = strawberry.field(description="Rejected: the child is at a school already.")
    schools: int = strawberry.field(description="School grades allocated.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


def _payload(value: Any, problems: Any) -> FirstGradeApplicationPayload:
    return FirstGradeApplicationPayload(
        application=FirstGradeApplication.from_row(value) if value else None,
        user_errors=user_errors(problems),
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Apply for a child's place in first grade (guardian).")
    async def apply_for_first_grade(
        self, info: Info, input: ApplyForFirstGradeInput
    ) -> FirstGradeApplicationPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "enrollment.apply_for_first_grade",
            lambda s: first_grade_service.apply_for_first_grade(
                s,
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
            ),
        )
        return _payload(result.value, result.problems)

    @strawberry.mutation(description="Verify or reject an application's documents (school).")
    async def verify_first_grade_application(
        self, info: Info, input: VerifyFirstGradeApplicationInput
    ) -> FirstGradeApplicationPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "enrollment.verify_first_grade_application",
            lambda s: first_grade_service.verify_application(
                s,
                ctx.principal,
                application_id=pk_of(
                    input.application_id, "FirstGradeApplication", field="applicationId"
                ),
                documents_valid=input.documents_valid,
                benefit_confirmed=input.benefit_confirmed,
                rejection_reason=input.rejection_reason,
                note=input.note,
            ),
        )
        return _payload(result.value, result.problems)

    @strawberry.mutation(
        description="Withdraw a submitted, verified or waitlisted application (the child's "
        "guardian, or the school's staff); the child may then apply again. An admitted child "
        "is enrolled: leaving school is `withdrawStudent`. Closed applications are refused "
        "with APPLICATION_CLOSED."
    )
    async def withdraw_first_grade_application(
        self, info: Info, input: WithdrawFirstGradeApplicationInput
    ) -> FirstGradeApplicationPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "enrollment.withdraw_first_grade_application",
            lambda s: first_grade_service.withdraw_first_grade_application(
                s,
                ctx.principal,
                application_id=pk_of(
                    input.application_id, "FirstGradeApplication", field="applicationId"
                ),
                reason=input.reason,
            ),
        )
        return _payload(result.value, result.problems)

    @strawberry.mutation(description="Set a school's entry-grade places (school or officer).")
    async def set_first_grade_quota(
        self, info: Info, input: SetFirstGradeQuotaInput
    ) -> FirstGradeQuotaPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "enrollment.set_first_grade_quota",
            lambda s: first_grade_service.set_quota(
                s,
                ctx.principal,
                season_id=pk_of(input.season_id, "IntakeSeason", field="seasonId"),
                school_id=pk_of(input.school_id, "Institution", field="schoolId"),
                grade_level=input.grade_level,
                classes=input.classes,
                places=input.places,
            ),
        )
        return FirstGradeQuotaPayload(
            quota=FirstGradeQuota.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(
        description="Fill schools' places by priority (catchment, benefit categories, time of "
        "application); admission ends kindergarten places and queue applications."
    )
    async def allocate_first_grade_places(
        self, info: Info, input: AllocateFirstGradePlacesInput
    ) -> AllocateFirstGradePlacesPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "enrollment.allocate_first_grade_places",
            lambda s: first_grade_service.allocate_first_grade_places(
                s,
                ctx.principal,
                season_id=pk_of(input.season_id, "IntakeSeason", field="seasonId"),
                school_id=optional_pk(input.school_id, "Institution", field="schoolId"),
            ),
        )
        value = result.value
        return AllocateFirstGradePlacesPayload(
            admitted=value.admitted if value else 0,
            waitlisted=value.waitlisted if value else 0,
            rejected=value.rejected if value else 0,
            schools=value.schools if value else 0,
            user_errors=user_errors(result.problems),
        )
