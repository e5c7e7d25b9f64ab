"""Download a listing's images so they can be uploaded as files (Etsy's uploadListingImage).

Each image is fetched from its own https URL with limits on time, size and type, into a
spooled temporary file (memory up to 1 MiB, disk beyond), before the marketplace sees any
write. An image that cannot be fetched, is not an image or points at a non-public address is
an ``ImageRejected`` naming the URL: the listing itself is wrong, so the adapter fails it
without retrying.

The URLs are user input, so the downloads go through their own client behind the outbound
guard (``activities/outbound_guard.py``): public addresses only, every redirect hop checked, the
connection pinned to the checked address, no proxy from the environment.

Limits, and where they come from:
- types JPEG, PNG, GIF, recognised by their leading bytes (the Content-Type a host sends is
  often ``application/octet-stream``): the formats Etsy takes for listing photos;
- ``IMAGE_MAX_BYTES`` (default 10 MiB, the per-photo limit sellers report for Etsy; Etsy's
  API reference gives none), checked against Content-Length and again while streaming;
- ``IMAGE_FETCH_TIMEOUT`` seconds for the whole download, DNS and redirects included (at most
  5 redirects, each to https);
- transient failures (connection errors, timeouts, 5xx, 429) are tried 3 times, then reported.

Offline machines: ``Settings.image_source_override()`` (``IMAGE_FETCH_OVERRIDE_URL``) sends
``https://host/path`` to ``<override>/host/path`` instead; everything else stays the same, and
that origin is the only one the guard lets reach a loopback or private address. A listing URL
whose host is a non-public IP address is refused even then, as in production.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO
from urllib.parse import urljoin, urlsplit

import httpx

from activities import USER_AGENT
from activities.outbound_guard import (
    BlockedAddress,
    GuardedTransport,
    Origin,
    Resolver,
    literal_refusal,
    origin_of,
    system_resolver,
)
from config.settings import Settings

SIGNATURES: dict[bytes, tuple[str, str]] = {
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"GIF87a": ("image/gif", "gif"),
    b"GIF89a": ("image/gif", "gif"),
}
MAX_REDIRECTS = 5
ATTEMPTS = 3
SPOOL_IN_MEMORY = 1024 * 1024
CHUNK = 64 * 1024


class ImageRejected(Exception):
    """The image at ``url`` cannot be used; ``reason`` says why (no secrets, one line)."""

    def __init__(self, url: str, reason: str, *, transient: bool = False) -> None:
        super().__init__(f"image {url}: {reason}")
        self.url = url
        self.reason = reason
        self.transient = transient


@dataclass
class FetchedImage:
    url: str
    filename: str
    content_type: str
    size: int
    file: IO[bytes]


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a JPEG, PNG or GIF by its leading bytes, else None."""
    for signature, kind in SIGNATURES.items():
        if head.startswith(signature):
            return kind
    return None


