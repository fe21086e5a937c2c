"""The admission and study-abroad DataLoaders of a request (reached as
``ctx.loaders.admission``), each restricted by the same reading rules as the lists."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from models import (
    AdmissionApplication,
    AdmissionOffer,
    AdmissionProgramme,
    AdmissionRound,
    AdmissionSeason,
    FieldThreshold,
    ForeignApplication,
    ForeignFieldRule,
    ForeignProgramme,
    ForeignStageResult,
    NationalTestResult,
    Person,
    ProgrammePlaces,
)
from resolvers import abroad
from resolvers.access import (
    admission_application_readable,
    admission_person_readable,
    foreign_application_readable,
)
from resolvers.admission.queries import (
    APPLICATION_COLUMNS,
    OFFER_COLUMNS,
    PROGRAMME_COLUMNS,
    ROUND_COLUMNS,
    SEASON_COLUMNS,
    TEST_RESULT_COLUMNS,
    offer_readable,
    test_result_readable,
)
from resolvers.loaders import RowsById, RowsByParent
from resolvers.people import PERSON_COLUMNS

if TYPE_CHECKING:
    from resolvers.context import Context


class AdmissionLoaders:
    """Loaders of university admission and study abroad, named for rows and key. Each is built
    on first use: a request pays only for the loaders (and reading rules) it needs."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.principal = ctx.principal

    @cached_property
    def readable_application(self) -> Any:
        return admission_application_readable(self.principal)

    @cached_property
    def season_by_id(self) -> RowsById:
        return RowsById(self.ctx, SEASON_COLUMNS, AdmissionSeason.id)

    @cached_property
    def round_by_id(self) -> RowsById:
        return RowsById(self.ctx, ROUND_COLUMNS, AdmissionRound.id)

    @cached_property
    def programme_by_id(self) -> RowsById:
        return RowsById(self.ctx, PROGRAMME_COLUMNS, AdmissionProgramme.id)

    @cached_property
    def test_result_by_id(self) -> RowsById:
        return RowsById(
            self.ctx,
            TEST_RESULT_COLUMNS,
            NationalTestResult.id,
            test_result_readable(self.principal),
        )

    @cached_property
    def application_by_id(self) -> RowsById:
        return RowsById(
            self.ctx, APPLICATION_COLUMNS, AdmissionApplication.id, self.readable_application
        )

    @cached_property
    def offer_by_id(self) -> RowsById:
        return RowsById(self.ctx, OFFER_COLUMNS, AdmissionOffer.id, offer_readable(self.principal))

    @cached_property
    def applicant_by_id(self) -> RowsById:
        """Applicants are readable by the admission officers of the universities they apply to."""
        return RowsById(
            self.ctx,
            PERSON_COLUMNS,
            Person.id,
            admission_person_readable(self.principal, Person.id),
        )

    @cached_property
    def rounds_by_season(self) -> RowsByParent:
        return RowsByParent(
            self.ctx, ROUND_COLUMNS, AdmissionRound.season_id, (AdmissionRound.number,)
        )

    @cached_property
    def thresholds_by_season(self) -> RowsByParent:
        return RowsByParent(
            self.ctx,
            tuple(FieldThreshold.__table__.c),
            FieldThreshold.season_id,
            (FieldThreshold.field_of_study,),
        )

    @cached_property
    def places_by_programme(self) -> RowsByParent:
        return RowsByParent(
            self.ctx,
            tuple(ProgrammePlaces.__table__.c),
            ProgrammePlaces.programme_id,
            (ProgrammePlaces.category,),
        )

    @cached_property
    def offers_by_application(self) -> RowsByParent:
        return RowsByParent(
            self.ctx,
            OFFER_COLUMNS,
            AdmissionOffer.application_id,
            (AdmissionOffer.round_id.desc(), AdmissionOffer.id),
            (offer_readable(self.principal),),
        )

    # study abroad

    @cached_property
    def foreign_programme_by_id(self) -> RowsById:
        return RowsById(self.ctx, abroad.PROGRAMME_COLUMNS, ForeignProgramme.id)

    @cached_property
    def foreign_application_by_id(self) -> RowsById:
        return RowsById(
            self.ctx,
            abroad.APPLICATION_COLUMNS,
            ForeignApplication.id,
            foreign_application_readable(self.principal),
        )

    @cached_property
    def field_rules_by_foreign_programme(self) -> RowsByParent:
        return RowsByParent(
            self.ctx,
            tuple(ForeignFieldRule.__table__.c),
            ForeignFieldRule.programme_id,
            (ForeignFieldRule.field_of_study,),
        )

    @cached_property
    def stage_results_by_foreign_application(self) -> RowsByParent:
        return RowsByParent(
            self.ctx,
            tuple(ForeignStageResult.__table__.c),
            ForeignStageResult.application_id,
            (ForeignStageResult.decided_at, ForeignStageResult.id),
        )
