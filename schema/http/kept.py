"""Kept answers: a public read asked again is answered from the worker's memory before
GraphQL runs.

Some reads answer the same to everyone and change only when their data does: the library's
catalogue search (issue 17), the anonymous lesson list (issue 16, the most read page of the
country in a school-closure week), the statistics of the public /stats page (issue 21: they
read the rollups the nightly job rewrites) and the reference pages (issue 21: the agencies'
register, the licensing policies and programme classifier, the intake and admission seasons). A
domain declares such a read as a :class:`Keepable`: the fields (type and name) whose values
depend only on their arguments and the data, never on the caller within a class of callers,
which callers share answers (``shares``), and the SQL of one value that every write to that data
changes (a statement trigger bumps it). A request is **keepable** when it is a JSON ``POST`` of
one query operation selecting only a keepable's fields, and one of its ``anchors`` if it names
any (decided once per document text), from a caller the keepable shares with (a partner's key
has its own subgraph and is never served here). Its answer is kept under the document, the
operation name, the variables, the caller's class (one class never gets another's answer), the
value of the version read at the start of the request and, for a page that reads today's date
(``dated``), that date; the next request with all of them the same gets the kept ``data``
without parsing, validating or executing anything: one primary-key read (the version), the
caller's budget charged the operation's points as before, and its own ``extensions.cost``. Only
answers without errors are kept, and none that a resolver marked as read from data the version
does not cover (``Context.keep_answer``: a census date counted live).

A write in any worker changes the version, so every worker's next request misses and runs
the operation; an answer is kept under the version read *before* its execution, so it is
never older than the version it is kept under. Kept answers are bounded by count and bytes,
least recently used out (:data:`MAX_ANSWERS`, :data:`MAX_BYTES`)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    parse,
    visit,
)
from starlette.requests import Request
from starlette.responses import Response

from models import database
from resolvers import clock
from resolvers.access import Principal
from resolvers.content.rules import may_edit_lessons
from resolvers.errors import RequestError
from resolvers.persisted import is_portal_client, requested_hash
from resolvers.safety import CostReport
from resolvers.telemetry import note_result
from schema import analytics as analytics_schema
from schema import library as library_schema
from schema.http.limits import request_json

if TYPE_CHECKING:
    from schema.http.view import GraphQLView

MAX_ANSWERS = 4096
MAX_BYTES = 32 * 1024 * 1024
# Documents decided keepable or not, by their text.
MAX_DOCUMENTS = 512
# A request's scope carries its slot from the look-up to the view's end of execution.
SLOT_KEY = "bilim.kept_answer"


@dataclass(frozen=True)
class Keepable:
    """Fields answering the same to every caller, and the SQL of the one value (as ``bytea``)
    that every write to what they read changes."""

    name: str
    fields: frozenset[tuple[str, str]]
    version_sql: str
    # Where the request's scope carries the version read, so the resolvers need not read it
    # again (an integer); None when they do not use it.
    scope_key: str | None
    # Whose answers a caller may share (its class), or None: its answers are not kept.
    shares: Callable[[Principal], str | None]
    # Fields of which a document must select one to be this keepable's (none: any of
    # ``fields``): the statistics' keepable lists the public regions, but a document asking
    # for regions alone is not a statistics page.
    anchors: frozenset[tuple[str, str]] = frozenset()
    # The answers read today's date (Bishkek's, as the resolvers read it:
    # :func:`resolvers.clock.today`), so they are kept per day as well as per version.
    dated: bool = False

    @property
    def roots(self) -> tuple[str, ...]:
        return tuple(name for kind, name in self.anchors or self.fields if kind == "Query")


def caller_class(principal: Principal) -> str | None:
    """Whose answers a caller may share: every anonymous caller, or every signed-in person;
    None for a partner's key (its subgraph, grant and audit are its own)."""
    if principal.grant is not None or principal.api_key_prefix:
        return None
    return "anonymous" if principal.is_anonymous else "reader"


