"""The licensing domain's per-request DataLoaders (``ctx.loaders.licensing``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import case, select
from strawberry.dataloader import DataLoader

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

if TYPE_CHECKING:
    from resolvers.context import Context


class ProgrammeCodeByCode:
    """Classifier entries by code (the classifier's key is the code, not an id)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.loader: DataLoader[str, Any] = DataLoader(load_fn=self._load)

    async def _load(self, codes: list[str]) -> list[Any]:
        stmt = select(*ProgrammeCode.__table__.c).where(ProgrammeCode.code.in_(codes))
        rows = await self.ctx.run(lambda s: s.execute(stmt))
        found = {row.code: row for row in rows}
        return [found.get(c) for c in codes]

    async def load_many(self, codes: list[str]) -> list[Any]:
        return list(await self.loader.load_many(codes))


class LicensingLoaders:
    """Loaders named for the rows they return and the key they take."""

    def __init__(self, ctx: Context) -> None:
        from resolvers.loaders import RowsById, RowsByParent

        principal = ctx.principal
        self.application_by_id = RowsById(
            ctx, APPLICATION_COLUMNS, LicenceApplication.id, application_readable(principal)
        )
        self.licence_by_id = RowsById(ctx, LICENCE_COLUMNS, Licence.id)
        self.agency_by_id = RowsById(ctx, AGENCY_COLUMNS, AccreditationAgency.id)
        self.accreditation_by_id = RowsById(
            ctx, ACCREDITATION_COLUMNS, Accreditation.id, accreditation_readable(principal)
        )
        self.programme_by_id = RowsById(
            ctx, tuple(InstitutionProgramme.__table__.c), InstitutionProgramme.id
        )
        self.programme_code_by_code = ProgrammeCodeByCode(ctx)

        self.licence_by_application = RowsByParent(
            ctx, LICENCE_COLUMNS, Licence.application_id, (Licence.id,)
        )
        self.licence_replacing = RowsByParent(
            ctx, LICENCE_COLUMNS, Licence.replaces_id, (Licence.id,)
        )
        # An institution's licences, the one in force (or the most recent) first.
        live_first = case(
            (Licence.status.in_((LicenceStatus.ACTIVE, LicenceStatus.SUSPENDED)), 0), else_=1
        )
        self.licences_by_institution = RowsByParent(
            ctx,
            LICENCE_COLUMNS,
            Licence.institution_id,
            (live_first, Licence.issued_on.desc(), Licence.id.desc()),
        )
        self.addresses_by_application = RowsByParent(
            ctx,
            tuple(LicenceAddress.__table__.c),
            LicenceAddress.application_id,
            (LicenceAddress.id,),
        )
        self.documents_by_application = RowsByParent(
            ctx,
            tuple(LicenceDocument.__table__.c),
            LicenceDocument.application_id,
            (LicenceDocument.id,),
        )
        self.steps_by_application = RowsByParent(
            ctx,
            tuple(LicenceApplicationStep.__table__.c),
            LicenceApplicationStep.application_id,
            (LicenceApplicationStep.at, LicenceApplicationStep.id),
        )
        self.events_by_licence = RowsByParent(
            ctx,
            tuple(LicenceEvent.__table__.c),
            LicenceEvent.licence_id,
            (LicenceEvent.at, LicenceEvent.id),
        )
        self.steps_by_accreditation = RowsByParent(
            ctx,
            tuple(AccreditationStepRecord.__table__.c),
            AccreditationStepRecord.accreditation_id,
            (AccreditationStepRecord.at, AccreditationStepRecord.id),
        )
        readable = accreditation_readable(principal)
        self.institutional_accreditations_by_institution = RowsByParent(
            ctx,
            ACCREDITATION_COLUMNS,
            Accreditation.institution_id,
            (Accreditation.id.desc(),),
            (Accreditation.kind == AccreditationKind.INSTITUTIONAL, readable),
        )
        self.accreditations_by_programme = RowsByParent(
            ctx,
            ACCREDITATION_COLUMNS,
            Accreditation.programme_id,
            (Accreditation.id.desc(),),
            (readable,),
        )
        self.programmes_by_institution = RowsByParent(
            ctx,
            tuple(InstitutionProgramme.__table__.c),
            InstitutionProgramme.institution_id,
            (InstitutionProgramme.code,),
        )
