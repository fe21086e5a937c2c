"""What a hub worker holds before it serves anything (issue 18: 2,000 subscriptions within a
worker's 250 MB): libraries only some requests need are imported when first used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from models import database
from serving import socket_options

PROBE = """
import json, sys
import app
app.create_app()
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {NAMES})))
"""
# Sending (webhooks, SMS, e-mail), the spreadsheet export, the assets' download, migrating,
# MARC records, the working-day calendar, OAI-PMH harvests and uploads use them; an idle
# worker does not (alembic with mako and pygments ~7 MB, lxml ~5 MB, pymarc ~3 MB,
# holidays ~2 MB, puremagic ~2 MB).
LAZY = {
    "httpx",
    "aiohttp",
    "rich",
    "aiosmtplib",
    "openpyxl",
    "standardwebhooks",
    "alembic",
    "mako",
    "pygments",
    "pymarc",
    "holidays",
    "lxml",
    "puremagic",
}


class TestWorkerFootprint:
    def test_an_idle_worker_imports_no_sender_spreadsheet_writer_or_migration_tool(
        self,
    ) -> None:
        # given a worker's app built as uvicorn builds it
        env = {**os.environ, "DATABASE_URL": "postgresql+asyncpg://probe@127.0.0.1:1/probe"}
        # when it is created
        out = subprocess.run(
            [sys.executable, "-c", PROBE.replace("{NAMES}", repr(LAZY))],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        # then none of them is loaded
        assert json.loads(out.stdout.strip().splitlines()[-1]) == []

    def test_subscription_sockets_are_served_without_per_message_deflate(self) -> None:
        # a zlib compressor and decompressor per socket was about half of its memory
        assert socket_options()["ws_per_message_deflate"] is False

    def test_the_readiness_check_reads_the_same_head_as_alembic(self) -> None:
        # /readyz reads the scripts' revision lines instead of importing Alembic
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(database.alembic_config("postgresql://x/none"))
        assert database.head_revisions() == set(script.get_heads())

    def test_a_merge_of_two_heads_is_one_head(self, tmp_path: Path) -> None:
        # given two branches and a script merging them (revisions written both ways Alembic's
        # templates write them)
        scripts = {
            "a.py": 'revision = "a"\ndown_revision = None\n',
            "b.py": "revision: str = 'b'\ndown_revision: str | None = 'a'\n",
            "c.py": 'revision = "c"\ndown_revision = "a"\n',
            "m.py": 'revision = "m"\ndown_revision = ("b", "c")\n',
        }
        for name, source in scripts.items():
            (tmp_path / name).write_text(source)
        # when the heads are read, then only the merge is one
        assert database.script_heads(tmp_path) == {"m"}
        (tmp_path / "d.py").write_text('revision = "d"\ndown_revision = "b"\n')
        assert database.script_heads(tmp_path) == {"m", "d"}
