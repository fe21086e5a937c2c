"""Licensing's accreditation register (portals/licensing/Accreditations) is answered by the
compiled path in one statement, byte for byte as the resolvers answer it (issue 21): decided
accreditations public (L3), those in progress read by licensing officers in scope and the
institution's administrators (L2), ``validToday`` on Bishkek's date, the steps in order."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AccreditationOutcome,
    AccreditationStep,
    AccreditationStepRecord,
    InstitutionKind,
    LicenceAction,
    LicenceEvent,
    Ownership,
)
from resolvers.access import Role
from resolvers.clock import today
from tests.factories import (
    BISHKEK,
    CHUY,
    gid,
    make_accreditation,
    make_accreditation_agency,
    make_institution,
    make_institution_programme,
    make_licence,
    make_person,
    make_programme_code,
)
from tests.test_compiled import Pair, pair

__all__ = ["pair"]

PAGE = (
    Path(__file__).resolve().parents[1] / "portals/licensing/Accreditations.graphql"
).read_text()
EVERYTHING = """
query Everything($filter: AccreditationFilter, $after: String) {
  accreditations(first: 3, after: $after, filter: $filter, orderBy: ID) {
    __typename totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes {
      __typename id kind step outcome decidedOn validFrom validUntil validToday
      institution { id name kind }
      programme { __typename id code name }
      agency { id name countryCode onNationalRegister onEuropeanRegister recognisedOn }
      history { __typename step outcome on at note }
    }
  }
}
"""


async def _arrange(session: AsyncSession) -> dict[str, Any]:
    """A university with accreditations valid today, expired, open-ended, pending and denied,
    institutional and of a programme, by two agencies, with their steps."""
    university = await make_institution(session, name='КНУ "Ж. Баласагын"')
    other = await make_institution(session, region_id=CHUY, district_id=None)
    code = await make_programme_code(session)
    programme = await make_institution_programme(session, institution=university, code=code.code)
    agencies = [
        await make_accreditation_agency(session),
        await make_accreditation_agency(session, country_code="DE", on_european_register=True),
    ]
    now = today()
    rows = [
        (university, None, "accredited", now - timedelta(days=30), now + timedelta(days=300)),
        (university, programme, "accredited", now - timedelta(days=700), now - timedelta(days=1)),
        (university, None, "accredited", now, None),
        (university, programme, "pending", now, None),
        (university, None, "denied", now - timedelta(days=3), None),
        (other, None, "pending", now, None),
        (other, None, "accredited", now + timedelta(days=1), None),
    ]
    made = []
    for i, (inst, prog, outcome, since, until) in enumerate(rows):
        made.append(
            await make_accreditation(
                session, institution=inst, agency=agencies[i % 2], programme=prog,
                outcome=outcome, valid_from=since, valid_until=until,
            )
        )  # fmt: skip
    await session.commit()
    t = datetime(2026, 1, 10, 9, 30, tzinfo=UTC)
    for i, acc in enumerate(made):
        for j, step in enumerate(
            (AccreditationStep.APPLICATION, AccreditationStep.COUNCIL_DECISION)[: 1 + i % 2]
        ):
            await session.execute(
                insert(AccreditationStepRecord).values(
                    accreditation_id=acc.id, step=step,
                    outcome=AccreditationOutcome.ACCREDITED if j else None,
                    effective_on=date(2026, 1, 10 + j), at=t + timedelta(days=j, microseconds=i),
                    actor="licensing_officer:1", note="Келишим №7" if j else None,
                )
            )  # fmt: skip
    pupil = await make_person(session)
    await session.commit()
    return {"university": university, "other": other, "pupil": pupil, "agency": agencies[1]}


def licensing_callers(
    pair: Pair, institution_id: int, pupil_id: int, *, where: str = "school", national: bool = False
) -> dict[str, dict[str, str]]:
    """The callers the licensing pages are compared for: anonymous, the licensing officers of
    Bishkek and of Chuy (and, with ``national``, one of no region), the admin of the
    institution (named ``where``), the ministry, a guardian."""

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    callers = {
        "anonymous": {},
        "licensing officer of Bishkek": bearer(
            pair.token(Role.LICENSING_OFFICER, scopes=[f"region:{BISHKEK}"])
        ),
    }
    if national:
        callers["national licensing officer"] = bearer(pair.token(Role.LICENSING_OFFICER))
    return callers | {
        "licensing officer of Chuy": bearer(
            pair.token(Role.LICENSING_OFFICER, scopes=[f"region:{CHUY}"])
        ),
        f"admin of the {where}": bearer(
            pair.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{institution_id}"])
        ),
        "ministry": bearer(pair.token(Role.MINISTRY)),
        "guardian": bearer(pair.token(Role.GUARDIAN, person_id=pupil_id)),
    }


def _callers(pair: Pair, arranged: dict[str, Any]) -> dict[str, dict[str, str]]:
    return licensing_callers(
        pair, arranged["university"].id, arranged["pupil"].id, where="university"
    )


async def test_the_accreditation_register_is_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession
) -> None:
    # given a university's accreditations in every state
    arranged = await _arrange(session)
    university = gid("Institution", arranged["university"].id)
    requests: list[tuple[str, dict[str, Any]]] = [
        (PAGE, {}),
        (PAGE, {"filter": {"institutionId": university}}),
        (PAGE, {"filter": {"outcomes": ["ACCREDITED", "PENDING"], "kind": "PROGRAMME"}}),
        (PAGE, {"filter": {"validOn": str(today()), "agencyId": gid("AccreditationAgency",
                                                                    arranged["agency"].id)}}),
        (EVERYTHING, {}),
    ]  # fmt: skip
    seen = {}
    for caller, headers in _callers(pair, arranged).items():
        for document, variables in requests:
            # when both paths answer the same request
            fast, slow, statements = await pair.both(document, variables, headers)
            # then the answers are the same bytes, in one statement
            assert fast == slow, (caller, variables, fast, slow)
            assert "errors" not in fast, (caller, fast)
            assert statements == 1, (caller, variables, pair.counter.statements)
            if not variables:
                seen[caller] = fast["data"]["accreditations"]["totalCount"]
    # and decided ones are public (L3), pending ones read by officers in scope and the
    # institution's administrators (L2)
    assert seen["anonymous"] == seen["guardian"] == 5
    assert seen["ministry"] == 7
    assert seen["licensing officer of Bishkek"] == 6
    assert seen["licensing officer of Chuy"] == 6
    assert seen["admin of the university"] == 6
    ministry = _callers(pair, arranged)["ministry"]
    page, _, _ = await pair.both(EVERYTHING, {}, ministry)
    valid = [n["validToday"] for n in page["data"]["accreditations"]["nodes"]]
    assert True in valid
    assert False in valid
    cursor = page["data"]["accreditations"]["pageInfo"]["endCursor"]
    fast, slow, _ = await pair.both(EVERYTHING, {"after": cursor}, ministry)
    assert fast == slow


async def test_bad_filters_and_unknown_fields_take_the_resolvers(
    pair: Pair, session: AsyncSession
) -> None:
    arranged = await _arrange(session)
    ministry = _callers(pair, arranged)["ministry"]
    for variables in (
        {"filter": {"institutionId": gid("Person", 1)}},
        {"filter": {"agencyId": "x"}},
        {"filter": {"outcomes": ["PENDING"] * 11}},
    ):
        fast, slow, _ = await pair.both(PAGE, variables, ministry)
        assert fast == slow, variables
    unknown = PAGE.replace("agency { name countryCode }", "agency { name mayAccreditToday }")
    assert unknown != PAGE
    fast, slow, statements = await pair.both(unknown, {}, ministry)
    assert fast == slow
    assert statements > 1


INSTITUTION_PAGE = (
    Path(__file__).resolve().parents[1] / "portals/licensing/InstitutionLicensing.graphql"
).read_text()


async def _licensed(session: AsyncSession, arranged: dict[str, Any]) -> dict[str, str]:
    """Institutions of every licensing kind (L1): a private university with an expired and a
    suspended licence then an active one with its history; a state school (exempt); a
    private school with only a revoked licence; a private kindergarten with none."""
    university = arranged["university"]
    university.ownership = Ownership.PRIVATE
    now = today()
    await make_licence(session, institution=university, status="expired", levels=["higher"],
                       issued_on=now - timedelta(days=900), valid_until=now - timedelta(days=1))  # fmt: skip
    active = await make_licence(
        session, institution=university, levels=["higher", "postgraduate"],
        issued_on=now - timedelta(days=10), valid_until=now + timedelta(days=365),
    )  # fmt: skip
    state_school = await make_institution(session, name="№1 мектеп")
    private_school = await make_institution(session, ownership=Ownership.PRIVATE)
    await make_licence(session, institution=private_school, status="revoked", levels=[])
    kindergarten = await make_institution(
        session, kind=InstitutionKind.KINDERGARTEN, ownership=Ownership.PRIVATE
    )
    await session.commit()
    t = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
    for i, action in enumerate((LicenceAction.ISSUED, LicenceAction.SUSPENDED,
                                LicenceAction.RESTORED)):  # fmt: skip
        await session.execute(
            insert(LicenceEvent).values(
                licence_id=active.id, action=action, effective_on=date(2026, 2, 1 + i),
                at=t + timedelta(hours=i, microseconds=i * 3), actor="licensing_officer:1",
                reason="Өрт коопсуздугу" if i == 1 else None,
                legal_basis="Соттун чечими №12" if i == 1 else None,
            )
        )  # fmt: skip
    await session.commit()
    return {
        "university": gid("Institution", university.id),
        "state school": gid("Institution", state_school.id),
        "private school": gid("Institution", private_school.id),
        "kindergarten": gid("Institution", kindergarten.id),
    }


async def test_an_institutions_licensing_facts_are_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession
) -> None:
    # given institutions licensed, exempt, revoked and unlicensed, with accreditations
    arranged = await _arrange(session)
    institutions = await _licensed(session, arranged)
    for caller, headers in _callers(pair, arranged).items():
        for which, institution_id in institutions.items():
            # when both paths answer the portal's page
            fast, slow, statements = await pair.both(INSTITUTION_PAGE, {"id": institution_id},
                                                     headers)  # fmt: skip
            # then the answers are the same bytes, in one statement
            assert fast == slow, (caller, which, fast, slow)
            assert "errors" not in fast, (caller, which, fast)
            assert statements == 1, (caller, which, pair.counter.statements)
    # and the facts follow L1: exempt or licensed today may teach, the others may not
    ministry = _callers(pair, arranged)["ministry"]
    facts = {
        which: (await pair.both(INSTITUTION_PAGE, {"id": pk}, ministry))[0]["data"]["node"]
        for which, pk in institutions.items()
    }
    assert facts["university"]["mayTeachToday"] is True
    assert facts["university"]["licence"]["levels"] == ["HIGHER", "POSTGRADUATE"]
    assert len(facts["university"]["licence"]["history"]) == 3
    assert facts["university"]["accreditation"]["validToday"] is True
    assert facts["state school"]["licenceRequired"] is False
    assert facts["state school"]["mayTeachToday"] is True
    assert facts["private school"]["mayTeachToday"] is False
    assert facts["private school"]["licence"]["status"] == "REVOKED"
    assert facts["kindergarten"]["licence"] is None
    assert facts["kindergarten"]["mayTeachToday"] is False
