"""Expiry is applied by the jobs runner: `runLicensingJobs` (the ministry) and `bilim jobs run`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import InstitutionKind, Licence, LicenceEvent, Ownership
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import (
    make_accreditation,
    make_accreditation_agency,
    make_institution,
    make_licence,
)
from tests.licensing.helpers import count, payload, today, topics

RUN = """
mutation RunLicensingJobs($input: RunLicensingJobsInput) {
  runLicensingJobs(input: $input) {
    report { on licencesExpired accreditationsExpired }
    userErrors { field code message }
  }
}
"""


async def _arrange(session: AsyncSession) -> None:
    school = await make_institution(session, ownership=Ownership.PRIVATE)
    await make_licence(session, institution=school, valid_until=today() - timedelta(days=1))
    other = await make_institution(session, ownership=Ownership.PRIVATE)
    await make_licence(session, institution=other, valid_until=today() + timedelta(days=1))
    uni = await make_institution(session, kind=InstitutionKind.UNIVERSITY)
    agency = await make_accreditation_agency(session)
    await make_accreditation(
        session, institution=uni, agency=agency, valid_until=today() - timedelta(days=3)
    )
    await session.commit()


class TestRunLicensingJobs:
    async def test_expiry_marks_licences_and_accreditations_past_validity(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        # given one licence and one accreditation past validity, one licence still valid
        await _arrange(session)
        # when the ministry runs the jobs
        result = await payload(hub, RUN, "runLicensingJobs", ministry, {})
        # then exactly the lapsed ones expire, with history and events
        assert result["report"] == {
            "on": today().isoformat(),
            "licencesExpired": 1,
            "accreditationsExpired": 1,
        }
        assert await count(session, LicenceEvent) == 1
        assert await topics(session) == [
            "licensing.licence_expired",
            "licensing.accreditation_expired",
        ]
        # and a second run the same day changes nothing
        again = await payload(hub, RUN, "runLicensingJobs", ministry, {})
        assert again["report"]["licencesExpired"] == 0
        assert again["report"]["accreditationsExpired"] == 0

    async def test_only_the_ministry_runs_the_jobs(self, hub: Hub, session: AsyncSession) -> None:
        await _arrange(session)
        officer = hub.token(Role.LICENSING_OFFICER)
        result = await payload(hub, RUN, "runLicensingJobs", officer, {})
        assert [e["code"] for e in result["userErrors"]] == ["FORBIDDEN"]
        assert await count(session, LicenceEvent) == 0

    async def test_bilim_jobs_run_applies_expiry(
        self, session: AsyncSession, db_url: str, tmp_path: Path
    ) -> None:
        # given a lapsed licence in the database the command is pointed at
        await _arrange(session)
        env = {**os.environ, "DATABASE_URL": db_url, "BILIM_DATA_DIR": str(tmp_path)}
        # when the jobs runner runs
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", "from cli import main; main()", "jobs", "run"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        # then it reports and applies the expiry
        assert "expired_licences: 1" in done.stderr
        await session.rollback()
        statuses = sorted((await session.scalars(select(Licence.status))).all())
        assert [s.value for s in statuses] == ["active", "expired"]
