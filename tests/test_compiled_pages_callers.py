"""The nine officers' and families' pages keep one statement per role, not per caller (issue 21).

The compiled pages (schema/compiled/{kindergarten,first_grade,admission,abroad,licensing}.py)
read the caller through the resolvers' row rules; the compiled path keeps one statement for
every caller of a role (schema/compiled/cache.py), the caller's person and scopes being its
arguments. For each page two callers of the same role with different scopes or persons ask,
each gets their own rows, the resolvers' answer byte for byte, and one statement was built for
both: a guardian's page a few times a season (K2, F1) and an officer's queue (K4) are then as
cheap on the first request as on the hundredth."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.access import Role
from resolvers.relay import decode_id
from tests.factories import BISHKEK, BISHKEK_LENIN, CHUY, CHUY_SOKULUK, gid
from tests.test_compiled import Pair, pair
from tests.test_compiled_callers import Built, bearer
from tests.test_compiled_pages_abroad import PAGE as CANDIDATES
from tests.test_compiled_pages_abroad import _arrange as arrange_candidates
from tests.test_compiled_pages_admission import PAGE as APPLICANTS
from tests.test_compiled_pages_admission import _arrange as arrange_campaign
from tests.test_compiled_pages_first_grade import MINE as MY_FIRST_GRADE
from tests.test_compiled_pages_first_grade import SCHOOL
from tests.test_compiled_pages_first_grade import _arrange as arrange_first_grade
from tests.test_compiled_pages_kindergarten import MINE as MY_KINDERGARTEN
from tests.test_compiled_pages_kindergarten import OFFERS, QUEUE
from tests.test_compiled_pages_kindergarten import _arrange as arrange_kindergarten
from tests.test_compiled_pages_licensing import INSTITUTION_PAGE, _licensed
from tests.test_compiled_pages_licensing import PAGE as ACCREDITATIONS
from tests.test_compiled_pages_licensing import _arrange as arrange_accreditations

__all__ = ["pair"]

Request = tuple[str, dict[str, Any]]


async def _shared(
    pair: Pair, callers: dict[str, dict[str, str]], requests: dict[str, Request]
) -> tuple[dict[tuple[str, str], Any], tuple[int, int], set[str]]:
    """Every caller sends every request (one document, variables of one shape); each answer
    must be the resolvers' in one statement. Returns the data per (caller, request), what the
    compiler built meanwhile and the SQL texts sent."""
    documents = {document for document, _ in requests.values()}
    assert len(documents) == 1, "one page, one shape"
    built = Built(pair)
    answers: dict[tuple[str, str], Any] = {}
    texts: set[str] = set()
    for caller, headers in callers.items():
        for name, (document, variables) in requests.items():
            # when the caller opens the page
            fast, slow, statements = await pair.both(document, variables, headers)
            # then the answer is the resolvers', in one statement
            assert fast == slow, (caller, name, fast, slow)
            assert "errors" not in fast, (caller, name, fast)
            assert statements == 1, (caller, name, pair.counter.statements)
            assert pair.counter.statements is not None
            texts.update(pair.counter.statements)
            answers[caller, name] = fast["data"]
    return answers, built.since(), texts


def _ids(data: dict[str, Any]) -> set[str]:
    """The ids of the page's list."""
    listed = next(v for v in data.values() if isinstance(v, dict) and "nodes" in v)
    return {n["id"] for n in listed["nodes"]}


