"""`bilim import population FILE`: line-numbered, typed problems, and the rows it loaded."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import BISHKEK_LENIN


async def test_import_population_reports_each_bad_line(
    db_url: str, session: AsyncSession, tmp_path: Path
) -> None:
    # given: a file with two good rows and one row naming no district
    code = await session.scalar(
        text("SELECT code FROM district WHERE id = :i"), {"i": BISHKEK_LENIN}
    )
    file = tmp_path / "population.csv"
    file.write_text(
        f"year,district_code,age,count\n2026,{code},3,120\n2026,NOWHERE,4,10\n2026,{code},4,130\n"
    )
    env = {**os.environ, "DATABASE_URL": db_url, "BILIM_DATA_DIR": str(tmp_path)}
    # when
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", "from cli import main; main()", "import", "population", str(file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # then
    assert done.returncode == 2, done.stderr
    assert "line 3: unknown_district: no district has code 'NOWHERE'" in done.stderr
    assert "rows: 3, loaded: 2" in done.stdout
    loaded = await session.scalar(text("SELECT sum(count) FROM population WHERE year = 2026"))
    assert loaded == 250
