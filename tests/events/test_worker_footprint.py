"""What a hub worker holds before it serves anything (issue 18: 2,000 subscriptions within a
worker's 250 MB): libraries only some requests need are imported when first used."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from serving import socket_options

PROBE = """
import json, sys
import app
app.create_app()
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {NAMES})))
"""
# Sending (webhooks, SMS, e-mail), the spreadsheet export and the assets' download use them;
# an idle worker does not.
LAZY = {"httpx", "rich", "aiosmtplib", "openpyxl", "standardwebhooks"}


class TestWorkerFootprint:
    def test_an_idle_worker_imports_no_http_client_mailer_or_spreadsheet_writer(self) -> None:
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
