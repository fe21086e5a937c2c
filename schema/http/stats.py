"""``/stats``: the public statistics page. The hub serves the page and its chart library
(Chart.js from the npm registry, installed into the data folder by ``bilim assets install``;
never a CDN), and the page draws its charts, tables and map from the graph's ``statistics``
and ``indicators`` as an anonymous caller (so with disclosure control)."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response

from resolvers import assets, persisted

SCRIPT = "chart.js"

# Where each region sits on the tile map (column, row): a schematic of the country, west to
# east and north to south, one equal tile per region so that small Bishkek and Osh show.
TILES = {
    "KG-T": (0, 0),
    "KG-GB": (1, 0),
    "KG-C": (2, 0),
    "KG-Y": (3, 0),
    "KG-J": (1, 1),
    "KG-N": (2, 1),
    "KG-B": (0, 2),
    "KG-GO": (1, 2),
    "KG-O": (2, 2),
}

# The page's two operations, read from portals/stats/ so that the allow-list of persisted
# queries (BILIM_PERSISTED_QUERIES=allowlist) admits them by their text's sha256; also what
# bench/analytics.py times as "the page's queries".
PORTAL = persisted.PORTALS_DIR / "stats"
STATS_LATEST = (PORTAL / "StatsLatest.graphql").read_text()
STATS_YEARS = (PORTAL / "StatsYears.graphql").read_text()

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bilim Hub - education statistics</title>
<style>
  body { font: 16px/1.45 system-ui, sans-serif; margin: 0; color: #1d2733; background: #f6f8fa; }
  header { background: #14507a; color: #fff; padding: 12px 16px; }
  header h1 { font-size: 1.25rem; margin: 0; }
  main { display: grid; gap: 16px; padding: 16px; grid-template-columns: 1fr; }
  @media (min-width: 900px) { main { grid-template-columns: 1fr 1fr; } }
  section { background: #fff; border-radius: 8px; padding: 12px; min-width: 0;
            box-shadow: 0 1px 3px rgba(0,0,0,.12); }
  h2 { font-size: 1.05rem; margin: 0 0 8px; }
  .chart { position: relative; height: 260px; }
  .scroll { overflow-x: auto; }
  table { border-collapse: collapse; width: 100%; margin-top: 8px; font-size: .9rem; }
  th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid #e3e8ee; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  .note { background: #fff3cd; padding: 8px 12px; }
  svg text { font-size: 11px; pointer-events: none; }
  select { font: inherit; margin-bottom: 8px; }
</style>
</head>
<body>
<header><h1>Education statistics of the Kyrgyz Republic</h1>
<div id="census">Loading...</div></header>
__NOTE__
<main>
  <section><h2>Pupils by region</h2><div class="chart"><canvas id="chart-pupils"></canvas></div>
    <div class="scroll"><table id="table-pupils"></table></div></section>
  <section><h2>Pupils by region and year</h2>
    <div class="chart"><canvas id="chart-years"></canvas></div>
    <div class="scroll"><table id="table-years"></table></div></section>
  <section><h2>Pupils per teacher</h2><div class="chart"><canvas id="chart-ratio"></canvas></div>
    <div class="scroll"><table id="table-ratio"></table></div></section>
  <section><h2>Map of regions</h2>
    <label>Colour by <select id="map-indicator">
      <option value="OCCUPANCY">Occupancy of design capacity</option>
      <option value="PUPILS_PER_TEACHER">Pupils per teacher</option>
      <option value="CLASS_SIZE">Class size</option>
      <option value="KINDERGARTEN_COVERAGE">Kindergarten coverage, ages 3-6</option>
    </select></label>
    <svg id="map" viewBox="0 0 400 230" width="100%" role="img"
         aria-label="Regions coloured by the chosen indicator"></svg>
    <div class="scroll"><table id="table-map"></table></div></section>
</main>
<script src="/stats/assets/chart.js"></script>
<script>
const TILES = __TILES__;
const LATEST = __LATEST__;
const YEARS = __YEARS__;
const fmt = (v) => v === null || v === undefined ? "hidden" : Number(v).toLocaleString("en");

async function graph(query, variables) {
  const response = await fetch("/graphql", {method: "POST",
    headers: {"content-type": "application/json"}, body: JSON.stringify({query, variables})});
  const body = await response.json();
  if (body.errors) throw new Error(body.errors[0].message);
  return body.data;
}

function table(id, head, rows) {
  const el = document.getElementById(id);
  el.innerHTML = "<thead><tr>" + head.map((h) => `<th>${h}</th>`).join("") + "</tr></thead>" +
    "<tbody>" + rows.map((r) => "<tr>" + r.map((v, i) =>
      i === 0 ? `<td>${v}</td>` : `<td class="n">${fmt(v)}</td>`).join("") + "</tr>").join("") +
    "</tbody>";
}

function chart(id, type, labels, datasets) {
  const canvas = document.getElementById(id);
  canvas.dataset.points = String(datasets.reduce((n, d) => n + d.data.length, 0));
  if (!window.Chart) return;
  new Chart(canvas, {type, data: {labels, datasets},
    options: {responsive: true, maintainAspectRatio: false, animation: false,
              plugins: {legend: {display: datasets.length > 1}}}});
  canvas.dataset.rendered = "1";
}

function colour(t) {
  const light = [222, 235, 247], dark = [8, 69, 148];
  return "rgb(" + light.map((c, i) => Math.round(c + (dark[i] - c) * t)).join(",") + ")";
}

function drawMap(names, values, kind) {
  const byRegion = {};
  for (const v of values) if (v.kind === kind && v.region) byRegion[v.region.code] = v.value;
  const known = Object.values(byRegion).filter((v) => v !== null);
  const lo = Math.min(...known), hi = Math.max(...known);
  const svg = document.getElementById("map");
  svg.innerHTML = Object.entries(TILES).map(([code, [col, row]]) => {
    const v = byRegion[code];
    const unknown = v === null || v === undefined;
    const fill = unknown ? "#ccc" : colour(hi > lo ? (v - lo) / (hi - lo) : 1);
    const x = 10 + col * 96, y = 10 + row * 72;
    return `<g class="tile" data-code="${code}" data-value="${v ?? ""}">` +
      `<rect x="${x}" y="${y}" width="90" height="66" rx="6" fill="${fill}"></rect>` +
      `<text x="${x + 6}" y="${y + 18}">${names[code] || code}</text>` +
      `<text x="${x + 6}" y="${y + 36}">${v === null || v === undefined ? "-" : v}</text></g>`;
  }).join("");
  svg.dataset.rendered = "1";
  table("table-map", ["Region", kind.toLowerCase().replaceAll("_", " ")],
        Object.keys(TILES).filter((c) => c in byRegion).map((c) => [names[c], byRegion[c]]));
}

async function main() {
  const latest = await graph(LATEST);
  const names = Object.fromEntries(latest.regions.nodes.map((r) => [r.code, r.nameEn]));
  const census = latest.pupils.censusDate;
  document.getElementById("census").textContent =
    `Census date ${census}; ${fmt(latest.pupils.total)} pupils`;
  const pupils = latest.pupils.cells;
  chart("chart-pupils", "bar", pupils.map((c) => names[c.region.code]),
        [{label: "Pupils", data: pupils.map((c) => c.count), backgroundColor: "#2f7ab9"}]);
  table("table-pupils", ["Region", "Pupils"], pupils.map((c) => [names[c.region.code], c.count]));

  const ratio = latest.indicators.values.filter((v) => v.kind === "PUPILS_PER_TEACHER" && v.region);
  chart("chart-ratio", "bar", ratio.map((v) => names[v.region.code]),
        [{label: "Pupils per teacher", data: ratio.map((v) => v.value),
          backgroundColor: "#4c9a5b"}]);
  table("table-ratio", ["Region", "Pupils per teacher"],
        ratio.map((v) => [names[v.region.code], v.value]));

  const select = document.getElementById("map-indicator");
  drawMap(names, latest.indicators.values, select.value);
  select.addEventListener("change", () => drawMap(names, latest.indicators.values, select.value));

  const year = Number(census.slice(0, 4));
  const dates = {};
  for (let i = 1; i <= 5; i++) dates["d" + i] = `${year - 5 + i}${census.slice(4)}`;
  const years = await graph(YEARS, dates);
  const tables = ["y1", "y2", "y3", "y4", "y5"].map((k) => years[k]);
  const labels = tables.map((t) => t.censusDate.slice(0, 4));
  const codes = Object.keys(TILES).filter((c) => tables.some((t) =>
    t.cells.some((cell) => cell.region.code === c)));
  const series = codes.map((c) => tables.map((t) =>
    (t.cells.find((cell) => cell.region.code === c) || {count: 0}).count));
  chart("chart-years", "line", labels,
        codes.map((c, i) => ({label: names[c], data: series[i]})));
  table("table-years", ["Region", ...labels], codes.map((c, i) => [names[c], ...series[i]]));
  document.body.dataset.ready = "1";
}
main().catch((err) => {
  document.getElementById("census").textContent = "Could not load the statistics: " + err.message;
  document.body.dataset.failed = "1";
});
</script>
</body>
</html>
"""


