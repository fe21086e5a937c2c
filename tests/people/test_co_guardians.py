"""What a guardian sees of the child's other guardian (issue 22.8): nothing. Separated parents
share a child; the father applied for the kindergarten queue and for first grade, giving his
phone and address. The mother reads her child, her own link to the child, and the applications
for the child, but not the father (his name, PIN, birth date, address), not the link that ties
him to the child (its kind and dates tell of custody), and not the contacts he gave. The child
reads no link to either parent. The staff who handle the family read both, in scope."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models import GuardianKind, IntakeKind, Sex
from resolvers.access import Role
from resolvers.settings import Settings
from tests.conftest import Hub, running_hub
from tests.factories import (
    gid,
    make_enrollment,
    make_first_grade_application,
    make_guardianship,
    make_intake_season,
    make_kindergarten_application,
    make_person,
)
from tests.preschool.helpers import arrange_queue, born_for_group

LINK = "query($id: ID!) { node(id: $id) { id ... on Guardianship { kind validFrom } } }"
PERSON = "query($id: ID!) { node(id: $id) { id ... on Person { lastName pin } } }"
FAMILY = """query($id: ID!) { node(id: $id) { ... on Person {
  guardians { id kind guardian { id lastName } }
  children { id kind child { id } }
} } }"""
KINDERGARTEN_APPLICATIONS = """{ kindergartenApplications(first: 10) { nodes {
  id contactPhone guardian { id lastName pin registeredAddress } child { id }
} } }"""
FIRST_GRADE_APPLICATIONS = """{ firstGradeApplications(first: 10) { nodes {
  id address guardian { id lastName pin registeredAddress } child { id }
} } }"""

PHONE, ADDRESS = "+996 700 111 222", "ул. Ахунбаева 98, кв. 12"


@dataclass
class Family:
    mother: int
    father: int
    toddler: int
    six: int
    mothers_link: str
    fathers_link: str
    kindergarten: int
    school: int


@pytest.fixture
async def family(session: AsyncSession) -> Family:
    # given separated parents of two children; the father applied for both, with his contacts
    queue = await arrange_queue(session, kindergartens=1)
    mother = queue.mother
    father = await make_person(
        session,
        last_name="Бекмуратов",
        sex=Sex.MALE,
        birth_date=date(1986, 4, 4),
        registered_address="ул. Ахунбаева 98, кв. 12",
    )
    toddler = await make_person(session, birth_date=born_for_group(queue.season, 3))
    mothers = await make_guardianship(session, guardian=mother, child=toddler)
    fathers = await make_guardianship(
        session, guardian=father, child=toddler, kind=GuardianKind.FATHER
    )
    six_season = await make_intake_season(session, kind=IntakeKind.FIRST_GRADE)
    six = await make_person(session, birth_date=date(six_season.year - 7, 3, 1))
    await make_guardianship(session, guardian=mother, child=six)
    await make_guardianship(session, guardian=father, child=six, kind=GuardianKind.FATHER)
    await make_enrollment(session, person=six, institution=queue.school, grade_level=1)
    kg = await make_kindergarten_application(
        session,
        child=toddler,
        guardian=father,
        kindergartens=queue.kindergartens,
        season=queue.season,
    )
    kg.contact_phone = PHONE
    fg = await make_first_grade_application(
        session, child=six, guardian=father, school=queue.school, season=six_season
    )
    fg.address = ADDRESS
    await session.commit()
    return Family(
        mother=mother.id,
        father=father.id,
        toddler=toddler.id,
        six=six.id,
        mothers_link=gid("Guardianship", mothers.id),
        fathers_link=gid("Guardianship", fathers.id),
        kindergarten=queue.kindergartens[0].id,
        school=queue.school.id,
    )


@pytest.fixture(params=["compiled path", "resolvers"])
async def hub(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Hub]:
    """Both paths: the compiled path answers `guardians` and `children` itself."""
    compiled = request.param == "compiled path"
    async with running_hub(settings.model_copy(update={"compiled_queries": compiled})) as hub:
        yield hub


class TestAGuardianSeesNothingOfTheOtherGuardian:
    async def test_not_the_link_that_ties_him_to_the_child(self, hub: Hub, family: Family) -> None:
        # given the mother
        token = hub.token(Role.GUARDIAN, person_id=family.mother)

        # when she reads both links to the child by id, and the child's guardians
        own = (await hub.data(LINK, {"id": family.mothers_link}, token=token))["node"]
        his = (await hub.data(LINK, {"id": family.fathers_link}, token=token))["node"]
        child = await hub.data(FAMILY, {"id": gid("Person", family.toddler)}, token=token)

        # then she reads her own link only
        assert own == {"id": family.mothers_link, "kind": "MOTHER", "validFrom": own["validFrom"]}
        assert his is None
        guardians = child["node"]["guardians"]
        assert [(g["id"], g["kind"], g["guardian"]["id"]) for g in guardians] == [
            (family.mothers_link, "MOTHER", gid("Person", family.mother))
        ]

    async def test_not_him_nor_what_he_gave_on_the_applications(
        self, hub: Hub, family: Family
    ) -> None:
        # given the mother
        token = hub.token(Role.GUARDIAN, person_id=family.mother)

        # when she reads him, and the applications he made for their children
        him = (await hub.data(PERSON, {"id": gid("Person", family.father)}, token=token))["node"]
        kg = (await hub.data(KINDERGARTEN_APPLICATIONS, token=token))["kindergartenApplications"]
        fg = (await hub.data(FIRST_GRADE_APPLICATIONS, token=token))["firstGradeApplications"]

        # then she reads the applications for her children, without him or his contacts
        assert him is None
        assert [a["child"]["id"] for a in kg["nodes"]] == [gid("Person", family.toddler)]
        assert [(a["guardian"], a["contactPhone"]) for a in kg["nodes"]] == [(None, None)]
        assert [a["child"]["id"] for a in fg["nodes"]] == [gid("Person", family.six)]
        assert [(a["guardian"], a["address"]) for a in fg["nodes"]] == [(None, None)]

    async def test_he_reads_his_own_applications_whole(self, hub: Hub, family: Family) -> None:
        # given the father
        token = hub.token(Role.GUARDIAN, person_id=family.father)

        # when he reads the applications he made
        kg = (await hub.data(KINDERGARTEN_APPLICATIONS, token=token))["kindergartenApplications"]
        fg = (await hub.data(FIRST_GRADE_APPLICATIONS, token=token))["firstGradeApplications"]

        # then he reads himself and what he gave
        (kg_app,) = kg["nodes"]
        (fg_app,) = fg["nodes"]
        assert kg_app["contactPhone"] == PHONE
        assert kg_app["guardian"]["id"] == gid("Person", family.father)
        assert fg_app["address"] == ADDRESS
        assert fg_app["guardian"]["pin"] is not None


class TestTheChildReadsNoLinkToTheirGuardians:
    async def test_a_pupil_reads_neither_parents_link(self, hub: Hub, family: Family) -> None:
        # given the younger child as a pupil
        token = hub.token(Role.PUPIL, person_id=family.toddler)

        # when the child reads the links and their own guardians
        links = [
            (await hub.data(LINK, {"id": link}, token=token))["node"]
            for link in (family.mothers_link, family.fathers_link)
        ]
        me = (await hub.data(FAMILY, {"id": gid("Person", family.toddler)}, token=token))["node"]

        # then nothing of either parent
        assert links == [None, None]
        assert me["guardians"] == []


class TestStaffReadTheFamily:
    async def test_the_ministry_reads_both_links_and_both_parents(
        self, hub: Hub, family: Family
    ) -> None:
        token = hub.token(Role.MINISTRY)
        child = await hub.data(FAMILY, {"id": gid("Person", family.toddler)}, token=token)
        links = [
            (await hub.data(LINK, {"id": i}, token=token))["node"]
            for i in (family.mothers_link, family.fathers_link)
        ]
        assert {g["kind"] for g in child["node"]["guardians"]} == {"MOTHER", "FATHER"}
        assert None not in links

    async def test_the_kindergarten_reads_who_applied_and_his_phone(
        self, hub: Hub, family: Family
    ) -> None:
        # given the administrator of the kindergarten the father applied to
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{family.kindergarten}"])

        # when they read the queue's applications
        kg = (await hub.data(KINDERGARTEN_APPLICATIONS, token=token))["kindergartenApplications"]

        # then they read the father who applied, and how to reach him
        (application,) = kg["nodes"]
        assert application["guardian"]["id"] == gid("Person", family.father)
        assert application["contactPhone"] == PHONE

    async def test_the_school_reads_the_address_the_stage_counts(
        self, hub: Hub, family: Family
    ) -> None:
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{family.school}"])
        fg = (await hub.data(FIRST_GRADE_APPLICATIONS, token=token))["firstGradeApplications"]
        (application,) = fg["nodes"]
        assert application["address"] == ADDRESS
        assert application["guardian"]["id"] == gid("Person", family.father)
