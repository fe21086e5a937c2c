"""The events domain's DataLoaders."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from models import DeliveryAttempt, Notice, NoticePreference, WebhookDelivery, WebhookEndpoint
from resolvers.events.rules import delivery_readable, endpoint_readable
from resolvers.loaders import ById, ByParent, PagesByParent

ENDPOINT_COLUMNS = tuple(c for c in WebhookEndpoint.__table__.c if c.key != "secret")
DELIVERY_COLUMNS = tuple(WebhookDelivery.__table__.c)
NOTICE_COLUMNS = tuple(Notice.__table__.c)
ATTEMPT_COLUMNS = tuple(DeliveryAttempt.__table__.c)


class WebhookEndpointByIdLoader(ById):
    columns = ENDPOINT_COLUMNS
    key = WebhookEndpoint.id

    def rule(self) -> ColumnElement[bool] | None:
        return endpoint_readable(self.principal)


class WebhookDeliveryByIdLoader(ById):
    columns = DELIVERY_COLUMNS
    key = WebhookDelivery.id

    def rule(self) -> ColumnElement[bool] | None:
        return delivery_readable(self.principal)


class WebhookDeliveriesByEndpointLoader(PagesByParent):
    """An endpoint's deliveries (the endpoint was read through its rule)."""

    columns = DELIVERY_COLUMNS
    parent = WebhookDelivery.endpoint_id

    def where(self, flt: Any) -> list[ColumnElement[bool]]:
        return [] if flt is None else [WebhookDelivery.status == flt]


class NoticesBySubjectLoader(PagesByParent):
    """The notices about one application (``flt``: its type); the caller checked that it may
    read the application."""

    columns = NOTICE_COLUMNS
    parent = Notice.subject_id

    def where(self, flt: Any) -> list[ColumnElement[bool]]:
        return [Notice.subject_type == flt]


class AttemptsByNoticeLoader(ByParent):
    columns = ATTEMPT_COLUMNS
    parent = DeliveryAttempt.notice_id
    order_by = (DeliveryAttempt.id,)


class AttemptsByDeliveryLoader(ByParent):
    columns = ATTEMPT_COLUMNS
    parent = DeliveryAttempt.delivery_id
    order_by = (DeliveryAttempt.id,)


class NoticePreferenceByPersonLoader(ById):
    """How a person wants to be told (read by the notices consumer as the system)."""

    columns = tuple(NoticePreference.__table__.c)
    key = NoticePreference.person_id
