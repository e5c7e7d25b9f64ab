"""Request body size limit (``MAX_BODY_BYTES``): larger bodies get 413 problem+json, unread."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    """Checks Content-Length up front and counts streamed (chunked) bodies as they arrive."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, per_prefix: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.default_max = max_bytes
        self.per_prefix = per_prefix or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = next(
            (size for prefix, size in self.per_prefix.items() if path.startswith(prefix)),
            self.default_max,
        )
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(send, limit)
            return
        received = 0
        started = False
        rejected = False

        async def counting_receive() -> Message:
            nonlocal received, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Answer now; the app sees the client gone and stops reading. (Raising
                    # here would be caught by FastAPI's body parsing and become a 400.)
                    rejected = True
                    if not started:
                        await self._reject(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return  # the 413 is already sent; drop what the app answers to the disconnect
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)

    async def _reject(self, send: Send, limit: int) -> None:
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": "Content Too Large",
            "status": 413,
            "detail": f"request body is larger than {limit} bytes",
        }
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
