"""First-grade enrollment's types: applications with their status history, and schools'
quotas."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeAlias

import strawberry

from models import FirstGradeStage as FirstGradeStageEnum
from models import FirstGradeStatus as FirstGradeStatusEnum
from models import RejectionReason as RejectionReasonEnum
from resolvers import people as people_service
from resolvers.context import Info
from resolvers.first_grade.loaders import (
    FirstGradeApplicantByIdLoader,
    FirstGradeApplicationByIdLoader,
    FirstGradeHistoryByApplicationLoader,
    FirstGradeQuotaByIdLoader,
)
from resolvers.geography.loaders import DistrictByIdLoader
from resolvers.institutions.loaders import InstitutionByIdLoader
from resolvers.relay import encode_id
from schema.common import Node
from schema.enrollments import Enrollment
from schema.fields import personal
from schema.geography import District
from schema.institutions import Institution, Language
from schema.intake import (
    BenefitCategory,
    BenefitStatus,
    IntakeSeason,
    applicant_of,
    benefit_of,
    enrollment_of,
    season_of,
)
from schema.node import fetched_by
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


def _address(root: Any, info: Info) -> str | None:
    """The address the applying guardian gave: hidden from the child's other guardian."""
    row = root.row
    if not people_service.reads_contacts_given_by(info.context.principal, row.guardian_id):
        return None
    address: str | None = row.address
    return address


@fetched_by(FirstGradeApplicationByIdLoader)
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
    birth_certificate: str = personal(description="Birth certificate series and number.")
    address: str | None = strawberry.field(
        description="The address the stage counts.", resolver=_address
    )
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
            catchment=row.catchment,
            benefit_status=row.benefit_status,
            applied_at=row.applied_at,
            status=row.status,
            rejection_reason=row.rejection_reason,
        )

    @strawberry.field(description="The child.")
    async def child(self, info: Info) -> Person | None:
        return await applicant_of(info, self.row.child_id, FirstGradeApplicantByIdLoader)

    @strawberry.field(description="The guardian who applied.")
    async def guardian(self, info: Info) -> Person | None:
        return await applicant_of(info, self.row.guardian_id, FirstGradeApplicantByIdLoader)

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
        return await enrollment_of(info, self.row.enrollment_id)

    @strawberry.field(description="Every status it went through, oldest first.")
    async def status_history(self, info: Info) -> list[FirstGradeStatusChange]:
        rows = await FirstGradeHistoryByApplicationLoader(info.context).load(self.pk)
        return [
            FirstGradeStatusChange(status=r.status, at=r.at, actor=r.actor, reason=r.reason)
            for r in rows
        ]


@fetched_by(FirstGradeQuotaByIdLoader)
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