def lesson_reader(principal: Principal) -> str | None:
    """The lesson list answers every caller who is not a lesson editor alike (published lessons
    only, whatever the filter asks), signed in or not; an editor reads every state."""
    if caller_class(principal) is None or may_edit_lessons(principal):
        return None
    return "public"


def statistics_reader(principal: Principal) -> str | None:
    """The statistics answer every caller of a class alike (analytics_schema.kept_class: the
    ministry reads exact counts, everyone else the protected tables; nothing else of the
    caller is read); a partner's key is not served here (:func:`caller_class`)."""
    if caller_class(principal) is None:
        return None
    return analytics_schema.kept_class(principal)


# The lesson list: the lessons' own columns and the subject register's names, which a write to
# ``lesson`` or ``subject`` changes (migration 0043's triggers). Not the unit, the media, the
# quiz, the history nor the caller's progress: a document asking for them runs as any other.
LESSON_LIST_FIELDS = frozenset(
    (kind, name)
    for kind, names in {
        "Query": "lessons",
        "LessonConnection": "edges nodes pageInfo totalCount",
        "LessonEdge": "cursor node",
        "PageInfo": "hasNextPage hasPreviousPage startCursor endCursor",
        "Lesson": "id title summary language standard subjectCode grade term unitNo topicNo "
        "position durationSeconds status version publishedAt subject",
        "Subject": "id code nameKy nameRu nameEn",
    }.items()
    for name in names.split()
)
LESSON_LIST_VERSION_SQL = "SELECT int8send(version) FROM lesson_list_version WHERE id = 1"


def public_reader(principal: Principal) -> str | None:
    """Reference data reads the same to every caller, signed in or not (no field of its pages
    depends on who asks); a partner's key is never served here (:func:`caller_class`)."""
    return None if caller_class(principal) is None else "public"


def _fields(types: dict[str, str]) -> frozenset[tuple[str, str]]:
    return frozenset((kind, name) for kind, names in types.items() for name in names.split())


PAGE_INFO = "hasNextPage hasPreviousPage startCursor endCursor"
# The reference pages (issue 21): public registers and policies that officers change a few times
# a year and families read at every visit. Each set's version changes with every write to the
# tables its fields read (migration ``reference_version``'s triggers), and only those fields
# are here: a document asking for anything else (an agency's accreditations, a programme's
# applicants) runs as any other.
REFERENCE_VERSION_SQL = "SELECT int8send(version) FROM reference_version WHERE name = '{}'"
# The agencies' register (licensing/AccreditationAgencies): ``mayAccreditToday`` and the filter
# of the same name read today's date, so its answers are kept per day too.
AGENCY_FIELDS = _fields(
    {
        "Query": "accreditationAgencies",
        "AccreditationAgencyConnection": "edges nodes pageInfo totalCount",
        "AccreditationAgencyEdge": "cursor node",
        "PageInfo": PAGE_INFO,
        "AccreditationAgency": "id name countryCode onNationalRegister onEuropeanRegister "
        "recognisedOn recognisedUntil mayAccreditToday",
    }
)
# The licensing policies and the programme classifier (licensing/LicensingReference).
LICENSING_REFERENCE_FIELDS = _fields(
    {
        "Query": "licensingPolicies programmeCodes",
        "LicensingPolicy": "year reviewDays minAreaPerStudent minPremisesYears requiredDocuments",
        "ProgrammeCodeConnection": "edges nodes pageInfo totalCount",
        "ProgrammeCodeEdge": "cursor node",
        "PageInfo": PAGE_INFO,
        "ProgrammeCode": "code name level medical accreditationRequired",
    }
)
# The intake seasons with their age groups and benefit categories
# (kindergarten-queue/KindergartenSeason, first-grade/FirstGradeSeason).
INTAKE_SEASON_FIELDS = _fields(
    {
        "Query": "intakeSeasons",
        "IntakeSeason": "id kind year name startsOn endsOn schoolYearStarts weekendDays "
        "minAgeMonths maxAgeMonths maxPreferences offerDeadlineWorkingDays declineRule "
        "stage1Starts stage1Ends stage2Starts stage2Ends classSizeMax gradesPerSchool "
        "grade1BirthYear grade2BirthYear preschoolProgrammeGrade2 siblingPriority ageGroups "
        "benefitCategories",
        "AgeGroup": "code minMonths maxMonths groupSize",
        "BenefitCategory": "code name rank",
    }
)
# The admission seasons with their rounds and field thresholds
# (university-admission/AdmissionSeasons).
ADMISSION_SEASON_FIELDS = _fields(
    {
        "Query": "admissionSeasons",
        "AdmissionSeasonConnection": "edges nodes pageInfo totalCount",
        "AdmissionSeasonEdge": "cursor node",
        "PageInfo": PAGE_INFO,
        "AdmissionSeason": "id year intake name status maxChoices mainScoreMax subjectScoreMax "
        "stateLanguageScoreMax mainThreshold subjectThreshold stateLanguageThreshold "
        "studiesStart rounds fieldThresholds",
        "AdmissionRound": "id number registrationOpens registrationCloses publicationOn "
        "confirmationOpens confirmationCloses status publishedAt season",
        "FieldThreshold": "fieldOfStudy grantMainMin contractMainMin subjectMin",
    }
)

