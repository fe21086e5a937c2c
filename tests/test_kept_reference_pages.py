"""The reference pages (issue 21: the agencies' register, the licensing policies with the
programme classifier, the intake seasons, the admission seasons) asked again are answered from
the worker's kept answers before GraphQL runs (schema/http/kept.py): one statement (their set's
version), byte for byte the resolvers' answer for every kind of caller (public data, L3), never
after an officer's change (the next request reads it), never for a partner's key, and the
agencies' register never on another day than the one it was made on."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import AccreditationAgency, IntakeKind
from resolvers.access import Role
from resolvers.clock import today
from tests.conftest import Hub
from tests.factories import (
    BISHKEK,
    gid,
    make_accreditation_agency,
    make_admission_round,
    make_admission_season,
    make_institution,
    make_intake_season,
    make_person,
    make_programme_code,
)
from tests.licensing.helpers import move_clock
from tests.test_compiled import Pair, pair

__all__ = ["pair"]

PORTALS = Path(__file__).resolve().parents[1] / "portals"
AGENCIES = (PORTALS / "licensing/AccreditationAgencies.graphql").read_text()
REFERENCE = (PORTALS / "licensing/LicensingReference.graphql").read_text()
KINDERGARTEN = (PORTALS / "kindergarten-queue/KindergartenSeason.graphql").read_text()
FIRST_GRADE = (PORTALS / "first-grade/FirstGradeSeason.graphql").read_text()
ADMISSION = (PORTALS / "university-admission/AdmissionSeasons.graphql").read_text()
# Every field of every set, with edges, cursors and page info.
EVERYTHING = {
    "accreditation_agencies": """
query Everything($after: String) {
  accreditationAgencies(first: 2, after: $after) {
    __typename totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { __typename id name countryCode onNationalRegister onEuropeanRegister
                          recognisedOn recognisedUntil mayAccreditToday } }
  }
}""",
    "licensing_reference": """
query Everything {
  licensingPolicies { __typename year reviewDays minAreaPerStudent minPremisesYears
                      requiredDocuments }
  programmeCodes(first: 3, level: HIGHER) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { code name level medical accreditationRequired } }
  }
}""",
    "intake_seasons": """
query Everything {
  intakeSeasons {
    __typename id kind year name startsOn endsOn schoolYearStarts weekendDays minAgeMonths
    maxAgeMonths maxPreferences offerDeadlineWorkingDays declineRule stage1Starts stage1Ends
    stage2Starts stage2Ends classSizeMax gradesPerSchool grade1BirthYear grade2BirthYear
    preschoolProgrammeGrade2 siblingPriority
    ageGroups { __typename code minMonths maxMonths groupSize }
    benefitCategories { __typename code name rank }
  }
}""",
    "admission_seasons": """
