"""The public check of a licence by its number (portals/licensing/VerifyLicence, L3) is answered
by the compiled path in one statement, byte for byte as the resolvers answer it (issue 21): the
number folded and upper-cased as the resolver reads it, a number too long to be one null, the
licence's institution, programmes in the licence's order, teaching addresses, history, the
licence it re-issued and the one that re-issued it; one statement built for every number."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import LicenceEvent, Ownership
from resolvers.clock import today
from tests.factories import (
    BISHKEK_LENIN,
    make_institution,
    make_licence,
    make_licence_address,
    make_person,
    make_programme_code,
)
from tests.test_compiled import Pair, pair
from tests.test_compiled_pages_licensing import licensing_callers

__all__ = ["pair"]

PAGE = (Path(__file__).resolve().parents[1] / "portals/licensing/VerifyLicence.graphql").read_text()
EVERYTHING = """
query Everything($number: String!) {
  verifyLicence(number: $number) {
    __typename id number status validToday levels issuedOn validUntil endedOn
    institution { __typename id name kind ownership address region { id nameRu } }
    programmes { __typename code name level medical accreditationRequired }
    addresses { __typename address district { id nameRu region { nameKy } } }
    history { __typename action on at reason legalBasis }
    replaces { id number status validToday history { action on } }
    replacedBy { __typename id number status validToday issuedOn endedOn }
    again: replacedBy { number }
  }
}
"""


async def _arrange(session: AsyncSession) -> dict[str, Any]:
    """A school whose licence was re-issued (the old one names the new), with programmes (one
    the classifier lacks), addresses and a history; a suspended licence, an expired one and
    one of a school whose name needs every JSON escape."""
    school = await make_institution(
        session, name='Лицей "Илим" \\ /\t😀', ownership=Ownership.PRIVATE
    )
    other = await make_institution(session, name="Мектеп №5", ownership=Ownership.PRIVATE)
    codes = [await make_programme_code(session, name=f"Программа {i}") for i in range(2)]
    now = today()
    old = await make_licence(
        session,
        institution=school,
        number="KG-LIC-2024-000101",
        status="reissued",
        issued_on=date(2024, 3, 1),
        programme_codes=[codes[1].code, "NO-SUCH", codes[0].code],
    )
    old.ended_on = now - timedelta(days=10)
    new = await make_licence(
        session,
        institution=school,
        number="KG-LIC-2025-000202",
        issued_on=now - timedelta(days=10),
        valid_until=now + timedelta(days=365),
        programme_codes=[codes[0].code],
    )
    new.replaces_id = old.id
    address = await make_licence_address(
        session, application=await _application_of(session, old), address="ул. Токтогула, 7"
    )
    address.district_id = BISHKEK_LENIN
    at = datetime(2025, 1, 10, 9, 30, tzinfo=UTC)
    for i, (action, reason, basis) in enumerate(
        (
            ("issued", None, None),
            ("suspended", 'Предписание "№7"', "Решение суда №12"),
            ("restored", "Нарушения устранены", None),
            ("reissued", "Заменена новой лицензией", None),
        )
    ):
        session.add(
            LicenceEvent(
                licence_id=old.id, action=action, effective_on=date(2025, 1, 10 + i),
                at=at + timedelta(days=i), actor=f"officer-{i}", reason=reason,
                legal_basis=basis,
            )
        )  # fmt: skip
    suspended = await make_licence(
        session, institution=other, number="KG-LIC-2025-000303", status="suspended"
    )
    expired = await make_licence(
        session,
        institution=await make_institution(session, ownership=Ownership.PRIVATE),
        number="KG LIC SS 000404",
        valid_until=now - timedelta(days=1),
    )
    pupil = await make_person(session)
    await session.commit()
    return {
        "school": school,
        "pupil": pupil,
        "numbers": [old.number, new.number, suspended.number, expired.number],
    }


async def _application_of(session: AsyncSession, licence: Any) -> Any:
    from models import LicenceApplication

    return await session.get(LicenceApplication, licence.application_id)


async def _partner(session: AsyncSession, settings: Any) -> dict[str, str]:
    """A partner's key granted the check and every public field of a licence."""
    from resolvers.access.keys import load_pepper
    from tests.factories import make_api_key

    types = ("Licence", "LicenceEvent", "ProgrammeCode", "TeachingAddress", "Institution", "Region")
    _, key = await make_api_key(
        session,
        pepper=load_pepper(settings),
        personal_data=True,  # a teaching address
        allowed_fields=["Query.verifyLicence", *(f"{t}.*" for t in types)],
    )
    await session.commit()
    return {"X-Api-Key": key}


