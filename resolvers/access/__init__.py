"""Who is calling: principals, roles and scopes (:mod:`~resolvers.access.principals`), bearer
tokens (:mod:`~resolvers.access.tokens`), data partners' API keys (:mod:`~resolvers.access.keys`)
and personal fields and partners' subgraphs (:mod:`~resolvers.access.fields`). Which rows a
principal may read is each domain's own rule (``resolvers/<domain>/rules.py``)."""

from resolvers.access.principals import (
    ANONYMOUS,
    EITHER_SCOPE_ROLES,
    KEY_ONLY_ROLES,
    PERSONAL_ROLES,
    ROLES_WITH_PERSON,
    SCOPED_ROLES,
    KeyGrant,
    Principal,
    Role,
    require,
)
from resolvers.access.scopes import among, no_rows, outside, scope_ids
from resolvers.access.tokens import (
    ALGORITHM,
    VERIFIED_TOKENS_KEPT,
    KeyRing,
    issue_token,
    principal_from_claims,
    principal_from_token,
)

__all__ = [
    "ALGORITHM",
    "ANONYMOUS",
    "EITHER_SCOPE_ROLES",
    "KEY_ONLY_ROLES",
    "PERSONAL_ROLES",
    "ROLES_WITH_PERSON",
    "SCOPED_ROLES",
    "VERIFIED_TOKENS_KEPT",
    "KeyGrant",
    "KeyRing",
    "Principal",
    "Role",
    "among",
    "issue_token",
    "no_rows",
    "outside",
    "principal_from_claims",
    "principal_from_token",
    "require",
    "scope_ids",
]
