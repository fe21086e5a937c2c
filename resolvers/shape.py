"""How big a GraphQL document is once its fragments are expanded, measured without expanding
them: aliases, fields, depth, and the most selections of one response name in one selection
set.

Each fragment is measured once and its counts are multiplied by its uses, so a document of
nested fragments that expands to millions of aliases is measured in microseconds. Issue 22.2:
five levels of fragments spread ten times each (a million aliases from 864 bytes) kept
strawberry's alias and depth limiters busy for 3.4 s, six levels for 43 s, because they expand
every spread again. The hub measures the document first and refuses it over its limits before
anything else walks it: graphql's own rules (comparing fields that share a response name is
quadratic in their number), strawberry's limiters, the cost estimate.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from resolvers.errors import ErrorCode, RequestError

# Counts are cut here: past it only "too many" matters, and the numbers stay small.
CEILING = 10**12


@dataclass(frozen=True)
class Limits:
    """What one document may ask for (settings ``max_aliases``, ``max_query_depth``,
    ``max_fields``, ``max_repeated_fields``)."""

    aliases: int
    depth: int
    fields: int
    repeats: int


@dataclass(frozen=True)
class Size:
    """A document's size with its fragments expanded (every operation in it counted)."""

    aliases: int
    fields: int
    depth: int
    repeats: int


@dataclass
class _Part:
    """One selection set's (or fragment's) counts; ``keys`` are the response names at its top
    level, for the repeats of the selection set that spreads it."""

    aliases: int = 0
    fields: int = 0
    depth: int = 0
    keys: Counter[str] = field(default_factory=Counter)


class _Measure:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.measured: dict[str, _Part] = {}
        self.measuring: set[str] = set()
        self.repeats = 0
        # How many fragment bodies were walked: each at most once (tests read it).
        self.fragment_walks = 0

    def selection_set(self, selection_set: SelectionSetNode) -> _Part:
        """A selection set's counts; its repeats are noted on the way."""
        part = self._level(selection_set, set())
        self.repeats = max(self.repeats, max(part.keys.values(), default=0))
        return part

    def _level(self, selection_set: SelectionSetNode, spread: set[str]) -> _Part:
        """The fields at one level: its own, its inline fragments' and its spreads'."""
        part = _Part()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self._field(selection, part)
            elif isinstance(selection, InlineFragmentNode):
                self._add(part, self._level(selection.selection_set, spread), keys=True)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                # graphql collects a fragment spread twice at one level once: its response
                # names repeat once, its aliases and fields count at every spread (as
                # strawberry's alias limiter counts them).
                self._add(part, self._fragment(name), keys=name not in spread)
                spread.add(name)
        return part

    def _field(self, node: FieldNode, part: _Part) -> None:
        name = node.name.value
        part.keys[node.alias.value if node.alias else name] += 1
        part.fields = min(CEILING, part.fields + 1)
        if node.alias:
            part.aliases = min(CEILING, part.aliases + 1)
        if node.selection_set is None:
            return
        below = self.selection_set(node.selection_set)
        part.aliases = min(CEILING, part.aliases + below.aliases)
        part.fields = min(CEILING, part.fields + below.fields)
        # Introspection is not counted in depth, as strawberry's depth limiter does not.
        if not name.startswith("__"):
            part.depth = max(part.depth, 1 + below.depth)

    def _fragment(self, name: str) -> _Part:
        found = self.measured.get(name)
        if found is not None:
            return found
        fragment = self.fragments.get(name)
        if fragment is None or name in self.measuring:
            return _Part()  # unknown or cyclic: graphql's own rules refuse those
        self.measuring.add(name)
        self.fragment_walks += 1
        part = self.selection_set(fragment.selection_set)
        self.measuring.discard(name)
        self.measured[name] = part
        return part

    @staticmethod
    def _add(part: _Part, other: _Part, *, keys: bool) -> None:
        part.aliases = min(CEILING, part.aliases + other.aliases)
        part.fields = min(CEILING, part.fields + other.fields)
        part.depth = max(part.depth, other.depth)
        if keys:
            part.keys.update(other.keys)


def measure(document: DocumentNode) -> Size:
    """The size of every operation of ``document`` together, each fragment walked once."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walker = _Measure(fragments)
    aliases = fields = depth = 0
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            part = walker.selection_set(definition.selection_set)
            aliases = min(CEILING, aliases + part.aliases)
            fields = min(CEILING, fields + part.fields)
            depth = max(depth, part.depth)
    return Size(aliases=aliases, fields=fields, depth=depth, repeats=walker.repeats)


def refusal(size: Size, limits: Limits) -> RequestError | None:
    """Why a document of ``size`` is refused (QUERY_TOO_COMPLEX), or None."""
    if size.depth > limits.depth:
        return _too_complex(f"The operation exceeds maximum operation depth of {limits.depth}")
    if size.aliases > limits.aliases:
        return _too_complex(f"{size.aliases} aliases found. Allowed: {limits.aliases}")
    if size.fields > limits.fields:
        return _too_complex(
            f"The operation selects {size.fields} fields once its fragments are expanded; "
            f"the limit is {limits.fields}"
        )
    if size.repeats > limits.repeats:
        return _too_complex(
            f"One response name is selected {size.repeats} times in one selection set; "
            f"the limit is {limits.repeats}"
        )
    return None


def _too_complex(message: str) -> RequestError:
    return RequestError(ErrorCode.QUERY_TOO_COMPLEX, message)


MEASURED_KEPT = 2048
# id(document) -> (document, size); the document is kept so its id is not reused meanwhile.
_measured: OrderedDict[int, tuple[DocumentNode, Size]] = OrderedDict()


def checked(document: DocumentNode, limits: Limits) -> RequestError | None:
    """:func:`refusal` of a document, measured once per parsed document (strawberry's parser
    cache hands the same document to every request of the same text)."""
    found = _measured.get(id(document))
    if found is not None and found[0] is document:
        _measured.move_to_end(id(document))
        return refusal(found[1], limits)
    try:
        size = measure(document)
    except RecursionError:
        # Nesting deeper than Python's stack is far past any depth limit.
        size = Size(aliases=0, fields=0, depth=CEILING, repeats=0)
    _measured[id(document)] = (document, size)
    if len(_measured) > MEASURED_KEPT:
        _measured.popitem(last=False)
    return refusal(size, limits)
