"""Foreign applicants' documents (domain.md U6; issue 14.9): the ministry's recognition step."""

from __future__ import annotations

from typing import Any, TypeAlias

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from models import RecognitionRoute as RecognitionRouteEnum
from models import RecognitionStatus as RecognitionStatusEnum
from resolvers import admission as admission_service
from resolvers.context import Context
from resolvers.mutations import MutationResult
from schema.common import UserError, user_errors
from schema.fields import Payload, mutation
from schema.node import pk_of

strawberry.enum(
    RecognitionRouteEnum,
    name="DocumentRecognitionRoute",
    description="How a foreign education document counts for admission (U6).",
)
DocumentRecognitionRoute: TypeAlias = RecognitionRouteEnum
strawberry.enum(
    RecognitionStatusEnum,
    name="DocumentRecognitionStatus",
    description="Recognised or refused.",
)
DocumentRecognitionStatus: TypeAlias = RecognitionStatusEnum


@strawberry.input(description="The ministry's decision on a foreign education document.")
class DecideDocumentRecognitionInput:
    season_id: strawberry.ID = strawberry.field(description="The admission season.")
    person_id: strawberry.ID = strawberry.field(description="The applicant.")
    country: str = strawberry.field(description="The country that issued the document.")
    document_number: str = strawberry.field(description="The school certificate's number.")
    route: DocumentRecognitionRoute = strawberry.field(
        description="EQUIVALENCE (sits the national test), TEST_EXEMPTION (no state-language "
        "test), or SUBSTITUTE_TEST (its results stand as the certificate)."
    )
    recognised: bool = strawberry.field(description="True to recognise, false to refuse.")
    reference: str = strawberry.field(
        description="The equivalence certificate's or the refusal's reference."
    )


@strawberry.type(description="Result of a decision on a foreign education document.")
class DocumentRecognitionPayload(Payload):
    route: DocumentRecognitionRoute | None = strawberry.field(description="The route decided.")
    status: DocumentRecognitionStatus | None = strawberry.field(description="The decision.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")

    @classmethod
    def from_result(cls, result: MutationResult[Any]) -> DocumentRecognitionPayload:
        row = result.value
        return cls(
            route=row.route if row else None,
            status=row.status if row else None,
            user_errors=user_errors(result.problems),
        )


@strawberry.type
class Mutation:
    @mutation(
        "admission.decide_document_recognition",
        DocumentRecognitionPayload,
        description="Recognise or refuse a foreign applicant's education document (ministry; "
        "U6): a refusal makes them ineligible, a test exemption waives the state-language test.",
    )
    async def decide_document_recognition(
        session: AsyncSession, ctx: Context, input: DecideDocumentRecognitionInput
    ) -> Any:
        return await admission_service.decide_document_recognition(
            session,
            ctx.principal,
            season_id=pk_of(input.season_id, "AdmissionSeason", field="seasonId"),
            person_id=pk_of(input.person_id, "Person", field="personId"),
            country=input.country,
            document_number=input.document_number,
            route=input.route,
            recognised=input.recognised,
            reference=input.reference,
        )
