"""What a family writes on an application: free text, cleaned and capped, and a benefit
claimed with the document that proves it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import BenefitCategory, BenefitStatus
from resolvers.errors import DomainError, ErrorCode
from resolvers.intake.seasons import benefit_category

PHONE_MAX = 30
PROOF_MAX = 300
REASON_MAX = 200  # the status history's reason


def clean_text(value: str | None, limit: int, field: str) -> str | None:
    """``value`` with its white space folded; ``None`` when blank; at most ``limit``
    characters (INVALID_INPUT on ``field`` otherwise)."""
    if value is None or not value.strip():
        return None
    value = " ".join(value.split())
    if len(value) > limit:
        raise DomainError(ErrorCode.INVALID_INPUT, f"At most {limit} characters", field=field)
    return value


@dataclass(frozen=True)
class BenefitClaim:
    """A benefit category of the season claimed on an application, and its proof."""

    category: BenefitCategory | None
    proof: str | None

    def columns(self) -> dict[str, Any]:
        """The application's benefit columns: claimed (to be verified) or none."""
        claimed = self.category is not None
        return {
            "benefit_category_id": self.category.id if self.category else None,
            "benefit_status": BenefitStatus.CLAIMED if claimed else BenefitStatus.NONE,
            "benefit_proof": self.proof if claimed else None,
        }


async def claim_benefit(
    session: AsyncSession, season_id: int, code: str | None, proof: str | None
) -> BenefitClaim:
    """The benefit an application claims: a category of the season (by code) named with the
    document proving it (domain.md K2, F1)."""
    category = await benefit_category(session, season_id, code, field="benefitCategory")
    return benefit_claimed(category, proof)


def benefit_claimed(category: BenefitCategory | None, proof: str | None) -> BenefitClaim:
    """The claim of ``category`` (already looked up) with its proof document."""
    document = clean_text(proof, PROOF_MAX, "benefitProof")
    if category is not None and document is None:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "Describe the document proving the benefit",
            field="benefitProof",
        )
    return BenefitClaim(category, document)
