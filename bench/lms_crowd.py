"""1,000 teachers marking at once (issue 15): a phase of ``python -m bench.lms``.

    python -m bench.lms --data-dir DIR --reuse --crowd 1000 --crowd-only

On the LMS dataset ``bench.lms`` generated, ``--crowd N`` picks N different teachers of N
different classes (a seeded random sample of the year's classes, one slot of each), records a
lesson of each teacher's slot with the portal's ``RecordClassLesson`` (on the first school day
of terms 3-4 on the slot's weekday that has no lesson yet, so every run has fresh lessons and
keeps out of the way of ``bench.lms``'s own marking in term 2), signs each teacher a token,
and prepares one ``RecordMarks`` per teacher marking the whole class, each pupil a mark that
fits the scheme of the class's grade (docs/domains/lms.md, S2). Then ``wrk`` with N
connections and 2 threads sends each request exactly once, all at once, each on its own
connection (``Connection: close``: a teacher's one request), to ``bilim serve --workers W`` as
production runs it (its log in ``DIR/crowd-hub.log``); its script counts the answers that are
not HTTP 200, that carry ``errors`` or a non-empty ``userErrors``, and ends wrk when the last
answer is in. Last, the database is counted: every mark of every request landed exactly once
(the marks of each lesson are its class, each pupil once, none superseded).

Reported: requests, requests/s (first request to last answer), p50, p99 and the slowest, the
bad answers by kind, wrk's socket errors, the marks counted, PostgreSQL's client connections
at the peak against ``max_connections``, the CPU the hub's workers and PostgreSQL spent per
request (from ``/proc``: what a loaded machine does not inflate as it does wall time) and the
load average before and after. "No errors: yes" when all N succeeded and every mark is there
once.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import resource
import subprocess
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil

from bench.api import _lua_bytes, _stop_hub
from bench.lms_meter import load_average
from bench.workloads import Call
from resolvers import clock
from resolvers.access import KeyRing, Role, issue_token
from resolvers.relay import decode_id, encode_id
from resolvers.settings import Settings

PORTALS = Path(__file__).resolve().parent.parent / "portals" / "lms"
TOPIC = "Срез знаний"  # the crowd's lessons: a check of the class's knowledge
WRK_THREADS = 2
# The longest an answer may take before wrk counts it as timed out (and the longest the run
# may last): a crowd on two shared cores queues for tens of seconds.
WRK_TIMEOUT_SECONDS = 300
CRITERIA = "ABCD"
PRAISE = ("Молодец", "Хорошо работал на уроке", "Старается, но спешит", "Внимателен")


@dataclass(frozen=True)
class Rule:
    """The assessment scheme of a class's grade (``assessment_rule``)."""

    scheme: str  # descriptive, points, criteria, five_point
    min_value: int | None
    max_value: int | None


@dataclass(frozen=True)
class Teacher:
    """One of the crowd: a teacher, the slot of theirs whose lesson they mark, its date, and
    the pupils of the class on that date."""

    teacher_id: int
    institution_id: int
    class_group_id: int
    slot_id: int
    on: date
    rule: Rule
    pupils: tuple[int, ...]


def marks_for(rule: Rule, pupils: tuple[int, ...] | list[int]) -> list[dict[str, Any]]:
    """``MarkInput`` s for every pupil, each fitting the scheme (S2): feedback in words and no
    value in descriptive grades, a value in the range otherwise, and a criterion (A-D) with
    criteria-based ones; the work is the input's default (classwork)."""
    marks: list[dict[str, Any]] = []
    for n, pupil in enumerate(pupils):
        mark: dict[str, Any] = {"pupilId": encode_id("Person", pupil)}
        if rule.scheme == "descriptive":
            mark["comment"] = PRAISE[n % len(PRAISE)]
        else:
            assert rule.min_value is not None, rule
            assert rule.max_value is not None, rule
            span = rule.max_value - rule.min_value + 1
            mark["value"] = rule.min_value + (n * 7 + 3) % span
            if rule.scheme == "criteria":
                mark["criterion"] = CRITERIA[n % len(CRITERIA)]
        marks.append(mark)
    return marks


