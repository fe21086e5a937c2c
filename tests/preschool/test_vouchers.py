"""Kindergarten vouchers (domain.md K8; issue 14.7): a state-paid place in a private
kindergarten for a low-income family's child or a child with a disability. The guardian claims
it with the proof, a district officer verifies or refuses it, the family uses it at a private
licensed kindergarten, and it ends when the child starts school (K7), leaves, expires, or on an
officer's decision. The database holds one live voucher per child and the transitions; the
races run real concurrent transactions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import (
    AuditEntry,
    Enrollment,
    ExitReason,
    GuardianKind,
    Institution,
    InstitutionKind,
    IntakeKind,
    IntakeSeason,
    KindergartenVoucher,
    Ownership,
    Person,
    Sector,
    VoucherEndReason,
    VoucherStatus,
)
from resolvers.access import Role
from resolvers.clock import today
from tests.conftest import Hub
from tests.enrollments.helpers import (
    ENROLL_STUDENT,
    TRANSFER_STUDENT,
    WITHDRAW_STUDENT,
    run_mutation,
)
from tests.factories import (
    BISHKEK,
    BISHKEK_LENIN,
    CHUY_SOKULUK,
    gid,
    make_guardianship,
    make_institution,
    make_intake_season,
    make_licence,
    make_person,
)
from tests.people.helpers import outbox_topics
from tests.preschool.helpers import errors_of

VOUCHER_FIELDS = """id status ground proof validUntil usedOn endedOn endReason endNote
  decisionReason kindergarten { id } enrollment { id entryDate exitDate }
  district { code } child { id }"""
CLAIM = f"""mutation($input: ClaimKindergartenVoucherInput!) {{
  claimKindergartenVoucher(input: $input) {{
    voucher {{ {VOUCHER_FIELDS} }} userErrors {{ field code message }} }} }}"""
DECIDE = f"""mutation($input: DecideKindergartenVoucherInput!) {{
  decideKindergartenVoucher(input: $input) {{
    voucher {{ {VOUCHER_FIELDS} }} userErrors {{ field code message }} }} }}"""
USE = f"""mutation($input: UseKindergartenVoucherInput!) {{
  useKindergartenVoucher(input: $input) {{
    voucher {{ {VOUCHER_FIELDS} }} userErrors {{ field code message }} }} }}"""
END = f"""mutation($input: EndKindergartenVoucherInput!) {{
  endKindergartenVoucher(input: $input) {{
    voucher {{ {VOUCHER_FIELDS} }} userErrors {{ field code message }} }} }}"""
EXPIRE = """mutation($input: ExpireKindergartenVouchersInput!) {
  expireKindergartenVouchers(input: $input) { expired userErrors { field code message } } }"""
VOUCHERS = """query($filter: KindergartenVoucherFilter) {
  kindergartenVouchers(first: 20, filter: $filter) { totalCount nodes { id status } } }"""
NODE = "query($id: ID!) { node(id: $id) { id ... on KindergartenVoucher { status } } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"


@dataclass
class Family:
    """A kindergarten season; a mother and her three-year-old in Bishkek's Lenin district;
    a licensed private kindergarten, an unlicensed one and a state one."""

    season: IntakeSeason
    mother: Person
    child: Person
    private: Institution
    unlicensed: Institution
    state: Institution


async def arrange(session: AsyncSession) -> Family:
    season = await make_intake_season(session, kind=IntakeKind.KINDERGARTEN)
    mother = await make_person(session, birth_date=date(1990, 4, 4), first_name="Жибек")
    child = await make_person(
        session,
        birth_date=today() - timedelta(days=3 * 365 + 30),
        first_name="Бакыт",
        registered_district_id=BISHKEK_LENIN,
    )
    await make_guardianship(session, guardian=mother, child=child, kind=GuardianKind.MOTHER)
    private = await make_institution(
        session, kind=InstitutionKind.KINDERGARTEN, ownership=Ownership.PRIVATE, name="Күнчубак"
    )
    await make_licence(session, institution=private, levels=["preschool"])
    unlicensed = await make_institution(
        session, kind=InstitutionKind.KINDERGARTEN, ownership=Ownership.PRIVATE, name="Айгөлек"
    )
    state = await make_institution(session, kind=InstitutionKind.KINDERGARTEN, name="№12")
    return Family(season, mother, child, private, unlicensed, state)


@pytest.fixture
async def f(session: AsyncSession) -> Family:
    """The family, committed so that the hub sees it."""
    family = await arrange(session)
    await session.commit()
    return family


def mother_token(hub: Hub, f: Family) -> str:
    return hub.token(Role.GUARDIAN, person_id=f.mother.id)


def officer(hub: Hub, district: int = BISHKEK_LENIN) -> str:
    return hub.token(Role.DISTRICT_OFFICER, scopes=[f"district:{district}"])


def vid(pk: int) -> str:
    return gid("KindergartenVoucher", pk)


async def claim(hub: Hub, f: Family, ground: str = "LOW_INCOME") -> dict[str, Any]:
    body = await hub.gql(
        CLAIM,
        {
            "input": {
                "childId": gid("Person", f.child.id),
                "ground": ground,
                "proof": "Социалдык жөлөкпул №123/2026",
            }
        },
        token=mother_token(hub, f),
    )
    assert errors_of(body, "claimKindergartenVoucher") == []
    voucher: dict[str, Any] = body["data"]["claimKindergartenVoucher"]["voucher"]
    return voucher


async def verified(hub: Hub, f: Family) -> dict[str, Any]:
    voucher = await claim(hub, f)
    body = await hub.gql(
        DECIDE, {"input": {"voucherId": voucher["id"], "verified": True}}, token=officer(hub)
    )
    assert errors_of(body, "decideKindergartenVoucher") == []
    decided: dict[str, Any] = body["data"]["decideKindergartenVoucher"]["voucher"]
    return decided


async def use(hub: Hub, f: Family, voucher: dict[str, Any], kg: Institution) -> dict[str, Any]:
    body = await hub.gql(
        USE,
        {"input": {"voucherId": voucher["id"], "kindergartenId": gid("Institution", kg.id)}},
        token=mother_token(hub, f),
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["useKindergartenVoucher"]
    return payload


async def in_use(hub: Hub, f: Family, kg: Institution | None = None) -> dict[str, Any]:
    """Claim, verify and use a voucher at ``kg`` (the licensed private kindergarten): the
    voucher paying the child's place today."""
    payload = await use(hub, f, await verified(hub, f), kg or f.private)
    assert codes(payload) == []
    voucher: dict[str, Any] = payload["voucher"]
    return voucher


