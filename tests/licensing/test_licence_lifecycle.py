"""A licence's life: suspend, restore, revoke (with its legal basis), re-issue with a new
address; wrong states are typed errors that write nothing; the history stays queryable."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from models import Licence, LicenceEvent, Ownership
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import CHUY, gid, make_institution, make_licence
from tests.licensing.helpers import (
    ADDRESS_DOCUMENTS,
    REISSUE,
    RESTORE,
    REVOKE,
    SUSPEND,
    address,
    count,
    document,
    payload,
    today,
    topics,
)

HISTORY = """
query LicenceHistory($id: ID!) {
  node(id: $id) { ... on Licence { number status history { action reason legalBasis actor } } }
}
"""


async def _licence(session: AsyncSession, **kwargs: object) -> tuple[str, int]:
    school = await make_institution(session, ownership=Ownership.PRIVATE)
    licence = await make_licence(session, institution=school, **kwargs)  # type: ignore[arg-type]
    await session.commit()
    return gid("Licence", licence.id), school.id


class TestLicenceLifecycle:
    async def test_revocation_needs_its_legal_basis_and_is_final(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a licence in force and an officer
        licence_id, _ = await _licence(session)
        officer = hub.token(Role.LICENSING_OFFICER, subject="officer:7")
        # when revoked without a legal basis, then nothing changes
        bare = await payload(
            hub, REVOKE, "revokeLicence", officer, {"licenceId": licence_id, "reason": "Нарушения"}
        )
        assert [e["code"] for e in bare["userErrors"]] == ["LEGAL_BASIS_REQUIRED"]
        assert await count(session, LicenceEvent) == 0
        # when revoked on a court decision
        revoked = await payload(
            hub,
            REVOKE,
            "revokeLicence",
            officer,
            {
                "licenceId": licence_id,
                "reason": "Нарушения лицензионных требований",
                "legalBasis": "Решение Первомайского районного суда г. Бишкек № 2-1234/26",
            },
        )
        licence = revoked["licence"]
        assert licence["status"] == "REVOKED"
        assert licence["endedOn"] == today().isoformat()
        assert licence["history"][-1]["legalBasis"].startswith("Решение")
        assert licence["history"][-1]["actor"] == "officer:7"
        # then suspending or restoring the revoked licence is refused and writes nothing
        for document_, name, values in (
            (SUSPEND, "suspendLicence", {"licenceId": licence_id, "reason": "x"}),
            (RESTORE, "restoreLicence", {"licenceId": licence_id, "reason": "x"}),
        ):
            result = await payload(hub, document_, name, officer, values)
            assert [e["code"] for e in result["userErrors"]] == ["WRONG_LICENCE_STATE"]
        assert await count(session, LicenceEvent) == 1
        assert await topics(session) == ["licensing.licence_revoked"]

    async def test_suspended_licence_cannot_be_suspended_again(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        licence_id, _ = await _licence(session, status="suspended")
        officer = hub.token(Role.LICENSING_OFFICER)
        result = await payload(
            hub, SUSPEND, "suspendLicence", officer, {"licenceId": licence_id, "reason": "x"}
        )
        assert [e["code"] for e in result["userErrors"]] == ["WRONG_LICENCE_STATE"]

    async def test_regional_officer_acts_only_in_their_region(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        licence_id, _ = await _licence(session)
        chuy_officer = hub.token(Role.LICENSING_OFFICER, scopes=[f"region:{CHUY}"])
        result = await payload(
            hub, SUSPEND, "suspendLicence", chuy_officer, {"licenceId": licence_id, "reason": "x"}
        )
        assert [e["code"] for e in result["userErrors"]] == ["FORBIDDEN"]
        assert await count(session, LicenceEvent) == 0

    async def test_reissue_with_a_new_address_replaces_the_licence(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a licence valid until a date
        until = today() + timedelta(days=900)
        licence_id, _ = await _licence(session, valid_until=until)
        officer = hub.token(Role.LICENSING_OFFICER)
        new_address = address(text="г. Бишкек, ул. Боконбаева, 45")
        # when it is re-issued with a new teaching address and its documents
        result = await payload(
            hub,
            REISSUE,
            "reissueLicence",
            officer,
            {
                "licenceId": licence_id,
                "reason": "Новый адрес осуществления деятельности",
                "addresses": [new_address],
                "documents": [document(k, 0) for k in ADDRESS_DOCUMENTS],
            },
        )
        # then a new licence with a new number covers the new address, keeping the validity
        assert result["userErrors"] == []
        new = result["licence"]
        assert new["addresses"] == [{"address": "г. Бишкек, ул. Боконбаева, 45"}]
        assert new["validUntil"] == until.isoformat()
        assert new["replaces"]["status"] == "REISSUED"
        assert new["replaces"]["id"] == licence_id
        assert new["number"] != new["replaces"]["number"]
        # and the old one's history tells what replaced it
        old = (await hub.data(HISTORY, {"id": licence_id}))["node"]
        assert old["status"] == "REISSUED"
        assert [h["action"] for h in old["history"]] == ["REISSUED"]
        assert old["history"][0]["actor"] is None  # the public does not see who acted
        assert await topics(session) == ["licensing.licence_reissued", "licensing.licence_issued"]

    async def test_reissue_checks_the_new_address_like_a_submission(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        licence_id, _ = await _licence(session)
        officer = hub.token(Role.LICENSING_OFFICER)
        result = await payload(
            hub,
            REISSUE,
            "reissueLicence",
            officer,
            {
                "licenceId": licence_id,
                "reason": "Новый адрес",
                "addresses": [address(floor_area=300.0, students=200)],
                "documents": [document(k, 0) for k in ADDRESS_DOCUMENTS],
            },
        )
        assert [e["code"] for e in result["userErrors"]] == ["FLOOR_AREA_TOO_SMALL"]
        assert await count(session, Licence) == 1

    async def test_reissue_keeping_addresses_changes_the_levels(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        licence_id, _ = await _licence(session, levels=["primary"])
        officer = hub.token(Role.LICENSING_OFFICER)
        result = await payload(
            hub,
            REISSUE,
            "reissueLicence",
            officer,
            {"licenceId": licence_id, "reason": "Расширение", "levels": ["PRIMARY", "BASIC"]},
        )
        # the factory's dossier has no documents: carried-over addresses must still pass
        assert [e["code"] for e in result["userErrors"]] == ["DOCUMENTS_MISSING"]
