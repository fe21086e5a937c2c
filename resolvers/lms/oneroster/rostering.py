"""The OneRoster 1.2 rostering collections over the hub's tables. Each is one SQL statement
with uniform column names, so filters, sorting and paging apply to every collection alike.

How the hub maps onto OneRoster:
- orgs: the republic (``national``), its regions (``state``), districts (``district``) and
  schools (``school``), each the parent of the next.
- academicSessions: an academic year (``schoolYear``; ``schoolYear`` is the year it ends, as
  the specification counts), its four quarters (``term``) and each quarter's grading period
  (``gradingPeriod``, ``grading-<term>``, the quarter's child with its dates: marks count
  per quarter, S3).
- courses: a line of the state curriculum plan (a subject in a grade under the 12- or the
  11-year standard), owned by the republic.
- classes: a subject a class learns (5А's mathematics), ``scheduled``, in its school year.
- users: pupils (``student``, at the school of their latest class), teachers (``teacher``,
  where they are assigned) and pupils' guardians (``parent`` for a mother or father,
  ``guardian`` otherwise, at their child's school: migration 0039); a user's ``agents`` are
  their guardians; no PIN is ever exported.
- demographics: a user's birth date and sex (personal data), under the user's sourcedId.
- enrollments: a pupil in each subject of their class, a teacher in each subject they teach."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, Select, cast, func, literal, null, select, union_all
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import case

from models import (
    AcademicYear,
    ClassGroup,
    ClassSubject,
    CurriculumPlan,
    District,
    Guardianship,
    Institution,
    InstitutionKind,
    OneRosterEnrollment,
    OneRosterUser,
    Person,
    Region,
    Subject,
    Term,
)
from resolvers.lms.oneroster.shape import (
    STAMP,
    Ref,
    base,
    course_of_class,
    grading_period_id,
    iso,
)
from resolvers.lms.oneroster.shape import text as _text
from resolvers.lms.oneroster.shape import ts as _ts

REPUBLIC = "KG"
# The republic's org has no row; its dateLastModified is when this mapping was published.
REPUBLIC_MODIFIED = datetime.fromisoformat("2026-09-01T00:00:00+00:00")


def orgs() -> Select[Any]:
    republic = select(
        literal(REPUBLIC).label("sourced_id"),
        literal("active").label("status"),
        literal(REPUBLIC_MODIFIED, DateTime(timezone=True)).label("modified"),
        literal("Kyrgyz Republic").label("name"),
        literal("national").label("type"),
        literal(REPUBLIC).label("identifier"),
        null().label("parent_id"),
        null().label("parent_type"),
        cast(null(), Integer).label("region_id"),
    )
    regions = select(
        ("region-" + _text(Region.id)).label("sourced_id"),
        literal("active"),
        _ts(Region.valid_from),
        Region.name_en,
        literal("state"),
        _text(Region.code),
        literal(REPUBLIC),
        literal("org"),
        Region.id,
    )
    districts = select(
        ("district-" + _text(District.id)).label("sourced_id"),
        literal("active"),
        _ts(District.valid_from),
        District.name_en,
        literal("district"),
        _text(District.code),
        "region-" + _text(District.region_id),
        literal("org"),
        District.region_id,
    )
    schools = select(
        Institution.gid,
        case((Institution.closed_on.is_(None), "active"), else_="tobedeleted"),
        Institution.updated_at,
        Institution.name,
        literal("school"),
        Institution.legal_id,
        "district-" + _text(Institution.district_id),
        literal("org"),
        Institution.region_id,
    ).where(Institution.kind == InstitutionKind.SCHOOL)
    return select(union_all(republic, regions, districts, schools).subquery())


def academic_sessions() -> Select[Any]:
    years = select(
        AcademicYear.gid.label("sourced_id"),
        literal("active").label("status"),
        AcademicYear.updated_at.label("modified"),
        AcademicYear.name.label("title"),
        AcademicYear.starts_on.label("start_date"),
        AcademicYear.ends_on.label("end_date"),
        literal("schoolYear").label("type"),
        null().label("parent_id"),
        _text(AcademicYear.start_year + 1).label("school_year"),
        cast(null(), Integer).label("region_id"),
    )
    terms = select(
        Term.gid,
        literal("active"),
        Term.updated_at,
        AcademicYear.name + " Q" + _text(Term.number),
        Term.starts_on,
        Term.ends_on,
        literal("term"),
        AcademicYear.gid,
        _text(AcademicYear.start_year + 1),
        cast(null(), Integer),
    ).join(AcademicYear, AcademicYear.id == Term.academic_year_id)
    # The marks of a quarter count in the quarter (S3): each quarter is also the one grading
    # period of itself as a term, so a gradebook's lineItems name the period they count in.
    grading = select(
        grading_period_id(Term.gid),
        literal("active"),
        Term.updated_at,
        AcademicYear.name + " Q" + _text(Term.number) + " grading period",
        Term.starts_on,
        Term.ends_on,
        literal("gradingPeriod"),
        Term.gid,
        _text(AcademicYear.start_year + 1),
        cast(null(), Integer),
    ).join(AcademicYear, AcademicYear.id == Term.academic_year_id)
    return select(union_all(years, terms, grading).subquery())


def courses() -> Select[Any]:
    inner = (
        select(
            CurriculumPlan.gid.label("sourced_id"),
            literal("active").label("status"),
            CurriculumPlan.updated_at.label("modified"),
            (Subject.name_en + ", grade " + _text(CurriculumPlan.grade)).label("title"),
            (
                Subject.code
                + "-"
                + _text(CurriculumPlan.grade)
                + "-"
                + _text(CurriculumPlan.curriculum_model)
            ).label("course_code"),
            _text(CurriculumPlan.grade).label("grade"),
            Subject.code.label("subject"),
            cast(null(), Integer).label("region_id"),
        )
        .join(Subject, Subject.id == CurriculumPlan.subject_id)
        .subquery()
    )
    return select(inner)


def classes() -> Select[Any]:
    plan = CurriculumPlan
    inner = (
        select(
            ClassSubject.gid.label("sourced_id"),
            literal("active").label("status"),
            func.greatest(ClassSubject.updated_at, ClassGroup.updated_at, type_=STAMP).label(
                "modified"
            ),
            (_text(ClassGroup.grade) + ClassGroup.letter + " " + Subject.name_en).label("title"),
            (_text(ClassGroup.grade) + ClassGroup.letter + "-" + Subject.code).label("class_code"),
            _text(ClassGroup.grade).label("grade"),
            Subject.code.label("subject"),
            plan.gid.label("course_id"),
            Institution.gid.label("school_id"),
            AcademicYear.gid.label("term_id"),
            ClassGroup.gid.label("class_group_id"),
            Institution.region_id.label("region_id"),
        )
        .join(ClassGroup, ClassGroup.id == ClassSubject.class_group_id)
        .join(Subject, Subject.id == ClassSubject.subject_id)
        .join(Institution, Institution.id == ClassGroup.institution_id)
        .join(AcademicYear, AcademicYear.id == ClassGroup.academic_year_id)
        .outerjoin(plan, course_of_class())
        .subquery()
    )
    return select(inner)


AGENT_ROLES = ("parent", "guardian")
# The graph's field a user's agents come from (a guardianship is personal data).
GUARDIANS = "Person.guardians"


def agents_of(person_id: Any) -> Any:
    """The sourcedIds of a person's guardians who are users (their current guardianships), in
    order: a correlated array, an index probe by child."""
    a = aliased(OneRosterUser, name="agent")
    return (
        select(func.coalesce(func.array_agg(aggregate_order_by(a.sourced_id, a.sourced_id)), []))
        .select_from(Guardianship)
        .join(a, (a.person_id == Guardianship.guardian_id) & a.role.in_(AGENT_ROLES))
        .where(Guardianship.child_id == person_id, Guardianship.valid_to.is_(None))
        .scalar_subquery()
    )


def users() -> Select[Any]:
    """Users as kept by the database's triggers (migrations 0038 and 0039): a pupil at the
    school and grade of their latest class membership, a teacher at their latest assignment's
    school, a pupil's guardian at their child's school; with their agents (guardians)."""
    u = OneRosterUser
    inner = select(
        u.sourced_id,
        u.status,
        u.modified,
        u.given_name,
        u.family_name,
        u.middle_name,
        u.role,
        u.org_id,
        u.grade,
        u.region_id,
        u.person_id,
        agents_of(u.person_id).label("agents"),
    ).subquery()
    return select(inner)


def demographics() -> Select[Any]:
    """A user's demographics: the specification gives them the user's sourcedId."""
    u = OneRosterUser
    inner = (
        select(
            u.sourced_id,
            u.status,
            Person.updated_at.label("modified"),
            Person.birth_date.label("birth_date"),
            _text(Person.sex).label("sex"),
            u.region_id,
        )
        .join(Person, Person.id == u.person_id)
        .subquery()
    )
    return select(inner)


def enrollments() -> Select[Any]:
    """Enrollments as kept by the database's triggers (migration 0038): a pupil in each
    subject of their class, a teacher in each subject they teach."""
    e = OneRosterEnrollment
    inner = select(
        e.sourced_id,
        e.status,
        e.modified,
        e.user_id,
        e.class_id,
        e.school_id,
        e.role,
        e.primary,
        e.begin_date,
        e.end_date,
        e.region_id,
    ).subquery()
    return select(inner)


# --- rendering -------------------------------------------------------------------------------


def render_org(row: Any, ref: Ref) -> dict[str, Any]:
    # The binding requires ``identifier`` (OrgDType); an org with none known (a school without
    # its legal-entity identifier) says so with the empty string rather than leaving it out.
    out = base(row) | {"name": row.name, "type": row.type, "identifier": row.identifier or ""}
    parent = ref("orgs", row.parent_id, "org")
    if parent:
        out["parent"] = parent
    return out


def render_session(row: Any, ref: Ref) -> dict[str, Any]:
    out = base(row) | {
        "title": row.title,
        "startDate": iso(row.start_date),
        "endDate": iso(row.end_date),
        "type": row.type,
        "schoolYear": row.school_year,
    }
    parent = ref("academicSessions", row.parent_id, "academicSession")
    if parent:
        out["parent"] = parent
    return out


def render_course(row: Any, ref: Ref) -> dict[str, Any]:
    return base(row) | {
        "title": row.title,
        "courseCode": row.course_code,
        "grades": [row.grade],
        "subjects": [row.subject],
        "org": ref("orgs", REPUBLIC, "org"),
    }


def render_class(row: Any, ref: Ref) -> dict[str, Any]:
    out = base(row) | {
        "title": row.title,
        "classCode": row.class_code,
        "classType": "scheduled",
        "grades": [row.grade],
        "subjects": [row.subject],
        "school": ref("orgs", row.school_id, "org"),
        "terms": [ref("academicSessions", row.term_id, "academicSession")],
    }
    # A subject outside the state plan (a school's own elective) has no course line.
    out["course"] = ref("courses", row.course_id or f"local-{row.subject}", "course")
    return out


def render_user(row: Any, ref: Ref) -> dict[str, Any]:
    out = base(row) | {
        # The binding's booleans are the strings "true" and "false" (UserDType.enabledUser).
        "enabledUser": "true",
        "givenName": row.given_name,
        "familyName": row.family_name,
        "roles": [{"roleType": "primary", "role": row.role, "org": ref("orgs", row.org_id, "org")}],
    }
    if row.middle_name:
        out["middleName"] = row.middle_name
    if row.grade:
        out["grades"] = [row.grade]
    out["agents"] = [ref("users", a, "user") for a in row.agents or ()]
    return out


def render_enrollment(row: Any, ref: Ref) -> dict[str, Any]:
    out = base(row) | {
        "user": ref("users", row.user_id, "user"),
        "class": ref("classes", row.class_id, "class"),
        "school": ref("orgs", row.school_id, "org"),
        "role": row.role,
        "primary": "true" if row.primary else "false",
        "beginDate": iso(row.begin_date),
    }
    if row.end_date:
        out["endDate"] = iso(row.end_date)
    return out


def render_demographics(row: Any, ref: Ref) -> dict[str, Any]:
    return base(row) | {"birthDate": iso(row.birth_date), "sex": row.sex}
