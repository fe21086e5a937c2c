"""`bilim import marc FILE`: a library's catalogue loaded outside a request, in one
transaction (bad records reported, the rest loaded)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from models import Institution, database
from resolvers.library.marc import MarcImportReport, import_marc

BLOCK = 1 << 20


class ImportRefused(Exception):
    """The import as a whole was refused (an unknown institution)."""


def _blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while block := handle.read(BLOCK):
            yield block


async def import_marc_file(url: str, path: Path, *, institution_id: int | None) -> MarcImportReport:
    """Load one MARC file and commit what loaded."""
    engine = database.create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with database.session_factory(engine)() as session:
            if (
                institution_id is not None
                and await session.get(Institution, institution_id) is None
            ):
                raise ImportRefused(f"No institution has id {institution_id}")
            report = await import_marc(session, _blocks(path), institution_id=institution_id)
            await session.commit()
            return report
    finally:
        await engine.dispose()
