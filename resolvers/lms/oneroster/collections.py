"""The OneRoster 1.2 collections the hub serves (rostering and gradebook) and the paths they
are read by: each collection and one object of it, the typed collections the specification
names (``schools``, ``students``, ``teachers``, ``terms``) and the nested paths of both
services' REST bindings (``/schools/{id}/classes``, ``/classes/{id}/lineItems`` ...)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, any_, func, select
from sqlalchemy.orm import aliased

from models import Guardianship, Person
from resolvers.lms.oneroster import assessments, gradebook, rostering
from resolvers.lms.oneroster.shape import Ref


@dataclass(frozen=True)
class Collection:
    """One OneRoster collection: its statement, its filterable fields (OneRoster name ->
    column name of the statement), how a row is rendered, and the graph's fields it exports
    (``Type.field``: the field classifier says whether they are personal data)."""

    plural: str
    singular: str
    service: str
    statement: Callable[[], Select[Any]]
    fields: dict[str, str]
    render: Callable[[Any, Ref], dict[str, Any]]
    graph: tuple[str, ...] = ()
    # Personal whatever the classifier says: a pupil's marks.
    personal: bool = False
    # The type the key's subgraph must name (else the service's: ClassGroup or Mark).
    scope: str | None = None


BASE_FIELDS = {"sourcedId": "sourced_id", "status": "status", "dateLastModified": "modified"}
_ALL: tuple[Collection, ...] = (
    Collection(
        "orgs",
        "org",
        "rostering",
        rostering.orgs,
        BASE_FIELDS | {"name": "name", "type": "type", "identifier": "identifier"},
        rostering.render_org,
    ),
    Collection(
        "academicSessions",
        "academicSession",
        "rostering",
        rostering.academic_sessions,
        BASE_FIELDS
        | {
            "title": "title",
            "startDate": "start_date",
            "endDate": "end_date",
            "type": "type",
            "schoolYear": "school_year",
            "parent": "parent_id",
        },
        rostering.render_session,
    ),
    Collection(
        "courses",
        "course",
        "rostering",
        rostering.courses,
        BASE_FIELDS
        | {"title": "title", "courseCode": "course_code", "grades": "grade", "subjects": "subject"},
        rostering.render_course,
    ),
    Collection(
        "classes",
        "class",
        "rostering",
        rostering.classes,
        BASE_FIELDS
        | {
            "title": "title",
            "classCode": "class_code",
            "grades": "grade",
            "subjects": "subject",
            "school": "school_id",
            "course": "course_id",
            "terms": "term_id",
        },
        rostering.render_class,
    ),
    Collection(
        "users",
        "user",
        "rostering",
        rostering.users,
        BASE_FIELDS
        | {
            "givenName": "given_name",
            "familyName": "family_name",
            "middleName": "middle_name",
            "role": "role",
            "roles": "role",
            "grades": "grade",
            "enabledUser": "status",
        },
        rostering.render_user,
        graph=("Person.firstName", "Person.lastName", "Person.patronymic"),
    ),
    Collection(
        "demographics",
        "demographics",
        "rostering",
        rostering.demographics,
        BASE_FIELDS | {"birthDate": "birth_date", "sex": "sex"},
        rostering.render_demographics,
        graph=("Person.birthDate", "Person.sex"),
    ),
    Collection(
        "enrollments",
        "enrollment",
        "rostering",
        rostering.enrollments,
        BASE_FIELDS
        | {
            "user": "user_id",
            "class": "class_id",
            "school": "school_id",
            "role": "role",
            "primary": "primary",
            "beginDate": "begin_date",
            "endDate": "end_date",
        },
        rostering.render_enrollment,
    ),
    Collection(
        "categories",
        "category",
        "gradebook",
        gradebook.categories,
        BASE_FIELDS | {"title": "title"},
        gradebook.render_category,
    ),
    Collection(
        "lineItems",
        "lineItem",
        "gradebook",
        gradebook.line_items,
        BASE_FIELDS
        | {
            "title": "title",
            "description": "description",
            "assignDate": "assign_date",
            "dueDate": "due_date",
            "class": "class_id",
            "school": "school_id",
            "category": "category_id",
            "academicSession": "session_id",
            "scoreScale": "scale_id",
            "resultValueMin": "min_value",
            "resultValueMax": "max_value",
        },
        gradebook.render_line_item,
    ),
    Collection(
        "results",
        "result",
        "gradebook",
        gradebook.results,
        BASE_FIELDS
        | {
            "lineItem": "line_item_id",
            "student": "student_id",
            "class": "class_id",
            "scoreScale": "scale_id",
            "score": "score",
            "textScore": "text_score",
            "scoreDate": "score_date",
            "scoreStatus": "status",
        },
        gradebook.render_result,
        graph=("Mark.value", "Mark.criterion", "Mark.comment"),
        personal=True,
    ),
    Collection(
        "scoreScales",
        "scoreScale",
        "gradebook",
        gradebook.score_scales,
        BASE_FIELDS | {"type": "type", "class": "class_id", "course": "course_id"},
        gradebook.render_score_scale,
    ),
)
_ASSESSMENTS = (
    Collection(
        "assessmentLineItems",
        "assessmentLineItem",
        "gradebook",
        assessments.assessment_line_items,
        BASE_FIELDS | {"title": "title", "resultValueMax": "max_value"},
        assessments.render_assessment_line_item,
        scope="NationalTestResult",
    ),
    Collection(
        "assessmentResults",
        "assessmentResult",
        "gradebook",
        assessments.assessment_results,
        BASE_FIELDS
        | {
            "assessmentLineItem": "line_item_id",
            "student": "student_id",
            "score": "score",
        },
        assessments.render_assessment_result,
        graph=(
            "NationalTestResult.mainScore",
            "NationalTestResult.stateLanguageScore",
            "NationalTestResult.subjectScores",
        ),
        personal=True,
        scope="NationalTestResult",
    ),
)
_ALL = (*_ALL, *_ASSESSMENTS)
COLLECTIONS = {c.plural: c for c in _ALL}

# --- the paths -------------------------------------------------------------------------------

Within = Callable[[Any, dict[str, str]], list[ColumnElement[bool]]]


@dataclass(frozen=True)
class Parent:
    """An object a nested path names: it must exist (and be readable by the key) or the path
    answers 404. ``fixed``: columns every such object has; ``links``: columns that must equal
    other path parameters (a lineItem of that class)."""

    param: str
    collection: str
    fixed: tuple[tuple[str, str], ...] = ()
    links: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class View:
    """A path of a service: the collection it lists (or one object of, when ``one`` names the
    path parameter holding its sourcedId), the columns fixed for it (``schools`` are orgs of
    type school), the objects the path names, and the condition tying the listed objects to
    them."""

    service: str
    path: str
    collection: str
    one: str | None = None
    fixed: tuple[tuple[str, str], ...] = ()
    parents: tuple[Parent, ...] = ()
    within: Within | None = None
    # The answer's key when it is not the collection's plural (``agents``).
    wrapper: str | None = None
    # Personal fields of the graph the path reads beyond its collection's (a guardianship):
    # the key needs them in its subgraph and the personal-data grant.
    reads: tuple[str, ...] = ()


def statement_of(name: str) -> tuple[Select[Any], Any]:
    stmt = COLLECTIONS[name].statement()
    return stmt, stmt.selected_columns


def ids_of(name: str, column: str, **where: str) -> Select[Any]:
    """The ``column`` of a collection's objects matching ``where`` (column = value)."""
    _, cols = statement_of(name)
    return select(cols[column]).where(*(cols[k] == v for k, v in where.items()))


