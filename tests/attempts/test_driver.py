"""Statements made once and sent through the driver on the session's connection
(resolvers/driver.py): rows as SQLAlchemy gives them, the session's transaction, statement
counts, SQLAlchemy's errors, and rows locked into the session's objects (issue 21)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from models import AuditEntry, Outcome, Person, database
from models.people import Sex
from resolvers import driver
from resolvers.faults import is_retryable, sqlstate_of
from resolvers.mutations import constraint_of
from tests.factories import make_person

PERSON = driver.Made(
    select(Person.id, Person.sex, Person.birth_date, Person.last_name).where(
        Person.id == bindparam("id")
    )
)
# A literal the statement carries (``sector = 'school'``-like): sent as a parameter of its own.
FEMALE = driver.Made(
    select(Person.id).where(Person.sex == Sex.FEMALE, Person.id == bindparam("id"))
)
RENAME = driver.Made(
    update(Person).where(Person.id == bindparam("id")).values(last_name=bindparam("name"))
)
REPIN = driver.Made(update(Person).where(Person.id == bindparam("id")).values(pin=bindparam("pin")))


async def _arranged(engine: AsyncEngine, **kwargs: Any) -> int:
    async with database.session_factory(engine)() as s, s.begin():
        person = await make_person(s, **kwargs)
        return person.id


async def test_rows_come_as_sqlalchemy_gives_them(engine: AsyncEngine) -> None:
    pk = await _arranged(engine, sex=Sex.MALE, birth_date=date(2015, 3, 1), last_name="Осмонов")
    async with database.session_factory(engine)() as s:
        (row,) = await driver.rows(s, PERSON, {"id": pk})
        assert row == (pk, Sex.MALE, date(2015, 3, 1), "Осмонов")
        assert type(row[1]) is Sex  # the enum column's result processor, not a bare string
        assert await driver.one_or_none(s, PERSON, {"id": pk + 10_000}) is None
        assert await driver.scalar(s, FEMALE, {"id": pk}) is None  # the literal was sent
        female = await _arranged(engine, sex=Sex.FEMALE)
        assert await driver.scalar(s, FEMALE, {"id": female}) == female


async def test_json_and_enum_parameters_go_through_sqlalchemy_processors(
    engine: AsyncEngine,
) -> None:
    made = driver.Made(
        insert(AuditEntry)
        .values(
            actor=bindparam("actor"),
            role=bindparam("role"),
            operation=bindparam("operation"),
            outcome=bindparam("outcome", type_=AuditEntry.__table__.c.outcome.type),
            details=bindparam("details", type_=AuditEntry.__table__.c.details.type),
        )
        .returning(AuditEntry.outcome, AuditEntry.details)
    )
    async with database.session_factory(engine)() as s:
        outcome, details = await driver.one(
            s,
            made,
            {
                "actor": "test",
                "role": "MINISTRY",
                "operation": "driver.test",
                "outcome": Outcome.REJECTED,
                "details": {"codes": ["A", "Б"], "n": 2},
            },
        )
        await s.rollback()
    assert outcome is Outcome.REJECTED
    assert details == {"codes": ["A", "Б"], "n": 2}


async def test_a_missing_parameter_or_an_expanding_one_is_refused(engine: AsyncEngine) -> None:
    expanding = driver.Made(
        select(Person.id).where(Person.id.in_(bindparam("ids", expanding=True)))
    )
    async with database.session_factory(engine)() as s:
        with pytest.raises(ValueError, match="no value"):
            await driver.rows(s, PERSON, {})
        with pytest.raises(ValueError, match="ANY"):
            await driver.rows(s, expanding, {"ids": [1, 2]})


async def test_statements_run_in_the_sessions_transaction_and_are_counted(
    engine: AsyncEngine,
) -> None:
    pk = await _arranged(engine, last_name="Бекова")
    counter = database.StatementCounter()
    counter.attach(engine)
    counter.reset()
    try:
        async with database.session_factory(engine)() as s:
            # The first statement of the session: the transaction is begun for it.
            assert await driver.execute(s, RENAME, {"id": pk, "name": "Жумабаева"}) == 1
            assert await driver.scalar(s, PERSON, {"id": pk}) == pk
            assert (await driver.one(s, PERSON, {"id": pk}))[3] == "Жумабаева"
            await s.rollback()
            assert (await driver.one(s, PERSON, {"id": pk}))[3] == "Бекова"
    finally:
        counter.detach(engine)
    assert counter.statements is not None
    sent = [" ".join(sql.split()) for sql in counter.statements]
    assert sum(sql.startswith("UPDATE person SET last_name") for sql in sent) == 1
    assert sum(sql.startswith("SELECT person.id, person.sex") for sql in sent) == 3


async def test_errors_reach_the_caller_as_sqlalchemys(engine: AsyncEngine) -> None:
    first = await _arranged(engine)
    second = await _arranged(engine)
    async with database.session_factory(engine)() as s:
        taken = await s.scalar(select(Person.pin).where(Person.id == first))
        with pytest.raises(IntegrityError) as broke:
            await driver.execute(s, REPIN, {"id": second, "pin": taken})
        # The constraint's name, which the mutations turn into the domain's code.
        assert constraint_of(broke.value) == "uq_person_pin_current"
        assert str(taken) not in str(broke.value)  # parameters hidden: personal data
        await s.rollback()
        lost = driver.Made(
            text("DO $$ BEGIN RAISE EXCEPTION 'lost' USING ERRCODE = '40001'; END $$")
        )
        with pytest.raises(DBAPIError) as race:
            await driver.execute(s, lost, {})
        assert is_retryable(race.value)  # a lost race is run again, as through SQLAlchemy
        await s.rollback()
        assert await driver.scalar(s, PERSON, {"id": first}) == first


async def test_a_locked_object_joins_the_session_as_if_loaded(engine: AsyncEngine) -> None:
    pk = await _arranged(engine, last_name="Садыкова")
    counter = database.StatementCounter()
    counter.attach(engine)
    try:
        async with database.session_factory(engine)() as s:
            person = await driver.locked_object(s, Person, pk)
            assert person is not None
            assert person.last_name == "Садыкова"
            assert person.sex is Sex.FEMALE
            assert person.id == pk
            counter.reset()
            assert await s.get(Person, pk) is person  # in the identity map: no statement
            assert counter.count == 0
            # A change to it is flushed like one to any loaded object.
            person.patronymic = "Маратовна"
            await s.commit()
            assert await driver.locked_object(s, Person, pk + 10_000) is None
    finally:
        counter.detach(engine)
    async with database.session_factory(engine)() as s:
        assert (await s.get(Person, pk)).patronymic == "Маратовна"


async def test_a_locked_object_is_read_again_as_the_database_has_it(engine: AsyncEngine) -> None:
    pk = await _arranged(engine, last_name="Алиева")
    async with database.session_factory(engine)() as s:
        stale = await s.get(Person, pk)
        assert stale is not None
        async with engine.begin() as other:
            await other.execute(
                update(Person).where(Person.id == pk).values(last_name="Токтогулова")
            )
        again = await driver.locked_object(s, Person, pk)
        assert again is stale
        assert again is not None
        assert again.last_name == "Токтогулова"


async def test_a_locked_object_holds_its_row_against_others(engine: AsyncEngine) -> None:
    pk = await _arranged(engine)
    async with (
        database.session_factory(engine)() as holder,
        database.session_factory(engine)() as other,
    ):
        assert await driver.locked_object(holder, Person, pk) is not None
        await other.execute(text("SET LOCAL lock_timeout = '100ms'"))
        with pytest.raises(DBAPIError) as waited:
            await driver.locked_object(other, Person, pk)
        assert sqlstate_of(waited.value) == "55P03"  # lock_not_available: the row is held
        await other.rollback()
        await holder.rollback()
        assert await driver.locked_object(other, Person, pk) is not None


PEOPLE = driver.entity(Person)
PERSON_ROW = driver.Made(select(*PEOPLE.columns).where(Person.id == bindparam("id")))


async def test_an_object_from_a_rows_columns_is_the_sessions_own(engine: AsyncEngine) -> None:
    pk = await _arranged(engine, last_name="Мамытова")
    async with database.session_factory(engine)() as s:
        row = await driver.one(s, PERSON_ROW, {"id": pk})
        made = driver.object_of(s, PEOPLE, row)
        assert isinstance(made, Person)
        assert made.last_name == "Мамытова"
        assert await s.get(Person, pk) is made
        # Loaded again without ``populate``: the session's object as it is, its unsaved
        # change kept (as the ORM's query leaves an object it already holds).
        made.first_name = "Нургуль"
        again = driver.object_of(s, PEOPLE, await driver.one(s, PERSON_ROW, {"id": pk}))
        assert again is made
        assert again.first_name == "Нургуль"
        # With ``populate``: as the database has it (``populate_existing``).
        fresh = driver.object_of(s, PEOPLE, row, populate=True)
        assert fresh is made
        assert fresh.first_name == "Айгерим"


async def test_get_object_reads_only_what_the_session_does_not_hold(engine: AsyncEngine) -> None:
    pk = await _arranged(engine, last_name="Усенова")
    counter = database.StatementCounter()
    counter.attach(engine)
    try:
        async with database.session_factory(engine)() as s:
            # when a row the session does not hold is asked for, one statement reads it
            counter.reset()
            person = await driver.get_object(s, Person, pk)
            assert counter.count == 1
            assert person is not None
            assert person.last_name == "Усенова"
            assert await s.get(Person, pk) is person
            # and asked again, the session's object is given as it is, with no statement
            counter.reset()
            person.first_name = "Нургуль"
            again = await driver.get_object(s, Person, pk)
            assert again is person
            assert counter.count == 0
            assert again.first_name == "Нургуль"
            assert await driver.get_object(s, Person, pk + 10_000) is None
    finally:
        counter.detach(engine)
