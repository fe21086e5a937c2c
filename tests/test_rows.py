"""One row locked or written with a statement made once (resolvers/rows.py, issue 21): the row
and the loaded object agree afterwards, what the database sets on an update is read back, and
SQLAlchemy compiles each statement once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import object_session
from sqlalchemy.orm.attributes import instance_state

from models import (
    BenefitStatus,
    InstitutionKind,
    IntakeKind,
    KindergartenApplication,
    QueueStatus,
    Sex,
    database,
)
from resolvers.rows import locked_row, write_row
from tests.factories import (
    make_institution,
    make_intake_season,
    make_kindergarten_application,
    make_person,
)


async def _application(session: AsyncSession) -> KindergartenApplication:
    season = await make_intake_season(session, kind=IntakeKind.KINDERGARTEN)
    kindergarten = await make_institution(session, kind=InstitutionKind.KINDERGARTEN)
    child = await make_person(session, sex=Sex.MALE)
    mother = await make_person(session, birth_date=child.birth_date.replace(year=1990))
    application = await make_kindergarten_application(
        session,
        child=child,
        guardian=mother,
        kindergartens=[kindergarten],
        season=season,
        benefit="military",
        benefit_status=BenefitStatus.CLAIMED,
    )
    await session.commit()
    return application


class TestWriteRow:
    async def test_the_row_and_the_object_agree_and_database_set_columns_are_read_back(
        self, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given an application loaded and locked, its benefit claimed (a computed column reads
        # it) and its last change some time ago
        application = await _application(session)
        await session.execute(
            text("UPDATE kindergarten_application SET updated_at = now() - interval '1 day'")
        )
        await session.commit()
        locked = await locked_row(session, KindergartenApplication, application.id)
        assert locked is application
        assert locked.benefit_verified is False
        before = locked.updated_at
        # when its status and benefit are written
        await write_row(
            session, locked, status=QueueStatus.ACCEPTED, benefit_status=BenefitStatus.VERIFIED
        )
        # then the object holds the values as loaded (nothing left for a flush), with the
        # columns the database set (updated_at, the computed benefit_verified) read back
        assert not instance_state(locked).modified
        assert not session.dirty
        assert (locked.status, locked.benefit_status) == (
            QueueStatus.ACCEPTED,
            BenefitStatus.VERIFIED,
        )
        assert locked.benefit_verified is True
        assert locked.updated_at > before
        in_transaction = await session.scalar(select(func.now()))
        assert locked.updated_at == in_transaction
        await session.commit()
        # and the row says the same
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    select(
                        KindergartenApplication.status,
                        KindergartenApplication.benefit_verified,
                        KindergartenApplication.updated_at,
                    ).where(KindergartenApplication.id == application.id)
                )
            ).one()
        assert tuple(row) == (QueueStatus.ACCEPTED, True, locked.updated_at)

    async def test_each_statement_is_compiled_once(
        self, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given an application, and the statements SQLAlchemy compiles afresh counted
        application = await _application(session)
        counter = database.StatementCounter()
        counter.attach(engine)
        compiled: list[list[str]] = []
        # when it is locked and written three times (the model's lock and one write shape)
        for status in (QueueStatus.OFFERED, QueueStatus.ACCEPTED, QueueStatus.WAITING):
            counter.reset()
            locked = await locked_row(session, KindergartenApplication, application.id)
            assert locked is not None
            await write_row(session, locked, status=status)
            compiled.append(list(counter.compiled or []))
            await session.commit()
        counter.detach(engine)
        # then after the first time neither statement is compiled again
        assert compiled[1:] == [[], []], compiled

    async def test_a_new_object_or_an_sql_expression_is_refused(
        self, session: AsyncSession
    ) -> None:
        # given an application loaded, and a new one not yet written
        application = await _application(session)
        fresh = KindergartenApplication(status=QueueStatus.WAITING)
        # when either is written wrongly, then it is refused before any statement
        with pytest.raises(ValueError, match="loaded in the session"):
            await write_row(session, fresh, status=QueueStatus.ACCEPTED)
        with pytest.raises(TypeError, match="plain values"):
            await write_row(session, application, updated_at=func.now())
        assert object_session(fresh) is None


class TestLockedRow:
    async def test_the_row_is_locked_and_loaded_as_it_now_is(
        self, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given an application loaded in the session, then changed by another transaction
        application = await _application(session)
        assert application.contact_phone != "+996555000111"
        async with engine.begin() as other:
            await other.execute(
                text("UPDATE kindergarten_application SET contact_phone = '+996555000111'")
            )
        # when the step locks it
        locked = await locked_row(session, KindergartenApplication, application.id)
        # then the object holds the row as it now is, and another transaction cannot lock it
        assert locked is application
        assert locked.contact_phone == "+996555000111"
        async with engine.connect() as other:
            with pytest.raises(DBAPIError, match="could not obtain lock"):
                await other.execute(
                    select(KindergartenApplication.id)
                    .where(KindergartenApplication.id == application.id)
                    .with_for_update(nowait=True)
                )
        await session.rollback()
        # and a missing row is None
        assert await locked_row(session, KindergartenApplication, 10**9) is None
