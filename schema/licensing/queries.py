"""Licensing root queries: applications (signed in), and the public registers and checks."""

from __future__ import annotations

import enum
from datetime import date
from typing import Annotated

import strawberry

from resolvers import clock
from resolvers.context import Context, Info
from resolvers.errors import ErrorCode as Code
from resolvers.errors import RequestError
from resolvers.licensing import queries as licensing_queries
from resolvers.licensing.loaders import InstitutionProgrammesByInstitutionLoader
from schema.common import Connection
from schema.fields import Listing, connection
from schema.licensing.enums import (
    AccreditationKind,
    AccreditationOutcome,
    EducationLevel,
    LicenceApplicationStatus,
    LicenceStatus,
)
from schema.licensing.types import (
    Accreditation,
    AccreditationAgency,
    InstitutionProgramme,
    Licence,
    LicenceApplication,
    LicensingPolicy,
    ProgrammeCode,
)
from schema.node import query_pk
from schema.permissions import signed_in


@strawberry.input(description="Narrow the licence applications; every field given must hold.")
class LicenceApplicationFilter:
    statuses: list[LicenceApplicationStatus] | None = strawberry.field(
        default=None, description="In one of these states."
    )
    institution_id: strawberry.ID | None = strawberry.field(
        default=None, description="Of this institution."
    )
    region_id: strawberry.ID | None = strawberry.field(
        default=None, description="Of institutions in this region."
    )
    overdue: bool | None = strawberry.field(
        default=None, description="Only those under review past their deadline (true)."
    )


@strawberry.enum(description="Orders of the licence application list.")
class LicenceApplicationOrder(enum.Enum):
    DUE_ON = "DUE_ON"
    SUBMITTED_ON_DESC = "SUBMITTED_ON_DESC"
    ID = "ID"


@strawberry.input(description="Narrow the licence register; every field given must hold.")
class LicenceFilter:
    statuses: list[LicenceStatus] | None = strawberry.field(
        default=None, description="In one of these states."
    )
    institution_id: strawberry.ID | None = strawberry.field(
        default=None, description="Of this institution."
    )
    region_id: strawberry.ID | None = strawberry.field(
        default=None, description="Of institutions in this region."
    )
    valid_on: date | None = strawberry.field(default=None, description="In force on this day.")
    level: EducationLevel | None = strawberry.field(
        default=None, description="Covering this level."
    )


@strawberry.enum(description="Orders of the licence register.")
class LicenceOrder(enum.Enum):
    NUMBER = "NUMBER"
    ISSUED_ON_DESC = "ISSUED_ON_DESC"
    ID = "ID"


@strawberry.input(description="Narrow the agency register.")
class AccreditationAgencyFilter:
    may_accredit_today: bool | None = strawberry.field(
        default=None, description="Only agencies that may accredit today (true)."
    )
    country_code: str | None = strawberry.field(default=None, description="Of this country.")


@strawberry.input(description="Narrow the accreditations; every field given must hold.")
class AccreditationFilter:
    institution_id: strawberry.ID | None = strawberry.field(
        default=None, description="Of this institution."
    )
    agency_id: strawberry.ID | None = strawberry.field(default=None, description="By this agency.")
    kind: AccreditationKind | None = strawberry.field(
        default=None, description="Institutional or programme."
    )
    outcomes: list[AccreditationOutcome] | None = strawberry.field(
        default=None, description="With one of these outcomes."
    )
    valid_on: date | None = strawberry.field(default=None, description="In force on this day.")


@strawberry.enum(description="Orders of the accreditation list.")
class AccreditationOrder(enum.Enum):
    ID = "ID"
    ID_DESC = "ID_DESC"


def _cap(items: list[object] | None, name: str) -> None:
    if items is not None and len(items) > 10:
        raise RequestError(Code.INVALID_INPUT, f"`{name}` has at most 10 items")


