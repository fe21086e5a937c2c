"""First-grade enrollment's pages (portals/first-grade: SchoolFirstGradeApplications,
MyFirstGradeApplications) are answered by the compiled path in one statement, byte for byte as
the resolvers answer them (issue 21): a school's applications catchment first (F2, F3), its
quotas (F5), a family's applications with their history, and the row rules (a school's admin
reads its applications, a guardian their children's, with the address only on the ones they
made) for every kind of caller."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    FirstGradeApplication,
    FirstGradeApplicationEvent,
    FirstGradeStatus,
    GuardianKind,
    InstitutionKind,
    IntakeKind,
    Language,
    RejectionReason,
    Sex,
)
from resolvers.access import Role
from tests.factories import (
    BISHKEK_LENIN,
    gid,
    make_enrollment,
    make_family,
    make_first_grade_application,
    make_first_grade_quota,
    make_guardianship,
    make_institution,
    make_intake_season,
    make_person,
)
from tests.test_compiled import Pair, pair

__all__ = ["pair"]

PORTAL = Path(__file__).resolve().parents[1] / "portals" / "first-grade"
SCHOOL = (PORTAL / "SchoolFirstGradeApplications.graphql").read_text()
MINE = (PORTAL / "MyFirstGradeApplications.graphql").read_text()
EVERYTHING = """
query Everything($seasonId: ID!, $schoolId: ID!) {
  all: firstGradeApplications(filter: { seasonId: $seasonId }, orderBy: ID, first: 100) {
    __typename totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes {
      __typename id language gradeLevel finishedPreschoolProgramme stage birthCertificate
      address catchment benefitStatus appliedAt status rejectionReason
      child { id fullName pin } guardian { id fullName }
      school { id name address } season { id kind year schoolYearStarts grade2BirthYear }
      benefitCategory { __typename code name rank }
      enrollment { id entryDate gradeLevel institution { name } }
      statusHistory { __typename status at actor reason }
    }
  }
  firstGradeQuotas(seasonId: $seasonId, schoolId: $schoolId) {
    __typename id gradeLevel language classes places admitted free
  }
}
"""


async def _arrange(session: AsyncSession) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two schools; eight children of two families applying to the first, catchment and not,
    with and without benefits, in several statuses; one admitted with an enrollment; one
    made by the father; a child applying to the second school; quotas in two languages."""
    season = await make_intake_season(session, kind=IntakeKind.FIRST_GRADE)
    school = await make_institution(session, kind=InstitutionKind.SCHOOL, name='№5 "Ала-Тоо"')
    other = await make_institution(session, kind=InstitutionKind.SCHOOL)
    mother, kids = await make_family(session, children=4, child_birth=date(2019, 5, 17))
    father = await make_person(session, sex=Sex.MALE, first_name="Марат")
    await make_guardianship(session, guardian=father, child=kids[1], kind=GuardianKind.FATHER)
    t0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    apps = []
    for i in range(8):
        child = kids[i % 4] if i < 4 else await make_person(session, first_name=f"Бала{i}")
        apps.append(
            await make_first_grade_application(
                session,
                child=child,
                guardian=father if i == 1 else mother,
                school=other if i == 3 else school,
                season=season,
                catchment=i % 3 != 0,
                benefit=["military", None, "kairylman", None][i % 4],
                applied_at=t0 + timedelta(minutes=i, microseconds=(i % 2) * 250_000),
                status=[FirstGradeStatus.VERIFIED, FirstGradeStatus.SUBMITTED,
                        FirstGradeStatus.SUBMITTED, FirstGradeStatus.ADMITTED][i % 4],
                language=Language.RU if i % 2 else Language.KY,
            )
        )  # fmt: skip
    await make_first_grade_quota(session, school=school, season=season, places=50)
    await make_first_grade_quota(
        session, school=school, season=season, places=25, language=Language.RU
    )
    place = await make_enrollment(session, person=kids[3], institution=other, grade_level=1)
    await session.commit()
    for i, app in enumerate(apps):
        values: dict[str, Any] = {"address": f"ул. Токтогула {i}, кв. \\{i}"}
        if i % 4 == 2:  # rejected, with the reason
            values["status"] = FirstGradeStatus.REJECTED
            values["rejection_reason"] = RejectionReason.ADDRESS_NOT_PROVEN
        if i == 3:
            values["enrollment_id"] = place.id
        await session.execute(
            update(FirstGradeApplication).where(FirstGradeApplication.id == app.id).values(values)
        )
        await session.execute(
            insert(FirstGradeApplicationEvent).values(
                application_id=app.id, status=app.status, actor="school:1",
                reason=None if i % 2 else "Текшерилди",
            )
        )  # fmt: skip
    await session.commit()
    ids = {"seasonId": gid("IntakeSeason", season.id), "schoolId": gid("Institution", school.id)}
    people = {"mother": mother, "father": father, "school": school, "other": other}
    return ids, people


