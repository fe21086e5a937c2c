"""OneRoster 1.2's response schemas as the tests check them: a hand-written subset, always, and
1EdTech's published OpenAPI documents as well when they are on the machine.

The subset. 1EdTech publishes OneRoster 1.2's REST/JSON bindings as OpenAPI 3.0 documents
(``onerosterv1p2rostersservice_openapi3_v1p0.json`` and
``onerosterv1p2gradebookservice_openapi3_v1p0.json``, under
https://purl.imsglobal.org/spec/or/v1p2/schema/openapi/; JSON schemas of the payloads beside
them under .../schema/json/). No package on PyPI or npm ships them, CI cannot fetch them and
the repository does not copy them, so this module writes down, for every object the hub
returns, what their component schemas (``OrgDType``, ``UserSetDType``, ``SingleUserDType``...)
say of it: the required properties, the JSON types and formats, the enumerations, the
GUIDRef's one ``type`` per reference, and ``additionalProperties: false`` on every object
(extensions belong in ``metadata``). Optional properties the hub never sends are partly left
out (a closed object then refuses them: add them here from the document if the hub starts
sending them). Where the subset says less than the documents allow, on purpose: a vocabulary
(org type, session type, class type, role, sex, scoreStatus) without its ``ext:...``
extension, which the hub never sends; ``schoolYear`` as four digits (the documents' description
says 'YYYY', their schema only "string"); a status info's ``imsx_CodeMinor`` required (the
binding makes it optional) with the code minors both services share (the gradebook's adds
``deletefailure``); the payload's array required (a ``...SetDType`` does not require it).

The published documents. When the environment variable ``BILIM_ONEROSTER_OPENAPI_DIR`` names a
folder holding the two documents under those file names, ``validate`` also checks each
response against the published component its subset schema names (``x-published``), with
openapi-schema-validator's OpenAPI 3.0 dialect (``nullable``, OpenAPI's formats) and the
documents' ``$ref``s resolved; tests/lms/test_oneroster_gradebook.py's every-path test checks
each path's answer against the type the document gives for that path's 200 answer; and
tests/lms/test_oneroster_schema.py compares this subset with the components, property by
property. Without the variable (CI) the subset alone is checked. To run it::

    BILIM_ONEROSTER_OPENAPI_DIR=/var/tmp/oneroster-official \
        python -m pytest -q tests/lms/test_oneroster*.py

Done on 2026-12-04 with the documents as published (info.version 1.2; the rostering one
523,788 characters, sha256 06cafc22...16acd26f, the gradebook one 373,044, sha256
547131de...d3787a5f; read from a public repository's copy; the rostering one compared with
1EdTech's oneroster-bootcamp copy, which differs in its ``servers`` URL and is otherwise of
the same length, its component pages lining up): every OneRoster test
passed against them once the hub's users said ``enabledUser`` and its enrollments ``primary`` as
the strings "true"/"false", every org carried ``identifier``, and a bad ``sort`` answered
``invaliddata`` (docs/domains/lms.md, "OneRoster 1.2")."""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry
from referencing.jsonschema import DRAFT4

# JSON Schema's formats (``uri`` by rfc3986-validator, ``date`` and ``date-time``), and for the
# published documents OpenAPI's own on top (``float``, ``int32``...).
FORMATS = jsonschema.FormatChecker()
OPENAPI_FORMATS = jsonschema.FormatChecker()
OPENAPI_FORMATS.checkers.update(oas30_format_checker.checkers)

PUBLISHED = "x-published"  # a subset schema's key naming its published component


def _published(component: str, *services: str) -> dict[str, list[str]]:
    return {PUBLISHED: [f"{service}#/components/schemas/{component}" for service in services]}


DATE_TIME = {"type": "string", "format": "date-time"}
DATE = {"type": "string", "format": "date"}
STATUS = {"type": "string", "enum": ["active", "tobedeleted"]}
# The binding's booleans are strings (UserDType.enabledUser, EnrollmentDType.primary).
TRUE_FALSE = {"type": "string", "enum": ["true", "false"]}
STRINGS = {"type": "array", "items": {"type": "string"}}
NUMBER = {"type": "number"}  # the binding's "number, format float"
TEXT = {"type": "string"}


