"""The caller: `viewer` tells a client who it is signed in as and where its role holds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, TypeAlias

import strawberry

from resolvers.access import Role as RoleEnum
from resolvers.context import Info
from schema.geography import District, Region

if TYPE_CHECKING:
    from schema.institutions import Institution
    from schema.people import Person

strawberry.enum(
    RoleEnum, name="Role", description="What a caller may do; officers' roles are scoped."
)
Role: TypeAlias = RoleEnum

PersonT = Annotated["Person", strawberry.lazy("schema.people")]
InstitutionT = Annotated["Institution", strawberry.lazy("schema.institutions")]


@strawberry.type(description="Who is calling, and where their role holds.")
class Viewer:
    subject: str = strawberry.field(description="Subject of the token (or 'anonymous').")
    role: Role = strawberry.field(description="The caller's role.")
    person_pk: strawberry.Private[int | None]
    region_pks: strawberry.Private[list[int]]
    district_pks: strawberry.Private[list[int]]
    institution_pks: strawberry.Private[list[int]]

    @strawberry.field(description="The person the caller is, if any.")
    async def person(self, info: Info) -> PersonT | None:
        from schema.people import Person

        if self.person_pk is None:
            return None
        row = await info.context.loaders.person_by_id.load(self.person_pk)
        return Person.from_row(row) if row else None

    @strawberry.field(description="Regions the caller's role covers.")
    async def regions(self, info: Info) -> list[Region]:
        rows = await info.context.loaders.region_by_id.load_many(self.region_pks)
        return [Region.from_row(r) for r in rows if r]

    @strawberry.field(description="Districts the caller's role covers.")
    async def districts(self, info: Info) -> list[District]:
        rows = await info.context.loaders.district_by_id.load_many(self.district_pks)
        return [District.from_row(r) for r in rows if r]

    @strawberry.field(description="Institutions the caller's role covers.")
    async def institutions(self, info: Info) -> list[InstitutionT]:
        from schema.institutions import Institution

        rows = await info.context.loaders.institution_by_id.load_many(self.institution_pks)
        return [Institution.from_row(r) for r in rows if r]


@strawberry.type
class Query:
    @strawberry.field(description="The caller of this request.")
    def viewer(self, info: Info) -> Viewer:
        p = info.context.principal
        return Viewer(
            subject=p.subject,
            role=p.role,
            person_pk=p.person_id,
            region_pks=sorted(p.region_ids),
            district_pks=sorted(p.district_ids),
            institution_pks=sorted(p.institution_ids),
        )
