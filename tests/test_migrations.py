"""Migrations are the only way the schema changes: they build every test database, and the
models hold nothing the migrations lack."""

import asyncio

from alembic import command

from models import database


async def test_models_and_migrations_agree(template_url: str) -> None:
    # given a database built by `alembic upgrade head`
    config = database.alembic_config(template_url)
    # when alembic compares it with the models, then it finds nothing to generate
    await asyncio.to_thread(command.check, config)


async def test_database_is_at_the_head_revision(template_url: str) -> None:
    engine = database.create_engine(template_url, pool_size=1)
    try:
        assert await database.current_revisions(engine) == database.head_revisions()
    finally:
        await engine.dispose()
