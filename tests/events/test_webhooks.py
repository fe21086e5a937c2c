"""Partners' webhooks (issue 18): endpoints registered for event types within the key's
subgraph, validated against request forgery; deliveries signed as Standard Webhooks says,
retried, disabled on 410 Gone, replayed by id; payloads carrying no field the key may not
read."""

from __future__ import annotations

import json
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from standardwebhooks import Webhook

from models import (
    DeliveryStatus,
    EndpointStatus,
    Notice,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
)
from resolvers.access import KeyGrant, Principal, Role
from resolvers.access.keys import load_pepper
from resolvers.settings import Settings
from schema import schema
from schema.events.exposure import shown_fields
from tests.events.conftest import LiveHub, eventually, serve
from tests.events.receivers import Receiver, receiver
from tests.factories import make_api_key, make_kindergarten_application, make_kindergarten_places
from tests.institutions.test_institution_registry import CREATE_INSTITUTION, school_input
from tests.preschool.helpers import add_child, arrange_queue, born_for_group

CREATE = """
mutation Create($input: CreateWebhookSubscriptionInput!) {
  createWebhookSubscription(input: $input) {
    webhookSubscription { id url eventTypes status }
    secret
    userErrors { field code message }
  }
}
"""
ENABLE = """
mutation Enable($input: SetWebhookSubscriptionEnabledInput!) {
  setWebhookSubscriptionEnabled(input: $input) { webhookSubscription { status } userErrors { code } }
}
"""
REPLAY = """
mutation Replay($input: ReplayWebhookDeliveryInput!) {
  replayWebhookDelivery(input: $input) { webhookDelivery { status attempts } userErrors { code } }
}
"""
SUBSCRIPTIONS = """
query { webhookSubscriptions(first: 10) { nodes { id status disabledReason
  deliveries(first: 10) { nodes { id eventType status attempts lastStatusCode attemptLog { ok statusCode } } } } } }
"""
OFFER = """
mutation Offer($input: OfferPlacesInput!) {
  offerPlaces(input: $input) { offers { id } userErrors { code message } }
}
"""
SCHOOL_FIELDS = ["Institution.id", "Institution.name", "Institution.kind"]


async def partner(session: AsyncSession, settings: Settings, fields: list[str]) -> str:
    _, key = await make_api_key(session, pepper=load_pepper(settings), allowed_fields=fields)
    await session.commit()
    return key


