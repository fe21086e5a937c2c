"""Study abroad's candidates page (portals/study-abroad/ProgrammeCandidates) is answered by the
compiled path in one statement, byte for byte as the resolvers answer it (issue 21): a
programme's applications with their stage results (A1: stages to nomination, scores with
their scale), under the row rules (the ministry reads all, an applicant and their guardian
their own, anyone else nothing)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    ForeignApplication,
    ForeignApplicationStatus,
    ForeignStage,
    ForeignStageResult,
    StageDecision,
)
from resolvers.access import Role
from tests.factories import BISHKEK_LENIN, gid, make_family, make_foreign_programme, make_person
from tests.test_compiled import Pair, pair

__all__ = ["pair"]

PAGE = (
    Path(__file__).resolve().parents[1] / "portals/study-abroad/ProgrammeCandidates.graphql"
).read_text()
EVERYTHING = """
query Everything($programmeId: ID!) {
  foreignApplications(filter: { programmeId: $programmeId }, first: 3) {
    __typename totalCount pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
    nodes {
      __typename id fieldOfStudy schoolAverage stage status createdAt
      applicant { id fullName birthDate pin }
      stageResults { __typename stage score decision reason decidedAt }
    }
  }
}
"""


async def _arrange(pair: Pair, session: AsyncSession) -> tuple[dict[str, Any], dict[str, str]]:
    """Five candidates of a programme at several stages, scored and not, one rejected; a
    guardian's child among them; a candidate of another programme."""
    programme = await make_foreign_programme(session)
    other = await make_foreign_programme(session, country_code="TR")
    mother, (child,) = await make_family(session, child_birth=date(2007, 5, 1))
    people = [child] + [
        await make_person(session, first_name=f"Талапкер{i}", birth_date=date(2007, 1, 1 + i))
        for i in range(5)
    ]
    await session.commit()
    t = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)
    for i, who in enumerate(people):
        stage = [ForeignStage.DOCUMENT_CHECK, ForeignStage.INTERVIEW, ForeignStage.NOMINATION][
            i % 3
        ]
        application_id = await session.scalar(
            insert(ForeignApplication)
            .values(
                programme_id=(other if i == 5 else programme).id, person_id=who.id,
                field_of_study="engineering", school_average=Decimal("4.5") + Decimal(i) / 20,
                stage=stage,
                status=ForeignApplicationStatus.REJECTED if i == 4
                else ForeignApplicationStatus.IN_PROGRESS,
            )
            .returning(ForeignApplication.id)
        )  # fmt: skip
        for j in range(i % 3):
            await session.execute(
                insert(ForeignStageResult).values(
                    application_id=application_id,
                    stage=[ForeignStage.DOCUMENT_CHECK, ForeignStage.INTERVIEW][j],
                    score=None if j == 0 else Decimal("85.5") + i,
                    decision=StageDecision.FAILED if i == 4 else StageDecision.PASSED,
                    reason="Документтер толук эмес" if i == 4 else None,
                    decided_by="ministry", decided_at=t.replace(day=20 + j, microsecond=i * 7),
                )
            )  # fmt: skip
    await session.commit()

    def bearer(token: str) -> str:
        return f"Bearer {token}"

    callers = {
        "ministry": bearer(pair.token(Role.MINISTRY)),
        "applicant": bearer(pair.token(Role.PUPIL, person_id=people[1].id)),
        "guardian": bearer(pair.token(Role.GUARDIAN, person_id=mother.id)),
        "district officer": bearer(
            pair.token(Role.DISTRICT_OFFICER, scopes=[f"district:{BISHKEK_LENIN}"])
        ),
    }
    return {"programmeId": gid("ForeignProgramme", programme.id)}, callers