async def use_outside_the_hub(
    engine: AsyncEngine,
    voucher: dict[str, Any],
    kg: Institution,
    *,
    on: date | None = None,
    place_ends: date | None = None,
) -> None:
    """Open a kindergarten place at ``kg`` from ``on`` (today) and set the voucher in use on
    it, by statements outside the workflow: what the database alone holds."""
    pk = await _pk(engine, voucher["id"])
    start = on or today()
    async with engine.begin() as conn:
        child_id = await conn.scalar(
            select(KindergartenVoucher.child_id).where(KindergartenVoucher.id == pk)
        )
        place = await conn.scalar(
            insert(Enrollment)
            .values(
                person_id=child_id,
                institution_id=kg.id,
                sector="preschool",
                entry_date=start,
                exit_date=place_ends,
                exit_reason="withdrawn" if place_ends else None,
            )
            .returning(Enrollment.id)
        )
    async with engine.begin() as conn:
        await conn.execute(
            update(KindergartenVoucher)
            .where(KindergartenVoucher.id == pk)
            .values(status="in_use", kindergarten_id=kg.id, enrollment_id=place, used_on=start)
        )


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


async def voucher_row(engine: AsyncEngine, global_id: str) -> Any:
    pk = int(await _pk(engine, global_id))
    async with engine.connect() as conn:
        return (
            await conn.execute(select(KindergartenVoucher).where(KindergartenVoucher.id == pk))
        ).one()


async def _pk(engine: AsyncEngine, global_id: str) -> int:
    from resolvers.relay import decode_id

    return decode_id(global_id)[1]