def record_marks_call(teacher: Teacher, lesson_id: str, token: str) -> Call:
    """The ``RecordMarks`` request of one teacher: the whole class's marks of the lesson."""
    return Call(
        {"input": {"lessonId": lesson_id, "marks": marks_for(teacher.rule, teacher.pupils)}}, token
    )


def teacher_token(ring: KeyRing, settings: Settings, teacher: Teacher) -> str:
    return issue_token(
        ring,
        settings,
        role=Role.TEACHER,
        person_id=teacher.teacher_id,
        scopes=[f"institution:{teacher.institution_id}"],
        ttl_minutes=240,
    )


def _school_days(terms: list[Any], weekday: int, until: date) -> list[date]:
    """The days of ``terms`` on an ISO weekday, up to ``until`` (a lesson is marked once held)."""
    days = []
    for term in terms:
        day = term["starts_on"] + timedelta(days=(weekday - term["starts_on"].isoweekday()) % 7)
        while day <= min(term["ends_on"], until):
            days.append(day)
            day += timedelta(weeks=1)
    return days


async def choose(
    conn: asyncpg.Connection, year_id: int, n: int, *, seed: int = 15
) -> list[Teacher]:
    """``n`` teachers of ``n`` different classes of the year (fewer if the year has fewer), each
    with one of their slots (the class's last: ``bench.lms``'s marking takes the first) and the
    first school day of terms 3-4 on its weekday, with the slot in force, that has no lesson of
    that slot yet."""
    slots = await conn.fetch(
        """SELECT DISTINCT ON (s.class_group_id) s.id, s.weekday, s.teacher_id, s.valid_from,
                  s.institution_id, s.class_group_id, a.scheme, a.min_value, a.max_value
           FROM timetable_slot s
           JOIN class_group k ON k.id = s.class_group_id
           JOIN assessment_rule a ON a.curriculum_model = k.curriculum_model
                                 AND a.grade = k.grade
           WHERE s.academic_year_id = $1 AND s.valid_to IS NULL
           ORDER BY s.class_group_id, s.id DESC""",
        year_id,
    )
    rng = random.Random(seed)
    shuffled = list(slots)
    rng.shuffle(shuffled)
    chosen, teachers = [], set()
    for slot in shuffled:
        if slot["teacher_id"] not in teachers:
            teachers.add(slot["teacher_id"])
            chosen.append(slot)
        if len(chosen) == n:
            break
    terms = await conn.fetch(
        "SELECT starts_on, ends_on FROM term WHERE academic_year_id = $1 AND number >= 3"
        " ORDER BY number",
        year_id,
    )
    taken: dict[int, set[date]] = {}
    for row in await conn.fetch(
        "SELECT slot_id, on_date FROM class_lesson WHERE academic_year_id = $1"
        " AND slot_id = ANY($2::bigint[])",
        year_id,
        [s["id"] for s in chosen],
    ):
        taken.setdefault(row["slot_id"], set()).add(row["on_date"])
    pupils: dict[int, list[int]] = {}
    days: dict[int, date] = {}
    for slot in chosen:
        free = [
            d
            for d in _school_days(list(terms), slot["weekday"], clock.today())
            if d >= slot["valid_from"] and d not in taken.get(slot["id"], set())
        ]
        if not free:
            raise RuntimeError(
                f"slot {slot['id']}: no day of terms 3-4 left without a lesson (run on fresh data)"
            )
        days[slot["id"]] = free[0]
    for row in await conn.fetch(
        """SELECT s.id AS slot_id, m.pupil_id
           FROM unnest($1::bigint[], $2::date[]) AS s(id, on_date)
           JOIN timetable_slot t ON t.id = s.id
           JOIN class_membership m ON m.class_group_id = t.class_group_id
             AND m.since <= s.on_date AND (m.until IS NULL OR m.until > s.on_date)
           ORDER BY s.id, m.pupil_id""",
        [s["id"] for s in chosen],
        [days[s["id"]] for s in chosen],
    ):
        pupils.setdefault(row["slot_id"], []).append(row["pupil_id"])
    return [
        Teacher(
            teacher_id=s["teacher_id"],
            institution_id=s["institution_id"],
            class_group_id=s["class_group_id"],
            slot_id=s["id"],
            on=days[s["id"]],
            rule=Rule(s["scheme"], s["min_value"], s["max_value"]),
            pupils=tuple(pupils.get(s["id"], [])),
        )
        for s in chosen
        if pupils.get(s["id"])
    ]


