"""Reading another family's child, or anything else out of scope, through every path: `node`,
`nodes`, connections, nested fields and mutation payloads. Every node type is covered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditEntry, Outcome, SecurityEvent
from resolvers.access import Role
from schema.node import NODE_RESOLVERS
from tests.conftest import Hub
from tests.factories import (
    CHUY,
    CHUY_SOKULUK,
    gid,
    make_api_key,
    make_catchment_area,
    make_class_teacher,
    make_enrollment,
    make_family,
    make_institution,
    make_person,
    make_staff_position,
)
from tests.security.conftest import with_key

# Node types anyone may read (public registries and policy), and the ones bound by row rules.
PUBLIC_TYPES = {
    "Region", "District", "Institution", "CatchmentArea",
    "IntakeSeason", "FirstGradeQuota",
    "AdmissionSeason", "AdmissionRound", "Programme", "ForeignProgramme",
    "Licence", "Accreditation", "AccreditationAgency", "InstitutionProgramme",
    "AcademicYear", "Term", "Subject", "Room",
}  # fmt: skip
GUARDED_TYPES = {
    "Person", "Guardianship", "StaffPosition", "Enrollment", "ApiKey", "AuditEntry",
    "SecurityEvent",
}  # fmt: skip
AUDITORS_READ = {"AuditEntry", "SecurityEvent"}
# The workflow domains' guarded types: another family's object through node/nodes is tested in
# tests/security/test_idor_domains.py.
GUARDED_IN_DOMAINS = {
    "KindergartenApplication", "KindergartenOffer", "FirstGradeApplication",
    "AdmissionApplication", "AdmissionOffer", "NationalTestResult", "ForeignApplication",
    "LicenceApplication", "WebhookSubscription", "WebhookDelivery",
}  # fmt: skip
# The library's and learning content's: public catalogue and course pages; draft lessons, course
# enrollments and certificates read through their row rules (their loaders' ``rule``). Their
# workflows' tests cover who may act on them; a node/nodes test per guarded type, as
# test_idor_domains.py has, is still to write.
PUBLIC_IN_CONTENT = {
    "BibRecord", "LibraryItem", "CurriculumUnit", "OpenCourse", "CourseRun",
}  # fmt: skip
GUARDED_IN_CONTENT = {
    "Lesson", "CourseEnrollment", "CourseCertificate",
}  # fmt: skip
# The library's guarded types: loans and holds (the borrower, their guardian, the library's
# staff) and digital files with access rules; a stranger's node/nodes is tested in
# tests/library/test_library_access.py.
GUARDED_IN_LIBRARY = {"Loan", "Hold", "BibFile"}
# The school LMS's guarded types: another family's (or school's) objects are tested in
# tests/lms/test_lms_access.py.
GUARDED_IN_LMS = {
    "ClassGroup", "TimetableSlot", "ClassLesson", "Homework", "HomeworkSubmission", "ConcernReport",
}  # fmt: skip

# Kindergarten vouchers (K8): read by the family and its district's (region's) officers; another
# family, another district's officer and a kindergarten are tested through node, nodes and the
# list in tests/preschool/test_vouchers.py (TestReadingVouchers).
GUARDED_IN_VOUCHERS = {"KindergartenVoucher"}

NODE = "query($id: ID!) { node(id: $id) { id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
PERSONS = "{ persons(first: 100) { nodes { id } } }"
ENROLLMENTS = "{ enrollments(first: 100) { nodes { id person { id } } } }"
SCHOOL_PUPILS = """query($id: ID!) { node(id: $id) { ... on Institution {
  enrollments(first: 100) { nodes { id person { id } } }
  staff(first: 100) { nodes { id person { id } } } } } }"""
CHILD_VIA_GUARDIANSHIP = """query($id: ID!) { node(id: $id) { ... on Person {
  children { child { id } } guardians { guardian { id } } enrollments(first: 10) { nodes { id } } } } }"""
WITHDRAW = """mutation($id: ID!) { withdrawStudent(input: { enrollmentId: $id, date: "2026-01-10" }) {
  enrollment { id person { id firstName } } userErrors { code } } }"""
REISSUE = """mutation($id: ID!) { reissuePin(input: { personId: $id, newPin: "21705201699999" }) {
  person { id pin } userErrors { code } } }"""


@dataclass
class World:
    school: int
    other_school: int
    mother: int
    child: int
    other_mother: int
    other_child: int
    enrollment: int
    other_enrollment: int
    guardianship: int
    other_guardianship: int
    teacher_post: int
    other_staff_post: int
    catchment: int
    audit: int
    api_key: int
    security_event: int


@pytest.fixture
async def world(session: AsyncSession, pepper: bytes) -> World:
    school = await make_institution(session)
    other = await make_institution(session, region_id=CHUY, district_id=CHUY_SOKULUK)
    mother, (child,) = await make_family(session)
    other_mother, (other_child,) = await make_family(session)
    enrollment = await make_enrollment(session, person=child, institution=school)
    other_enrollment = await make_enrollment(session, person=other_child, institution=other)
    teacher = await make_person(session, birth_date=date(1990, 1, 1))
    post = await make_staff_position(session, person=teacher, institution=school)
    colleague = await make_person(session, birth_date=date(1991, 1, 1))
    other_post = await make_staff_position(session, person=colleague, institution=other)
    area = await make_catchment_area(session, institution=school)
    entry = AuditEntry(actor="x", role="ministry", operation="people.x", outcome=Outcome.SUCCEEDED)
    session.add(entry)
    event = SecurityEvent(
        minute=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        source="ip:203.0.113.7",
        role="anonymous",
        reason="UNAUTHENTICATED",
        why="anonymous_write",
        action="mutation registerPerson",
        count=1,
    )
    session.add(event)
    key, _ = await make_api_key(session, pepper=pepper, allowed_fields=["Query.persons"])
    await session.flush()
    from sqlalchemy import select

    from models import Guardianship

    links = {g.child_id: g.id for g in (await session.scalars(select(Guardianship))).all()}
    await session.commit()
    return World(
        school=school.id,
        other_school=other.id,
        mother=mother.id,
        child=child.id,
        other_mother=other_mother.id,
        other_child=other_child.id,
        enrollment=enrollment.id,
        other_enrollment=other_enrollment.id,
        guardianship=links[child.id],
        other_guardianship=links[other_child.id],
        teacher_post=post.id,
        other_staff_post=other_post.id,
        catchment=area.id,
        audit=entry.id,
        api_key=key.id,
        security_event=event.id,
    )


def out_of_reach(w: World) -> dict[str, str]:
    """One object of every guarded node type that a guardian of the first family may not
    read."""
    return {
        "Person": gid("Person", w.other_child),
        "Guardianship": gid("Guardianship", w.other_guardianship),
        "StaffPosition": gid("StaffPosition", w.other_staff_post),
        "Enrollment": gid("Enrollment", w.other_enrollment),
        "ApiKey": gid("ApiKey", w.api_key),
        "AuditEntry": gid("AuditEntry", w.audit),
        "SecurityEvent": gid("SecurityEvent", w.security_event),
    }


def test_every_node_type_is_public_or_guarded() -> None:
    assert set(NODE_RESOLVERS) == (
        PUBLIC_TYPES
        | GUARDED_TYPES
        | GUARDED_IN_DOMAINS
        | PUBLIC_IN_CONTENT
        | GUARDED_IN_CONTENT
        | GUARDED_IN_LIBRARY
        | GUARDED_IN_LMS
        | GUARDED_IN_VOUCHERS
    )


class TestAnotherFamilysChild:
    async def test_by_node_and_nodes_every_guarded_type_is_null(
        self, hub: Hub, world: World
    ) -> None:
        # given the first family's mother
        token = hub.token(Role.GUARDIAN, person_id=world.mother)
        targets = out_of_reach(world)
        assert set(targets) == GUARDED_TYPES

        # when
        by_node = {
            t: (await hub.data(NODE, {"id": i}, token=token))["node"] for t, i in targets.items()
        }
        by_nodes = (await hub.data(NODES, {"ids": list(targets.values())}, token=token))["nodes"]

        # then
        assert by_node == dict.fromkeys(targets)
        assert by_nodes == [None] * len(targets)

    async def test_own_child_is_readable_by_the_same_paths(self, hub: Hub, world: World) -> None:
        token = hub.token(Role.GUARDIAN, person_id=world.mother)
        mine = [
            gid("Person", world.child),
            gid("Enrollment", world.enrollment),
            gid("Guardianship", world.guardianship),
        ]
        assert None not in (await hub.data(NODES, {"ids": mine}, token=token))["nodes"]

    async def test_connections_and_nested_fields_hide_them(self, hub: Hub, world: World) -> None:
        # given
        token = hub.token(Role.GUARDIAN, person_id=world.mother)

        # when
        persons = (await hub.data(PERSONS, token=token))["persons"]["nodes"]
        enrollments = (await hub.data(ENROLLMENTS, token=token))["enrollments"]["nodes"]
        school = (
            await hub.data(
                SCHOOL_PUPILS, {"id": gid("Institution", world.other_school)}, token=token
            )
        )["node"]
        other_mother = (
            await hub.data(
                CHILD_VIA_GUARDIANSHIP, {"id": gid("Person", world.other_mother)}, token=token
            )
        )["node"]

        # then
        assert {p["id"] for p in persons} == {
            gid("Person", world.mother),
            gid("Person", world.child),
        }
        assert [e["id"] for e in enrollments] == [gid("Enrollment", world.enrollment)]
        assert school == {"enrollments": {"nodes": []}, "staff": {"nodes": []}}
        assert other_mother is None

    async def test_mutation_payloads_do_not_return_them(self, hub: Hub, world: World) -> None:
        # given
        token = hub.token(Role.GUARDIAN, person_id=world.mother)

        # when
        withdraw = (
            await hub.data(WITHDRAW, {"id": gid("Enrollment", world.other_enrollment)}, token=token)
        )["withdrawStudent"]
        reissue = (await hub.data(REISSUE, {"id": gid("Person", world.other_child)}, token=token))[
            "reissuePin"
        ]

        # then
        assert withdraw["enrollment"] is None
        assert withdraw["userErrors"]
        assert reissue["person"] is None
        assert reissue["userErrors"]

    @pytest.mark.parametrize(
        "role",
        [
            Role.ANONYMOUS,
            Role.PUPIL,
            Role.SCHOOL_ADMIN,
            Role.DISTRICT_OFFICER,
            Role.REGION_OFFICER,
            Role.TEACHER,
            Role.AUDITOR,
        ],
    )
    async def test_no_other_role_out_of_scope_reads_them(
        self, hub: Hub, world: World, role: Role
    ) -> None:
        # given a caller of each role scoped to the first (Bishkek) school
        scopes = {
            Role.SCHOOL_ADMIN: [f"institution:{world.school}"],
            Role.TEACHER: [f"institution:{world.school}"],
            Role.DISTRICT_OFFICER: ["district:50"],
            Role.REGION_OFFICER: ["region:8"],
        }
        token = (
            None
            if role == Role.ANONYMOUS
            else hub.token(role, scopes=scopes.get(role), person_id=world.mother)
        )
        targets = {
            t: i
            for t, i in out_of_reach(world).items()
            if not (role == Role.AUDITOR and t in AUDITORS_READ)
        }

        # when
        found = (await hub.data(NODES, {"ids": list(targets.values())}, token=token))["nodes"]

        # then
        assert found == [None] * len(targets)


class TestTeacherReadsTheirClasses:
    async def test_teacher_reads_pupils_of_their_classes_only(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a school with pupils in 3А and 3Б, and a teacher of 3А
        school = await make_institution(session)
        mine = await make_person(session)
        theirs = await make_person(session)
        left = await make_person(session)
        await make_enrollment(session, person=mine, institution=school, class_group="3А")
        await make_enrollment(session, person=theirs, institution=school, class_group="3Б")
        await make_enrollment(
            session, person=left, institution=school, class_group="3А", exit_date=date(2026, 1, 10)
        )
        teacher = await make_person(session, birth_date=date(1990, 1, 1))
        await make_class_teacher(session, school=school, teacher=teacher, class_name="3А")
        await session.commit()
        token = hub.token(Role.TEACHER, scopes=[f"institution:{school.id}"], person_id=teacher.id)

        # when
        persons = (await hub.data(PERSONS, token=token))["persons"]["nodes"]
        enrollments = (await hub.data(ENROLLMENTS, token=token))["enrollments"]["nodes"]
        by_nodes = (
            await hub.data(
                NODES, {"ids": [gid("Person", p.id) for p in (mine, theirs, left)]}, token=token
            )
        )["nodes"]

        # then: their pupil and themself; not the other class, not a pupil who left
        assert {p["id"] for p in persons} == {gid("Person", mine.id), gid("Person", teacher.id)}
        assert [e["person"]["id"] for e in enrollments] == [gid("Person", mine.id)]
        assert by_nodes == [{"id": gid("Person", mine.id)}, None, None]

    async def test_teacher_token_must_name_the_person(self, hub: Hub) -> None:
        import jwt

        token = hub.token(Role.TEACHER, scopes=["institution:1"], person_id=1)
        claims = jwt.decode(token, options={"verify_signature": False})
        del claims["pid"]
        unsigned = jwt.encode(
            claims,
            hub.keyring.keys[hub.keyring.active],
            algorithm="HS256",
            headers={"kid": hub.keyring.active},
        )
        assert (await hub.post("{ viewer { role } }", token=unsigned)).status_code == 401


# --- "not yours" answers as "unknown" (issue 22.7) --------------------------------------------

NOBODY = 2**31 - 11

# Mutations on the registry's people and enrollments, each with the input naming the second
# family's child (or their enrollment) through ``target`` (a global ID).
REGISTRY_MUTATIONS: list[tuple[str, str, str, Any]] = [
    (
        "withdrawStudent",
        "WithdrawStudentInput",
        "enrollment",
        lambda w, target: {
            "enrollmentId": target("Enrollment", w.other_enrollment),
            "date": "2026-01-10",
        },
    ),
    (
        "transferStudent",
        "TransferStudentInput",
        "enrollment",
        lambda w, target: {
            "enrollmentId": target("Enrollment", w.other_enrollment),
            "toInstitutionId": gid("Institution", w.school),
            "date": "2026-01-10",
        },
    ),
    (
        "reissuePin",
        "ReissuePinInput",
        "person",
        lambda w, target: {"personId": target("Person", w.other_child), "newPin": "21705201699999"},
    ),
    (
        "linkGuardian",
        "LinkGuardianInput",
        "guardianship",
        lambda w, target: {
            "guardianId": gid("Person", w.mother),
            "childId": target("Person", w.other_child),
            "kind": "MOTHER",
        },
    ),
    (
        "linkGuardian",
        "LinkGuardianInput",
        "guardianship",
        lambda w, target: {
            "guardianId": target("Person", w.other_mother),
            "childId": gid("Person", w.child),
            "kind": "FATHER",
        },
    ),
    (
        "enrollStudent",
        "EnrollStudentInput",
        "enrollment",
        lambda w, target: {
            "personId": target("Person", w.other_child),
            "institutionId": gid("Institution", w.school),
            "entryDate": "2026-01-10",
            "gradeLevel": 3,
        },
    ),
    (
        "appointStaff",
        "AppointStaffInput",
        "staffPosition",
        lambda w, target: {
            "personId": target("Person", w.other_mother),
            "institutionId": gid("Institution", w.school),
            "role": "TEACHER",
            "startDate": "2026-01-10",
        },
    ),
]


def registry_mutation(name: str, input_type: str, field: str) -> str:
    return (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ "
        f"{field} {{ id }} userErrors {{ field code message }} }} }}"
    )


class TestNotYoursAnswersAsUnknown:
    @pytest.mark.parametrize(
        "role",
        [
            Role.GUARDIAN,
            Role.PUPIL,
            Role.TEACHER,
            Role.SCHOOL_ADMIN,
            Role.DISTRICT_OFFICER,
            Role.REGION_OFFICER,
            Role.AUDITOR,
        ],
    )
    async def test_registry_mutations_answer_the_other_familys_child_as_an_unknown_id(
        self, hub: Hub, world: World, role: Role
    ) -> None:
        # given a caller of the first family's school, district or region (or the first
        # mother, or her child), who may not read the second family
        scopes = {
            Role.SCHOOL_ADMIN: [f"institution:{world.school}"],
            Role.TEACHER: [f"institution:{world.school}"],
            Role.DISTRICT_OFFICER: ["district:50"],
            Role.REGION_OFFICER: ["region:8"],
        }
        person = {Role.PUPIL: world.child}.get(role, world.mother)
        token = hub.token(role, scopes=scopes.get(role), person_id=person)

        def theirs(type_name: str, pk: int) -> str:
            return gid(type_name, pk)

        def unknown(type_name: str, pk: int) -> str:
            return gid(type_name, NOBODY)

        for name, input_type, field, build in REGISTRY_MUTATIONS:
            document = registry_mutation(name, input_type, field)

            # when it names the second family's child, and an id nobody has
            given = await hub.gql(document, {"input": build(world, theirs)}, token=token)
            nothing = await hub.gql(document, {"input": build(world, unknown)}, token=token)

            # then the answers are the same, word for word
            assert "errors" not in given, (name, given)
            assert given["data"] == nothing["data"], (name, role, given, nothing)
            assert given["data"][name]["userErrors"], (name, given)


# --- partners' webhook objects (events) -----------------------------------------------------

PARTNER_FIELDS = [
    "Query.node",
    "Query.nodes",
    "WebhookSubscription.*",
    "WebhookDelivery.*",
    "Institution.id",
]


async def partner_with_delivery(session: AsyncSession, pepper: bytes) -> tuple[str, dict[str, str]]:
    """A partner's key with one endpoint and one delivery to it (global IDs by type)."""
    from models import DeliveryStatus, EndpointStatus, WebhookDelivery, WebhookEndpoint

    key, secret = await make_api_key(session, pepper=pepper, allowed_fields=PARTNER_FIELDS)
    endpoint = WebhookEndpoint(
        api_key_id=key.id,
        url="https://partner.example/hook",
        event_types=["institutions.*"],
        secret="whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        status=EndpointStatus.ACTIVE,
        created_by=f"key:{key.prefix}",
    )
    session.add(endpoint)
    await session.flush()
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        event_id=1,
        event_type="institutions.institution_updated",
        body="{}",
        status=DeliveryStatus.DELIVERED,
    )
    session.add(delivery)
    await session.flush()
    return secret, {
        "WebhookSubscription": gid("WebhookSubscription", endpoint.id),
        "WebhookDelivery": gid("WebhookDelivery", delivery.id),
    }


