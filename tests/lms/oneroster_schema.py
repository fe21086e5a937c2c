"""The subset of OneRoster 1.2's published JSON schemas the tests validate responses against.

Source: 1EdTech OneRoster v1.2, Rostering Service and Gradebook Service REST/JSON bindings
(the ``onerosterv1p2rostersservice_getall<collection>_responsepayload_schema.json`` and
``onerosterv1p2gradebookservice_getall<collection>_responsepayload_schema.json`` files
published under https://purl.imsglobal.org/spec/or/v1p2/schema/json/). No package on PyPI
ships them and the machine the tests run on cannot fetch them, so this module writes down, for every object the hub returns, the required
properties, their JSON types and formats, and the enumerations (status, org type, session
type, class type, role, roleType, scoreStatus, GUIDRef type) as the published files define
them; optional properties the hub does not send are left out, and ``additionalProperties``
stays open as in the published files (extensions are allowed there)."""

from __future__ import annotations

from typing import Any

DATE_TIME = {"type": "string", "format": "date-time"}
DATE = {"type": "string", "format": "date"}
STATUS = {"type": "string", "enum": ["active", "tobedeleted"]}
GUID_TYPES = [
    "academicSession", "assessmentLineItem", "assessmentResult", "category", "class",
    "componentResource", "course", "demographics", "enrollment", "gradingPeriod", "lineItem",
    "org", "resource", "result", "scoreScale", "student", "teacher", "term", "user",
]  # fmt: skip
GUID_REF = {
    "type": "object",
    "required": ["href", "sourcedId", "type"],
    "properties": {
        "href": {"type": "string", "format": "uri"},
        "sourcedId": {"type": "string"},
        "type": {"type": "string", "enum": GUID_TYPES},
    },
}
BASE = {"sourcedId": {"type": "string"}, "status": STATUS, "dateLastModified": DATE_TIME}
BASE_REQUIRED = ["sourcedId", "status", "dateLastModified"]
STRINGS = {"type": "array", "items": {"type": "string"}}


def _object(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": BASE_REQUIRED + required,
        "properties": BASE | properties,
    }


