"""The libraries at national scale (issue 17): 500,000 catalogue records and 5,000,000 copies
over every school of the dataset. Measures the public catalogue search (anonymous, 4
connections, wrk), a checkout at the desk, the textbook provision of the country and of a
region, and a full OAI-PMH harvest of the catalogue with the worker's peak memory.

The search is measured three ways: new searches (``--new``: searches the hub has not answered
before, each asked once), the Zipf mix cold (a young worker) and, after ``--steady`` seconds of
the same mix unmeasured, in its steady state (a worker that has served a while); the cold and
the steady figures are reported side by side.

    python -m bench.library [--scale 1.0] [--records 500000] [--items 5000000] [--duration 20]

Besides wall-clock latencies it reports the CPU milliseconds per request of the hub (its
workers) and of PostgreSQL (the postmaster and its backends, embedded server only), read
from /proc: on a loaded machine those still say what a request costs.

Runs on an embedded PostgreSQL in ``--data-dir`` (kept: a second run skips loading) unless
DATABASE_URL names a server. The hub runs as production runs it (`bilim serve`, one worker
by default) and is called over HTTP, so figures include GraphQL parsing, validation,
authorization and serialisation. Needs `wrk` (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.api import RESULTS, _free_port, _ms, _stop_hub
from models import database
from resolvers import clock
from resolvers.access import KeyRing, Role, issue_token
from resolvers.library.text import fold
from resolvers.library.textbooks import school_year_of
from resolvers.relay import encode_id
from resolvers.settings import Settings

PORTALS = Path(__file__).resolve().parent.parent / "portals"
SUBJECTS = ("Математика", "Кыргыз тили", "Орус тили", "Табият таануу")
LANGS = ("ky", "ru", "uz", "tg")
EDITIONS = 5
WORDS = {
    "ky": "китеп жомок тарых адабият мектеп балдар ата журт тоо кыргыз элдин ыр дастан эл "
    "илим жаштар окуу дүйнө турмуш жер суу күн ай жылдыз бакыт эмгек",
    "ru": "история литература природа наука дети школа жизнь мир земля язык математика "
    "физика химия биология рассказы сказки повести стихи культура искусство",
    "en": "history literature nature science children school life world language stories "
    "poems culture art mathematics physics chemistry biology tales",
}
AUTHORS = (
    "Чыңгыз Айтматов", "Түгөлбай Сыдыкбеков", "Аалы Токомбаев", "Касым Тыныстанов",
    "Токтогул Сатылганов", "Мукай Элебаев", "Алыкул Осмонов", "Жоомарт Бөкөнбаев",
    "Sooronbay Jusuev", "Leo Tolstoy", "Александр Пушкин", "Fyodor Dostoevsky",
    "Mark Twain", "Абай Кунанбаев", "Сагымбай Орозбаков", "Саякбай Каралаев",
)  # fmt: skip
SEARCHES = [
    ("Айтматов", None),
    ("Chyngyz Aitmatov", None),
    ("Chingiz Aytmatov", None),
    ("жомоктор", None),
    ("Манас", None),
    ("китеп балдар", {"language": "KY"}),
    ("история", None),
    ("сказки детям", {"language": "RU"}),
    ("children stories", None),
    ("Tolstoy", None),
    ("Токомбаев", None),
    ("Айтматоф", None),
    ("математика", {"kind": "TEXTBOOK", "grade": 5}),
    ("Кыргыз тили", {"kind": "TEXTBOOK"}),
    ("", {"openAccess": True, "language": "EN"}),
    ("adabiyat", None),
    ("физика", {"language": "RU"}),
    ("тарых", {"openAccess": True}),
]


# --- the dataset ------------------------------------------------------------------------------


def _title(rng: random.Random, lang: str) -> str:
    words = WORDS[lang].split()
    return " ".join(rng.sample(words, rng.randint(2, 5))).capitalize()


def _record_rows(count: int, rng: random.Random) -> list[tuple[Any, ...]]:
    """Textbooks (every language, grade 1-11, the subjects, a few editions), then books."""
    rows: list[tuple[Any, ...]] = []
    for lang in LANGS:
        for grade in range(1, 12):
            for subject in SUBJECTS:
                for edition in range(1, EDITIONS + 1):
                    title = f"{subject} {grade}-класс ({edition}-басылыш)"
                    words = f"{title} {subject}"
                    rows.append(
                        ("textbook", title, lang, ["Авторлор тобу"], grade, subject, "school",
                         False, words, fold(words), 2015 + edition)
                    )  # fmt: skip
    while len(rows) < count:
        lang = rng.choices(("ky", "ru", "en", "uz", "tg"), (40, 35, 15, 5, 5))[0]
        title = _title(rng, lang if lang in WORDS else "ky")
        author = rng.choice(AUTHORS)
        words = f"{title} {author}"
        rows.append(
            ("book", title, lang, [author], None, None, None, rng.random() < 0.2,
             words, fold(words), rng.randint(1950, 2026))
        )  # fmt: skip
    return rows


async def _load_records(conn: asyncpg.Connection, count: int, rng: random.Random) -> None:
    rows = _record_rows(count, rng)
    await conn.copy_records_to_table(
        "bib_record",
        records=rows,
        columns=[
            "kind", "title", "language", "authors", "grade", "school_subject", "audience",
            "open_access", "words", "folded", "year",
        ],
    )  # fmt: skip


async def _load_items(conn: asyncpg.Connection, items: int, year: int) -> None:
    """Approve each (language, grade, subject)'s first edition; every school holds copies of
    its language's approved textbooks for most of its pupils (60-110%), and every institution
    a share of the general collection, up to ``items`` copies in all. Copies out with pupils
    are marked on loan (the summary counts them as issued)."""
    await conn.execute(
        "INSERT INTO textbook_approval (record_id, school_year, approved_by) "
        "SELECT min(id), $1, 'bench' FROM bib_record WHERE kind = 'textbook' "
        "GROUP BY language, grade, school_subject",
        year,
    )
    await conn.execute(
        """
        INSERT INTO library_item (record_id, institution_id, barcode, status)
        SELECT a.record_id, p.institution_id, 'T' || a.record_id || '-' || g,
               CASE WHEN g % 10 < 6 THEN 'on_loan' ELSE 'available' END
        FROM (SELECT e.institution_id, e.grade_level, count(*) AS n FROM enrollment e
              WHERE e.exit_date IS NULL AND e.sector = 'school' GROUP BY 1, 2) p
        JOIN institution i ON i.id = p.institution_id
        JOIN (SELECT r.id AS record_id, r.grade, r.language FROM textbook_approval t
              JOIN bib_record r ON r.id = t.record_id WHERE t.school_year = $1) a
          ON a.grade = p.grade_level AND a.language = i.languages[1]
        CROSS JOIN LATERAL generate_series(
            1, greatest(1, (p.n * (0.6 + (hashint4(p.institution_id + a.record_id) & 255)
            / 510.0))::int)) g
        """,
        year,
    )
    held = await conn.fetchval("SELECT count(*) FROM library_item")
    general = await conn.fetchval("SELECT count(*) FROM bib_record WHERE kind = 'book'")
    first = await conn.fetchval("SELECT min(id) FROM bib_record WHERE kind = 'book'")
    institutions = await conn.fetchval(
        "SELECT count(*) FROM institution WHERE region_id IS NOT NULL"
    )
    per = max(1, (items - held) // (2 * institutions))
    await conn.execute(
        """
        INSERT INTO library_item (record_id, institution_id, barcode)
        SELECT $1 + ((i.id::bigint * 7919 + k * 104729) % $2), i.id,
               'G' || ($1 + ((i.id::bigint * 7919 + k * 104729) % $2)) || '-' || c
        FROM institution i CROSS JOIN generate_series(1, $3) k CROSS JOIN generate_series(1, 2) c
        WHERE i.region_id IS NOT NULL
        """,
        first,
        general,
        per,
    )


async def load(url: str, *, scale: float, records: int, items: int, seed: int) -> None:
    from resolvers import demo

    if not await demo.is_loaded(url):
        started = time.perf_counter()
        await demo.load(url, scale=scale, seed=seed, progress=True)
        print(f"registry seeded in {time.perf_counter() - started:.0f} s")
    conn = await asyncpg.connect(url)
    try:
        if await conn.fetchval("SELECT count(*) FROM bib_record") == 0:
            started = time.perf_counter()
            await _load_records(conn, records, random.Random(seed))
            print(f"{records:,} records in {time.perf_counter() - started:.0f} s")
            started = time.perf_counter()
            await _load_items(conn, items, school_year_of(clock.today()))
            count = await conn.fetchval("SELECT count(*) FROM library_item")
            print(f"{count:,} copies in {time.perf_counter() - started:.0f} s")
            started = time.perf_counter()
            await conn.execute("VACUUM ANALYZE")
            print(f"vacuumed in {time.perf_counter() - started:.0f} s")
    finally:
        await conn.close()


# --- the hub and the measurements ----------------------------------------------------------


def start_hub(db_url: str, data_dir: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "BILIM_DATA_DIR": str(data_dir),
        "BILIM_FETCH_ASSETS": "false",
        # The budgets are not what is measured.
        "BILIM_POINTS_PER_HOUR": str(10**9),
        "BILIM_ANONYMOUS_POINTS_PER_HOUR": str(10**9),
    }
    server = subprocess.Popen(
        [sys.executable, "-c", "from cli import main; main()", "serve", "--port", str(port),
         "--workers", str(workers), "--no-access-log"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    _stop_hub(server)
    sys.exit("the hub did not start")


def search_variables(distinct: int, seed: int) -> list[dict[str, Any]]:
    """``distinct`` different searches a public catalogue gets: single words of each language,
    pairs of them, authors in Cyrillic and Latin spellings, word beginnings, typos, some with a
    filter; the issue's rotation first, then the rest in a seeded random order (the rank in
    the Zipf draw below)."""
    rng = random.Random(seed)
    words = sorted({w for text in WORDS.values() for w in text.split()})
    names = sorted({part for a in AUTHORS for part in a.split()})
    latin = sorted({fold(w) for w in words + names})

    def typo(word: str) -> str:
        k = rng.randrange(1, len(word))
        return word[:k] + rng.choice("аоеиуkaeiou") + word[k + 1 :]

    texts = set(words + names + latin + list(AUTHORS))
    texts |= {w[:5] for w in words + names if len(w) > 6}
    texts |= {typo(w) for w in words + names if len(w) >= 5}
    for lang_words in WORDS.values():
        vocab = lang_words.split()
        texts |= {f"{a} {b}" for a in vocab for b in vocab if a < b}
    filters: list[dict[str, Any] | None] = [
        None, None, None, {"language": "KY"}, {"language": "RU"}, {"language": "UZ"},
        {"language": "TG"}, {"language": "EN"}, {"openAccess": True}, {"openAccess": False},
        {"kind": "TEXTBOOK"}, {"kind": "BOOK", "language": "EN"},
        *({"kind": "TEXTBOOK", "grade": g} for g in range(1, 12)),
        *({"language": lang, "openAccess": True} for lang in ("KY", "RU", "UZ", "TG", "EN")),
    ]  # fmt: skip
    surnames = [a.split()[-1] for a in AUTHORS]
    texts |= {f"{name} {w}" for name in surnames for w in words}
    # A search is its words and its filter: each text comes with one to four of the filters
    # (more different searches than a worker keeps answers for, as on a public site).
    pool = sorted({(t, json.dumps(rng.choice(filters))) for t in texts for _ in range(4)})
    pool_draw = [(t, json.loads(f)) for t, f in pool]
    rng.shuffle(pool_draw)
    chosen = [(t or None, f) for t, f in SEARCHES] + pool_draw[: max(0, distinct - len(SEARCHES))]
    return [{"search": text, "filter": flt} for text, flt in chosen]


def wrk_search(
    base: str,
    *,
    connections: int,
    duration: int,
    distinct: int,
    zipf: float,
    seed: int,
    mix_seed: int,
) -> dict[str, float]:
    """Anonymous searches drawn from ``distinct`` different ones (the mix ``mix_seed`` makes:
    which searches, and which is the k-th most asked) by a Zipf law of exponent ``zipf`` (the
    k-th most asked is asked 1/k^s as often as the first: how searches on a public site
    spread), in the order ``seed`` draws; p50/p95/p99 from wrk's own latency record, and how
    many requests repeated a search already sent (the best hit rate a worker's kept answers
    can have). A warm-up draws the same mix with another ``seed``: the same searches, equally
    popular, in another order."""
    query = (PORTALS / "lib-kg" / "CatalogueSearch.graphql").read_text()
    variables = search_variables(distinct, mix_seed)
    weights = [1 / (k + 1) ** zipf for k in range(len(variables))]
    total = sum(weights)
    cumulative, running = [], 0.0
    for w in weights:
        running += w / total
        cumulative.append(running)
    bodies = ",\n".join(json.dumps(json.dumps({"query": query, "variables": v})) for v in variables)
    script = (
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"bodies = {{\n{bodies}\n}}\n"
        f"cdf = {{{','.join(f'{c:.9f}' for c in cumulative)}}}\n"
        f"math.randomseed({seed})\nseen = {{}}\nsent = 0\nrepeats = 0\n"
        "request = function()\n  local u = math.random()\n  local lo, hi = 1, #cdf\n"
        "  while lo < hi do\n    local mid = math.floor((lo + hi) / 2)\n"
        "    if cdf[mid] < u then lo = mid + 1 else hi = mid end\n  end\n"
        "  sent = sent + 1\n  if seen[lo] then repeats = repeats + 1 else seen[lo] = true end\n"
        "  return wrk.format(nil, nil, nil, bodies[lo])\nend\n"
        "threads = {}\nsetup = function(thread) table.insert(threads, thread) end\n"
        "done = function(summary, latency, requests)\n"
        '  io.write(string.format("p95_us=%d\\n", latency:percentile(95)))\n'
        "  local s, r = 0, 0\n  for _, t in ipairs(threads) do\n"
        '    s = s + t:get("sent")\n    r = r + t:get("repeats")\n  end\n'
        '  io.write(string.format("sent=%d repeats=%d\\n", s, r))\n'
        "end\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout=5s", "--latency",
         "-s", handle.name, f"{base}/graphql"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    os.unlink(handle.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p95 = int(re.search(r"^p95_us=(\d+)", out, re.M).group(1)) / 1000  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    counts = re.search(r"^sent=(\d+) repeats=(\d+)", out, re.M)
    sent, repeats = (int(counts.group(1)), int(counts.group(2))) if counts else (0, 0)
    return {
        "rps": rps,
        "p50": p50,
        "p95": p95,
        "p99": p99,
        "non_2xx": int(errors.group(1)) if errors else 0,
        "distinct": len(variables),
        "zipf": zipf,
        "sent": sent,
        "repeated_share": round(repeats / sent, 3) if sent else 0.0,
    }


async def checkouts(base: str, url: str, ring: KeyRing, settings: Settings, n: int) -> list[float]:
    """``n`` checkouts, one after another, each of its own copy to a pupil of its school."""
    conn = await asyncpg.connect(url)
    try:
        record = await conn.fetchval("SELECT min(id) FROM bib_record WHERE kind = 'book'")
        # Borrowers with nothing out, so that a kept data directory serves run after run.
        pairs = await conn.fetch(
            "SELECT DISTINCT ON (e.institution_id) e.institution_id, e.person_id "
            "FROM enrollment e WHERE e.exit_date IS NULL AND e.sector = 'school' "
            "AND NOT EXISTS (SELECT 1 FROM loan l WHERE l.person_id = e.person_id "
            "AND l.returned_at IS NULL AND NOT l.textbook_issue) "
            "ORDER BY e.institution_id, e.person_id LIMIT $1",
            n,
        )
        stamp = int(time.time())
        calls = []
        for k, pair in enumerate(pairs):
            barcode = f"CO-{stamp}-{k}"
            await conn.execute(
                "INSERT INTO library_item (record_id, institution_id, barcode) VALUES ($1, $2, $3)",
                record, pair["institution_id"], barcode,
            )  # fmt: skip
            calls.append((pair["institution_id"], pair["person_id"], barcode))
    finally:
        await conn.close()
    query = (PORTALS / "library" / "CheckOutItem.graphql").read_text()
    times = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for school, person, barcode in calls:
            token = issue_token(
                ring, settings, role=Role.LIBRARIAN, scopes=[f"institution:{school}"]
            )
            variables = {
                "input": {
                    "institutionId": encode_id("Institution", school),
                    "barcode": barcode,
                    "personId": encode_id("Person", person),
                }
            }
            started = time.perf_counter()
            response = await client.post(
                "/graphql", json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )  # fmt: skip
            times.append((time.perf_counter() - started) * 1000)
            answer = response.json()["data"]["checkOutItem"]
            assert answer["userErrors"] == [], answer
    return times


async def provision(base: str, token: str, filter: dict[str, Any] | None, by: str) -> list[float]:
    query = (PORTALS / "library" / "TextbookProvision.graphql").read_text()
    times = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for _ in range(7):
            started = time.perf_counter()
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": {"filter": filter, "by": by}},
                headers={"Authorization": f"Bearer {token}"},
            )
            times.append((time.perf_counter() - started) * 1000)
            assert "errors" not in response.json(), response.text
    return times


def _stat(pid: int) -> list[str]:
    # Fields after the command name: [0] state, [1] ppid, ... [11] utime, [12] stime,
    # [13] cutime, [14] cstime (proc(5), counted from field 3).
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(root: int | None) -> float:
    """CPU time (user + system) of a process, its live children and the children it has
    reaped: the hub's workers, or PostgreSQL's postmaster and its backends. What a request
    costs in CPU, unlike its wall-clock time, does not grow with other load on the machine."""
    if root is None:
        return 0.0
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if int(entry.name) == root:
            ticks += sum(int(f) for f in fields[11:15])
        elif int(fields[1]) == root:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def postmaster_pid(data_dir: Path) -> int | None:
    found = data_dir / "pgdata" / "postmaster.pid"
    return int(found.read_text().split()[0]) if found.exists() else None


class CpuMeter:
    """CPU milliseconds per request of the hub and of PostgreSQL over a phase."""

    def __init__(self, hub: int, postgres: int | None) -> None:
        self.pids = (hub, postgres)
        self.start = (0.0, 0.0)

    def __enter__(self) -> CpuMeter:
        self.start = (cpu_seconds(self.pids[0]), cpu_seconds(self.pids[1]))
        return self

    def __exit__(self, *exc: object) -> None:
        self.end = (cpu_seconds(self.pids[0]), cpu_seconds(self.pids[1]))

    def per_request(self, requests: float) -> dict[str, float]:
        spent = zip(self.start, self.end, strict=True)
        hub, pg = (1000 * (b - a) / max(requests, 1) for a, b in spent)
        return {"hub_cpu_ms": round(hub, 2), "postgres_cpu_ms": round(pg, 2)}


def _memory(pid: int) -> tuple[float, float]:
    """The process's resident and peak resident memory (MiB)."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def harvest(base: str, pid: int) -> dict[str, float]:
    """A full ListRecords harvest, following every resumption token."""
    rss_before, peak_before = _memory(pid)
    records = pages = 0
    started = time.perf_counter()
    params: dict[str, str] = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        while True:
            body = (await client.get("/oai", params=params)).text
            pages += 1
            records += body.count("<record")
            token = re.search(r"<resumptionToken[^>]*>([^<]+)</resumptionToken>", body)
            if token is None:
                break
            params = {"verb": "ListRecords", "resumptionToken": token.group(1)}
    elapsed = time.perf_counter() - started
    rss_after, peak_after = _memory(pid)
    return {
        "records": records, "pages": pages, "seconds": elapsed,
        "rss_before": rss_before, "rss_after": rss_after,
        "peak_before": peak_before, "peak_after": peak_after,
    }  # fmt: skip


