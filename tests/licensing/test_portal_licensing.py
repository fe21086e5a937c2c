"""The licensing portal's queries cost a fixed number of SQL statements, however many
licences, applications and accreditations they return."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import OperationDefinitionNode, OperationType, parse
from sqlalchemy.ext.asyncio import AsyncSession

from models import InstitutionKind, LicenceEvent, Ownership
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import (
    gid,
    make_accreditation,
    make_accreditation_agency,
    make_institution,
    make_institution_programme,
    make_licence,
    make_licence_application,
    make_licence_document,
)
from tests.licensing.helpers import today

PORTAL = Path(__file__).resolve().parents[2] / "portals" / "licensing"

# The most SQL statements each query may send (the ministry's view: every field resolves).
STATEMENT_BUDGET = {
    "LicenceApplications": 1,  # the compiled path (schema/compiled/licence_dossiers.py)
    "LicenceApplication": 1,  # the compiled path (node of a LicenceApplication)
    "Licences": 1,  # the compiled path
    "VerifyLicence": 1,  # the compiled path (verifyLicence)
    "InstitutionLicensing": 7,
    # a kept page's first request after a change: its set's version, then the resolvers (2)
    "AccreditationAgencies": 3,
    "Accreditations": 6,
    "LicensingReference": 3,
}
# Pages answered from the worker's kept answers until their data changes (schema/http/kept.py):
# asked again, one statement (the version).
KEPT = {"AccreditationAgencies", "LicensingReference"}


TEXT = {path: path.read_text() for path in sorted(PORTAL.glob("*.graphql"))}


def _queries() -> list[Path]:
    found = []
    for path, text in TEXT.items():
        op = next(d for d in parse(text).definitions if isinstance(d, OperationDefinitionNode))
        if op.operation == OperationType.QUERY:
            found.append(path)
    return found


def test_every_portal_query_has_a_budget() -> None:
    assert {p.stem for p in _queries()} == set(STATEMENT_BUDGET)


async def _arrange_unit(session: AsyncSession, agency: Any) -> dict[str, Any]:
    """A licensed private university with programmes and accreditations, plus a private school
    whose application is under review."""
    uni = await make_institution(
        session, kind=InstitutionKind.UNIVERSITY, ownership=Ownership.PRIVATE
    )
    licence = await make_licence(
        session, institution=uni, levels=["higher"], programme_codes=["HE-ECONOMICS", "HE-PEDAGOGY"]
    )
    session.add(
        LicenceEvent(licence_id=licence.id, action="issued", effective_on=today(), actor="t")
    )
    for code in ("HE-ECONOMICS", "HE-PEDAGOGY"):
        programme = await make_institution_programme(session, institution=uni, code=code)
        await make_accreditation(session, institution=uni, agency=agency, programme=programme)
    await make_accreditation(session, institution=uni, agency=agency)
    school = await make_institution(session, ownership=Ownership.PRIVATE)
    application = await make_licence_application(session, institution=school)
    for kind in ("fire_safety_opinion", "sanitary_opinion", "premises_contract"):
        await make_licence_document(session, application=application, kind=kind)
    await session.commit()
    return {
        "id": gid("Institution", uni.id),
        "number": licence.number,
        "application": gid("LicenceApplication", application.id),
    }


@pytest.mark.parametrize("path", _queries(), ids=lambda p: p.stem)
async def test_portal_query_statement_count_does_not_grow_with_rows(
    path: Path, hub: Hub, session: AsyncSession
) -> None:
    document = TEXT[path]
    token = hub.token(Role.MINISTRY)
    agency = await make_accreditation_agency(session)
    first = await _arrange_unit(session, agency)
    variables = {"id": first["id"], "number": first["number"]}
    if path.stem == "LicenceApplication":
        variables = {"id": first["application"]}
    op = next(d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode))
    used = {v.variable.name.value for v in op.variable_definitions or ()}
    variables = {k: v for k, v in variables.items() if k in used}

    async def statements(*, kept: bool = False) -> int:
        if not kept:
            hub.forget_kept_answers()  # as the first request after a change
        hub.counter.reset()
        body = await hub.gql(document, variables, token=token)
        assert "errors" not in body, body
        return hub.counter.count

    # given one unit of data, when the portal sends its query
    few = await statements()
    # and given five more units, when it sends it again
    for _ in range(5):
        await _arrange_unit(session, agency)
    many = await statements()
    # then the statement count is the same and within budget
    assert few == many, hub.counter.statements
    assert many <= STATEMENT_BUDGET[path.stem], hub.counter.statements
    if path.stem in KEPT:
        # and asked again, it is the kept answer: one statement
        assert await statements(kept=True) == 1, hub.counter.statements