class TestClaimVoucher:
    async def test_guardian_claims_a_voucher_for_the_district_to_check_k8(
        self, hub: Hub, f: Family, engine: AsyncEngine
    ) -> None:
        # given a family of Bishkek's Lenin district
        # when the mother claims a voucher on low income
        voucher = await claim(hub, f)
        # then it waits for the district's officers, the proof kept, the event published
        assert voucher["status"] == "CLAIMED"
        assert voucher["ground"] == "LOW_INCOME"
        assert voucher["district"]["code"] == "KG-GB-LNN"
        assert voucher["child"]["id"] == gid("Person", f.child.id)
        assert "preschool.voucher_claimed" in await outbox_topics(engine)

    async def test_only_the_childs_guardian_claims(
        self, hub: Hub, session: AsyncSession, f: Family
    ) -> None:
        stranger = await make_person(session, birth_date=date(1985, 1, 1))
        await session.commit()
        body = await hub.gql(
            CLAIM,
            {"input": {"childId": gid("Person", f.child.id), "ground": "DISABILITY", "proof": "x"}},
            token=hub.token(Role.GUARDIAN, person_id=stranger.id),
        )
        assert errors_of(body, "claimKindergartenVoucher") == ["NOT_FOUND"]

    async def test_a_claim_names_its_proof(self, hub: Hub, f: Family) -> None:
        body = await hub.gql(
            CLAIM,
            {"input": {"childId": gid("Person", f.child.id), "ground": "DISABILITY", "proof": " "}},
            token=mother_token(hub, f),
        )
        assert errors_of(body, "claimKindergartenVoucher") == ["INVALID_INPUT"]

    async def test_one_live_voucher_per_child_k8(self, hub: Hub, f: Family) -> None:
        # given a claimed voucher
        await claim(hub, f)
        # when the mother claims another
        body = await hub.gql(
            CLAIM,
            {"input": {"childId": gid("Person", f.child.id), "ground": "DISABILITY", "proof": "y"}},
            token=mother_token(hub, f),
        )
        # then it is refused
        assert errors_of(body, "claimKindergartenVoucher") == ["DUPLICATE_VOUCHER"]

    async def test_two_claims_at_once_leave_one_voucher_k8(
        self, hub: Hub, f: Family, engine: AsyncEngine
    ) -> None:
        # given a family
        token = mother_token(hub, f)
        # when four claims for the child arrive at once (concurrent transactions)
        bodies = await asyncio.gather(
            *(
                hub.gql(
                    CLAIM,
                    {
                        "input": {
                            "childId": gid("Person", f.child.id),
                            "ground": "LOW_INCOME",
                            "proof": f"№{i}",
                        }
                    },
                    token=token,
                )
                for i in range(4)
            )
        )
        # then exactly one is claimed; the others are duplicates
        found = sorted(tuple(errors_of(b, "claimKindergartenVoucher")) for b in bodies)
        assert found == [(), *[("DUPLICATE_VOUCHER",)] * 3]
        async with engine.connect() as conn:
            assert len((await conn.execute(select(KindergartenVoucher.id))).all()) == 1

    async def test_the_database_holds_one_live_voucher_per_child_k8(
        self, f: Family, engine: AsyncEngine
    ) -> None:
        # given a family, and two transactions that each insert a claim without the workflow
        def row(proof: str) -> dict[str, Any]:
            return {
                "child_id": f.child.id,
                "guardian_id": f.mother.id,
                "season_id": f.season.id,
                "district_id": BISHKEK_LENIN,
                "region_id": BISHKEK,
                "ground": "low_income",
                "proof": proof,
                "status": "claimed",
            }

        async with engine.connect() as first, engine.connect() as second:
            await first.execute(insert(KindergartenVoucher).values(row("a")))
            # when the second inserts while the first is not yet committed
            pending = asyncio.create_task(
                second.execute(insert(KindergartenVoucher).values(row("b")))
            )
            await asyncio.sleep(0.2)
            await first.commit()
            # then the partial unique index refuses it
            with pytest.raises(IntegrityError, match="uq_kindergarten_voucher_live_child"):
                await pending


