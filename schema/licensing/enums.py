"""The licensing domain's enums, as the graph names them."""

from __future__ import annotations

from typing import TypeAlias

import strawberry

from models import AccreditationKind as AccreditationKindEnum
from models import AccreditationOutcome as AccreditationOutcomeEnum
from models import AccreditationStep as AccreditationStepEnum
from models import ApplicationAction as ApplicationActionEnum
from models import AppliedAs as AppliedAsEnum
from models import DocumentKind as DocumentKindEnum
from models import EducationLevel as EducationLevelEnum
from models import LicenceAction as LicenceActionEnum
from models import LicenceApplicationStatus as ApplicationStatusEnum
from models import LicenceStatus as LicenceStatusEnum
from models import PremisesTenure as PremisesTenureEnum
from resolvers.licensing.applications import Decision as DecisionEnum

strawberry.enum(
    EducationLevelEnum, name="EducationLevel", description="A level of education a licence covers."
)
EducationLevel: TypeAlias = EducationLevelEnum
strawberry.enum(
    PremisesTenureEnum, name="PremisesTenure", description="On what title premises are held."
)
PremisesTenure: TypeAlias = PremisesTenureEnum
strawberry.enum(DocumentKindEnum, name="DocumentKind", description="What an attached document is.")
DocumentKind: TypeAlias = DocumentKindEnum
strawberry.enum(AppliedAsEnum, name="AppliedAs", description="Who filed a licence application.")
AppliedAs: TypeAlias = AppliedAsEnum
strawberry.enum(
    ApplicationStatusEnum,
    name="LicenceApplicationStatus",
    description="Where a licence application stands.",
)
LicenceApplicationStatus: TypeAlias = ApplicationStatusEnum
strawberry.enum(
    ApplicationActionEnum,
    name="LicenceApplicationAction",
    description="A step in a licence application's history.",
)
LicenceApplicationAction: TypeAlias = ApplicationActionEnum
strawberry.enum(LicenceStatusEnum, name="LicenceStatus", description="A licence's state.")
LicenceStatus: TypeAlias = LicenceStatusEnum
strawberry.enum(
    LicenceActionEnum, name="LicenceAction", description="A step in a licence's history."
)
LicenceAction: TypeAlias = LicenceActionEnum
strawberry.enum(
    AccreditationKindEnum,
    name="AccreditationKind",
    description="Institutional or programme accreditation.",
)
AccreditationKind: TypeAlias = AccreditationKindEnum
strawberry.enum(
    AccreditationStepEnum,
    name="AccreditationStep",
    description="The steps of an accreditation, in order.",
)
AccreditationStep: TypeAlias = AccreditationStepEnum
strawberry.enum(
    AccreditationOutcomeEnum,
    name="AccreditationOutcome",
    description="Pending, or what the council decided (or that the validity ended).",
)
AccreditationOutcome: TypeAlias = AccreditationOutcomeEnum
strawberry.enum(
    DecisionEnum, name="LicenceDecision", description="A licensing officer's step on a case."
)
LicenceDecision: TypeAlias = DecisionEnum