query Everything($after: String) {
  admissionSeasons(first: 1, after: $after, orderBy: ID) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node {
      __typename id year intake name status maxChoices mainScoreMax subjectScoreMax
      stateLanguageScoreMax mainThreshold subjectThreshold stateLanguageThreshold studiesStart
      fieldThresholds { __typename fieldOfStudy grantMainMin contractMainMin subjectMin }
      rounds { __typename id number registrationOpens registrationCloses publicationOn
               confirmationOpens confirmationCloses status publishedAt season { id name } }
    } }
  }
}""",
}


async def _arrange(session: AsyncSession) -> dict[str, Any]:
    """Agencies that may accredit today and that may not (off the national register, foreign
    off EQAR, recognised until yesterday or from tomorrow), names needing JSON escapes;
    programme codes; both intake seasons; two admission seasons with rounds and thresholds."""
    now = today()
    await make_accreditation_agency(session, name='Агентство "Илим" \\ /\t😀')
    await make_accreditation_agency(session, on_national_register=False)
    await make_accreditation_agency(session, country_code="DE", on_european_register=True)
    await make_accreditation_agency(session, country_code="KZ")
    for since, until in ((now - timedelta(days=400), now - timedelta(days=1)), (now + timedelta(days=1), None), (now - timedelta(days=10), now)):  # fmt: skip
        await session.execute(
            insert(AccreditationAgency).values(
                name=f"Агентство {since}", country_code="KG", on_national_register=True,
                on_european_register=False, recognised_on=since, recognised_until=until,
            )
        )  # fmt: skip
    for i in range(4):
        await make_programme_code(session, code=f"HE-T{i}", name=f"Программа «{i}»")
    await make_intake_season(session, kind=IntakeKind.KINDERGARTEN)
    await make_intake_season(session, kind=IntakeKind.FIRST_GRADE)
    seasons = [
        await make_admission_season(session, year=2026),
        await make_admission_season(session, year=2026, intake="winter", max_choices=3),
    ]
    for season in seasons:
        for number in (1, 2):
            await make_admission_round(session, season=season, number=number)
    await session.execute(
        text(
            "INSERT INTO admission_field_threshold "
            "(season_id, field_of_study, grant_main_min, contract_main_min, subject_min) "
            "VALUES (:s, 'teacher_education', 130, 115, 70), (:s, 'medicine', 170, 150, 90)"
        ),
        {"s": seasons[0].id},
    )
    pupil = await make_person(session)
    school = await make_institution(session)
    await session.commit()
    return {"pupil": pupil, "school": school, "season": seasons[0]}


def _pages(arranged: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(set, document, variables) of every request compared."""
    return [
        ("accreditation_agencies", AGENCIES, {}),
        ("accreditation_agencies", AGENCIES, {"filter": {"mayAccreditToday": True}}),
        ("accreditation_agencies", AGENCIES, {"filter": {"countryCode": "de"}}),
        ("accreditation_agencies", EVERYTHING["accreditation_agencies"], {}),
        ("licensing_reference", REFERENCE, {}),
        ("licensing_reference", EVERYTHING["licensing_reference"], {}),
        ("intake_seasons", KINDERGARTEN, {}),
        ("intake_seasons", FIRST_GRADE, {}),
        ("intake_seasons", EVERYTHING["intake_seasons"], {}),
        ("admission_seasons", ADMISSION, {}),
        ("admission_seasons", ADMISSION, {"year": 2026}),
        ("admission_seasons", EVERYTHING["admission_seasons"], {}),
    ]