class TestKindergartenPages:
    @pytest.mark.parametrize(
        ("role", "first", "second"),
        [
            # a kindergarten's officer, and one of the other two (a scope of two)
            (Role.SCHOOL_ADMIN, "institution:{kg0}", "institution:{kg1},institution:{kg2}"),
            # the district's officer, and one of a district where nobody applied
            (Role.DISTRICT_OFFICER, f"district:{BISHKEK_LENIN}", f"district:{CHUY_SOKULUK}"),
            (Role.REGION_OFFICER, f"region:{BISHKEK}", f"region:{CHUY}"),
        ],
    )
    async def test_two_officers_share_the_queue_and_offers_statements(
        self, pair: Pair, session: AsyncSession, role: Role, first: str, second: str
    ) -> None:
        # given two officers of one role with different scopes (K4: a queue per kindergarten)
        queue, _, _ = await arrange_kindergarten(session)
        kgs = {f"kg{i}": kg.id for i, kg in enumerate(queue.kindergartens)}
        officers = {
            name: bearer(pair, role, scopes=scopes.format(**kgs).split(","))
            for name, scopes in (("first", first), ("second", second))
        }
        for document in (QUEUE, OFFERS):
            requests = {
                "first": (document, {"kindergartenId": queue.kg(0)}),
                "third": (document, {"kindergartenId": queue.kg(2)}),
            }
            # when each asks for the first kindergarten's page and the third's
            answers, built, texts = await _shared(pair, officers, requests)
            # then one statement serves both officers, sent as one SQL text
            assert built == (1, 1), document[:40]
            assert len(texts) == 1
            # and each reads the applications naming a kindergarten in their scope only: the
            # second officer those of the first kindergarten that name the third too
            assert _ids(answers["first", "first"]), document[:40]
            assert _ids(answers["second", "first"]) <= _ids(answers["first", "first"])
            # nobody applied in the second district or region; the children offered a place
            # named the first kindergarten only
            if role != Role.SCHOOL_ADMIN or document == OFFERS:
                assert _ids(answers["second", "first"]) == set()
            else:
                assert _ids(answers["second", "third"]) == _ids(answers["first", "third"])
                assert _ids(answers["second", "third"])

    async def test_two_guardians_share_their_page_and_each_reads_their_children(
        self, pair: Pair, session: AsyncSession
    ) -> None:
        # given a mother of nine applications and a father who made one (K2)
        queue, father, _ = await arrange_kindergarten(session)
        guardians = {
            "mother": bearer(pair, Role.GUARDIAN, person_id=queue.mother.id),
            "father": bearer(pair, Role.GUARDIAN, person_id=father.id),
        }
        answers, built, texts = await _shared(
            pair, guardians, {"page": (MY_KINDERGARTEN, {"first": 10})}
        )
        # then one statement serves both guardians
        assert built == (1, 1)
        assert len(texts) == 1
        # and each reads their own children's applications only
        assert len(_ids(answers["mother", "page"])) == 9
        assert len(_ids(answers["father", "page"])) == 1


class TestFirstGradePages:
    async def test_two_school_admins_share_the_school_page(
        self, pair: Pair, session: AsyncSession
    ) -> None:
        # given two schools' admins (F2: a school's applications, catchment first)
        ids, people = await arrange_first_grade(session)
        admins = {
            name: bearer(pair, Role.SCHOOL_ADMIN, scopes=[f"institution:{people[name].id}"])
            for name in ("school", "other")
        }
        other = {**ids, "schoolId": gid("Institution", people["other"].id)}
        requests = {"school": (SCHOOL, ids), "other": (SCHOOL, other)}
        # when each asks for their own school's page and the other's
        answers, built, texts = await _shared(pair, admins, requests)
        # then one statement serves both
        assert built == (1, 1)
        assert len(texts) == 1
        # and each reads their own school's applications, none of the other's
        assert len(_ids(answers["school", "school"])) == 7
        assert len(_ids(answers["other", "other"])) == 1
        assert _ids(answers["school", "other"]) == _ids(answers["other", "school"]) == set()

    async def test_two_guardians_share_their_page(self, pair: Pair, session: AsyncSession) -> None:
        ids, people = await arrange_first_grade(session)
        guardians = {
            name: bearer(pair, Role.GUARDIAN, person_id=people[name].id)
            for name in ("mother", "father")
        }
        answers, built, texts = await _shared(
            pair, guardians, {"page": (MY_FIRST_GRADE, {"first": 10})}
        )
        assert built == (1, 1)
        assert len(texts) == 1
        # the mother reads her four children's applications; the father his one child's (F1)
        assert len(_ids(answers["mother", "page"])) == 4
        assert len(_ids(answers["father", "page"])) == 1
        del ids


