"""OneRoster 1.2's assessment results profile over the national test (ORT, U1): assessments
that belong to no class.

- an **assessmentLineItem** is one test of one year's national testing: the main test
  (``ort-<year>-main``), the state-language test (``ort-<year>-state_language``) and each
  subject test taken that year (``ort-<year>-<subject>``); its range is the season's scale
  (``admission_season`` of the main intake: ``main_score_max`` ...), when the season is
  registered;
- an **assessmentResult** is one score of one certificate (``ort-<certificate id>-<test>``),
  ``fully graded``, for the person tested as a user (their sourcedId, the person's global ID);
  ``dateLastModified`` and ``scoreDate`` are when the testing centre's file was loaded.

Certificates have no school: a key limited to regions reads the results of the people who are
students at schools of its regions (the kept roster's school), and no line items' totals beyond
them; the tests themselves are national."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    true,
    union_all,
)

from models import (
    AdmissionSeason,
    Intake,
    NationalTestImport,
    NationalTestResult,
    OneRosterUser,
    Person,
)
from resolvers.lms.oneroster.shape import STAMP, Ref, base, iso
from resolvers.lms.oneroster.shape import text as _text

# Certificates loaded before imports were recorded have no file: dated by this mapping.
PUBLISHED = datetime.fromisoformat("2026-12-04T00:00:00+00:00")
# The region of a person who is no student user: never one of a key's regions.
NO_REGION = -1
TITLES = {"main": "Main test", "state_language": "State-language test"}


def _scores() -> Any:
    """Each certificate's scores as rows (test, score): main, state language, each subject."""
    r = NationalTestResult
    subjects = func.jsonb_each_text(r.subject_scores).table_valued("key", "value").render_derived()
    return union_all(
        select(literal("main").label("test"), r.main_score.label("score")).correlate(r),
        select(literal("state_language"), r.state_language_score).correlate(r),
        select(subjects.c.key, cast(subjects.c.value, Integer)).select_from(subjects).correlate(r),
    ).lateral("scores")


def _season() -> Any:
    return (AdmissionSeason.year == NationalTestResult.year) & (
        AdmissionSeason.intake == Intake.MAIN
    )


def assessment_line_items() -> Select[Any]:
    """The tests of each year's national testing, from the certificates loaded (a full read
    of the year's certificates: tens of thousands of rows a year)."""
    r, s, scores = NationalTestResult, AdmissionSeason, _scores()
    test = scores.c.test
    inner = (
        select(
            ("ort-" + _text(r.year) + "-" + test).label("sourced_id"),
            literal("active").label("status"),
            func.coalesce(
                func.max(NationalTestImport.imported_at), literal(PUBLISHED, STAMP)
            ).label("modified"),
            ("National test " + _text(r.year) + ": " + _title(test)).label("title"),
            _text(r.year).label("year"),
            test.label("test"),
            func.max(_range_max(test, s)).label("max_value"),
            cast(literal(None), Integer).label("region_id"),
        )
        .select_from(r)
        .join(scores, true())
        .outerjoin(NationalTestImport, NationalTestImport.id == r.import_id)
        .outerjoin(s, _season())
        .group_by(r.year, test)
        .subquery()
    )
    return select(inner)


def _title(test: Any) -> Any:
    return case(
        (test == "main", TITLES["main"]),
        (test == "state_language", TITLES["state_language"]),
        else_="Subject test: " + test,
    )


def _range_max(test: Any, s: Any) -> Any:
    return case(
        (test == "main", s.main_score_max),
        (test == "state_language", s.state_language_score_max),
        else_=s.subject_score_max,
    )


def assessment_results() -> Select[Any]:
    r, scores = NationalTestResult, _scores()
    student = OneRosterUser
    inner = (
        select(
            ("ort-" + _text(r.id) + "-" + scores.c.test).label("sourced_id"),
            literal("active").label("status"),
            func.coalesce(NationalTestImport.imported_at, literal(PUBLISHED, STAMP)).label(
                "modified"
            ),
            ("ort-" + _text(r.year) + "-" + scores.c.test).label("line_item_id"),
            Person.gid.label("student_id"),
            cast(scores.c.score, Integer).label("score"),
            func.coalesce(student.region_id, NO_REGION).label("region_id"),
        )
        .select_from(r)
        .join(Person, Person.id == r.person_id)
        .join(scores, true())
        .outerjoin(NationalTestImport, NationalTestImport.id == r.import_id)
        .outerjoin(student, and_(student.person_id == r.person_id, student.role == "student"))
        .subquery()
    )
    return select(inner)


# --- rendering -------------------------------------------------------------------------------


def render_assessment_line_item(row: Any, ref: Ref) -> dict[str, Any]:
    out = base(row) | {"title": row.title}
    if row.max_value is not None:
        out["resultValueMin"] = 0.0
        out["resultValueMax"] = float(row.max_value)
    return out


def render_assessment_result(row: Any, ref: Ref) -> dict[str, Any]:
    return base(row) | {
        "assessmentLineItem": ref("assessmentLineItems", row.line_item_id, "assessmentLineItem"),
        "student": ref("users", row.student_id, "user"),
        "score": float(row.score),
        "scoreDate": iso(row.modified.date() if row.modified else None),
        "scoreStatus": "fully graded",
    }
