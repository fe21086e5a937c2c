"""bench.content's progress runs send each statement once through wrk: the run must end when the
last answer is in, not when wrk's time limit does (it used to idle until ``--duration``)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.api import _wrk
from bench.content import calls_script
from bench.workloads import Call

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")


class _Answer(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"data":{"ok":true}}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


def test_a_run_of_calls_sent_once_ends_at_the_last_answer(server: str, tmp_path: Path) -> None:
    # given 40 calls, each to be sent once, and a time limit of 30 s
    script = tmp_path / "calls.lua"
    calls_script(script, "{ ok }", [Call({"n": n}, "token") for n in range(40)])

    # when
    started = time.monotonic()
    _rps, _p50, _p99, bad = _wrk(server, script, connections=4, duration=30)
    took = time.monotonic() - started

    # then wrk stopped with the last answer, long before its limit, every answer good
    assert bad == 0
    assert took < 15, took
