"""The callback sender as an outbound client facing user-given URLs (issue 16): https only,
public addresses only (the shared outbound guard), no redirects, a timeout, a response cap,
and a signature the Standard Webhooks reference library accepts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
from standardwebhooks.webhooks import Webhook

from activities.callbacks import MAX_RESPONSE_BYTES, CallbackSender
from config.settings import Settings
from domain.callbacks import AttemptOutcome, CallbackRequest
from tests.support.callback_receiver import CALLBACK_SECRET

PUBLIC = "93.184.216.34"


def settings(**changes: object) -> Settings:
    return Settings(callback_signing_secret=CALLBACK_SECRET, **changes)


def resolver_to(*addresses: str):
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


def request(url: str = "https://hooks.example.com/jobs?token=t", **changes: object):
    payload = {"type": "job.completed", "timestamp": "2026-01-01T00:00:00.000Z", "data": {}}
    return CallbackRequest(url=url, webhook_id="msg_job_7", payload=payload).model_copy(
        update=changes
    )


class Recorder:
    def __init__(self, answer: httpx.Response | None = None, delay: float = 0.0) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = answer
        self.delay = delay

    async def __call__(self, req: httpx.Request) -> httpx.Response:
        self.requests.append(req)
        await req.aread()
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.answer or httpx.Response(200, stream=httpx.ByteStream(b"ok"))


def _empty() -> httpx.ByteStream:
    return httpx.ByteStream(b"")


def sender(recorder: Recorder, *addresses: str, **changes: object) -> CallbackSender:
    return CallbackSender(
        settings(**changes),
        transport=httpx.MockTransport(recorder),
        resolver=resolver_to(*(addresses or (PUBLIC,))),
    )


async def test_a_public_https_receiver_gets_a_signed_post_pinned_to_its_checked_address():
    recorder = Recorder()
    attempt = await sender(recorder).send(request())
    assert (attempt.outcome, attempt.status) == (AttemptOutcome.DELIVERED, 200)
    (sent,) = recorder.requests
    assert sent.url.host == PUBLIC, "connected to the address the guard checked"
    assert sent.headers["host"] == "hooks.example.com"
    assert sent.extensions["sni_hostname"] == "hooks.example.com"
    headers = {k: v for k, v in sent.headers.items()}
    payload = Webhook(CALLBACK_SECRET).verify(sent.content, headers)
    assert payload["type"] == "job.completed"
    assert headers["webhook-id"] == "msg_job_7"


async def test_http_is_refused_unless_allowed():
    recorder = Recorder()
    attempt = await sender(recorder).send(request("http://hooks.example.com/jobs"))
    assert attempt.outcome is AttemptOutcome.REFUSED and "https" in (attempt.error or "")
    assert not recorder.requests
    allowed = await sender(recorder, callback_allow_http=True).send(
        request("http://hooks.example.com/jobs")
    )
    assert allowed.outcome is AttemptOutcome.DELIVERED


async def test_a_host_resolving_to_a_private_address_is_refused_without_a_request():
    recorder = Recorder()
    for address in ("10.0.0.7", "127.0.0.1", "169.254.169.254", "::ffff:192.168.1.1"):
        attempt = await sender(recorder, PUBLIC, address).send(request())
        assert attempt.outcome is AttemptOutcome.REFUSED, address
        assert "refused: hooks.example.com resolves to" in (attempt.error or "")
    literal = await sender(recorder).send(request("https://127.0.0.1:8443/hook"))
    assert literal.outcome is AttemptOutcome.REFUSED
    assert not recorder.requests


async def test_private_addresses_are_reached_only_with_callback_allow_private():
    recorder = Recorder()
    attempt = await sender(recorder, "10.0.0.7", callback_allow_private=True).send(
        request("https://127.0.0.1:8443/hook")
    )
    assert attempt.outcome is AttemptOutcome.DELIVERED
    assert len(recorder.requests) == 1


async def test_a_redirect_is_not_followed_and_counts_as_a_failed_attempt():
    recorder = Recorder(
        httpx.Response(302, headers={"location": "https://10.0.0.7/steal"}, stream=_empty())
    )
    attempt = await sender(recorder).send(request())
    assert (attempt.outcome, attempt.status) == (AttemptOutcome.RETRY, 302)
    assert len(recorder.requests) == 1


async def test_410_is_gone_and_other_errors_are_retried():
    for status, outcome in ((410, AttemptOutcome.GONE), (500, AttemptOutcome.RETRY)):
        answer = httpx.Response(status, stream=_empty())
        attempt = await sender(Recorder(answer)).send(request())
        assert (attempt.outcome, attempt.status) == (outcome, status)


async def test_a_slow_receiver_is_a_failed_attempt_after_the_timeout():
    recorder = Recorder(delay=5)
    attempt = await sender(recorder).send(request(timeout=timedelta(seconds=0.2)))
    assert attempt.outcome is AttemptOutcome.RETRY
    assert "no answer" in (attempt.error or "")


class _Endless(httpx.AsyncByteStream):
    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.chunks:
            yield chunk


async def test_at_most_the_response_cap_is_read():
    produced = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal produced
        while True:
            produced += 16 * 1024
            yield b"x" * 16 * 1024

    recorder = Recorder(httpx.Response(200, stream=_Endless(endless())))
    attempt = await sender(recorder).send(request())
    assert attempt.outcome is AttemptOutcome.DELIVERED
    assert produced <= MAX_RESPONSE_BYTES + 16 * 1024


async def test_without_a_secret_nothing_is_sent_and_the_attempt_is_retried():
    recorder = Recorder()
    bare = CallbackSender(
        Settings(), transport=httpx.MockTransport(recorder), resolver=resolver_to(PUBLIC)
    )
    attempt = await bare.send(request())
    assert attempt.outcome is AttemptOutcome.RETRY
    assert "CALLBACK_SIGNING_SECRET" in (attempt.error or "")
    assert not recorder.requests


async def test_the_secret_is_in_no_attempt_result():
    attempt = await sender(Recorder(httpx.Response(500, stream=_empty()))).send(request())
    secret = CALLBACK_SECRET.removeprefix("whsec_")
    assert secret not in json.dumps(attempt.model_dump(mode="json"))
