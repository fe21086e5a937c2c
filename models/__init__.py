"""Every model of the hub, re-exported so Alembic's metadata sees them all."""

from models.access import ApiKey, CostBudget, PersistedQuery
from models.base import Base
from models.enrollments import Enrollment, ExitReason, Sector
from models.events import AuditEntry, OutboxEvent, Outcome
from models.geography import District, DistrictKind, Region, RegionKind
from models.institutions import CatchmentArea, Institution, InstitutionKind, Language, Ownership
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

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "CatchmentArea",
    "CostBudget",
    "District",
    "DistrictKind",
    "Enrollment",
    "ExitReason",
    "GuardianKind",
    "Guardianship",
    "Institution",
    "InstitutionKind",
    "Language",
    "OutboxEvent",
    "Outcome",
    "Ownership",
    "PersistedQuery",
    "Person",
    "PersonPin",
    "PinChangeReason",
    "Region",
    "RegionKind",
    "Sector",
    "Sex",
    "StaffPosition",
    "StaffRole",
]