async def subscribe(hub: LiveHub, key: str, url: str, types: list[str]) -> dict[str, Any]:
    body = await hub.gql(
        CREATE, {"input": {"url": url, "eventTypes": types}}, headers={"X-Api-Key": key}
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["createWebhookSubscription"]
    return payload


async def new_school(hub: LiveHub) -> None:
    """The ministry registers a school: ``institutions.institution_created``."""
    body = await hub.data(
        CREATE_INSTITUTION,
        {"input": school_input(legalId=None)},
        token=hub.token(Role.MINISTRY),
    )
    assert body["createInstitution"]["userErrors"] == []


async def arrived(found: Receiver, n: int = 1) -> bool:
    return len(found.got) >= n


class TestDelivery:
    async def test_a_partner_gets_a_signed_delivery_with_only_the_fields_it_may_read(
        self, live_hub: LiveHub, session: AsyncSession
    ) -> None:
        # given a partner whose key reads schools' names and kinds, listening to institutions.*
        key = await partner(session, live_hub.settings, SCHOOL_FIELDS)
        async with receiver() as hook:
            created = await subscribe(live_hub, key, hook.url, ["institutions.*"])
            assert created["userErrors"] == []
            secret = created["secret"]
            assert secret.startswith("whsec_")
            # when a place is offered
            await new_school(live_hub)
            await eventually(lambda: arrived(hook))
        # then the delivery verifies with the secret (Standard Webhooks) and is thin
        got = hook.got[0]
        payload = Webhook(secret).verify(got.body, got.headers)
        assert got.headers["webhook-id"].startswith("msg_")
        assert payload["type"] == "institutions.institution_created"
        data = payload["data"]
        assert data["type"] == "Institution"
        assert data["change"] == "created"
        assert data["fields"] == {"kind": "school"}

    async def test_an_event_field_outside_the_keys_subgraph_is_left_out(
        self, live_hub: LiveHub, session: AsyncSession
    ) -> None:
        key = await partner(session, live_hub.settings, ["Institution.id", "Institution.name"])
        async with receiver() as hook:
            await subscribe(live_hub, key, hook.url, ["institutions.institution_created"])
            await new_school(live_hub)
            await eventually(lambda: arrived(hook))
        assert json.loads(hook.got[0].body)["data"]["fields"] == {}

    async def test_objects_the_key_may_not_read_are_not_delivered(
        self, live_hub: LiveHub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a key that names kindergarten offers, which partners may not read (row rules)
        key = await partner(session, live_hub.settings, ["KindergartenOffer.*"])
        queue = await arrange_queue(session, kindergartens=1)
        child = await add_child(session, queue, born=born_for_group(queue.season, 3))
        await make_kindergarten_application(
            session,
            child=child,
            guardian=queue.mother,
            kindergartens=[queue.kindergartens[0]],
            season=queue.season,
        )
        await make_kindergarten_places(
            session, kindergarten=queue.kindergartens[0], season=queue.season
        )
        await session.commit()
        async with receiver() as hook:
            await subscribe(live_hub, key, hook.url, ["preschool.*"])
            token = live_hub.token(
                Role.SCHOOL_ADMIN, scopes=[f"institution:{queue.kindergartens[0].id}"]
            )
            await live_hub.data(OFFER, {"input": {"kindergartenId": queue.kg()}}, token=token)
            await new_school(live_hub)  # a later event, to know the offer's was handled
            await eventually(lambda: _consumed(engine))
        assert hook.got == []

    async def test_a_failed_delivery_is_retried_and_its_attempts_shown(
        self, live_hub: LiveHub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        key = await partner(session, live_hub.settings, SCHOOL_FIELDS)
        async with receiver() as hook:
            hook.answers = [500]
            await subscribe(live_hub, key, hook.url, ["institutions.institution_created"])
            await new_school(live_hub)
            # when the first attempt fails, and the retry comes due
            await eventually(lambda: arrived(hook))
            await eventually(lambda: _attempts(engine, 1))
            async with engine.begin() as conn:
                await conn.execute(update(WebhookDelivery).values(next_attempt_at=text("now()")))
            await eventually(lambda: arrived(hook, 2))
            await eventually(lambda: _status(engine, "delivered"))
        # then both attempts are on the delivery, the webhook-id the same
        assert hook.got[0].headers["webhook-id"] == hook.got[1].headers["webhook-id"]
        body = await live_hub.data(SUBSCRIPTIONS, headers={"X-Api-Key": key})
        (delivery,) = body["webhookSubscriptions"]["nodes"][0]["deliveries"]["nodes"]
        assert delivery["status"] == "DELIVERED"
        assert [a["statusCode"] for a in delivery["attemptLog"]] == [500, 200]

    async def test_gone_disables_the_endpoint_and_a_replay_sends_again(
        self, live_hub: LiveHub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        key = await partner(session, live_hub.settings, SCHOOL_FIELDS)
        async with receiver() as hook:
            hook.answers = [410]
            created = await subscribe(live_hub, key, hook.url, ["institutions.*"])
            await new_school(live_hub)
            # when the receiver answers 410 Gone
            await eventually(lambda: _endpoint_status(engine, EndpointStatus.DISABLED))
            body = await live_hub.data(SUBSCRIPTIONS, headers={"X-Api-Key": key})
            endpoint = body["webhookSubscriptions"]["nodes"][0]
            assert endpoint["status"] == "DISABLED"
            assert endpoint["disabledReason"] == "the receiver answered 410 Gone"
            delivery = endpoint["deliveries"]["nodes"][0]
            # then an event says so, and after enabling it a replay delivers
            async with engine.connect() as conn:
                topics = list(await conn.scalars(select(OutboxEvent.topic)))
            assert "events.webhook_endpoint_disabled" in topics
            sub_id = created["webhookSubscription"]["id"]
            await live_hub.data(
                ENABLE, {"input": {"id": sub_id, "enabled": True}}, headers={"X-Api-Key": key}
            )
            replay = await live_hub.data(
                REPLAY, {"input": {"deliveryId": delivery["id"]}}, headers={"X-Api-Key": key}
            )
            assert replay["replayWebhookDelivery"]["webhookDelivery"]["status"] == "PENDING"
            await eventually(lambda: arrived(hook, 2))
            await eventually(lambda: _status(engine, "delivered"))

    async def test_the_partner_is_told_by_mail_when_its_endpoint_is_disabled(
        self, live_hub: LiveHub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given an endpoint registered with a contact e-mail (an address may name a person:
        # personal data, set only by a key granted it)
        _, key = await make_api_key(
            session,
            pepper=load_pepper(live_hub.settings),
            allowed_fields=SCHOOL_FIELDS,
            personal_data=True,
        )
        await session.commit()
        async with receiver() as hook:
            hook.answers = [410]
            body = await live_hub.gql(
                CREATE,
                {
                    "input": {
                        "url": hook.url,
                        "eventTypes": ["institutions.*"],
                        "contactEmail": "ops@partner.example",
                    }
                },
                headers={"X-Api-Key": key},
            )
            assert body["data"]["createWebhookSubscription"]["userErrors"] == [], body
            # when the receiver answers 410 Gone and the endpoint is disabled
            await new_school(live_hub)
            await eventually(lambda: _endpoint_status(engine, EndpointStatus.DISABLED))
        # then a message to the contact is written and sent (the mail folder by default)
        mail = live_hub.settings.data_dir / "mail"

        async def sent() -> list[Path]:
            return sorted(mail.glob("*.eml")) if mail.exists() else []

        (message,) = await eventually(sent)
        mail_message = message_from_bytes(message.read_bytes(), policy=policy.default)
        assert mail_message["To"] == "ops@partner.example"
        assert mail_message["Subject"] == "Bilim Hub: вебхук отключён / webhook endpoint disabled"

        async def recorded() -> Any:
            async with engine.connect() as conn:
                row = (
                    await conn.execute(select(Notice.subject_type, Notice.status, Notice.person_id))
                ).one()
            return row if row.status == DeliveryStatus.DELIVERED else None

        notice = await eventually(recorded)
        assert notice.subject_type == "WebhookSubscription"
        assert notice.person_id is None

    async def test_a_key_without_personal_data_may_not_set_a_contact_email(
        self, live_hub: LiveHub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a partner's key not granted personal data (an e-mail address may name a
        # person: the field classifier counts it as personal, docs/security.md)
        key = await partner(session, live_hub.settings, SCHOOL_FIELDS)
        # when it registers an endpoint with a contact e-mail
        body = await live_hub.gql(
            CREATE,
            {
                "input": {
                    "url": "http://127.0.0.1:9/hook",
                    "eventTypes": ["institutions.*"],
                    "contactEmail": "ops@partner.example",
                }
            },
            headers={"X-Api-Key": key},
        )
        # then it is refused as personal data not granted, and nothing is registered
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
        assert codes == ["PERSONAL_DATA_NOT_GRANTED"], body
        async with engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0

    async def test_a_contact_that_is_not_an_email_address_is_refused(
        self, live_hub: LiveHub, session: AsyncSession
    ) -> None:
        _, key = await make_api_key(
            session,
            pepper=load_pepper(live_hub.settings),
            allowed_fields=SCHOOL_FIELDS,
            personal_data=True,
        )
        await session.commit()
        body = await live_hub.gql(
            CREATE,
            {
                "input": {
                    "url": "http://127.0.0.1:9/hook",
                    "eventTypes": ["institutions.*"],
                    "contactEmail": "not an address",
                }
            },
            headers={"X-Api-Key": key},
        )
        assert body.get("data"), body
        errors = body["data"]["createWebhookSubscription"]["userErrors"]
        assert [(e["field"], e["code"]) for e in errors] == [("contactEmail", "INVALID_INPUT")]


class TestRegistration:
    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:9/hook",
            "https://127.0.0.1/hook",
            "https://localhost/hook",
            "https://10.1.2.3/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hook",
            "https://user:pass@example.org/hook",
            "ftp://example.org/hook",
        ],
    )
    async def test_urls_into_the_hubs_own_network_are_refused(
        self, settings: Settings, session: AsyncSession, url: str
    ) -> None:
        # given the production default: no private addresses
        key = await partner(session, settings, SCHOOL_FIELDS)
        async with serve(settings.model_copy(update={"event_dispatcher": False})) as hub:
            body = await subscribe(hub, key, url, ["institutions.*"])
        assert [e["code"] for e in body["userErrors"]] == ["WEBHOOK_URL_REFUSED"]

    async def test_event_types_outside_the_keys_subgraph_are_refused(
        self, live_hub: LiveHub, session: AsyncSession
    ) -> None:
        key = await partner(session, live_hub.settings, SCHOOL_FIELDS)
        body = await subscribe(
            live_hub, key, "http://127.0.0.1:9/x", ["licensing.*", "institutions.*"]
        )
        assert [(e["code"], e["message"]) for e in body["userErrors"]] == [
            ("EVENT_TYPE_NOT_IN_SCOPE", "Outside this API key's subgraph: licensing.*")
        ]

    async def test_only_a_partners_key_registers_an_endpoint(self, live_hub: LiveHub) -> None:
        body = await live_hub.gql(
            CREATE,
            {"input": {"url": "http://127.0.0.1:9/x", "eventTypes": ["institutions.*"]}},
            token=live_hub.token(Role.MINISTRY),
        )
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    async def test_a_partner_sees_only_its_own_endpoints(
        self, live_hub: LiveHub, session: AsyncSession
    ) -> None:
        mine = await partner(session, live_hub.settings, SCHOOL_FIELDS)
        other = await partner(session, live_hub.settings, SCHOOL_FIELDS)
        await subscribe(live_hub, mine, "http://127.0.0.1:9/mine", ["institutions.*"])
        body = await live_hub.data(SUBSCRIPTIONS, headers={"X-Api-Key": other})
        assert body["webhookSubscriptions"]["nodes"] == []


class TestPayloadFields:
    def test_personal_fields_leave_only_with_a_key_granted_personal_data(self) -> None:
        payload = {"pin": "21501201912345", "birth_date": "2019-01-15", "sex": "male", "secret": 1}
        fields = frozenset({"Person.*"})

        def key(personal: bool) -> Principal:
            grant = KeyGrant(key_id=1, fields=fields, personal_data=personal, points_per_hour=1)
            return Principal(subject="key:x", role=Role.PARTNER, grant=grant)

        graph = schema._schema
        assert shown_fields(graph, key(False), "Person", payload) == {"sex": "male"}
        assert shown_fields(graph, key(True), "Person", payload) == {
            "pin": "21501201912345",
            "birthDate": "2019-01-15",
            "sex": "male",
        }


async def _consumed(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        last = await conn.scalar(select(OutboxEvent.id).order_by(OutboxEvent.id.desc()).limit(1))
        done = await conn.scalar(
            text("SELECT after_id FROM event_consumer WHERE name = 'webhooks'")
        )
    return bool(last and done and done >= last)


async def _attempts(engine: AsyncEngine, n: int) -> bool:
    async with engine.connect() as conn:
        return bool(
            await conn.scalar(select(WebhookDelivery.attempts).where(WebhookDelivery.attempts >= n))
        )


async def _status(engine: AsyncEngine, status: str) -> bool:
    async with engine.connect() as conn:
        return bool(
            await conn.scalar(select(WebhookDelivery.id).where(WebhookDelivery.status == status))
        )


async def _endpoint_status(engine: AsyncEngine, status: EndpointStatus) -> bool:
    async with engine.connect() as conn:
        return bool(
            await conn.scalar(select(WebhookEndpoint.id).where(WebhookEndpoint.status == status))
        )


__all__ = ["date", "json"]
