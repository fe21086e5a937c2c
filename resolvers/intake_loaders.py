"""Row rules and loaders the kindergarten queue and first-grade enrollment add to the
request's loaders (resolvers/loaders.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, or_, select
from strawberry.dataloader import DataLoader

from models import FirstGradeApplication, KindergartenApplication, Person
from resolvers import first_grade, preschool
from resolvers.access import Principal, person_readable

if TYPE_CHECKING:
    from resolvers.context import Context


def applicant_readable(principal: Principal) -> ColumnElement[bool]:
    """People the principal may read, plus the children and guardians of the applications
    they may read: an officer handling an application sees who it is for and who made it,
    though the child is not (yet) enrolled at their institution."""
    if principal.is_ministry or principal.is_anonymous:
        return person_readable(principal)
    ka, fga = KindergartenApplication, FirstGradeApplication
    return or_(
        person_readable(principal),
        Person.id.in_(select(ka.child_id).where(preschool.application_readable(principal))),
        Person.id.in_(select(ka.guardian_id).where(preschool.application_readable(principal))),
        Person.id.in_(select(fga.child_id).where(first_grade.application_readable(principal))),
        Person.id.in_(select(fga.guardian_id).where(first_grade.application_readable(principal))),
    )


class QueuePositions:
    """Queue positions of many preferences in one statement."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.loader: DataLoader[int, Any] = DataLoader(load_fn=self._load)

    async def _load(self, ids: list[int]) -> list[Any]:
        stmt = preschool.queue_positions_query(ids)
        rows = await self.ctx.run(lambda s: s.execute(stmt))
        found = {row.preference_id: row for row in rows}
        return [found.get(i) for i in ids]

    async def load(self, preference_id: int) -> Any:
        return await self.loader.load(preference_id)
