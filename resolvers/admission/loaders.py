"""The admission and study-abroad DataLoaders of a request (reached as
``ctx.loaders.admission``), each restricted by the same reading rules as the lists."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    RoundCutoff,
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
from resolvers.loaders import PagesByParent, RowsById, RowsByParent
from resolvers.people import PERSON_COLUMNS

if TYPE_CHECKING:
    from resolvers.context import Context


class AdmissionLoaders:
    """Loaders of university admission and study abroad, named for rows and key."""

    def __init__(self, ctx: Context) -> None:
        principal = ctx.principal
        readable_application = admission_application_readable(principal)
        self.season_by_id = RowsById(ctx, SEASON_COLUMNS, AdmissionSeason.id)
        self.round_by_id = RowsById(ctx, ROUND_COLUMNS, AdmissionRound.id)
        self.programme_by_id = RowsById(ctx, PROGRAMME_COLUMNS, AdmissionProgramme.id)
        self.test_result_by_id = RowsById(
            ctx, TEST_RESULT_COLUMNS, NationalTestResult.id, test_result_readable(principal)
        )
        self.application_by_id = RowsById(
            ctx, APPLICATION_COLUMNS, AdmissionApplication.id, readable_application
        )
        self.offer_by_id = RowsById(
            ctx, OFFER_COLUMNS, AdmissionOffer.id, offer_readable(principal)
        )
        # Applicants are readable by the admission officers of the universities they apply to.
        self.applicant_by_id = RowsById(
            ctx, PERSON_COLUMNS, Person.id, admission_person_readable(principal, Person.id)
        )
        self.rounds_by_season = RowsByParent(
            ctx, ROUND_COLUMNS, AdmissionRound.season_id, (AdmissionRound.number,)
        )
        self.thresholds_by_season = RowsByParent(
            ctx,
            tuple(FieldThreshold.__table__.c),
            FieldThreshold.season_id,
            (FieldThreshold.field_of_study,),
        )
        self.places_by_programme = RowsByParent(
            ctx,
            tuple(ProgrammePlaces.__table__.c),
            ProgrammePlaces.programme_id,
            (ProgrammePlaces.category,),
        )
        self.cutoffs_by_round = RowsByParent(
            ctx,
            tuple(RoundCutoff.__table__.c),
            RoundCutoff.round_id,
            (RoundCutoff.programme_id, RoundCutoff.category),
        )
        self.applications_by_person = RowsByParent(
            ctx,
            APPLICATION_COLUMNS,
            AdmissionApplication.person_id,
            (
                AdmissionApplication.season_id.desc(),
                AdmissionApplication.preference,
                AdmissionApplication.id,
            ),
            (readable_application,),
        )
        self.offers_by_application = RowsByParent(
            ctx,
            OFFER_COLUMNS,
            AdmissionOffer.application_id,
            (AdmissionOffer.round_id.desc(), AdmissionOffer.id),
            (offer_readable(principal),),
        )
        self.test_results_by_person = RowsByParent(
            ctx,
            TEST_RESULT_COLUMNS,
            NationalTestResult.person_id,
            (NationalTestResult.year.desc(),),
            (test_result_readable(principal),),
        )
        self.applications_by_programme = PagesByParent(
            ctx,
            APPLICATION_COLUMNS,
            AdmissionApplication.programme_id,
            lambda statuses: [
                readable_application,
                *([AdmissionApplication.status.in_(statuses)] if statuses else []),
            ],
        )
        # study abroad
        readable_foreign = foreign_application_readable(principal)
        self.foreign_programme_by_id = RowsById(ctx, abroad.PROGRAMME_COLUMNS, ForeignProgramme.id)
        self.foreign_application_by_id = RowsById(
            ctx, abroad.APPLICATION_COLUMNS, ForeignApplication.id, readable_foreign
        )
        self.field_rules_by_foreign_programme = RowsByParent(
            ctx,
            tuple(ForeignFieldRule.__table__.c),
            ForeignFieldRule.programme_id,
            (ForeignFieldRule.field_of_study,),
        )
        self.stage_results_by_foreign_application = RowsByParent(
            ctx,
            tuple(ForeignStageResult.__table__.c),
            ForeignStageResult.application_id,
            (ForeignStageResult.decided_at, ForeignStageResult.id),
        )
        self.foreign_applications_by_person = RowsByParent(
            ctx,
            abroad.APPLICATION_COLUMNS,
            ForeignApplication.person_id,
            (ForeignApplication.id,),
            (readable_foreign,),
        )
