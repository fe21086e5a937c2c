"""The synthetic dataset (`bilim seed`, `bilim serve --demo`) is deterministic and valid."""

from __future__ import annotations

import asyncpg
from sqlalchemy.engine import make_url

from models.database import plain_url
from resolvers import demo
from resolvers.people.pin import parse_pin

TABLES = ("institution", "person", "person_pin", "guardianship", "enrollment", "staff_position")


async def _fingerprint(url: str) -> dict[str, str]:
    conn = await asyncpg.connect(url)
    try:
        prints = {}
        for table in TABLES:
            prints[table] = await conn.fetchval(
                f"SELECT md5(string_agg((to_jsonb(t) - 'created_at' - 'updated_at')::text, ','"
                f" ORDER BY id)) FROM {table} t"
            )
        return prints
    finally:
        await conn.close()


async def test_same_seed_gives_the_same_data_and_it_is_valid(
    db_url: str, template_url: str
) -> None:
    # given two empty databases (the test's own, and one more copy of the template)
    assert not await demo.is_loaded(db_url)
    counts = await demo.load(db_url, scale=0.002, seed=7, progress=False)
    # then the load reports what it wrote
    assert counts["institutions"] > 9
    assert counts["persons"] > 1000
    assert await demo.is_loaded(db_url)

    conn = await asyncpg.connect(db_url)
    try:
        # every PIN is well formed, matches its person and is the one current PIN row
        rows = await conn.fetch(
            "SELECT p.pin, p.sex, p.birth_date, pp.pin AS current FROM person p"
            " JOIN person_pin pp ON pp.person_id = p.id AND pp.valid_to IS NULL"
        )
        for row in rows:
            facts = parse_pin(row["pin"])
            assert (facts.sex.value, facts.birth_date) == (row["sex"], row["birth_date"])
            assert row["current"] == row["pin"]
        # every region has schools, kindergartens and universities
        kinds = await conn.fetch(
            "SELECT region_id, count(DISTINCT kind) AS kinds FROM institution"
            " WHERE region_id IS NOT NULL AND kind IN ('school','kindergarten','university')"
            " GROUP BY region_id"
        )
        assert len(kinds) == 9
        assert all(r["kinds"] == 3 for r in kinds)
        # the sequences continue after the loaded ids
        new_id = await conn.fetchval(
            "INSERT INTO region (code, kind, name_ky, name_ru, name_en) VALUES"
            " ('KG-TEST', 'city', 'x', 'x', 'x') RETURNING id"
        )
        assert new_id == 10
        first = await _fingerprint(db_url)
    finally:
        await conn.close()

    # when the same seed is loaded into another empty database
    twin = f"{make_url(db_url).database}_twin"
    twin_url = plain_url(make_url(db_url).set(database=twin))
    server = await asyncpg.connect(plain_url(make_url(db_url).set(database="postgres")))
    try:
        await server.execute(
            f'CREATE DATABASE "{twin}" TEMPLATE "{make_url(template_url).database}"'
        )
        await demo.load(twin_url, scale=0.002, seed=7, progress=False)
        # then the data is the same, row for row
        assert await _fingerprint(twin_url) == first
    finally:
        await server.execute(f'DROP DATABASE IF EXISTS "{twin}" WITH (FORCE)')
        await server.close()


async def test_institutions_can_be_scaled_apart_from_the_learners(db_url: str) -> None:
    # when 0.2 % of the country is loaded with 80 institutions instead of about eight
    counts = await demo.load(db_url, scale=0.002, seed=7, progress=False, institutions=80)

    # then there are about 80 (each region keeps at least one of a kind; foreign ones are apart)
    conn = await asyncpg.connect(db_url)
    try:
        home = await conn.fetchval("SELECT count(*) FROM institution WHERE country_code = 'KG'")
        pupils = await conn.fetchval(
            "SELECT count(DISTINCT person_id) FROM enrollment WHERE sector = 'school'"
        )
        empty = await conn.fetchval(
            "SELECT count(*) FROM institution i WHERE kind = 'school' AND NOT EXISTS ("
            " SELECT 1 FROM enrollment e WHERE e.institution_id = i.id)"
        )
    finally:
        await conn.close()
    assert 70 <= home <= 100
    assert counts["institutions"] >= home
    # and the pupils are still 0.2 % of the country's, spread over every school
    assert abs(pupils - round(demo.PUPILS * 0.002)) < demo.PUPILS * 0.002 * 0.1
    assert empty == 0
