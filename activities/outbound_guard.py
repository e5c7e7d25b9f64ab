"""The outbound guard of requests to user-given URLs: they reach public addresses only.

Listing image URLs and completion callback URLs come from whoever starts a job, and the worker
requests them from inside the deployment, so a URL could point the worker at what only it can
reach: its own loopback, the private network, a cloud's metadata service (169.254.169.254).
``GuardedTransport`` sits under such a client's requests, every redirect hop included, and for
each one

- takes ``http`` and ``https`` only (a caller may narrow that to ``https``);
- resolves the host once and refuses it if *any* of its addresses is loopback, private,
  link-local, multicast, reserved, unspecified or otherwise not global (IPv4 inside IPv6
  included: ``::ffff:127.0.0.1``, 6to4);
- connects to the address it checked (the URL's host is replaced by that address, the ``Host``
  header and TLS's SNI and certificate check keep the name), so a second DNS answer cannot
  send the connection elsewhere (DNS rebinding).

The one exception is the *trusted origin* a client may name: for image downloads,
``IMAGE_FETCH_OVERRIDE_URL``, the local image source an operator configures for offline
machines (the simulator under ``make run`` and in tests). It is the only way a request reaches a
loopback or private address, and only that scheme, host and port: a redirect from it to
anywhere else is checked like any other hop. (Callbacks have no trusted origin: with
``CALLBACK_ALLOW_PRIVATE=true`` their client is not guarded at all.)

Not covered: an HTTP proxy (the guarded clients ignore ``HTTP(S)_PROXY``: behind a proxy the
guard would check the proxy's address, not the target's).

Moved here from ``activities/image_guard.py`` (image downloads, issue 12) so that completion
callbacks (issue 16) share it: the names and signatures are unchanged.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
Origin = tuple[str, str, int]

SCHEMES = ("http", "https")
_KINDS = (
    ("is_loopback", "loopback"),
    ("is_link_local", "link-local"),
    ("is_multicast", "multicast"),
    ("is_unspecified", "unspecified"),
    ("is_private", "private"),
    ("is_reserved", "reserved"),
)


class BlockedAddress(Exception):
    """A request the guard refused; ``reason`` names the host and why (one line)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives ``host`` (both families), in its order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def refusal(address: Address) -> str | None:
    """Why ``address`` is not one a user-given URL may reach, or None (a global unicast)."""
    kind = _kind(address)
    return None if kind is None else f"{address} is {kind}"


def _kind(address: Address) -> str | None:
    """``a loopback address`` and the like, or None for a global unicast address."""
    embedded = _embedded_ipv4(address)
    if embedded is not None and (inner := _kind(embedded)) is not None:
        return f"{inner} (IPv4 {embedded} inside IPv6)"
    for attribute, kind in _KINDS:
        if getattr(address, attribute):
            return f"a {kind} address"
    return None if address.is_global else "a non-public address"


def origin_of(url: httpx.URL) -> Origin:
    return (url.scheme, url.raw_host.decode("ascii").lower(), url.port or _default_port(url))


def literal_refusal(url: httpx.URL) -> str | None:
    """The refusal of a URL whose host is an IP address (no DNS), or None."""
    address = _literal(url.raw_host.decode("ascii"))
    return None if address is None else refusal(address)


class GuardedTransport(httpx.AsyncBaseTransport):
    """Checks and pins every request's address before ``inner`` connects (module docstring)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        resolver: Resolver = system_resolver,
        trusted: Origin | None = None,
    ) -> None:
        self.inner = inner
        self.resolver = resolver
        self.trusted = trusted

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in SCHEMES:
            raise BlockedAddress(f"{url.scheme}: is not http or https")
        origin = origin_of(url)
        if origin == self.trusted:
            return await self.inner.handle_async_request(request)
        host, port = origin[1], origin[2]
        addresses = await self._checked_addresses(host, port)
        last_error: httpx.ConnectError | None = None
        for address in addresses:  # the next one only when connecting failed
            try:
                return await self.inner.handle_async_request(pinned_request(request, host, address))
            except httpx.ConnectError as err:
                last_error = err
        assert last_error is not None
        raise last_error

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def _checked_addresses(self, host: str, port: int) -> list[Address]:
        literal = _literal(host)
        if literal is not None:
            answers = [literal]
        else:
            try:
                answers = [
                    ipaddress.ip_address(a.split("%")[0]) for a in await self.resolver(host, port)
                ]
            except (OSError, UnicodeError, ValueError) as err:
                raise httpx.ConnectError(f"cannot resolve {host}: {type(err).__name__}") from None
            if not answers:
                raise httpx.ConnectError(f"cannot resolve {host}: no address")
        for address in answers:
            if (kind := _kind(address)) is not None:
                if literal is not None:
                    raise BlockedAddress(f"{address} is {kind}")
                raise BlockedAddress(f"{host} resolves to {address}, {kind}")
        return answers


def pinned_request(request: httpx.Request, host: str, address: Address) -> httpx.Request:
    """``request`` sent to ``address``: same Host header, TLS server name ``host``."""
    extensions = dict(request.extensions)
    if request.url.scheme == "https":
        extensions["sni_hostname"] = host
    return httpx.Request(
        request.method,
        request.url.copy_with(host=str(address)),
        headers=request.headers,  # carries ``Host: <host>`` from the original URL
        stream=request.stream,
        extensions=extensions,
    )


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv6Address):
        return address.ipv4_mapped or address.sixtofour
    return None


def _default_port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80


async def host_refusal(host: str, port: int, resolver: Resolver = system_resolver) -> str | None:
    """Why ``host`` may not be reached (a non-public address among its answers), or None.

    For a check before any request (the gateway refuses such a callback URL at start): a name
    that does not resolve now is not refused here, the guard checks again on every request.
    """
    literal = _literal(host)
    if literal is not None:
        return refusal(literal)
    try:
        answers = [ipaddress.ip_address(a.split("%")[0]) for a in await resolver(host, port)]
    except (OSError, UnicodeError, ValueError):
        return None
    for address in answers:
        if (kind := _kind(address)) is not None:
            return f"{host} resolves to {address}, {kind}"
    return None
