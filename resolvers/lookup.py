"""The object a mutation acts on, loaded through its domain's row rule.

To a caller who may not read an object, it is not there: the mutation answers NOT_FOUND with
the message and field an unknown id gets, so no mutation tells anyone which ids exist (issue
22.7). FORBIDDEN is left for a caller who reads the object but may not act on it (an officer
who reads an application but does not decide it). The row is locked ``FOR UPDATE`` only once
the rule has let the caller reach it: an id alone locks nothing."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.errors import NotFound

T = TypeVar("T")


async def readable_or_not_found(
    session: AsyncSession,
    model: type[T],
    pk: int,
    readable: Any,
    *,
    what: str,
    field: str,
    lock: bool = True,
) -> T:
    """Row ``pk`` of ``model`` if the caller may read it (``readable``: the domain's row rule
    for this caller), locked for the transition unless ``lock`` is false; NOT_FOUND ("``what``
    was not found", on ``field``) otherwise, whether it exists or not."""
    key = inspect(model).primary_key[0]
    stmt = select(model).where(key == pk, readable)
    if lock:
        stmt = stmt.with_for_update(of=model).execution_options(populate_existing=True)
    row = await session.scalar(stmt)
    if row is None:
        raise NotFound(what, field=field)
    return row
