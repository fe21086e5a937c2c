"""Every model of the hub, re-exported so Alembic's metadata sees them all."""

from models.base import Base
from models.enrollments import Enrollment, ExitReason, Sector
from models.events import AuditEntry, OutboxEvent, Outcome
from models.first_grade import (
    FirstGradeApplication,
    FirstGradeApplicationEvent,
    FirstGradeQuota,
    FirstGradeStage,
    FirstGradeStatus,
    RejectionReason,
)
from models.geography import District, DistrictKind, Region, RegionKind
from models.institutions import CatchmentArea, Institution, InstitutionKind, Language, Ownership
from models.intake import (
    BenefitCategory,
    BenefitStatus,
    DeclineRule,
    IntakeKind,
    IntakeSeason,
    KindergartenAgeGroup,
    PublicHoliday,
)
from models.people import (
    GuardianKind,
    Guardianship,
    Person,
    PersonPin,
    PinChangeReason,
    Sex,
    StaffPosition,
    StaffRole,
)
from models.preschool import (
    KindergartenApplication,
    KindergartenApplicationEvent,
    KindergartenOffer,
    KindergartenPlaces,
    KindergartenPreference,
    OfferStatus,
    QueueStatus,
    Residency,
)

__all__ = [
    "AuditEntry",
    "Base",
    "BenefitCategory",
    "BenefitStatus",
    "CatchmentArea",
    "DeclineRule",
    "District",
    "DistrictKind",
    "Enrollment",
    "ExitReason",
    "FirstGradeApplication",
    "FirstGradeApplicationEvent",
    "FirstGradeQuota",
    "FirstGradeStage",
    "FirstGradeStatus",
    "GuardianKind",
    "Guardianship",
    "Institution",
    "InstitutionKind",
    "IntakeKind",
    "IntakeSeason",
    "KindergartenAgeGroup",
    "KindergartenApplication",
    "KindergartenApplicationEvent",
    "KindergartenOffer",
    "KindergartenPlaces",
    "KindergartenPreference",
    "Language",
    "OfferStatus",
    "OutboxEvent",
    "Outcome",
    "Ownership",
    "Person",
    "PersonPin",
    "PinChangeReason",
    "PublicHoliday",
    "QueueStatus",
    "Region",
    "RegionKind",
    "RejectionReason",
    "Residency",
    "Sector",
    "Sex",
    "StaffPosition",
    "StaffRole",
]
