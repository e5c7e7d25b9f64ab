"""A TCP proxy that can take its upstream away: stop listening and reset live connections, then
listen again on the same port. Runs its own event loop in a thread, so blocking tests use it."""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Coroutine
from typing import Any

LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST, not FIN


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
        except OSError:
            pass
    writer.transport.abort()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except (ConnectionError, OSError):
        pass


class TcpProxy:
    """``127.0.0.1:port`` -> ``127.0.0.1:target_port``.

    ``cut()`` makes the upstream unreachable the way a dead host or a crashed service does:
    new connections are refused (nothing listens) and every open one is reset mid-request.
    ``restore()`` listens again on the same port. ``target_port`` may be set after ``start()``.
    """

    def __init__(self, target_port: int | None = None) -> None:
        self.target_port = target_port
        self.port = 0
        self.accepted = 0
        self.reset = 0  # live connections reset by cut()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._connections: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TcpProxy:
        self._thread.start()
        self._run(self._listen())
        return self

    def cut(self) -> int:
        """Stop listening and reset every live connection; returns how many were reset."""
        return self._run(self._cut())

    def restore(self) -> None:
        self._run(self._listen())

    def close(self) -> None:
        if self._thread.is_alive():
            self._run(self._shutdown())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._handle, "127.0.0.1", self.port, reuse_address=True
            )
            self.port = int(self._server.sockets[0].getsockname()[1])

    async def _cut(self) -> int:
        if self._server is not None:
            self._server.close()
            self._server = None
        connections = list(self._connections)
        self._connections.clear()
        for client, upstream in connections:
            _reset(client)
            upstream.transport.abort()
        self.reset += len(connections)
        return len(connections)

    async def _shutdown(self) -> None:
        await self._cut()
        # The reset connections' handlers end on their own once their pipes see the close.
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if tasks:
            await asyncio.wait(tasks, timeout=2)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            if self.target_port is None:
                raise ConnectionRefusedError("no target yet")
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            _reset(writer)
            return
        if self._server is None:  # cut while connecting upstream
            _reset(writer)
            up_writer.transport.abort()
            return
        connection = (writer, up_writer)
        self._connections.add(connection)
        pipes = [
            asyncio.ensure_future(_pipe(reader, up_writer)),
            asyncio.ensure_future(_pipe(up_reader, writer)),
        ]
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
            self._connections.discard(connection)
            for stream in (writer, up_writer):
                stream.transport.abort()
