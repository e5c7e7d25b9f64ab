"""A local callback receiver: answers a script of statuses, records and verifies every POST.

Verification is the Standard Webhooks reference library's (``standardwebhooks``), not our own
signature code: what a shop's receiver would run.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.support.webhook_receiver import serving_posts

CALLBACK_SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
"""The secret tests sign callbacks with (CALLBACK_SIGNING_SECRET of their worker)."""


@dataclass
class Delivery:
    """One POST as received, and what the reference verifier made of it."""

    status: int
    headers: dict[str, str]
    body: bytes
    verified: Any = None
    """The parsed body when the signature verified, else None."""
    error: str | None = None


@dataclass
class CallbackReceiver:
    url: str
    statuses: list[int]
    """Answered in order; the last one repeats."""
    secret: str = CALLBACK_SECRET
    received: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        index = min(len(self.received), len(self.statuses) - 1)
        return self.statuses[index]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.received)

    def by_webhook_id(self) -> dict[str, list[Delivery]]:
        grouped: dict[str, list[Delivery]] = {}
        for delivery in self.received:
            grouped.setdefault(delivery.headers.get("webhook-id", ""), []).append(delivery)
        return grouped

    def accepted(self) -> list[Delivery]:
        """The deliveries answered 2xx."""
        return [d for d in self.received if 200 <= d.status < 300]


@contextmanager
def callback_receiver(statuses: Sequence[int] = (200,)) -> Iterator[CallbackReceiver]:
    """Serve on 127.0.0.1 (a free port) in a daemon thread."""
    receiver = CallbackReceiver(url="", statuses=list(statuses))
    verifier = Webhook(receiver.secret)

    def record(path: str, headers: dict[str, str], body: bytes) -> int:
        lowered = {k.lower(): v for k, v in headers.items()}
        with receiver.lock:
            status = receiver.next_status()
            delivery = Delivery(status, lowered, body)
            try:
                delivery.verified = verifier.verify(body, lowered)
            except WebhookVerificationError as err:
                delivery.error = str(err)
            receiver.received.append(delivery)
        return status

    with serving_posts(record, "callback-receiver") as base:
        receiver.url = f"{base}/hooks/jobs?token=t0k3n"
        yield receiver


def payload_types(receiver: CallbackReceiver) -> list[str]:
    return [json.loads(d.body)["type"] for d in receiver.accepted()]
