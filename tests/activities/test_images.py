"""ImageFetcher: type by content, size and redirect limits, transient retries, the override."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from activities.images import ImageFetcher, ImageRejected
from config.settings import Settings, load_settings
from simulator.images import SAMPLE_JPEG

pytestmark = pytest.mark.asyncio(loop_scope="session")

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
REAL = load_settings(etsy_base_url="https://api.etsy.com/v3/application")
"""Settings as in production: no override, downloads go to the listing's URLs."""


def _fetcher(
    answer: Callable[[httpx.Request], httpx.Response], settings: Settings = REAL
) -> tuple[ImageFetcher, list[str]]:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return answer(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return ImageFetcher(settings, http), seen


async def test_the_type_is_read_from_the_bytes_not_the_header() -> None:
    fetcher, _ = _fetcher(
        lambda r: httpx.Response(200, content=PNG, headers={"content-type": "binary/octet-stream"})
    )
    image = await fetcher.fetch("https://cdn.example.com/photos/jacket-front?v=2")
    assert (image.content_type, image.filename, image.size) == ("image/png", "jacket-front.png", 72)
    assert image.file.read() == PNG


async def test_a_declared_or_streamed_size_over_the_limit_is_refused() -> None:
    settings = REAL.model_copy(update={"image_max_bytes": 100})
    fetcher, _ = _fetcher(lambda r: httpx.Response(200, content=SAMPLE_JPEG), settings)
    with pytest.raises(ImageRejected) as declared:
        await fetcher.fetch("https://example.com/big.jpg")
    assert "632 bytes, more than 100" in str(declared.value)

    def streamed(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=httpx.ByteStream(SAMPLE_JPEG))  # no content-length

    fetcher, _ = _fetcher(streamed, settings)
    with pytest.raises(ImageRejected, match="more than 100 bytes"):
        await fetcher.fetch("https://example.com/big.jpg")


async def test_https_redirects_are_followed_and_http_ones_refused() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "cdn.example.com":
            return httpx.Response(200, content=SAMPLE_JPEG)
        if request.url.path == "/a.jpg":
            return httpx.Response(302, headers={"location": "https://cdn.example.com/a.jpg"})
        return httpx.Response(301, headers={"location": "http://insecure.example.com/b.jpg"})

    fetcher, seen = _fetcher(answer)
    assert (await fetcher.fetch("https://example.com/a.jpg")).content_type == "image/jpeg"
    assert seen == ["https://example.com/a.jpg", "https://cdn.example.com/a.jpg"]
    with pytest.raises(ImageRejected, match="non-https"):
        await fetcher.fetch("https://example.com/b.jpg")


async def test_transient_failures_are_tried_three_times_then_named() -> None:
    fetcher, seen = _fetcher(lambda r: httpx.Response(503))
    with pytest.raises(ImageRejected) as failure:
        await fetcher.fetch("https://example.com/a.jpg")
    assert len(seen) == 3
    assert str(failure.value) == "image https://example.com/a.jpg: HTTP 503"

    fetcher, seen = _fetcher(lambda r: httpx.Response(404))
    with pytest.raises(ImageRejected):
        await fetcher.fetch("https://example.com/a.jpg")
    assert len(seen) == 1, "a 404 is final"


async def test_the_override_sends_downloads_to_the_local_source() -> None:
    """IMAGE_FETCH_OVERRIDE_URL (default: the simulator's /images while Etsy is the
    simulator; off once ETSY_BASE_URL names the real API)."""
    assert REAL.image_source_override() is None
    local = load_settings(simulator_url="http://127.0.0.1:9999")
    assert local.image_source_override() == "http://127.0.0.1:9999/images"
    fetcher, seen = _fetcher(lambda r: httpx.Response(200, content=SAMPLE_JPEG), local)
    await fetcher.fetch("https://example.com/dir/a.jpg?size=l")
    assert seen == ["http://127.0.0.1:9999/images/example.com/dir/a.jpg?size=l"]
    off = load_settings(image_fetch_override_url="off")
    assert off.image_source_override() is None
