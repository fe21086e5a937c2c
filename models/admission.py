"""University admission by national test (ORT) scores: test results, seasons and their rounds,
programmes with places per pool and quota, applications, recommended places (offers) and the
admission order. Every threshold, limit and date is a policy row of a season (domain.md,
"University admission")."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped
from models.types import enum_column


class Intake(enum.StrEnum):
    """The main summer intake, or the winter intake that fills contract places only."""

    MAIN = "main"
    WINTER = "winter"


class SeasonStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class AdmissionPool(enum.StrEnum):
    """Where an applicant's school lies, which decides the pool of grant places they compete in."""

    BISHKEK = "bishkek"
    REGIONAL_TOWN = "regional_town"
    RURAL = "rural"
    HIGH_ALTITUDE = "high_altitude"


class PlaceCategory(enum.StrEnum):
    """A kind of place in a programme: a grant place of a pool or of a quota, or a contract
    (fee-paying) place."""

    BISHKEK = "bishkek"
    REGIONAL_TOWN = "regional_town"
    RURAL = "rural"
    HIGH_ALTITUDE = "high_altitude"
    ORPHAN = "orphan"
    DISABILITY = "disability"
    ETHNIC_KYRGYZ_ABROAD = "ethnic_kyrgyz_abroad"
    CONTRACT = "contract"


# Quota categories an applicant can hold; the first held (in this order) is the one they use.
QUOTA_CATEGORIES = (
    PlaceCategory.ORPHAN,
    PlaceCategory.DISABILITY,
    PlaceCategory.ETHNIC_KYRGYZ_ABROAD,
)


class Funding(enum.StrEnum):
    """Which places an application competes for."""

    GRANT = "grant"
    CONTRACT = "contract"
    BOTH = "both"


class RoundStatus(enum.StrEnum):
    PLANNED = "planned"
    PUBLISHED = "published"


class ApplicationStatus(enum.StrEnum):
    ACTIVE = "active"  # competing (possibly with an open recommendation)
    CONFIRMED = "confirmed"  # holds a confirmed place
    DECLINED = "declined"  # was recommended and did not confirm in the window
    WITHDRAWN = "withdrawn"  # replaced, or dropped by confirming a higher preference
    ENROLLED = "enrolled"  # the admission order enrolled the applicant


class AdmissionOfferStatus(enum.StrEnum):
    RECOMMENDED = "recommended"
    CONFIRMED = "confirmed"
    EXPIRED = "expired"  # not confirmed in the window: the place went back
    RELEASED = "released"  # given up for a confirmed higher preference
    ENROLLED = "enrolled"


