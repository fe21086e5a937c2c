"""Licensing and accreditation (domain.md, "Licensing and accreditation").

A licence is what lets an institution teach: an application (the dossier: levels, programmes,
teaching addresses with their floor area and tenure, attached documents) is reviewed by a
licensing officer within the review period and, when approved, becomes a numbered licence whose
scope the hub enforces wherever learners are admitted. Accreditation is independent: an agency on
the national register accredits an institution or one of its programmes, step by step.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped
from models.types import enum_column

# Licence numbers are drawn from this sequence (created by the migration; never reused, even when
# a transaction rolls back).
LICENCE_NUMBER_SEQUENCE = "licence_number_seq"


class EducationLevel(enum.StrEnum):
    """Levels of education a licence may cover (12-year standard: primary 1-6, basic 7-9,
    secondary 10-12)."""

    PRESCHOOL = "preschool"
    PRIMARY = "primary"
    BASIC = "basic"
    SECONDARY = "secondary"
    VOCATIONAL = "vocational"
    HIGHER = "higher"
    POSTGRADUATE = "postgraduate"
    ADDITIONAL = "additional"


class PremisesTenure(enum.StrEnum):
    """On what title the applicant holds a teaching address."""

    OWNED = "owned"
    LEASE = "lease"
    FREE_USE = "free_use"


class DocumentKind(enum.StrEnum):
    FIRE_SAFETY_OPINION = "fire_safety_opinion"
    SANITARY_OPINION = "sanitary_opinion"
    PREMISES_CONTRACT = "premises_contract"
    CLINICAL_BASE_AGREEMENT = "clinical_base_agreement"
    CHARTER = "charter"
    CURRICULUM = "curriculum"
    OTHER = "other"


class AppliedAs(enum.StrEnum):
    """Who filed the application: the institution itself or its founder."""

    INSTITUTION = "institution"
    FOUNDER = "founder"


class LicenceApplicationStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    AWAITING_DOCUMENTS = "awaiting_documents"
    APPROVED = "approved"
    REFUSED = "refused"


class ApplicationAction(enum.StrEnum):
    SUBMITTED = "submitted"
    DOCUMENTS_REQUESTED = "documents_requested"
    DOCUMENTS_SUPPLIED = "documents_supplied"
    APPROVED = "approved"
    REFUSED = "refused"


class LicenceStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"
    REISSUED = "reissued"


class LicenceAction(enum.StrEnum):
    ISSUED = "issued"
    SUSPENDED = "suspended"
    RESTORED = "restored"
    REVOKED = "revoked"
    REISSUED = "reissued"
    EXPIRED = "expired"


class AccreditationKind(enum.StrEnum):
    INSTITUTIONAL = "institutional"
    PROGRAMME = "programme"


class AccreditationStep(enum.StrEnum):
    """The steps of an accreditation, in order (domain.md)."""

    APPLICATION = "application"
    DECISION_TO_START = "decision_to_start"
    CONTRACT = "contract"
    SELF_ASSESSMENT = "self_assessment"
    EXPERT_VISIT = "expert_visit"
    COUNCIL_DECISION = "council_decision"


ACCREDITATION_STEPS: tuple[AccreditationStep, ...] = tuple(AccreditationStep)


class AccreditationOutcome(enum.StrEnum):
    PENDING = "pending"
    ACCREDITED = "accredited"
    DENIED = "denied"
    EXPIRED = "expired"


class LicensingPolicy(Base):
    """The licensing figures of one year (from January 1st until the next year's row): the
    review period, the floor area per student, how long premises must be held, and which
    documents every teaching address needs. Edited by the ministry, never constants in code."""

    __tablename__ = "licensing_policy"
    __table_args__ = (
        CheckConstraint("review_days BETWEEN 1 AND 365", name="review_days"),
        CheckConstraint("min_area_per_student > 0", name="min_area"),
        CheckConstraint("min_premises_years BETWEEN 0 AND 50", name="min_premises_years"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, unique=True)
    review_days: Mapped[int] = mapped_column(SmallInteger)
    min_area_per_student: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    min_premises_years: Mapped[int] = mapped_column(SmallInteger)
    required_documents: Mapped[list[str]] = mapped_column(
        ARRAY(String(32)), server_default=text("'{}'::varchar[]")
    )


class ProgrammeCode(Base):
    """An entry of the classifier of educational programmes (code, name, level). Medical
    programmes need a clinical base; some programmes need accreditation before admission."""

    __tablename__ = "programme_code"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    level: Mapped[EducationLevel] = enum_column(EducationLevel)
    medical: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    accreditation_required: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class InstitutionProgramme(Timestamped, Base):
    """A programme an institution teaches (or wants to): the subject of programme accreditation,
    keyed by (institution, classifier code) so admission's programmes can link to it."""

    __tablename__ = "institution_programme"
    __table_args__ = (UniqueConstraint("institution_id", "code", name="uq_institution_programme"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    code: Mapped[str] = mapped_column(ForeignKey("programme_code.code"), index=True)
    name: Mapped[str] = mapped_column(String(300))


class LicenceApplication(Timestamped, Base):
    """A licence application: the dossier a licensing officer reviews, and the scope of the
    licence it becomes."""

    __tablename__ = "licence_application"
    __table_args__ = (
        # One open case per institution at a time.
        Index(
            "uq_licence_application_open",
            "institution_id",
            unique=True,
            postgresql_where=text("status IN ('submitted', 'awaiting_documents')"),
        ),
        Index("ix_licence_application_status_due", "status", "due_on", "id"),
        CheckConstraint("(status = 'awaiting_documents') = (paused_on IS NOT NULL)", name="paused"),
        CheckConstraint("cardinality(levels) > 0", name="levels"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    applied_as: Mapped[AppliedAs] = enum_column(AppliedAs)
    applicant_subject: Mapped[str] = mapped_column(String(120), index=True)
    status: Mapped[LicenceApplicationStatus] = enum_column(LicenceApplicationStatus)
    levels: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    programme_codes: Mapped[list[str]] = mapped_column(
        ARRAY(String(20)), server_default=text("'{}'::varchar[]")
    )
    clinical_base: Mapped[str | None] = mapped_column(String(400))
    submitted_on: Mapped[date] = mapped_column(Date)
    # The review deadline; pushed back by the days the clock stood still awaiting documents.
    due_on: Mapped[date] = mapped_column(Date)
    paused_on: Mapped[date | None] = mapped_column(Date)
    requested_documents: Mapped[str | None] = mapped_column(Text)
    decided_on: Mapped[date | None] = mapped_column(Date)
    decision_reasons: Mapped[str | None] = mapped_column(Text)
    # Set on applications an officer files while re-issuing a licence directly.
    officer_filed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class LicenceAddress(Base):
    """A teaching address of an application (and of the licence issued from it)."""

    __tablename__ = "licence_address"
    __table_args__ = (
        CheckConstraint("floor_area > 0", name="floor_area"),
        CheckConstraint("planned_students > 0", name="planned_students"),
        CheckConstraint(
            "tenure_until IS NULL OR tenure_until >= tenure_from", name="tenure_period"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("licence_application.id", ondelete="CASCADE"), index=True
    )
    address: Mapped[str] = mapped_column(String(400))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"))
    floor_area: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    planned_students: Mapped[int] = mapped_column(Integer)
    tenure: Mapped[PremisesTenure] = enum_column(PremisesTenure)
    tenure_from: Mapped[date] = mapped_column(Date)
    tenure_until: Mapped[date | None] = mapped_column(Date)


class LicenceDocument(Base):
    """A document attached to an application: its metadata and content hash (the file itself
    may live in object storage under ``storage_key``)."""

    __tablename__ = "licence_document"
    __table_args__ = (
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256"),
        CheckConstraint("size_bytes > 0", name="size"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("licence_application.id", ondelete="CASCADE"), index=True
    )
    address_id: Mapped[int | None] = mapped_column(
        ForeignKey("licence_address.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[DocumentKind] = enum_column(DocumentKind)
    file_name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str | None] = mapped_column(String(500))
    attached_on: Mapped[date] = mapped_column(Date)


class LicenceApplicationStep(Base):
    """One transition of an application (append-only history)."""

    __tablename__ = "licence_application_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("licence_application.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[ApplicationAction] = enum_column(ApplicationAction)
    effective_on: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    actor: Mapped[str] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)


class Licence(Timestamped, Base):
    """A numbered licence: scope (levels, programmes, the addresses of its dossier), issue date
    and validity (open-ended when ``valid_until`` is null)."""

    __tablename__ = "licence"
    __table_args__ = (
        # An institution holds at most one licence in force (active or suspended).
        Index(
            "uq_licence_live_institution",
            "institution_id",
            unique=True,
            postgresql_where=text("status IN ('active', 'suspended')"),
        ),
        Index("ix_licence_institution", "institution_id", "issued_on", "id"),
        Index(
            "ix_licence_expiring",
            "valid_until",
            postgresql_where=text("status IN ('active', 'suspended') AND valid_until IS NOT NULL"),
        ),
        CheckConstraint("valid_until IS NULL OR valid_until >= issued_on", name="validity"),
        CheckConstraint("cardinality(levels) > 0", name="levels"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("licence_application.id"), unique=True)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("licence.id"), unique=True)
    status: Mapped[LicenceStatus] = enum_column(LicenceStatus)
    levels: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    programme_codes: Mapped[list[str]] = mapped_column(
        ARRAY(String(20)), server_default=text("'{}'::varchar[]")
    )
    issued_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)


class LicenceEvent(Base):
    """One transition of a licence (append-only history), with its reason and legal basis."""

    __tablename__ = "licence_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licence.id"), index=True)
    action: Mapped[LicenceAction] = enum_column(LicenceAction)
    effective_on: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(String(400))


class AccreditationAgency(Timestamped, Base):
    """An accreditation agency. It may accredit when the national council has it on the national
    register; a foreign agency must also be on the European register (EQAR)."""

    __tablename__ = "accreditation_agency"
    __table_args__ = (CheckConstraint("country_code ~ '^[A-Z]{2}$'", name="country"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    country_code: Mapped[str] = mapped_column(String(2))
    on_national_register: Mapped[bool] = mapped_column(Boolean)
    on_european_register: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    recognised_on: Mapped[date | None] = mapped_column(Date)
    recognised_until: Mapped[date | None] = mapped_column(Date)


class Accreditation(Timestamped, Base):
    """An institutional or programme accreditation, from application to council decision."""

    __tablename__ = "accreditation"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'programme') = (programme_id IS NOT NULL)", name="programme_subject"
        ),
        CheckConstraint("(outcome = 'pending') = (decided_on IS NULL)", name="decided"),
        CheckConstraint(
            "valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from",
            name="validity",
        ),
        # One accreditation in progress per subject.
        Index(
            "uq_accreditation_open",
            "institution_id",
            "kind",
            text("coalesce(programme_id, 0)"),
            unique=True,
            postgresql_where=text("outcome = 'pending'"),
        ),
        Index("ix_accreditation_institution", "institution_id", "kind", "id"),
        Index("ix_accreditation_programme", "programme_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("institution_programme.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("accreditation_agency.id"), index=True)
    kind: Mapped[AccreditationKind] = enum_column(AccreditationKind)
    step: Mapped[AccreditationStep] = enum_column(AccreditationStep)
    outcome: Mapped[AccreditationOutcome] = enum_column(AccreditationOutcome)
    applicant_subject: Mapped[str] = mapped_column(String(120))
    decided_on: Mapped[date | None] = mapped_column(Date)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)


class AccreditationStepRecord(Base):
    """One step of an accreditation (append-only history)."""

    __tablename__ = "accreditation_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    accreditation_id: Mapped[int] = mapped_column(ForeignKey("accreditation.id"), index=True)
    step: Mapped[AccreditationStep] = enum_column(AccreditationStep)
    outcome: Mapped[AccreditationOutcome | None] = enum_column(AccreditationOutcome, nullable=True)
    effective_on: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    actor: Mapped[str] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