class TestDecideVoucher:
    async def test_district_officer_verifies_until_the_seasons_end_k8(
        self, hub: Hub, f: Family, engine: AsyncEngine
    ) -> None:
        voucher = await verified(hub, f)
        assert voucher["status"] == "VERIFIED"
        assert voucher["validUntil"] == f.season.ends_on.isoformat()
        assert "preschool.voucher_verified" in await outbox_topics(engine)

    async def test_a_refusal_needs_a_reason_k8(self, hub: Hub, f: Family) -> None:
        voucher = await claim(hub, f)
        body = await hub.gql(
            DECIDE, {"input": {"voucherId": voucher["id"], "verified": False}}, token=officer(hub)
        )
        assert errors_of(body, "decideKindergartenVoucher") == ["INVALID_INPUT"]
        body = await hub.gql(
            DECIDE,
            {
                "input": {
                    "voucherId": voucher["id"],
                    "verified": False,
                    "reason": "Доход выше порога",
                }
            },
            token=officer(hub),
        )
        payload = body["data"]["decideKindergartenVoucher"]
        assert codes(payload) == []
        assert payload["voucher"]["status"] == "REFUSED"
        assert payload["voucher"]["decisionReason"] == "Доход выше порога"

    async def test_an_officer_of_another_district_does_not_see_it(
        self, hub: Hub, f: Family
    ) -> None:
        voucher = await claim(hub, f)
        body = await hub.gql(
            DECIDE,
            {"input": {"voucherId": voucher["id"], "verified": True}},
            token=officer(hub, CHUY_SOKULUK),
        )
        assert errors_of(body, "decideKindergartenVoucher") == ["NOT_FOUND"]

    async def test_the_guardian_cannot_verify_their_own_claim(self, hub: Hub, f: Family) -> None:
        voucher = await claim(hub, f)
        body = await hub.gql(
            DECIDE,
            {"input": {"voucherId": voucher["id"], "verified": True}},
            token=mother_token(hub, f),
        )
        assert errors_of(body, "decideKindergartenVoucher") == ["FORBIDDEN"]

    async def test_a_decided_voucher_is_not_decided_again(self, hub: Hub, f: Family) -> None:
        voucher = await verified(hub, f)
        body = await hub.gql(
            DECIDE,
            {"input": {"voucherId": voucher["id"], "verified": False, "reason": "x"}},
            token=officer(hub),
        )
        assert errors_of(body, "decideKindergartenVoucher") == ["VOUCHER_NOT_CLAIMED"]


class TestUseVoucher:
    async def test_a_verified_voucher_opens_a_place_at_a_private_licensed_kindergarten_k8(
        self, hub: Hub, f: Family, engine: AsyncEngine
    ) -> None:
        # given a verified voucher
        voucher = await verified(hub, f)
        # when the mother uses it at the licensed private kindergarten
        payload = await use(hub, f, voucher, f.private)
        # then the child's kindergarten place opens there today, paid by the voucher
        assert codes(payload) == []
        used = payload["voucher"]
        assert used["status"] == "IN_USE"
        assert used["kindergarten"]["id"] == gid("Institution", f.private.id)
        assert used["enrollment"]["entryDate"] == today().isoformat()
        async with engine.connect() as conn:
            places = (
                await conn.execute(
                    select(Enrollment.institution_id, Enrollment.sector).where(
                        Enrollment.person_id == f.child.id
                    )
                )
            ).all()
        assert places == [(f.private.id, Sector.PRESCHOOL)]

    async def test_an_unlicensed_kindergarten_admits_no_one(self, hub: Hub, f: Family) -> None:
        voucher = await verified(hub, f)
        payload = await use(hub, f, voucher, f.unlicensed)
        assert codes(payload) == ["LICENCE_REQUIRED"]

    async def test_a_state_kindergarten_is_not_paid_by_voucher_k8(
        self, hub: Hub, f: Family
    ) -> None:
        voucher = await verified(hub, f)
        payload = await use(hub, f, voucher, f.state)
        assert codes(payload) == ["NOT_PRIVATE_KINDERGARTEN"]

    async def test_a_claim_not_yet_verified_places_no_one_k8(self, hub: Hub, f: Family) -> None:
        voucher = await claim(hub, f)
        payload = await use(hub, f, voucher, f.private)
        assert codes(payload) == ["VOUCHER_NOT_VERIFIED"]

    async def test_two_uses_at_once_open_one_place_k8(
        self, hub: Hub, session: AsyncSession, f: Family, engine: AsyncEngine
    ) -> None:
        # given a verified voucher and a second licensed private kindergarten
        other = await make_institution(
            session, kind=InstitutionKind.KINDERGARTEN, ownership=Ownership.PRIVATE
        )
        await make_licence(session, institution=other, levels=["preschool"])
        await session.commit()
        voucher = await verified(hub, f)
        # when the voucher is used at both at once (concurrent transactions)
        payloads = await asyncio.gather(
            use(hub, f, voucher, f.private), use(hub, f, voucher, other)
        )
        # then one place opens; the other use finds the voucher in use
        assert sorted(tuple(codes(p)) for p in payloads) == [(), ("VOUCHER_NOT_VERIFIED",)]
        async with engine.connect() as conn:
            places = (
                await conn.execute(select(Enrollment.id).where(Enrollment.person_id == f.child.id))
            ).all()
        assert len(places) == 1


