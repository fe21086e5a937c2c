"""The open education portal in the graph: open courses with their modules, assessments and
runs, students' enrollments with results and certificates, and the public certificate check."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import strawberry

from models import AssessmentKind as AssessmentKindEnum
from models import CourseEnrollmentStatus as CourseEnrollmentStatusEnum
from resolvers import content as content_service
from resolvers.content.loaders import (
    AssessmentsByCourseLoader,
    CertificateByCourseEnrollmentLoader,
    CertificateByIdLoader,
    CourseEnrollmentByIdLoader,
    CourseRunByIdLoader,
    ModulesByCourseLoader,
    OpenCourseByIdLoader,
    ResultsByCourseEnrollmentLoader,
    RunsByCourseLoader,
)
from resolvers.context import Context, Info
from resolvers.relay import encode_id
from schema.abroad.types import StudyLevel as StudyLevelEnum
from schema.common import Connection, Node
from schema.fields import ChildPages, connection
from schema.institutions import Language as LanguageEnum
from schema.institutions import institution_of
from schema.node import fetched_by, loaded

if TYPE_CHECKING:
    from schema.institutions import Institution

InstitutionT = Annotated["Institution", strawberry.lazy("schema.institutions")]

strawberry.enum(AssessmentKindEnum, name="AssessmentKind", description="What an assessment is.")
AssessmentKind: TypeAlias = AssessmentKindEnum
strawberry.enum(
    CourseEnrollmentStatusEnum,
    name="CourseEnrollmentStatus",
    description="Enrolled, or completed (with a certificate).",
)
CourseEnrollmentStatus: TypeAlias = CourseEnrollmentStatusEnum


@strawberry.type(description="A module of an open course.")
class CourseModule:
    position: int = strawberry.field(description="Its place, from 1.")
    title: str = strawberry.field(description="Title.")
    summary: str | None = strawberry.field(description="What it covers.")
    hours: Decimal = strawberry.field(description="Study hours.")


@strawberry.type(description="An assessment of an open course and its weight.")
class CourseAssessment:
    assessment_pk: strawberry.Private[int]
    position: int = strawberry.field(description="Its place, from 1.")
    title: str = strawberry.field(description="Title.")
    kind: AssessmentKind = strawberry.field(description="Quiz, assignment, project or exam.")
    weight: int = strawberry.field(description="Its share of the final score, in percent.")
    required: bool = strawberry.field(description="A result is needed to complete the course.")

    @classmethod
    def from_row(cls, row: Any) -> CourseAssessment:
        return cls(
            assessment_pk=row.id,
            position=row.position,
            title=row.title,
            kind=row.kind,
            weight=row.weight,
            required=row.required,
        )

    @strawberry.field(description="The assessment's ID, to record results against.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("CourseAssessment", self.assessment_pk))


@strawberry.enum(description="Orders of course run lists.")
class CourseRunOrder(enum.Enum):
    STARTS_ON = "STARTS_ON"


@fetched_by(OpenCourseByIdLoader)
@strawberry.type(description="A course a university offers on the open education portal.")
class OpenCourse(Node):
    pk: strawberry.Private[int]
    institution_pk: strawberry.Private[int]
    code: str = strawberry.field(description="The university's code of the course.")
    title: str = strawberry.field(description="Title.")
    description: str | None = strawberry.field(description="What it teaches.")
    language: LanguageEnum = strawberry.field(description="Language of instruction.")
    level: StudyLevelEnum = strawberry.field(description="Level of study.")
    credits: Decimal = strawberry.field(description="Credits (ECTS) it is worth.")
    programme_code: str = strawberry.field(description="Programme code of the classifier.")

    @classmethod
    def from_row(cls, row: Any) -> OpenCourse:
        return cls(
            id=strawberry.ID(encode_id("OpenCourse", row.id)),
            pk=row.id,
            institution_pk=row.institution_id,
            code=row.code,
            title=row.title,
            description=row.description,
            language=LanguageEnum(row.language),
            level=row.level,
            credits=row.credits,
            programme_code=row.programme_code,
        )

    @strawberry.field(description="The university offering it.")
    async def institution(self, info: Info) -> InstitutionT:
        return await institution_of(info, self.institution_pk)

    @strawberry.field(description="Its modules, in order.")
    async def modules(self, info: Info) -> list[CourseModule]:
        rows = await ModulesByCourseLoader(info.context).load(self.pk)
        return [
            CourseModule(position=r.position, title=r.title, summary=r.summary, hours=r.hours)
            for r in rows
        ]

    @strawberry.field(description="Its assessments, in order.")
    async def assessments(self, info: Info) -> list[CourseAssessment]:
        rows = await AssessmentsByCourseLoader(info.context).load(self.pk)
        return [CourseAssessment.from_row(r) for r in rows]

    @connection(Connection["CourseRun"], description="Its runs, the earliest first.")
    def runs(self, ctx: Context, order_by: CourseRunOrder = CourseRunOrder.STARTS_ON) -> ChildPages:
        ordering = content_service.RUN_ORDERINGS[order_by.value]
        return ChildPages(RunsByCourseLoader(ctx), self.pk, None, ordering, CourseRun.from_row)


@fetched_by(CourseRunByIdLoader)
@strawberry.type(description="One offering of an open course: dates, capacity, who may enroll.")
class CourseRun(Node):
    pk: strawberry.Private[int]
    course_pk: strawberry.Private[int]
    starts_on: date = strawberry.field(description="First day.")
    ends_on: date = strawberry.field(description="Last day.")
    enrollment_closes_on: date = strawberry.field(description="Last day to enroll.")
    capacity: int | None = strawberry.field(description="Places (null: unlimited).")
    enrolled: int = strawberry.field(description="Learners enrolled.")
    open_to_all: bool = strawberry.field(
        description="Anyone may enroll (otherwise students of universities only)."
    )
    pass_mark: int = strawberry.field(description="The final score that completes it, 0-100.")

    @classmethod
    def from_row(cls, row: Any) -> CourseRun:
        return cls(
            id=strawberry.ID(encode_id("CourseRun", row.id)),
            pk=row.id,
            course_pk=row.course_id,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            enrollment_closes_on=row.enrollment_closes_on,
            capacity=row.capacity,
            enrolled=row.enrolled,
            open_to_all=row.open_to_all,
            pass_mark=row.pass_mark,
        )

    @strawberry.field(description="Places left (null: unlimited).")
    def places_left(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.enrolled)

    @strawberry.field(description="The course.")
    async def course(self, info: Info) -> OpenCourse:
        return OpenCourse.from_row(await OpenCourseByIdLoader(info.context).load(self.course_pk))


@strawberry.type(description="A learner's score in one assessment.")
class AssessmentResult:
    assessment_pk: strawberry.Private[int]
    score: Decimal = strawberry.field(description="Score, 0-100.")

    @strawberry.field(description="The assessment's ID.")
    def assessment_id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("CourseAssessment", self.assessment_pk))


@fetched_by(CertificateByIdLoader)
@strawberry.type(description="The certificate of a completed open course.")
class CourseCertificate(Node):
    pk: strawberry.Private[int]
    number: str = strawberry.field(description="The number anyone can check.")
    issued_on: date = strawberry.field(description="Date of issue.")
    revoked_on: date | None = strawberry.field(description="Revoked on, if it was.")

    @classmethod
    def from_row(cls, row: Any) -> CourseCertificate:
        return cls(
            id=strawberry.ID(encode_id("CourseCertificate", row.id)),
            pk=row.id,
            number=row.number,
            issued_on=row.issued_on,
            revoked_on=row.revoked_on,
        )


@fetched_by(CourseEnrollmentByIdLoader)
@strawberry.type(description="A learner in a course run, with results and recognised credits.")
class CourseEnrollment(Node):
    pk: strawberry.Private[int]
    run_pk: strawberry.Private[int]
    recognised_by_pk: strawberry.Private[int | None]
    status: CourseEnrollmentStatus = strawberry.field(description="Enrolled or completed.")
    final_score: Decimal | None = strawberry.field(description="The weighted score, once done.")
    completed_on: date | None = strawberry.field(description="When it was completed.")
    recognised_credits: Decimal | None = strawberry.field(
        description="Credits the learner's own university recognised."
    )
    recognised_on: date | None = strawberry.field(description="When they were recognised.")

    @classmethod
    def from_row(cls, row: Any) -> CourseEnrollment:
        return cls(
            id=strawberry.ID(encode_id("CourseEnrollment", row.id)),
            pk=row.id,
            run_pk=row.run_id,
            recognised_by_pk=row.recognised_by_institution_id,
            status=row.status,
            final_score=row.final_score,
            completed_on=row.completed_on,
            recognised_credits=row.recognised_credits,
            recognised_on=row.recognised_on,
        )

    @strawberry.field(description="The run.")
    async def run(self, info: Info) -> CourseRun:
        return CourseRun.from_row(await CourseRunByIdLoader(info.context).load(self.run_pk))

    @strawberry.field(description="Results recorded so far.")
    async def results(self, info: Info) -> list[AssessmentResult]:
        rows = await ResultsByCourseEnrollmentLoader(info.context).load(self.pk)
        return [AssessmentResult(assessment_pk=r.assessment_id, score=r.score) for r in rows]

    @strawberry.field(description="The certificate, once issued.")
    async def certificate(self, info: Info) -> CourseCertificate | None:
        return await loaded(
            CertificateByCourseEnrollmentLoader(info.context), self.pk, CourseCertificate.from_row
        )

    @strawberry.field(description="The university that recognised the credits.")
    async def recognised_by(self, info: Info) -> InstitutionT | None:
        if self.recognised_by_pk is None:
            return None
        return await institution_of(info, self.recognised_by_pk)


@strawberry.type(description="What anyone may learn of a certificate by its number.")
class CertificateCheck:
    number: str = strawberry.field(description="The certificate's number.")
    valid: bool = strawberry.field(description="Issued and not revoked.")
    issued_on: date = strawberry.field(description="Date of issue.")
    revoked_on: date | None = strawberry.field(description="Revoked on, if it was.")
    completed_on: date | None = strawberry.field(description="When the course was completed.")
    final_score: Decimal | None = strawberry.field(description="The final score, 0-100.")
    course_code: str = strawberry.field(description="The course's code.")
    course_title: str = strawberry.field(description="The course's title.")
    credits: Decimal = strawberry.field(description="Credits the course is worth.")
    institution_name: str = strawberry.field(description="The university that issued it.")
    holder_initials: str = strawberry.field(
        description="The holder's initials (to compare with the paper; no other personal data)."
    )

    @classmethod
    def from_check(cls, check: content_service.CertificateCheck) -> CertificateCheck:
        return cls(
            number=check.number,
            valid=check.valid,
            issued_on=check.issued_on,
            revoked_on=check.revoked_on,
            completed_on=check.completed_on,
            final_score=check.final_score,
            course_code=check.course_code,
            course_title=check.course_title,
            credits=check.credits,
            institution_name=check.institution_name,
            holder_initials=check.holder_initials,
        )