async def by_key(hub: Hub, key: str, query: str, variables: dict[str, Any]) -> Any:
    """``node`` or ``nodes`` as a partner's key reads it."""
    body = (await with_key(hub, key, query, variables)).json()
    assert "errors" not in body, body
    return body["data"]["node" if "node(" in query else "nodes"]


class TestPartnersWebhookObjects:
    """A partner's endpoints and deliveries are read by its own key and the ministry only
    (resolvers/events/rules.py), by node and nodes alike; the other partner's, a family's or
    an officer's caller finds them as if they did not exist."""

    async def test_each_partner_reads_its_own_and_not_the_others(
        self, hub: Hub, session: AsyncSession, pepper: bytes
    ) -> None:
        # given two partners, each with an endpoint and a delivery
        key_a, mine_a = await partner_with_delivery(session, pepper)
        key_b, mine_b = await partner_with_delivery(session, pepper)
        await session.commit()
        for key, mine, theirs in ((key_a, mine_a, mine_b), (key_b, mine_b, mine_a)):
            # when the partner asks for its own and the other's by node and nodes
            own = [await by_key(hub, key, NODE, {"id": i}) for i in mine.values()]
            other = [await by_key(hub, key, NODE, {"id": i}) for i in theirs.values()]
            both = await by_key(hub, key, NODES, {"ids": [*mine.values(), *theirs.values()]})
            # then its own are there and the other's are null
            assert own == [{"id": i} for i in mine.values()]
            assert other == [None, None]
            assert both == [*({"id": i} for i in mine.values()), None, None]

    @pytest.mark.parametrize(
        "role",
        [
            Role.ANONYMOUS,
            Role.GUARDIAN,
            Role.PUPIL,
            Role.TEACHER,
            Role.SCHOOL_ADMIN,
            Role.DISTRICT_OFFICER,
            Role.REGION_OFFICER,
            Role.AUDITOR,
        ],
    )
    async def test_no_person_but_the_ministry_reads_them(
        self, hub: Hub, session: AsyncSession, pepper: bytes, role: Role
    ) -> None:
        # given a partner's endpoint and delivery
        _, objects = await partner_with_delivery(session, pepper)
        person = await make_person(session, birth_date=date(1980, 1, 1))
        await session.commit()
        scopes = {
            Role.SCHOOL_ADMIN: ["institution:1"],
            Role.TEACHER: ["institution:1"],
            Role.DISTRICT_OFFICER: ["district:50"],
            Role.REGION_OFFICER: ["region:8"],
        }
        token = (
            None
            if role == Role.ANONYMOUS
            else hub.token(role, scopes=scopes.get(role), person_id=person.id)
        )
        ids = list(objects.values())
        # when a caller of that role asks for them
        by_node = [(await hub.data(NODE, {"id": i}, token=token))["node"] for i in ids]
        by_nodes = (await hub.data(NODES, {"ids": ids}, token=token))["nodes"]
        # then nothing, as for an unknown ID; and the ministry reads both
        assert by_node == [None, None]
        assert by_nodes == [None, None]
        ministry = (await hub.data(NODES, {"ids": ids}, token=hub.token(Role.MINISTRY)))["nodes"]
        assert ministry == [{"id": i} for i in ids]