def _callers(pair: Pair, people: dict[str, Any]) -> dict[str, dict[str, str]]:
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    school, other = people["school"], people["other"]
    return {
        "admin of the school": bearer(
            pair.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school.id}"])
        ),
        "admin of another school": bearer(
            pair.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{other.id}"])
        ),
        "district officer": bearer(
            pair.token(Role.DISTRICT_OFFICER, scopes=[f"district:{BISHKEK_LENIN}"])
        ),
        "ministry": bearer(pair.token(Role.MINISTRY)),
        "mother": bearer(pair.token(Role.GUARDIAN, person_id=people["mother"].id)),
        "father": bearer(pair.token(Role.GUARDIAN, person_id=people["father"].id)),
        "teacher": bearer(
            pair.token(
                Role.TEACHER, scopes=[f"institution:{school.id}"], person_id=people["father"].id
            )
        ),
    }


async def test_the_first_grade_pages_are_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession
) -> None:
    # given a school's applications, quotas and history
    ids, people = await _arrange(session)
    requests = [
        (SCHOOL, ids),
        (SCHOOL, {**ids, "status": "VERIFIED", "first": 2}),
        (SCHOOL, {**ids, "schoolId": gid("Institution", people["other"].id)}),
        (MINE, {}),
        (MINE, {"first": 2}),
        (EVERYTHING, ids),
    ]
    seen: dict[str, int] = {}
    for caller, headers in _callers(pair, people).items():
        for document, variables in requests:
            # when both paths answer the same request
            fast, slow, statements = await pair.both(document, variables, headers)
            # then the answers are the same bytes, in one statement
            assert fast == slow, (caller, variables, fast, slow)
            assert "errors" not in fast, (caller, fast)
            assert statements == 1, (caller, document[:40], pair.counter.statements)
            listed = next(iter(fast["data"].values()))["nodes"]
            seen[caller] = max(seen.get(caller, 0), len(listed))
    # and each read what the rules let them: a school its applications, a family its own (F1)
    assert seen["admin of the school"] == 7
    assert seen["admin of another school"] == 1
    assert seen["ministry"] == seen["district officer"] == 8
    assert seen["mother"] == 4  # her four children's, the father's one included
    assert seen["father"] == 1
    assert seen["teacher"] == 0


async def test_catchment_comes_first_and_contacts_stay_with_who_gave_them(
    pair: Pair, session: AsyncSession
) -> None:
    ids, people = await _arrange(session)
    callers = _callers(pair, people)
    fast, _, _ = await pair.both(SCHOOL, ids, callers["admin of the school"])
    nodes = fast["data"]["firstGradeApplications"]["nodes"]
    # then (F2) catchment applications come first
    catchment = [n["catchment"] for n in nodes]
    assert catchment == sorted(catchment, reverse=True)
    # and the mother does not read the address the father gave (nor he hers)
    mine, _, _ = await pair.both(EVERYTHING, ids, callers["mother"])
    addresses = {n["guardian"] is None: n["address"] for n in mine["data"]["all"]["nodes"]}
    assert addresses[True] is None  # the father's application: guardian and address hidden
    assert addresses[False] is not None


async def test_bad_arguments_anonymous_and_unknown_fields_answer_as_the_resolvers(
    pair: Pair, session: AsyncSession
) -> None:
    ids, people = await _arrange(session)
    admin = _callers(pair, people)["admin of the school"]
    for variables in (
        {**ids, "seasonId": ids["schoolId"]},  # an id of another type
        {**ids, "schoolId": "nope"},
        {**ids, "first": -1},
    ):
        fast, slow, _ = await pair.both(SCHOOL, variables, admin)
        assert fast == slow, variables
    first, _, _ = await pair.both(SCHOOL, {**ids, "first": 2}, admin)
    cursor = first["data"]["firstGradeApplications"]["pageInfo"]["endCursor"]
    fast, slow, _ = await pair.both(SCHOOL, {**ids, "first": 2, "after": cursor}, admin)
    assert fast == slow
    anonymous, _, _ = await pair.both(SCHOOL, ids, {})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    unknown = SCHOOL.replace("address\n", "address addressDistrict { id }\n")
    assert unknown != SCHOOL
    fast, slow, statements = await pair.both(unknown, ids, admin)
    assert fast == slow
    assert statements > 1