KEEPABLE = (
    Keepable(
        "catalogue",
        library_schema.KEPT_FIELDS,
        library_schema.CATALOGUE_VERSION_SQL,
        library_schema.CATALOGUE_VERSION_KEY,
        caller_class,
    ),
    Keepable(
        "lessons",
        LESSON_LIST_FIELDS,
        LESSON_LIST_VERSION_SQL,
        "bilim.lesson_list_version",
        lesson_reader,
    ),
    Keepable(
        "statistics",
        analytics_schema.KEPT_FIELDS,
        analytics_schema.STATS_VERSION_SQL,
        None,
        statistics_reader,
        anchors=analytics_schema.KEPT_ROOTS,
    ),
    Keepable(
        "accreditation_agencies",
        AGENCY_FIELDS,
        REFERENCE_VERSION_SQL.format("accreditation_agencies"),
        None,
        public_reader,
        dated=True,
    ),
    Keepable(
        "licensing_reference",
        LICENSING_REFERENCE_FIELDS,
        REFERENCE_VERSION_SQL.format("licensing_reference"),
        None,
        public_reader,
    ),
    Keepable(
        "intake_seasons",
        INTAKE_SEASON_FIELDS,
        REFERENCE_VERSION_SQL.format("intake_seasons"),
        None,
        public_reader,
    ),
    Keepable(
        "admission_seasons",
        ADMISSION_SEASON_FIELDS,
        REFERENCE_VERSION_SQL.format("admission_seasons"),
        None,
        public_reader,
    ),
)

ROOTS = tuple(root for keepable in KEEPABLE for root in keepable.roots)


@dataclass(frozen=True)
class Kept:
    """A kept answer: its ``data`` as JSON and what its cost report needs."""

    data: bytes
    requested: int
    node_count: int
    operation_name: str | None