def page(*, local: bool) -> str:
    note = (
        ""
        if local
        else (
            '<div class="note">Charts are off: the chart library is not installed on this '
            "server. Run <code>bilim assets install</code>; the tables below still show the "
            "figures.</div>"
        )
    )
    tiles = "{" + ", ".join(f'"{c}": [{x}, {y}]' for c, (x, y) in TILES.items()) + "}"
    return (
        PAGE.replace("__NOTE__", note)
        .replace("__TILES__", tiles)
        .replace("__LATEST__", json.dumps(STATS_LATEST))
        .replace("__YEARS__", json.dumps(STATS_YEARS))
    )


async def stats_page(request: Request) -> Response:
    """``/stats``: the page (public)."""
    folder = assets.assets_dir(request.app.state.settings.data_dir)
    return HTMLResponse(page(local=(folder / SCRIPT).is_file()))


async def stats_asset(request: Request) -> Response:
    """``/stats/assets/{name}``: the page's chart library from the data folder."""
    if request.path_params["name"] != SCRIPT:
        return JSONResponse({"error": "not found"}, status_code=404)
    path = assets.assets_dir(request.app.state.settings.data_dir) / SCRIPT
    if not path.is_file():
        return JSONResponse({"error": "run `bilim assets install`"}, status_code=404)
    return FileResponse(path, headers={"cache-control": "public, max-age=86400"})