class TestEndVoucher:
    async def test_the_guardian_gives_it_up_and_the_place_ends(
        self, hub: Hub, f: Family, engine: AsyncEngine
    ) -> None:
        voucher = await in_use(hub, f)
        body = await hub.gql(
            END, {"input": {"voucherId": voucher["id"]}}, token=mother_token(hub, f)
        )
        payload = body["data"]["endKindergartenVoucher"]
        assert codes(payload) == []
        assert (payload["voucher"]["status"], payload["voucher"]["endReason"]) == ("ENDED", "LEFT")
        assert payload["voucher"]["enrollment"]["exitDate"] == today().isoformat()

    async def test_an_officer_ends_it_with_a_reason_k8(self, hub: Hub, f: Family) -> None:
        voucher = await verified(hub, f)
        body = await hub.gql(END, {"input": {"voucherId": voucher["id"]}}, token=officer(hub))
        assert errors_of(body, "endKindergartenVoucher") == ["INVALID_INPUT"]
        body = await hub.gql(
            END,
            {"input": {"voucherId": voucher["id"], "reason": "Семья переехала"}},
            token=officer(hub),
        )
        ended = body["data"]["endKindergartenVoucher"]["voucher"]
        assert (ended["status"], ended["endReason"], ended["endNote"]) == (
            "ENDED",
            "OFFICER",
            "Семья переехала",
        )
        # and an ended voucher takes no further step
        body = await hub.gql(
            END, {"input": {"voucherId": voucher["id"]}}, token=mother_token(hub, f)
        )
        assert errors_of(body, "endKindergartenVoucher") == ["VOUCHER_ENDED"]

    async def test_vouchers_past_their_last_day_expire_k8(
        self, hub: Hub, f: Family, engine: AsyncEngine
    ) -> None:
        # given a voucher in use whose last day was yesterday
        voucher = await in_use(hub, f)
        pk = await _pk(engine, voucher["id"])
        async with engine.begin() as conn:
            await conn.execute(
                update(KindergartenVoucher)
                .where(KindergartenVoucher.id == pk)
                .values(valid_until=today() - timedelta(days=1))
            )
        # when the ministry runs the expiry job
        body = await hub.gql(EXPIRE, {"input": {}}, token=hub.token(Role.MINISTRY))
        # then the voucher ended as expired; the place stays the family's and kindergarten's
        assert body["data"]["expireKindergartenVouchers"] == {"expired": 1, "userErrors": []}
        row = await voucher_row(engine, voucher["id"])
        assert (row.status, row.end_reason) == (VoucherStatus.ENDED, VoucherEndReason.EXPIRED)
        async with engine.connect() as conn:
            exit_date = await conn.scalar(
                select(Enrollment.exit_date).where(Enrollment.id == row.enrollment_id)
            )
        assert exit_date is None

    async def test_the_nightly_jobs_expire_vouchers_k8(
        self, hub: Hub, f: Family, engine: AsyncEngine
    ) -> None:
        # given a verified voucher whose last day was yesterday
        voucher = await verified(hub, f)
        pk = await _pk(engine, voucher["id"])
        async with engine.begin() as conn:
            await conn.execute(
                update(KindergartenVoucher)
                .where(KindergartenVoucher.id == pk)
                .values(valid_until=today() - timedelta(days=1))
            )
        # when `bilim jobs run` runs
        from resolvers import jobs

        done = await jobs.run_all(hub.settings.database_url or "")
        # then it ended as expired, and a second run finds nothing more
        assert done["expired_vouchers"] == 1
        row = await voucher_row(engine, voucher["id"])
        assert (row.status, row.end_reason) == (VoucherStatus.ENDED, VoucherEndReason.EXPIRED)
        assert (await jobs.run_all(hub.settings.database_url or ""))["expired_vouchers"] == 0

    async def test_only_the_ministry_runs_the_expiry(self, hub: Hub, session: AsyncSession) -> None:
        await session.commit()
        body = await hub.gql(EXPIRE, {"input": {}}, token=officer(hub))
        assert body["data"]["expireKindergartenVouchers"]["userErrors"][0]["code"] == "FORBIDDEN"

    async def test_starting_school_ends_the_voucher_and_its_place_k7_k8(
        self, hub: Hub, session: AsyncSession, f: Family, engine: AsyncEngine
    ) -> None:
        # given a child whose voucher pays a private kindergarten place
        school = await make_institution(session, kind=InstitutionKind.SCHOOL)
        await session.commit()
        voucher = await in_use(hub, f)
        first_day = today() + timedelta(days=30)
        # when the ministry enrolls the child at a school (a commission's age decision)
        payload = await run_mutation(
            hub,
            ENROLL_STUDENT,
            "enrollStudent",
            hub.token(Role.MINISTRY),
            personId=gid("Person", f.child.id),
            institutionId=gid("Institution", school.id),
            entryDate=first_day.isoformat(),
            gradeLevel=1,
            ageDecision="ПМПК №1",
        )
        # then (K7) the voucher ends, the reason school, and its place ends that day
        assert payload["userErrors"] == []
        row = await voucher_row(engine, voucher["id"])
        assert (row.status, row.end_reason, row.ended_on) == (
            VoucherStatus.ENDED,
            VoucherEndReason.SCHOOL,
            first_day,
        )
        async with engine.connect() as conn:
            place = (
                await conn.execute(
                    select(Enrollment.exit_date, Enrollment.exit_reason).where(
                        Enrollment.id == row.enrollment_id
                    )
                )
            ).one()
        assert tuple(place) == (first_day, ExitReason.COMPLETED_LEVEL)
        assert "preschool.voucher_ended" in await outbox_topics(engine)