async def record_lessons(
    client: httpx.AsyncClient,
    url: str,
    crowd: list[Teacher],
    tokens: list[str],
    *,
    at_once: int = 8,
) -> list[str]:
    """Each teacher records their lesson with the portal's ``RecordClassLesson`` (``at_once``
    at a time); the lessons' global IDs, in the crowd's order."""
    query = (PORTALS / "RecordClassLesson.graphql").read_text()
    gate = asyncio.Semaphore(at_once)

    async def one(teacher: Teacher, token: str) -> str:
        variables = {
            "input": {
                "slotId": encode_id("TimetableSlot", teacher.slot_id),
                "date": teacher.on.isoformat(),
                "topic": TOPIC,
            }
        }
        async with gate:
            response = await client.post(
                url,
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
        body = response.json()
        answer = (body.get("data") or {}).get("recordClassLesson") or {}
        if response.status_code != 200 or body.get("errors") or answer.get("userErrors"):
            raise RuntimeError(f"recordClassLesson for slot {teacher.slot_id}: {response.text}")
        lesson_id: str = answer["lesson"]["id"]
        return lesson_id

    return list(await asyncio.gather(*(one(t, k) for t, k in zip(crowd, tokens, strict=True))))


def script(path: Path, query: str, calls: list[Call], *, threads: int = WRK_THREADS) -> None:
    """A wrk script that sends each call exactly once over ``threads`` threads (thread k the
    calls k, k + threads, ...; a connection with none left waits), counts the answers that are
    not 200, carry ``errors`` or a non-empty ``userErrors``, and ends wrk with SIGINT once the
    last answer of all threads is in (a counter under a mutex the threads share: wrk's Lua
    states are one per thread). ``done`` prints what it counted and the latencies in µs."""
    rows = []
    for call in calls:
        body, _ = call.body(query)
        rows.append(f"{{{_lua_bytes(body)}, {_lua_bytes(f'Bearer {call.token}'.encode())}}}")
    path.write_text(
        "calls = {\n" + ",\n".join(rows) + "\n}\n"
        f"slices = {threads}\n"
        + r"""
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } crowd_timespec;
  int clock_gettime(int clock, crowd_timespec *ts);
  typedef union { char bytes[64]; long align; } crowd_mutex;
  int pthread_mutex_lock(crowd_mutex *m);
  int pthread_mutex_unlock(crowd_mutex *m);
  typedef struct { crowd_mutex lock; long answered; } crowd_shared;
  int getpid(void);
  int kill(int pid, int sig);
]]
local ts = ffi.new("crowd_timespec")
local function now()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

-- In the main state: one shared counter (zeroed memory is an unlocked glibc mutex), its
-- address and a slice number handed to each thread before it starts.
shared = nil
made = 0
threads = {}
setup = function(thread)
  if shared == nil then shared = ffi.new("crowd_shared[1]") end
  thread:set("shared_at", tonumber(ffi.cast("uintptr_t", shared)))
  thread:set("slice", made)
  made = made + 1
  table.insert(threads, thread)
end

-- In each thread.
slice = 0
share = 0
reserved = 0
sent = 0
answered = 0
non200 = 0
errors = 0
user_errors = 0
resent = 0
first = 0
last = 0
first_bad = ""
local all

init = function(args)
  share = math.floor((#calls - slice - 1) / slices) + 1
  if #calls <= slice then share = 0 end
  all = ffi.cast("crowd_shared *", shared_at)
end

-- wrk asks delay() before each request and request() when it is due: a call is reserved in
-- delay(), so two connections cannot both take the last one; with none left, wait.
delay = function()
  if reserved >= share then return 3600000 end
  reserved = reserved + 1
  return 0
end

request = function()
  local k = sent
  if sent < reserved then
    sent = sent + 1
    k = sent
    if first == 0 then first = now() end
  elseif reserved > 0 then
    -- A connection that broke mid-request sends again without asking delay(): the last call
    -- again (recordMarks with the same marks is harmless twice), counted. (Before the run,
    -- with nothing reserved, wrk calls request() once to check the script: nothing is sent.)
    resent = resent + 1
  end
  local call = calls[slice + 1 + (math.max(k, 1) - 1) * slices] or calls[1]
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = call[2]
  -- Each teacher's one request on their own connection: closed after the answer (kept open,
  -- the server would close it idle after its keep-alive timeout and wrk count a read error).
  headers["Connection"] = "close"
  return wrk.format("POST", nil, headers, call[1])
end

response = function(status, headers, body)
  answered = answered + 1
  last = now()
  local bad = false
  if status ~= 200 then
    non200 = non200 + 1
    bad = true
  elseif string.find(body, '"errors":', 1, true) then
    errors = errors + 1
    bad = true
  elseif not string.find(body, '"userErrors":[]', 1, true) then
    user_errors = user_errors + 1
    bad = true
  end
  if bad and first_bad == "" then
    first_bad = status .. " " .. string.sub(body, 1, 300)
  end
  ffi.C.pthread_mutex_lock(ffi.cast("crowd_mutex *", all))
  all.answered = all.answered + 1
  local total = tonumber(all.answered)
  ffi.C.pthread_mutex_unlock(ffi.cast("crowd_mutex *", all))
  if total == #calls then ffi.C.kill(ffi.C.getpid(), 2) end
end

done = function(summary, latency, requests)
  local n, non, err, ue, re, t0, t1, bad = 0, 0, 0, 0, 0, 0, 0, ""
  for _, t in ipairs(threads) do
    n = n + t:get("answered")
    non = non + t:get("non200")
    err = err + t:get("errors")
    ue = ue + t:get("user_errors")
    re = re + t:get("resent")
    if t:get("first") > 0 and (t0 == 0 or t:get("first") < t0) then t0 = t:get("first") end
    if t:get("last") > t1 then t1 = t:get("last") end
    if bad == "" then bad = t:get("first_bad") end
  end
  local e = summary.errors
  io.write(string.format(
    "crowd calls=%d answered=%d non200=%d errors=%d user_errors=%d resent=%d\n",
    #calls, n, non, err, ue, re))
  io.write(string.format(
    "crowd socket connect=%d read=%d write=%d timeout=%d\n",
    e.connect, e.read, e.write, e.timeout))
  io.write(string.format(
    "crowd elapsed_us=%d p50_us=%d p99_us=%d max_us=%d\n",
    t1 - t0, latency:percentile(50), latency:percentile(99), latency.max))
  io.write("crowd first_bad=" .. string.gsub(bad, "\n", " ") .. "\n")
end
"""
    )


@dataclass
class Outcome:
    """What wrk's script counted."""

    calls: int
    answered: int
    non200: int
    errors: int
    user_errors: int
    resent: int
    socket_errors: dict[str, int]
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    first_bad: str

    @property
    def requests_per_s(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    @property
    def bad(self) -> int:
        return self.non200 + self.errors + self.user_errors


def parse(out: str) -> Outcome:
    """The counts the script's ``done`` printed (lines ``crowd key=value ...``)."""
    values = {
        key: int(value)
        for line in out.splitlines()
        if line.startswith("crowd ") and not line.startswith("crowd first_bad=")
        for key, value in re.findall(r"(\w+)=(\d+)", line)
    }
    if "elapsed_us" not in values:
        raise RuntimeError(f"wrk's script printed no counts:\n{out}")
    bad = re.search(r"^crowd first_bad=(.*)$", out, re.M)
    return Outcome(
        calls=values["calls"],
        answered=values["answered"],
        non200=values["non200"],
        errors=values["errors"],
        user_errors=values["user_errors"],
        resent=values["resent"],
        socket_errors={k: values[k] for k in ("connect", "read", "write", "timeout")},
        seconds=values["elapsed_us"] / 1e6,
        p50_ms=values["p50_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
        max_ms=values["max_us"] / 1000,
        first_bad=bad.group(1).strip() if bad else "",
    )


def open_files_for(connections: int) -> int:
    """Raise this process's open-files limit (inherited by wrk and the hub it starts) to what
    ``connections`` sockets on both sides need; the limit it set."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * connections + 1024
    if hard != resource.RLIM_INFINITY and hard < wanted:
        raise RuntimeError(f"the open-files hard limit ({hard}) is below {wanted}: raise it")
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return soft
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return wanted


def run_wrk(url: str, path: Path, connections: int) -> Outcome:
    done = subprocess.run(
        [
            "wrk",
            f"-t{WRK_THREADS}",
            f"-c{connections}",
            f"-d{WRK_TIMEOUT_SECONDS}s",
            f"--timeout={WRK_TIMEOUT_SECONDS}s",
            "-s",
            str(path),
            url,
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr}{done.stdout}")
    return parse(done.stdout)


def _hub_cpu(server: subprocess.Popen[bytes]) -> float:
    """CPU seconds of the served hub's processes (the supervisor and its workers)."""
    try:
        parent = psutil.Process(server.pid)
        procs = [parent, *parent.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            if "postgres" not in proc.name():
                cpu = proc.cpu_times()
                total += cpu.user + cpu.system
        except psutil.Error:
            pass
    return total


async def _sample_connections(url: str, into: list[int]) -> None:
    """The server's client connections (all databases, this one's too), four times a second
    until cancelled."""
    conn = await asyncpg.connect(url)
    try:
        while True:
            found = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
            )
            into.append(int(found))
            await asyncio.sleep(0.25)
    finally:
        await conn.close()


async def landed(
    conn: asyncpg.Connection, year_id: int, lessons: list[int], crowd: list[Teacher]
) -> dict[str, int]:
    """Count the marks of the crowd's lessons: lessons whose marks are exactly the class's
    pupils, each once and current; marks sent and found; pupils missing and marks extra."""
    rows = await conn.fetch(
        """SELECT l.id, count(m.id) AS marks, count(DISTINCT m.pupil_id) AS pupils,
                  count(m.id) FILTER (WHERE m.superseded_at IS NULL) AS current,
                  array_agg(m.pupil_id ORDER BY m.pupil_id) FILTER (WHERE m.id IS NOT NULL)
                    AS who
           FROM unnest($2::bigint[]) AS l(id)
           LEFT JOIN mark m ON m.academic_year_id = $1 AND m.lesson_id = l.id
           GROUP BY l.id""",
        year_id,
        lessons,
    )
    sent = {lesson: t.pupils for lesson, t in zip(lessons, crowd, strict=True)}
    complete = missing = extra = found = 0
    for row in rows:
        pupils = sent[row["id"]]
        found += row["marks"]
        who = list(row["who"] or [])
        if who == sorted(pupils) and row["current"] == row["marks"] == row["pupils"]:
            complete += 1
        missing += len(set(pupils) - set(who))
        extra += row["marks"] - len(set(who) & set(pupils))
    return {
        "lessons": len(lessons),
        "complete": complete,
        "marks_sent": sum(len(t.pupils) for t in crowd),
        "marks_found": found,
        "missing": missing,
        "extra": extra,
    }


def _lesson_key(global_id: str) -> int:
    return decode_id(global_id, expected="ClassLesson")[1]


async def crowd(
    url: str, folder: Path, year_id: int, n: int, workers: int, pgdata: Path | None
) -> str:
    """The phase: prepare ``n`` teachers' lessons and requests, serve, send them all at once,
    count; a report of a few lines."""
    from bench.content import _start_hub, cpu_seconds

    settings = Settings(database_url=url, data_dir=folder)
    ring = KeyRing.load(settings)
    conn = await asyncpg.connect(url)
    try:
        limit_pg = await conn.fetchval("SHOW max_connections")
        teachers = await choose(conn, year_id, n)
        if len(teachers) < n:
            raise RuntimeError(f"the year has {len(teachers)} classes with a teacher, not {n}")
        tokens = [teacher_token(ring, settings, t) for t in teachers]
        limit = open_files_for(n)
        log = folder / "crowd-hub.log"
        log.unlink(missing_ok=True)
        server, endpoint = await asyncio.to_thread(_start_hub, url, folder, workers, log=log)
        try:
            async with httpx.AsyncClient(timeout=300) as client:
                lessons = await record_lessons(client, endpoint, teachers, tokens)
            query = (PORTALS / "RecordMarks.graphql").read_text()
            calls = [
                record_marks_call(t, lesson, token)
                for t, lesson, token in zip(teachers, lessons, tokens, strict=True)
            ]
            path = folder / "crowd.lua"
            script(path, query, calls)
            postmaster = int((pgdata / "postmaster.pid").read_text().split()[0]) if pgdata else None
            before_load = load_average()
            hub_before = _hub_cpu(server)
            pg_before = cpu_seconds(server.pid, postmaster)[1] if postmaster else None
            connections: list[int] = [0]
            sampling = asyncio.create_task(_sample_connections(url, connections))
            try:
                outcome = await asyncio.to_thread(run_wrk, endpoint, path, n)
            finally:
                sampling.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sampling
            peak = max(connections)
            hub_after = _hub_cpu(server)
            pg_after = cpu_seconds(server.pid, postmaster)[1] if postmaster else None
            after_load = load_average()
        finally:
            await asyncio.to_thread(_stop_hub, server)
        counted = await landed(conn, year_id, [_lesson_key(g) for g in lessons], teachers)
    finally:
        await conn.close()
    schemes: dict[str, int] = {}
    for t in teachers:
        schemes[t.rule.scheme] = schemes.get(t.rule.scheme, 0) + 1
    per = max(1, outcome.answered)
    cpu = f"hub workers {(hub_after - hub_before) / per * 1000:.1f} ms"
    if pg_before is not None and pg_after is not None:
        cpu += f", PostgreSQL {(pg_after - pg_before) / per * 1000:.1f} ms"
    sockets = ", ".join(f"{k} {v}" for k, v in outcome.socket_errors.items())
    lines = [
        f"{n:,} teachers marking at once (wrk, {n:,} connections, {WRK_THREADS} threads, each"
        f" request once; `bilim serve --workers {workers}`; open files {limit:,}):",
        f"  classes by scheme: {', '.join(f'{k} {v}' for k, v in sorted(schemes.items()))};"
        f" {counted['marks_sent']:,} marks in {len(calls):,} requests"
        f" ({counted['marks_sent'] / max(1, len(calls)):.1f} a class)",
        f"  {outcome.answered:,} of {outcome.calls:,} answered in {outcome.seconds:.1f} s:"
        f" {outcome.requests_per_s:.1f} req/s, p50 {outcome.p50_ms:,.0f} ms,"
        f" p99 {outcome.p99_ms:,.0f} ms, slowest {outcome.max_ms:,.0f} ms",
        f"  bad answers: {outcome.non200} not 200, {outcome.errors} with errors,"
        f" {outcome.user_errors} with userErrors; socket errors: {sockets};"
        f" sent again {outcome.resent}",
        f"  in the database: {counted['complete']:,} of {counted['lessons']:,} lessons hold"
        f" exactly their class's marks; {counted['marks_found']:,} marks found of"
        f" {counted['marks_sent']:,} sent, {counted['missing']} missing, {counted['extra']}"
        " extra",
        f"  PostgreSQL client connections at the peak: {peak} (max_connections {limit_pg});"
        f" CPU per request: {cpu}",
        f"  {before_load} before, {after_load} after",
    ]
    if outcome.first_bad:
        lines.append(f"  first bad answer: {outcome.first_bad}")
    ok = (
        outcome.answered == outcome.calls == n
        and outcome.bad == 0
        and not any(outcome.socket_errors.values())
        and counted["complete"] == n
        and counted["missing"] == counted["extra"] == 0
    )
    lines.append("  no errors: " + ("yes" if ok else "NO"))
    return "\n".join(lines)
