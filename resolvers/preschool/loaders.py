"""The kindergarten queue's DataLoaders, each restricted by who may read an application."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from models import (
    KindergartenApplication,
    KindergartenApplicationEvent,
    KindergartenOffer,
    KindergartenPreference,
    KindergartenVoucher,
    Person,
)
from resolvers.intake.rules import applicant_readable
from resolvers.loaders import ById, ByParent, KeyedLoader
from resolvers.people import PERSON_COLUMNS
from resolvers.preschool.queries import APPLICATION_COLUMNS, OFFER_COLUMNS, queue_positions_query
from resolvers.preschool.rules import application_readable, offer_readable, voucher_readable
from resolvers.preschool.vouchers import VOUCHER_COLUMNS


class KindergartenApplicationByIdLoader(ById):
    columns = APPLICATION_COLUMNS
    key = KindergartenApplication.id

    def rule(self) -> ColumnElement[bool]:
        return application_readable(self.principal)


class KindergartenOfferByIdLoader(ById):
    columns = OFFER_COLUMNS
    key = KindergartenOffer.id

    def rule(self) -> ColumnElement[bool]:
        return offer_readable(self.principal)


class KindergartenPreferencesByApplicationLoader(ByParent):
    columns = tuple(KindergartenPreference.__table__.c)
    parent = KindergartenPreference.application_id
    order_by = (KindergartenPreference.rank,)


class KindergartenOffersByApplicationLoader(ByParent):
    """An application's offers, newest first."""

    columns = OFFER_COLUMNS
    parent = KindergartenOffer.application_id
    order_by = (KindergartenOffer.id.desc(),)


class KindergartenHistoryByApplicationLoader(ByParent):
    columns = tuple(KindergartenApplicationEvent.__table__.c)
    parent = KindergartenApplicationEvent.application_id
    order_by = (KindergartenApplicationEvent.id,)


class QueuePositionByPreferenceLoader(KeyedLoader[int, Any]):
    """Queue positions of many preferences in one statement."""

    async def batch(self, keys: list[int]) -> list[Any]:
        stmt = queue_positions_query(keys)
        rows = await self.ctx.run(lambda s: s.execute(stmt))
        found = {row.preference_id: row for row in rows}
        return [found.get(i) for i in keys]


class KindergartenApplicantByIdLoader(ById):
    """The child or guardian of an application the caller may read."""

    columns = PERSON_COLUMNS
    key = Person.id

    def rule(self) -> ColumnElement[bool]:
        return applicant_readable(
            self.principal, KindergartenApplication, application_readable(self.principal)
        )


class KindergartenVoucherByIdLoader(ById):
    """A voucher the caller may read (K8)."""

    columns = VOUCHER_COLUMNS
    key = KindergartenVoucher.id

    def rule(self) -> ColumnElement[bool]:
        return voucher_readable(self.principal)


class KindergartenVoucherPersonByIdLoader(ById):
    """The child or guardian of a voucher the caller may read."""

    columns = PERSON_COLUMNS
    key = Person.id

    def rule(self) -> ColumnElement[bool]:
        return applicant_readable(
            self.principal, KindergartenVoucher, voucher_readable(self.principal)
        )
