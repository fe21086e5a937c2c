"""People in the graph: persons with their PIN history, guardianships and staff posts."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import strawberry

from models import GuardianKind as GuardianKindEnum
from models import PinChangeReason as PinChangeReasonEnum
from models import Sex as SexEnum
from models import StaffRole as StaffRoleEnum
from resolvers.context import Context, Info
from resolvers.enrollments.loaders import EnrollmentsByPersonLoader
from resolvers.geography.loaders import DistrictByIdLoader
from resolvers.people.loaders import (
    GuardianshipByIdLoader,
    GuardianshipsByChildLoader,
    GuardianshipsByGuardianLoader,
    PersonByIdLoader,
    PinsByPersonLoader,
    StaffPositionByIdLoader,
    StaffPositionsByPersonLoader,
)
from resolvers.relay import encode_id
from schema.common import Connection, Node
from schema.enrollment_lists import EnrollmentFilterInput, EnrollmentOrder, enrollment_pages
from schema.fields import ChildPages, connection
from schema.geography import District
from schema.institutions import Institution, institution_of
from schema.node import fetched_by, loaded

if TYPE_CHECKING:
    from schema.enrollments import Enrollment

strawberry.enum(SexEnum, name="Sex", description="Sex as recorded by the civil registry.")
Sex: TypeAlias = SexEnum
strawberry.enum(
    GuardianKindEnum, name="GuardianKind", description="How a guardian is tied to a child."
)
GuardianKind: TypeAlias = GuardianKindEnum
strawberry.enum(PinChangeReasonEnum, name="PinChangeReason", description="Why a PIN record began.")
PinChangeReason: TypeAlias = PinChangeReasonEnum
strawberry.enum(StaffRoleEnum, name="StaffRole", description="A post at an institution.")
StaffRole: TypeAlias = StaffRoleEnum

EnrollmentT = Annotated["Enrollment", strawberry.lazy("schema.enrollments")]


@strawberry.type(description="A PIN a person held, and when.")
class PinRecord:
    pin: str = strawberry.field(description="The 14-digit PIN.")
    reason: PinChangeReason = strawberry.field(description="Why this PIN record began.")
    valid_from: datetime = strawberry.field(description="When the PIN became the current one.")
    valid_to: datetime | None = strawberry.field(description="When it stopped being current.")


@fetched_by(PersonByIdLoader)
@strawberry.type(description="A natural person: child, pupil, student, guardian or staff member.")
class Person(Node):
    pk: strawberry.Private[int]
    district_pk: strawberry.Private[int | None]
    pin: str | None = strawberry.field(description="Current personal identification number.")
    last_name: str = strawberry.field(description="Family name.")
    first_name: str = strawberry.field(description="Given name.")
    patronymic: str | None = strawberry.field(description="Patronymic, if any.")
    sex: Sex = strawberry.field(description="Sex.")
    birth_date: date = strawberry.field(description="Date of birth.")
    registered_address: str | None = strawberry.field(description="Registered address.")

    @classmethod
    def from_row(cls, row: Any) -> Person:
        return cls(
            id=strawberry.ID(encode_id("Person", row.id)),
            pk=row.id,
            district_pk=row.registered_district_id,
            pin=row.pin,
            last_name=row.last_name,
            first_name=row.first_name,
            patronymic=row.patronymic,
            sex=row.sex,
            birth_date=row.birth_date,
            registered_address=row.registered_address,
        )

    @strawberry.field(description="Last, first and patronymic names.")
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)

    @strawberry.field(description="District of the registered address.")
    async def registered_district(self, info: Info) -> District | None:
        return await loaded(DistrictByIdLoader(info.context), self.district_pk, District.from_row)

    @strawberry.field(description="Every PIN the person held, the current one first.")
    async def pin_history(self, info: Info) -> list[PinRecord]:
        rows = await PinsByPersonLoader(info.context).load(self.pk)
        return [
            PinRecord(pin=r.pin, reason=r.reason, valid_from=r.valid_from, valid_to=r.valid_to)
            for r in rows
        ]

    @strawberry.field(description="Links to this person's guardians (readable ones).")
    async def guardians(self, info: Info) -> list[Guardianship]:
        rows = await GuardianshipsByChildLoader(info.context).load(self.pk)
        return [Guardianship.from_row(r) for r in rows]

    @strawberry.field(description="Links to the children this person is guardian of.")
    async def children(self, info: Info) -> list[Guardianship]:
        rows = await GuardianshipsByGuardianLoader(info.context).load(self.pk)
        return [Guardianship.from_row(r) for r in rows]

    @connection(
        Connection[EnrollmentT],
        description="The person's enrollments, newest first unless ordered.",
    )
    def enrollments(
        self,
        ctx: Context,
        filter: EnrollmentFilterInput | None = None,
        order_by: EnrollmentOrder | None = None,
    ) -> ChildPages:
        pages = EnrollmentsByPersonLoader(ctx)
        return enrollment_pages(
            pages, self.pk, filter, order_by, default=EnrollmentOrder.ENTRY_DATE_DESC
        )

    @strawberry.field(description="The person's posts at institutions.")
    async def staff_positions(self, info: Info) -> list[StaffPosition]:
        rows = await StaffPositionsByPersonLoader(info.context).load(self.pk)
        return [StaffPosition.from_row(r) for r in rows]


@fetched_by(GuardianshipByIdLoader)
@strawberry.type(description="A guardian's tie to a child.")
class Guardianship(Node):
    pk: strawberry.Private[int]
    guardian_pk: strawberry.Private[int]
    child_pk: strawberry.Private[int]
    kind: GuardianKind = strawberry.field(description="Mother, father, legal guardian, ...")
    valid_from: date = strawberry.field(description="Start of the guardianship.")
    valid_to: date | None = strawberry.field(description="End of the guardianship, if ended.")

    @classmethod
    def from_row(cls, row: Any) -> Guardianship:
        return cls(
            id=strawberry.ID(encode_id("Guardianship", row.id)),
            pk=row.id,
            guardian_pk=row.guardian_id,
            child_pk=row.child_id,
            kind=row.kind,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
        )

    @strawberry.field(description="The guardian (null if you may not read them).")
    async def guardian(self, info: Info) -> Person | None:
        return await loaded(PersonByIdLoader(info.context), self.guardian_pk, Person.from_row)

    @strawberry.field(description="The child (null if you may not read them).")
    async def child(self, info: Info) -> Person | None:
        return await loaded(PersonByIdLoader(info.context), self.child_pk, Person.from_row)


@fetched_by(StaffPositionByIdLoader)
@strawberry.type(description="A person's post at an institution over a period.")
class StaffPosition(Node):
    pk: strawberry.Private[int]
    person_pk: strawberry.Private[int]
    institution_pk: strawberry.Private[int]
    role: StaffRole = strawberry.field(description="The post.")
    title: str | None = strawberry.field(description="Title as the institution names it.")
    subject: str | None = strawberry.field(description="Subject taught, for teachers.")
    rate: float = strawberry.field(description="Share of a full-time post (1.0 = full time).")
    start_date: date = strawberry.field(description="First day in the post.")
    end_date: date | None = strawberry.field(description="Last day in the post, if ended.")

    @classmethod
    def from_row(cls, row: Any) -> StaffPosition:
        return cls(
            id=strawberry.ID(encode_id("StaffPosition", row.id)),
            pk=row.id,
            person_pk=row.person_id,
            institution_pk=row.institution_id,
            role=row.role,
            title=row.title,
            subject=row.subject,
            rate=row.rate,
            start_date=row.start_date,
            end_date=row.end_date,
        )

    @strawberry.field(description="The staff member (null if you may not read them).")
    async def person(self, info: Info) -> Person | None:
        return await loaded(PersonByIdLoader(info.context), self.person_pk, Person.from_row)

    @strawberry.field(description="The institution.")
    async def institution(self, info: Info) -> Institution:
        return await institution_of(info, self.institution_pk)
