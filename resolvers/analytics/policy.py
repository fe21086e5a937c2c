"""The disclosure control rule as the ministry sets it (a policy row, disclosure_policy): the
threshold under which a count of people is hidden, whether secondary suppression protects the
hidden cells, and the source the rule follows (docs/domains/analytics.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import DisclosurePolicy
from resolvers.access import Principal, require
from resolvers.errors import DomainError, ErrorCode

THRESHOLDS = range(2, 101)
# The rule read once per request: kept in the request's session (a page's five tables read it
# once; a change through setDisclosurePolicy replaces it there).
_CACHED = "analytics.disclosure_rule"


@dataclass(frozen=True)
class DisclosureRule:
    """The rule a protected table is cut by."""

    threshold: int
    secondary_suppression: bool
    source: str
    changed_at: datetime | None


async def disclosure_rule(session: AsyncSession) -> DisclosureRule:
    """The rule in force (the policy row migration 0032 writes and the ministry changes)."""
    cached = session.info.get(_CACHED)
    if isinstance(cached, DisclosureRule):
        return cached
    row = await session.scalar(select(DisclosurePolicy))
    if row is None:
        raise LookupError("disclosure_policy has no row: run the migrations")
    rule = DisclosureRule(
        threshold=row.threshold,
        secondary_suppression=row.secondary_suppression,
        source=row.source,
        changed_at=row.changed_at,
    )
    session.info[_CACHED] = rule
    return rule


def may_set_disclosure_rule(principal: Principal) -> bool:
    """May this caller change the disclosure rule? Only the ministry, which publishes the
    official statistics and answers for what they reveal."""
    return principal.is_ministry


async def set_disclosure_rule(
    session: AsyncSession,
    principal: Principal,
    *,
    threshold: int,
    secondary_suppression: bool,
    source: str,
) -> DisclosurePolicy:
    """Change the disclosure rule (the ministry; audited as analytics.set_disclosure_policy);
    the source of the new rule must be cited."""
    require(may_set_disclosure_rule(principal), "Only the ministry sets the disclosure rule")
    if threshold not in THRESHOLDS:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "A threshold from 2 to 100 people", field="threshold"
        )
    cited = source.strip()
    if not 10 <= len(cited) <= 1000:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "Cite the rule's source (a decree, a handbook): 10 to 1000 characters",
            field="source",
        )
    row = await session.get(DisclosurePolicy, 1, with_for_update=True, populate_existing=True)
    if row is None:
        raise LookupError("disclosure_policy has no row: run the migrations")
    row.threshold = threshold
    row.secondary_suppression = secondary_suppression
    row.source = cited
    row.changed_at = func.now()
    await session.flush()
    await session.refresh(row)
    session.info.pop(_CACHED, None)
    return row