class KeptAnswers:
    """A worker's kept answers, least recently used first, bounded by count and bytes."""

    def __init__(self, max_answers: int = MAX_ANSWERS, max_bytes: int = MAX_BYTES) -> None:
        self.max_answers = max_answers
        self.max_bytes = max_bytes
        self.kept: OrderedDict[tuple[Any, ...], Kept] = OrderedDict()
        self.bytes = 0
        self.documents: OrderedDict[str, Keepable | None] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...]) -> Kept | None:
        found = self.kept.get(key)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self.kept.move_to_end(key)
        return found

    def put(self, key: tuple[Any, ...], answer: Kept) -> None:
        if len(answer.data) > self.max_bytes:
            return
        old = self.kept.pop(key, None)
        if old is not None:
            self.bytes -= len(old.data)
        self.kept[key] = answer
        self.bytes += len(answer.data)
        while len(self.kept) > self.max_answers or self.bytes > self.max_bytes:
            _, out = self.kept.popitem(last=False)
            self.bytes -= len(out.data)

    def clear(self) -> None:
        """Forget every kept answer (the documents' decisions stay)."""
        self.kept.clear()
        self.bytes = 0

    def keepable(self, schema: GraphQLSchema, query: str) -> Keepable | None:
        """The keepable a document reads, or None (decided once per document text). A document
        that does not name a keepable's root field is not parsed here: every other request
        pays a substring search, not a second parse."""
        if query in self.documents:
            self.documents.move_to_end(query)
            return self.documents[query]
        if not any(root in query for root in ROOTS):
            return None
        decided = _keepable(schema, query)
        self.documents[query] = decided
        if len(self.documents) > MAX_DOCUMENTS:
            self.documents.popitem(last=False)
        return decided


def _keepable(schema: GraphQLSchema, query: str) -> Keepable | None:
    """The keepable whose fields are every field the document's one query operation selects."""
    try:
        document = parse(query, max_tokens=2_000)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        return None
    used = _fields_used(schema, document)
    if used is None:
        return None
    for keepable in KEEPABLE:
        if used <= keepable.fields and (not keepable.anchors or used & keepable.anchors):
            return keepable
    return None