class ImageFetcher:
    """Downloads images with a client of its own, behind the outbound guard.

    ``transport`` is what connects (default: httpx's, no keep-alive, so a connection opened
    for one host name is never reused for another that shares its address, and nothing stays
    open between downloads: the client needs no closing); tests pass a ``MockTransport`` and a
    ``resolver`` of their own, and the guard still runs on top."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.max_bytes = settings.image_max_bytes
        self.timeout = settings.image_fetch_timeout
        self.override = settings.image_source_override()
        self.trusted: Origin | None = (
            origin_of(httpx.URL(self.override)) if self.override is not None else None
        )
        inner = transport or httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_keepalive_connections=0)
        )
        self.http = httpx.AsyncClient(
            transport=GuardedTransport(inner, resolver=resolver, trusted=self.trusted),
            timeout=httpx.Timeout(settings.image_fetch_timeout),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
            trust_env=False,  # no HTTP(S)_PROXY: the guard must see the image host's address
        )

    @asynccontextmanager
    async def fetch_all(
        self, urls: Sequence[str], progress: Callable[[], None] = lambda: None
    ) -> AsyncIterator[list[FetchedImage]]:
        """Every image of ``urls``, in order; their temporary files are closed on exit.
        ``progress`` is called as the bytes come in (the activity heartbeats there)."""
        async with AsyncExitStack() as stack:
            images: list[FetchedImage] = []
            for url in urls:
                image = await self.fetch(url, progress)
                stack.callback(image.file.close)
                images.append(image)
            yield images

    async def fetch(self, url: str, progress: Callable[[], None] = lambda: None) -> FetchedImage:
        self._refuse_before_any_request(url)
        for attempt in range(1, ATTEMPTS + 1):
            progress()
            try:
                async with asyncio.timeout(self.timeout):
                    return await self._download(url, progress)
            except TimeoutError:
                error = ImageRejected(url, f"no answer within {self.timeout:g} s", transient=True)
            except httpx.RequestError as err:
                error = ImageRejected(url, f"{type(err).__name__}", transient=True)
            except ImageRejected as err:
                error = err
            if not error.transient or attempt == ATTEMPTS:
                raise error
            await asyncio.sleep(0.5 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _refuse_before_any_request(self, url: str) -> None:
        """What the listing URL itself shows: not https, or a non-public IP address. Checked
        with or without the override, so the local stack refuses what production refuses."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            raise ImageRejected(url, "not a valid URL") from None
        if parsed.scheme != "https":
            raise ImageRejected(url, "not an https URL")
        if (reason := literal_refusal(parsed)) is not None:
            raise ImageRejected(url, f"refused: {reason}")

    def source_of(self, url: str) -> str:
        """Where ``url`` is actually downloaded from (the override, if one is set)."""
        if self.override is None:
            return url
        parts = urlsplit(url)
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.override}/{parts.netloc}{parts.path or '/'}{query}"

    async def _download(self, url: str, progress: Callable[[], None]) -> FetchedImage:
        target = self.source_of(url)
        for hop in range(MAX_REDIRECTS + 1):
            request = self.http.build_request("GET", target, headers={"Accept": "image/*"})
            try:
                response = await self.http.send(request, stream=True, follow_redirects=False)
            except BlockedAddress as err:
                where = f"redirected to {target}, " if hop else ""
                raise ImageRejected(url, f"{where}refused: {err.reason}") from None
            try:
                if response.is_redirect:
                    target = self._next_hop(url, target, response)
                    continue
                return await self._read(url, response, progress)
            finally:
                await response.aclose()
        raise ImageRejected(url, f"more than {MAX_REDIRECTS} redirects")

    def _next_hop(self, url: str, current: str, response: httpx.Response) -> str:
        location: str = response.headers.get("location", "")
        nxt = urljoin(current, location)
        try:
            trusted = origin_of(httpx.URL(nxt)) == self.trusted
        except (httpx.InvalidURL, UnicodeError):
            raise ImageRejected(
                url, f"redirected to an invalid URL ({response.status_code})"
            ) from None
        if not location or (not trusted and urlsplit(nxt).scheme != "https"):
            raise ImageRejected(url, f"redirected to a non-https address ({response.status_code})")
        return nxt

    async def _read(
        self, url: str, response: httpx.Response, progress: Callable[[], None]
    ) -> FetchedImage:
        status = response.status_code
        if status == 429 or status >= 500:
            raise ImageRejected(url, f"HTTP {status}", transient=True)
        if status != 200:
            raise ImageRejected(url, f"HTTP {status}")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise ImageRejected(url, f"{declared} bytes, more than {self.max_bytes}")
        spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        try:
            size = 0
            async for chunk in response.aiter_bytes(CHUNK):
                size += len(chunk)
                if size > self.max_bytes:
                    raise ImageRejected(url, f"more than {self.max_bytes} bytes")
                spool.write(chunk)
                progress()
            spool.seek(0)
            kind = sniff(spool.read(16))
            if kind is None:
                sent = response.headers.get("content-type", "no content type").split(";")[0]
                raise ImageRejected(url, f"not a JPEG, PNG or GIF image ({sent})")
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        content_type, extension = kind
        return FetchedImage(url, _filename(url, extension), content_type, size, spool)


def _filename(url: str, extension: str) -> str:
    """The URL's last path segment with the extension of what it really is."""
    stem = PurePosixPath(urlsplit(url).path).stem or "image"
    safe = "".join(ch for ch in stem if ch.isalnum() or ch in "-_")[:60] or "image"
    return f"{safe}.{extension}"
