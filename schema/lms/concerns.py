"""The anonymous concern channel in the graph: reports as counsellors read them, and what
the holder of a receipt may see of their own report."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry

from resolvers.context import Info
from resolvers.geography.loaders import DistrictByIdLoader, RegionByIdLoader
from resolvers.lms.loaders import ConcernEventsByReportLoader, ConcernReportByIdLoader
from resolvers.relay import encode_id
from schema.common import Node
from schema.geography import District, Region
from schema.lms.enums import ConcernCategory, ConcernStatus
from schema.node import fetched_by, loaded


@strawberry.type(description="A counsellor moving a report on.")
class ConcernReportEvent:
    status: ConcernStatus = strawberry.field(description="The status it moved to.")
    note: str | None = strawberry.field(description="The counsellor's note (never shown out).")
    actor: str = strawberry.field(description="The counsellor.")
    at: datetime = strawberry.field(description="When.")


@fetched_by(ConcernReportByIdLoader)
@strawberry.type(
    description="A pupil's anonymous report (S4): no reporter, no school, only where it was "
    "routed and the day it came. Counsellors of that district or region read it."
)
class ConcernReport(Node):
    pk: strawberry.Private[int]
    row: strawberry.Private[Any]
    category: ConcernCategory = strawberry.field(description="What it is about.")
    text: str = strawberry.field(description="What the pupil wrote.")
    status: ConcernStatus = strawberry.field(description="Where it stands.")
    received_on: date = strawberry.field(description="The day it came.")
    reply: str | None = strawberry.field(description="The answer the reporter reads.")

    @classmethod
    def from_row(cls, row: Any) -> ConcernReport:
        return cls(
            id=strawberry.ID(encode_id("ConcernReport", row.id)),
            pk=row.id,
            row=row,
            category=row.category,
            text=row.body,
            status=row.status,
            received_on=row.received_on,
            reply=row.reply,
        )

    @strawberry.field(description="The region it was routed to.")
    async def region(self, info: Info) -> Region | None:
        return await loaded(RegionByIdLoader(info.context), self.row.region_id, Region.from_row)

    @strawberry.field(description="The district it was routed to.")
    async def district(self, info: Info) -> District | None:
        loader = DistrictByIdLoader(info.context)
        return await loaded(loader, self.row.district_id, District.from_row)

    @strawberry.field(description="How counsellors moved it on.")
    async def events(self, info: Info) -> list[ConcernReportEvent]:
        rows = await ConcernEventsByReportLoader(info.context).load(self.pk)
        return [
            ConcernReportEvent(status=r.status, note=r.note, actor=r.actor, at=r.at) for r in rows
        ]


@strawberry.type(description="What a reporter sees of their report with its receipt.")
class ConcernReceipt:
    category: ConcernCategory = strawberry.field(description="What it is about.")
    status: ConcernStatus = strawberry.field(description="Where it stands.")
    received_on: date = strawberry.field(description="The day it came.")
    reply: str | None = strawberry.field(description="The counsellor's answer, if any.")