def _equal(**columns: str) -> Within:
    """Objects whose columns equal path parameters (column -> parameter)."""
    return lambda cols, p: [cols[c] == p[param] for c, param in columns.items()]


def _enrolled(select_column: str, role: str | None, **where: str) -> Within:
    """Objects (users or classes) linked by an enrollment matching path parameters.

    The linked ids are read first, as one array (``= ANY(ARRAY(SELECT ...))``: an init plan
    over the enrollments' index of the school, class or user), then the objects by their
    sourcedId index: a semi-join (``IN (SELECT ...)``) let the planner walk every user of
    the country in sourcedId order looking for a school's few hundred (migration 0038)."""

    def within(cols: Any, p: dict[str, str]) -> list[ColumnElement[bool]]:
        match = {c: p[param] for c, param in where.items()}
        if role is not None:
            match["role"] = role
        linked = ids_of("enrollments", select_column, **match).distinct()
        return [cols["sourced_id"] == any_(func.array(linked.scalar_subquery()))]

    return within


GUARDIANS = rostering.GUARDIANS


def _agents(cols: Any, p: dict[str, str]) -> list[ColumnElement[bool]]:
    """A user's agents: their guardians (current guardianships) as users."""
    child = aliased(Person, name="child")
    guardians = (
        select(Guardianship.guardian_id)
        .join(child, child.id == Guardianship.child_id)
        .where(child.gid == p["user"], Guardianship.valid_to.is_(None))
    )
    return [cols["role"].in_(rostering.AGENT_ROLES), cols["person_id"].in_(guardians)]


