"""The schema never breaks its clients: ``bilim schema check`` compares the exported SDL with
the last released one (the merge base on main, or a file) and fails on a breaking change not
listed as intended; ``bilim schema usage`` lists the portal operations that still use a
deprecated field (docs/operating.md, "Changing the schema")."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from graphql import (
    BreakingChange,
    DangerousChange,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
    parse,
    visit,
)
from graphql.language import FieldNode

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "schema.graphql"
# One line per breaking change a release makes on purpose, as `bilim schema check` prints
# it (e.g. "FIELD_REMOVED: Field Query.oldField was removed."); lines starting with # are comments.
INTENDED_FILE = ROOT / "schema-changes.txt"
PORTALS = ROOT / "portals"
# A deprecation names the day it began, so the removal can wait a school year.
DEPRECATION_DATE = re.compile(r"\b(since|from) (\d{4}-\d{2}-\d{2})\b")


@dataclass
class CheckResult:
    breaking: list[str] = field(default_factory=list)
    intended: list[str] = field(default_factory=list)
    dangerous: list[str] = field(default_factory=list)
    undated_deprecations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaking and not self.undated_deprecations


def _describe(change: BreakingChange | DangerousChange) -> str:
    return f"{change.type.name}: {change.description}"


def intended_changes(path: Path = INTENDED_FILE) -> set[str]:
    if not path.is_file():
        return set()
    lines = (line.strip() for line in path.read_text().splitlines())
    return {line for line in lines if line and not line.startswith("#")}


def deprecated_fields(schema: GraphQLSchema) -> dict[str, str]:
    """``Type.field`` (and ``Enum.VALUE``) -> deprecation reason, over the whole schema."""
    found: dict[str, str] = {}
    for name, gtype in schema.type_map.items():
        if name.startswith("__"):
            continue
        for fname, fdef in (getattr(gtype, "fields", None) or {}).items():
            if getattr(fdef, "deprecation_reason", None):
                found[f"{name}.{fname}"] = fdef.deprecation_reason
        for vname, vdef in (getattr(gtype, "values", None) or {}).items():
            if getattr(vdef, "deprecation_reason", None):
                found[f"{name}.{vname}"] = vdef.deprecation_reason
    return found


def check(old_sdl: str, new_sdl: str, intended: set[str] | None = None) -> CheckResult:
    """Compare two SDL texts: breaking changes not intended, dangerous ones, and deprecations
    without a date."""
    old, new = build_schema(old_sdl), build_schema(new_sdl)
    allowed = intended if intended is not None else intended_changes()
    result = CheckResult()
    for change in find_breaking_changes(old, new):
        text = _describe(change)
        (result.intended if text in allowed else result.breaking).append(text)
    result.dangerous = [_describe(c) for c in find_dangerous_changes(old, new)]
    result.undated_deprecations = [
        f"{name}: {reason}"
        for name, reason in deprecated_fields(new).items()
        if not DEPRECATION_DATE.search(reason)
    ]
    return result


def released_sdl(base_ref: str = "main") -> str | None:
    """schema.graphql as of the merge base with ``base_ref``, or None outside a git checkout
    (or when the file did not exist there)."""
    try:
        base = subprocess.run(
            ["git", "-C", str(ROOT), "merge-base", "HEAD", base_ref],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        shown = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{base}:schema.graphql"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return shown.stdout


class _DeprecatedUse(Visitor):
    """Collects the deprecated fields an operation selects (TypeInfo knows each parent)."""

    def __init__(self, info: TypeInfo, deprecated: dict[str, str]) -> None:
        super().__init__()
        self.info = info
        self.deprecated = deprecated
        self.hits: set[str] = set()

    def enter_field(self, node: FieldNode, *_: object) -> None:
        parent = self.info.get_parent_type()
        if parent is not None:
            key = f"{parent.name}.{node.name.value}"
            if key in self.deprecated:
                self.hits.add(key)


def usage(schema: GraphQLSchema, portals: Path = PORTALS) -> dict[str, list[str]]:
    """Deprecated ``Type.field`` -> the portal operation files that select it."""
    deprecated = deprecated_fields(schema)
    used: dict[str, list[str]] = {}
    for path in sorted(portals.rglob("*.graphql")):
        info = TypeInfo(schema)
        collect = _DeprecatedUse(info, deprecated)
        visit(parse(path.read_text()), TypeInfoVisitor(info, collect))
        for key in sorted(collect.hits):
            used.setdefault(key, []).append(str(path.relative_to(portals)))
    return used
