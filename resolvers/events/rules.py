"""Who may read what the events domain keeps: a partner its key's webhook endpoints and
their deliveries, the ministry all of them; a notice is read by whoever may read the
application it is about (checked by the schema through that application's own row rule)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, select, true

from models import WebhookDelivery, WebhookEndpoint
from resolvers.access import Principal, Role


def endpoint_readable(principal: Principal) -> ColumnElement[bool]:
    """May this principal read this webhook endpoint? Its key's partner, and the ministry."""
    if principal.is_ministry:
        return true()
    if principal.grant is not None:
        return WebhookEndpoint.api_key_id == principal.grant.key_id
    return false()


def delivery_readable(principal: Principal) -> ColumnElement[bool]:
    """Deliveries are read by whoever may read their endpoint."""
    if principal.is_ministry:
        return true()
    return WebhookDelivery.endpoint_id.in_(
        select(WebhookEndpoint.id).where(endpoint_readable(principal))
    )


def manages_webhooks(principal: Principal) -> bool:
    """May this caller register webhook endpoints? Data partners, through their key."""
    return principal.role == Role.PARTNER and principal.grant is not None


def reads_webhooks(principal: Principal) -> bool:
    """May this caller list webhook endpoints? Partners (their own) and the ministry."""
    return principal.is_ministry or manages_webhooks(principal)


def reads_changes(principal: Principal) -> bool:
    """May this caller pull the change feed? Partners (their subgraph) and the ministry."""
    return principal.is_ministry or manages_webhooks(principal)


def reads_notices(principal: Principal) -> bool:
    """May this caller read notices to families (of applications it may read)? People of
    the hub, not partners' keys: notices carry contacts."""
    return principal.grant is None and not principal.is_anonymous
