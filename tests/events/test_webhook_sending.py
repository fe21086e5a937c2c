"""How a webhook delivery leaves the hub (issue 18): over the process's one keep-alive HTTP
client, signed as Standard Webhooks says when it leaves, redirects not followed, a timeout
bounding each attempt, the receiver's Retry-After kept, at most so many at once per endpoint,
and the request-forgery check again at sending time."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import pytest
from standardwebhooks import Webhook

from resolvers.events.sending import HttpClient
from resolvers.events.webhooks import WebhookSender, new_secret
from tests.events.conftest import free_port
from tests.events.receivers import serving

Answer = Callable[[int], Awaitable[tuple[int, dict[str, str], bytes]]]


@dataclass
class Endpoint:
    """A partner's receiver: records each request, answers what ``answer`` says, and counts
    the requests it holds at once."""

    url: str
    answer: Answer
    got: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    in_flight: int = 0
    most_at_once: int = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.got.append((scope["path"], headers, body))
        self.in_flight += 1
        self.most_at_once = max(self.most_at_once, self.in_flight)
        try:
            status, extra, content = await self.answer(len(self.got))
        finally:
            self.in_flight -= 1
        raw = [(k.encode(), v.encode()) for k, v in extra.items()]
        raw.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": content})


async def answer_204(n: int) -> tuple[int, dict[str, str], bytes]:
    return 204, {}, b""


@contextlib.asynccontextmanager
async def endpoint(answer: Answer = answer_204) -> AsyncIterator[Endpoint]:
    port = free_port()
    found = Endpoint(f"http://127.0.0.1:{port}/hook", answer)
    async with serving(found, port):
        yield found


@contextlib.asynccontextmanager
async def sender(
    *, wait: float = 5.0, per_endpoint: int = 16, allow_private: bool = True
) -> AsyncIterator[WebhookSender]:
    client = HttpClient(timeout=wait, connections=64)
    # Posting needs no database: the claims and records around it are tested with the hub.
    found = WebhookSender(
        cast(Any, None),
        client,
        concurrency=64,
        per_endpoint=per_endpoint,
        allow_private=allow_private,
    )
    try:
        yield found
    finally:
        await client.aclose()


def delivery(url: str, secret: str, n: int = 1) -> Any:
    body = json.dumps({"type": "institutions.institution_updated", "data": {"n": n}})
    return SimpleNamespace(
        id=n, endpoint_id=1, event_id=1000 + n, url=url, secret=secret, body=body
    )


class TestPosting:
    async def test_a_delivery_arrives_signed_and_the_connection_is_kept(self) -> None:
        # given an endpoint and its secret
        secret = new_secret()
        async with endpoint() as hook, sender() as webhooks:
            # when two deliveries are posted one after the other
            first = await webhooks._post(delivery(hook.url, secret, 1))
            second = await webhooks._post(delivery(hook.url, secret, 2))
        # then both were taken, and each verifies with the secret
        assert (first.ok, first.status_code, second.ok) == (True, 204, True)
        for _, headers, body in hook.got:
            Webhook(secret).verify(body, headers)
        assert [h["webhook-id"] for _, h, _ in hook.got] == ["msg_1001", "msg_1002"]

    async def test_a_redirect_is_not_followed(self) -> None:
        # a receiver must not be able to send the hub elsewhere (request forgery)
        async def redirect(n: int) -> tuple[int, dict[str, str], bytes]:
            return 307, {"location": "/elsewhere"}, b""

        async with endpoint(redirect) as hook, sender() as webhooks:
            attempt = await webhooks._post(delivery(hook.url, new_secret()))
        assert [path for path, _, _ in hook.got] == ["/hook"]
        assert (attempt.ok, attempt.status_code, attempt.error) == (False, 307, "HTTP 307")

    async def test_a_receiver_too_slow_to_answer_fails_the_attempt_by_the_timeout(self) -> None:
        async def never(n: int) -> tuple[int, dict[str, str], bytes]:
            await asyncio.sleep(30)
            return 204, {}, b""

        async with endpoint(never) as hook, sender(wait=0.3) as webhooks:
            attempt = await asyncio.wait_for(webhooks._post(delivery(hook.url, new_secret())), 5)
        assert (attempt.ok, attempt.status_code) == (False, None)
        assert "Timeout" in (attempt.error or "")

    async def test_an_unreachable_receiver_fails_the_attempt_naming_the_kind_only(self) -> None:
        url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
        async with sender() as webhooks:
            attempt = await webhooks._post(delivery(url, new_secret()))
        assert (attempt.ok, attempt.status_code) == (False, None)
        assert attempt.error
        assert "127.0.0.1" not in attempt.error

    async def test_retry_after_is_kept_and_410_gives_up(self) -> None:
        async def busy_then_gone(n: int) -> tuple[int, dict[str, str], bytes]:
            return (503, {"retry-after": "120"}, b"busy") if n == 1 else (410, {}, b"")

        async with endpoint(busy_then_gone) as hook, sender() as webhooks:
            busy = await webhooks._post(delivery(hook.url, new_secret(), 1))
            gone = await webhooks._post(delivery(hook.url, new_secret(), 2))
        assert (busy.ok, busy.status_code, busy.retry_after, busy.give_up) == (
            False,
            503,
            120.0,
            False,
        )
        assert (gone.status_code, gone.give_up) == (410, True)

    async def test_a_long_answer_is_not_kept_and_the_next_delivery_still_goes(self) -> None:
        async def long_then_short(n: int) -> tuple[int, dict[str, str], bytes]:
            return (200, {}, b"x" * 1_000_000) if n == 1 else (204, {}, b"")

        async with endpoint(long_then_short) as hook, sender() as webhooks:
            first = await webhooks._post(delivery(hook.url, new_secret(), 1))
            second = await webhooks._post(delivery(hook.url, new_secret(), 2))
        assert (first.ok, second.ok) == (True, True)

    async def test_at_most_the_endpoints_limit_is_sent_at_once(self) -> None:
        # given a slow receiver and a limit of 4 at once per endpoint
        async def slow(n: int) -> tuple[int, dict[str, str], bytes]:
            await asyncio.sleep(0.05)
            return 204, {}, b""

        secret = new_secret()
        async with endpoint(slow) as hook, sender(per_endpoint=4) as webhooks:
            # when 24 deliveries are posted together
            attempts = await asyncio.gather(
                *(webhooks._post(delivery(hook.url, secret, n)) for n in range(1, 25))
            )
        # then all arrive, never more than 4 at a time
        assert all(a.ok for a in attempts)
        assert len(hook.got) == 24
        assert hook.most_at_once <= 4

    @pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
    async def test_an_internal_address_is_refused_at_sending_time(self, host: str) -> None:
        # a name may resolve into the hub's own network after it was registered
        async with sender(allow_private=False) as webhooks:
            attempt = await webhooks._post(delivery(f"https://{host}/hook", new_secret()))
        assert not attempt.ok
        assert attempt.error == "The URL leads to an internal address"