def _ref(kind: str) -> dict[str, Any]:
    """A GUIDRef (the binding's <Kind>GUIDRefDType): its ``type`` is the one kind it names, a
    term or a grading period being an ``academicSession`` and a pupil a ``user``."""
    return {
        "type": "object",
        "required": ["href", "sourcedId", "type"],
        "properties": {
            "href": {"type": "string", "format": "uri"},
            "sourcedId": TEXT,
            "type": {"type": "string", "enum": [kind]},
        },
        "additionalProperties": False,
    }


def _object(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    """An object of the binding: its base class's three fields, closed as the binding's are
    (``additionalProperties: false``; extensions go in ``metadata``)."""
    return {
        "type": "object",
        "required": ["sourcedId", "status", "dateLastModified", *required],
        "properties": {
            "sourcedId": TEXT,
            "status": STATUS,
            "dateLastModified": DATE_TIME,
            "metadata": {"type": "object"},
        }
        | properties,
        "additionalProperties": False,
    }


ORG = _object(
    ["name", "type", "identifier"],
    {
        "name": TEXT,
        "type": {
            "type": "string",
            "enum": ["department", "district", "local", "national", "school", "state"],
        },
        "identifier": TEXT,
        "parent": _ref("org"),
        "children": {"type": "array", "items": _ref("org")},
    },
)
SESSION_TYPES = ["gradingPeriod", "semester", "schoolYear", "term"]
ACADEMIC_SESSION = _object(
    ["title", "startDate", "endDate", "type", "schoolYear"],
    {
        "title": TEXT,
        "startDate": DATE,
        "endDate": DATE,
        "type": {"type": "string", "enum": SESSION_TYPES},
        "parent": _ref("academicSession"),
        "children": {"type": "array", "items": _ref("academicSession")},
        # a string in the schema, 'YYYY' (the school year's end) in its description
        "schoolYear": {"type": "string", "pattern": "^[0-9]{4}$"},
    },
)
# getAllGradingPeriods / getGradingPeriod (and getGradingPeriodsForTerm): the binding answers
# academicSessions (the payload's property is ``academicSessions``/``academicSession``) whose
# type is gradingPeriod; a grading period lies within a term, its ``parent``.
GRADING_PERIOD = ACADEMIC_SESSION | {
    "properties": ACADEMIC_SESSION["properties"]
    | {"type": {"type": "string", "enum": ["gradingPeriod"]}},
}
COURSE = _object(
    ["title", "courseCode"],
    {
        "title": TEXT,
        "schoolYear": _ref("academicSession"),
        "courseCode": TEXT,
        "grades": STRINGS,
        "subjects": STRINGS,
        "org": _ref("org"),
        "subjectCodes": STRINGS,
    },
)
CLASS = _object(
    ["title", "course", "school", "terms"],
    {
        "title": TEXT,
        "classCode": TEXT,
        "classType": {"type": "string", "enum": ["homeroom", "scheduled"]},
        "location": TEXT,
        "grades": STRINGS,
        "subjects": STRINGS,
        "course": _ref("course"),
        "school": _ref("org"),
        "terms": {"type": "array", "minItems": 1, "items": _ref("academicSession")},
        "subjectCodes": STRINGS,
        "periods": STRINGS,
    },
)
ROLES = [
    "aide", "counselor", "districtAdministrator", "guardian", "parent", "principal", "proctor",
    "relative", "siteAdministrator", "student", "systemAdministrator", "teacher",
]  # fmt: skip
ROLE = {
    "type": "object",
    "required": ["roleType", "role", "org"],
    "properties": {
        "roleType": {"type": "string", "enum": ["primary", "secondary"]},
        "role": {"type": "string", "enum": ROLES},
        "org": _ref("org"),
        "userProfile": {"type": "string", "format": "uri"},
        "beginDate": DATE,
        "endDate": DATE,
    },
    "additionalProperties": False,
}
USER = _object(
    ["enabledUser", "givenName", "familyName", "roles"],
    {
        "userMasterIdentifier": TEXT,
        "username": TEXT,
        "enabledUser": TRUE_FALSE,
        "givenName": TEXT,
        "familyName": TEXT,
        "middleName": TEXT,
        "preferredFirstName": TEXT,
        "preferredMiddleName": TEXT,
        "preferredLastName": TEXT,
        "pronouns": TEXT,
        "roles": {"type": "array", "minItems": 1, "items": ROLE},
        "primaryOrg": _ref("org"),
        "identifier": TEXT,
        "email": TEXT,
        "sms": TEXT,
        "phone": TEXT,
        # 1.2: the user's agents (parents, guardians), GUIDRefs of type user.
        "agents": {"type": "array", "items": _ref("user")},
        "grades": STRINGS,
    },
)
ENROLLMENT = _object(
    ["user", "class", "school", "role"],
    {
        "user": _ref("user"),
        "class": _ref("class"),
        "school": _ref("org"),
        "role": {"type": "string", "enum": ["administrator", "proctor", "student", "teacher"]},
        "primary": TRUE_FALSE,
        "beginDate": DATE,
        "endDate": DATE,
    },
)
SCORE_STATUS = {
    "type": "string",
    "enum": ["exempt", "fully graded", "not submitted", "partially graded", "submitted"],
}
RESULT = _object(
    ["lineItem", "student", "scoreStatus", "scoreDate"],
    {
        "lineItem": _ref("lineItem"),
        "student": _ref("user"),
        "class": _ref("class"),
        "scoreScale": _ref("scoreScale"),
        "scoreStatus": SCORE_STATUS,
        "score": NUMBER,
        "textScore": TEXT,
        "scoreDate": DATE,
        "comment": TEXT,
        "inProgress": TRUE_FALSE,
        "incomplete": TRUE_FALSE,
        "late": TRUE_FALSE,
        "missing": TRUE_FALSE,
    },
)
CATEGORY = _object(["title"], {"title": TEXT, "weight": NUMBER})
LINE_ITEM = _object(
    ["title", "assignDate", "dueDate", "class", "school", "category"],
    {
        "title": TEXT,
        "description": TEXT,
        "assignDate": DATE_TIME,
        "dueDate": DATE_TIME,
        "class": _ref("class"),
        "school": _ref("org"),
        "category": _ref("category"),
        "gradingPeriod": _ref("academicSession"),
        "academicSession": _ref("academicSession"),
        "scoreScale": _ref("scoreScale"),
        "resultValueMin": NUMBER,
        "resultValueMax": NUMBER,
    },
)
SCORE_SCALE = _object(
    ["title", "type", "class", "scoreScaleValue"],
    {
        "title": TEXT,
        "type": TEXT,
        "course": _ref("course"),
        "class": _ref("class"),
        "scoreScaleValue": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["itemValueLHS", "itemValueRHS"],
                "properties": {"itemValueLHS": TEXT, "itemValueRHS": TEXT},
                "additionalProperties": False,
            },
        },
    },
)
DEMOGRAPHICS = _object(
    [],
    {
        "birthDate": DATE,
        "sex": {"type": "string", "enum": ["male", "female", "unspecified", "other"]},
    },
)
# The assessment results profile's objects (1.2 gradebook service).
ASSESSMENT_LINE_ITEM = _object(
    ["title"],
    {
        "title": TEXT,
        "description": TEXT,
        "class": _ref("class"),
        "parentAssessmentLineItem": _ref("assessmentLineItem"),
        "scoreScale": _ref("scoreScale"),
        "resultValueMin": NUMBER,
        "resultValueMax": NUMBER,
    },
)
ASSESSMENT_RESULT = _object(
    ["assessmentLineItem", "student", "scoreDate", "scoreStatus"],
    {
        "assessmentLineItem": _ref("assessmentLineItem"),
        "student": _ref("user"),
        "score": NUMBER,
        "textScore": TEXT,
        "scoreDate": DATE,
        "scoreScale": _ref("scoreScale"),
        "scorePercentile": NUMBER,
        "scoreStatus": SCORE_STATUS,
        "comment": TEXT,
    },
)
# plural -> (the single payload's property, the subset, the service, the published type's stem)
OBJECTS = {
    "orgs": ("org", ORG, "rostering", "Org"),
    "academicSessions": ("academicSession", ACADEMIC_SESSION, "rostering", "AcademicSession"),
    "courses": ("course", COURSE, "rostering", "Course"),
    "classes": ("class", CLASS, "rostering", "Class"),
    "users": ("user", USER, "rostering", "User"),
    "enrollments": ("enrollment", ENROLLMENT, "rostering", "Enrollment"),
    "demographics": ("demographics", DEMOGRAPHICS, "rostering", "Demographics"),
    "results": ("result", RESULT, "gradebook", "Result"),
    "categories": ("category", CATEGORY, "gradebook", "Category"),
    "lineItems": ("lineItem", LINE_ITEM, "gradebook", "LineItem"),
    "scoreScales": ("scoreScale", SCORE_SCALE, "gradebook", "ScoreScale"),
    "assessmentLineItems": (
        "assessmentLineItem", ASSESSMENT_LINE_ITEM, "gradebook", "AssessmentLineItem",
    ),
    "assessmentResults": ("assessmentResult", ASSESSMENT_RESULT, "gradebook", "AssessmentResult"),
}  # fmt: skip
# The published collection types are <stem>SetDType, but for categories.
SET_TYPES = {"categories": "CategoriesSetDType"}


