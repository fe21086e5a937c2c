"""The licensing domain's DataLoaders."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, case

from models import (
    Accreditation,
    AccreditationAgency,
    AccreditationKind,
    AccreditationStepRecord,
    InstitutionProgramme,
    Licence,
    LicenceAddress,
    LicenceApplication,
    LicenceApplicationStep,
    LicenceDocument,
    LicenceEvent,
    LicenceStatus,
    ProgrammeCode,
)
from resolvers.licensing.queries import (
    ACCREDITATION_COLUMNS,
    AGENCY_COLUMNS,
    APPLICATION_COLUMNS,
    LICENCE_COLUMNS,
)
from resolvers.licensing.rules import accreditation_readable, application_readable
from resolvers.loaders import ById, ByParent


class LicenceApplicationByIdLoader(ById):
    columns = APPLICATION_COLUMNS
    key = LicenceApplication.id

    def rule(self) -> ColumnElement[bool]:
        return application_readable(self.principal)


class LicenceByIdLoader(ById):
    columns = LICENCE_COLUMNS
    key = Licence.id


class AccreditationAgencyByIdLoader(ById):
    columns = AGENCY_COLUMNS
    key = AccreditationAgency.id


class AccreditationByIdLoader(ById):
    columns = ACCREDITATION_COLUMNS
    key = Accreditation.id

    def rule(self) -> ColumnElement[bool]:
        return accreditation_readable(self.principal)


class InstitutionProgrammeByIdLoader(ById):
    columns = tuple(InstitutionProgramme.__table__.c)
    key = InstitutionProgramme.id


class ProgrammeCodeByCodeLoader(ById):
    """Classifier entries by code (the classifier's key is the code, not an id)."""

    columns = tuple(ProgrammeCode.__table__.c)
    key = ProgrammeCode.code


class LicenceByApplicationLoader(ByParent):
    columns = LICENCE_COLUMNS
    parent = Licence.application_id
    order_by = (Licence.id,)


class LicenceReplacingLoader(ByParent):
    """The licence that replaced a licence (re-issue)."""

    columns = LICENCE_COLUMNS
    parent = Licence.replaces_id
    order_by = (Licence.id,)


class LicencesByInstitutionLoader(ByParent):
    """An institution's licences, the one in force (or the most recent) first."""

    columns = LICENCE_COLUMNS
    parent = Licence.institution_id
    order_by = (
        case((Licence.status.in_((LicenceStatus.ACTIVE, LicenceStatus.SUSPENDED)), 0), else_=1),
        Licence.issued_on.desc(),
        Licence.id.desc(),
    )


class AddressesByLicenceApplicationLoader(ByParent):
    columns = tuple(LicenceAddress.__table__.c)
    parent = LicenceAddress.application_id
    order_by = (LicenceAddress.id,)


class DocumentsByLicenceApplicationLoader(ByParent):
    columns = tuple(LicenceDocument.__table__.c)
    parent = LicenceDocument.application_id
    order_by = (LicenceDocument.id,)


class StepsByLicenceApplicationLoader(ByParent):
    columns = tuple(LicenceApplicationStep.__table__.c)
    parent = LicenceApplicationStep.application_id
    order_by = (LicenceApplicationStep.at, LicenceApplicationStep.id)


class EventsByLicenceLoader(ByParent):
    columns = tuple(LicenceEvent.__table__.c)
    parent = LicenceEvent.licence_id
    order_by = (LicenceEvent.at, LicenceEvent.id)


class StepsByAccreditationLoader(ByParent):
    columns = tuple(AccreditationStepRecord.__table__.c)
    parent = AccreditationStepRecord.accreditation_id
    order_by = (AccreditationStepRecord.at, AccreditationStepRecord.id)


class InstitutionalAccreditationsByInstitutionLoader(ByParent):
    columns = ACCREDITATION_COLUMNS
    parent = Accreditation.institution_id
    order_by = (Accreditation.id.desc(),)

    def where(self) -> Sequence[ColumnElement[bool]]:
        return (
            Accreditation.kind == AccreditationKind.INSTITUTIONAL,
            accreditation_readable(self.principal),
        )


class AccreditationsByProgrammeLoader(ByParent):
    columns = ACCREDITATION_COLUMNS
    parent = Accreditation.programme_id
    order_by = (Accreditation.id.desc(),)

    def where(self) -> Sequence[ColumnElement[bool]]:
        return (accreditation_readable(self.principal),)


class InstitutionProgrammesByInstitutionLoader(ByParent):
    columns = tuple(InstitutionProgramme.__table__.c)
    parent = InstitutionProgramme.institution_id
    order_by = (InstitutionProgramme.code,)
