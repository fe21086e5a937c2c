"""The intake's public root fields: seasons with their policy, and the holiday calendar."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import intake as intake_service
from resolvers.context import Info
from resolvers.errors import ErrorCode as Code
from resolvers.errors import RequestError
from schema.intake.types import IntakeKind, IntakeSeason, PublicHoliday


@strawberry.type
class Query:
    @strawberry.field(description="Intake seasons (public), newest first.")
    async def intake_seasons(
        self,
        info: Info,
        kind: Annotated[
            IntakeKind | None, strawberry.argument(description="Only seasons of this intake.")
        ] = None,
    ) -> list[IntakeSeason]:
        stmt = intake_service.seasons_query(kind)
        rows = await info.context.run(lambda s: s.execute(stmt))
        return [IntakeSeason.from_row(r) for r in rows]

    @strawberry.field(
        description="Days off of a year (public): the statutory holidays and the ministry's "
        "decreed days, less the days it made working days."
    )
    async def public_holidays(
        self, info: Info, year: Annotated[int, strawberry.argument(description="Calendar year.")]
    ) -> list[PublicHoliday]:
        if not 2000 <= year <= 2100:
            raise RequestError(Code.INVALID_INPUT, "The year is out of range")
        rows = await info.context.run(lambda s: intake_service.holidays_of_year(s, year))
        return [PublicHoliday.from_row(r) for r in rows]
