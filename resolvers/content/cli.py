"""`bilim import curriculum FILE`: the curriculum import run outside a request, in one
transaction (its good lines committed, its bad lines reported)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from models import database
from resolvers.access import Principal, Role
from resolvers.content.curriculum import CurriculumImport, import_curriculum
from resolvers.errors import DomainError

CLI_PRINCIPAL = Principal(subject="cli:curriculum", role=Role.CONTENT_EDITOR)


class ImportRefused(Exception):
    """The whole file was refused (not UTF-8 CSV, missing columns, too large)."""


async def import_file(url: str, path: Path) -> CurriculumImport:
    """Load one curriculum file; commit its good lines, or raise :class:`ImportRefused`."""
    data = await asyncio.to_thread(path.read_bytes)
    engine = database.create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with database.session_factory(engine)() as session:
            try:
                report = await import_curriculum(session, CLI_PRINCIPAL, data=data)
            except DomainError as err:
                await session.rollback()
                raise ImportRefused("; ".join(p.message for p in err.problems)) from None
            await session.commit()
            return report
    finally:
        await engine.dispose()
