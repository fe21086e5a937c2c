"""University admission's root lists and the rank explanation."""

from __future__ import annotations

import strawberry

from resolvers import admission as admission_service
from resolvers.context import Context, Info
from resolvers.errors import ErrorCode as Code
from resolvers.errors import RequestError
from schema.admission.types import (
    AdmissionApplication,
    AdmissionApplicationOrder,
    AdmissionSeason,
    AdmissionSeasonOrder,
    ApplicationStatus,
    Intake,
    NationalTestResult,
    NationalTestResultOrder,
    Programme,
    ProgrammeOrder,
    RankExplanation,
)
from schema.common import Connection
from schema.fields import Listing, connection, personal
from schema.node import query_pk
from schema.permissions import signed_in


@strawberry.input(description="Narrow a test result list; every field given must hold.")
class TestResultFilterInput:
    year: int | None = strawberry.field(default=None, description="Only this test year.")
    certificate_number: str | None = personal(default=None, description="Only this certificate.")
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this person."
    )


@strawberry.input(description="Narrow a season list.")
class AdmissionSeasonFilterInput:
    year: int | None = strawberry.field(default=None, description="Only this year.")
    intake: Intake | None = strawberry.field(default=None, description="Only this intake.")


@strawberry.input(description="Narrow a programme list; every field given must hold.")
class ProgrammeFilterInput:
    season_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this season."
    )
    institution_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this university."
    )
    field_of_study: str | None = strawberry.field(default=None, description="Only this field.")
    name: str | None = strawberry.field(default=None, description="Name contains this text.")


@strawberry.input(description="Narrow an application list; every field given must hold.")
class AdmissionApplicationFilterInput:
    season_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this season."
    )
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this applicant."
    )
    programme_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this programme."
    )
    statuses: list[ApplicationStatus] | None = strawberry.field(
        default=None, description="Only these statuses."
    )


def _result_filter(flt: TestResultFilterInput | None) -> admission_service.TestResultFilter:
    flt = flt or TestResultFilterInput()
    if flt.certificate_number is not None and len(flt.certificate_number) > 20:
        raise RequestError(Code.INVALID_INPUT, "`certificateNumber` is at most 20 characters")
    return admission_service.TestResultFilter(
        year=flt.year,
        certificate_number=flt.certificate_number,
        person_id=query_pk(flt.person_id, "Person") if flt.person_id else None,
    )


def _programme_filter(flt: ProgrammeFilterInput | None) -> admission_service.ProgrammeFilter:
    flt = flt or ProgrammeFilterInput()
    if flt.name is not None and len(flt.name) > 100:
        raise RequestError(Code.INVALID_INPUT, "`name` is at most 100 characters")
    return admission_service.ProgrammeFilter(
        season_id=query_pk(flt.season_id, "AdmissionSeason") if flt.season_id else None,
        institution_id=query_pk(flt.institution_id, "Institution") if flt.institution_id else None,
        field_of_study=flt.field_of_study,
        name=flt.name,
    )


def _application_filter(
    flt: AdmissionApplicationFilterInput | None,
) -> admission_service.ApplicationFilter:
    if flt is None:
        return admission_service.ApplicationFilter()
    return admission_service.ApplicationFilter(
        season_id=query_pk(flt.season_id, "AdmissionSeason") if flt.season_id else None,
        person_id=query_pk(flt.person_id, "Person") if flt.person_id else None,
        programme_id=query_pk(flt.programme_id, "Programme") if flt.programme_id else None,
        statuses=tuple(flt.statuses or ()),
    )


@strawberry.type
class Query:
    @connection(
        Connection[NationalTestResult],
        description="National test certificates you may read.",
        permission_classes=[signed_in("Sign in to read test results")],
    )
    def test_results(
        self,
        ctx: Context,
        filter: TestResultFilterInput | None = None,
        order_by: NationalTestResultOrder = NationalTestResultOrder.ID,
    ) -> Listing:
        stmt = admission_service.test_results_query(ctx.principal, _result_filter(filter))
        ordering = admission_service.TEST_RESULT_ORDERINGS[order_by.value]
        return Listing(stmt, ordering, NationalTestResult.from_row)

    @connection(
        Connection[AdmissionSeason], description="Admission seasons and their policy (public)."
    )
    def admission_seasons(
        self,
        ctx: Context,
        filter: AdmissionSeasonFilterInput | None = None,
        order_by: AdmissionSeasonOrder = AdmissionSeasonOrder.YEAR_DESC,
    ) -> Listing:
        flt = filter or AdmissionSeasonFilterInput()
        stmt = admission_service.seasons_query(
            admission_service.SeasonFilter(year=flt.year, intake=flt.intake)
        )
        ordering = admission_service.SEASON_ORDERINGS[order_by.value]
        return Listing(stmt, ordering, AdmissionSeason.from_row)

    @connection(
        Connection[Programme],
        description="University programmes offered in admission seasons (public).",
    )
    def programmes(
        self,
        ctx: Context,
        filter: ProgrammeFilterInput | None = None,
        order_by: ProgrammeOrder = ProgrammeOrder.NAME,
    ) -> Listing:
        stmt = admission_service.programmes_query(_programme_filter(filter))
        ordering = admission_service.PROGRAMME_ORDERINGS[order_by.value]
        return Listing(stmt, ordering, Programme.from_row)

    @connection(
        Connection[AdmissionApplication],
        description="Applications you may read: your own, your university's, or all (ministry).",
        permission_classes=[signed_in("Sign in to read applications")],
    )
    def admission_applications(
        self,
        ctx: Context,
        filter: AdmissionApplicationFilterInput | None = None,
        order_by: AdmissionApplicationOrder = AdmissionApplicationOrder.PREFERENCE,
    ) -> Listing:
        stmt = admission_service.applications_query(ctx.principal, _application_filter(filter))
        ordering = admission_service.APPLICATION_ORDERINGS[order_by.value]
        return Listing(stmt, ordering, AdmissionApplication.from_row)

    @strawberry.field(
        description="Why an application ranks where it does: score, pool, rank and cut-off "
        "(null if you may not read the application).",
        permission_classes=[signed_in("Sign in to read applications")],
    )
    async def rank_explanation(
        self, info: Info, application_id: strawberry.ID
    ) -> RankExplanation | None:
        pk = query_pk(application_id, "AdmissionApplication")
        ctx = info.context
        result = await ctx.run(
            lambda s: admission_service.rank_explanation(s, ctx.principal, application_id=pk)
        )
        return RankExplanation.from_result(result) if result else None
