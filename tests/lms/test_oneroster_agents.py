"""OneRoster 1.2 agents (issue 15): a pupil's guardians are users of the rostering service
(role ``parent`` for a mother or father, ``guardian`` otherwise, at their child's school),
named in the pupil's ``agents``; ``/users/{id}/agents`` lists a user's guardians and
``/users/{id}/agentFor`` the pupils a guardian is one of. Guardianships are personal data: only
a key granted personal data and the graph's ``Person.guardians`` reads them, and the read
leaves the personal-read audit row. The kept roster follows every guardianship change at once
(migration 0039)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import AuditEntry, GuardianKind, Guardianship
from resolvers.clock import today
from tests.conftest import Hub
from tests.factories import gid, make_guardianship, make_person
from tests.lms.arrange import arrange_school
from tests.lms.oneroster_schema import STATUS_INFO, collection_schema, object_schema
from tests.lms.test_oneroster import ROSTER, get, partner, valid
from tests.lms.test_oneroster_kept import assert_kept


class TestAgents:
    async def test_a_pupils_guardian_is_a_parent_user_named_in_the_pupils_agents(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a school whose first pupil has a mother, and a partner with personal data
        s = await arrange_school(session)
        headers = await partner(hub, session)
        pupil, mother = gid("Person", s.pupils[0].id), gid("Person", s.guardian.id)
        # when it reads the pupil, the pupil's agents and the mother's agentFor
        user = await get(hub, f"{ROSTER}/users/{pupil}", headers)
        agents = await get(hub, f"{ROSTER}/users/{pupil}/agents", headers)
        agent_for = await get(hub, f"{ROSTER}/users/{mother}/agentFor", headers)
        # then the pupil names the mother, who is a user with the role parent at the school
        assert user.status_code == 200, user.text
        valid(user.json(), object_schema("users"))
        assert [a["sourcedId"] for a in user.json()["user"]["agents"]] == [mother]
        assert agents.status_code == 200, agents.text
        (found,) = agents.json()["agents"]
        valid({"users": agents.json()["agents"]}, collection_schema("users"))
        assert found["sourcedId"] == mother
        assert found["roles"] == [
            {
                "roleType": "primary",
                "role": "parent",
                "org": {
                    "href": f"http://hub/ims/oneroster/rostering/v1p2/orgs/{s.id}",
                    "sourcedId": s.id,
                    "type": "org",
                },
            }
        ]
        assert agents.headers["X-Total-Count"] == "1"
        assert agent_for.status_code == 200, agent_for.text
        valid(agent_for.json(), collection_schema("users"))
        assert [u["sourcedId"] for u in agent_for.json()["users"]] == [pupil]
        # and the guardian is among /users by role, pupils have no agents of their own
        parents = await get(hub, f"{ROSTER}/users", headers, filter="role='parent'")
        assert [u["sourcedId"] for u in parents.json()["users"]] == [mother]
        other = await get(hub, f"{ROSTER}/users/{gid('Person', s.pupils[1].id)}", headers)
        assert other.json()["user"]["agents"] == []

    async def test_a_legal_guardian_is_a_guardian_and_an_ended_tie_leaves_at_once(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a second pupil's legal guardian
        s = await arrange_school(session)
        headers = await partner(hub, session)
        aunt = await make_person(session, birth_date=date(1980, 3, 3), first_name="Динара")
        tie = await make_guardianship(
            session, guardian=aunt, child=s.pupils[1], kind=GuardianKind.LEGAL_GUARDIAN
        )
        await assert_kept(session)
        pupil = gid("Person", s.pupils[1].id)
        (found,) = (await get(hub, f"{ROSTER}/users/{pupil}/agents", headers)).json()["agents"]
        assert found["roles"][0]["role"] == "guardian"
        # when the guardianship ends
        await session.execute(
            update(Guardianship).where(Guardianship.id == tie.id).values(valid_to=today())
        )
        await assert_kept(session)
        # then the pupil has no agents and the aunt is no user any more
        assert (await get(hub, f"{ROSTER}/users/{pupil}/agents", headers)).json()["agents"] == []
        gone = await get(hub, f"{ROSTER}/users/{gid('Person', aunt.id)}", headers)
        assert gone.status_code == 404

    async def test_a_key_without_personal_data_is_refused_agents(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a key with the roster scope but no personal data, and one without guardianships
        s = await arrange_school(session)
        pupil = gid("Person", s.pupils[0].id)
        plain = await partner(hub, session, personal=False)
        names_only = await partner(
            hub,
            session,
            fields=("ClassGroup.*", "Person.firstName", "Person.lastName", "Person.patronymic"),
        )
        # when they ask for the pupil's agents
        refused = await get(hub, f"{ROSTER}/users/{pupil}/agents", plain)
        outside = await get(hub, f"{ROSTER}/users/{pupil}/agentFor", names_only)
        user = await get(hub, f"{ROSTER}/users/{pupil}", names_only)
        # then 403 in the status-info shape, and the user object without its agents
        for response in (refused, outside):
            assert response.status_code == 403, response.text
            valid(response.json(), STATUS_INFO)
            assert response.json()["imsx_codeMajor"] == "failure"
        assert user.status_code == 200
        assert "agents" not in user.json()["user"]

    async def test_reading_agents_leaves_the_personal_read_audit_row(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a partner granted personal data
        s = await arrange_school(session)
        headers = await partner(hub, session) | {"x-request-id": "agents-1"}
        # when it reads a pupil's guardians
        pupil = gid("Person", s.pupils[0].id)
        await get(hub, f"{ROSTER}/users/{pupil}/agents", headers)
        # then the audit row names the guardianships read
        async with engine.connect() as conn:
            (entry,) = (
                await conn.execute(
                    select(AuditEntry.__table__).where(
                        AuditEntry.operation == "access.personal_read",
                        AuditEntry.request_id == "agents-1",
                    )
                )
            ).all()
        assert entry.operation_name == "oneroster rostering/users/{user}/agents"
        assert "Person.guardians" in entry.details["fields"]

    async def test_a_guardian_follows_the_childs_move_to_another_school(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given the mother of a pupil of one school, and another school's class
        s = await arrange_school(session)
        other = await arrange_school(session)
        headers = await partner(hub, session)
        # when the pupil's mother becomes the mother of a pupil there too
        await make_guardianship(session, guardian=s.guardian, child=other.pupils[2])
        await assert_kept(session)
        # then she is one user, a parent of both
        mother = gid("Person", s.guardian.id)
        children = (await get(hub, f"{ROSTER}/users/{mother}/agentFor", headers)).json()["users"]
        assert sorted(u["sourcedId"] for u in children) == sorted(
            [gid("Person", s.pupils[0].id), gid("Person", other.pupils[2].id)]
        )
        found = await get(hub, f"{ROSTER}/users", headers, filter=f"sourcedId='{mother}'")
        assert found.json()["users"][0]["roles"][0]["role"] == "parent"
