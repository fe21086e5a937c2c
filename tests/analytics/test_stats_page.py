"""The public /stats page in a real headless browser (Debian's Chromium driven by
Playwright): served by a running demo hub, it draws its charts, tables and map from the
graph, with the chart library served by the hub itself, and fits a phone's screen. Without
Chromium, Playwright or the npm registry (for the chart library), the test is skipped with a
loud reason."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from models import database
from resolvers import analytics as analytics_service
from resolvers import assets, demo
from resolvers.settings import Settings

if TYPE_CHECKING:
    from playwright.async_api import ViewportSize

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent.parent
PHONE: ViewportSize = {"width": 390, "height": 844}
PUPILS_BY_REGION = """
{ statistics(measure: PUPILS, groupBy: [REGION]) { cells { region { nameEn } count } } }
"""


def browser_missing() -> str | None:
    if not Path(CHROMIUM).is_file() and shutil.which("chromium") is None:
        return "Chromium is not installed (apt-get install -y chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_hub(port: int, env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "app:create_app", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )


async def demo_hub_data(settings: Settings) -> None:
    """A small demo dataset and its census rollups, as `bilim seed` and `bilim jobs run`."""
    assert settings.database_url
    await demo.load(settings.database_url, scale=0.001, seed=1, progress=False, institutions=40)
    engine = database.create_engine(settings.database_url, pool_size=1, max_overflow=0)
    try:
        async with database.session_factory(engine)() as session:
            await analytics_service.refresh_recent(session)
            await session.commit()
    finally:
        await engine.dispose()


async def page_facts(page: Any) -> dict[str, Any]:
    facts: dict[str, Any] = await page.evaluate(
        """() => ({
          ready: document.body.dataset.ready === "1",
          charts: [...document.querySelectorAll("canvas")].map((c) => ({
            id: c.id, rendered: c.dataset.rendered === "1", points: Number(c.dataset.points),
            painted: c.width > 0 && c.height > 0})),
          pupils: [...document.querySelectorAll("#table-pupils tbody tr")].map((r) =>
            [r.cells[0].textContent, r.cells[1].textContent]),
          tables: [...document.querySelectorAll("table")].map((t) =>
            [t.id, t.querySelectorAll("tbody tr").length]),
          tiles: [...document.querySelectorAll("#map g.tile")].map((g) =>
            [g.dataset.code, g.querySelector("rect").getAttribute("fill")]),
          overflow: document.documentElement.scrollWidth - window.innerWidth,
        })"""
    )
    return facts


async def test_stats_page_draws_its_charts_from_the_graph_on_a_phone(
    settings: Settings, tmp_path: Path
) -> None:
    missing = browser_missing()
    if missing is not None:
        pytest.skip(f"STATS BROWSER TEST NOT RUN: {missing}")
    try:
        await asyncio.to_thread(assets.install, settings.data_dir, only=frozenset({"chart.js"}))
    except (httpx.HTTPError, OSError) as err:
        pytest.skip(f"STATS BROWSER TEST NOT RUN: chart library not fetched from npm ({err!r})")
    from playwright.async_api import async_playwright

    # given: a demo hub serving /stats
    await demo_hub_data(settings)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "BILIM_DATA_DIR": str(settings.data_dir),
        "BILIM_ENVIRONMENT": "test",
    }
    log = (tmp_path / "hub.log").open("wb")
    hub = start_hub(port, env, log)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            for _ in range(240):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.25)
            expected = (await client.post("/graphql", json={"query": PUPILS_BY_REGION})).json()
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM,
                args=["--headless", "--no-sandbox", "--disable-gpu"],
            )
            page = await browser.new_page(viewport=PHONE, is_mobile=True)
            outside: list[str] = []
            page.on(
                "request",
                lambda r: outside.append(r.url) if not r.url.startswith(base) else None,
            )
            # when: a phone opens the page
            await page.goto(f"{base}/stats")
            await page.wait_for_function(
                "document.body.dataset.ready === '1' || document.body.dataset.failed === '1'",
                timeout=60_000,
            )
            facts = await page_facts(page)
            if shot := os.environ.get("BILIM_STATS_SCREENSHOT"):  # to look at the page by eye
                await page.screenshot(path=shot, full_page=True)
            await browser.close()
    finally:
        hub.terminate()
        hub.wait(timeout=10)
        log.close()
    # then: every chart was drawn by the hub's own Chart.js, with a table under it
    assert facts["ready"], (tmp_path / "hub.log").read_text()[-2000:]
    assert outside == []
    charts = {c["id"]: c for c in facts["charts"]}
    assert set(charts) == {"chart-pupils", "chart-years", "chart-ratio"}
    for chart in charts.values():
        assert chart["rendered"], chart
        assert chart["painted"], chart
        assert chart["points"] > 0, chart
    # the pupils table shows the graph's figures (anonymous: with disclosure control)
    shown = {name: count for name, count in facts["pupils"]}
    cells = expected["data"]["statistics"]["cells"]
    assert len(shown) == len(cells) > 0
    for cell in cells:
        value = "hidden" if cell["count"] is None else f"{cell['count']:,}"
        assert shown[cell["region"]["nameEn"]] == value
    assert all(rows > 0 for _, rows in facts["tables"])
    # the map colours the regions that have a figure
    assert len(facts["tiles"]) == 9
    assert any(fill != "#ccc" for _, fill in facts["tiles"])
    # and nothing is wider than the phone
    assert facts["overflow"] <= 0
