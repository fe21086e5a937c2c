"""The crowd of ``python -m bench.lms --crowd`` (bench/lms_crowd.py: 1,000 teachers marking at
once, issue 15) sends valid requests: each teacher a class of their own, each mark in the
scheme of the class's grade (S2), every request answered without an error or a user error,
and every mark in the database once. Kept here so that the benchmark does not measure failing
requests when the schema or the rules move."""

from __future__ import annotations

import argparse
from pathlib import Path

import asyncpg
import httpx

from bench.api import _problem
from bench.lms import load
from bench.lms_crowd import (
    PORTALS,
    Rule,
    choose,
    landed,
    marks_for,
    record_lessons,
    record_marks_call,
    script,
    teacher_token,
)
from models.lms.years import AssessmentScheme
from resolvers.lms.gradebook import Scheme, fits
from resolvers.relay import decode_id
from tests.conftest import Hub


async def test_the_marks_fit_the_scheme_of_every_grade(db_url: str) -> None:
    """S2: for every assessment rule of both curriculum models, every mark the crowd gives a
    class of 31 fits the scheme by the hub's own check."""
    conn = await asyncpg.connect(db_url)
    try:
        rules = await conn.fetch("SELECT scheme, min_value, max_value FROM assessment_rule")
    finally:
        await conn.close()
    assert {r["scheme"] for r in rules} == {s.value for s in AssessmentScheme}
    pupils = tuple(range(1000, 1031))
    for row in rules:
        rule = Rule(row["scheme"], row["min_value"], row["max_value"])
        scheme = Scheme(AssessmentScheme(rule.scheme), rule.min_value, rule.max_value)
        marks = marks_for(rule, pupils)
        assert [decode_id(m["pupilId"])[1] for m in marks] == list(pupils)
        for mark in marks:
            problem = fits(scheme, mark.get("value"), mark.get("criterion"), mark.get("comment"))
            assert problem == "", (rule, mark, problem)


async def test_every_teacher_of_the_crowd_marks_their_class_once(
    db_url: str, hub: Hub, tmp_path: Path
) -> None:
    # given bench.lms's dataset, one school of six classes (grades 1-6)
    data = await load(db_url, argparse.Namespace(pupils=120, class_size=20.0, weeks=1, samples=1))
    conn = await asyncpg.connect(db_url)
    try:
        # when the crowd is chosen, each teacher records a lesson and marks their class
        crowd = await choose(conn, data["year_id"], 6)
        assert len(crowd) == 6
        assert len({t.teacher_id for t in crowd}) == len({t.class_group_id for t in crowd}) == 6
        assert {t.rule.scheme for t in crowd} == {"descriptive", "five_point"}
        tokens = [teacher_token(hub.keyring, hub.settings, t) for t in crowd]
        lessons = await record_lessons(hub.client, "/graphql", crowd, tokens)
        query = (PORTALS / "RecordMarks.graphql").read_text()
        calls = [record_marks_call(t, g, k) for t, g, k in zip(crowd, lessons, tokens, strict=True)]
        for call in calls:
            body, content_type = call.body(query)
            response = await hub.client.post(
                "/graphql",
                content=body,
                headers={"Authorization": f"Bearer {call.token}", "Content-Type": content_type},
            )

            # then each is answered without an error or a user error
            assert response.status_code == httpx.codes.OK, response.text
            answer = response.json()
            assert _problem(answer) == "", answer
            assert len(answer["data"]["recordMarks"]["marks"]) == len(
                call.variables["input"]["marks"]
            )

        # and the database holds every mark of every class once
        counted = await landed(conn, data["year_id"], [decode_id(g)[1] for g in lessons], crowd)
        assert counted["complete"] == 6, counted
        assert counted["marks_found"] == counted["marks_sent"] == sum(len(t.pupils) for t in crowd)
        assert counted["missing"] == counted["extra"] == 0

        # and a second crowd on the same data gets lessons of its own (a later day)
        again = await choose(conn, data["year_id"], 6)
        assert {t.slot_id for t in again} == {t.slot_id for t in crowd}
        assert all(a.on > b.on for a, b in zip(again, crowd, strict=True))
    finally:
        await conn.close()

    # and wrk's script carries one call per teacher
    path = tmp_path / "crowd.lua"
    script(path, query, calls)
    text = path.read_text()
    assert all(text.count(token) == 1 for token in tokens)
