"""Licensing portal: licence applications and their review, the licences' lifecycle,
accreditation, the ministry's levers and the jobs runner, and public verification.

Every licence-side preparer makes its own private schools (as ``bench/licensing.py`` does): an
institution holds one live licence and one open application at most, the dataset has no
licences and too few private institutions for thousands of independent calls, and fresh
schools keep these workloads clear of the institutions other workloads use. Accreditation
preparers make private colleges the same way. Dossiers pass the year's policy (the migration's
figures: 3 m2 per student, premises held two years, fire and sanitary opinions and the premises
contract for every address).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import asyncpg

from bench.workloads import Bench, Call, Workload
from resolvers import clock
from resolvers.access import Role
from resolvers.relay import encode_id

ADDRESS_DOCUMENTS = ("fire_safety_opinion", "sanitary_opinion", "premises_contract")
SCHOOL_LEVELS = ["primary", "basic", "secondary"]
SCHOOL_PROGRAMMES = ["SCH-PRIMARY", "SCH-BASIC", "SCH-SECONDARY"]
ACCREDITATION_STEPS = [
    "application",
    "decision_to_start",
    "contract",
    "self_assessment",
    "expert_visit",
    "council_decision",
]


def _tag() -> str:
    """A short tag, new on every call (milliseconds in base 36), for names that must be new."""
    value, digits = time.time_ns() // 1_000_000, ""
    while value:
        value, rest = divmod(value, 36)
        digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[rest] + digits
    return digits


def _officer(bench: Bench) -> str:
    """A national licensing officer (the ministry's licensing department, no region scope)."""
    return bench.token(Role.LICENSING_OFFICER)


def _administrator(bench: Bench, institution_id: int) -> str:
    """The administrator of an institution, who files its licensing papers."""
    return bench.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{institution_id}"])


# --- state, in bulk ---------------------------------------------------------------------------


async def _institutions(conn: asyncpg.Connection, n: int, *, kind: str, label: str) -> list[int]:
    """``n`` new private institutions of ``kind``, spread over the districts, each with an
    address there."""
    rows = await conn.fetch(
        """
        INSERT INTO institution
          (kind, ownership, name, region_id, district_id, country_code, languages,
           design_capacity, address)
        SELECT $1::text, 'private', $2::text || ' №' || g, d.region_id, d.id, 'KG', '{ky,ru}', 600,
               d.name_ru || ', ул. Манаса, ' || g
        FROM generate_series(1, $3::int) g
        JOIN (SELECT id, region_id, name_ru, row_number() OVER (ORDER BY id) - 1 AS k,
                     count(*) OVER () AS c
              FROM district) d ON d.k = g % d.c
        RETURNING id
        """,
        kind,
        label,
        n,
    )
    return sorted(r["id"] for r in rows)


async def _schools(conn: asyncpg.Connection, n: int) -> list[int]:
    return await _institutions(conn, n, kind="school", label=f"Частный лицей «Бенч {_tag()}»")


async def _colleges(conn: asyncpg.Connection, n: int) -> list[int]:
    return await _institutions(conn, n, kind="college", label=f"Частный колледж «Бенч {_tag()}»")


async def _applications(
    conn: asyncpg.Connection,
    institutions: Sequence[int],
    *,
    status: str,
    submitted_on: date,
    steps: Sequence[tuple[str, date, str | None]],
    paused_on: date | None = None,
    requested_documents: str | None = None,
    decided_on: date | None = None,
) -> list[int]:
    """A licence application per institution, with its dossier (one teaching address with the
    policy's documents) and its history ``steps`` (action, day, note); their ids, in the order
    of ``institutions``."""
    rows = await conn.fetch(
        """
        WITH app AS (
          INSERT INTO licence_application
            (institution_id, applied_as, applicant_subject, status, levels, programme_codes,
             submitted_on, due_on, paused_on, requested_documents, decided_on)
          SELECT i, 'institution', 'school_admin:bench', $2::text, $3::varchar[], $4::varchar[],
                 $5::date, $5::date + 20, $6::date, $7::text, $8::date
          FROM unnest($1::int[]) i
          RETURNING id, institution_id, submitted_on
        ), addr AS (
          INSERT INTO licence_address
            (application_id, address, district_id, floor_area, planned_students, tenure,
             tenure_from, tenure_until)
          SELECT app.id, inst.address, inst.district_id, 1200, 300, 'lease',
                 app.submitted_on - 400, app.submitted_on + 1825
          FROM app JOIN institution inst ON inst.id = app.institution_id
          RETURNING id, application_id
        ), doc AS (
          INSERT INTO licence_document
            (application_id, address_id, kind, file_name, media_type, size_bytes, sha256,
             storage_key, attached_on)
          SELECT addr.application_id, addr.id, k, k || '.pdf', 'application/pdf', 48213,
                 encode(sha256(convert_to(addr.id || k, 'UTF8')), 'hex'),
                 'licensing/' || addr.application_id || '/' || k || '.pdf', $5::date
          FROM addr CROSS JOIN unnest($9::text[]) k
        ), step AS (
          INSERT INTO licence_application_step (application_id, action, effective_on, actor, note)
          SELECT app.id, s.action, s.day, 'school_admin:bench', s.note
          FROM app CROSS JOIN unnest($10::text[], $11::date[], $12::text[]) s(action, day, note)
        )
        SELECT id, institution_id FROM app
        """,
        list(institutions),
        status,
        SCHOOL_LEVELS,
        SCHOOL_PROGRAMMES,
        submitted_on,
        paused_on,
        requested_documents,
        decided_on,
        list(ADDRESS_DOCUMENTS),
        [s[0] for s in steps],
        [s[1] for s in steps],
        [s[2] for s in steps],
    )
    by_institution = {r["institution_id"]: r["id"] for r in rows}
    return [by_institution[i] for i in institutions]


async def _licences(
    conn: asyncpg.Connection,
    institutions: Sequence[int],
    *,
    status: str = "active",
    issued_on: date,
    valid_until: date | None = None,
    ended_on: date | None = None,
    events: Sequence[tuple[str, date, str | None, str | None]] = (),
    replaces: bool = False,
) -> list[tuple[int, str]]:
    """A licence per institution, issued from an approved application, numbered as the hub
    numbers them (its sequence), with an ``issued`` event and then ``events`` (action, day,
    reason, legal basis). With ``replaces``, each replaces the institution's re-issued licence.
    (id, number) of each, in the order of ``institutions``."""
    applications = await _applications(
        conn,
        institutions,
        status="approved",
        submitted_on=issued_on - timedelta(days=20),
        decided_on=issued_on,
        steps=[
            ("submitted", issued_on - timedelta(days=20), None),
            ("approved", issued_on, None),
        ],
    )
    rows = await conn.fetch(
        """
        WITH lic AS (
          INSERT INTO licence
            (number, institution_id, application_id, replaces_id, status, levels,
             programme_codes, issued_on, valid_until, ended_on)
          SELECT 'KG-LIC-' || extract(year FROM $3::date)::int || '-'
                   || lpad(nextval('licence_number_seq')::text, 6, '0'),
                 a.institution_id, a.id,
                 CASE WHEN $7::bool THEN (
                   SELECT max(old.id) FROM licence old
                   WHERE old.institution_id = a.institution_id AND old.status = 'reissued')
                 END,
                 $2::text, a.levels, a.programme_codes, $3::date, $4::date, $5::date
          FROM licence_application a WHERE a.id = ANY($1::int[])
          RETURNING id, number, institution_id
        ), ev AS (
          INSERT INTO licence_event (licence_id, action, effective_on, actor, reason, legal_basis)
          SELECT lic.id, e.action, e.day, 'licensing_officer:bench', e.reason, e.basis
          FROM lic CROSS JOIN unnest($6::text[], $8::date[], $9::text[], $10::text[])
               WITH ORDINALITY e(action, day, reason, basis, k)
          ORDER BY lic.id, e.k
        )
        SELECT id, number, institution_id FROM lic
        """,
        applications,
        status,
        issued_on,
        valid_until,
        ended_on,
        ["issued", *(e[0] for e in events)],
        replaces,
        [issued_on, *(e[1] for e in events)],
        [None, *(e[2] for e in events)],
        [None, *(e[3] for e in events)],
    )
    by_institution = {r["institution_id"]: (r["id"], r["number"]) for r in rows}
    return [by_institution[i] for i in institutions]


async def _agency(conn: asyncpg.Connection) -> int:
    """A new agency on the national register, recognised since 2020."""
    agency_id: int = await conn.fetchval(
        "INSERT INTO accreditation_agency"
        " (name, country_code, on_national_register, on_european_register, recognised_on)"
        " VALUES ($1, 'KG', true, false, DATE '2020-01-01') RETURNING id",
        f"Независимое агентство аккредитации «Бенч {_tag()}»",
    )
    return agency_id


async def _accreditations(
    conn: asyncpg.Connection,
    institutions: Sequence[int],
    *,
    agency_id: int,
    steps: Sequence[str],
    started_on: date,
    outcome: str = "pending",
    valid_until: date | None = None,
) -> list[int]:
    """An institutional accreditation per institution, at ``steps[i]``, with the history of the
    steps so far (one a week from ``started_on``); accredited ones are decided on the last
    step's day and valid from it until ``valid_until``. Their ids, in order."""
    rows = await conn.fetch(
        """
        WITH acc AS (
          INSERT INTO accreditation
            (institution_id, agency_id, kind, step, outcome, applicant_subject, decided_on,
             valid_from, valid_until)
          SELECT s.i, $2::int, 'institutional', s.step, $4::text, 'school_admin:bench',
                 CASE WHEN $4::text <> 'pending'
                      THEN $3::date + 7 * (array_position($6::text[], s.step) - 1) END,
                 CASE WHEN $4::text <> 'pending'
                      THEN $3::date + 7 * (array_position($6::text[], s.step) - 1) END,
                 $5::date
          FROM unnest($1::int[], $7::text[]) s(i, step)
          RETURNING id, institution_id, step
        ), history AS (
          INSERT INTO accreditation_step (accreditation_id, step, outcome, effective_on, actor)
          SELECT acc.id, st.step,
                 CASE WHEN st.step = 'council_decision' THEN $4::text END,
                 $3::date + 7 * (st.k - 1)::int, 'licensing_officer:bench'
          FROM acc CROSS JOIN unnest($6::text[]) WITH ORDINALITY st(step, k)
          WHERE st.k <= array_position($6::text[], acc.step)
        )
        SELECT id, institution_id FROM acc
        """,
        list(institutions),
        agency_id,
        started_on,
        outcome,
        valid_until,
        ACCREDITATION_STEPS,
        list(steps),
    )
    by_institution = {r["institution_id"]: r["id"] for r in rows}
    return [by_institution[i] for i in institutions]


# --- the GraphQL inputs -----------------------------------------------------------------------


def _address(text: str, today: date) -> dict[str, Any]:
    """A leased teaching address that passes the policy: 4 m2 per student, leased for 5 years."""
    return {
        "address": text,
        "floorArea": 1200.0,
        "plannedStudents": 300,
        "tenure": "LEASE",
        "tenureFrom": (today - timedelta(days=400)).isoformat(),
        "tenureUntil": (today + timedelta(days=5 * 365)).isoformat(),
    }


def _document(kind: str, owner: str, address_index: int | None) -> dict[str, Any]:
    return {
        "kind": kind.upper(),
        "fileName": f"{kind}.pdf",
        "mediaType": "application/pdf",
        "sizeBytes": 48_213,
        "sha256": hashlib.sha256(f"{owner}/{kind}".encode()).hexdigest(),
        "storageKey": f"licensing/{owner}/{kind}.pdf",
        "addressIndex": address_index,
    }


def _address_documents(owner: str) -> list[dict[str, Any]]:
    return [_document(k, owner, 0) for k in ADDRESS_DOCUMENTS]


# --- licence applications ---------------------------------------------------------------------


async def apply_for_licence(bench: Bench, n: int) -> list[Call]:
    """``n`` new private schools without a licence; each one's administrator files a dossier
    that passes every submission rule (three levels and their programmes, one leased address,
    its three documents)."""
    today = clock.today()
    conn = await asyncpg.connect(bench.db_url)
    try:
        schools = await _schools(conn, n)
    finally:
        await conn.close()
    return [
        Call(
            {
                "input": {
                    "institutionId": encode_id("Institution", school),
                    "levels": [lv.upper() for lv in SCHOOL_LEVELS],
                    "programmeCodes": SCHOOL_PROGRAMMES,
                    "addresses": [_address(f"г. Бишкек, ул. Токтогула, {k + 1}", today)],
                    "documents": _address_documents(f"school-{school}"),
                }
            },
            _administrator(bench, school),
        )
        for k, school in enumerate(schools)
    ]


async def supplement_licence_application(bench: Bench, n: int) -> list[Call]:
    """``n`` new private schools whose application (filed 8 days ago) waits for documents an
    officer asked for 2 days ago; each one's administrator supplies the charter and the
    curriculum."""
    today = clock.today()
    submitted, paused = today - timedelta(days=8), today - timedelta(days=2)
    requested = "Устав и учебный план"
    conn = await asyncpg.connect(bench.db_url)
    try:
        async with conn.transaction():
            schools = await _schools(conn, n)
            applications = await _applications(
                conn,
                schools,
                status="awaiting_documents",
                submitted_on=submitted,
                paused_on=paused,
                requested_documents=requested,
                steps=[("submitted", submitted, None), ("documents_requested", paused, requested)],
            )
    finally:
        await conn.close()
    return [
        Call(
            {
                "input": {
                    "applicationId": encode_id("LicenceApplication", application),
                    "documents": [
                        _document(kind, f"application-{application}", None)
                        for kind in ("charter", "curriculum")
                    ],
                    "note": "Устав и учебный план приложены",
                }
            },
            _administrator(bench, school),
        )
        for school, application in zip(schools, applications, strict=True)
    ]


# An officer's decisions, in turn: mostly approvals (each issues a licence).
_DECISIONS: list[dict[str, Any]] = [
    {"decision": "APPROVE", "reasons": "Соответствует лицензионным требованиям"},
    {
        "decision": "REQUEST_DOCUMENTS",
        "requestedDocuments": "Заключение органов санитарно-эпидемиологического надзора",
    },
    {"decision": "APPROVE", "reasons": "Соответствует лицензионным требованиям"},
    {"decision": "REFUSE", "reasons": "Помещение не соответствует санитарным нормам"},
]


async def review_licence_application(bench: Bench, n: int) -> list[Call]:
    """``n`` new private schools whose complete application was filed 5 days ago; a national
    licensing officer approves half (issuing open-ended licences), asks for documents on a
    quarter and refuses a quarter."""
    today = clock.today()
    submitted = today - timedelta(days=5)
    conn = await asyncpg.connect(bench.db_url)
    try:
        async with conn.transaction():
            schools = await _schools(conn, n)
            applications = await _applications(
                conn,
                schools,
                status="submitted",
                submitted_on=submitted,
                steps=[("submitted", submitted, None)],
            )
    finally:
        await conn.close()
    token = _officer(bench)
    return [
        Call(
            {
                "input": {
                    "applicationId": encode_id("LicenceApplication", application),
                    **_DECISIONS[k % len(_DECISIONS)],
                }
            },
            token,
        )
        for k, application in enumerate(applications)
    ]


# --- licences ---------------------------------------------------------------------------------


async def _licensed_schools(bench: Bench, n: int, **licence: Any) -> list[tuple[int, str]]:
    conn = await asyncpg.connect(bench.db_url)
    try:
        async with conn.transaction():
            return await _licences(conn, await _schools(conn, n), **licence)
    finally:
        await conn.close()


async def reissue_licence(bench: Bench, n: int) -> list[Call]:
    """``n`` new private schools holding a licence issued in 2025 and valid three more years;
    a licensing officer re-issues each for a new teaching address (with its documents)."""
    today = clock.today()
    licences = await _licensed_schools(
        bench, n, issued_on=date(2025, 3, 3), valid_until=today + timedelta(days=3 * 365)
    )
    token = _officer(bench)
    return [
        Call(
            {
                "input": {
                    "licenceId": encode_id("Licence", licence),
                    "reason": "Переезд в новое здание",
                    "addresses": [_address(f"г. Бишкек, ул. Исанова, {k + 1}", today)],
                    "documents": _address_documents(f"licence-{licence}"),
                }
            },
            token,
        )
        for k, (licence, _) in enumerate(licences)
    ]


async def suspend_licence(bench: Bench, n: int) -> list[Call]:
    """``n`` new private schools holding an open-ended licence; a licensing officer suspends
    each, naming the inspection order."""
    licences = await _licensed_schools(bench, n, issued_on=date(2025, 3, 3))
    token = _officer(bench)
    return [
        Call(
            {
                "input": {
                    "licenceId": encode_id("Licence", licence),
                    "reason": "Нарушение санитарных норм",
                    "legalBasis": f"Предписание № {k + 1}-С",
                }
            },
            token,
        )
        for k, (licence, _) in enumerate(licences)
    ]


async def restore_licence(bench: Bench, n: int) -> list[Call]:
    """``n`` new private schools whose open-ended licence was suspended a month ago; a
    licensing officer lifts each suspension."""
    today = clock.today()
    licences = await _licensed_schools(
        bench,
        n,
        status="suspended",
        issued_on=date(2025, 3, 3),
        events=[
            ("suspended", today - timedelta(days=30), "Нарушение санитарных норм", "Предписание")
        ],
    )
    token = _officer(bench)
    return [
        Call(
            {
                "input": {
                    "licenceId": encode_id("Licence", licence),
                    "reason": "Нарушения устранены",
                }
            },
            token,
        )
        for licence, _ in licences
    ]


async def revoke_licence(bench: Bench, n: int) -> list[Call]:
    """``n`` new private schools holding a licence, a third of them suspended; a licensing
    officer revokes each on a court decision."""
    today = clock.today()
    suspended = n // 3
    active = await _licensed_schools(bench, n - suspended, issued_on=date(2025, 3, 3))
    held = (
        await _licensed_schools(
            bench,
            suspended,
            status="suspended",
            issued_on=date(2025, 3, 3),
            events=[
                (
                    "suspended",
                    today - timedelta(days=60),
                    "Нарушение санитарных норм",
                    "Предписание",
                )
            ],
        )
        if suspended
        else []
    )
    # Interleaved: every third call revokes a suspended licence.
    licences = [*active]
    for k, item in enumerate(held):
        licences.insert(3 * k + 2, item)
    token = _officer(bench)
    return [
        Call(
            {
                "input": {
                    "licenceId": encode_id("Licence", licence),
                    "reason": "Систематические нарушения лицензионных требований",
                    "legalBasis": f"Решение Первомайского районного суда № ГД-{k + 1}/26",
                }
            },
            token,
        )
        for k, (licence, _) in enumerate(licences)
    ]


# --- accreditation ----------------------------------------------------------------------------

# What a college applies for, in turn: itself, then two of its programmes.
_SUBJECTS: list[dict[str, Any]] = [
    {"kind": "INSTITUTIONAL"},
    {"kind": "PROGRAMME", "programmeCode": "VOC-NURSING"},
    {"kind": "PROGRAMME", "programmeCode": "VOC-ACCOUNTING", "programmeName": "Бухгалтерский учет"},
]


async def apply_for_accreditation(bench: Bench, n: int) -> list[Call]:
    """``ceil(n / 3)`` new private colleges and a new agency on the national register; each
    college's administrator applies for institutional accreditation and for two programmes'."""
    colleges_needed = -(-n // len(_SUBJECTS))
    conn = await asyncpg.connect(bench.db_url)
    try:
        async with conn.transaction():
            colleges = await _colleges(conn, colleges_needed)
            agency = await _agency(conn)
    finally:
        await conn.close()
    return [
        Call(
            {
                "input": {
                    "institutionId": encode_id("Institution", colleges[k % colleges_needed]),
                    "agencyId": encode_id("AccreditationAgency", agency),
                    **_SUBJECTS[k // colleges_needed],
                }
            },
            _administrator(bench, colleges[k % colleges_needed]),
        )
        for k in range(n)
    ]


async def advance_accreditation(bench: Bench, n: int) -> list[Call]:
    """``n`` new private colleges with an institutional accreditation in progress at an agency
    on the register, at every step from application to expert visit in turn; a licensing
    officer records each one's next step (after the expert visit: the council accredits for
    five years)."""
    today = clock.today()
    pending = ACCREDITATION_STEPS[:-1]
    steps = [pending[k % len(pending)] for k in range(n)]
    conn = await asyncpg.connect(bench.db_url)
    try:
        async with conn.transaction():
            colleges = await _colleges(conn, n)
            accreditations = await _accreditations(
                conn,
                colleges,
                agency_id=await _agency(conn),
                steps=steps,
                started_on=today - timedelta(days=60),
            )
    finally:
        await conn.close()
    token = _officer(bench)
    calls = []
    for accreditation, step in zip(accreditations, steps, strict=True):
        following = ACCREDITATION_STEPS[ACCREDITATION_STEPS.index(step) + 1]
        values: dict[str, Any] = {
            "accreditationId": encode_id("Accreditation", accreditation),
            "step": following.upper(),
            "note": "Этап пройден",
        }
        if following == "council_decision":
            values |= {
                "outcome": "ACCREDITED",
                "validUntil": (today + timedelta(days=5 * 365)).isoformat(),
            }
        calls.append(Call({"input": values}, token))
    return calls


async def register_accreditation_agency(bench: Bench, n: int) -> list[Call]:
    """The ministry adds ``n`` new agencies to the register: national ones and, every third, a
    foreign one on the European register."""
    tag = _tag()
    recognised = (clock.today() - timedelta(days=30)).isoformat()
    token = bench.token(Role.MINISTRY)
    calls = []
    for k in range(n):
        foreign = k % 3 == 2
        calls.append(
            Call(
                {
                    "input": {
                        "name": f"Агентство аккредитации «Бенч {tag}-{k + 1}»",
                        "countryCode": "DE" if foreign else "KG",
                        "onNationalRegister": True,
                        "onEuropeanRegister": foreign,
                        "recognisedOn": recognised,
                    }
                },
                token,
            )
        )
    return calls


# --- the ministry's levers --------------------------------------------------------------------

_LEVELS = ["VOCATIONAL", "HIGHER", "POSTGRADUATE", "ADDITIONAL"]


async def define_programme_code(bench: Bench, n: int) -> list[Call]:
    """The ministry adds ``n`` new programmes to the classifier (codes new to it), at the
    levels beyond school in turn; higher ones need accreditation, every fifth is medical."""
    tag = _tag()
    token = bench.token(Role.MINISTRY)
    return [
        Call(
            {
                "input": {
                    "code": f"B{tag}-{k + 1}",
                    "name": f"Программа подготовки {k + 1}",
                    "level": _LEVELS[k % len(_LEVELS)],
                    "medical": k % 5 == 4,
                    "accreditationRequired": _LEVELS[k % len(_LEVELS)] == "HIGHER",
                }
            },
            token,
        )
        for k in range(n)
    ]


async def set_licensing_policy(bench: Bench, n: int) -> list[Call]:
    """The policy is one row per year, so this gives a call per year from this one to 2100
    (at most 75, fewer than ``n``): the ministry sets each year's figures to the domain's
    (20 days, 3 m2 per student, premises held two years, the three documents), so what later
    workloads rely on stays as it is."""
    first = clock.today().year
    token = bench.token(Role.MINISTRY)
    return [
        Call(
            {
                "input": {
                    "year": year,
                    "reviewDays": 20,
                    "minAreaPerStudent": 3.0,
                    "minPremisesYears": 2,
                    "requiredDocuments": [k.upper() for k in ADDRESS_DOCUMENTS],
                }
            },
            token,
        )
        for year in range(first, min(first + n, 2101))
    ]


# Licences and accreditations each run of the jobs finds expired.
JOB_LICENCES = 50
JOB_ACCREDITATIONS = 10
JOB_RUNS = 20


async def run_licensing_jobs(bench: Bench, n: int) -> list[Call]:
    """A batch: the jobs expire everything past its validity at once, so this gives at most
    20 calls, the runner catching up day by day over the last 20 days (the last one today).
    For each day, 50 new private schools hold a licence and 10 new private colleges an
    accreditation whose validity ended the day before, so each run, sent in order, expires
    its day's 60 (sent out of order, a later day's run takes an earlier day's too). The
    ministry runs them."""
    today = clock.today()
    runs = min(n, JOB_RUNS)
    days = [today - timedelta(days=runs - 1 - k) for k in range(runs)]
    conn = await asyncpg.connect(bench.db_url)
    try:
        async with conn.transaction():
            schools = await _schools(conn, runs * JOB_LICENCES)
            colleges = await _colleges(conn, runs * JOB_ACCREDITATIONS)
            agency = await _agency(conn)
            for k, day in enumerate(days):
                ended = day - timedelta(days=1)
                await _licences(
                    conn,
                    schools[k * JOB_LICENCES : (k + 1) * JOB_LICENCES],
                    issued_on=ended - timedelta(days=3 * 365),
                    valid_until=ended,
                )
                await _accreditations(
                    conn,
                    colleges[k * JOB_ACCREDITATIONS : (k + 1) * JOB_ACCREDITATIONS],
                    agency_id=agency,
                    steps=["council_decision"] * JOB_ACCREDITATIONS,
                    started_on=ended - timedelta(days=5 * 365),
                    outcome="accredited",
                    valid_until=ended,
                )
    finally:
        await conn.close()
    token = bench.token(Role.MINISTRY)
    return [Call({"input": {"on": day.isoformat()}}, token) for day in days]


# --- public verification ----------------------------------------------------------------------

VERIFIED = 60


async def verify_licence(bench: Bench, n: int) -> list[Call]:
    """Up to 60 numbers to check, sent round and round, by a guardian (anyone may verify): new
    private schools' licences, a third plain, a third suspended and restored, and a third
    re-issued (checked by the old number: it names the licence that replaced it)."""
    today = clock.today()
    count = min(n, VERIFIED)
    third = -(-count // 3)
    conn = await asyncpg.connect(bench.db_url)
    try:
        async with conn.transaction():
            schools = await _schools(conn, count)
            plain = await _licences(conn, schools[:third], issued_on=date(2025, 3, 3))
            restored = await _licences(
                conn,
                schools[third : 2 * third],
                issued_on=date(2025, 3, 3),
                events=[
                    ("suspended", date(2025, 10, 1), "Нарушение санитарных норм", "Предписание"),
                    ("restored", date(2025, 11, 1), "Нарушения устранены", None),
                ],
            )
            moved = schools[2 * third :]
            replaced = await _licences(
                conn,
                moved,
                status="reissued",
                issued_on=date(2025, 3, 3),
                ended_on=today - timedelta(days=10),
                events=[("reissued", today - timedelta(days=10), "Заменена новой лицензией", None)],
            )
            if moved:
                await _licences(conn, moved, issued_on=today - timedelta(days=10), replaces=True)
            guardian = await conn.fetchval("SELECT min(guardian_id) FROM guardianship")
    finally:
        await conn.close()
    token = bench.token(Role.GUARDIAN, person_id=guardian)
    return [Call({"number": number}, token) for _, number in [*plain, *restored, *replaced]]


# --- the licensing department's and an institution's pages --------------------------------

PAGE_STATE = 60  # objects a reading workload makes (three pages of 20)


async def _page_state(bench: Bench) -> tuple[list[int], list[int], list[int]]:
    """New private schools with a licence, new ones with a submitted application and new
    colleges with an accreditation in progress (every step in turn), at a new agency."""
    today = clock.today()
    submitted = today - timedelta(days=5)
    pending = ACCREDITATION_STEPS[:-1]
    conn = await asyncpg.connect(bench.db_url)
    try:
        async with conn.transaction():
            licensed = await _schools(conn, PAGE_STATE)
            await _licences(conn, licensed, issued_on=date(2025, 3, 3))
            applying = await _schools(conn, PAGE_STATE)
            applications = await _applications(
                conn,
                applying,
                status="submitted",
                submitted_on=submitted,
                steps=[("submitted", submitted, None)],
            )
            colleges = await _colleges(conn, PAGE_STATE)
            await _accreditations(
                conn,
                colleges,
                agency_id=await _agency(conn),
                steps=[pending[k % len(pending)] for k in range(PAGE_STATE)],
                started_on=today - timedelta(days=60),
            )
    finally:
        await conn.close()
    return licensed, applications, colleges


async def department_page(bench: Bench, n: int) -> list[Call]:
    """A list of the licensing department (licences, applications by due date,
    accreditations, the agencies' register), first page, read by a licensing officer after
    60 licences, 60 applications and 60 accreditations (at a new agency) were made."""
    await _page_state(bench)
    return [Call({}, _officer(bench))]


async def institution_licensing(bench: Bench, n: int) -> list[Call]:
    """A school's own licensing page (licence, its history, applications), read by its
    administrator: the 60 new licensed schools in turn."""
    licensed, _, _ = await _page_state(bench)
    return [
        Call({"id": encode_id("Institution", school)}, _administrator(bench, school))
        for school in licensed[: max(1, n)]
    ]


async def licence_application(bench: Bench, n: int) -> list[Call]:
    """One application's page, read by the licensing officer: the 60 new ones in turn."""
    _, applications, _ = await _page_state(bench)
    return [
        Call({"id": encode_id("LicenceApplication", a)}, _officer(bench))
        for a in applications[: max(1, n)]
    ]


WORKLOADS: list[Workload] = [
    Workload("licensing/ApplyForLicence", apply_for_licence),
    Workload("licensing/SupplementLicenceApplication", supplement_licence_application),
    Workload("licensing/ReviewLicenceApplication", review_licence_application),
    Workload("licensing/ReissueLicence", reissue_licence),
    Workload("licensing/SuspendLicence", suspend_licence),
    Workload("licensing/RestoreLicence", restore_licence),
    Workload("licensing/RevokeLicence", revoke_licence),
    Workload("licensing/RegisterAccreditationAgency", register_accreditation_agency),
    Workload("licensing/ApplyForAccreditation", apply_for_accreditation),
    Workload("licensing/AdvanceAccreditation", advance_accreditation),
    Workload("licensing/DefineProgrammeCode", define_programme_code),
    Workload("licensing/SetLicensingPolicy", set_licensing_policy),
    Workload("licensing/RunLicensingJobs", run_licensing_jobs),
    Workload("licensing/VerifyLicence", verify_licence),
    Workload("licensing/Licences", department_page),
    Workload("licensing/LicenceApplications", department_page),
    Workload("licensing/Accreditations", department_page),
    Workload("licensing/AccreditationAgencies", department_page),
    Workload("licensing/InstitutionLicensing", institution_licensing),
    Workload("licensing/LicenceApplication", licence_application),
]
