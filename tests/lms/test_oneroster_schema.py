"""The OneRoster schema tests' own machinery (issue 15): every response is validated against
the hand-written subset (tests/lms/oneroster_schema.py) and, when BILIM_ONEROSTER_OPENAPI_DIR
names a folder holding 1EdTech's published OpenAPI documents, against their component schemas
as well. The published documents are not in the repository; the first tests here stand in
documents of their own making to show the second check runs and bites, and the last compares
the subset with the published components whenever the documents are there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.lms.oneroster_schema import (
    DOCUMENTS,
    GUID_PAIRS,
    OBJECTS,
    OPENAPI_DIR,
    PUBLISHED,
    STATUS_INFO,
    collection_schema,
    grading_period_schema,
    grading_periods_schema,
    object_schema,
    published_dir,
    published_response,
    validate,
)

ORG = {
    "sourcedId": "school-1",
    "status": "active",
    "dateLastModified": "2026-09-01T00:00:00Z",
    "name": "School No. 1",
    "type": "school",
    "identifier": "",
}


def _documents(folder: Path) -> None:
    """Two OpenAPI 3.0 documents in the published documents' place and names, written here:
    their org must carry ``metadata.tag``, which may be null (OpenAPI's ``nullable``)."""
    org = {
        "type": "object",
        "required": ["metadata"],
        "properties": {
            "metadata": {
                "type": "object",
                "required": ["tag"],
                "properties": {"tag": {"type": "string", "nullable": True}},
            }
        },
    }
    single = {
        "type": "object",
        "required": ["org"],
        "properties": {"org": {"$ref": "#/components/schemas/OrgDType"}},
        "additionalProperties": False,
    }
    answer = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/One"}}}}
    document = {
        "openapi": "3.0.0",
        "paths": {"/orgs/{sourcedId}": {"get": {"responses": {"200": answer}}}},
        "components": {"schemas": {"OrgDType": org, "SingleOrgDType": single, "One": single}},
    }
    for name in DOCUMENTS.values():
        (folder / name).write_text(json.dumps(document), encoding="utf-8")


class TestThePublishedCheck:
    def test_without_the_folder_only_the_subset_is_checked(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv(OPENAPI_DIR, raising=False)
        assert published_dir() is None
        validate({"org": ORG}, object_schema("orgs"))
        # the subset alone still refuses what the binding refuses
        with pytest.raises(Exception, match=r"True is not of type 'string'"):
            validate({"org": ORG | {"identifier": True}}, object_schema("orgs"))
        with pytest.raises(Exception, match=r"'identifier' is a required property"):
            validate(
                {"org": {k: v for k, v in ORG.items() if k != "identifier"}}, object_schema("orgs")
            )

    def test_with_the_folder_the_published_component_is_checked_too(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        # given documents whose org needs metadata.tag, which the subset does not ask for
        _documents(tmp_path)
        monkeypatch.setenv(OPENAPI_DIR, str(tmp_path))
        # when an org valid in the subset lacks it, then the published check refuses it
        with pytest.raises(AssertionError, match=r"SingleOrgDType: \$\.org: 'metadata' is a"):
            validate({"org": ORG}, object_schema("orgs"))
        # and a null tag is valid: the OpenAPI 3.0 dialect, nullable included, is applied
        validate({"org": ORG | {"metadata": {"tag": None}}}, object_schema("orgs"))
        with pytest.raises(AssertionError, match=r"\$\.org\.metadata\.tag: 5 is not of type"):
            validate({"org": ORG | {"metadata": {"tag": 5}}}, object_schema("orgs"))

    def test_a_path_is_answered_with_the_type_its_document_gives(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        _documents(tmp_path)
        monkeypatch.setenv(OPENAPI_DIR, str(tmp_path))
        folder = published_dir()
        assert folder == tmp_path
        # the hub's parameter names and the document's differ; the template is what counts
        assert published_response(folder, "rostering", "orgs/{id}") == (
            "rostering#/components/schemas/One"
        )
        assert published_response(folder, "gradebook", "/orgs/{sourcedId}/") is not None
        assert published_response(folder, "rostering", "orgs/{id}/agents") is None

    def test_a_folder_without_the_documents_is_an_error_not_the_subset_alone(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv(OPENAPI_DIR, str(tmp_path))
        with pytest.raises(FileNotFoundError, match="onerosterv1p2rostersservice"):
            validate({"org": ORG}, object_schema("orgs"))


# --- the subset against the published components -------------------------------------------

# Where the subset deliberately says less than the published documents allow (the hub answers
# less), as the comparison below words it. Everything else must be equal.
NARROWER = [
    # the hub always says its code minor; the binding makes it optional
    "rostering#/components/schemas/imsx_StatusInfoDType: required "
    "['imsx_CodeMinor', 'imsx_codeMajor', 'imsx_severity'] != ['imsx_codeMajor', 'imsx_severity']",
    "gradebook#/components/schemas/imsx_StatusInfoDType: required "
    "['imsx_CodeMinor', 'imsx_codeMajor', 'imsx_severity'] != ['imsx_codeMajor', 'imsx_severity']",
    # the grading periods' paths answer academic sessions of one type
    "rostering#/components/schemas/AcademicSessionSetDType.academicSessions[].type: "
    "enum lacks ['schoolYear', 'semester', 'term']",
    "rostering#/components/schemas/SingleAcademicSessionDType.academicSession.type: "
    "enum lacks ['schoolYear', 'semester', 'term']",
    # the gradebook's vocabulary adds deletefailure, which the hub never answers
    "gradebook#/components/schemas/imsx_StatusInfoDType.imsx_CodeMinor.imsx_codeMinorField[]"
    ".imsx_codeMinorFieldValue: enum lacks ['deletefailure']",
]
# OpenAPI formats of numbers (a JSON number is a number) are not compared.
NUMBER_FORMATS = {"float", "double", "int32", "int64"}


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return _resolve(components[schema["$ref"].rsplit("/", 1)[1]], components)
    if "anyOf" in schema:
        # a vocabulary with its extension (a string matching "(ext:)..."): the subset lists
        # the vocabulary and leaves the extension out, as the hub sends none
        [vocabulary] = [branch for branch in schema["anyOf"] if "enum" in branch]
        return dict(vocabulary)
    return schema


def _compare(
    where: str, mine: dict[str, Any], theirs: dict[str, Any], components: dict[str, Any]
) -> list[str]:
    theirs = _resolve(theirs, components)
    out = []
    if mine.get("type") != theirs.get("type"):
        out.append(f"{where}: type {mine.get('type')} != {theirs.get('type')}")
    if set(mine.get("enum", [])) != set(theirs.get("enum", [])):
        lacking = sorted(set(theirs.get("enum", [])) - set(mine.get("enum", [])))
        extra = sorted(set(mine.get("enum", [])) - set(theirs.get("enum", [])))
        out.append(f"{where}: enum lacks {lacking}" + (f", adds {extra}" if extra else ""))
    format_ = theirs.get("format")
    if mine.get("format") != (None if format_ in NUMBER_FORMATS else format_):
        out.append(f"{where}: format {mine.get('format')} != {format_}")
    if mine.get("minItems", 0) != theirs.get("minItems", 0):
        out.append(f"{where}: minItems {mine.get('minItems', 0)} != {theirs.get('minItems', 0)}")
    if "items" in mine or "items" in theirs:
        out += _compare(f"{where}[]", mine.get("items", {}), theirs.get("items", {}), components)
    if "properties" in mine:
        required = sorted(mine.get("required", [])), sorted(theirs.get("required", []))
        if required[0] != required[1]:
            out.append(f"{where}: required {required[0]} != {required[1]}")
        closed = mine.get("additionalProperties", True), theirs.get("additionalProperties", True)
        if closed[0] != closed[1]:
            out.append(f"{where}: additionalProperties {closed[0]} != {closed[1]}")
        for name, schema in mine["properties"].items():
            if name not in theirs.get("properties", {}):
                out.append(f"{where}.{name}: not in the published type")
            else:
                out += _compare(f"{where}.{name}", schema, theirs["properties"][name], components)
    return out


def test_the_subset_agrees_with_the_published_components() -> None:
    folder = published_dir()
    if folder is None:
        pytest.skip(f"{OPENAPI_DIR} is not set: no published documents to compare with")
    documents = {
        service: json.loads((folder / name).read_text(encoding="utf-8"))
        for service, name in DOCUMENTS.items()
    }
    payloads = [collection_schema(plural) for plural in OBJECTS]
    payloads += [object_schema(plural) for plural in OBJECTS]
    payloads += [grading_periods_schema(), grading_period_schema(), GUID_PAIRS, STATUS_INFO]
    differences = []
    for payload in payloads:
        for pointer in payload[PUBLISHED]:
            service, name = pointer.split("#/components/schemas/")
            components = documents[service]["components"]["schemas"]
            theirs = components[name]
            if payload is STATUS_INFO:
                differences += _compare(pointer, payload, theirs, components)
                continue
            # a payload is its one property (the subset requires it, a SetDType does not)
            [(key, mine)] = payload["properties"].items()
            assert list(theirs["properties"]) == [key], pointer
            assert theirs["additionalProperties"] is False
            differences += _compare(f"{pointer}.{key}", mine, theirs["properties"][key], components)
    assert sorted(set(differences)) == sorted(NARROWER)
