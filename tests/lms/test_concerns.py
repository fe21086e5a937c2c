"""The anonymous channel (S4, issue 15): a pupil reports pressure, bullying or abuse; the
report reaches the counsellors of their district or region, never the school's staff (nor the
ministry's other roles); the reporter is not stored with it, nor in the audit trail; a pupil
may send a few a day (rate-limited without linking a report to them); counsellors move it on;
the reporter follows it with a receipt."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditEntry, ConcernReport
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import BISHKEK, BISHKEK_LENIN, CHUY, CHUY_SOKULUK, gid
from tests.lms.arrange import School, admin_token, arrange_school, pupil_token, teacher_token

REPORT = """mutation($input: ReportConcernInput!) {
  reportConcern(input: $input) { receipt status userErrors { code message } }
}"""
REPORTS = """{ concernReports(first: 10) { totalCount nodes { id category text status receivedOn
  district { nameEn } region { nameEn } } } }"""
ADVANCE = """mutation($input: AdvanceConcernReportInput!) {
  advanceConcernReport(input: $input) { report { status reply events { status note } }
    userErrors { code } }
}"""
STATUS = """query($r: String!) { concernReportStatus(receipt: $r) { category status reply } }"""
BODY = "Учитель требует деньги за оценки, иначе ставит двойки."


def counsellor(hub: Hub, *, district: int | None = None, region: int | None = None) -> str:
    scopes = [f"district:{district}"] if district else [f"region:{region}"]
    return hub.token(Role.COUNSELLOR, scopes=scopes)


async def _report(hub: Hub, s: School, category: str = "EXTORTION") -> dict[str, object]:
    data = await hub.data(
        REPORT, {"input": {"category": category, "text": BODY}}, token=pupil_token(hub, s.pupils[0])
    )
    payload: dict[str, object] = data["reportConcern"]
    return payload


class TestReportConcern:
    async def test_the_report_reaches_the_districts_counsellor_and_names_nobody(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a pupil of a school in Bishkek's Lenin district
        s = await arrange_school(session)

        # when they report extortion
        sent = await _report(hub, s)
        assert sent["status"] == "RECEIVED"
        assert str(sent["receipt"]).startswith("CR-")

        # then the district's counsellor (and the region's) read it
        for token in (counsellor(hub, district=BISHKEK_LENIN), counsellor(hub, region=BISHKEK)):
            reports = (await hub.data(REPORTS, token=token))["concernReports"]
            assert reports["totalCount"] == 1
            assert reports["nodes"][0]["text"] == BODY
            assert reports["nodes"][0]["district"] == {"nameEn": "Lenin District"}
        # and another district's counsellor does not
        elsewhere = counsellor(hub, district=CHUY_SOKULUK)
        assert (await hub.data(REPORTS, token=elsewhere))["concernReports"]["totalCount"] == 0

        # and the stored report holds no person, school or time of day
        columns = set((await session.execute(text("SELECT * FROM concern_report LIMIT 0"))).keys())
        assert columns == {
            "id", "gid", "category", "body", "region_id", "district_id", "status",
            "received_on", "receipt_hash", "reply", "updated_at",
        }  # fmt: skip

        # and the audit trail records that a report was made, not by whom, nor what it says
        (entry,) = await session.scalars(
            select(AuditEntry).where(AuditEntry.operation == "lms.report_concern")
        )
        assert (entry.actor, entry.role, entry.target_id, entry.details) == (
            "anonymous",
            "anonymous",
            None,
            {},
        )
        assert BODY not in str(entry.__dict__)

    async def test_the_school_and_the_ministry_never_read_reports(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        s = await arrange_school(session)
        await _report(hub, s)
        report_id = await session.scalar(select(ConcernReport.id))
        assert report_id is not None
        for token in (admin_token(hub, s), teacher_token(hub, s), ministry):
            body = await hub.gql(REPORTS, token=token)
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
            node = await hub.data(
                "query($id: ID!) { node(id: $id) { id } }",
                {"id": gid("ConcernReport", report_id)},
                token=token,
            )
            assert node["node"] is None

    async def test_only_pupils_report(self, hub: Hub, session: AsyncSession) -> None:
        s = await arrange_school(session)
        data = await hub.data(
            REPORT,
            {"input": {"category": "BULLYING", "text": BODY}},
            token=hub.token(Role.GUARDIAN, person_id=s.guardian.id),
        )
        assert data["reportConcern"]["userErrors"][0]["code"] == "FORBIDDEN"

    async def test_a_pupil_sends_a_few_a_day_and_the_count_names_nobody(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given the national policy's three reports a pupil a day
        s = await arrange_school(session)
        sent = [await _report(hub, s) for _ in range(4)]

        # then the fourth is refused
        assert [bool(r["receipt"]) for r in sent] == [True, True, True, False]
        assert sent[3]["userErrors"][0]["code"] == "RATE_LIMITED"  # type: ignore[index]
        # and the count is kept under a keyed hash: no pupil id, no report points to it
        rows = list(await session.execute(text("SELECT * FROM concern_quota")))
        assert len(rows) == 1
        assert str(s.pupils[0].id) != rows[0].bucket
        assert len(rows[0].bucket) == 64
        assert rows[0].used == 3

    async def test_counsellors_move_it_on_and_the_reporter_follows_with_the_receipt(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session)
        receipt = str((await _report(hub, s))["receipt"])
        report_id = gid("ConcernReport", int(await session.scalar(select(ConcernReport.id)) or 0))
        token = counsellor(hub, district=BISHKEK_LENIN)

        # a report cannot be resolved before it is reviewed
        skipped = await hub.data(
            ADVANCE, {"input": {"reportId": report_id, "status": "RESOLVED"}}, token=token
        )
        assert skipped["advanceConcernReport"]["userErrors"][0]["code"] == "INVALID_TRANSITION"

        for status, note, reply in (
            ("IN_REVIEW", "Связалась с РОО", None),
            ("REFERRED", "Передано в прокуратуру", "Мы передали ваше сообщение, спасибо."),
        ):
            await hub.data(
                ADVANCE,
                {"input": {"reportId": report_id, "status": status, "note": note, "reply": reply}},
                token=token,
            )
        seen = (await hub.data(STATUS, {"r": receipt}))["concernReportStatus"]
        assert seen == {
            "category": "EXTORTION",
            "status": "REFERRED",
            "reply": "Мы передали ваше сообщение, спасибо.",
        }
        assert (await hub.data(STATUS, {"r": "CR-guess"}))["concernReportStatus"] is None

    async def test_a_counsellor_of_another_region_cannot_touch_it(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session)
        await _report(hub, s)
        report_id = gid("ConcernReport", int(await session.scalar(select(ConcernReport.id)) or 0))
        data = await hub.data(
            ADVANCE,
            {"input": {"reportId": report_id, "status": "IN_REVIEW"}},
            token=counsellor(hub, region=CHUY),
        )
        assert data["advanceConcernReport"]["userErrors"][0]["code"] == "NOT_FOUND"

    async def test_a_counsellor_needs_a_region_or_district(self, hub: Hub) -> None:
        response = await hub.post(REPORTS, token=hub.token(Role.COUNSELLOR))
        assert response.status_code == 401