class TestDatabaseRules:
    async def test_an_ended_voucher_cannot_be_revived_k8(
        self, hub: Hub, f: Family, engine: AsyncEngine
    ) -> None:
        # given an ended voucher
        voucher = await verified(hub, f)
        await hub.gql(END, {"input": {"voucherId": voucher["id"]}}, token=mother_token(hub, f))
        pk = await _pk(engine, voucher["id"])
        # when a statement outside the workflow sets it verified again
        # then the transition trigger refuses it
        with pytest.raises(DBAPIError, match=r"ck_kindergarten_voucher_transition|cannot go"):
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "UPDATE kindergarten_voucher SET status = 'verified', end_reason = NULL,"
                        " ended_on = NULL WHERE id = :id"
                    ),
                    {"id": pk},
                )

    async def test_the_database_refuses_a_voucher_used_at_a_state_kindergarten_k8(
        self, hub: Hub, f: Family, engine: AsyncEngine
    ) -> None:
        voucher = await verified(hub, f)
        with pytest.raises(DBAPIError, match=r"private_kindergarten|private kindergarten"):
            await use_outside_the_hub(engine, voucher, f.state)


class TestReadingVouchers:
    async def test_guardian_and_district_read_it_others_do_not(
        self, hub: Hub, session: AsyncSession, f: Family
    ) -> None:
        # given a claimed voucher, and another family
        other_mother = await make_person(session, birth_date=date(1989, 2, 2))
        await session.commit()
        voucher = await claim(hub, f)
        tokens = {
            "mother": mother_token(hub, f),
            "district": officer(hub),
            "region": hub.token(Role.REGION_OFFICER, scopes=[f"region:{BISHKEK}"]),
            "ministry": hub.token(Role.MINISTRY),
            "other district": officer(hub, CHUY_SOKULUK),
            "other mother": hub.token(Role.GUARDIAN, person_id=other_mother.id),
            "kindergarten": hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{f.private.id}"]),
        }
        seen = {}
        for who, token in tokens.items():
            listed = await hub.data(VOUCHERS, {}, token=token)
            node = await hub.data(NODE, {"id": voucher["id"]}, token=token)
            nodes = await hub.data(NODES, {"ids": [voucher["id"]]}, token=token)
            seen[who] = (
                listed["kindergartenVouchers"]["totalCount"],
                node["node"] is not None,
                nodes["nodes"] != [None],
            )
        # then the family and the officers of its district (region) and the ministry read it;
        # no one else, through the list, node or nodes
        assert seen == {
            "mother": (1, True, True),
            "district": (1, True, True),
            "region": (1, True, True),
            "ministry": (1, True, True),
            "other district": (0, False, False),
            "other mother": (0, False, False),
            "kindergarten": (0, False, False),
        }

    async def test_voucher_mutations_are_audited(
        self, hub: Hub, f: Family, engine: AsyncEngine
    ) -> None:
        voucher = await verified(hub, f)
        pk = await _pk(engine, voucher["id"])
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(AuditEntry.operation, AuditEntry.target_type, AuditEntry.variables)
                    .where(AuditEntry.operation.like("preschool.%voucher"))
                    .order_by(AuditEntry.id)
                )
            ).all()
        assert [(r.operation, r.target_type) for r in rows] == [
            ("preschool.claim_voucher", "KindergartenVoucher"),
            ("preschool.decide_voucher", "KindergartenVoucher"),
        ]
        # the proof is personal: the trail keeps no copy of it
        assert "Социалдык" not in str(rows[0].variables)
        assert pk > 0