async def test_the_candidates_page_is_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession
) -> None:
    # given a programme's candidates at several stages
    variables, callers = await _arrange(pair, session)
    seen = {}
    for caller, token in callers.items():
        for document in (PAGE, EVERYTHING):
            # when both paths answer the same request
            fast, slow, statements = await pair.both(document, variables, {"Authorization": token})
            # then the answers are the same bytes, in one statement
            assert fast == slow, (caller, fast, slow)
            assert "errors" not in fast, (caller, fast)
            assert statements == 1, (caller, pair.counter.statements)
            seen[caller] = fast["data"]["foreignApplications"]["totalCount"]
    # and the ministry reads every candidate, a family its own, an officer none
    assert seen == {"ministry": 5, "applicant": 1, "guardian": 1, "district officer": 0}
    # and a second page, through the first page's cursor, is the same on both paths
    ministry = {"Authorization": callers["ministry"]}
    first, _, _ = await pair.both(EVERYTHING, variables, ministry)
    cursor = first["data"]["foreignApplications"]["pageInfo"]["endCursor"]
    after = EVERYTHING.replace("first: 3)", "first: 3, after: $after)").replace(
        "$programmeId: ID!)", "$programmeId: ID!, $after: String)"
    )
    fast, slow, statements = await pair.both(after, {**variables, "after": cursor}, ministry)
    assert fast == slow
    assert len(fast["data"]["foreignApplications"]["nodes"]) == 2
    assert any(r["score"] for n in first["data"]["foreignApplications"]["nodes"]
               for r in n["stageResults"])  # fmt: skip


async def test_bad_ids_anonymous_and_unknown_fields_take_the_resolvers(
    pair: Pair, session: AsyncSession
) -> None:
    variables, callers = await _arrange(pair, session)
    ministry = {"Authorization": callers["ministry"]}
    for changed in ({"programmeId": gid("Person", 1)}, {"programmeId": "x"}):
        fast, slow, _ = await pair.both(PAGE, changed, ministry)
        assert fast == slow, changed
    anonymous, _, _ = await pair.both(PAGE, variables, {})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    unknown = PAGE.replace("fieldOfStudy", "fieldOfStudy programme { id }")
    fast, slow, statements = await pair.both(unknown, variables, ministry)
    assert fast == slow
    assert statements > 1


# --- the public programme list (portals/study-abroad/ForeignProgrammes) ----------------------

PROGRAMMES = (
    Path(__file__).resolve().parents[1] / "portals/study-abroad/ForeignProgrammes.graphql"
).read_text()
PROGRAMMES_EVERYTHING = """
query Everything($countryCode: String, $level: StudyLevel, $after: String) {
  foreignProgrammes(filter: { countryCode: $countryCode, level: $level }, first: 2, after: $after) {
    __typename totalCount pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
    nodes {
      __typename id year countryCode name level quota nominated opensOn closesOn minAge maxAge
      ageOn stages
      institution { __typename id name kind countryCode region { nameRu } }
      fieldRules { __typename fieldOfStudy minAverage }
    }
  }
}
"""
ESCAPES = 'Стипендия "Илим" \\ /\t\n\x01\u2028 😀'


async def _arrange_programmes(pair: Pair, session: AsyncSession, settings: Any) -> dict[str, Any]:
    """Four programmes (A1): one at a named Turkish university whose names need JSON's escapes,
    with three field rules, no age limits and two stages; one with no field rule; one master's
    whose window has closed; the factory's own. The callers of every kind."""
    from sqlalchemy import delete

    from models import ForeignFieldRule, InstitutionKind, StudyLevel
    from resolvers.access.keys import load_pepper
    from tests.factories import make_api_key, make_institution

    metu = await make_institution(
        session, kind=InstitutionKind.FOREIGN_UNIVERSITY, name=ESCAPES + " University",
        country_code="TR", region_id=None, district_id=None,
    )  # fmt: skip
    named = await make_foreign_programme(
        session, country_code="TR", quota=5, min_age=None, max_age=None,
        stages=["test", "nomination"],
        field_rules={"medicine": "4.50", "engineering": "3.75", "economics": "4.0"},
    )  # fmt: skip
    named.name, named.institution_id, named.nominated = ESCAPES, metu.id, 2
    bare = await make_foreign_programme(session, country_code="KZ")
    await session.execute(delete(ForeignFieldRule).where(ForeignFieldRule.programme_id == bare.id))
    closed = await make_foreign_programme(
        session, country_code="TR", opens_on=date(2025, 3, 1), closes_on=date(2025, 4, 30)
    )
    closed.level = StudyLevel.MASTER
    await make_foreign_programme(session)  # CN
    pupil = await make_person(session, first_name="Талапкер", birth_date=date(2007, 1, 1))
    _, partner = await make_api_key(
        session,
        pepper=load_pepper(settings),
        allowed_fields=[
            "Query.foreignProgrammes",
            "ForeignProgramme.*",
            "ForeignFieldRule.*",
            "Institution.*",
            "Region.*",
        ],
    )
    await session.commit()
    return {
        "anonymous": {},
        "applicant": {"Authorization": f"Bearer {pair.token(Role.PUPIL, person_id=pupil.id)}"},
        "officer": {
            "Authorization": "Bearer "
            + pair.token(Role.DISTRICT_OFFICER, scopes=[f"district:{BISHKEK_LENIN}"])
        },
        "ministry": {"Authorization": f"Bearer {pair.token(Role.MINISTRY)}"},
        "partner": {"X-Api-Key": partner},
    }