def _callers(pair: Pair, arranged: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Anonymous first (its answer is the one kept), then every other kind of caller."""

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    return {
        "anonymous": {},
        "guardian": bearer(pair.token(Role.GUARDIAN, person_id=arranged["pupil"].id)),
        "pupil": bearer(pair.token(Role.PUPIL, person_id=arranged["pupil"].id)),
        "ministry": bearer(pair.token(Role.MINISTRY)),
        "licensing officer of Bishkek": bearer(
            pair.token(Role.LICENSING_OFFICER, scopes=[f"region:{BISHKEK}"])
        ),
        "school admin": bearer(
            pair.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{arranged['school'].id}"])
        ),
        "district officer": bearer(pair.token(Role.DISTRICT_OFFICER, scopes=["district:1"])),
    }


def _version_reads(pair_or_hub: Any) -> int:
    return sum("reference_version" in s for s in pair_or_hub.counter.statements or ())


async def test_a_kept_reference_page_is_the_resolvers_answer_for_every_caller(
    pair: Pair, session: AsyncSession
) -> None:
    # given the reference data of every set
    arranged = await _arrange(session)
    callers = _callers(pair, arranged)
    for name, document, variables in _pages(arranged):
        pair.forget_kept_answers()
        for caller, headers in callers.items():
            # when a caller opens the page (the hub without the compiled path running its
            # resolvers afresh for this caller)
            pair.slow_app.state.kept_answers.clear()
            fast, slow, statements = await pair.both(document, variables, headers)
            # then it gets the resolvers' bytes: the first caller from the resolvers, after the
            # set's version; every later one from the kept answer, in that one statement
            assert fast == slow, (name, caller, variables, fast, slow)
            assert "errors" not in fast, (name, caller, fast)
            assert _version_reads(pair) == 1, (name, caller, pair.counter.statements)
            if caller == "anonymous":
                assert statements > 1, (name, pair.counter.statements)
            else:
                assert statements == 1, (name, caller, pair.counter.statements)
    # and the pages are not empty: agencies that may accredit today and some that may not
    agencies, _, _ = await pair.both(AGENCIES, {}, {})
    allowed = [n["mayAccreditToday"] for n in agencies["data"]["accreditationAgencies"]["nodes"]]
    assert True in allowed
    assert False in allowed
    today_only, _, _ = await pair.both(AGENCIES, {"filter": {"mayAccreditToday": True}}, {})
    assert today_only["data"]["accreditationAgencies"]["totalCount"] == allowed.count(True)
    seasons, _, _ = await pair.both(ADMISSION, {"year": 2026}, {})
    nodes = seasons["data"]["admissionSeasons"]["nodes"]
    assert [len(n["rounds"]) for n in nodes] == [2, 2]
    assert sorted(len(n["fieldThresholds"]) for n in nodes) == [0, 2]


async def test_every_page_of_a_kept_list_is_the_resolvers(
    pair: Pair, session: AsyncSession
) -> None:
    # given the agencies and the admission seasons, read page by page (cursors kept too)
    arranged = await _arrange(session)
    guardian = _callers(pair, arranged)["guardian"]
    for name, root in (
        ("accreditation_agencies", "accreditationAgencies"),
        ("admission_seasons", "admissionSeasons"),
    ):
        after, pages = None, 0
        while True:
            for _ in range(2):  # the second time from the kept answer
                pair.slow_app.state.kept_answers.clear()
                fast, slow, _ = await pair.both(EVERYTHING[name], {"after": after}, guardian)
                assert fast == slow, (name, after)
            pages += 1
            info = fast["data"][root]["pageInfo"]
            if not info["hasNextPage"]:
                break
            after = info["endCursor"]
        assert pages > 1, name


SET_POLICY = """
mutation($input: SetLicensingPolicyInput!) {
  setLicensingPolicy(input: $input) { policy { year } userErrors { code } }
}"""
DEFINE_CODE = """
mutation($input: DefineProgrammeCodeInput!) {
  defineProgrammeCode(input: $input) { programmeCode { code } userErrors { code } }
}"""
REGISTER_AGENCY = """
mutation($input: RegisterAccreditationAgencyInput!) {
  registerAccreditationAgency(input: $input) { agency { id } userErrors { code } }
}"""
UPDATE_INTAKE = """
mutation($input: UpdateIntakePolicyInput!) {
  updateIntakePolicy(input: $input) { season { name } userErrors { code } }
}"""
SET_THRESHOLD = """
mutation($input: SetFieldThresholdInput!) {
  setFieldThreshold(input: $input) { threshold { fieldOfStudy } userErrors { code } }
}"""


async def _read(hub: Hub, document: str, variables: dict[str, Any] | None = None) -> Any:
    hub.counter.reset()
    body = await hub.gql(document, variables or {})
    assert "errors" not in body, body
    return body["data"], hub.counter.count


async def _kept(hub: Hub, document: str, variables: dict[str, Any] | None = None) -> Any:
    """The page read twice: the second answer is the kept one (one statement)."""
    first, _ = await _read(hub, document, variables)
    again, statements = await _read(hub, document, variables)
    assert statements == 1, hub.counter.statements
    assert again == first
    return first


async def test_an_officers_change_is_seen_by_the_next_request(
    hub: Hub, ministry: str, session: AsyncSession
) -> None:
    # given every reference page kept
    arranged = await _arrange(session)
    season = gid("AdmissionSeason", arranged["season"].id)
    kindergarten = await _kept(hub, KINDERGARTEN)
    season_id = kindergarten["intakeSeasons"][0]["id"]
    changes: list[tuple[str, dict[str, Any], str, dict[str, Any], Any]] = [
        (
            AGENCIES,
            {},
            REGISTER_AGENCY,
            {"name": "Жаңы агенттик", "countryCode": "KG", "onNationalRegister": True},
            lambda d: "Жаңы агенттик" in [n["name"] for n in d["accreditationAgencies"]["nodes"]],
        ),
        (
            REFERENCE,
            {},
            SET_POLICY,
            {
                "year": 2031,
                "reviewDays": 20,
                "minAreaPerStudent": 4.5,
                "minPremisesYears": 3,
                "requiredDocuments": ["FIRE_SAFETY_OPINION"],
            },
            lambda d: d["licensingPolicies"][0]["year"] == 2031,
        ),
        (
            REFERENCE,
            {},
            DEFINE_CODE,
            {"code": "HE-A0", "name": "Жаңы программа", "level": "HIGHER"},
            lambda d: "HE-A0" in [n["code"] for n in d["programmeCodes"]["nodes"]],
        ),
        (
            KINDERGARTEN,
            {},
            UPDATE_INTAKE,
            {"seasonId": season_id, "name": "Бала бакча 2026 (жаңы)"},
            lambda d: d["intakeSeasons"][0]["name"] == "Бала бакча 2026 (жаңы)",
        ),
        (
            ADMISSION,
            {"year": 2026},
            SET_THRESHOLD,
            {
                "seasonId": season,
                "fieldOfStudy": "law",
                "grantMainMin": 150,
                "contractMainMin": 120,
                "subjectMin": 80,
            },
            lambda d: (
                "law"
                in [
                    t["fieldOfStudy"]
                    for n in d["admissionSeasons"]["nodes"]
                    for t in n["fieldThresholds"]
                ]
            ),
        ),
    ]
    for page, variables, mutation, values, shows in changes:
        before = await _kept(hub, page, variables)
        assert not shows(before), mutation
        # when an officer changes what the page shows
        done = await hub.data(mutation, {"input": values}, token=ministry)
        assert next(iter(done.values()))["userErrors"] == [], done
        # then the next request runs the page again and shows the change, and is kept anew
        after, statements = await _read(hub, page, variables)
        assert statements > 1, (mutation, hub.counter.statements)
        assert shows(after), (mutation, after)
        assert await _kept(hub, page, variables) == after


async def test_a_write_not_yet_committed_is_not_kept_as_the_old_version(
    hub: Hub, engine: AsyncEngine, session: AsyncSession
) -> None:
    # given the agencies' register kept
    await _arrange(session)
    before = await _kept(hub, AGENCIES)
    async with engine.connect() as conn:
        # when an officer's transaction registers an agency (its trigger changes the version)
        # and has not committed yet
        transaction = await conn.begin()
        await conn.execute(
            insert(AccreditationAgency).values(
                name="Агентство в транзакции", country_code="KG", on_national_register=True,
                on_european_register=False,
            )
        )  # fmt: skip
        # then readers still get the committed register (kept, one statement)
        again, statements = await _read(hub, AGENCIES)
        assert statements == 1
        assert again == before
        await transaction.commit()
    # and once it commits, the next reader gets the new agency
    after, statements = await _read(hub, AGENCIES)
    assert statements > 1
    names = [n["name"] for n in after["accreditationAgencies"]["nodes"]]
    assert "Агентство в транзакции" in names
    assert after["accreditationAgencies"]["totalCount"] == (
        before["accreditationAgencies"]["totalCount"] + 1
    )


async def test_the_agencies_register_is_kept_for_the_day_it_was_made(
    hub: Hub, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an agency recognised until today, its register kept today
    now = today()
    await session.execute(
        insert(AccreditationAgency).values(
            name="Агентство до сегодня", country_code="KG", on_national_register=True,
            on_european_register=False, recognised_on=date(2020, 1, 1), recognised_until=now,
        )
    )  # fmt: skip
    await session.commit()
    first = await _kept(hub, AGENCIES)
    assert first["accreditationAgencies"]["nodes"][0]["mayAccreditToday"] is True
    allowed = await _kept(hub, AGENCIES, {"filter": {"mayAccreditToday": True}})
    assert allowed["accreditationAgencies"]["totalCount"] == 1
    # when the day changes
    move_clock(monkeypatch, now + timedelta(days=1))
    # then the register is made again for the new day: it may no longer accredit
    tomorrow, statements = await _read(hub, AGENCIES)
    assert statements > 1
    assert tomorrow["accreditationAgencies"]["nodes"][0]["mayAccreditToday"] is False
    none, statements = await _read(hub, AGENCIES, {"filter": {"mayAccreditToday": True}})
    assert statements > 1
    assert none["accreditationAgencies"]["totalCount"] == 0
    assert await _kept(hub, AGENCIES) == tomorrow


async def test_partners_and_other_fields_are_never_kept(
    hub: Hub, session: AsyncSession, settings: Any
) -> None:
    from resolvers.access.keys import load_pepper
    from tests.factories import make_api_key

    await _arrange(session)
    _, key = await make_api_key(
        session,
        pepper=load_pepper(settings),
        allowed_fields=["Query.accreditationAgencies", "AccreditationAgency.*", "Query.node"],
    )
    await session.commit()
    # a partner's key has its own subgraph and audit: each request runs, nothing is looked up
    for _ in range(2):
        hub.counter.reset()
        response = await hub.post(AGENCIES, {}, headers={"X-Api-Key": key})
        assert "errors" not in response.json(), response.json()
        assert hub.counter.count > 1
        assert _version_reads(hub) == 0
    # a page that also reads another set's or another table's fields is not a kept page
    mixed = "{ accreditationAgencies(first: 5) { nodes { name } } licensingPolicies { year } }"
    for _ in range(2):
        await _read(hub, mixed)
        assert _version_reads(hub) == 0
