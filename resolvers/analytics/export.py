"""Statistics tables as files: CSV, and XLSX through openpyxl. A file holds exactly what the
table shows the caller (hidden cells stay hidden), with names beside ids and the ISCED level
beside each grade for international reporting."""

from __future__ import annotations

import csv
import enum
import io
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.analytics.dimensions import ISCED_BY_GRADE, Dimension
from resolvers.analytics.statistics import StatisticsTable

HIDDEN = "<5"


class ExportFormat(enum.StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


async def rows_of(session: AsyncSession, table: StatisticsTable) -> list[list[Any]]:
    """The table as rows, a header first and the total last."""
    names = await _unit_names(session, table.group_by)
    header: list[Any] = []
    for dim in table.group_by:
        if dim in (Dimension.REGION, Dimension.DISTRICT):
            header += [f"{dim.name.lower()}_code", f"{dim.name.lower()}_name"]
        else:
            header.append(dim.name.lower())
        if dim == Dimension.GRADE:
            header.append("isced_level")
    header.append(table.measure.value)
    rows: list[list[Any]] = [header]
    for cell in table.cells:
        row: list[Any] = []
        for dim, key in zip(table.group_by, cell.keys, strict=True):
            if dim in (Dimension.REGION, Dimension.DISTRICT):
                code, name = names.get((dim, key), ("", ""))
                row += [code, name]
            else:
                row.append(key)
            if dim == Dimension.GRADE:
                level = ISCED_BY_GRADE.get(key) if key is not None else None
                row.append(level.value.upper() if level else "")
        row.append(HIDDEN if cell.suppressed else cell.count)
        rows.append(row)
    width = len(header)
    rows.append(["total", *[""] * (width - 2), HIDDEN if table.total_suppressed else table.total])
    return rows


def to_csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return out.getvalue().encode("utf-8")


def to_xlsx(rows: list[list[Any]], *, title: str) -> bytes:
    # Imported on the first export: openpyxl (with lxml) is ~5 MB of every worker otherwise.
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def export(
    session: AsyncSession, table: StatisticsTable, fmt: ExportFormat
) -> tuple[str, str, bytes]:
    """The table as a file: its name, media type and bytes."""
    rows = await rows_of(session, table)
    stem = f"{table.measure.value}-{table.census_date.isoformat()}"
    if fmt == ExportFormat.CSV:
        return f"{stem}.csv", MEDIA_TYPES[fmt], to_csv(rows)
    return f"{stem}.xlsx", MEDIA_TYPES[fmt], to_xlsx(rows, title=table.measure.value)


async def _unit_names(
    session: AsyncSession, group_by: list[Dimension]
) -> dict[tuple[Dimension, Any], tuple[str, str]]:
    names: dict[tuple[Dimension, Any], tuple[str, str]] = {}
    if Dimension.REGION in group_by:
        for r in await session.execute(text("SELECT id, code, name_en FROM region")):
            names[(Dimension.REGION, r.id)] = (r.code, r.name_en)
    if Dimension.DISTRICT in group_by:
        for r in await session.execute(text("SELECT id, code, name_en FROM district")):
            names[(Dimension.DISTRICT, r.id)] = (r.code, r.name_en)
    return names
