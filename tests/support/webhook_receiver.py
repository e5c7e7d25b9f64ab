"""A local HTTP endpoint that records every POST it receives (for webhook tests)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    url: str
    received: list[Received] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """The first ``count`` requests, waiting up to ``timeout`` seconds for them."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received[:count]


PostHandler = Callable[[str, dict[str, str], bytes], int]
"""Called with a POST's path, headers and body; returns the status to answer."""


@contextmanager
def serving_posts(on_post: PostHandler, name: str) -> Iterator[str]:
    """A local HTTP server on 127.0.0.1 (a free port) in a daemon thread, answering every POST
    with ``on_post``'s status and an empty body; yields its base URL. The one server behind the
    test receivers (webhooks here, completion callbacks in callback_receiver.py)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = on_post(self.path, dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def webhook_receiver(status: int = 200) -> Iterator[WebhookReceiver]:
    """Serve on 127.0.0.1 (a free port) in a daemon thread, answering ``status`` to POSTs."""
    receiver = WebhookReceiver(url="")

    def record(path: str, headers: dict[str, str], body: bytes) -> int:
        receiver.received.append(Received(path, headers, body))
        return status

    with serving_posts(record, "webhook-receiver") as base:
        receiver.url = f"{base}/vinted-events"
        yield receiver