def measure_the_rest(
    args: argparse.Namespace,
    results: dict[str, Any],
    base: str,
    server: subprocess.Popen[bytes],
    postgres: int | None,
    db_url: str,
    ring: KeyRing,
    settings: Settings,
    ministry: str,
) -> None:
    """Checkouts, the provision reports and (unless ``--no-harvest``) the OAI-PMH harvest."""
    with CpuMeter(server.pid, postgres) as cpu:
        times = asyncio.run(checkouts(base, db_url, ring, settings, args.checkouts))
    results["checkout"] = {"n": len(times), "p50": statistics.median(times),
                           "p95": statistics.quantiles(times, n=20)[18],
                           **cpu.per_request(len(times))}  # fmt: skip
    print("checkout:", results["checkout"], "load", os.getloadavg())
    with CpuMeter(server.pid, postgres) as country_cpu:
        country = asyncio.run(provision(base, ministry, None, "REGION"))
    with CpuMeter(server.pid, postgres) as region_cpu:
        region = asyncio.run(
            provision(base, ministry, {"regionId": encode_id("Region", 8)}, "INSTITUTION")
        )
    results["provision"] = {
        "country_median": statistics.median(country), "country_max": max(country),
        "country_cpu": country_cpu.per_request(len(country)),
        "region_median": statistics.median(region), "region_max": max(region),
        "region_cpu": region_cpu.per_request(len(region)),
    }  # fmt: skip
    print("provision:", results["provision"], "load", os.getloadavg())
    if not args.no_harvest:
        results["harvest"] = asyncio.run(harvest(base, server.pid))
        print("harvest:", results["harvest"])


