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
from resolvers.rows import locked_row, write_row, write_rows
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


class TestWriteRows:
    async def test_two_rows_are_written_in_one_statement_and_kept_as_loaded(
        self, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given two applications loaded and locked
        first, second = await _application(session), await _application(session)
        for application in (first, second):
            assert await locked_row(session, KindergartenApplication, application.id)
        counter = database.StatementCounter()
        counter.attach(engine)
        counter.reset()
        # when both are written at once, with other columns each
        await write_rows(
            session,
            (first, {"status": QueueStatus.ACCEPTED}),
            (second, {"benefit_status": BenefitStatus.VERIFIED, "contact_phone": "+996700000001"}),
        )
        sent = list(counter.statements or [])
        counter.detach(engine)
        # then one statement wrote them, each object holds its values and what the database
        # set (its updated_at, its computed benefit_verified), nothing left for a flush
        assert len(sent) == 1, sent
        assert not session.dirty
        assert first.status == QueueStatus.ACCEPTED
        assert first.benefit_verified is False
        assert second.benefit_verified is True
        assert second.contact_phone == "+996700000001"
        now = await session.scalar(select(func.now()))
        assert first.updated_at == now == second.updated_at
        await session.commit()
        # and the rows say the same
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(
                        KindergartenApplication.status,
                        KindergartenApplication.benefit_verified,
                        KindergartenApplication.contact_phone,
                    )
                    .where(KindergartenApplication.id.in_([first.id, second.id]))
                    .order_by(KindergartenApplication.id)
                )
            ).all()
        assert [tuple(r) for r in rows] == [
            (QueueStatus.ACCEPTED, False, first.contact_phone),
            (second.status, True, "+996700000001"),
        ]

    async def test_the_statement_is_compiled_once(
        self, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given two applications
        first, second = await _application(session), await _application(session)
        counter = database.StatementCounter()
        counter.attach(engine)
        compiled: list[list[str]] = []
        # when they are written together three times
        for status in (QueueStatus.OFFERED, QueueStatus.ACCEPTED, QueueStatus.WAITING):
            counter.reset()
            await write_rows(session, (first, {"status": status}), (second, {"status": status}))
            compiled.append([s for s in counter.compiled or [] if "UPDATE" in s])
            await session.commit()
        counter.detach(engine)
        # then after the first time it is not compiled again
        assert compiled[1:] == [[], []], compiled


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