def _callers(pair: Pair, arranged: dict[str, Any]) -> dict[str, dict[str, str]]:
    return licensing_callers(pair, arranged["school"].id, arranged["pupil"].id, national=True)


async def test_a_licence_checked_by_number_is_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession
) -> None:
    # given licences re-issued, active, suspended and expired
    arranged = await _arrange(session)
    old, new, suspended, expired = arranged["numbers"]
    numbers = [
        old,
        new,
        suspended,
        expired,
        f"  {old.lower()} ",  # any case, stray blanks
        "kg  lic ß\t000404",  # blanks inside folded to one, upper case as Python's (SS)
        "KG-LIC-1999-000001",  # no such licence
        "",
        "K" * 40,
        "K" * 41,  # longer than a number may be: null without a look
    ]
    found = {}
    for caller, headers in _callers(pair, arranged).items():
        for document in (PAGE, EVERYTHING):
            for number in numbers:
                # when both paths answer the same check
                fast, slow, statements = await pair.both(document, {"number": number}, headers)
                # then the answers are the same bytes, in one statement: the licence is public
                assert fast == slow, (caller, number, fast, slow)
                assert "errors" not in fast, (caller, fast)
                assert statements == 1, (caller, number, pair.counter.statements)
                found[number] = fast["data"]["verifyLicence"]
    # and the old licence names the new one, in force; the programmes in the licence's order
    assert found[old]["replacedBy"]["number"] == new
    assert found[old]["replacedBy"]["validToday"] is True
    assert found[new]["replaces"]["number"] == old
    assert found[old]["validToday"] is False
    assert [p["name"] for p in found[old]["programmes"]] == ["Программа 1", "Программа 0"]
    assert [h["action"] for h in found[old]["history"]] == [
        "ISSUED",
        "SUSPENDED",
        "RESTORED",
        "REISSUED",
    ]
    assert found[old]["addresses"][-1]["district"]["region"]["nameKy"]
    assert found[f"  {old.lower()} "] == found[old]
    assert found["kg  lic ß\t000404"]["number"] == expired
    assert found[suspended]["validToday"] is False
    assert found[expired]["validToday"] is False
    assert found["KG-LIC-1999-000001"] is None
    assert found["K" * 41] is None


async def test_one_statement_is_built_for_every_number(pair: Pair, session: AsyncSession) -> None:
    # given a guardian's first check (its statement built)
    arranged = await _arrange(session)
    guardian = _callers(pair, arranged)["guardian"]
    await pair.both(PAGE, {"number": arranged["numbers"][0]}, guardian)
    templates, statements = pair.compiler.templates_built, pair.compiler.statements_built
    # when they check the other numbers, in every spelling
    for number in [*arranged["numbers"][1:], " kg-lic-2025-000202", "KG-LIC-1999-000001"]:
        fast, slow, _ = await pair.both(PAGE, {"number": number}, guardian)
        assert fast == slow
    # then each took the kept statement with its number as an argument
    assert pair.compiler.templates_built == templates
    assert pair.compiler.statements_built == statements
    # and a number too long to be one is kept in the shape, answered null
    fast, slow, _ = await pair.both(PAGE, {"number": "X" * 41}, guardian)
    assert fast == slow
    assert fast["data"]["verifyLicence"] is None
    assert pair.compiler.templates_built == templates + 1


async def test_partners_and_fields_it_does_not_know_take_the_resolvers(
    pair: Pair, session: AsyncSession, settings: Any
) -> None:
    arranged = await _arrange(session)
    number = arranged["numbers"][0]
    partner = await _partner(session, settings)
    ministry = _callers(pair, arranged)["ministry"]
    # a partner's key decides field by field; an event's actor is read by licensing staff only
    # and the dossier under its rule: the resolvers answer those
    for document, headers in (
        (PAGE, partner),
        (PAGE.replace("reason legalBasis", "reason legalBasis actor"), ministry),
        (PAGE.replace("validToday levels", "validToday levels application { id }"), ministry),
    ):
        fast, slow, statements = await pair.both(document, {"number": number}, headers)
        assert fast == slow
        assert "errors" not in fast, fast
        assert fast["data"]["verifyLicence"]["number"] == number
        assert statements > 1
        assert not any("convert_to" in sql for sql in pair.counter.statements or ())