def _payload(name: str, schema: dict[str, Any], published: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "required": [name],
        "properties": {name: schema},
        "additionalProperties": False,
    } | published


def collection_schema(plural: str) -> dict[str, Any]:
    """The response payload of a getAll<collection> request."""
    _singular, item, service, stem = OBJECTS[plural]
    published = _published(SET_TYPES.get(plural, f"{stem}SetDType"), service)
    return _payload(plural, {"type": "array", "items": item}, published)


def grading_periods_schema() -> dict[str, Any]:
    """The response payload of getAllGradingPeriods and getGradingPeriodsForTerm."""
    items = {"type": "array", "items": GRADING_PERIOD}
    return _payload("academicSessions", items, _published("AcademicSessionSetDType", "rostering"))


def grading_period_schema() -> dict[str, Any]:
    """The response payload of getGradingPeriod."""
    published = _published("SingleAcademicSessionDType", "rostering")
    return _payload("academicSession", GRADING_PERIOD, published)


def object_schema(plural: str) -> dict[str, Any]:
    """The response payload of a get<object> request."""
    singular, item, service, stem = OBJECTS[plural]
    return _payload(singular, item, _published(f"Single{stem}DType", service))


# The answer to a POST of results (a lineItem's, ``sourcedIdPairs``).
GUID_PAIRS = _payload(
    "sourcedIdPairs",
    {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["suppliedSourcedId", "allocatedSourcedId"],
            "properties": {"suppliedSourcedId": TEXT, "allocatedSourcedId": TEXT},
            "additionalProperties": False,
        },
    },
    _published("GUIDPairSetDType", "gradebook"),
)

