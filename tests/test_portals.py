"""Every portal operation is valid against the schema, and every portal query costs a fixed
number of SQL statements however many rows it returns."""

from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from graphql import OperationDefinitionNode, OperationType, parse, validate
from sqlalchemy.ext.asyncio import AsyncSession

from bench.api import _problem
from bench.workloads import Bench
from resolvers import demo
from resolvers.access import KeyRing
from resolvers.settings import Settings
from schema import schema
from tests.conftest import Hub
from tests.factories import (
    BISHKEK,
    gid,
    make_enrollment,
    make_family,
    make_institution,
    make_person,
)

PORTALS = Path(__file__).resolve().parent.parent / "portals"
DOCUMENTS = sorted(PORTALS.rglob("*.graphql"))
TEXT = {path: path.read_text() for path in DOCUMENTS}


def _operation(path: Path) -> OperationDefinitionNode:
    document = parse(TEXT[path])
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1, f"{path}: one operation per file"
    return operations[0]


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(PORTALS)))
def test_portal_operation_is_valid(path: Path) -> None:
    # given a portal's operation document
    document = parse(TEXT[path])
    # when validated against the schema, then it has no errors and is named after its file
    assert validate(schema._schema, document) == []
    assert _operation(path).name is not None
    assert _operation(path).name.value == path.stem  # type: ignore[union-attr]


# Each workflow portal pins its own queries' statement counts in tests/<domain>/ against data it
# arranges; this module pins the registry's and the public pages'.
PINNED_HERE = ("emis", "public")


def queries() -> list[Path]:
    return [
        p
        for p in DOCUMENTS
        if _operation(p).operation == OperationType.QUERY
        and p.relative_to(PORTALS).parts[0] in PINNED_HERE
    ]


async def _arrange(session: AsyncSession, *, schools: int, pupils: int) -> dict[str, Any]:
    region_schools = []
    first_pupil = None
    for s in range(schools):
        school = await make_institution(session, name=f"№{s + 1} Орто мектеби")
        region_schools.append(school)
        for p in range(pupils):
            pupil = await make_person(
                session,
                first_name=f"Айбек{p}",
                last_name=f"Асанов{s}",
                birth_date=date(2016, 1, 1 + p % 27),
            )
            await make_enrollment(session, person=pupil, institution=school, grade_level=5)
            first_pupil = first_pupil or pupil
    mother, _kids = await make_family(session, children=2)
    await session.commit()
    assert first_pupil is not None
    return {
        "id": gid("Person", mother.id),
        "personId": gid("Person", first_pupil.id),
        "regionId": gid("Region", BISHKEK),
        "grade": 5,
        "filter": {"regionId": gid("Region", BISHKEK)},
    }


# The most SQL statements each portal query may send, whatever the number of rows.
STATEMENT_BUDGET = {
    "PersonById": 5,
    "InstitutionsOfRegion": 4,
    "EnrollmentHistory": 4,
    "PupilsOfGrade": 1,
    "PupilCounts": 2,
    "Regions": 2,
    "InstitutionSearch": 4,
}


@pytest.mark.parametrize("path", queries(), ids=lambda p: p.stem)
async def test_portal_query_statement_count_does_not_grow_with_rows(
    path: Path, hub: Hub, ministry: str, session: AsyncSession
) -> None:
    # given a region with several schools full of pupils
    variables = await _arrange(session, schools=4, pupils=6)
    document = TEXT[path]
    operation = _operation(path)
    used = {v.variable.name.value for v in operation.variable_definitions or ()}
    # when the portal sends its query
    hub.counter.reset()
    body = await hub.gql(
        document, {k: v for k, v in variables.items() if k in used}, token=ministry
    )
    # then it succeeds within its statement budget
    assert "errors" not in body, body
    assert hub.counter.count <= STATEMENT_BUDGET[path.stem], hub.counter.statements


