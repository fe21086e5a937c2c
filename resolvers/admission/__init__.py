"""University admission by national test scores (domain.md, "University admission").

Modules: ``policy`` (seasons, rounds, thresholds, district pools, quota holders),
``programmes`` (programmes and their places), ``results_import`` (the testing centre's CSV
file), ``applications`` (applying), ``eligibility`` (who may compete for a programme, which
programmes may take applicants), ``confirmation`` (taking a recommended place), ``ranking``
(the ranking order and the assignment of places), ``rounds`` (publishing a round),
``explanation`` (why an application ranks where it does), ``admission_order`` (closing a
season), ``queries`` (the lists), ``rules`` (who may read or act) and ``loaders``.

Other domains use the names exported here::

    from resolvers import admission as admission_service

    await admission_service.may_act_for_applicant(session, principal, person_id)
"""

from resolvers.admission.admission_order import issue_admission_order
from resolvers.admission.applications import (
    Choice,
    apply_to_programmes,
    pool_of_applicant,
    record_creative_score,
)
from resolvers.admission.confirmation import confirm_place
from resolvers.admission.explanation import RankEntry, RankExplanation, rank_explanation
from resolvers.admission.policy import (
    SEASON_POLICY_FIELDS,
    create_round,
    create_season,
    grant_quota,
    normalise_code,
    set_district_pool,
    set_field_threshold,
    set_school_pool,
    update_round,
    update_season,
)
from resolvers.admission.programmes import create_programme, set_programme_places
from resolvers.admission.queries import (
    APPLICATION_ORDERINGS,
    PROGRAMME_ORDERINGS,
    SEASON_ORDERINGS,
    TEST_RESULT_ORDERINGS,
    ApplicationFilter,
    ProgrammeFilter,
    SeasonFilter,
    TestResultFilter,
    applications_query,
    programmes_query,
    seasons_query,
    test_results_query,
)
from resolvers.admission.recognition import decide_document_recognition
from resolvers.admission.results_import import (
    MAX_IMPORT_BYTES,
    ImportReport,
    RowProblem,
    import_test_results,
)
from resolvers.admission.rounds import RoundOutcome, publish_round
from resolvers.admission.rules import age_on, may_act_for_applicant

__all__ = [
    "APPLICATION_ORDERINGS",
    "MAX_IMPORT_BYTES",
    "PROGRAMME_ORDERINGS",
    "SEASON_ORDERINGS",
    "SEASON_POLICY_FIELDS",
    "TEST_RESULT_ORDERINGS",
    "ApplicationFilter",
    "Choice",
    "ImportReport",
    "ProgrammeFilter",
    "RankEntry",
    "RankExplanation",
    "RoundOutcome",
    "RowProblem",
    "SeasonFilter",
    "TestResultFilter",
    "age_on",
    "applications_query",
    "apply_to_programmes",
    "confirm_place",
    "create_programme",
    "create_round",
    "create_season",
    "decide_document_recognition",
    "grant_quota",
    "import_test_results",
    "issue_admission_order",
    "may_act_for_applicant",
    "normalise_code",
    "pool_of_applicant",
    "programmes_query",
    "publish_round",
    "rank_explanation",
    "record_creative_score",
    "seasons_query",
    "set_district_pool",
    "set_field_threshold",
    "set_programme_places",
    "set_school_pool",
    "test_results_query",
    "update_round",
    "update_season",
]
