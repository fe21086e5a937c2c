"""`bilim import test-results FILE`: the import run outside a request, in one transaction."""

from __future__ import annotations

import asyncio
from pathlib import Path

from models import database
from resolvers.access import Principal, Role
from resolvers.admission.results_import import ImportReport, import_test_results
from resolvers.errors import DomainError

CLI_PRINCIPAL = Principal(subject="cli:import", role=Role.MINISTRY)


class ImportRefused(Exception):
    """The whole file was refused (not CSV, missing columns, too large)."""


async def import_file(url: str, path: Path) -> ImportReport:
    """Load one file; commit its good rows, or raise :class:`ImportRefused`."""
    data = await asyncio.to_thread(path.read_bytes)
    engine = database.create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with database.session_factory(engine)() as session:
            try:
                report = await import_test_results(
                    session, CLI_PRINCIPAL, data=data, filename=path.name
                )
            except DomainError as err:
                await session.rollback()
                raise ImportRefused("; ".join(p.message for p in err.problems)) from None
            await session.commit()
            return report
    finally:
        await engine.dispose()
