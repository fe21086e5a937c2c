"""University admission's DataLoaders, each restricted by the same reading rules as the
lists."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement

from models import (
    AdmissionApplication,
    AdmissionOffer,
    AdmissionProgramme,
    AdmissionRound,
    AdmissionSeason,
    FieldThreshold,
    NationalTestResult,
    Person,
    ProgrammePlaces,
)
from resolvers.admission.queries import (
    APPLICATION_COLUMNS,
    OFFER_COLUMNS,
    PROGRAMME_COLUMNS,
    ROUND_COLUMNS,
    SEASON_COLUMNS,
    TEST_RESULT_COLUMNS,
)
from resolvers.admission.rules import (
    admission_application_readable,
    admission_person_readable,
    offer_readable,
    test_result_readable,
)
from resolvers.loaders import ById, ByParent
from resolvers.people import PERSON_COLUMNS


class AdmissionSeasonByIdLoader(ById):
    columns = SEASON_COLUMNS
    key = AdmissionSeason.id


class AdmissionRoundByIdLoader(ById):
    columns = ROUND_COLUMNS
    key = AdmissionRound.id


class ProgrammeByIdLoader(ById):
    columns = PROGRAMME_COLUMNS
    key = AdmissionProgramme.id


class NationalTestResultByIdLoader(ById):
    columns = TEST_RESULT_COLUMNS
    key = NationalTestResult.id

    def rule(self) -> ColumnElement[bool]:
        return test_result_readable(self.principal)


class AdmissionApplicationByIdLoader(ById):
    columns = APPLICATION_COLUMNS
    key = AdmissionApplication.id

    def rule(self) -> ColumnElement[bool]:
        return admission_application_readable(self.principal)


class AdmissionOfferByIdLoader(ById):
    columns = OFFER_COLUMNS
    key = AdmissionOffer.id

    def rule(self) -> ColumnElement[bool]:
        return offer_readable(self.principal)


class AdmissionApplicantByIdLoader(ById):
    """Applicants are readable by the admission officers of the universities they apply to."""

    columns = PERSON_COLUMNS
    key = Person.id

    def rule(self) -> ColumnElement[bool]:
        return admission_person_readable(self.principal, Person.id)


class AdmissionRoundsBySeasonLoader(ByParent):
    columns = ROUND_COLUMNS
    parent = AdmissionRound.season_id
    order_by = (AdmissionRound.number,)


class FieldThresholdsBySeasonLoader(ByParent):
    columns = tuple(FieldThreshold.__table__.c)
    parent = FieldThreshold.season_id
    order_by = (FieldThreshold.field_of_study,)


class PlacesByProgrammeLoader(ByParent):
    columns = tuple(ProgrammePlaces.__table__.c)
    parent = ProgrammePlaces.programme_id
    order_by = (ProgrammePlaces.category,)


class AdmissionOffersByApplicationLoader(ByParent):
    columns = OFFER_COLUMNS
    parent = AdmissionOffer.application_id
    order_by = (AdmissionOffer.round_id.desc(), AdmissionOffer.id)

    def where(self) -> Sequence[ColumnElement[bool]]:
        return (offer_readable(self.principal),)