# The code minors of both services' vocabularies (imsx_CodeMinorFieldDType; the gradebook's
# adds ``deletefailure``, which the hub never answers): one status info is valid in both.
CODE_MINORS = [
    "fullsuccess", "invalid_filter_field", "invalid_selection_field", "invaliddata",
    "unauthorisedrequest", "forbidden", "server_busy", "unknownobject", "internal_server_error",
]  # fmt: skip
STATUS_INFO = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    # The binding requires codeMajor and severity; the hub always says its code minor too.
    "required": ["imsx_codeMajor", "imsx_severity", "imsx_CodeMinor"],
    "properties": {
        "imsx_codeMajor": {
            "type": "string",
            "enum": ["failure", "processing", "success", "unsupported"],
        },
        "imsx_severity": {"type": "string", "enum": ["error", "status", "warning"]},
        "imsx_description": TEXT,
        "imsx_CodeMinor": {
            "type": "object",
            "required": ["imsx_codeMinorField"],
            "properties": {
                "imsx_codeMinorField": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["imsx_codeMinorFieldName", "imsx_codeMinorFieldValue"],
                        "properties": {
                            "imsx_codeMinorFieldName": TEXT,
                            "imsx_codeMinorFieldValue": {"type": "string", "enum": CODE_MINORS},
                        },
                        "additionalProperties": False,
                    },
                }
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
} | _published("imsx_StatusInfoDType", "rostering", "gradebook")


