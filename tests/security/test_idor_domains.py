"""Another family's (or institution's) workflow records are out of reach by every path: the
kindergarten queue, first grade, university admission, study abroad and licensing.

Family A has a child in the kindergarten queue holding an offer, a child applying for first
grade, and a school leaver with a national test certificate, a university application with a
recommended place and a foreign-programme application; school A applies for a licence. Every
caller who must not see these gets null through `node` and `nodes`, does not find them in the
domain's lists, and cannot act on them through a mutation (a typed NOT_FOUND or FORBIDDEN,
nothing written, nothing of the object returned). The legitimate readers do see them, so none of
this passes by seeing nothing at all."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import (
    AdmissionApplication,
    AdmissionOffer,
    Enrollment,
    FirstGradeApplication,
    FirstGradeApplicationEvent,
    FirstGradeStatus,
    ForeignApplication,
    ForeignStageResult,
    Institution,
    IntakeKind,
    KindergartenApplication,
    KindergartenApplicationEvent,
    KindergartenOffer,
    KindergartenPlaces,
    Licence,
    LicenceApplication,
    LicenceApplicationStep,
    LicenceDocument,
    NationalTestResult,
    OutboxEvent,
    Sex,
)
from resolvers import clock
from resolvers.access import Role
from resolvers.relay import decode_id
from tests.admission.arrange import PUBLICATION, REGISTRATION, arrange_campaign, make_applicant
from tests.conftest import Hub
from tests.factories import (
    CHUY,
    CHUY_SOKULUK,
    gid,
    make_api_key,
    make_family,
    make_first_grade_application,
    make_foreign_programme,
    make_guardianship,
    make_institution,
    make_intake_season,
    make_kindergarten_application,
    make_kindergarten_places,
    make_licence_application,
    make_person,
    make_staff_position,
)
from tests.licensing.helpers import document
from tests.people.helpers import error_codes
from tests.preschool.helpers import add_child, arrange_queue, born_for_group
from tests.security.conftest import with_key
from tests.security.test_idor import GUARDED_IN_DOMAINS

NODE = "query($id: ID!) { node(id: $id) { id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"

# The domains' lists, with the guarded objects nested in them (offers, certificates).
LISTS = {
    "kindergartenApplications": (
        "{ kindergartenApplications(first: 20) { nodes { id offers { id } currentOffer { id } } } }"
    ),
    "firstGradeApplications": "{ firstGradeApplications(first: 20) { nodes { id } } }",
    "admissionApplications": (
        "{ admissionApplications(first: 20) { nodes { id offers { id } testResult { id } } } }"
    ),
    "testResults": "{ testResults(first: 20) { nodes { id } } }",
    "foreignApplications": "{ foreignApplications(first: 20) { nodes { id } } }",
    "licenceApplications": "{ licenceApplications(first: 20) { nodes { id } } }",
}

# A data partner's key for the people and institution registries: none of the workflow types.
PARTNER_SCOPE = ["Query.persons", "Person.*", "Query.institutions", "Institution.*"]

OFFER_PLACES = """
mutation($input: OfferPlacesInput!) {
  offerPlaces(input: $input) { offers { id } userErrors { code message } }
}
"""
APPLY_TO_PROGRAMMES = """
mutation($input: ApplyToProgrammesInput!) {
  applyToProgrammes(input: $input) { applications { id } userErrors { code message } }
}
"""
APPLY_ABROAD = """
mutation($input: ApplyToForeignProgrammeInput!) {
  applyToForeignProgramme(input: $input) { application { id } userErrors { code message } }
}
"""
PUBLISH = """
mutation($input: PublishRoundInput!) {
  publishRound(input: $input) { recommended userErrors { code message } }
}
"""


@dataclass
class World:
    """Family A's objects (by node type, as global IDs), the callers' identities, and what
    must never show in an answer to an outsider (PINs, the certificate number)."""

    targets: dict[str, str]
    people: dict[str, int]
    institutions: dict[str, int]
    partner_key: str
    secrets: list[str]


@pytest.fixture
async def world(
    hub: Hub, ministry: str, session: AsyncSession, pepper: bytes, monkeypatch: pytest.MonkeyPatch
) -> World:
    # given family A's child in the queue of kindergarten A, with a free place there
    queue = await arrange_queue(session, kindergartens=2)
    mother, kindergarten = queue.mother, queue.kindergartens[0]
    toddler = await add_child(session, queue, born=born_for_group(queue.season, 3))
    kg_application = await make_kindergarten_application(
        session, child=toddler, guardian=mother, kindergartens=[kindergarten], season=queue.season
    )
    await make_kindergarten_places(session, kindergarten=kindergarten, season=queue.season)
    # and their six-year-old applying to school A, which applies for a licence
    school = queue.school
    first_grade = await make_intake_season(session, kind=IntakeKind.FIRST_GRADE)
    six = await make_person(session, birth_date=date(first_grade.year - 7, 3, 1), sex=Sex.MALE)
    await make_guardianship(session, guardian=mother, child=six)
    fg_application = await make_first_grade_application(
        session,
        child=six,
        guardian=mother,
        school=school,
        season=first_grade,
        status=FirstGradeStatus.SUBMITTED,
    )
    licence_application = await make_licence_application(session, institution=school)
    # and their school leaver with a certificate, applying to university A and abroad
    campaign = await arrange_campaign(session)
    leaver, certificate = await make_applicant(session, campaign)
    await make_guardianship(session, guardian=mother, child=leaver)
    abroad = await make_foreign_programme(
        session, opens_on=date(2026, 6, 1), closes_on=date(2026, 7, 31)
    )
    # and the outsiders: another family, a school elsewhere, a teacher of school A, a partner
    other_mother, (other_child,) = await make_family(session)
    elsewhere = await make_institution(session, region_id=CHUY, district_id=CHUY_SOKULUK)
    teacher = await make_person(session, birth_date=date(1990, 1, 1))
    await make_staff_position(session, person=teacher, institution=school)
    _, partner_key = await make_api_key(session, pepper=pepper, allowed_fields=PARTNER_SCOPE)
    await session.commit()

    # the kindergarten offers the place; the leaver applies; the round is published
    officer = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{kindergarten.id}"])
    offered = await hub.data(
        OFFER_PLACES,
        {"input": {"kindergartenId": gid("Institution", kindergarten.id)}},
        token=officer,
    )
    assert offered["offerPlaces"]["userErrors"] == [], offered
    (kg_offer,) = offered["offerPlaces"]["offers"]
    as_leaver = hub.token(Role.PUPIL, person_id=leaver.id)
    monkeypatch.setattr(clock, "today", lambda: REGISTRATION)
    applied = await hub.data(
        APPLY_TO_PROGRAMMES,
        {
            "input": {
                "seasonId": gid("AdmissionSeason", campaign.season.id),
                "personId": gid("Person", leaver.id),
                "certificateNumber": certificate.certificate_number,
                "choices": [
                    {
                        "programmeId": gid("Programme", campaign.programmes["informatics"].id),
                        "funding": "GRANT",
                    }
                ],
            }
        },
        token=as_leaver,
    )
    assert applied["applyToProgrammes"]["userErrors"] == [], applied
    (admission_application,) = applied["applyToProgrammes"]["applications"]
    went = await hub.data(
        APPLY_ABROAD,
        {
            "input": {
                "programmeId": gid("ForeignProgramme", abroad.id),
                "personId": gid("Person", leaver.id),
                "fieldOfStudy": "engineering",
                "schoolAverage": "4.5",
            }
        },
        token=as_leaver,
    )
    assert went["applyToForeignProgramme"]["userErrors"] == [], went
    monkeypatch.setattr(clock, "today", lambda: PUBLICATION)
    published = await hub.data(
        PUBLISH,
        {"input": {"roundId": gid("AdmissionRound", campaign.round1.id)}},
        token=ministry,
    )
    assert published["publishRound"]["recommended"] == 1, published
    await session.rollback()
    admission_offer = await session.scalar(select(AdmissionOffer.id))
    assert admission_offer is not None

    return World(
        targets={
            "KindergartenApplication": gid("KindergartenApplication", kg_application.id),
            "KindergartenOffer": kg_offer["id"],
            "FirstGradeApplication": gid("FirstGradeApplication", fg_application.id),
            "AdmissionApplication": admission_application["id"],
            "AdmissionOffer": gid("AdmissionOffer", admission_offer),
            "NationalTestResult": gid("NationalTestResult", certificate.id),
            "ForeignApplication": went["applyToForeignProgramme"]["application"]["id"],
            "LicenceApplication": gid("LicenceApplication", licence_application.id),
        },
        people={
            "mother": mother.id,
            "leaver": leaver.id,
            "other_mother": other_mother.id,
            "other_child": other_child.id,
            "teacher": teacher.id,
        },
        institutions={
            "kindergarten": kindergarten.id,
            "other_kindergarten": queue.kindergartens[1].id,
            "school": school.id,
            "leavers_school": campaign.bishkek_school.id,
            "university": campaign.university.id,
            "other_university": campaign.other_university.id,
            "elsewhere": elsewhere.id,
        },
        partner_key=partner_key,
        secrets=[
            s for s in (toddler.pin, six.pin, leaver.pin, certificate.certificate_number) if s
        ],
    )


# --- callers --------------------------------------------------------------------------------

ANONYMOUS, PARTNER = "anonymous", "partner_without_these_types"

# Callers who must see none of family A's objects.
OUTSIDERS = [
    "guardian_of_another_family",
    "another_pupil",
    "school_admin_elsewhere",
    "school_admin_of_the_leavers_school",
    "admission_officer_of_another_university",
    "region_officer_elsewhere",
    "licensing_officer_of_another_region",
    "teacher_of_school_a",
    "auditor",
    ANONYMOUS,
    PARTNER,
]

# How a caller may be refused a whole list rather than read it without family A's objects.
REFUSED_LISTS = {PARTNER: "FIELD_NOT_IN_SCOPE", ANONYMOUS: "UNAUTHENTICATED"}

# The typed refusals of a mutation on someone else's object (NOT_GUARDIAN: the queue's "you
# are not this child's guardian", a FORBIDDEN of its own).
REFUSALS = {"NOT_FOUND", "FORBIDDEN", "NOT_GUARDIAN"}

# A partner's webhook endpoints and their deliveries are guarded in the events domain but are
# no family's or school's record: nobody here owns one. Their rule (a partner reads its key's,
# the ministry all) is resolvers/events/rules.py; tests/events/test_webhooks.py checks it.
PARTNERS_OBJECTS = {"WebhookSubscription", "WebhookDelivery"}
# The guarded workflow types: family A's world holds one object of each.
ARRANGED = GUARDED_IN_DOMAINS - PARTNERS_OBJECTS

# The legitimate readers, and which of family A's objects each reads.
READERS: dict[str, set[str]] = {
    "guardian_of_the_family": ARRANGED - {"LicenceApplication"},
    "the_leaver": {
        "AdmissionApplication",
        "AdmissionOffer",
        "NationalTestResult",
        "ForeignApplication",
    },
    "admin_of_kindergarten_a": {"KindergartenApplication", "KindergartenOffer"},
    "admin_of_school_a": {"FirstGradeApplication", "LicenceApplication"},
    "admission_officer_of_university_a": {
        "AdmissionApplication",
        "AdmissionOffer",
        "NationalTestResult",
    },
    "licensing_officer": {"LicenceApplication"},
    "ministry": set(ARRANGED),
}


def token_of(hub: Hub, w: World, caller: str) -> str | None:
    p, i = w.people, w.institutions

    def at(role: Role, kind: str, ident: int, **kw: Any) -> str:
        return hub.token(role, scopes=[f"{kind}:{ident}"], **kw)

    tokens = {
        "guardian_of_another_family": lambda: hub.token(Role.GUARDIAN, person_id=p["other_mother"]),
        "another_pupil": lambda: hub.token(Role.PUPIL, person_id=p["other_child"]),
        "school_admin_elsewhere": lambda: at(Role.SCHOOL_ADMIN, "institution", i["elsewhere"]),
        "school_admin_of_the_leavers_school": lambda: at(
            Role.SCHOOL_ADMIN, "institution", i["leavers_school"]
        ),
        "admission_officer_of_another_university": lambda: at(
            Role.ADMISSION_OFFICER, "institution", i["other_university"]
        ),
        "region_officer_elsewhere": lambda: at(Role.REGION_OFFICER, "region", CHUY),
        "licensing_officer_of_another_region": lambda: at(Role.LICENSING_OFFICER, "region", CHUY),
        "teacher_of_school_a": lambda: at(
            Role.TEACHER, "institution", i["school"], person_id=p["teacher"]
        ),
        "auditor": lambda: hub.token(Role.AUDITOR),
        ANONYMOUS: lambda: None,
        "guardian_of_the_family": lambda: hub.token(Role.GUARDIAN, person_id=p["mother"]),
        "the_leaver": lambda: hub.token(Role.PUPIL, person_id=p["leaver"]),
        "admin_of_kindergarten_a": lambda: at(Role.SCHOOL_ADMIN, "institution", i["kindergarten"]),
        "admin_of_school_a": lambda: at(Role.SCHOOL_ADMIN, "institution", i["school"]),
        "admission_officer_of_university_a": lambda: at(
            Role.ADMISSION_OFFICER, "institution", i["university"]
        ),
        "licensing_officer": lambda: hub.token(Role.LICENSING_OFFICER),
        "ministry": lambda: hub.token(Role.MINISTRY),
    }
    return tokens[caller]()


async def ask(
    hub: Hub, w: World, caller: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The whole response body of ``query`` sent by ``caller`` (a partner sends its key)."""
    if caller == PARTNER:
        response = await with_key(hub, w.partner_key, query, variables)
    else:
        response = await hub.post(query, variables, token=token_of(hub, w, caller))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids_in(value: Any) -> set[str]:
    """Every `id` anywhere in an answer."""
    if isinstance(value, dict):
        found = {value["id"]} if isinstance(value.get("id"), str) else set()
        return found.union(*(ids_in(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(ids_in(v) for v in value))
    return set()


async def readable(hub: Hub, w: World, caller: str) -> dict[str, set[str]]:
    """Which of family A's objects ``caller`` finds through `node`, `nodes` and the lists."""
    by_id = {v: k for k, v in w.targets.items()}
    found: dict[str, set[str]] = {"node": set(), "nodes": set(), "lists": set()}
    for type_name, ident in w.targets.items():
        body = await ask(hub, w, caller, NODE, {"id": ident})
        assert "errors" not in body, body
        if body["data"]["node"] is not None:
            assert body["data"]["node"] == {"id": ident}
            found["node"].add(type_name)
    body = await ask(hub, w, caller, NODES, {"ids": list(w.targets.values())})
    assert "errors" not in body, body
    found["nodes"] = {by_id[n["id"]] for n in body["data"]["nodes"] if n is not None}
    for query in LISTS.values():
        body = await ask(hub, w, caller, query)
        if caller in REFUSED_LISTS:
            # the partner's subgraph names none of these lists (the whole request is refused);
            # an anonymous caller is refused the lists of applications (null where they stand)
            # or reads an empty one
            refused = body["data"] is None or all(v is None for v in body["data"].values())
            assert refused or "errors" not in body, body
            assert set(error_codes(body)) <= {REFUSED_LISTS[caller]}, body
        else:
            assert "errors" not in body, body
        if body["data"] is None:
            continue
        found["lists"] |= {by_id[i] for i in ids_in(body["data"]) if i in by_id}
    return found


class TestReadingFamilyAsObjects:
    def test_every_guarded_domain_type_is_arranged(self, world: World) -> None:
        # a type newly guarded in a domain fails here until it is arranged or said not to be
        # a family's (PARTNERS_OBJECTS)
        assert set(world.targets) == ARRANGED == READERS["ministry"]

    @pytest.mark.parametrize("caller", OUTSIDERS)
    async def test_outsiders_find_none_of_them_by_node_nodes_or_lists(
        self, hub: Hub, world: World, caller: str
    ) -> None:
        # when the outsider looks for family A's objects by every path
        found = await readable(hub, world, caller)

        # then nothing
        assert found == {"node": set(), "nodes": set(), "lists": set()}

    @pytest.mark.parametrize("caller", list(READERS))
    async def test_legitimate_readers_find_theirs_and_only_theirs(
        self, hub: Hub, world: World, caller: str
    ) -> None:
        # when each legitimate reader looks by every path
        found = await readable(hub, world, caller)

        # then they find exactly the objects their role reads, the same way by every path
        expected = READERS[caller]
        assert found == {"node": expected, "nodes": expected, "lists": expected}


# --- mutations taking these IDs -------------------------------------------------------------

# (mutation, who may make it, its input type, the payload's object field, the input built
# from family A's IDs)
MUTATIONS: list[tuple[str, str, str, str, Any]] = [
    (
        "acceptOffer",
        "guardian_of_the_family",
        "OfferDecisionInput",
        "offer",
        lambda w: {"offerId": w.targets["KindergartenOffer"]},
    ),
    (
        "confirmAdmission",
        "admin_of_kindergarten_a",
        "ConfirmAdmissionInput",
        "offer",
        lambda w: {"offerId": w.targets["KindergartenOffer"]},
    ),
    (
        "verifyKindergartenBenefit",
        "admin_of_kindergarten_a",
        "VerifyKindergartenBenefitInput",
        "application",
        lambda w: {"applicationId": w.targets["KindergartenApplication"], "verified": False},
    ),
    (
        "transferKindergartenApplication",
        "guardian_of_the_family",
        "TransferKindergartenApplicationInput",
        "application",
        lambda w: {
            "applicationId": w.targets["KindergartenApplication"],
            "kindergartenIds": [gid("Institution", w.institutions["other_kindergarten"])],
        },
    ),
    (
        "declineOffer",
        "guardian_of_the_family",
        "OfferDecisionInput",
        "offer",
        lambda w: {"offerId": w.targets["KindergartenOffer"]},
    ),
    (
        "withdrawKindergartenApplication",
        "guardian_of_the_family",
        "WithdrawKindergartenApplicationInput",
        "application",
        lambda w: {"applicationId": w.targets["KindergartenApplication"], "reason": "moved"},
    ),
    (
        "verifyFirstGradeApplication",
        "admin_of_school_a",
        "VerifyFirstGradeApplicationInput",
        "application",
        lambda w: {"applicationId": w.targets["FirstGradeApplication"], "documentsValid": True},
    ),
    (
        "withdrawFirstGradeApplication",
        "guardian_of_the_family",
        "WithdrawFirstGradeApplicationInput",
        "application",
        lambda w: {"applicationId": w.targets["FirstGradeApplication"], "reason": "moved"},
    ),
    (
        "recordCreativeTestScore",
        "admission_officer_of_university_a",
        "RecordCreativeTestScoreInput",
        "application",
        lambda w: {"applicationId": w.targets["AdmissionApplication"], "score": 100},
    ),
    (
        "confirmPlace",
        "the_leaver",
        "ConfirmPlaceInput",
        "offer",
        lambda w: {"offerId": w.targets["AdmissionOffer"]},
    ),
    (
        "advanceForeignApplication",
        "ministry",
        "AdvanceForeignApplicationInput",
        "application",
        lambda w: {
            "applicationId": w.targets["ForeignApplication"],
            "stage": "DOCUMENT_CHECK",
            "decision": "FAILED",
            "reason": "incomplete",
        },
    ),
    (
        "supplementLicenceApplication",
        "admin_of_school_a",
        "SupplementLicenceApplicationInput",
        "application",
        lambda w: {
            "applicationId": w.targets["LicenceApplication"],
            "documents": [document("FIRE_SAFETY_OPINION", 0)],
        },
    ),
    (
        "reviewLicenceApplication",
        "licensing_officer",
        "ReviewLicenceApplicationInput",
        "application",
        lambda w: {
            "applicationId": w.targets["LicenceApplication"],
            "decision": "REFUSE",
            "reasons": "no premises",
        },
    ),
]

TARGET_MODELS = {
    "KindergartenApplication": KindergartenApplication,
    "KindergartenOffer": KindergartenOffer,
    "FirstGradeApplication": FirstGradeApplication,
    "AdmissionApplication": AdmissionApplication,
    "AdmissionOffer": AdmissionOffer,
    "NationalTestResult": NationalTestResult,
    "ForeignApplication": ForeignApplication,
    "LicenceApplication": LicenceApplication,
}
COUNTED = (
    KindergartenApplicationEvent,
    KindergartenPlaces,
    FirstGradeApplicationEvent,
    ForeignStageResult,
    LicenceApplicationStep,
    LicenceDocument,
    Licence,
    Enrollment,
    OutboxEvent,
)


def mutation_document(name: str, input_type: str, field: str) -> str:
    return (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ "
        f"{field} {{ id }} userErrors {{ field code message }} }} }}"
    )


async def snapshot(engine: AsyncEngine, w: World) -> dict[str, Any]:
    """Family A's rows as stored, and the row counts a workflow step would change."""
    async with engine.connect() as conn:
        state: dict[str, Any] = {}
        for type_name, model in TARGET_MODELS.items():
            pk = decode_id(w.targets[type_name], expected=type_name)[1]
            row = (
                await conn.execute(select(model.__table__).where(model.__table__.c.id == pk))
            ).one()
            state[type_name] = row._asdict()
        for model in COUNTED:
            state[model.__tablename__] = await conn.scalar(select(func.count()).select_from(model))
        free = select(func.sum(KindergartenPlaces.free_places))
        state["free_places"] = await conn.scalar(free)
        return state


class TestActingOnFamilyAsObjects:
    @pytest.mark.parametrize("caller", OUTSIDERS)
    async def test_outsiders_get_a_typed_error_and_change_nothing(
        self, hub: Hub, world: World, engine: AsyncEngine, caller: str
    ) -> None:
        # given family A's objects as stored
        before = await snapshot(engine, world)

        # when the outsider tries every mutation that takes their IDs
        answers = {
            name: await ask(
                hub,
                world,
                caller,
                mutation_document(name, input_type, field),
                {"input": build(world)},
            )
            for name, _, input_type, field, build in MUTATIONS
        }

        # then each is refused with a typed error, nothing of the object comes back
        for (name, _, _, field, _), body in zip(MUTATIONS, answers.values(), strict=True):
            if caller == ANONYMOUS:
                assert error_codes(body) == ["UNAUTHENTICATED"], (name, body)
                assert body["data"] is None, (name, body)
            elif caller == PARTNER:
                assert error_codes(body) == ["FIELD_NOT_IN_SCOPE"], (name, body)
                assert body["data"] is None, (name, body)
            else:
                assert "errors" not in body, (name, body)
                payload = body["data"][name]
                assert payload[field] is None, (name, payload)
                codes = {e["code"] for e in payload["userErrors"]}
                assert codes, (name, payload)
                assert codes <= REFUSALS, (name, payload)
            text = json.dumps(body, ensure_ascii=False)
            assert not [s for s in world.secrets if s in text], (name, body)
            assert not ids_in(body) & set(world.targets.values()), (name, body)
        # and nothing was written
        assert await snapshot(engine, world) == before

    async def test_the_right_actor_gets_past_the_access_check(self, hub: Hub, world: World) -> None:
        # when whoever may make each mutation makes it (in this order some find the object
        # already moved on: the offer accepted and confirmed, the application withdrawn)
        codes = {}
        for name, actor, input_type, field, build in MUTATIONS:
            body = await ask(
                hub,
                world,
                actor,
                mutation_document(name, input_type, field),
                {"input": build(world)},
            )
            assert "errors" not in body, (name, body)
            codes[name] = {e["code"] for e in body["data"][name]["userErrors"]}

        # then none of them is refused access: the refusals above are about who asks
        assert [name for name, c in codes.items() if c & REFUSALS] == []


# --- "not yours" answers as "unknown" (issue 22.7) --------------------------------------------

# A primary key no row has (a valid 32-bit key, so the lookup runs).
NOBODY = 2**31 - 11

# Signed-in outsiders: anonymous callers and partners are refused every mutation before any id
# is looked at (above), so only these could tell "another family's" from "unknown".
SIGNED_IN_OUTSIDERS = [c for c in OUTSIDERS if c not in (ANONYMOUS, PARTNER)]

# The mutations that take the id of a family's person rather than of a workflow record, and
# the one that takes an accreditation still in progress (read by licensing staff and the
# institution only), with the input built from family A's ids.
MORE_MUTATIONS: list[tuple[str, str, str, Any]] = [
    (
        "applyToKindergartenQueue",
        "ApplyToKindergartenQueueInput",
        "application",
        lambda w: {
            "childId": gid("Person", w.people["leaver"]),
            "kindergartenIds": [gid("Institution", w.institutions["kindergarten"])],
        },
    ),
    (
        "applyForFirstGrade",
        "ApplyForFirstGradeInput",
        "application",
        lambda w: {
            "childId": gid("Person", w.people["leaver"]),
            "pin": "21503200700011",
            "birthCertificate": "I-AN 123456",
            "schoolId": gid("Institution", w.institutions["school"]),
            "language": "KY",
        },
    ),
    (
        "applyToProgrammes",
        "ApplyToProgrammesInput",
        "applications",
        lambda w: {
            "seasonId": gid("AdmissionSeason", 1),
            "personId": gid("Person", w.people["leaver"]),
            "certificateNumber": "ORT-0001",
            "choices": [],
        },
    ),
    (
        "applyToForeignProgramme",
        "ApplyToForeignProgrammeInput",
        "application",
        lambda w: {
            "programmeId": gid("ForeignProgramme", 1),
            "personId": gid("Person", w.people["leaver"]),
            "fieldOfStudy": "engineering",
            "schoolAverage": "4.5",
        },
    ),
    (
        "advanceAccreditation",
        "AdvanceAccreditationInput",
        "accreditation",
        lambda w: {"accreditationId": w.targets["Accreditation"], "step": "DECISION_TO_START"},
    ),
]


def nowhere(w: World) -> World:
    """The same inputs with every id of family A's replaced by one that names nothing."""
    return World(
        targets={t: gid(t, NOBODY) for t in w.targets},
        people=dict.fromkeys(w.people, NOBODY),
        institutions=w.institutions,
        partner_key=w.partner_key,
        secrets=w.secrets,
    )


@pytest.fixture
async def world_in_progress(world: World, session: AsyncSession) -> World:
    """Family A's world, and school A's accreditation in progress."""
    from tests.factories import make_accreditation, make_accreditation_agency

    school = await session.get(Institution, world.institutions["school"])
    assert school is not None
    agency = await make_accreditation_agency(session)
    acc = await make_accreditation(session, institution=school, agency=agency, outcome="pending")
    await session.commit()
    return World(
        targets={**world.targets, "Accreditation": gid("Accreditation", acc.id)},
        people=world.people,
        institutions=world.institutions,
        partner_key=world.partner_key,
        secrets=world.secrets,
    )


class TestNotYoursAnswersAsUnknown:
    @pytest.mark.parametrize("caller", SIGNED_IN_OUTSIDERS)
    async def test_every_mutation_answers_another_familys_object_as_an_unknown_id(
        self, hub: Hub, world_in_progress: World, engine: AsyncEngine, caller: str
    ) -> None:
        # given family A's objects, and the same inputs naming nothing
        w = world_in_progress
        before = await snapshot(engine, w)
        every = [(n, i, f, b) for n, _, i, f, b in MUTATIONS] + MORE_MUTATIONS

        # when the outsider sends each mutation with family A's ids and with unknown ones
        for name, input_type, field, build in every:
            document = mutation_document(name, input_type, field)
            theirs = await ask(hub, w, caller, document, {"input": build(w)})
            unknown = await ask(hub, w, caller, document, {"input": build(nowhere(w))})

            # then the two answers are the same, word for word: nothing tells them apart
            assert "errors" not in theirs, (name, theirs)
            assert theirs["data"] == unknown["data"], (name, caller, theirs, unknown)
            assert theirs["data"][name]["userErrors"], (name, theirs)
        assert await snapshot(engine, w) == before
