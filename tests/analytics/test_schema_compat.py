"""The schema never breaks its clients: breaking changes against the released schema fail
unless intended, dangerous ones are printed, deprecations carry a date, and the portals'
use of deprecated fields is reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema

from schema import check

OLD = """
type Query {
  "Pupils."
  pupils: Int
  "Schools."
  schools: Int
}
enum Sex { FEMALE MALE }
"""


class TestBreakingChangeCheck:
    def test_the_committed_schema_breaks_nothing_released_on_main(self) -> None:
        released = check.released_sdl()
        if released is None:
            pytest.skip("SCHEMA CHECK NOT RUN: no git checkout with a main branch here")
        result = check.check(released, check.SCHEMA_FILE.read_text())
        assert result.breaking == [], (
            "Breaking changes against main; list them in schema-changes.txt only if intended"
        )
        assert result.undated_deprecations == []

    def test_removing_a_field_is_breaking(self) -> None:
        new = OLD.replace('  "Schools."\n  schools: Int\n', "")
        result = check.check(OLD, new, intended=set())
        assert result.breaking == ["FIELD_REMOVED: Field Query.schools was removed."]
        assert not result.ok

    def test_an_intended_removal_passes(self) -> None:
        new = OLD.replace('  "Schools."\n  schools: Int\n', "")
        result = check.check(OLD, new, intended={"FIELD_REMOVED: Field Query.schools was removed."})
        assert result.ok
        assert result.intended == ["FIELD_REMOVED: Field Query.schools was removed."]

    def test_a_new_enum_value_is_dangerous_not_breaking(self) -> None:
        result = check.check(OLD, OLD.replace("MALE }", "MALE OTHER }"), intended=set())
        assert result.ok
        assert result.dangerous == ["VALUE_ADDED_TO_ENUM: Enum value Sex.OTHER was added."]

    def test_a_deprecation_must_name_its_start_date(self) -> None:
        undated = OLD.replace("pupils: Int", 'pupils: Int @deprecated(reason: "Use census")')
        dated = OLD.replace(
            "pupils: Int", 'pupils: Int @deprecated(reason: "Use statistics; since 2026-09-01")'
        )
        assert check.check(OLD, undated, intended=set()).undated_deprecations
        assert check.check(OLD, dated, intended=set()).ok


class TestDeprecatedUsage:
    def test_usage_names_the_portal_operations_using_a_deprecated_field(
        self, tmp_path: Path
    ) -> None:
        schema = build_schema(
            OLD.replace(
                "pupils: Int", 'pupils: Int @deprecated(reason: "Use statistics; since 2026-09-01")'
            )
        )
        (tmp_path / "emis").mkdir()
        (tmp_path / "emis" / "Counts.graphql").write_text("query Counts { pupils schools }")
        (tmp_path / "emis" / "Schools.graphql").write_text("query Schools { schools }")
        assert check.usage(schema, tmp_path) == {"Query.pupils": ["emis/Counts.graphql"]}
