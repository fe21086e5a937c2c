"""The open education portal's mutations: a university's course team offers courses, runs
them, records results and issues certificates; students enroll; the student's own university
recognises the credits."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers import content as content_service
from resolvers.content.loaders import (
    AssessmentsByCourseLoader,
    CourseRunByIdLoader,
    ModulesByCourseLoader,
)
from resolvers.context import Context
from schema.common import UserError
from schema.content.courses import CourseCertificate, CourseEnrollment, CourseRun, OpenCourse
from schema.content.inputs import (
    CreateCourseRunInput,
    CreateOpenCourseInput,
    EnrollInCourseRunInput,
    IssueCertificateInput,
    RecognizeCourseCreditsInput,
    RecordAssessmentResultInput,
)
from schema.fields import Payload, mutation
from schema.node import pk_of


@strawberry.type(description="Result of offering an open course.")
class OpenCoursePayload(Payload):
    course: OpenCourse | None = strawberry.field(description="The course.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of scheduling a course run.")
class CourseRunPayload(Payload):
    run: CourseRun | None = strawberry.field(description="The run.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of a course enrollment mutation.")
class CourseEnrollmentPayload(Payload):
    enrollment: CourseEnrollment | None = strawberry.field(description="The enrollment.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of issuing a certificate.")
class CourseCertificatePayload(Payload):
    certificate: CourseCertificate | None = strawberry.field(description="The certificate.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


def _enrollment_pk(input: Any) -> int:
    return pk_of(input.enrollment_id, "CourseEnrollment", field="enrollmentId")


@strawberry.type
class Mutation:
    @mutation(
        "content.create_open_course",
        OpenCoursePayload,
        description="Offer an open course from a university licensed for higher education "
        "(its course team).",
    )
    async def create_open_course(
        session: AsyncSession, ctx: Context, input: CreateOpenCourseInput
    ) -> Any:
        offered = await content_service.create_open_course(
            session,
            ctx.principal,
            institution_id=pk_of(input.institution_id, "Institution", field="institutionId"),
            spec=content_service.CourseSpec(
                code=input.code,
                title=input.title,
                description=input.description,
                language=input.language.value,
                level=input.level,
                credits=input.credits,
                programme_code=input.programme_code,
            ),
            modules=[
                content_service.ModuleSpec(title=m.title, hours=m.hours, summary=m.summary)
                for m in input.modules
            ],
            assessments=[
                content_service.AssessmentSpec(
                    title=a.title, kind=a.kind, weight=a.weight, required=a.required
                )
                for a in input.assessments
            ],
        )
        # The answer's modules and assessments are the rows the step wrote (a course's parts
        # have no row rule of their own).
        ModulesByCourseLoader(ctx).prime(offered.course.id, offered.modules)
        AssessmentsByCourseLoader(ctx).prime(offered.course.id, offered.assessments)
        return offered.course

    @mutation(
        "content.create_course_run",
        CourseRunPayload,
        description="Schedule a run of a course (its university's course team).",
    )
    async def create_course_run(
        session: AsyncSession, ctx: Context, input: CreateCourseRunInput
    ) -> Any:
        return await content_service.create_course_run(
            session,
            ctx.principal,
            course_id=pk_of(input.course_id, "OpenCourse", field="courseId"),
            starts_on=input.starts_on,
            ends_on=input.ends_on,
            enrollment_closes_on=input.enrollment_closes_on,
            capacity=input.capacity,
            open_to_all=input.open_to_all,
            pass_mark=input.pass_mark,
        )

    @mutation(
        "content.enroll_in_course_run",
        CourseEnrollmentPayload,
        description="Enroll yourself in a course run (students; anyone for open runs).",
    )
    async def enroll_in_course_run(
        session: AsyncSession, ctx: Context, input: EnrollInCourseRunInput
    ) -> Any:
        enrolled = await content_service.enroll_in_course_run(
            session, ctx.principal, run_id=pk_of(input.run_id, "CourseRun", field="runId")
        )
        # The answer's run is the row the step counted in (runs have no row rule).
        CourseRunByIdLoader(ctx).prime(enrolled.run.id, enrolled.run)
        return enrolled.enrollment

    @mutation(
        "content.record_assessment_result",
        CourseEnrollmentPayload,
        description="Record a learner's score in an assessment (the course team).",
    )
    async def record_assessment_result(
        session: AsyncSession, ctx: Context, input: RecordAssessmentResultInput
    ) -> Any:
        return await content_service.record_assessment_result(
            session,
            ctx.principal,
            enrollment_id=_enrollment_pk(input),
            assessment_id=pk_of(input.assessment_id, "CourseAssessment", field="assessmentId"),
            score=input.score,
        )

    @mutation(
        "content.issue_certificate",
        CourseCertificatePayload,
        description="Issue the certificate of a completed enrollment (the course team).",
    )
    async def issue_certificate(
        session: AsyncSession, ctx: Context, input: IssueCertificateInput
    ) -> Any:
        return await content_service.issue_certificate(
            session, ctx.principal, enrollment_id=_enrollment_pk(input)
        )

    @mutation(
        "content.recognize_course_credits",
        CourseEnrollmentPayload,
        description="Record the credits the learner's own university recognises for a "
        "completed course (that university's staff).",
    )
    async def recognize_course_credits(
        session: AsyncSession, ctx: Context, input: RecognizeCourseCreditsInput
    ) -> Any:
        return await content_service.recognize_course_credits(
            session, ctx.principal, enrollment_id=_enrollment_pk(input), credits=input.credits
        )
