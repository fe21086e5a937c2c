"""Bearer tokens the hub refuses, and requests it answers with a coded error, never a 500."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from jwt.algorithms import HMACAlgorithm

from resolvers.access import ALGORITHM, KeyRing, principal_from_token
from resolvers.access.tokens import CHECKED_KEYS_KEPT
from resolvers.errors import ErrorCode, RequestError
from resolvers.settings import Settings
from tests.conftest import Hub
from tests.factories import gid
from tests.people.helpers import error_codes

VIEWER = "{ viewer { subject role } }"
PERSONS = "{ persons(first: 5) { totalCount } }"


def claims(hub: Hub, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": hub.settings.jwt_issuer,
        "aud": hub.settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "sub": "tester",
        "role": "ministry",
        "scope": [],
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def signed(hub: Hub, payload: dict[str, Any], *, key: str | None = None, kid: str = "") -> str:
    ring = hub.keyring
    return jwt.encode(
        payload,
        key if key is not None else ring.keys[ring.active],
        algorithm=ALGORITHM,
        headers={"kid": kid or ring.active},
    )


def bad_tokens(hub: Hub) -> dict[str, str]:
    now = int(time.time())
    return {
        "expired": signed(hub, claims(hub, iat=now - 7200, nbf=now - 7200, exp=now - 3600)),
        "not-yet-valid": signed(hub, claims(hub, nbf=now + 3600)),
        "forged": signed(hub, claims(hub), key="another-secret-of-sufficient-length-0123456789"),
        "unknown-kid": signed(hub, claims(hub), kid="k-unknown"),
        "wrong-audience": signed(hub, claims(hub, aud="someone-else")),
        "wrong-issuer": signed(hub, claims(hub, iss="evil-hub")),
        "alg-none": jwt.encode(claims(hub), "", algorithm="none", headers={"kid": "x"}),
        "alg-hs512": jwt.encode(
            claims(hub),
            hub.keyring.keys[hub.keyring.active],
            algorithm="HS512",
            headers={"kid": hub.keyring.active},
        ),
        "unknown-role": signed(hub, claims(hub, role="superuser")),
        "anonymous-role": signed(hub, claims(hub, role="anonymous")),
        "scoped-role-without-scope": signed(hub, claims(hub, role="region_officer")),
        "school-admin-with-region-scope": signed(
            hub, claims(hub, role="school_admin", scope=["region:8"])
        ),
        "unknown-scope": signed(hub, claims(hub, role="region_officer", scope=["planet:3"])),
        "scope-not-a-list": signed(hub, claims(hub, role="region_officer", scope="region:8")),
        "guardian-without-person": signed(hub, claims(hub, role="guardian")),
        "missing-exp": signed(hub, claims(hub, exp=None)),
        # issue 22.10: times that are not numbers, lifetimes over the configured maximum
        "string-exp": signed(hub, claims(hub, exp=str(now + 600))),
        "string-iat": signed(hub, claims(hub, iat=str(now))),
        "century-long": signed(hub, claims(hub, exp=now + 100 * 365 * 86400)),
        "issued-long-ago-for-long": signed(
            hub, claims(hub, iat=now - 3 * 86400, nbf=now - 3 * 86400, exp=now + 600)
        ),
        "missing-role": signed(hub, claims(hub, role=None)),
        "garbage": "not.a.token",
        # the header read apart to pick the key: malformed before PyJWT sees the token
        "no-dots": "bm90YXRva2Vu",
        "header-not-json": "bm90IGpzb24.e30.c2ln",
        "header-not-an-object": "WyJhbGciLCJIUzI1NiJd.e30.c2ln",
        "header-not-utf8": "_-8.e30.c2ln",
    }


BAD_TOKEN_NAMES = [
    "expired",
    "not-yet-valid",
    "forged",
    "unknown-kid",
    "wrong-audience",
    "wrong-issuer",
    "alg-none",
    "alg-hs512",
    "unknown-role",
    "anonymous-role",
    "scoped-role-without-scope",
    "school-admin-with-region-scope",
    "unknown-scope",
    "scope-not-a-list",
    "guardian-without-person",
    "missing-exp",
    "string-exp",
    "string-iat",
    "century-long",
    "issued-long-ago-for-long",
    "missing-role",
    "garbage",
    "no-dots",
    "header-not-json",
    "header-not-an-object",
    "header-not-utf8",
]


class TestBearerTokens:
    async def test_valid_token_names_the_caller(self, hub: Hub) -> None:
        # given
        token = signed(hub, claims(hub, role="region_officer", scope=["region:8"]))

        # when
        data = await hub.data(VIEWER, token=token)

        # then
        assert data["viewer"] == {"subject": "tester", "role": "REGION_OFFICER"}

    async def test_every_bad_token_is_unauthenticated(self, hub: Hub) -> None:
        # given
        tokens = bad_tokens(hub)
        assert sorted(tokens) == sorted(BAD_TOKEN_NAMES)

        # when: even a public query is refused, so a client notices its bad token
        answers = {}
        for name, token in tokens.items():
            response = await hub.post(VIEWER, token=token)
            body = response.json()
            answers[name] = (response.status_code, body["data"], error_codes(body))

        # then
        refused = (401, None, ["UNAUTHENTICATED"])
        assert {name: answer for name, answer in answers.items() if answer != refused} == {}

    async def test_other_authorization_scheme_is_unauthenticated(self, hub: Hub) -> None:
        # when
        response = await hub.post(VIEWER, headers={"Authorization": "Basic dXNlcjpwYXNz"})

        # then
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    async def test_no_token_is_an_anonymous_caller(self, hub: Hub) -> None:
        # when
        data = await hub.data(VIEWER)

        # then
        assert data["viewer"]["role"] == "ANONYMOUS"


class TestSigningKeysCheckedOnce:
    """PyJWT checks an HMAC secret's shape (no PEM, DER or JWK key) on every verification; the
    hub checks each signing key once and keeps it (issue 21: a caller's first request)."""

    @pytest.mark.parametrize("seen_before", [0, CHECKED_KEYS_KEPT + 1])
    def test_a_key_is_checked_once_for_many_tokens(
        self, settings: Settings, monkeypatch: pytest.MonkeyPatch, seen_before: int
    ) -> None:
        # given a process that has verified tokens of other keys (more than it keeps, too)
        for n in range(seen_before):
            other = KeyRing({"k": f"another-signing-key-{n}-0123456789-abcdefghijklmnopq"}, "k")
            principal_from_token(
                jwt.encode(
                    {**_claims_of(settings), "sub": "person:9", "pid": 9, "role": "guardian"},
                    other.keys["k"],
                    algorithm=ALGORITHM,
                    headers={"kid": "k"},
                ),
                other,
                settings,
            )
        # and a key ring whose key PyJWT's check has not seen yet, and three callers' tokens
        ring = KeyRing({"k-once": "a-signing-key-of-the-test-0123456789-abcdefghijklmn"}, "k-once")
        checks: list[bytes] = []
        check = HMACAlgorithm.prepare_key

        def counted(self: HMACAlgorithm, key: str | bytes) -> bytes:
            checks.append(key if isinstance(key, bytes) else key.encode())
            return check(self, key)

        tokens = [
            jwt.encode(
                {**_claims_of(settings), "sub": f"person:{n}", "pid": n, "role": "guardian"},
                ring.keys["k-once"],
                algorithm=ALGORITHM,
                headers={"kid": "k-once"},
            )
            for n in (1, 2, 3)
        ]
        monkeypatch.setattr(HMACAlgorithm, "prepare_key", counted)
        # when each is verified
        subjects = [principal_from_token(t, ring, settings).subject for t in tokens]
        # then each names its caller, and the key was checked once
        assert subjects == ["person:1", "person:2", "person:3"]
        assert checks == [ring.keys["k-once"].encode()]

    def test_a_key_that_fails_the_check_is_refused_every_time(self, settings: Settings) -> None:
        # given a ring whose key is a public key's PEM text (an HS256 secret must not be one)
        pem = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"
        ring = KeyRing({"k-pem": pem}, "k-pem")
        header = jwt.utils.base64url_encode(b'{"alg":"HS256","kid":"k-pem","typ":"JWT"}')
        body = jwt.utils.base64url_encode(json.dumps(_claims_of(settings)).encode())
        signing_input = header + b"." + body
        signature = jwt.utils.base64url_encode(
            HMACAlgorithm(HMACAlgorithm.SHA256).sign(signing_input, pem.encode())
        )
        token = (signing_input + b"." + signature).decode()
        # when its token is verified twice, then it is refused both times
        for _ in range(2):
            with pytest.raises(RequestError) as refused:
                principal_from_token(token, ring, settings)
            assert refused.value.code == ErrorCode.UNAUTHENTICATED


def _claims_of(settings: Settings) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "sub": "tester",
        "role": "ministry",
        "scope": [],
    }


