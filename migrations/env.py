"""Alembic environment: runs the migrations on an asyncpg connection."""

from __future__ import annotations

import asyncio
import re

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import models

config = context.config
target_metadata = models.Base.metadata

# A year's partitions of the LMS tables (class_lesson_y2025, ...) are made by a trigger when the
# year is created (migration 0026); the models declare only their partitioned parents.
YEAR_PARTITION = re.compile(r"^(class_lesson|attendance|mark)_y\d{4}$")


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    if type_ == "table" and reflected and name is not None and YEAR_PARTITION.match(name):
        return False
    if type_ == "foreign_key_constraint" and reflected:
        # PostgreSQL keeps one internal constraint per partition a foreign key points at.
        referred = getattr(getattr(obj, "referred_table", None), "name", "")
        return not YEAR_PARTITION.match(referred)
    return True


def _url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        from models.database import async_url
        from resolvers.settings import get_settings

        configured = get_settings().database_url
        if not configured:
            raise RuntimeError("Set DATABASE_URL (or use `bilim migrate`) to run migrations")
        url = async_url(configured).render_as_string(hide_password=False)
    return str(url)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        transaction_per_migration=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def _connect_args() -> dict[str, object]:
    """PgBouncer's asyncpg arguments when the hub runs behind it (``BILIM_PGBOUNCER``)."""
    from models.database import pgbouncer_connect_args
    from resolvers.settings import get_settings

    return pgbouncer_connect_args() if get_settings().pgbouncer else {}


async def _run_async() -> None:
    engine = create_async_engine(_url(), poolclass=pool.NullPool, connect_args=_connect_args())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