def _agent_for(cols: Any, p: dict[str, str]) -> list[ColumnElement[bool]]:
    """The users a user is an agent for: the pupils they are a guardian of."""
    guardian = aliased(Person, name="guardian")
    children = (
        select(Guardianship.child_id)
        .join(guardian, guardian.id == Guardianship.guardian_id)
        .where(guardian.gid == p["user"], Guardianship.valid_to.is_(None))
    )
    return [cols["role"] == "student", cols["person_id"].in_(children)]


def _terms_classes(cols: Any, p: dict[str, str]) -> list[ColumnElement[bool]]:
    # A class runs for its school year: the classes of a term are those of the term's year.
    year = ids_of("academicSessions", "parent_id", sourced_id=p["term"])
    return [cols["term_id"].in_(year)]


def _school_courses(cols: Any, p: dict[str, str]) -> list[ColumnElement[bool]]:
    return [cols["sourced_id"].in_(ids_of("classes", "course_id", school_id=p["school"]))]


SCHOOL = Parent("school", "orgs", fixed=(("type", "school"),))
STUDENT = (("role", "student"),)
TEACHER = (("role", "teacher"),)
CLASS = Parent("class", "classes")
TERM = Parent("term", "academicSessions", fixed=(("type", "term"),))
CLASS_IN_SCHOOL = Parent("class", "classes", links=(("school_id", "school"),))