class TestMalformedRequests:
    async def test_malformed_json_body_is_a_json_400(self, hub: Hub) -> None:
        # when
        response = await hub.client.post(
            "/graphql",
            content=b'{"query": "{ viewer { role } ',
            headers={"content-type": "application/json"},
        )

        # then
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"

    async def test_json_that_is_not_an_object_is_a_json_400(self, hub: Hub) -> None:
        # when
        response = await hub.client.post(
            "/graphql", content=b"[1, 2", headers={"content-type": "application/json"}
        )

        # then
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"

    async def test_body_without_a_query_is_refused_without_a_500(self, hub: Hub) -> None:
        # when
        response = await hub.client.post("/graphql", json={"variables": {}})

        # then
        assert 400 <= response.status_code < 500
        assert response.json()["errors"][0]["extensions"]["code"]

    async def test_graphql_syntax_error_carries_a_code(self, hub: Hub) -> None:
        # when
        response = await hub.post("{ viewer { role }")

        # then
        assert response.status_code < 500
        body = response.json()
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

    async def test_unknown_field_carries_a_code(self, hub: Hub) -> None:
        # when
        body = await hub.gql("{ viewer { password } }")

        # then
        assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]

    async def test_unknown_global_ids_are_invalid(self, hub: Hub) -> None:
        # given
        global_ids = ["garbage", "", "!!!", gid("Nonsense", 1), gid("Person", 0)]

        # when
        answers = {
            global_id: error_codes(
                await hub.gql("query($id: ID!) { node(id: $id) { id } }", {"id": global_id})
            )
            for global_id in global_ids
        }

        # then
        assert answers == {global_id: ["INVALID_ID"] for global_id in global_ids}

    async def test_person_list_without_token_is_unauthenticated_not_401(self, hub: Hub) -> None:
        # when
        response = await hub.post(PERSONS)

        # then
        assert response.status_code == 200
        assert error_codes(response.json()) == ["UNAUTHENTICATED"]
