"""A new row inserted by a statement made once (resolvers/new_rows.py, issue 21): the session's
object for it is persistent as if loaded, with what the database wrote (server defaults, the
computed global ID), nothing left for a flush, and the INSERT counted as one statement."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Column, Integer, String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.orm.attributes import instance_state

from models import Person, database
from models.people import Sex
from resolvers.new_rows import insert_of, insert_row

NEW_PERSON = insert_of(Person, "pin", "last_name", "first_name", "patronymic", "sex", "birth_date")


async def test_the_new_row_is_the_sessions_persistent_object(engine: AsyncEngine) -> None:
    counter = database.StatementCounter()
    counter.attach(engine)
    try:
        async with database.session_factory(engine)() as s:
            # when a person is inserted
            counter.reset()
            person: Person = await insert_row(
                s,
                NEW_PERSON,
                pin=None,
                last_name="Жумабекова",
                first_name="Нургуль",
                patronymic=None,
                sex=Sex.FEMALE,
                birth_date=date(2016, 2, 29),
            )
            # then one statement wrote it and read back what the database set
            assert counter.count == 1
            state = instance_state(person)
            assert state.persistent
            assert not s.dirty
            assert not s.new
            assert person.sex is Sex.FEMALE
            assert person.birth_date == date(2016, 2, 29)
            assert person.gid  # computed by the database
            assert person.created_at is not None
            # and it is the session's own object: a get needs no statement
            counter.reset()
            assert await s.get(Person, person.id) is person
            assert counter.count == 0
            # and a change to it is flushed like one to any loaded object
            person.patronymic = "Асановна"
            await s.commit()
            pk = person.id
    finally:
        counter.detach(engine)
    async with database.session_factory(engine)() as s:
        again = await s.get(Person, pk)
        assert again is not None
        assert (again.last_name, again.patronymic) == ("Жумабекова", "Асановна")


async def test_every_named_value_is_given(engine: AsyncEngine) -> None:
    async with database.session_factory(engine)() as s:
        with pytest.raises(ValueError, match="exactly"):
            await insert_row(s, NEW_PERSON, last_name="Жумабекова")


async def test_the_databases_refusal_reaches_the_caller_as_sqlalchemys(
    engine: AsyncEngine,
) -> None:
    async with database.session_factory(engine)() as s:
        with pytest.raises(IntegrityError):  # last_name is NOT NULL
            await insert_row(
                s,
                NEW_PERSON,
                pin=None,
                last_name=None,
                first_name="Нургуль",
                patronymic=None,
                sex=Sex.FEMALE,
                birth_date=date(2016, 2, 29),
            )


class _Base(DeclarativeBase):
    pass


class _Defaulted(_Base):
    __tablename__ = "defaulted"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), default="x")
    n = Column(Integer)


def test_a_python_side_default_must_be_named() -> None:
    # A Python-side default is the unit of work's to compute: a statement made once without
    # it would be sent without a value, so naming the other columns alone is refused.
    with pytest.raises(ValueError, match="code"):
        insert_of(_Defaulted, "n")
    assert insert_of(_Defaulted, "n", "code").names == ("n", "code")
