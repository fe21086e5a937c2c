"""The textbook fund: the need from the registry's pupils and the ministry's approvals, the
stock from the schools' libraries, provision for a school, a district, a region and the
country, and issuing a class its set (S6: textbooks per language of instruction; G1: the
regions the ministry reads by; S3: a set is lent for the school year, due in late May)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import Enrollment, Institution, Language, LibraryItem, Loan, TextbookApproval
from resolvers import clock
from resolvers.access import Role
from resolvers.library import school_year_of
from resolvers.library.textbooks import ProvisionFilter, ProvisionLevel, textbook_provision
from tests.conftest import Hub
from tests.factories import (
    BISHKEK,
    CHUY,
    CHUY_SOKULUK,
    gid,
    make_enrollment,
    make_institution,
    make_person,
)
from tests.library.factories import make_items, make_textbook

PROVISION = """
query($filter: TextbookProvisionFilterInput, $by: ProvisionLevel!) {
  textbookProvision(filter: $filter) {
    schoolYear
    total { needed held issued shortfall rate }
    breakdown(by: $by, first: 10) { region { nameKy } institution { id } record { title } needed held shortfall rate }
  }
}"""
ISSUE = """
mutation($input: IssueTextbooksInput!) {
  issueTextbooks(input: $input) {
    issue { grade classGroup titles { record { title } pupils issued alreadyHad short } }
    userErrors { field code }
  }
}"""


async def arrange(session: AsyncSession) -> dict:
    """Two Kyrgyz-language schools in Bishkek (grade 5: 3 pupils in 5A, 2 in 5B; and 4
    pupils) and a Russian-language school in Chuy (2 pupils), the approved grade-5
    mathematics textbook in each language; the first school holds 4 copies, the second 6."""
    year = school_year_of(clock.today())
    first = await make_institution(session, languages=["ky", "ru"])
    second = await make_institution(session, languages=["ky"])
    chuy = await make_institution(
        session, languages=["ru"], region_id=CHUY, district_id=CHUY_SOKULUK
    )
    for school, count, group in (
        (first, 3, "5А"),
        (first, 2, "5Б"),
        (second, 4, "5А"),
        (chuy, 2, "5А"),
    ):
        for _ in range(count):
            pupil = await make_person(session)
            await make_enrollment(
                session, person=pupil, institution=school, grade_level=5, class_group=group
            )
    math_ky = await make_textbook(session, approved_for=year, title="Математика 5")
    math_ru = await make_textbook(
        session, approved_for=year, language=Language.RU, title="Математика 5 (рус.)"
    )
    unapproved = await make_textbook(session, title="Математика 5 (эски)")
    await make_items(session, record=math_ky, institution=first, count=4)
    await make_items(session, record=math_ky, institution=second, count=6)
    await make_items(session, record=unapproved, institution=first, count=5)
    await session.commit()
    return {
        "year": year,
        "first": first,
        "second": second,
        "chuy": chuy,
        "math_ky": math_ky,
        "math_ru": math_ru,
        "unapproved": unapproved,
    }


class TestTextbookProvision:
    async def test_the_ministry_sees_the_country_and_where_books_are_short(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        # given the schools above
        await arrange(session)
        # when the ministry reads the country's provision, school by school
        data = await hub.data(PROVISION, {"by": "INSTITUTION"}, token=ministry)
        report = data["textbookProvision"]
        # then 11 copies are needed (5 + 4 Kyrgyz, 2 Russian), 10 held; the second school's
        # surplus of 2 does not cover the first's shortfall of 1, nor Chuy's of 2
        assert report["total"]["needed"] == 11
        assert report["total"]["held"] == 10
        assert report["total"]["shortfall"] == 3
        assert report["total"]["rate"] == round(8 / 11, 4)
        shortages = [(r["needed"], r["held"], r["shortfall"]) for r in report["breakdown"]]
        assert shortages == [(2, 0, 2), (5, 4, 1), (4, 6, 0)]

    async def test_a_region_and_a_title(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        await arrange(session)
        data = await hub.data(
            PROVISION,
            {"filter": {"regionId": gid("Region", BISHKEK)}, "by": "TITLE"},
            token=ministry,
        )
        report = data["textbookProvision"]
        assert report["total"]["needed"] == 9
        assert {r["record"]["title"] for r in report["breakdown"]} == {"Математика 5"}

    async def test_a_region_officer_reads_only_their_region(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        await arrange(session)
        officer = hub.token(Role.REGION_OFFICER, scopes=[f"region:{CHUY}"])
        own = await hub.data(
            PROVISION, {"filter": {"regionId": gid("Region", CHUY)}, "by": "REGION"}, token=officer
        )
        assert own["textbookProvision"]["total"]["needed"] == 2
        other = await hub.gql(
            PROVISION,
            {"filter": {"regionId": gid("Region", BISHKEK)}, "by": "REGION"},
            token=officer,
        )
        assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"


class TestIssueTextbooks:
    async def test_a_class_gets_its_set_and_the_shortfall_is_reported(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given the first school: 3 pupils in 5A, 4 copies of the approved textbook
        given = await arrange(session)
        librarian = hub.token(Role.LIBRARIAN, scopes=[f"institution:{given['first'].id}"])
        variables = {
            "input": {
                "institutionId": gid("Institution", given["first"].id),
                "grade": 5,
                "classGroup": "5А",
                "recordIds": [gid("BibRecord", given["math_ky"].id)],
            }
        }
        # when the librarian issues 5A its set, then every pupil gets a copy
        data = await hub.data(ISSUE, variables, token=librarian)
        (title,) = data["issueTextbooks"]["issue"]["titles"]
        assert (title["pupils"], title["issued"], title["short"]) == (3, 3, 0)
        # when 5B (2 pupils) comes next, one copy is left: one pupil goes without
        variables["input"]["classGroup"] = "5Б"
        data = await hub.data(ISSUE, variables, token=librarian)
        (title,) = data["issueTextbooks"]["issue"]["titles"]
        assert (title["pupils"], title["issued"], title["short"]) == (2, 1, 1)
        # and issuing 5A again gives nothing twice
        variables["input"]["classGroup"] = "5А"
        again = await hub.data(ISSUE, variables, token=librarian)
        (title,) = again["issueTextbooks"]["issue"]["titles"]
        assert (title["issued"], title["alreadyHad"]) == (0, 3)
        assert await session.scalar(select(func.count()).select_from(Loan)) == 4
        # and the set is lent for the school year: due at its end, 31 May (S3)
        dues = set((await session.scalars(select(Loan.due_on))).all())
        assert dues == {date(school_year_of(clock.today()) + 1, 5, 31)}
        # and the provision report counts them as issued
        report = await hub.data(
            PROVISION,
            {
                "filter": {"institutionId": gid("Institution", given["first"].id)},
                "by": "INSTITUTION",
            },
            token=librarian,
        )
        assert report["textbookProvision"]["total"]["issued"] == 4

    async def test_an_unapproved_textbook_is_refused_and_nothing_issued(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        given = await arrange(session)
        librarian = hub.token(Role.LIBRARIAN, scopes=[f"institution:{given['first'].id}"])
        data = await hub.data(
            ISSUE,
            {
                "input": {
                    "institutionId": gid("Institution", given["first"].id),
                    "grade": 5,
                    "recordIds": [
                        gid("BibRecord", given["math_ky"].id),
                        gid("BibRecord", given["unapproved"].id),
                    ],
                }
            },
            token=librarian,
        )
        assert data["issueTextbooks"]["userErrors"] == [
            {"field": "recordIds", "code": "TEXTBOOK_NOT_APPROVED"}
        ]
        assert await session.scalar(select(func.count()).select_from(Loan)) == 0

    async def test_an_empty_class_is_refused(self, hub: Hub, session: AsyncSession) -> None:
        given = await arrange(session)
        librarian = hub.token(Role.LIBRARIAN, scopes=[f"institution:{given['first'].id}"])
        data = await hub.data(
            ISSUE,
            {
                "input": {
                    "institutionId": gid("Institution", given["first"].id),
                    "grade": 9,
                    "recordIds": [gid("BibRecord", given["math_ky"].id)],
                }
            },
            token=librarian,
        )
        assert data["issueTextbooks"]["userErrors"][0]["code"] == "NO_PUPILS_IN_CLASS"


CHECK_OUT = """
mutation($input: CheckOutItemInput!) { checkOutItem(input: $input) { loan { id } userErrors { code } } }
"""
RETURN = """
mutation($input: ReturnItemInput!) { returnItem(input: $input) { loan { id } userErrors { code } } }
"""


async def assert_summary_is_a_recount(session: AsyncSession, year: int) -> None:
    """The summaries (textbook_need, textbook_pupils) give what counting every enrollment
    and holding gives, for the country, each school, a grade and a language."""
    await session.rollback()  # a fresh snapshot: what the hub committed
    filters = [
        ProvisionFilter(school_year=year),
        ProvisionFilter(school_year=year, grade=5),
        ProvisionFilter(school_year=year, language="ky"),
        ProvisionFilter(school_year=year, region_id=BISHKEK),
    ]
    for flt in filters:
        for level in (ProvisionLevel.COUNTRY, ProvisionLevel.INSTITUTION):
            summary = await textbook_provision(session, flt, level=level)
            recount = await textbook_provision(session, flt, level=level, recount=True)
            assert summary == recount, (flt, level)


class TestProvisionSummary:
    async def test_the_summary_equals_a_recount_after_every_kind_of_change(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given the schools above (S6: need per language of instruction)
        given = await arrange(session)
        year, first = given["year"], given["first"].id
        second, chuy = given["second"].id, given["chuy"].id
        math_ky, math_ru = given["math_ky"].id, given["math_ru"].id
        librarian = hub.token(Role.LIBRARIAN, scopes=[f"institution:{first}"])
        await assert_summary_is_a_recount(session, year)
        before = await textbook_provision(
            session, ProvisionFilter(school_year=year), level=ProvisionLevel.COUNTRY
        )
        assert (before[0].needed, before[0].held, before[0].covered) == (11, 10, 8)

        # when 5A is issued its set (three loans in one statement)
        issued = await hub.data(
            ISSUE,
            {
                "input": {
                    "institutionId": gid("Institution", first),
                    "grade": 5,
                    "classGroup": "5А",
                    "recordIds": [gid("BibRecord", math_ky)],
                }
            },
            token=librarian,
        )
        assert issued["issueTextbooks"]["userErrors"] == []
        await assert_summary_is_a_recount(session, year)

        # when one copy comes back and is lent again at the desk to a 5B pupil
        barcode = await session.scalar(
            select(LibraryItem.barcode)
            .where(LibraryItem.institution_id == first, LibraryItem.status == "on_loan")
            .limit(1)
        )
        where = {"institutionId": gid("Institution", first), "barcode": barcode}
        returned = await hub.data(RETURN, {"input": where}, token=librarian)
        assert returned["returnItem"]["userErrors"] == []
        await assert_summary_is_a_recount(session, year)
        pupil = (
            await session.scalars(
                select(Enrollment.person_id).where(
                    Enrollment.institution_id == first, Enrollment.class_group == "5Б"
                )
            )
        ).first()
        assert pupil is not None
        lent = await hub.data(
            CHECK_OUT, {"input": {**where, "personId": gid("Person", pupil)}}, token=librarian
        )
        assert lent["checkOutItem"]["userErrors"] == []
        await assert_summary_is_a_recount(session, year)

        # when a pupil leaves, another joins grade 5, and a copy is lost
        await session.execute(
            update(Enrollment)
            .where(Enrollment.person_id == pupil)
            .values(exit_date=clock.today(), exit_reason="transferred")
        )
        newcomer = await make_person(session)
        school = await session.get(Institution, chuy)
        assert school is not None
        await make_enrollment(session, person=newcomer, institution=school, grade_level=5)
        await session.execute(
            update(LibraryItem)
            .where(LibraryItem.institution_id == second)
            .where(LibraryItem.id == select(func.min(LibraryItem.id)).scalar_subquery())
            .values(status="lost")
        )
        await session.commit()
        await assert_summary_is_a_recount(session, year)

        # when a school teaches in Russian first, and the Russian textbook's approval is
        # withdrawn
        await session.execute(
            update(Institution).where(Institution.id == second).values(languages=["ru", "ky"])
        )
        await session.commit()
        await assert_summary_is_a_recount(session, year)
        await session.execute(delete(TextbookApproval).where(TextbookApproval.record_id == math_ru))
        await session.commit()
        await assert_summary_is_a_recount(session, year)
        after = await textbook_provision(
            session, ProvisionFilter(school_year=year), level=ProvisionLevel.COUNTRY
        )
        # then only the first school's 4 pupils still need a (Kyrgyz) book
        assert after[0].needed == 4