@strawberry.type
class Query:
    @connection(
        Connection[LicenceApplication],
        description="Licence applications: licensing officers see those in their scope, "
        "applicants their own.",
        permission_classes=[signed_in("Sign in to read licence applications")],
    )
    def licence_applications(
        self,
        ctx: Context,
        filter: LicenceApplicationFilter | None = None,
        order_by: LicenceApplicationOrder = LicenceApplicationOrder.DUE_ON,
    ) -> Listing:
        flt = filter or LicenceApplicationFilter()
        _cap(flt.statuses, "statuses")  # type: ignore[arg-type]
        stmt = licensing_queries.applications_query(
            ctx.principal,
            licensing_queries.ApplicationFilter(
                statuses=tuple(flt.statuses or ()),
                institution_id=query_pk(flt.institution_id, "Institution")
                if flt.institution_id
                else None,
                region_id=query_pk(flt.region_id, "Region") if flt.region_id else None,
                overdue_on=clock.today() if flt.overdue else None,
            ),
        )
        ordering = licensing_queries.APPLICATION_ORDERINGS[order_by.value]
        return Listing(stmt, ordering, LicenceApplication.from_row)

    @connection(Connection[Licence], description="The public register of licences.")
    def licences(
        self,
        ctx: Context,
        filter: LicenceFilter | None = None,
        order_by: LicenceOrder = LicenceOrder.NUMBER,
    ) -> Listing:
        flt = filter or LicenceFilter()
        _cap(flt.statuses, "statuses")  # type: ignore[arg-type]
        stmt = licensing_queries.licences_query(
            licensing_queries.LicenceFilter(
                statuses=tuple(flt.statuses or ()),
                institution_id=query_pk(flt.institution_id, "Institution")
                if flt.institution_id
                else None,
                region_id=query_pk(flt.region_id, "Region") if flt.region_id else None,
                valid_on=flt.valid_on,
                level=flt.level,
            )
        )
        ordering = licensing_queries.LICENCE_ORDERINGS[order_by.value]
        return Listing(stmt, ordering, Licence.from_row)

    @strawberry.field(
        description="Check a licence by its number (public, no token needed): null if no "
        "licence has this number; `validToday` says whether it is in force."
    )
    async def verify_licence(
        self,
        info: Info,
        number: Annotated[str, strawberry.argument(description="The licence number.")],
    ) -> Licence | None:
        if len(number) > 40:
            return None
        stmt = licensing_queries.licence_by_number_query(number)
        row = (await info.context.run(lambda s: s.execute(stmt))).first()
        return Licence.from_row(row) if row else None

    @strawberry.field(description="A programme of an institution, by classifier code (public).")
    async def institution_programme(
        self,
        info: Info,
        institution_id: Annotated[
            strawberry.ID, strawberry.argument(description="The institution.")
        ],
        code: Annotated[str, strawberry.argument(description="The programme's classifier code.")],
    ) -> InstitutionProgramme | None:
        pk = query_pk(institution_id, "Institution")
        rows = await InstitutionProgrammesByInstitutionLoader(info.context).load(pk)
        wanted = code.strip().upper()
        return next((InstitutionProgramme.from_row(r) for r in rows if r.code == wanted), None)

    @connection(
        Connection[AccreditationAgency],
        description="The register of accreditation agencies (public).",
    )
    def accreditation_agencies(
        self, ctx: Context, filter: AccreditationAgencyFilter | None = None
    ) -> Listing:
        flt = filter or AccreditationAgencyFilter()
        if flt.country_code is not None and len(flt.country_code) != 2:
            raise RequestError(Code.INVALID_INPUT, "`countryCode` has two letters")
        stmt = licensing_queries.agencies_query(
            may_accredit_on=clock.today() if flt.may_accredit_today else None,
            country_code=flt.country_code,
        )
        ordering = licensing_queries.AGENCY_ORDERINGS["NAME"]
        return Listing(stmt, ordering, AccreditationAgency.from_row)

    @connection(
        Connection[Accreditation],
        description="Accreditations: decided ones are public; those in progress are read by "
        "licensing officers in scope and the applicant.",
    )
    def accreditations(
        self,
        ctx: Context,
        filter: AccreditationFilter | None = None,
        order_by: AccreditationOrder = AccreditationOrder.ID_DESC,
    ) -> Listing:
        flt = filter or AccreditationFilter()
        _cap(flt.outcomes, "outcomes")  # type: ignore[arg-type]
        stmt = licensing_queries.accreditations_query(
            ctx.principal,
            licensing_queries.AccreditationFilter(
                institution_id=query_pk(flt.institution_id, "Institution")
                if flt.institution_id
                else None,
                agency_id=query_pk(flt.agency_id, "AccreditationAgency") if flt.agency_id else None,
                kind=flt.kind,
                outcomes=tuple(flt.outcomes or ()),
                valid_on=flt.valid_on,
            ),
        )
        ordering = licensing_queries.ACCREDITATION_ORDERINGS[order_by.value]
        return Listing(stmt, ordering, Accreditation.from_row)

    @strawberry.field(description="The licensing policy of every year, the latest first (public).")
    async def licensing_policies(self, info: Info) -> list[LicensingPolicy]:
        stmt = licensing_queries.policies_query().limit(100)
        rows = await info.context.run(lambda s: s.execute(stmt))
        return [LicensingPolicy.from_row(r) for r in rows]

    @connection(Connection[ProgrammeCode], description="The programme classifier (public).")
    def programme_codes(
        self,
        ctx: Context,
        level: Annotated[
            EducationLevel | None, strawberry.argument(description="Only programmes of this level.")
        ] = None,
    ) -> Listing:
        stmt = licensing_queries.programme_codes_query(level)
        ordering = licensing_queries.PROGRAMME_CODE_ORDERINGS["CODE"]
        return Listing(stmt, ordering, ProgrammeCode.from_row)
