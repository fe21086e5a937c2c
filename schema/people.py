"""People: persons, their PIN history, guardianship and staff positions."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import strawberry

from models import GuardianKind as GuardianKindEnum
from models import PinChangeReason as PinChangeReasonEnum
from models import Sex as SexEnum
from models import StaffRole as StaffRoleEnum
from resolvers import people as people_service
from resolvers.context import Context, Info
from resolvers.enrollments import ENROLLMENT_ORDERINGS
from resolvers.enrollments.loaders import EnrollmentsByPersonLoader
from resolvers.errors import ErrorCode as Code
from resolvers.errors import RequestError
from resolvers.geography.loaders import DistrictByIdLoader
from resolvers.institutions.loaders import InstitutionByIdLoader
from resolvers.mutations import perform
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
from schema.node import node_type, pk_of, query_pk

if TYPE_CHECKING:
    from schema.enrollments import Enrollment, EnrollmentFilterInput, EnrollmentOrder
    from schema.geography import District
    from schema.institutions import Institution

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
EnrollmentFilterT = Annotated["EnrollmentFilterInput", strawberry.lazy("schema.enrollments")]
EnrollmentOrderT = Annotated["EnrollmentOrder", strawberry.lazy("schema.enrollments")]
InstitutionT = Annotated["Institution", strawberry.lazy("schema.institutions")]
DistrictT = Annotated["District", strawberry.lazy("schema.geography")]


@strawberry.type(description="A PIN a person held, and when.")
class PinRecord:
    pin: str = strawberry.field(description="The 14-digit PIN.")
    reason: PinChangeReason = strawberry.field(description="Why this PIN record began.")
    valid_from: datetime = strawberry.field(description="When the PIN became the current one.")
    valid_to: datetime | None = strawberry.field(description="When it stopped being current.")


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
    async def registered_district(self, info: Info) -> DistrictT | None:
        from schema.geography import District

        if self.district_pk is None:
            return None
        row = await DistrictByIdLoader(info.context).load(self.district_pk)
        return District.from_row(row) if row else None

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

    @strawberry.field(description="The person's enrollments, newest first unless ordered.")
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
        ordering = ENROLLMENT_ORDERINGS[(order_by or EnrollmentOrder.ENTRY_DATE_DESC).name]
        pages = EnrollmentsByPersonLoader(info.context)
        return await page_connection(
            args,
            lambda: pages.page(self.pk, args, flt, ordering),
            Enrollment.from_row,
            lambda: pages.count(self.pk, flt),
        )

    @strawberry.field(description="The person's posts at institutions.")
    async def staff_positions(self, info: Info) -> list[StaffPosition]:
        rows = await StaffPositionsByPersonLoader(info.context).load(self.pk)
        return [StaffPosition.from_row(r) for r in rows]


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
        row = await PersonByIdLoader(info.context).load(self.guardian_pk)
        return Person.from_row(row) if row else None

    @strawberry.field(description="The child (null if you may not read them).")
    async def child(self, info: Info) -> Person | None:
        row = await PersonByIdLoader(info.context).load(self.child_pk)
        return Person.from_row(row) if row else None


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
        row = await PersonByIdLoader(info.context).load(self.person_pk)
        return Person.from_row(row) if row else None

    @strawberry.field(description="The institution.")
    async def institution(self, info: Info) -> InstitutionT:
        from schema.institutions import Institution

        return Institution.from_row(
            await InstitutionByIdLoader(info.context).load(self.institution_pk)
        )


@node_type("Person")
async def fetch_person(ctx: Context, pk: int) -> Person | None:
    row = await PersonByIdLoader(ctx).load(pk)
    return Person.from_row(row) if row else None


@node_type("Guardianship")
async def fetch_guardianship(ctx: Context, pk: int) -> Guardianship | None:
    row = await GuardianshipByIdLoader(ctx).load(pk)
    return Guardianship.from_row(row) if row else None


@node_type("StaffPosition")
async def fetch_staff_position(ctx: Context, pk: int) -> StaffPosition | None:
    row = await StaffPositionByIdLoader(ctx).load(pk)
    return StaffPosition.from_row(row) if row else None


# --- queries -------------------------------------------------------------------------------


@strawberry.input(description="Narrow the person list; every field given must hold.")
class PersonFilter:
    pin: str | None = strawberry.field(default=None, description="Exactly this current PIN.")
    name: str | None = strawberry.field(
        default=None, description="Part of 'last first' name, case-insensitive (max 100 chars)."
    )
    sex: Sex | None = strawberry.field(default=None, description="Only this sex.")
    born_after: date | None = strawberry.field(default=None, description="Born on or after.")
    born_before: date | None = strawberry.field(default=None, description="Born on or before.")
    institution_id: strawberry.ID | None = strawberry.field(
        default=None, description="Ever enrolled at this institution."
    )
    region_id: strawberry.ID | None = strawberry.field(
        default=None, description="Enrolled at an institution of this region."
    )
    grade_level: int | None = strawberry.field(
        default=None, description="Currently enrolled in this grade."
    )
    currently_enrolled: bool | None = strawberry.field(
        default=None, description="Has (true) or has no (false) open enrollment."
    )


@strawberry.enum(description="Orders of the person list.")
class PersonOrder(enum.Enum):
    LAST_NAME = "LAST_NAME"
    BIRTH_DATE = "BIRTH_DATE"
    CREATED_AT = "CREATED_AT"
    ID = "ID"


def _person_filter(flt: PersonFilter | None) -> people_service.PersonFilter:
    if flt is None:
        return people_service.PersonFilter()
    if flt.name is not None and len(flt.name) > 100:
        raise RequestError(Code.INVALID_INPUT, "`name` is at most 100 characters")
    if flt.pin is not None and len(flt.pin) > 14:
        raise RequestError(Code.INVALID_INPUT, "`pin` is 14 digits")
    return people_service.PersonFilter(
        pin=flt.pin,
        name=flt.name,
        sex=flt.sex,
        born_after=flt.born_after,
        born_before=flt.born_before,
        institution_id=query_pk(flt.institution_id, "Institution") if flt.institution_id else None,
        region_id=query_pk(flt.region_id, "Region") if flt.region_id else None,
        grade_level=flt.grade_level,
        currently_enrolled=flt.currently_enrolled,
    )


@strawberry.type
class Query:
    @strawberry.field(description="People you may read (never anonymous callers).")
    async def persons(
        self,
        info: Info,
        filter: PersonFilter | None = None,
        order_by: PersonOrder = PersonOrder.LAST_NAME,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Person]:
        ctx = info.context
        require_signed_in(ctx, "Sign in to read people")
        args = bounds(first, after, last, before)
        stmt = people_service.persons_query(ctx.principal, _person_filter(filter))
        ordering = people_service.PERSON_ORDERINGS[order_by.value]
        return await list_connection(ctx, stmt, args, ordering, Person.from_row)


# --- mutations -----------------------------------------------------------------------------


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
class RegisterPersonPayload:
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
class ReissuePinPayload:
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
class LinkGuardianPayload:
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
class AppointStaffPayload:
    staff_position: StaffPosition | None = strawberry.field(description="The new post.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Register a person (officers and school administrators).")
    async def register_person(
        self, info: Info, input: RegisterPersonInput
    ) -> RegisterPersonPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "people.register_person",
            lambda s: people_service.register_person(
                s,
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
            ),
        )
        return RegisterPersonPayload(
            person=Person.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(description="Give a person a new PIN; the old one stays in the history.")
    async def reissue_pin(self, info: Info, input: ReissuePinInput) -> ReissuePinPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "people.reissue_pin",
            lambda s: people_service.reissue_pin(
                s,
                ctx.principal,
                person_id=pk_of(input.person_id, "Person", field="personId"),
                new_pin=input.new_pin.strip(),
                reason=input.reason,
            ),
        )
        return ReissuePinPayload(
            person=Person.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(description="Link a guardian to a child.")
    async def link_guardian(self, info: Info, input: LinkGuardianInput) -> LinkGuardianPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "people.link_guardian",
            lambda s: people_service.link_guardian(
                s,
                ctx.principal,
                guardian_id=pk_of(input.guardian_id, "Person", field="guardianId"),
                child_id=pk_of(input.child_id, "Person", field="childId"),
                kind=input.kind,
                valid_from=input.valid_from,
                guardian_pin=input.guardian_pin,
            ),
        )
        return LinkGuardianPayload(
            guardianship=Guardianship.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(description="Appoint a person to a post at an institution you manage.")
    async def appoint_staff(self, info: Info, input: AppointStaffInput) -> AppointStaffPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "people.appoint_staff",
            lambda s: people_service.appoint_staff(
                s,
                ctx.principal,
                person_id=pk_of(input.person_id, "Person", field="personId"),
                institution_id=pk_of(input.institution_id, "Institution", field="institutionId"),
                role=input.role,
                title=input.title,
                subject=input.subject,
                rate=input.rate,
                start_date=input.start_date,
                pin=input.pin,
            ),
        )
        return AppointStaffPayload(
            staff_position=StaffPosition.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )
