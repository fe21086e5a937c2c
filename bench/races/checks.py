"""The invariants a race must leave holding, checked with SQL once both answers are in.

Each check looks only at the rows its run arranged (its children, schools, kindergarten places,
applications) and returns the names of the invariants it found broken, one per broken row, so
the report can say which rule broke how often. The names are the report's vocabulary: keep them
short and stable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

# A child "in school": an open school enrollment, or an admitted first-grade application.
_IN_SCHOOL = """
    EXISTS (SELECT 1 FROM enrollment e
            WHERE e.person_id = k.id AND e.sector = 'school' AND e.exit_date IS NULL)
    OR EXISTS (SELECT 1 FROM first_grade_application f
               WHERE f.child_id = k.id AND f.status = 'admitted')
"""

K7 = f"""
SELECT k.id,
       EXISTS (SELECT 1 FROM enrollment e
               WHERE e.person_id = k.id AND e.sector = 'preschool' AND e.exit_date IS NULL)
           AS kindergarten_open,
       EXISTS (SELECT 1 FROM kindergarten_application a
               WHERE a.child_id = k.id
                 AND a.status IN ('waiting', 'offered', 'accepted', 'admitted'))
           AS queue_live,
       EXISTS (SELECT 1 FROM kindergarten_offer o
               JOIN kindergarten_application a ON a.id = o.application_id
               WHERE a.child_id = k.id AND o.status IN ('open', 'accepted'))
           AS offer_live
FROM unnest($1::int[]) AS k(id)
WHERE {_IN_SCHOOL}
"""


async def k7(conn: asyncpg.Connection, children: Sequence[int]) -> list[str]:
    """domain.md K7 (issue 12, findings 1 and 2): a child in school holds no kindergarten
    place, no queue application still waiting, offered, accepted or admitted, and no live
    offer, whichever path put them in school."""
    broken: list[str] = []
    for row in await conn.fetch(K7, list(children)):
        if row["kindergarten_open"]:
            broken.append("K7 school and kindergarten place")
        if row["queue_live"]:
            broken.append("K7 school and live queue application")
        if row["offer_live"]:
            broken.append("K7 school and live offer")
    return broken


@dataclass(frozen=True)
class Seats:
    """A kindergarten age group's places row and how many seats it held when arranged
    (free places plus the live offers arranged on it)."""

    places_id: int
    declared: int


SEATS = """
SELECT p.id, p.free_places,
       (SELECT count(*) FROM kindergarten_offer o
        WHERE o.places_id = p.id AND o.status IN ('open', 'accepted')) AS offered,
       (SELECT count(*) FROM kindergarten_offer o
        JOIN kindergarten_application a ON a.id = o.application_id
        JOIN enrollment e ON e.id = a.enrollment_id
        WHERE o.places_id = p.id AND o.status = 'admitted'
          AND e.institution_id = p.kindergarten_id AND e.exit_date IS NULL) AS seated,
       (SELECT count(*) FROM enrollment e
        WHERE e.institution_id = p.kindergarten_id AND e.sector = 'preschool'
          AND e.class_group = p.age_group AND e.exit_date IS NULL) AS in_group,
       g.group_size
FROM kindergarten_places p
LEFT JOIN kindergarten_age_group g ON g.season_id = p.season_id AND g.code = p.age_group
WHERE p.id = ANY($1::int[])
"""


async def seats(conn: asyncpg.Connection, arranged: Sequence[Seats]) -> list[str]:
    """Kindergarten places (K3; issue 12, finding 2): free places never negative; every seat
    arranged is free, offered, or held by a child admitted and still there (a seat a child
    leaves, for school or otherwise, goes back to free places); no group over its size."""
    declared = {s.places_id: s.declared for s in arranged}
    broken: list[str] = []
    for row in await conn.fetch(SEATS, list(declared)):
        if row["free_places"] < 0:
            broken.append("free places negative")
        held = row["free_places"] + row["offered"] + row["seated"]
        if held < declared[row["id"]]:
            broken.append("kindergarten seat lost")
        elif held > declared[row["id"]]:
            broken.append("kindergarten seat counted twice")
        if row["group_size"] is not None and row["in_group"] > row["group_size"]:
            broken.append("K3 group over its size")
    return broken


QUOTAS = """
SELECT q.school_id, q.grade_level, q.classes, q.places, q.admitted, s.class_size_max,
       (SELECT count(*) FROM first_grade_application f
        WHERE f.season_id = q.season_id AND f.school_id = q.school_id
          AND f.grade_level = q.grade_level AND f.status = 'admitted') AS admissions,
       (SELECT count(*) FROM enrollment e
        WHERE e.institution_id = q.school_id AND e.sector = 'school'
          AND e.grade_level = q.grade_level AND e.exit_date IS NULL) AS pupils