class TestAdmissionPage:
    async def test_two_universities_admission_officers_share_the_applicants_page(
        self, pair: Pair, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given a campaign whose first round is published, at two universities
        campaign, variables = await arrange_campaign(pair, session, monkeypatch)
        officers = {
            name: bearer(pair, Role.ADMISSION_OFFICER, scopes=[f"institution:{university.id}"])
            for name, university in (
                ("university", campaign.university),
                ("other", campaign.other_university),
            )
        }
        economics = gid("Programme", campaign.programmes["economics"].id)
        requests = {
            "informatics": (APPLICANTS, variables),
            "economics": (APPLICANTS, {"programmeId": economics}),
        }
        # when each officer opens the programme's applicants (U3: ranked by score)
        answers, built, texts = await _shared(pair, officers, requests)
        # then one statement serves both
        assert built == (1, 1)
        assert len(texts) == 1
        # and the university's officer reads its applicants, the other university's none
        assert len(_ids(answers["university", "informatics"])) == 8
        assert _ids(answers["other", "informatics"]) == set()
        assert len(_ids(answers["other", "economics"])) == 8
        assert _ids(answers["university", "economics"]) == set()


class TestAbroadPage:
    async def test_two_applicants_share_the_candidates_page(
        self, pair: Pair, session: AsyncSession
    ) -> None:
        # given a programme's candidates (A1), two of them asking with their own sign-in
        variables, callers = await arrange_candidates(pair, session)
        ministry = {"Authorization": callers["ministry"]}
        first, _, _ = await pair.both(CANDIDATES, variables, ministry)
        people = [
            decode_id(n["applicant"]["id"])[1]
            for n in first["data"]["foreignApplications"]["nodes"]
        ]
        applicants = {
            str(i): bearer(pair, Role.PUPIL, person_id=person)
            for i, person in enumerate(people[:2])
        }
        answers, built, texts = await _shared(pair, applicants, {"page": (CANDIDATES, variables)})
        # then one statement serves both, and each reads their own application only
        assert built == (1, 1)
        assert len(texts) == 1
        assert _ids(answers["0", "page"]) != _ids(answers["1", "page"])
        assert all(len(_ids(answers[name, "page"])) == 1 for name in applicants)


class TestLicensingPages:
    async def test_two_licensing_officers_share_the_register(
        self, pair: Pair, session: AsyncSession
    ) -> None:
        # given accreditations in progress in Bishkek and in Chuy (L2: officers in scope
        # read those in progress; decided ones are public, L3)
        arranged = await arrange_accreditations(session)
        officers = {
            "bishkek": bearer(pair, Role.LICENSING_OFFICER, scopes=[f"region:{BISHKEK}"]),
            "chuy": bearer(pair, Role.LICENSING_OFFICER, scopes=[f"region:{CHUY}"]),
        }
        answers, built, texts = await _shared(pair, officers, {"page": (ACCREDITATIONS, {})})
        assert built == (1, 1)
        assert len(texts) == 1
        # each reads the decided ones and the pending ones of their region
        bishkek, chuy = (_ids(answers[name, "page"]) for name in ("bishkek", "chuy"))
        assert len(bishkek) == len(chuy) == 6
        assert bishkek != chuy
        # and two institutions' admins alike
        admins = {
            name: bearer(pair, Role.SCHOOL_ADMIN, scopes=[f"institution:{arranged[name].id}"])
            for name in ("university", "other")
        }
        answers, built, _ = await _shared(pair, admins, {"page": (ACCREDITATIONS, {})})
        assert built == (1, 1)
        assert _ids(answers["university", "page"]) != _ids(answers["other", "page"])

    async def test_two_licensing_officers_share_an_institutions_page(
        self, pair: Pair, session: AsyncSession
    ) -> None:
        # given a licensed private university with accreditations (L1, L2)
        arranged = await arrange_accreditations(session)
        institutions = await _licensed(session, arranged)
        officers = {
            "bishkek": bearer(pair, Role.LICENSING_OFFICER, scopes=[f"region:{BISHKEK}"]),
            "chuy": bearer(pair, Role.LICENSING_OFFICER, scopes=[f"region:{CHUY}"]),
        }
        requests = {
            name: (INSTITUTION_PAGE, {"id": institutions[name]})
            for name in ("university", "private school")
        }
        answers, built, texts = await _shared(pair, officers, requests)
        assert built == (1, 1)
        assert len(texts) == 1
        # the Bishkek officer reads the university's accreditation in progress, Chuy's not
        bishkek = answers["bishkek", "university"]["node"]
        chuy = answers["chuy", "university"]["node"]
        assert bishkek["licence"] == chuy["licence"]
        assert bishkek["mayTeachToday"] is True


class TestCallersWhoReadNothing:
    async def test_two_teachers_share_the_offers_statement_and_read_nothing(
        self, pair: Pair, session: AsyncSession
    ) -> None:
        """A rule reading no row is ``false`` in SQL that keeps the request's own arguments
        (resolvers.access.no_rows): SQLAlchemy's ``false()`` folded the kindergarten's id away
        and the compiled path built such a caller's statement per request."""
        # given two teachers of two kindergartens (teachers handle no applications)
        queue, father, _ = await arrange_kindergarten(session)
        teachers = {
            str(i): bearer(pair, Role.TEACHER, scopes=[f"institution:{kg.id}"], person_id=person.id)
            for i, (kg, person) in enumerate(
                ((queue.kindergartens[0], father), (queue.kindergartens[1], queue.mother))
            )
        }
        requests = {str(i): (OFFERS, {"kindergartenId": queue.kg(i)}) for i in range(2)}
        # when each opens both kindergartens' offers
        answers, built, texts = await _shared(pair, teachers, requests)
        # then one statement serves both, and neither reads an application
        assert built == (1, 1)
        assert len(texts) == 1
        assert all(_ids(data) == set() for data in answers.values())

    async def test_two_district_officers_share_the_candidates_statement(
        self, pair: Pair, session: AsyncSession
    ) -> None:
        # given a programme's candidates, read by the ministry and the families only (A1)
        variables, _ = await arrange_candidates(pair, session)
        officers = {
            str(d): bearer(pair, Role.DISTRICT_OFFICER, scopes=[f"district:{d}"])
            for d in (BISHKEK_LENIN, CHUY_SOKULUK)
        }
        answers, built, texts = await _shared(pair, officers, {"page": (CANDIDATES, variables)})
        assert built == (1, 1)
        assert len(texts) == 1
        assert all(_ids(data) == set() for data in answers.values())
