"""Enrollments: who is (or was) at which institution, in which grade or programme."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from models import ExitReason as ExitReasonEnum
from resolvers import enrollments as enrollments_service
from resolvers.context import Context, Info
from resolvers.enrollments.loaders import EnrollmentByIdLoader
from resolvers.institutions.loaders import InstitutionByIdLoader
from resolvers.people.loaders import PersonByIdLoader
from resolvers.relay import encode_id
from schema.common import Connection, Node, UserError
from schema.enrollment_lists import (
    EnrollmentFilterInput,
    EnrollmentOrder,
    ExitReason,
    Sector,
    enrollment_filter,
)
from schema.fields import Listing, Payload, connection, mutation
from schema.institutions import Institution, institution_of
from schema.node import fetched_by, loaded, pk_of
from schema.people import Person
from schema.permissions import signed_in


@fetched_by(EnrollmentByIdLoader)
@strawberry.type(description="A person at an institution over a period (Ed-Fi association).")
class Enrollment(Node):
    pk: strawberry.Private[int]
    person_pk: strawberry.Private[int]
    institution_pk: strawberry.Private[int]
    previous_pk: strawberry.Private[int | None]
    sector: Sector = strawberry.field(description="Level of education.")
    entry_date: date = strawberry.field(description="First day.")
    exit_date: date | None = strawberry.field(description="Last day, if ended.")
    exit_reason: ExitReason | None = strawberry.field(description="Why it ended.")
    grade_level: int | None = strawberry.field(description="Grade 1-12 (schools).")
    programme: str | None = strawberry.field(description="Programme (colleges, universities).")
    class_group: str | None = strawberry.field(description="Class or group, e.g. 5B.")

    @classmethod
    def from_row(cls, row: Any) -> Enrollment:
        return cls(
            id=strawberry.ID(encode_id("Enrollment", row.id)),
            pk=row.id,
            person_pk=row.person_id,
            institution_pk=row.institution_id,
            previous_pk=row.previous_enrollment_id,
            sector=row.sector,
            entry_date=row.entry_date,
            exit_date=row.exit_date,
            exit_reason=row.exit_reason,
            grade_level=row.grade_level,
            programme=row.programme,
            class_group=row.class_group,
        )

    @strawberry.field(description="True while the enrollment has not ended.")
    def is_current(self) -> bool:
        return self.exit_date is None

    @strawberry.field(description="The enrolled person (null if you may not read them).")
    async def person(self, info: Info) -> Person | None:
        return await loaded(PersonByIdLoader(info.context), self.person_pk, Person.from_row)

    @strawberry.field(description="The institution.")
    async def institution(self, info: Info) -> Institution:
        return await institution_of(info, self.institution_pk)

    @strawberry.field(description="The enrollment this one continues after a transfer.")
    async def previous_enrollment(self, info: Info) -> Enrollment | None:
        loader = EnrollmentByIdLoader(info.context)
        return await loaded(loader, self.previous_pk, Enrollment.from_row)


@strawberry.type
class Query:
    @connection(
        Connection[Enrollment],
        description="Enrollments you may read.",
        permission_classes=[signed_in("Sign in to read enrollments")],
    )
    def enrollments(
        self,
        ctx: Context,
        filter: EnrollmentFilterInput | None = None,
        order_by: EnrollmentOrder = EnrollmentOrder.ID,
    ) -> Listing:
        stmt = enrollments_service.enrollments_query(ctx.principal, enrollment_filter(filter))
        ordering = enrollments_service.ENROLLMENT_ORDERINGS[order_by.value]
        return Listing(stmt, ordering, Enrollment.from_row)


@strawberry.input(description="Enroll a person at an institution.")
class EnrollStudentInput:
    person_id: strawberry.ID = strawberry.field(description="The person.")
    institution_id: strawberry.ID = strawberry.field(description="The institution.")
    entry_date: date = strawberry.field(description="First day.")
    grade_level: int | None = strawberry.field(default=None, description="Grade 1-12 (schools).")
    programme: str | None = strawberry.field(default=None, description="Programme (higher ed).")
    class_group: str | None = strawberry.field(default=None, description="Class, e.g. 1A.")
    pin: str | None = strawberry.field(
        default=None,
        description="The person's current PIN: needed when you may not read them yet.",
    )
    age_decision: str | None = strawberry.field(
        default=None,
        description="The reference of the commission's decision that admits the child outside "
        "the entry-age rule (grade) or the kindergarten age range; kept on the enrollment.",
    )


@strawberry.input(description="Move a pupil to another institution.")
class TransferStudentInput:
    enrollment_id: strawberry.ID = strawberry.field(description="The open enrollment to close.")
    to_institution_id: strawberry.ID = strawberry.field(description="The receiving institution.")
    date: date = strawberry.field(description="Last day at the old one, first at the new one.")
    grade_level: int | None = strawberry.field(
        default=None, description="Grade; unchanged if unset."
    )
    programme: str | None = strawberry.field(default=None, description="Programme, if any.")
    class_group: str | None = strawberry.field(default=None, description="Class at the new one.")
    pin: str | None = strawberry.field(
        default=None,
        description="The pupil's current PIN: needed unless you manage the current institution.",
    )
    age_decision: str | None = strawberry.field(
        default=None,
        description="The reference of the commission's decision that admits the pupil to the "
        "new grade outside the entry-age rule.",
    )


@strawberry.input(description="End an enrollment.")
class WithdrawStudentInput:
    enrollment_id: strawberry.ID = strawberry.field(description="The open enrollment.")
    date: date = strawberry.field(description="Last day.")
    reason: ExitReason = strawberry.field(
        default=ExitReasonEnum.WITHDRAWN, description="Why it ends (not TRANSFERRED)."
    )


@strawberry.type(description="Result of an enrollment mutation.")
class EnrollmentPayload(Payload):
    enrollment: Enrollment | None = strawberry.field(description="The enrollment opened or ended.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type
class Mutation:
    @mutation(
        "enrollments.enroll_student",
        EnrollmentPayload,
        description="Enroll a person at an institution you manage.",
    )
    async def enroll_student(session: AsyncSession, ctx: Context, input: EnrollStudentInput) -> Any:
        return await enrollments_service.enroll_student(
            session,
            ctx.principal,
            person_id=pk_of(input.person_id, "Person", field="personId"),
            institution_id=pk_of(input.institution_id, "Institution", field="institutionId"),
            entry_date=input.entry_date,
            grade_level=input.grade_level,
            programme=input.programme,
            class_group=input.class_group,
            pin=input.pin,
            age_decision=input.age_decision,
        )

    @mutation(
        "enrollments.transfer_student",
        EnrollmentPayload,
        description="Close an enrollment and open the next one, atomically.",
    )
    async def transfer_student(
        session: AsyncSession, ctx: Context, input: TransferStudentInput
    ) -> Any:
        moved = await enrollments_service.transfer_student(
            session,
            ctx.principal,
            enrollment_id=pk_of(input.enrollment_id, "Enrollment", field="enrollmentId"),
            to_institution_id=pk_of(
                input.to_institution_id, "Institution", field="toInstitutionId"
            ),
            transfer_date=input.date,
            grade_level=input.grade_level,
            programme=input.programme,
            class_group=input.class_group,
            pin=input.pin,
            age_decision=input.age_decision,
        )
        # The caller manages the receiving institution, so the new enrollment, the one it
        # continues and the institution are theirs to read: the payload reads none of them
        # again (issue 21, statements per mutation).
        await session.flush()
        enrollments = EnrollmentByIdLoader(ctx)
        enrollments.prime(moved.enrollment.id, moved.enrollment)
        enrollments.prime(moved.previous.id, moved.previous)
        InstitutionByIdLoader(ctx).prime(moved.institution.id, moved.institution)
        return moved.enrollment

    @mutation(
        "enrollments.withdraw_student",
        EnrollmentPayload,
        description="End an enrollment (withdrawal, graduation, ...).",
    )
    async def withdraw_student(
        session: AsyncSession, ctx: Context, input: WithdrawStudentInput
    ) -> Any:
        return await enrollments_service.withdraw_student(
            session,
            ctx.principal,
            enrollment_id=pk_of(input.enrollment_id, "Enrollment", field="enrollmentId"),
            exit_date=input.date,
            reason=input.reason,
        )
