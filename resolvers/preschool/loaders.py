"""The kindergarten queue's DataLoaders, each restricted by who may read an application."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from models import (
    KindergartenApplication,
    KindergartenApplicationEvent,
    KindergartenOffer,
    KindergartenPreference,
)
from resolvers import preschool
from resolvers.loaders import ById, ByParent, KeyedLoader


class KindergartenApplicationByIdLoader(ById):
    columns = preschool.APPLICATION_COLUMNS
    key = KindergartenApplication.id

    def rule(self) -> ColumnElement[bool]:
        return preschool.application_readable(self.principal)


class KindergartenOfferByIdLoader(ById):
    columns = preschool.OFFER_COLUMNS
    key = KindergartenOffer.id

    def rule(self) -> ColumnElement[bool]:
        return preschool.offer_readable(self.principal)


class KindergartenPreferencesByApplicationLoader(ByParent):
    columns = tuple(KindergartenPreference.__table__.c)
    parent = KindergartenPreference.application_id
    order_by = (KindergartenPreference.rank,)


class KindergartenOffersByApplicationLoader(ByParent):
    """An application's offers, newest first."""

    columns = preschool.OFFER_COLUMNS
    parent = KindergartenOffer.application_id
    order_by = (KindergartenOffer.id.desc(),)


class KindergartenHistoryByApplicationLoader(ByParent):
    columns = tuple(KindergartenApplicationEvent.__table__.c)
    parent = KindergartenApplicationEvent.application_id
    order_by = (KindergartenApplicationEvent.id,)


class QueuePositionByPreferenceLoader(KeyedLoader[int, Any]):
    """Queue positions of many preferences in one statement."""

    async def batch(self, keys: list[int]) -> list[Any]:
        stmt = preschool.queue_positions_query(keys)
        rows = await self.ctx.run(lambda s: s.execute(stmt))
        found = {row.preference_id: row for row in rows}
        return [found.get(i) for i in keys]