# --- The published documents (optional: BILIM_ONEROSTER_OPENAPI_DIR) -------------------------

OPENAPI_DIR = "BILIM_ONEROSTER_OPENAPI_DIR"
DOCUMENTS = {
    "rostering": "onerosterv1p2rostersservice_openapi3_v1p0.json",
    "gradebook": "onerosterv1p2gradebookservice_openapi3_v1p0.json",
}


def published_dir() -> Path | None:
    """The folder named by BILIM_ONEROSTER_OPENAPI_DIR, or None when it is unset. A folder
    that is named but lacks a document is an error, not a quiet fallback to the subset."""
    named = os.environ.get(OPENAPI_DIR)
    if not named:
        return None
    folder = Path(named)
    missing = [name for name in DOCUMENTS.values() if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{OPENAPI_DIR}={named} lacks {', '.join(missing)}")
    return folder


@functools.cache
def _registry(folder: Path) -> Registry[Any]:
    registry: Registry[Any] = Registry()
    for service, name in DOCUMENTS.items():
        document = json.loads((folder / name).read_text(encoding="utf-8"))
        registry = registry.with_resource(
            f"urn:oneroster:{service}", DRAFT4.create_resource(document)
        )
    return registry


@functools.cache
def _document(folder: Path, service: str) -> dict[str, Any]:
    contents: dict[str, Any] = _registry(folder).contents(f"urn:oneroster:{service}")
    return contents


def published_validator(folder: Path, pointer: str) -> Any:
    """An OpenAPI 3.0 schema validator (openapi-schema-validator: ``nullable``, OpenAPI's
    formats) for ``service#/components/schemas/Name``, its ``$ref``s resolved in the document."""
    service, fragment = pointer.split("#", 1)
    _document(folder, service)  # an unknown service fails here, by name
    return OAS30Validator(
        {"$ref": f"urn:oneroster:{service}#{fragment}"},
        registry=_registry(folder),
        format_checker=OPENAPI_FORMATS,
    )


def _template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", "/" + path.strip("/"))


def published_response(folder: Path, service: str, path: str) -> str | None:
    """The component a published document gives as the 200 answer of ``GET path`` (a path
    template, its parameters named as the hub or the document likes), or None for a path
    the document does not have."""
    wanted = _template(path)
    for template, operations in _document(folder, service)["paths"].items():
        if _template(template) == wanted and "get" in operations:
            content = operations["get"]["responses"]["200"]["content"]["application/json"]
            ref: str = content["schema"]["$ref"]
            return service + ref
    return None


INDEX = re.compile(r"\[[0-9]+\]")


def published_errors(folder: Path, pointer: str, body: Any) -> list[str]:
    """What the published component says is wrong with a body, one line a kind of error: its
    place (array indices left out) and the message."""
    validator = published_validator(folder, pointer)
    return sorted(
        {f"{INDEX.sub('[*]', e.json_path)}: {e.message}" for e in validator.iter_errors(body)}
    )


def validate(body: Any, schema: dict[str, Any]) -> None:
    """Validate a response body against the subset schema, always; and, when
    BILIM_ONEROSTER_OPENAPI_DIR names the published documents, against each published
    component the subset schema names as well."""
    jsonschema.validate(body, schema, format_checker=FORMATS)
    folder = published_dir()
    if folder is None:
        return
    for pointer in schema[PUBLISHED]:
        errors = published_errors(folder, pointer, body)
        assert not errors, f"not valid against the published {pointer}: " + "; ".join(errors)
