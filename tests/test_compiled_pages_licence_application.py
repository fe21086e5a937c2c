"""An application's page (portals/licensing/LicenceApplication: ``node`` of a
``LicenceApplication``) is answered by the compiled path in one statement, byte for byte as
the resolvers answer it (issue 21): read by licensing officers in scope, the ministry and the
applying institution's administrators (L2), null for other callers and for ids of no
application; its history oldest first, its addresses' districts, its licence with the
register's public facts (L3). Partners' keys take the resolvers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import InstitutionKind, LicenceApplicationStep, LicenceEvent, Ownership
from resolvers.clock import today
from tests.factories import (
    BISHKEK,
    BISHKEK_LENIN,
    CHUY,
    gid,
    make_institution,
    make_licence,
    make_licence_address,
    make_licence_application,
    make_licence_document,
    make_person,
    make_programme_code,
)
from tests.test_compiled import Pair, pair
from tests.test_compiled_pages_licensing import licensing_callers

__all__ = ["pair"]

PORTAL = Path(__file__).resolve().parents[1] / "portals/licensing"
APPLICATION = (PORTAL / "LicenceApplication.graphql").read_text()
EVERYTHING = """
query Everything($id: ID!) {
  node(id: $id) {
    __typename id
    ... on LicenceApplication {
      __typename appliedAs applicant status levels clinicalBase submittedOn dueOn pausedOn
      requestedDocuments decidedOn decisionReasons officerFiled overdue daysLeft
      institution { id name kind ownership region { id nameRu } }
      programmes { __typename code name level medical accreditationRequired }
      addresses { __typename address district { __typename id nameRu nameKy region { nameRu } }
                  floorArea plannedStudents areaPerStudent tenure tenureFrom tenureUntil }
      documents { __typename kind fileName mediaType sizeBytes sha256 storageKey attachedOn
                  addressIndex }
      history { __typename action on at actor note }
      licence {
        __typename id number status levels issuedOn validUntil endedOn validToday
        history { action on at reason legalBasis }
        institution { id name }
        programmes { code name }
        addresses { __typename address district { nameRu } }
      }
    }
  }
}
"""
ESCAPES = 'Лицей "Илим" \\ /\t😀'


async def _arrange(session: AsyncSession) -> dict[str, Any]:
    """A Bishkek school's application under review with a full dossier and history, its
    approved application with the licence issued on it, and a Chuy university's
    application."""
    school = await make_institution(
        session, name=ESCAPES, ownership=Ownership.PRIVATE, region_id=BISHKEK
    )
    other = await make_institution(
        session, kind=InstitutionKind.UNIVERSITY, region_id=CHUY, district_id=None
    )
    codes = [await make_programme_code(session, name=f"Программа {i}") for i in range(3)]
    now = today()
    app = await make_licence_application(
        session,
        institution=school,
        status="awaiting_documents",
        submitted_on=now - timedelta(days=12),
        paused_on=now - timedelta(days=2),
        requested_documents=ESCAPES,
        clinical_base="Больница №1",
        programme_codes=[codes[2].code, "NO-SUCH", codes[0].code],
    )
    addresses = [
        await make_licence_address(
            session, application=app, address=f"ул. Токтогула, {i}",
            floor_area=Decimal(area), planned_students=students,  # type: ignore[arg-type]
        )
        for i, (area, students) in enumerate([("26.75", 10), ("1200", 300), ("0.05", 2)])
    ]  # fmt: skip
    addresses[0].district_id = BISHKEK_LENIN
    for kind in ("fire_safety_opinion", "charter"):
        await make_licence_document(session, application=app, kind=kind)
    doc = await make_licence_document(session, application=app, kind="sanitary_opinion")
    doc.address_id = addresses[1].id
    at = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
    for i, (action, note) in enumerate(
        [
            ("submitted", None),
            ("documents_requested", ESCAPES),
            ("documents_supplied", "Принесли"),  # the same instant: by id
            ("documents_requested", "Ещё раз"),
        ]
    ):
        session.add(
            LicenceApplicationStep(
                application_id=app.id,
                action=action,
                effective_on=now - timedelta(days=12 - i),
                at=at + timedelta(hours=min(i, 2)),
                actor=f"officer-{i}",
                note=note,
            )
        )
    licence = await make_licence(
        session,
        institution=school,
        programme_codes=[codes[1].code],
        valid_until=now + timedelta(days=100),
    )
    session.add(
        LicenceEvent(licence_id=licence.id, action="issued", effective_on=now, actor="officer-9")
    )
    await make_licence_address(session, application=await _application_of(session, licence))
    foreign = await make_licence_application(session, institution=other, applied_as="founder")
    pupil = await make_person(session)
    await session.commit()
    return {
        "school": school,
        "pupil": pupil,
        "app": gid("LicenceApplication", app.id),
        "licensed": gid("LicenceApplication", licence.application_id),
        "foreign": gid("LicenceApplication", foreign.id),
    }


async def _application_of(session: AsyncSession, licence: Any) -> Any:
    from models import LicenceApplication

    return await session.get(LicenceApplication, licence.application_id)


def _callers(pair: Pair, arranged: dict[str, Any]) -> dict[str, dict[str, str]]:
    return licensing_callers(pair, arranged["school"].id, arranged["pupil"].id, national=True)


async def _partner(session: AsyncSession, settings: Any) -> dict[str, str]:
    from resolvers.access.keys import load_pepper
    from tests.factories import make_api_key

    _, key = await make_api_key(
        session,
        pepper=load_pepper(settings),
        personal_data=True,  # a dossier's addresses and documents
        allowed_fields=[
            "Query.node",
            *(
                f"{t}.*"
                for t in (
                    "LicenceApplication",
                    "LicenceAddress",
                    "LicenceDocument",
                    "LicenceApplicationStep",
                    "ProgrammeCode",
                    "Institution",
                    "District",
                    "Region",
                    "Licence",
                    "LicenceEvent",
                    "TeachingAddress",
                )
            ),
        ],
    )
    await session.commit()
    return {"X-Api-Key": key}


async def test_an_application_page_is_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession, settings: Any
) -> None:
    # given an application under review, an approved one with its licence, one of Chuy
    arranged = await _arrange(session)
    callers = {**_callers(pair, arranged), "partner": await _partner(session, settings)}
    read: dict[str, set[str]] = {}
    for caller, headers in callers.items():
        for name in ("app", "licensed", "foreign"):
            for document in (APPLICATION, EVERYTHING):
                # when both paths answer the same request
                fast, slow, statements = await pair.both(document, {"id": arranged[name]}, headers)
                # then the answers are the same bytes, in one statement (a partner's key
                # decides field by field: the resolvers)
                assert fast == slow, (caller, name, fast, slow)
                if caller == "partner":
                    # the resolvers' statements, not the compiled one (it writes the JSON)
                    assert statements >= 1
                    assert not any("convert_to" in sql for sql in pair.counter.statements or ())
                    continue
                assert "errors" not in fast, (caller, name, fast)
                assert statements == 1, (caller, name, pair.counter.statements)
                if fast["data"]["node"] is not None:
                    read.setdefault(caller, set()).add(name)
    # and officers read those in their scope, the ministry all, the school its own (L2)
    assert read["ministry"] == {"app", "licensed", "foreign"}
    assert read["national licensing officer"] == {"app", "licensed", "foreign"}
    assert read["licensing officer of Bishkek"] == {"app", "licensed"}
    assert read["admin of the school"] == {"app", "licensed"}
    assert read["licensing officer of Chuy"] == {"foreign"}
    assert "guardian" not in read
    assert "anonymous" not in read
    ministry = callers["ministry"]
    page, _, _ = await pair.both(EVERYTHING, {"id": arranged["app"]}, ministry)
    app = page["data"]["node"]
    assert [s["actor"] for s in app["history"]] == [f"officer-{i}" for i in range(4)]
    districts = [a["district"] for a in app["addresses"]]
    # the factory's address first, then ours (by id)
    assert [d and d["id"] for d in districts] == [None, gid("District", BISHKEK_LENIN), None, None]
    assert districts[1]["region"]["nameRu"]
    assert [a["areaPerStudent"] for a in app["addresses"]] == [4.0, 2.67, 4.0, 0.03]
    assert [d["addressIndex"] for d in app["documents"]][-3:] == [None, None, 2]
    assert len(app["programmes"]) == 2
    assert app["licence"] is None
    licensed, _, _ = await pair.both(EVERYTHING, {"id": arranged["licensed"]}, ministry)
    licence = licensed["data"]["node"]["licence"]
    assert licence["validToday"] is True
    assert [e["action"] for e in licence["history"]] == ["ISSUED"]
    assert len(licence["addresses"]) == 2


async def test_bad_ids_and_unknown_fields_take_the_resolvers_answer(
    pair: Pair, session: AsyncSession
) -> None:
    arranged = await _arrange(session)
    ministry = _callers(pair, arranged)["ministry"]
    # no such application, one past int4, a person's ID, a malformed one, another type's
    for other in (
        gid("LicenceApplication", 10**6),
        gid("LicenceApplication", 2**40),
        gid("Person", arranged["pupil"].id),
        gid("Licence", 1),
        "nope",
    ):
        fast, slow, _ = await pair.both(APPLICATION, {"id": other}, ministry)
        assert fast == slow, other
    fast, slow, statements = await pair.both(
        APPLICATION, {"id": gid("LicenceApplication", 10**6)}, ministry
    )
    assert fast == slow
    assert fast["data"]["node"] is None
    assert statements == 1
    fast, _, _ = await pair.both(APPLICATION, {"id": "nope"}, ministry)
    assert fast["errors"][0]["extensions"]["code"] == "INVALID_ID"
    # a field with no compiled form (a licence event's actor reads the caller): the resolvers
    unknown = APPLICATION.replace("validUntil", "validUntil history { actor }")
    assert unknown != APPLICATION
    fast, slow, statements = await pair.both(unknown, {"id": arranged["licensed"]}, ministry)
    assert fast == slow
    assert "errors" not in fast
    assert statements > 1