FROM first_grade_quota q
JOIN intake_season s ON s.id = q.season_id
WHERE q.season_id = $1 AND q.school_id = ANY($2::int[])
"""


async def quotas(conn: asyncpg.Connection, season_id: int, schools: Sequence[int]) -> list[str]:
    """domain.md F5: no school admits past its quota, no class holds more than 36 (the
    season's class size), free places never negative, and the quota counts exactly the
    applications admitted."""
    broken: list[str] = []
    for row in await conn.fetch(QUOTAS, season_id, list(schools)):
        if row["admitted"] > row["places"] or row["admissions"] > row["places"]:
            broken.append("F5 admitted over quota")
        if row["places"] > row["classes"] * min(row["class_size_max"], 36):
            broken.append("F5 class over 36")
        if row["admitted"] != row["admissions"]:
            broken.append("quota count differs from admissions")
        if row["pupils"] > row["places"]:
            broken.append("F5 pupils over quota")
    return broken


ADMITTED_TWICE = """
SELECT k.id
FROM unnest($1::int[]) AS k(id)
WHERE (SELECT count(*) FROM enrollment e
       WHERE e.person_id = k.id AND e.sector = 'school' AND e.exit_date IS NULL) > 1
   OR (SELECT count(*) FROM first_grade_application f
       WHERE f.child_id = k.id AND f.status = 'admitted') > 1
   OR (SELECT count(*) FROM enrollment e
       WHERE e.person_id = k.id AND e.sector = 'preschool' AND e.exit_date IS NULL) > 1
"""


async def admitted_once(conn: asyncpg.Connection, children: Sequence[int]) -> list[str]:
    """No child admitted twice: one open school place, one admitted first-grade application,
    one open kindergarten place at most."""
    return ["child admitted twice" for _ in await conn.fetch(ADMITTED_TWICE, list(children))]


WITHDRAWN_FIRST_GRADE = """
SELECT f.id FROM first_grade_application f
WHERE f.id = ANY($1::int[])
  AND f.status = 'withdrawn'
  AND (f.enrollment_id IS NOT NULL
       OR EXISTS (SELECT 1 FROM first_grade_application_event v
                  WHERE v.application_id = f.id AND v.status = 'admitted'))
"""

WITHDRAWN_QUEUE = """
SELECT a.id FROM kindergarten_application a
WHERE a.id = ANY($1::int[])
  AND a.status = 'withdrawn'
  AND (EXISTS (SELECT 1 FROM kindergarten_offer o
               WHERE o.application_id = a.id AND o.status IN ('open', 'accepted'))
       OR EXISTS (SELECT 1 FROM enrollment e
                  WHERE e.id = a.enrollment_id AND e.exit_date IS NULL))
"""


async def withdrawn_not_admitted(
    conn: asyncpg.Connection,
    *,
    first_grade: Sequence[int] = (),
    queue: Sequence[int] = (),
) -> list[str]:
    """A withdrawn application is never admitted: a withdrawn first-grade application holds
    no enrollment and was never admitted; a withdrawn queue application holds no live offer
    and no open kindergarten place."""
    broken = [
        "withdrawn application admitted"
        for _ in await conn.fetch(WITHDRAWN_FIRST_GRADE, list(first_grade))
    ]
    held = await conn.fetch(WITHDRAWN_QUEUE, list(queue))
    broken += ["withdrawn application holds a place" for _ in held]
    return broken


async def others_allocated(conn: asyncpg.Connection, applications: Sequence[int]) -> list[str]:
    """Issue 12, finding 4: one child enrolled elsewhere does not stop the allocation of
    everyone else (the arranged quota has a place for each)."""
    left = await conn.fetchval(
        "SELECT count(*) FROM first_grade_application"
        " WHERE id = ANY($1::int[]) AND status <> 'admitted'",
        list(applications),
    )
    return ["others not allocated"] if left else []


async def reason_given(conn: asyncpg.Connection, application_id: int) -> list[str]:
    """Issue 12, finding 4: the application of a child who took a school place elsewhere ends
    with a typed reason (rejected, ``already_enrolled``), or the child was admitted here."""
    row = await conn.fetchrow(
        "SELECT status, rejection_reason FROM first_grade_application WHERE id = $1",
        application_id,
    )
    assert row is not None
    if row["status"] == "admitted" or row["rejection_reason"] is not None:
        return []
    return ["application left without a reason"]


async def one_import(
    conn: asyncpg.Connection, sha256: str, certificates: Sequence[str]
) -> list[str]:
    """Issue 12, finding 5: one file loaded once, whoever sent it how often; each certificate
    stored once."""
    broken: list[str] = []
    imports = await conn.fetchval(
        "SELECT count(*) FROM admission_test_import WHERE sha256 = $1", sha256
    )
    if imports != 1:
        broken.append(f"{imports} imports of one file")
    stored = await conn.fetchval(
        "SELECT count(*) FROM admission_test_result WHERE certificate_number = ANY($1::text[])",
        list(certificates),
    )
    if stored != len(certificates):
        broken.append("certificates not stored once")
    return broken


async def one_queue_application(conn: asyncpg.Connection, child_id: int) -> list[str]:
    """One active queue application per child, however often the guardian clicks."""
    active = await conn.fetchval(
        "SELECT count(*) FROM kindergarten_application"
        " WHERE child_id = $1 AND status IN ('waiting', 'offered', 'accepted', 'admitted')",
        child_id,
    )
    return [] if active == 1 else [f"{active} queue applications"]


async def one_acceptance(conn: asyncpg.Connection, application_id: int) -> list[str]:
    """An offer accepted once: the application accepted, one acceptance in its history."""
    row = await conn.fetchrow(
        "SELECT a.status, (SELECT count(*) FROM kindergarten_application_event v"
        "  WHERE v.application_id = a.id AND v.status = 'accepted') AS accepted"
        " FROM kindergarten_application a WHERE a.id = $1",
        application_id,
    )
    assert row is not None
    broken = [] if row["status"] == "accepted" else ["offer not accepted"]
    if row["accepted"] != 1:
        broken.append(f"{row['accepted']} acceptances recorded")
    return broken


async def one_first_grade_application(
    conn: asyncpg.Connection, child_id: int, season_id: int
) -> list[str]:
    """One live first-grade application per child and season."""
    live = await conn.fetchval(
        "SELECT count(*) FROM first_grade_application WHERE child_id = $1 AND season_id = $2"
        " AND status NOT IN ('rejected', 'cancelled', 'withdrawn')",
        child_id,
        season_id,
    )
    return [] if live == 1 else [f"{live} first-grade applications"]


async def one_programme_list(
    conn: asyncpg.Connection, person_id: int, season_id: int, choices: int
) -> list[str]:
    """One active list of choices per applicant: each programme and each preference once."""
    row = await conn.fetchrow(
        "SELECT count(*) AS active, count(DISTINCT programme_id) AS programmes,"
        " count(DISTINCT preference) AS preferences FROM admission_application"
        " WHERE person_id = $1 AND season_id = $2 AND status = 'active'",
        person_id,
        season_id,
    )
    assert row is not None
    if row["active"] == choices == row["programmes"] == row["preferences"]:
        return []
    return [f"{row['active']} active choices for {choices}"]