# SQL statements of one call of each workflow mutation, as `python -m bench.api` sends it (its
# workload's state, its caller), savepoint, audit row and outbox event included. Issue 21's
# target is at most 10; the ones above it say why in docs/performance.md ("Statements per
# mutation"). A comment gives a mutation's earlier counts, newest first: before the step's audit
# row carried its outbox events and history (issue 21's second round), then before issue 21.
# The portals pinned since that round (vouchers, admission, study abroad, libraries, LMS,
# learning content, open courses) have no comment. The third round (each step's own reads and
# writes folded: docs/performance.md) put its count before the earlier ones.
MUTATION_STATEMENTS: dict[str, dict[str, int]] = {
    "bench.workloads.kindergarten_queue": {
        "ApplyToKindergartenQueue": 7,  # 10, 13, 19
        "VerifyKindergartenBenefit": 6,  # 8, 9, 11
        "TransferKindergartenApplication": 9,  # 10, 15, 18
        "WithdrawKindergartenApplication": 7,  # 9, 12
        "DeclareFreePlaces": 8,  # 9
        "OfferPlaces": 10,  # 13, 16, 21
        "AcceptOffer": 8,  # 10, 12, 14
        "DeclineOffer": 7,  # 9, 10, 12, 15
        "ConfirmAdmission": 9,  # 10, 16, 18
    },
    "bench.workloads.kindergarten_vouchers": {
        "ClaimKindergartenVoucher": 9,  # 11
        "DecideKindergartenVoucher": 7,  # 9
        "UseKindergartenVoucher": 10,  # 19
        "EndKindergartenVoucher": 7,  # 9
    },
    "bench.workloads.first_grade": {
        "ApplyForFirstGrade": 10,  # 11, 17
        "VerifyFirstGradeApplication": 7,  # 9
        "SetFirstGradeQuota": 7,  # 8
        "AllocateFirstGradePlaces": 14,  # 29, 30
        "WithdrawFirstGradeApplication": 7,  # 9
    },
    "bench.workloads.emis": {
        "RegisterPerson": 6,  # 7
        "CreateInstitution": 9,  # 10
        "UpdateInstitution": 8,  # 9
        "EnrollStudent": 10,  # 12, 13
        "TransferStudent": 9,  # 13, 18, 19
        "WithdrawStudent": 6,  # 7
        "LinkGuardian": 8,  # 9
    },
    "bench.workloads.licensing": {
        "ApplyForLicence": 9,  # 10, 12
        "SupplementLicenceApplication": 9,  # 11, 12
        "ReviewLicenceApplication": 7,  # 12, 14
        "ReissueLicence": 11,  # 21, 23
        "SuspendLicence": 6,  # 8, 9
        "RestoreLicence": 6,  # 8, 9
        "RevokeLicence": 6,  # 8, 9
        "RegisterAccreditationAgency": 5,  # 6
        "ApplyForAccreditation": 8,  # 9
        "AdvanceAccreditation": 7,  # 8
        "DefineProgrammeCode": 4,  # 4
        "SetLicensingPolicy": 4,  # 5
        "RunLicensingJobs": 7,  # 67
    },
    "bench.workloads.study_abroad": {
        "CreateForeignProgramme": 7,
        "ApplyToForeignProgramme": 9,
        "AdvanceForeignApplication": 9,
    },
    "bench.workloads.university_admission": {
        "CreateAdmissionSeason": 4,
        "CreateAdmissionRound": 6,
        "SetFieldThreshold": 6,
        "SetDistrictPool": 7,
        "CreateProgramme": 8,
        "RecordCreativeTestScore": 8,
        "ApplyToProgrammes": 10,  # 24
        "ConfirmPlace": 8,  # 14
        "PublishRound": 10,  # 14
        "IssueAdmissionOrder": 10,  # 14
        "ImportTestResults": 10,
    },
    "bench.workloads.library": {
        "CreateBibRecord": 4,
        "ApproveTextbook": 8,
        "AttachBibFile": 7,
        "AddLibraryItems": 7,
        "CheckOutItem": 6,
        "ReturnItem": 9,  # 11
        "RenewLoan": 7,
        "PlaceHold": 8,  # 11
        "CancelHold": 5,
        "IssueTextbooks": 9,  # 11
    },
    "bench.workloads.lms": {
        "RecordClassLesson": 10,
        "RecordAttendance": 10,  # 12
        "RecordMarks": 8,  # 9, 10
        "AssignHomework": 8,
        "ReviewHomework": 8,
        "SetTimetableSlot": 9,  # 14
        "CreateClassGroup": 8,  # 11
        "AssignPupilsToClass": 9,  # 12
        "AssignPupilsToHalf": 9,
        "SubmitHomework": 8,
        "ReportConcern": 8,
        "AdvanceConcernReport": 7,
    },
    "bench.workloads.sanarip_sabak": {
        "RecordLessonProgress": 7,
        "SyncLessonProgress": 6,
        "ImportCurriculum": 6,
        "CreateLesson": 8,
        "UploadLessonMedia": 10,
        "SetLessonQuiz": 10,
        "SubmitLessonForReview": 9,
        "PublishLesson": 9,
    },
    "bench.workloads.open_courses": {
        "CreateOpenCourse": 9,  # 13
        "CreateCourseRun": 8,  # 9
        "EnrollInCourseRun": 7,  # 11
        "RecordAssessmentResult": 9,
        "IssueCertificate": 10,
        "RecognizeCourseCredits": 10,
    },
}


@pytest.mark.parametrize("module", sorted(MUTATION_STATEMENTS))
async def test_portal_mutation_statement_count_is_pinned(
    module: str, db_url: str, settings: Settings, hub: Hub
) -> None:
    # given the benchmark's own state for each mutation of the portal, on a small dataset
    await demo.load(db_url, scale=0.002, seed=7, progress=False)
    bench = Bench(db_url, settings, KeyRing.load(settings))
    # and a process that has read the curriculum's subject codes (read once per process: a
    # cold process sends one statement more, whichever test reads them first)
    warm = '{ lessons(first: 1, filter: {subject: "mathematics"}) { totalCount } }'
    assert "errors" not in (await hub.client.post("/graphql", json={"query": warm})).json()
    counts: dict[str, int] = {}
    for workload in importlib.import_module(module).WORKLOADS:
        document = (PORTALS / f"{workload.operation}.graphql").read_text()
        if _operation_of(document) != OperationType.MUTATION:
            continue
        (call, *_) = await workload.prepare(bench, 3)
        body, content_type = call.body(document)
        # when one call is sent
        hub.counter.reset()
        response = await hub.client.post(
            "/graphql",
            content=body,
            headers={"Authorization": f"Bearer {call.token}", "Content-Type": content_type},
        )
        # then it succeeds, with the pinned number of statements
        assert _problem(response.json()) == "", (workload.operation, response.text)
        counts[workload.operation.split("/")[1]] = hub.counter.count
    assert counts == MUTATION_STATEMENTS[module], counts


def _operation_of(document: str) -> OperationType:
    (operation,) = [
        d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)
    ]
    return operation.operation