async def new_searches(base: str, variables: list[dict[str, Any]], connections: int) -> int:
    """Each of ``variables`` asked once, ``connections`` at a time: every one a new search
    (nothing kept answers it). Returns how many were asked."""
    query = (PORTALS / "lib-kg" / "CatalogueSearch.graphql").read_text()
    pending = list(variables)

    async def ask(client: httpx.AsyncClient) -> None:
        while pending:
            body = {"query": query, "variables": pending.pop()}
            answer = (await client.post("/graphql", json=body)).json()
            assert "errors" not in answer, answer

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await asyncio.gather(*(ask(client) for _ in range(connections)))
    return len(variables)


def measure_new(
    args: argparse.Namespace, results: dict[str, Any], base: str, hub: int, postgres: int | None
) -> None:
    """**New searches** (``--new``): the mix's least asked searches, each asked once by a hub
    that has answered nothing yet, so that nothing kept answers them: what a search the hub
    has not seen costs, CPU per request. The hub is then stopped and the mix runs on a new
    one, so that these leave nothing kept behind them."""
    tail = search_variables(args.distinct, args.seed)[-args.new :]
    with CpuMeter(hub, postgres) as cpu:
        started = time.perf_counter()
        asked = asyncio.run(new_searches(base, tail, args.connections))
        elapsed = time.perf_counter() - started
    results["search_new"] = {"asked": asked, "rps": round(asked / elapsed, 1)}
    results["search_new"] |= cpu.per_request(asked)
    print("new searches:", results["search_new"], "load", os.getloadavg())


