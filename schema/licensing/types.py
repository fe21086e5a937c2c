"""Licensing and accreditation types. A licence's public facts (number, status, scope, dates,
history of decisions) are readable by anyone; the dossier behind it (floor areas, tenure,
documents, who filed it) only by licensing officers in scope and the applicant."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry

from models import AccreditationOutcome as AccreditationOutcomeEnum
from models import DocumentKind as DocumentKindEnum
from models import EducationLevel as EducationLevelEnum
from models import LicenceApplicationStatus as ApplicationStatusEnum
from models import LicenceStatus as LicenceStatusEnum
from resolvers import clock
from resolvers.context import Info
from resolvers.geography.loaders import DistrictByIdLoader
from resolvers.licensing.loaders import (
    AccreditationAgencyByIdLoader,
    AccreditationByIdLoader,
    AccreditationsByProgrammeLoader,
    AddressesByLicenceApplicationLoader,
    DocumentsByLicenceApplicationLoader,
    EventsByLicenceLoader,
    InstitutionProgrammeByIdLoader,
    LicenceApplicationByIdLoader,
    LicenceByApplicationLoader,
    LicenceByIdLoader,
    LicenceReplacingLoader,
    ProgrammeCodeByCodeLoader,
    StepsByAccreditationLoader,
    StepsByLicenceApplicationLoader,
)
from resolvers.licensing.rules import is_licensing_staff
from resolvers.relay import encode_id
from schema.common import Node
from schema.geography import District
from schema.institutions import Institution, institution_of
from schema.licensing.enums import (
    AccreditationKind,
    AccreditationOutcome,
    AccreditationStep,
    AppliedAs,
    DocumentKind,
    EducationLevel,
    LicenceAction,
    LicenceApplicationAction,
    LicenceApplicationStatus,
    LicenceStatus,
    PremisesTenure,
)
from schema.node import fetched_by, loaded


def _levels(values: list[str]) -> list[EducationLevelEnum]:
    return [EducationLevelEnum(v) for v in values]


@strawberry.type(description="The licensing figures of one year (policy, set by the ministry).")
class LicensingPolicy:
    year: int = strawberry.field(description="The year the figures apply from.")
    review_days: int = strawberry.field(description="Days an officer has to decide.")
    min_area_per_student: float = strawberry.field(description="Least floor area per student, m2.")
    min_premises_years: int = strawberry.field(
        description="Years the premises must be held from submission."
    )
    required_documents: list[DocumentKind] = strawberry.field(
        description="Documents every teaching address needs."
    )

    @classmethod
    def from_row(cls, row: Any) -> LicensingPolicy:
        return cls(
            year=row.year,
            review_days=row.review_days,
            min_area_per_student=float(row.min_area_per_student),
            min_premises_years=row.min_premises_years,
            required_documents=[DocumentKindEnum(d) for d in row.required_documents],
        )


@strawberry.type(description="An entry of the classifier of educational programmes.")
class ProgrammeCode:
    code: str = strawberry.field(description="Classifier code.")
    name: str = strawberry.field(description="Name of the programme.")
    level: EducationLevel = strawberry.field(description="Level of education.")
    medical: bool = strawberry.field(description="A medical programme: needs a clinical base.")
    accreditation_required: bool = strawberry.field(
        description="Admission needs a programme accreditation in force."
    )

    @classmethod
    def from_row(cls, row: Any) -> ProgrammeCode:
        return cls(
            code=row.code,
            name=row.name,
            level=row.level,
            medical=row.medical,
            accreditation_required=row.accreditation_required,
        )


async def _programmes(info: Info, codes: list[str]) -> list[ProgrammeCode]:
    rows = await ProgrammeCodeByCodeLoader(info.context).load_many(codes)
    return [ProgrammeCode.from_row(r) for r in rows if r]


@strawberry.type(description="A teaching address as the public sees it on a licence.")
class TeachingAddress:
    address: str = strawberry.field(description="The actual teaching address.")
    district_pk: strawberry.Private[int | None]

    @strawberry.field(description="District of the address, if given.")
    async def district(self, info: Info) -> District | None:
        return await loaded(DistrictByIdLoader(info.context), self.district_pk, District.from_row)


@strawberry.type(description="A teaching address of a licence dossier, with its premises.")
class LicenceAddress(TeachingAddress):
    floor_area: float = strawberry.field(description="Floor area, m2.")
    planned_students: int = strawberry.field(description="Students planned at this address.")
    tenure: PremisesTenure = strawberry.field(description="Title to the premises.")
    tenure_from: date = strawberry.field(description="Held since.")
    tenure_until: date | None = strawberry.field(description="Held until (null: open-ended).")

    @strawberry.field(description="Floor area per planned student, m2.")
    def area_per_student(self) -> float:
        return round(self.floor_area / self.planned_students, 2)

    @classmethod
    def from_row(cls, row: Any) -> LicenceAddress:
        return cls(
            address=row.address,
            district_pk=row.district_id,
            floor_area=float(row.floor_area),
            planned_students=row.planned_students,
            tenure=row.tenure,
            tenure_from=row.tenure_from,
            tenure_until=row.tenure_until,
        )


@strawberry.type(description="A document of a dossier: metadata and content hash.")
class LicenceDocument:
    kind: DocumentKind = strawberry.field(description="What the document is.")
    file_name: str = strawberry.field(description="File name.")
    media_type: str = strawberry.field(description="Media type, e.g. application/pdf.")
    size_bytes: int = strawberry.field(description="Size in bytes.")
    sha256: str = strawberry.field(description="SHA-256 of the content, hexadecimal.")
    storage_key: str | None = strawberry.field(description="Where the file is stored, if kept.")
    attached_on: date = strawberry.field(description="When it was attached.")
    address_index: int | None = strawberry.field(
        description="Which address of the dossier it belongs to (0-based), if one."
    )


@strawberry.type(description="One step in a licence application's history.")
class LicenceApplicationStep:
    action: LicenceApplicationAction = strawberry.field(description="What happened.")
    on: date = strawberry.field(description="The day it happened.")
    at: datetime = strawberry.field(description="When it was recorded.")
    actor: str = strawberry.field(description="Who did it (subject of their token).")
    note: str | None = strawberry.field(description="Reasons, requested documents or a note.")


@fetched_by(LicenceApplicationByIdLoader)
@strawberry.type(description="A licence application: the dossier an officer reviews.")
class LicenceApplication(Node):
    pk: strawberry.Private[int]
    institution_pk: strawberry.Private[int]
    programme_codes: strawberry.Private[list[str]]
    applied_as: AppliedAs = strawberry.field(description="The institution or its founder.")
    applicant: str = strawberry.field(description="Who filed it (subject of their token).")
    status: LicenceApplicationStatus = strawberry.field(description="Where it stands.")
    levels: list[EducationLevel] = strawberry.field(description="Levels applied for.")
    clinical_base: str | None = strawberry.field(description="Clinical base (medical).")
    submitted_on: date = strawberry.field(description="Day of submission.")
    due_on: date = strawberry.field(
        description="Review deadline (moved back by the days documents were awaited)."
    )
    paused_on: date | None = strawberry.field(
        description="Clock paused since (awaiting documents)."
    )
    requested_documents: str | None = strawberry.field(description="What the officer asked for.")
    decided_on: date | None = strawberry.field(description="Day of approval or refusal.")
    decision_reasons: str | None = strawberry.field(description="Reasons of the decision.")
    officer_filed: bool = strawberry.field(
        description="Filed by an officer re-issuing a licence directly."
    )

    @classmethod
    def from_row(cls, row: Any) -> LicenceApplication:
        return cls(
            id=strawberry.ID(encode_id("LicenceApplication", row.id)),
            pk=row.id,
            institution_pk=row.institution_id,
            programme_codes=list(row.programme_codes),
            applied_as=row.applied_as,
            applicant=row.applicant_subject,
            status=row.status,
            levels=_levels(row.levels),
            clinical_base=row.clinical_base,
            submitted_on=row.submitted_on,
            due_on=row.due_on,
            paused_on=row.paused_on,
            requested_documents=row.requested_documents,
            decided_on=row.decided_on,
            decision_reasons=row.decision_reasons,
            officer_filed=row.officer_filed,
        )

    @strawberry.field(description="Under review with the deadline passed.")
    def overdue(self) -> bool:
        return self.status == ApplicationStatusEnum.SUBMITTED and self.due_on < clock.today()

    @strawberry.field(description="Days left to decide (negative when overdue; null if closed).")
    def days_left(self) -> int | None:
        if self.status == ApplicationStatusEnum.SUBMITTED:
            return (self.due_on - clock.today()).days
        if self.status == ApplicationStatusEnum.AWAITING_DOCUMENTS and self.paused_on:
            return (self.due_on - self.paused_on).days
        return None

    @strawberry.field(description="The institution applying.")
    async def institution(self, info: Info) -> Institution:
        return await institution_of(info, self.institution_pk)

    @strawberry.field(description="Programmes applied for.")
    async def programmes(self, info: Info) -> list[ProgrammeCode]:
        return await _programmes(info, self.programme_codes)

    @strawberry.field(description="Teaching addresses, with floor area and tenure.")
    async def addresses(self, info: Info) -> list[LicenceAddress]:
        rows = await AddressesByLicenceApplicationLoader(info.context).load(self.pk)
        return [LicenceAddress.from_row(r) for r in rows]

    @strawberry.field(description="Attached documents.")
    async def documents(self, info: Info) -> list[LicenceDocument]:
        addresses = await AddressesByLicenceApplicationLoader(info.context).load(self.pk)
        index = {a.id: i for i, a in enumerate(addresses)}
        rows = await DocumentsByLicenceApplicationLoader(info.context).load(self.pk)
        return [
            LicenceDocument(
                kind=r.kind,
                file_name=r.file_name,
                media_type=r.media_type,
                size_bytes=r.size_bytes,
                sha256=r.sha256,
                storage_key=r.storage_key,
                attached_on=r.attached_on,
                address_index=index.get(r.address_id),
            )
            for r in rows
        ]

    @strawberry.field(description="Every step of the case, oldest first.")
    async def history(self, info: Info) -> list[LicenceApplicationStep]:
        rows = await StepsByLicenceApplicationLoader(info.context).load(self.pk)
        return [
            LicenceApplicationStep(
                action=r.action, on=r.effective_on, at=r.at, actor=r.actor, note=r.note
            )
            for r in rows
        ]

    @strawberry.field(description="The licence issued on approval.")
    async def licence(self, info: Info) -> Licence | None:
        rows = await LicenceByApplicationLoader(info.context).load(self.pk)
        return Licence.from_row(rows[0]) if rows else None


@strawberry.type(description="One step in a licence's history.")
class LicenceEvent:
    action: LicenceAction = strawberry.field(description="What happened.")
    on: date = strawberry.field(description="The day it took effect.")
    at: datetime = strawberry.field(description="When it was recorded.")
    reason: str | None = strawberry.field(description="Why.")
    legal_basis: str | None = strawberry.field(
        description="Legal basis, e.g. a court decision's reference."
    )
    actor_subject: strawberry.Private[str]

    @strawberry.field(description="Who recorded it (licensing staff only; null for others).")
    def actor(self, info: Info) -> str | None:
        return self.actor_subject if is_licensing_staff(info.context.principal) else None


@fetched_by(LicenceByIdLoader)
@strawberry.type(description="A licence to teach: number, scope, dates and history (public).")
class Licence(Node):
    pk: strawberry.Private[int]
    institution_pk: strawberry.Private[int]
    application_pk: strawberry.Private[int]
    replaces_pk: strawberry.Private[int | None]
    programme_codes: strawberry.Private[list[str]]
    number: str = strawberry.field(description="Licence number.")
    status: LicenceStatus = strawberry.field(description="Its state.")
    levels: list[EducationLevel] = strawberry.field(description="Levels of education covered.")
    issued_on: date = strawberry.field(description="Day of issue.")
    valid_until: date | None = strawberry.field(description="Last valid day (null: open-ended).")
    ended_on: date | None = strawberry.field(description="Day it stopped (revoked, re-issued...).")

    @classmethod
    def from_row(cls, row: Any) -> Licence:
        return cls(
            id=strawberry.ID(encode_id("Licence", row.id)),
            pk=row.id,
            institution_pk=row.institution_id,
            application_pk=row.application_id,
            replaces_pk=row.replaces_id,
            programme_codes=list(row.programme_codes),
            number=row.number,
            status=row.status,
            levels=_levels(row.levels),
            issued_on=row.issued_on,
            valid_until=row.valid_until,
            ended_on=row.ended_on,
        )

    @strawberry.field(description="In force today: active, issued, not past its validity.")
    def valid_today(self) -> bool:
        today = clock.today()
        return (
            self.status == LicenceStatusEnum.ACTIVE
            and self.issued_on <= today
            and (self.valid_until is None or self.valid_until >= today)
        )

    @strawberry.field(description="The licensed institution.")
    async def institution(self, info: Info) -> Institution:
        return await institution_of(info, self.institution_pk)

    @strawberry.field(description="Programmes covered.")
    async def programmes(self, info: Info) -> list[ProgrammeCode]:
        return await _programmes(info, self.programme_codes)

    @strawberry.field(description="Actual teaching addresses covered.")
    async def addresses(self, info: Info) -> list[TeachingAddress]:
        rows = await AddressesByLicenceApplicationLoader(info.context).load(self.application_pk)
        return [TeachingAddress(address=r.address, district_pk=r.district_id) for r in rows]

    @strawberry.field(description="Every decision on this licence, oldest first.")
    async def history(self, info: Info) -> list[LicenceEvent]:
        rows = await EventsByLicenceLoader(info.context).load(self.pk)
        return [
            LicenceEvent(
                action=r.action,
                on=r.effective_on,
                at=r.at,
                reason=r.reason,
                legal_basis=r.legal_basis,
                actor_subject=r.actor,
            )
            for r in rows
        ]

    @strawberry.field(description="The licence this one re-issued.")
    async def replaces(self, info: Info) -> Licence | None:
        return await loaded(LicenceByIdLoader(info.context), self.replaces_pk, Licence.from_row)

    @strawberry.field(description="The licence that re-issued this one.")
    async def replaced_by(self, info: Info) -> Licence | None:
        rows = await LicenceReplacingLoader(info.context).load(self.pk)
        return Licence.from_row(rows[0]) if rows else None

    @strawberry.field(
        description="The dossier behind it (licensing officers in scope and the applicant)."
    )
    async def application(self, info: Info) -> LicenceApplication | None:
        loader = LicenceApplicationByIdLoader(info.context)
        return await loaded(loader, self.application_pk, LicenceApplication.from_row)


@fetched_by(AccreditationAgencyByIdLoader)
@strawberry.type(description="An accreditation agency and its entry on the registers.")
class AccreditationAgency(Node):
    pk: strawberry.Private[int]
    name: str = strawberry.field(description="Name of the agency.")
    country_code: str = strawberry.field(description="Country (ISO 3166-1).")
    on_national_register: bool = strawberry.field(description="Recognised by the national council.")
    on_european_register: bool = strawberry.field(description="On the European register (EQAR).")
    recognised_on: date | None = strawberry.field(description="Recognised since.")
    recognised_until: date | None = strawberry.field(description="Recognised until.")

    @classmethod
    def from_row(cls, row: Any) -> AccreditationAgency:
        return cls(
            id=strawberry.ID(encode_id("AccreditationAgency", row.id)),
            pk=row.id,
            name=row.name,
            country_code=row.country_code,
            on_national_register=row.on_national_register,
            on_european_register=row.on_european_register,
            recognised_on=row.recognised_on,
            recognised_until=row.recognised_until,
        )

    @strawberry.field(description="May accredit today (national register; foreign: also EQAR).")
    def may_accredit_today(self) -> bool:
        from resolvers.licensing.rules import agency_may_accredit

        return agency_may_accredit(self, clock.today())  # type: ignore[arg-type]


@strawberry.type(description="One step of an accreditation.")
class AccreditationStepRecord:
    step: AccreditationStep = strawberry.field(description="The step.")
    outcome: AccreditationOutcome | None = strawberry.field(description="Outcome, if a decision.")
    on: date = strawberry.field(description="The day of the step.")
    at: datetime = strawberry.field(description="When it was recorded.")
    note: str | None = strawberry.field(description="A note (contract number, visit dates...).")


@fetched_by(AccreditationByIdLoader)
@strawberry.type(description="An institutional or programme accreditation.")
class Accreditation(Node):
    pk: strawberry.Private[int]
    institution_pk: strawberry.Private[int]
    programme_pk: strawberry.Private[int | None]
    agency_pk: strawberry.Private[int]
    kind: AccreditationKind = strawberry.field(description="Institutional or programme.")
    step: AccreditationStep = strawberry.field(description="The last step reached.")
    outcome: AccreditationOutcome = strawberry.field(description="Pending or decided.")
    decided_on: date | None = strawberry.field(description="Day of the council decision.")
    valid_from: date | None = strawberry.field(description="Valid from (per decision).")
    valid_until: date | None = strawberry.field(description="Valid until (null: open-ended).")

    @classmethod
    def from_row(cls, row: Any) -> Accreditation:
        return cls(
            id=strawberry.ID(encode_id("Accreditation", row.id)),
            pk=row.id,
            institution_pk=row.institution_id,
            programme_pk=row.programme_id,
            agency_pk=row.agency_id,
            kind=row.kind,
            step=row.step,
            outcome=row.outcome,
            decided_on=row.decided_on,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
        )

    @classmethod
    def current(cls, rows: list[Any]) -> Accreditation | None:
        """The accreditation in force today, else the most recent one readable."""
        items = [cls.from_row(r) for r in rows]
        return next((item for item in items if item.valid_today()), items[0] if items else None)

    @strawberry.field(description="In force today.")
    def valid_today(self) -> bool:
        today = clock.today()
        return (
            self.outcome == AccreditationOutcomeEnum.ACCREDITED
            and self.valid_from is not None
            and self.valid_from <= today
            and (self.valid_until is None or self.valid_until >= today)
        )

    @strawberry.field(description="The institution.")
    async def institution(self, info: Info) -> Institution:
        return await institution_of(info, self.institution_pk)

    @strawberry.field(description="The programme (programme accreditation).")
    async def programme(self, info: Info) -> InstitutionProgramme | None:
        loader = InstitutionProgrammeByIdLoader(info.context)
        return await loaded(loader, self.programme_pk, InstitutionProgramme.from_row)

    @strawberry.field(description="The accrediting agency.")
    async def agency(self, info: Info) -> AccreditationAgency:
        row = await AccreditationAgencyByIdLoader(info.context).load(self.agency_pk)
        return AccreditationAgency.from_row(row)

    @strawberry.field(description="Every step, oldest first.")
    async def history(self, info: Info) -> list[AccreditationStepRecord]:
        rows = await StepsByAccreditationLoader(info.context).load(self.pk)
        return [
            AccreditationStepRecord(
                step=r.step, outcome=r.outcome, on=r.effective_on, at=r.at, note=r.note
            )
            for r in rows
        ]


@fetched_by(InstitutionProgrammeByIdLoader)
@strawberry.type(
    description="A programme an institution teaches, keyed by classifier code: the subject of "
    "programme accreditation."
)
class InstitutionProgramme(Node):
    pk: strawberry.Private[int]
    institution_pk: strawberry.Private[int]
    code: str = strawberry.field(description="Classifier code.")
    name: str = strawberry.field(description="Name at this institution.")

    @classmethod
    def from_row(cls, row: Any) -> InstitutionProgramme:
        return cls(
            id=strawberry.ID(encode_id("InstitutionProgramme", row.id)),
            pk=row.id,
            institution_pk=row.institution_id,
            code=row.code,
            name=row.name,
        )

    @strawberry.field(description="The institution.")
    async def institution(self, info: Info) -> Institution:
        return await institution_of(info, self.institution_pk)

    @strawberry.field(description="The classifier entry.")
    async def classifier(self, info: Info) -> ProgrammeCode:
        return (await _programmes(info, [self.code]))[0]

    @strawberry.field(description="The accreditation in force today, else the latest decided.")
    async def accreditation(self, info: Info) -> Accreditation | None:
        rows = await AccreditationsByProgrammeLoader(info.context).load(self.pk)
        return Accreditation.current(rows)


@strawberry.type(description="What a run of the licensing jobs did.")
class LicensingJobReport:
    on: date = strawberry.field(description="The day the jobs ran for.")
    licences_expired: int = strawberry.field(description="Licences marked expired.")
    accreditations_expired: int = strawberry.field(description="Accreditations marked expired.")

    @classmethod
    def from_row(cls, report: Any) -> LicensingJobReport:
        return cls(
            on=report.on,
            licences_expired=report.licences_expired,
            accreditations_expired=report.accreditations_expired,
        )