ORG = _object(
    ["name", "type"],
    {
        "name": {"type": "string"},
        "type": {
            "type": "string",
            "enum": ["department", "school", "district", "local", "state", "national"],
        },
        "identifier": {"type": "string"},
        "parent": GUID_REF,
        "children": {"type": "array", "items": GUID_REF},
    },
)
ACADEMIC_SESSION = _object(
    ["title", "startDate", "endDate", "type", "schoolYear"],
    {
        "title": {"type": "string"},
        "startDate": DATE,
        "endDate": DATE,
        "type": {"type": "string", "enum": ["gradingPeriod", "semester", "schoolYear", "term"]},
        "parent": GUID_REF,
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
    ["title", "org"],
    {
        "title": {"type": "string"},
        "courseCode": {"type": "string"},
        "grades": STRINGS,
        "subjects": STRINGS,
        "org": GUID_REF,
    },
)
CLASS = _object(
    ["title", "course", "school", "terms"],
    {
        "title": {"type": "string"},
        "classCode": {"type": "string"},
        "classType": {"type": "string", "enum": ["homeroom", "scheduled"]},
        "grades": STRINGS,
        "subjects": STRINGS,
        "course": GUID_REF,
        "school": GUID_REF,
        "terms": {"type": "array", "minItems": 1, "items": GUID_REF},
    },
)
ROLE = {
    "type": "object",
    "required": ["roleType", "role", "org"],
    "properties": {
        "roleType": {"type": "string", "enum": ["primary", "secondary"]},
        "role": {
            "type": "string",
            "enum": [
                "aide",
                "counselor",
                "districtAdministrator",
                "guardian",
                "parent",
                "principal",
                "proctor",
                "relative",
                "siteAdministrator",
                "student",
                "systemAdministrator",
                "teacher",
            ],
        },
        "org": GUID_REF,
    },
}
USER = _object(
    ["enabledUser", "givenName", "familyName", "roles"],
    {
        "enabledUser": {"type": "boolean"},
        "givenName": {"type": "string"},
        "familyName": {"type": "string"},
        "middleName": {"type": "string"},
        "roles": {"type": "array", "minItems": 1, "items": ROLE},
        "grades": STRINGS,
        # 1.2: the user's agents (parents, guardians), GUIDRefs of type user.
        "agents": {"type": "array", "items": GUID_REF},
    },
)
ENROLLMENT = _object(
    ["user", "class", "school", "role"],
    {
        "user": GUID_REF,
        "class": GUID_REF,
        "school": GUID_REF,
        "role": {"type": "string", "enum": ["administrator", "proctor", "student", "teacher"]},
        "primary": {"type": "boolean"},
        "beginDate": DATE,
        "endDate": DATE,
    },
)
RESULT = _object(
    ["lineItem", "student", "scoreStatus", "scoreDate"],
    {
        "lineItem": GUID_REF,
        "student": GUID_REF,
        "class": GUID_REF,
        "scoreStatus": {
            "type": "string",
            "enum": [
                "exempt",
                "fully graded",
                "not submitted",
                "partially graded",
                "submitted",
            ],
        },
        "score": {"type": "number"},
        "textScore": {"type": "string"},
        "scoreDate": DATE,
        "comment": {"type": "string"},
    },
)
RESULT["properties"]["scoreScale"] = GUID_REF
CATEGORY = _object(["title"], {"title": {"type": "string"}, "weight": {"type": "number"}})
LINE_ITEM = _object(
    ["title", "assignDate", "dueDate", "class", "school", "category"],
    {
        "title": {"type": "string"},
        "description": {"type": "string"},
        "assignDate": DATE_TIME,
        "dueDate": DATE_TIME,
        "class": GUID_REF,
        "school": GUID_REF,
        "category": GUID_REF,
        "gradingPeriod": GUID_REF,
        "academicSession": GUID_REF,
        "scoreScale": GUID_REF,
        "resultValueMin": {"type": "number"},
        "resultValueMax": {"type": "number"},
    },
)
SCORE_SCALE = _object(
    ["title", "type", "class", "scoreScaleValue"],
    {
        "title": {"type": "string"},
        "type": {"type": "string"},
        "course": GUID_REF,
        "class": GUID_REF,
        "scoreScaleValue": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["itemValueLHS", "itemValueRHS"],
                "properties": {
                    "itemValueLHS": {"type": "string"},
                    "itemValueRHS": {"type": "string"},
                },
            },
        },
    },
)
DEMOGRAPHICS = _object(
    [],
    {
        "birthDate": DATE,
        "sex": {"type": "string", "enum": ["male", "female", "other", "unspecified"]},
    },
)
# The assessment results profile's objects (1.2 gradebook service): what the hub sends of them,
# with the required properties as recalled, not checked against a published file (none was
# readable from this machine).
ASSESSMENT_LINE_ITEM = _object(
    ["title"],
    {
        "title": {"type": "string"},
        "resultValueMin": {"type": "number"},
        "resultValueMax": {"type": "number"},
    },
)
ASSESSMENT_RESULT = _object(
    ["assessmentLineItem", "student", "scoreStatus"],
    {
        "assessmentLineItem": GUID_REF,
        "student": GUID_REF,
        "score": {"type": "number"},
        "scoreDate": DATE,
        "scoreStatus": RESULT["properties"]["scoreStatus"],
    },
)
OBJECTS = {
    "orgs": ("org", ORG),
    "academicSessions": ("academicSession", ACADEMIC_SESSION),
    "courses": ("course", COURSE),
    "classes": ("class", CLASS),
    "users": ("user", USER),
    "enrollments": ("enrollment", ENROLLMENT),
    "results": ("result", RESULT),
    "categories": ("category", CATEGORY),
    "lineItems": ("lineItem", LINE_ITEM),
    "scoreScales": ("scoreScale", SCORE_SCALE),
    "demographics": ("demographics", DEMOGRAPHICS),
    "assessmentLineItems": ("assessmentLineItem", ASSESSMENT_LINE_ITEM),
    "assessmentResults": ("assessmentResult", ASSESSMENT_RESULT),
}


def collection_schema(plural: str) -> dict[str, Any]:
    """The response payload of a getAll<collection> request."""
    _singular, item = OBJECTS[plural]
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "required": [plural],
        "properties": {plural: {"type": "array", "items": item}},
    }


def grading_periods_schema() -> dict[str, Any]:
    """The response payload of getAllGradingPeriods and getGradingPeriodsForTerm."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "required": ["academicSessions"],
        "properties": {"academicSessions": {"type": "array", "items": GRADING_PERIOD}},
    }


def grading_period_schema() -> dict[str, Any]:
    """The response payload of getGradingPeriod."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "required": ["academicSession"],
        "properties": {"academicSession": GRADING_PERIOD},
    }


def object_schema(plural: str) -> dict[str, Any]:
    """The response payload of a get<object> request."""
    singular, item = OBJECTS[plural]
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "required": [singular],
        "properties": {singular: item},
    }


STATUS_INFO = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["imsx_codeMajor", "imsx_severity", "imsx_CodeMinor"],
    "properties": {
        "imsx_codeMajor": {
            "type": "string",
            "enum": ["failure", "processing", "success", "unsupported"],
        },
        "imsx_severity": {"type": "string", "enum": ["error", "status", "warning"]},
        "imsx_description": {"type": "string"},
        "imsx_CodeMinor": {
            "type": "object",
            "required": ["imsx_codeMinorField"],
            "properties": {
                "imsx_codeMinorField": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["imsx_codeMinorFieldName", "imsx_codeMinorFieldValue"],
                    },
                }
            },
        },
    },
}