async def test_the_programme_list_is_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession, settings: Any
) -> None:
    # given four programmes in three countries, one needing JSON's escapes
    callers = await _arrange_programmes(pair, session, settings)
    filters: list[dict[str, Any]] = [
        {},
        {"countryCode": "tr"},
        {"openOn": "2026-03-15"},
        {"countryCode": "TR", "openOn": "2026-03-15"},
        {"level": "MASTER"},
    ]
    for caller, headers in callers.items():
        for document in (PROGRAMMES, PROGRAMMES_EVERYTHING):
            for variables in filters:
                if "level" in variables and document is PROGRAMMES:
                    continue
                # when both paths answer the same request
                fast, slow, statements = await pair.both(document, variables, headers)
                # then the answers are the same bytes, in one statement (a partner's key
                # decides field by field: the resolvers)
                assert fast == slow, (caller, variables, fast, slow)
                assert "errors" not in fast, (caller, fast)
                if caller == "partner":
                    assert statements > 1, (caller, variables)
                else:
                    assert statements == 1, (caller, variables, pair.counter.statements)
    # and the public list reads every programme, by country then name, the escapes kept
    everything, _, _ = await pair.both(PROGRAMMES, {}, {})
    nodes = everything["data"]["foreignProgrammes"]["nodes"]
    assert [n["countryCode"] for n in nodes] == ["CN", "KZ", "TR", "TR"]
    named = next(n for n in nodes if n["institution"])
    assert named["name"] == ESCAPES
    assert named["institution"] == {"name": ESCAPES + " University"}
    assert named["stages"] == ["TEST", "NOMINATION"]
    assert (named["minAge"], named["maxAge"], named["nominated"]) == (None, None, 2)
    assert named["fieldRules"] == [
        {"fieldOfStudy": "economics", "minAverage": "4.00"},
        {"fieldOfStudy": "engineering", "minAverage": "3.75"},
        {"fieldOfStudy": "medicine", "minAverage": "4.50"},
    ]
    assert nodes[1]["fieldRules"] == []
    assert nodes[1]["institution"] is None
    opened, _, _ = await pair.both(PROGRAMMES, {"countryCode": "TR", "openOn": "2026-03-15"}, {})
    assert opened["data"]["foreignProgrammes"]["totalCount"] == 1
    # and every page after the first, through the cursors, is the same on both paths
    after, pages = None, 0
    while True:
        fast, slow, statements = await pair.both(PROGRAMMES_EVERYTHING, {"after": after}, {})
        assert fast == slow
        assert statements == 1
        pages += 1
        info = fast["data"]["foreignProgrammes"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert pages == 2
    fast, slow, _ = await pair.both(PROGRAMMES, {"after": after}, {})
    assert fast == slow


async def test_bad_filters_and_unknown_fields_of_the_programme_list_take_the_resolvers(
    pair: Pair, session: AsyncSession, settings: Any
) -> None:
    callers = await _arrange_programmes(pair, session, settings)
    # a country code of three letters: the resolvers' INVALID_INPUT on both paths
    fast, slow, _ = await pair.both(PROGRAMMES, {"countryCode": "TUR"}, {})
    assert fast == slow
    assert fast["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    # a malformed cursor: the resolvers' error on both paths
    fast, slow, _ = await pair.both(PROGRAMMES, {"after": "nope"}, callers["ministry"])
    assert fast == slow
    assert "errors" in fast
    # edges have no compiled form here: the resolvers answer, the same bytes
    edges = PROGRAMMES.replace("nodes {", "edges { cursor node { id } } nodes {")
    assert edges != PROGRAMMES
    fast, slow, statements = await pair.both(edges, {}, callers["applicant"])
    assert fast == slow
    assert "errors" not in fast
    assert statements > 1