def _fields_used(schema: GraphQLSchema, document: DocumentNode) -> set[tuple[str, str]] | None:
    """Every (type, field) the document selects, ``__typename`` aside; None when a field is
    not in the schema or a directive other than ``@include``/``@skip`` is used."""
    info = TypeInfo(schema)
    used: set[tuple[str, str]] = set()
    unknown: list[str] = []

    class Fields(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            parent = info.get_parent_type()
            if node.name.value == "__typename":
                return
            if parent is None or info.get_field_def() is None:
                unknown.append(node.name.value)
                return
            used.add((get_named_type(parent).name, node.name.value))

        def enter_directive(self, node: Any, *_: Any) -> None:
            if node.name.value not in ("include", "skip"):
                unknown.append(node.name.value)

    visit(document, TypeInfoVisitor(info, Fields()))
    return None if unknown else used


@dataclass
class Slot:
    """A keepable request that missed: where its answer goes once the view has it."""

    answers: KeptAnswers
    key: tuple[Any, ...]


def answers_of(state: Any) -> KeptAnswers:
    answers: KeptAnswers | None = getattr(state, "kept_answers", None)
    if answers is None:
        answers = state.kept_answers = KeptAnswers()
    return answers


async def answer(view: GraphQLView, request: Request) -> Response | None:
    """The kept answer of a keepable request, or None (the request runs, and a keepable one
    leaves a slot for its answer in the request's scope)."""
    if request.method != "POST" or not request.headers.get("content-type", "").startswith(
        "application/json"
    ):
        return None
    try:
        body = await request_json(request)
    except Exception:
        return None  # the normal path answers it 400
    if not isinstance(body, dict):
        return None
    state = view.state
    guard = state.guard
    query = _query_of(guard, body)
    variables, operation_name = body.get("variables"), body.get("operationName")
    if query is None or not isinstance(variables, dict | None):
        return None
    answers = answers_of(state)
    schema: GraphQLSchema | None = getattr(view.schema, "_schema", None)
    keepable = answers.keepable(schema, query) if schema is not None else None
    if keepable is None:
        return None
    principal, auth_error = await view.authenticate(request)
    whose = keepable.shares(principal) if auth_error is None else None
    if whose is None:
        return None
    if (
        guard.mode == "allowlist"
        and is_portal_client(principal)
        and not guard.allow_list.allows(query, None)
    ):
        return None  # the normal path checks the document's print, and refuses or learns it
    try:
        values = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    version = await _version(state, keepable)
    if version is not None and keepable.scope_key is not None:
        request.scope[keepable.scope_key] = int.from_bytes(version, "big", signed=True)
    digest = hashlib.blake2b(query.encode(), digest_size=16).digest()
    key: tuple[Any, ...] = (keepable.name, version, whose, digest, operation_name, values)
    if keepable.dated:
        # Read before the operation runs, as the version: an answer made across midnight is
        # kept under the day before, which no later request asks for.
        key += (clock.today(),)
    kept = answers.get(key)
    if kept is None:
        request.scope[SLOT_KEY] = Slot(answers, key)
        return None
    return await _respond(view, request, principal, kept)


def _query_of(guard: Any, body: dict[str, Any]) -> str | None:
    """The document: the body's ``query``, or the portal operation a persisted hash names
    (one of the published ones, known in memory; any other goes the normal path)."""
    query, extensions = body.get("query"), body.get("extensions")
    if not isinstance(extensions, dict | None):
        return None
    try:
        digest = requested_hash(extensions)
    except RequestError:
        return None
    if digest is None:
        return query if isinstance(query, str) else None
    if guard.mode == "off":
        return None
    if query is None:
        return guard.allow_list.by_hash.get(digest) if guard.allow_list is not None else None
    if not isinstance(query, str) or hashlib.sha256(query.encode()).hexdigest() != digest:
        return None
    return query


async def _version(state: Any, keepable: Keepable) -> bytes | None:
    """The data's version now, on the compiled path's pool (one primary-key read)."""
    pool = getattr(state, "compiled_pool", None)
    if pool is not None:
        return await pool.fetch_bytes(keepable.version_sql, ())
    return await database.fetch_bytes(state.compiled_engine, keepable.version_sql, ())


async def _respond(
    view: GraphQLView, request: Request, principal: Principal, kept: Kept
) -> Response | None:
    """The kept ``data`` with this request's cost report, once the caller's budget pays for it
    as for a run; None (the normal path refuses it) when the budget cannot."""
    guard = view.state.guard
    subject, limit = guard.budget_of(principal, request)
    charged = await guard.ledger.charge(subject=subject, points=kept.requested, limit=limit)
    if not charged.granted:
        return None
    response = Response(media_type="application/json")
    ctx = view.context_for(request, response, principal)
    ctx.operation_type = "query"
    ctx.operation_name = kept.operation_name
    cost = CostReport(kept.requested, kept.node_count, limit, charged.remaining, charged.reset_at)
    note_result(None)
    response.body = b"".join(
        (
            b'{"data":',
            kept.data,
            b',"extensions":',
            orjson.dumps({"cost": cost.as_extension()}),
            b"}",
        )
    )
    response.headers["content-length"] = str(len(response.body))
    return response


def remember(request: Any, context: Any, data: Any, errors: Any, status: int | None) -> None:
    """Keep a keepable request's answer: only a full one (data, no errors, a cost report)."""
    if errors or data is None or (status or 200) >= 400:
        return
    if getattr(request, "scope", {}).get(SLOT_KEY) is not None:
        remember_json(request, context, orjson.dumps(data))


def remember_json(request: Any, context: Any, data: bytes) -> None:
    """Keep a keepable request's full answer given as its ``data``'s JSON (the compiled path's
    statement writes it: schema/compiled/endpoint.py)."""
    slot: Slot | None = getattr(request, "scope", {}).get(SLOT_KEY)
    cost = getattr(context, "cost", None)
    if slot is None or cost is None or not getattr(context, "keep_answer", True):
        return
    slot.answers.put(slot.key, Kept(data, cost.requested, cost.node_count, context.operation_name))