class AdmissionSeason(Timestamped, Base):
    """One admission campaign (a year's main or winter intake) and its policy figures."""

    __tablename__ = "admission_season"
    __table_args__ = (
        UniqueConstraint("year", "intake", name="uq_admission_season_year_intake"),
        CheckConstraint("max_choices BETWEEN 1 AND 20", name="max_choices"),
        CheckConstraint(
            "main_score_max > 0 AND subject_score_max > 0 AND state_language_score_max > 0",
            name="scales",
        ),
        CheckConstraint(
            "main_threshold BETWEEN 0 AND main_score_max "
            "AND subject_threshold BETWEEN 0 AND subject_score_max "
            "AND state_language_threshold BETWEEN 0 AND state_language_score_max",
            name="thresholds",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    intake: Mapped[Intake] = enum_column(Intake)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[SeasonStatus] = enum_column(SeasonStatus, server_default=text("'open'"))
    max_choices: Mapped[int] = mapped_column(SmallInteger)
    main_score_max: Mapped[int] = mapped_column(SmallInteger)
    subject_score_max: Mapped[int] = mapped_column(SmallInteger)
    state_language_score_max: Mapped[int] = mapped_column(SmallInteger)
    main_threshold: Mapped[int] = mapped_column(SmallInteger)
    subject_threshold: Mapped[int] = mapped_column(SmallInteger)
    state_language_threshold: Mapped[int] = mapped_column(SmallInteger)
    studies_start: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FieldThreshold(Base):
    """A field of study's own minimum scores in a season (teacher education and health differ
    for grant and contract places)."""

    __tablename__ = "admission_field_threshold"
    __table_args__ = (
        UniqueConstraint("season_id", "field_of_study", name="uq_admission_field_threshold"),
        CheckConstraint(
            "grant_main_min >= 0 AND contract_main_min >= 0 AND subject_min >= 0", name="scores"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("admission_season.id", ondelete="CASCADE"))
    field_of_study: Mapped[str] = mapped_column(String(40))
    grant_main_min: Mapped[int] = mapped_column(SmallInteger)
    contract_main_min: Mapped[int] = mapped_column(SmallInteger)
    subject_min: Mapped[int] = mapped_column(SmallInteger)


class DistrictPool(Base):
    """Which grant pool a district's schools belong to (policy data the ministry edits)."""

    __tablename__ = "admission_district_pool"

    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), primary_key=True)
    pool: Mapped[AdmissionPool] = enum_column(AdmissionPool)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class SchoolPool(Base):
    """Which grant pool one school belongs to, over its district's (issue 14.8: the
    high-mountain category belongs to a settlement or school, not a whole district)."""

    __tablename__ = "admission_school_pool"

    school_id: Mapped[int] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), primary_key=True
    )
    pool: Mapped[AdmissionPool] = enum_column(AdmissionPool)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class AdmissionRound(Timestamped, Base):
    """A round of a season: registration window, publication of recommended lists, and a
    confirmation window."""

    __tablename__ = "admission_round"
    __table_args__ = (
        UniqueConstraint("season_id", "number", name="uq_admission_round_number"),
        CheckConstraint("number >= 1", name="number"),
        CheckConstraint(
            "registration_opens <= registration_closes "
            "AND registration_closes < publication_on "
            "AND publication_on <= confirmation_opens "
            "AND confirmation_opens <= confirmation_closes",
            name="dates",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("admission_season.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(SmallInteger)
    registration_opens: Mapped[date] = mapped_column(Date)
    registration_closes: Mapped[date] = mapped_column(Date)
    publication_on: Mapped[date] = mapped_column(Date)
    confirmation_opens: Mapped[date] = mapped_column(Date)
    confirmation_closes: Mapped[date] = mapped_column(Date)
    status: Mapped[RoundStatus] = enum_column(RoundStatus, server_default=text("'planned'"))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AdmissionProgramme(Timestamped, Base):
    """A university's programme offered in a season; linked to the programme classifier, it
    opens admission only while accredited where the classifier requires it."""

    __tablename__ = "admission_programme"
    __table_args__ = (
        UniqueConstraint("season_id", "institution_id", "code", name="uq_admission_programme_code"),
        Index("ix_admission_programme_institution", "institution_id", "season_id", "id"),
        Index("ix_admission_programme_season_name", "season_id", "name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("admission_season.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(300))
    field_of_study: Mapped[str] = mapped_column(String(40))
    required_subjects: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), server_default=text("'{}'::varchar[]")
    )
    creative_test: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # The programme's entry in the licensing classifier (issue 5): whether admission needs a
    # programme accreditation, matched with the institution's accreditations by this code.
    programme_code: Mapped[str | None] = mapped_column(
        ForeignKey("programme_code.code"), index=True
    )


class ProgrammePlaces(Base):
    """Places of one category in a programme; ``filled`` counts confirmed places and can never
    pass ``places`` (the database refuses it)."""

    __tablename__ = "admission_programme_places"
    __table_args__ = (
        UniqueConstraint("programme_id", "category", name="uq_admission_programme_places"),
        CheckConstraint("places >= 0", name="places"),
        CheckConstraint("filled >= 0 AND filled <= places", name="filled"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("admission_programme.id", ondelete="CASCADE")
    )
    category: Mapped[PlaceCategory] = enum_column(PlaceCategory)
    places: Mapped[int] = mapped_column(Integer)
    filled: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class NationalTestImport(Base):
    """One testing-centre file loaded, by its SHA-256: the same file is never loaded twice."""

    __tablename__ = "admission_test_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str | None] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    imported_by: Mapped[str] = mapped_column(String(120))
    rows_total: Mapped[int] = mapped_column(Integer)
    rows_loaded: Mapped[int] = mapped_column(Integer)
    rows_unchanged: Mapped[int] = mapped_column(Integer)
    rows_rejected: Mapped[int] = mapped_column(Integer)
    problems: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )


class NationalTestResult(Base):
    """An applicant's national test certificate: main test, subject tests, state language."""

    __tablename__ = "admission_test_result"
    __table_args__ = (
        UniqueConstraint("person_id", "year", name="uq_admission_test_result_person_year"),
        CheckConstraint("main_score >= 0 AND state_language_score >= 0", name="scores"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_number: Mapped[str] = mapped_column(String(20), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    main_score: Mapped[int] = mapped_column(SmallInteger)
    state_language_score: Mapped[int] = mapped_column(SmallInteger)
    # subject code -> score, e.g. {"math": 96, "physics": 71}
    subject_scores: Mapped[dict[str, int]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    import_id: Mapped[int | None] = mapped_column(ForeignKey("admission_test_import.id"))


class QuotaHolder(Base):
    """An applicant entitled to a quota in a season (orphan, disability, ethnic Kyrgyz from
    abroad), as established by the ministry."""

    __tablename__ = "admission_quota_holder"
    __table_args__ = (
        UniqueConstraint("season_id", "person_id", "category", name="uq_admission_quota_holder"),
        CheckConstraint(
            "category IN ('orphan', 'disability', 'ethnic_kyrgyz_abroad')", name="quota_category"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("admission_season.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    category: Mapped[PlaceCategory] = enum_column(PlaceCategory)


class AdmissionApplication(Timestamped, Base):
    """One choice of an applicant: a programme at a preference, for grant, contract or both.

    Scores are copied from the certificate at application time so that ranking reads one table.
    """

    __tablename__ = "admission_application"
    __table_args__ = (
        CheckConstraint("preference >= 1", name="preference"),
        CheckConstraint("(funding = 'contract') = (grant_category IS NULL)", name="grant_category"),
        CheckConstraint("grant_category IS NULL OR grant_category <> 'contract'", name="grant"),
        Index(
            "uq_admission_application_preference",
            "season_id",
            "person_id",
            "preference",
            unique=True,
            postgresql_where=text("status IN ('active', 'confirmed', 'enrolled')"),
        ),
        Index(
            "uq_admission_application_programme",
            "season_id",
            "person_id",
            "programme_id",
            unique=True,
            postgresql_where=text("status IN ('active', 'confirmed', 'enrolled')"),
        ),
        Index("ix_admission_application_programme", "programme_id", "status", "id"),
        Index("ix_admission_application_person", "person_id", "season_id", "preference"),
        Index("ix_admission_application_season_status", "season_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("admission_season.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    programme_id: Mapped[int] = mapped_column(ForeignKey("admission_programme.id"))
    test_result_id: Mapped[int] = mapped_column(ForeignKey("admission_test_result.id"))
    preference: Mapped[int] = mapped_column(SmallInteger)
    funding: Mapped[Funding] = enum_column(Funding)
    grant_category: Mapped[PlaceCategory | None] = enum_column(PlaceCategory, nullable=True)
    status: Mapped[ApplicationStatus] = enum_column(
        ApplicationStatus, server_default=text("'active'")
    )
    main_score: Mapped[int] = mapped_column(SmallInteger)
    subject_score: Mapped[int] = mapped_column(SmallInteger)
    state_language_score: Mapped[int] = mapped_column(SmallInteger)
    creative_score: Mapped[int | None] = mapped_column(SmallInteger)
    total_score: Mapped[int] = mapped_column(
        Integer, Computed("main_score + subject_score + COALESCE(creative_score, 0)")
    )
    round_number: Mapped[int] = mapped_column(SmallInteger)
    enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollment.id"))


class AdmissionOffer(Base):
    """A place recommended to an applicant in a round, and what became of it."""

    __tablename__ = "admission_offer"
    __table_args__ = (
        UniqueConstraint("round_id", "person_id", name="uq_admission_offer_round_person"),
        # One confirmed place per applicant per season, whatever the races.
        Index(
            "uq_admission_offer_confirmed",
            "season_id",
            "person_id",
            unique=True,
            postgresql_where=text("status IN ('confirmed', 'enrolled')"),
        ),
        Index("ix_admission_offer_application", "application_id"),
        Index("ix_admission_offer_person", "person_id", "season_id"),
        Index("ix_admission_offer_season_status", "season_id", "status"),
        CheckConstraint("rank >= 1", name="rank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("admission_round.id"))
    season_id: Mapped[int] = mapped_column(ForeignKey("admission_season.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("admission_application.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    programme_id: Mapped[int] = mapped_column(ForeignKey("admission_programme.id"), index=True)
    category: Mapped[PlaceCategory] = enum_column(PlaceCategory)
    rank: Mapped[int] = mapped_column(Integer)
    total_score: Mapped[int] = mapped_column(Integer)
    status: Mapped[AdmissionOfferStatus] = enum_column(
        AdmissionOfferStatus, server_default=text("'recommended'")
    )
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RoundCutoff(Base):
    """What a round did for one category of one programme: vacancies, how many were
    recommended, and the last recommended applicant's score (the cut-off)."""

    __tablename__ = "admission_round_cutoff"
    __table_args__ = (
        UniqueConstraint("round_id", "programme_id", "category", name="uq_admission_round_cutoff"),
        Index("ix_admission_round_cutoff_programme", "programme_id", "round_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("admission_round.id"))
    programme_id: Mapped[int] = mapped_column(ForeignKey("admission_programme.id"))
    category: Mapped[PlaceCategory] = enum_column(PlaceCategory)
    vacancies: Mapped[int] = mapped_column(Integer)
    competing: Mapped[int] = mapped_column(Integer)
    recommended: Mapped[int] = mapped_column(Integer)
    cutoff_score: Mapped[int | None] = mapped_column(Integer)


class AdmissionOrder(Base):
    """The order that closes a season: every confirmed applicant becomes a student."""

    __tablename__ = "admission_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("admission_season.id"), unique=True)
    number: Mapped[str] = mapped_column(String(40))
    issued_on: Mapped[date] = mapped_column(Date)
    issued_by: Mapped[str] = mapped_column(String(120))
    enrollments: Mapped[int] = mapped_column(Integer)


class RecognitionRoute(enum.StrEnum):
    """How a foreign applicant's education document counts for admission (domain.md U6)."""

    EQUIVALENCE = "equivalence"  # the certificate is equivalent; the applicant sits the test
    TEST_EXEMPTION = "test_exemption"  # the state-language test is not required of them
    SUBSTITUTE_TEST = "substitute_test"  # a substitute test's results stand as the certificate


class RecognitionStatus(enum.StrEnum):
    RECOGNISED = "recognised"
    REFUSED = "refused"


class DocumentRecognition(Timestamped, Base):
    """An officer's decision on a foreign applicant's education document in a season (U6):
    recognised by a route, or refused. One per applicant and season; a later decision
    replaces it."""

    __tablename__ = "admission_document_recognition"
    __table_args__ = (
        UniqueConstraint("season_id", "person_id", name="uq_admission_document_recognition"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("admission_season.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    country: Mapped[str] = mapped_column(String(60))
    document_number: Mapped[str] = mapped_column(String(40))
    route: Mapped[RecognitionRoute] = enum_column(RecognitionRoute)
    status: Mapped[RecognitionStatus] = enum_column(RecognitionStatus)
    # The equivalence certificate's or the refusal's reference.
    reference: Mapped[str] = mapped_column(String(120))
    decided_by: Mapped[str] = mapped_column(String(120))