class TestThePlaceEndsTheVoucher:
    """K8 (issue 14.7): a voucher pays for one place; whatever ends the place ends the voucher,
    in the same transaction, and the database keeps no voucher in use on an ended place."""

    async def test_withdrawing_the_child_ends_the_voucher_k8(
        self, hub: Hub, f: Family, engine: AsyncEngine
    ) -> None:
        # given a voucher paying the child's place at the private kindergarten
        voucher = await in_use(hub, f)
        last_day = today() + timedelta(days=10)
        # when the kindergarten withdraws the child
        payload = await run_mutation(
            hub,
            WITHDRAW_STUDENT,
            "withdrawStudent",
            hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{f.private.id}"]),
            enrollmentId=voucher["enrollment"]["id"],
            date=last_day.isoformat(),
        )
        # then the voucher ends with the place, as the child left, on the place's last day
        assert payload["userErrors"] == []
        row = await voucher_row(engine, voucher["id"])
        assert (row.status, row.end_reason, row.ended_on) == (
            VoucherStatus.ENDED,
            VoucherEndReason.LEFT,
            last_day,
        )
        assert row.end_note == "the place ended: withdrawn"
        assert "preschool.voucher_ended" in await outbox_topics(engine)

    async def test_a_transfer_to_another_kindergarten_ends_the_voucher_k8(
        self, hub: Hub, f: Family, engine: AsyncEngine
    ) -> None:
        # given a voucher paying the child's place at the private kindergarten
        voucher = await in_use(hub, f)
        # when the child is transferred to the state kindergarten
        payload = await run_mutation(
            hub,
            TRANSFER_STUDENT,
            "transferStudent",
            hub.token(Role.MINISTRY),
            enrollmentId=voucher["enrollment"]["id"],
            toInstitutionId=gid("Institution", f.state.id),
            date=today().isoformat(),
        )
        # then the voucher ends with the private place it paid for
        assert payload["userErrors"] == []
        row = await voucher_row(engine, voucher["id"])
        assert (row.status, row.end_reason, row.ended_on) == (
            VoucherStatus.ENDED,
            VoucherEndReason.LEFT,
            today(),
        )

    async def test_the_database_ends_the_voucher_when_a_statement_ends_the_place_k8(
        self, hub: Hub, f: Family, engine: AsyncEngine
    ) -> None:
        # given a voucher in use
        voucher = await in_use(hub, f)
        row = await voucher_row(engine, voucher["id"])
        # when a statement outside the hub ends the place
        async with engine.begin() as conn:
            await conn.execute(
                update(Enrollment)
                .where(Enrollment.id == row.enrollment_id)
                .values(exit_date=today(), exit_reason="deceased")
            )
        # then the database's trigger ended the voucher and wrote the event
        row = await voucher_row(engine, voucher["id"])
        assert (row.status, row.end_reason, row.end_note) == (
            VoucherStatus.ENDED,
            VoucherEndReason.LEFT,
            "the place ended: deceased",
        )
        assert "preschool.voucher_ended" in await outbox_topics(engine)

    async def test_the_database_keeps_no_voucher_in_use_on_an_ended_place_k8(
        self, hub: Hub, f: Family, engine: AsyncEngine
    ) -> None:
        # given a verified voucher and a place at the private kindergarten that has ended
        voucher = await verified(hub, f)
        # when a statement outside the workflow sets the voucher in use on that place
        # then the database refuses it
        with pytest.raises(DBAPIError, match="pays for an open kindergarten place"):
            await use_outside_the_hub(
                engine, voucher, f.private, place_ends=today() + timedelta(days=1)
            )


