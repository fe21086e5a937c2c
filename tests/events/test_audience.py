"""The live feed's router (schema/events/audience.py) decides in memory which guardians and
applicants may see an application or a pupil's diary, from what it read once for every
subscriber: the answer must be the SQL row rules' own, case by case (a current guardian, one
whose guardianship ended, a stranger, the child, the applicant), and reading a batch costs a
fixed number of statements whatever its size."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import (
    FirstGradeApplication,
    ForeignApplication,
    ForeignApplicationStatus,
    ForeignStage,
    IntakeKind,
    KindergartenApplication,
    Person,
    database,
)
from resolvers.abroad.rules import foreign_application_readable
from resolvers.access import KeyRing, Principal, Role
from resolvers.first_grade.rules import application_readable as first_grade_readable
from resolvers.people.rules import person_readable
from resolvers.preschool.rules import application_readable as kindergarten_readable
from resolvers.settings import Settings
from schema.events.audience import Audience
from tests.factories import (
    make_first_grade_application,
    make_foreign_programme,
    make_guardianship,
    make_intake_season,
    make_kindergarten_application,
    make_person,
)
from tests.preschool.helpers import add_child, arrange_queue, born_for_group


async def family(session: AsyncSession) -> dict[str, Any]:
    """A child with their mother (current), a father whose guardianship ended, a stranger
    guardian; the child's kindergarten and first-grade applications; a young applicant
    abroad with her own mother."""
    queue = await arrange_queue(session, kindergartens=1)
    child = await add_child(session, queue, born=born_for_group(queue.season, 3))
    father = await make_person(session, birth_date=date(1987, 2, 3), first_name="Азамат")
    ended = await make_guardianship(session, guardian=father, child=child)
    ended.valid_from, ended.valid_to = date(2024, 1, 1), date(2025, 1, 1)
    stranger = await make_person(session, birth_date=date(1985, 4, 5), first_name="Айгуль")
    ka = await make_kindergarten_application(
        session,
        child=child,
        guardian=queue.mother,
        kindergartens=[queue.kindergartens[0]],
        season=queue.season,
    )
    fg_season = await make_intake_season(session, kind=IntakeKind.FIRST_GRADE)
    fga = await make_first_grade_application(
        session, child=child, guardian=queue.mother, school=queue.school, season=fg_season
    )
    applicant = await make_person(session, birth_date=date(2007, 6, 7), first_name="Нурай")
    her_mother = await make_person(session, birth_date=date(1980, 8, 9), first_name="Жылдыз")
    await make_guardianship(session, guardian=her_mother, child=applicant)
    programme = await make_foreign_programme(session)
    fa = ForeignApplication(
        programme_id=programme.id,
        person_id=applicant.id,
        field_of_study="medicine",
        school_average=Decimal("4.50"),
        stage=ForeignStage.DOCUMENT_CHECK,
        status=ForeignApplicationStatus.IN_PROGRESS,
    )
    session.add(fa)
    await session.flush()
    await session.commit()
    people = {
        "mother": queue.mother,
        "father (ended)": father,
        "stranger": stranger,
        "child": child,
        "applicant": applicant,
        "applicant's mother": her_mother,
    }
    return {"people": people, "ka": ka.id, "fga": fga.id, "fa": fa.id, "child": child.id}


class TestAudience:
    async def test_guardians_and_applicants_are_decided_as_the_row_rules_decide(
        self, engine: AsyncEngine, session: AsyncSession, settings: Settings
    ) -> None:
        # given a family, an ended guardianship, a stranger and an applicant abroad
        found = await family(session)
        rules: dict[tuple[str, int], Any] = {
            ("KindergartenApplication", found["ka"]): (
                KindergartenApplication,
                kindergarten_readable,
            ),
            ("FirstGradeApplication", found["fga"]): (FirstGradeApplication, first_grade_readable),
            ("ForeignApplication", found["fa"]): (ForeignApplication, foreign_application_readable),
            ("Person", found["child"]): (Person, person_readable),
            ("Person", found["people"]["applicant"].id): (Person, person_readable),
        }
        # when the router reads the batch once
        audience = Audience(database.session_factory(engine), KeyRing.load(settings).cursors)
        views = await audience._read(set(rules))
        # then for every guardian and pupil, its answer is the SQL rule's
        for who, person in found["people"].items():
            for role in (Role.GUARDIAN, Role.PUPIL):
                principal = Principal(subject=f"t:{who}", role=role, person_id=person.id)
                for key, (model, rule) in rules.items():
                    sql = await session.scalar(
                        select(model.id).where(model.id == key[1], rule(principal))
                    )
                    assert views[key].readable_by(principal) == (sql is not None), (
                        who,
                        role,
                        key,
                    )

    async def test_officers_are_left_to_their_row_rule(
        self, engine: AsyncEngine, session: AsyncSession, settings: Settings
    ) -> None:
        # given a family's kindergarten application
        found = await family(session)
        audience = Audience(database.session_factory(engine), KeyRing.load(settings).cursors)
        views = await audience._read({("KindergartenApplication", found["ka"])})
        # then the router does not decide for an officer (they read through their SQL rule)
        officer = Principal(subject="t:o", role=Role.DISTRICT_OFFICER, district_ids=frozenset())
        assert views[("KindergartenApplication", found["ka"])].readable_by(officer) is None

    async def test_a_batch_costs_a_statement_per_type_and_one_for_the_guardians(
        self, engine: AsyncEngine, session: AsyncSession, settings: Settings
    ) -> None:
        # given two families' applications of two kinds
        first = await family(session)
        second = await family(session)
        wanted = {
            ("KindergartenApplication", first["ka"]),
            ("KindergartenApplication", second["ka"]),
            ("FirstGradeApplication", first["fga"]),
            ("FirstGradeApplication", second["fga"]),
        }
        audience = Audience(database.session_factory(engine), KeyRing.load(settings).cursors)
        counter = database.StatementCounter()
        counter.reset()
        counter.attach(engine)
        # when the router reads them
        try:
            views = await audience._read(wanted)
        finally:
            counter.detach(engine)
        # then one statement per node type and one for the guardianships, whatever the count
        assert len(views) == 4
        selects = [s for s in counter.statements or [] if s.lstrip().upper().startswith("SELECT")]
        assert len(selects) == 3, counter.statements