# long: the services' table of paths, one entry a path, read as a table.
def _views() -> list[View]:
    views: list[View] = []
    for c in _ALL:
        views.append(View(c.service, c.plural, c.plural))
        views.append(View(c.service, f"{c.plural}/{{id}}", c.plural, one="id"))
    typed = {
        "schools": ("orgs", (("type", "school"),)),
        "students": ("users", STUDENT),
        "teachers": ("users", TEACHER),
        "terms": ("academicSessions", (("type", "term"),)),
        "gradingPeriods": ("academicSessions", (("type", "gradingPeriod"),)),
    }
    for path, (name, fixed) in typed.items():
        views.append(View("rostering", path, name, fixed=fixed))
        views.append(View("rostering", f"{path}/{{id}}", name, one="id", fixed=fixed))
    r, g = "rostering", "gradebook"
    views += [
        View(r, "classes/{class}/students", "users", fixed=STUDENT, parents=(CLASS,),
             within=_enrolled("user_id", "student", class_id="class")),
        View(r, "classes/{class}/teachers", "users", fixed=TEACHER, parents=(CLASS,),
             within=_enrolled("user_id", "teacher", class_id="class")),
        View(r, "courses/{course}/classes", "classes", parents=(Parent("course", "courses"),),
             within=_equal(course_id="course")),
        View(r, "schools/{school}/classes", "classes", parents=(SCHOOL,),
             within=_equal(school_id="school")),
        View(r, "schools/{school}/classes/{class}/enrollments", "enrollments",
             parents=(SCHOOL, CLASS_IN_SCHOOL),
             within=_equal(school_id="school", class_id="class")),
        View(r, "schools/{school}/classes/{class}/students", "users", fixed=STUDENT,
             parents=(SCHOOL, CLASS_IN_SCHOOL),
             within=_enrolled("user_id", "student", class_id="class")),
        View(r, "schools/{school}/classes/{class}/teachers", "users", fixed=TEACHER,
             parents=(SCHOOL, CLASS_IN_SCHOOL),
             within=_enrolled("user_id", "teacher", class_id="class")),
        View(r, "schools/{school}/courses", "courses", parents=(SCHOOL,), within=_school_courses),
        View(r, "schools/{school}/enrollments", "enrollments", parents=(SCHOOL,),
             within=_equal(school_id="school")),
        View(r, "schools/{school}/students", "users", fixed=STUDENT, parents=(SCHOOL,),
             within=_enrolled("user_id", "student", school_id="school")),
        View(r, "schools/{school}/teachers", "users", fixed=TEACHER, parents=(SCHOOL,),
             within=_enrolled("user_id", "teacher", school_id="school")),
        # The calendar is national: every school's terms are the republic's.
        View(r, "schools/{school}/terms", "academicSessions", fixed=(("type", "term"),),
             parents=(SCHOOL,)),
        View(r, "students/{student}/classes", "classes",
             parents=(Parent("student", "users", fixed=STUDENT),),
             within=_enrolled("class_id", "student", user_id="student")),
        View(r, "teachers/{teacher}/classes", "classes",
             parents=(Parent("teacher", "users", fixed=TEACHER),),
             within=_enrolled("class_id", "teacher", user_id="teacher")),
        View(r, "terms/{term}/gradingPeriods", "academicSessions",
             fixed=(("type", "gradingPeriod"),), parents=(TERM,),
             within=_equal(parent_id="term")),
        View(r, "terms/{term}/classes", "classes",
             parents=(TERM,), within=_terms_classes),
        View(r, "users/{user}/classes", "classes", parents=(Parent("user", "users"),),
             within=_enrolled("class_id", None, user_id="user")),
        # A user's guardians, and the pupils a guardian is one of (personal: guardianships).
        View(r, "users/{user}/agents", "users", parents=(Parent("user", "users"),),
             within=_agents, wrapper="agents", reads=(GUARDIANS,)),
        View(r, "users/{user}/agentFor", "users", parents=(Parent("user", "users"),),
             within=_agent_for, reads=(GUARDIANS,)),
        # The kinds of mark are national: every class has all of them.
        View(g, "classes/{class}/categories", "categories", parents=(CLASS,)),
        View(g, "classes/{class}/lineItems", "lineItems", parents=(CLASS,),
             within=_equal(class_id="class")),
        View(g, "classes/{class}/results", "results", parents=(CLASS,),
             within=_equal(class_id="class")),
        View(g, "classes/{class}/lineItems/{lineItem}/results", "results",
             parents=(CLASS, Parent("lineItem", "lineItems", links=(("class_id", "class"),))),
             within=_equal(class_id="class", line_item_id="lineItem")),
        View(g, "classes/{class}/students/{student}/results", "results",
             parents=(CLASS, Parent("student", "users", fixed=STUDENT)),
             within=_equal(class_id="class", student_id="student")),
        View(g, "classes/{class}/scoreScales", "scoreScales", parents=(CLASS,),
             within=_equal(class_id="class")),
        View(g, "schools/{school}/lineItems", "lineItems", parents=(SCHOOL,),
             within=_equal(school_id="school")),
        View(g, "schools/{school}/scoreScales", "scoreScales", parents=(SCHOOL,),
             within=_equal(school_id="school")),
    ]  # fmt: skip
    return views


VIEWS = _views()