async def due_at_school(session: AsyncSession, f: Family, first_day: date) -> None:
    """The season's first school day moves to ``first_day``, and the child is born on 1
    January six years before it: F4 puts them in grade 1 that day."""
    f.season.school_year_starts = first_day
    f.child.birth_date = date(first_day.year - f.season.grade1_birth_year_offset, 1, 1)
    await session.commit()


class TestSchoolEntryAndVouchers:
    """The queue's school-entry rule (F4, issue 14.6) holds for voucher places too (K8): no
    place for a child who starts school by the day it would begin."""

    async def test_no_voucher_place_from_the_childs_first_school_day_f4_k8(
        self, hub: Hub, session: AsyncSession, f: Family
    ) -> None:
        # given a verified voucher of a child due at school in 30 days
        first_day = today() + timedelta(days=30)
        await due_at_school(session, f, first_day)
        voucher = await verified(hub, f)

        async def use_from(day: date) -> dict[str, Any]:
            body = await hub.gql(
                USE,
                {
                    "input": {
                        "voucherId": voucher["id"],
                        "kindergartenId": gid("Institution", f.private.id),
                        "entryDate": day.isoformat(),
                    }
                },
                token=mother_token(hub, f),
            )
            payload: dict[str, Any] = body["data"]["useKindergartenVoucher"]
            return payload

        # when the mother uses it for a place from the first school day
        refused = await use_from(first_day)
        # then it is refused, and says why; a place from today, before school, is open to her
        assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
            ("entryDate", "STARTS_SCHOOL_FIRST")
        ]
        assert first_day.isoformat() in refused["userErrors"][0]["message"]
        placed = await use_from(today())
        assert codes(placed) == []
        assert placed["voucher"]["status"] == "IN_USE"

    async def test_a_child_due_at_school_by_today_claims_no_voucher_f4_k8(
        self, hub: Hub, session: AsyncSession, f: Family
    ) -> None:
        # given a child whose first school day is today
        await due_at_school(session, f, today())
        # when the mother claims a voucher
        body = await hub.gql(
            CLAIM,
            {
                "input": {
                    "childId": gid("Person", f.child.id),
                    "ground": "LOW_INCOME",
                    "proof": "№1",
                }
            },
            token=mother_token(hub, f),
        )
        # then no voucher is claimed: no place could begin before school
        assert errors_of(body, "claimKindergartenVoucher") == ["STARTS_SCHOOL_FIRST"]

    async def test_the_database_refuses_a_voucher_place_from_the_first_school_day_f4_k8(
        self, hub: Hub, session: AsyncSession, f: Family, engine: AsyncEngine
    ) -> None:
        # given a verified voucher of a child due at school in 30 days
        first_day = today() + timedelta(days=30)
        await due_at_school(session, f, first_day)
        voucher = await verified(hub, f)
        # when a statement outside the workflow uses it from that day
        # then the database refuses it
        with pytest.raises(DBAPIError, match="starts school on"):
            await use_outside_the_hub(engine, voucher, f.private, on=first_day)