def search_load(
    args: argparse.Namespace, results: dict[str, Any], base: str, hub: int, postgres: int | None
) -> None:
    """The search load (after ``measure_new``, on a hub started anew).

    1. **Cold**: a warm-up with another seed's draw (the same searches, another order, 3 s),
       then the measured run: a young worker, most of whose kept answers are still to come.
    2. **Steady** (``--steady`` seconds, 0 to skip): the same mix, unmeasured, for that long,
       then measured again: a worker that has served for a while (a national e-library runs
       for hours), its kept answers warm for the head of the Zipf curve. Both are reported."""
    draw = {"distinct": args.distinct, "zipf": args.zipf, "mix_seed": args.seed}
    wrk_search(base, connections=args.connections, duration=3, seed=args.seed + 1, **draw)
    with CpuMeter(hub, postgres) as cpu:
        results["search"] = wrk_search(
            base, connections=args.connections, duration=args.duration, seed=args.seed, **draw
        )
    results["search"] |= cpu.per_request(results["search"]["rps"] * args.duration)
    print("search (cold):", results["search"], "load", os.getloadavg())
    if args.steady:
        wrk_search(
            base, connections=args.connections, duration=args.steady, seed=args.seed + 2, **draw
        )
        with CpuMeter(hub, postgres) as cpu:
            results["search_steady"] = wrk_search(
                base,
                connections=args.connections,
                duration=args.duration,
                seed=args.seed + 3,
                **draw,
            )
        steady = results["search_steady"]
        steady |= cpu.per_request(steady["rps"] * args.duration)
        steady["warmed_seconds"] = args.steady
        print("search (steady):", steady, "load", os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="registry scale (1.0: country)")
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--items", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--duration", type=int, default=20, help="seconds of search load")
    parser.add_argument("--distinct", type=int, default=8000, help="different searches drawn")
    parser.add_argument("--zipf", type=float, default=1.0, help="the Zipf draw's exponent")
    parser.add_argument(
        "--new", type=int, default=300, help="new searches asked once first (0: none)"
    )
    parser.add_argument(
        "--steady",
        type=int,
        default=180,
        help="seconds of the mix, unmeasured, before the steady-state run (0: cold run only)",
    )
    parser.add_argument("--search-only", action="store_true", help="skip checkout, provision")
    parser.add_argument("--no-search", action="store_true", help="skip the search load")
    parser.add_argument("--checkouts", type=int, default=300)
    parser.add_argument("--data-dir", type=Path, default=RESULTS / "library-data")
    parser.add_argument("--no-harvest", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    settings = Settings(data_dir=args.data_dir)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    embedded = None
    db_url = settings.database_url or ""
    if not db_url:
        embedded = database.EmbeddedPostgres(args.data_dir)
        asyncio.run(database.ensure_database(embedded.start(), database.EMBEDDED_DATABASE))
        db_url = embedded.url()
    server = None
    try:
        database.migrate(db_url)
        asyncio.run(
            load(db_url, scale=args.scale, records=args.records, items=args.items, seed=args.seed)
        )
        ring = KeyRing.load(settings, args.data_dir)
        ministry = issue_token(ring, settings, role=Role.MINISTRY, ttl_minutes=240)
        results: dict[str, Any] = {"load_before": os.getloadavg()}
        # PostgreSQL's CPU is measured when its data is in ``--data-dir`` (embedded, or a
        # DATABASE_URL naming another database of the server kept there).
        postgres = postmaster_pid(args.data_dir)
        if args.new and not args.no_search:
            server, base = start_hub(db_url, args.data_dir, args.workers)
            try:
                measure_new(args, results, base, server.pid, postgres)
            finally:
                _stop_hub(server)
        server, base = start_hub(db_url, args.data_dir, args.workers)
        if not args.no_search:
            search_load(args, results, base, server.pid, postgres)
        if not args.search_only:
            measure_the_rest(
                args, results, base, server, postgres, db_url, ring, settings, ministry
            )
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / f"library-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.write_text(json.dumps(results, indent=2))
        print(f"written to {out}")
    finally:
        if server is not None:
            _stop_hub(server)
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    main()
