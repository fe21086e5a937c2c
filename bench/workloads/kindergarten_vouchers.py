"""Kindergarten vouchers (K8): the guardian's claim, the district officer's decision, the use at
a private licensed kindergarten and the guardian giving a voucher up.

Each preparer writes its own children (new persons under guardians of the dataset, three years
old, as the kindergarten-queue workloads do) and their vouchers in the state the operation
needs, with set-based SQL, in the first rayon of the dataset; the use workload adds one private
kindergarten holding a preschool licence (the dataset's private ones hold none).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import asyncpg

from bench.workloads import Bench, Call, Workload
from bench.workloads.kindergarten_queue import _children, _season
from resolvers.access import Role
from resolvers.clock import today
from resolvers.relay import encode_id


async def _district(conn: Any) -> tuple[int, int]:
    row = await conn.fetchrow(
        "SELECT id, region_id FROM district WHERE kind = 'rayon' AND valid_to IS NULL"
        " ORDER BY id LIMIT 1"
    )
    return row["id"], row["region_id"]


async def _vouchers(bench: Bench, n: int, salt: str, status: str) -> list[tuple[int, int, int]]:
    """``n`` vouchers of new three-year-olds, claimed (and verified if ``status`` says so):
    (voucher, child, guardian) each."""
    conn = await asyncpg.connect(bench.db_url)
    try:
        season = await _season(conn)
        district, region = await _district(conn)
        born = today() - timedelta(days=3 * 365 + 40)
        children = await _children(conn, [born] * n, salt)
        ids = [
            r["id"]
            for r in await conn.fetch(
                "INSERT INTO kindergarten_voucher (child_id, guardian_id, season_id, district_id,"
                " region_id, ground, proof, status)"
                " SELECT c, g, $3::int, $4::int, $5::int,"
                " CASE WHEN c % 3 = 0 THEN 'disability' ELSE 'low_income' END,"
                " 'Справка №' || c::text, 'claimed'"
                " FROM unnest($1::int[], $2::int[]) AS x(c, g) RETURNING id",
                [c for c, _ in children],
                [g for _, g in children],
                season.id,
                district,
                region,
            )
        ]
        if status == "verified":
            await conn.execute(
                "UPDATE kindergarten_voucher v SET status = 'verified', decided_at = now(),"
                " decided_by = 'bench', valid_until = s.ends_on FROM intake_season s"
                " WHERE s.id = v.season_id AND v.id = ANY($1::int[])",
                ids,
            )
    finally:
        await conn.close()
    return [(v, c, g) for v, (c, g) in zip(ids, children, strict=True)]


async def _licensed_private_kindergarten(conn: Any) -> int:
    """A private kindergarten of the first rayon holding a preschool licence in force."""
    district, region = await _district(conn)
    kindergarten: int = await conn.fetchval(
        "INSERT INTO institution (kind, ownership, name, region_id, district_id)"
        " VALUES ('kindergarten', 'private', 'Бенчмарк жеке бала бакча', $1, $2) RETURNING id",
        region,
        district,
    )
    await conn.execute(
        "WITH a AS (INSERT INTO licence_application (institution_id, applied_as,"
        " applicant_subject, status, levels, submitted_on, due_on)"
        " VALUES ($1, 'institution', 'bench', 'approved', '{preschool}', DATE '2020-01-01',"
        " DATE '2020-01-21') RETURNING id, institution_id, levels)"
        " INSERT INTO licence (number, institution_id, application_id, status, levels,"
        " issued_on) SELECT 'BENCH-K-' || lpad(a.id::text, 8, '0'), a.institution_id, a.id,"
        " 'active', a.levels, DATE '2020-01-01' FROM a",
        kindergarten,
    )
    return kindergarten


async def claim_voucher(bench: Bench, n: int) -> list[Call]:
    """New three-year-olds' guardians claim a voucher, naming the first rayon."""
    conn = await asyncpg.connect(bench.db_url)
    try:
        district, _ = await _district(conn)
        children = await _children(conn, [today() - timedelta(days=3 * 365 + 40)] * n, "claim")
    finally:
        await conn.close()
    return [
        Call(
            {
                "input": {
                    "childId": encode_id("Person", child),
                    "ground": "DISABILITY" if k % 3 == 0 else "LOW_INCOME",
                    "proof": f"Справка №{child}",
                    "districtId": encode_id("District", district),
                }
            },
            bench.token(Role.GUARDIAN, person_id=guardian),
        )
        for k, (child, guardian) in enumerate(children)
    ]


async def decide_voucher(bench: Bench, n: int) -> list[Call]:
    """The rayon's officer verifies claims (one in five refused, with a reason)."""
    vouchers = await _vouchers(bench, n, "decide", "claimed")
    conn = await asyncpg.connect(bench.db_url)
    try:
        district, _ = await _district(conn)
    finally:
        await conn.close()
    token = bench.token(Role.DISTRICT_OFFICER, scopes=[f"district:{district}"])
    return [
        Call(
            {
                "input": {
                    "voucherId": encode_id("KindergartenVoucher", v),
                    "verified": k % 5 != 4,
                    "reason": "Доход выше порога" if k % 5 == 4 else None,
                }
            },
            token,
        )
        for k, (v, _, _) in enumerate(vouchers)
    ]


async def use_voucher(bench: Bench, n: int) -> list[Call]:
    """Guardians use verified vouchers at a private licensed kindergarten from today."""
    vouchers = await _vouchers(bench, n, "use", "verified")
    conn = await asyncpg.connect(bench.db_url)
    try:
        kindergarten = await _licensed_private_kindergarten(conn)
    finally:
        await conn.close()
    first_day: date = today()
    return [
        Call(
            {
                "input": {
                    "voucherId": encode_id("KindergartenVoucher", v),
                    "kindergartenId": encode_id("Institution", kindergarten),
                    "entryDate": first_day.isoformat(),
                }
            },
            bench.token(Role.GUARDIAN, person_id=guardian),
        )
        for v, _, guardian in vouchers
    ]


async def end_voucher(bench: Bench, n: int) -> list[Call]:
    """Guardians give up verified vouchers."""
    vouchers = await _vouchers(bench, n, "end", "verified")
    return [
        Call(
            {"input": {"voucherId": encode_id("KindergartenVoucher", v)}},
            bench.token(Role.GUARDIAN, person_id=guardian),
        )
        for v, _, guardian in vouchers
    ]


WORKLOADS = [
    Workload("kindergarten-queue/ClaimKindergartenVoucher", claim_voucher),
    Workload("kindergarten-queue/DecideKindergartenVoucher", decide_voucher),
    Workload("kindergarten-queue/UseKindergartenVoucher", use_voucher),
    Workload("kindergarten-queue/EndKindergartenVoucher", end_voucher),
]
