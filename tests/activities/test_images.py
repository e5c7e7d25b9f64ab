"""ImageFetcher: type by content, size and redirect limits, transient retries, the override,
and the outbound guard (public addresses only, each hop checked, the connection pinned)."""

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
PUBLIC = "93.184.215.14"
DNS = {
    "example.com": [PUBLIC],
    "cdn.example.com": ["2606:2800:21f:cb07:6820:80da:af6b:8b2c", "93.184.215.15"],
    "insecure.example.com": [PUBLIC],
    "intranet.example.com": [PUBLIC, "10.0.0.7"],
    "metadata.example.com": ["169.254.169.254"],
}
"""What the tests' resolver answers (these machines are offline)."""


async def _resolve(host: str, port: int) -> list[str]:
    if host not in DNS:
        raise OSError(f"unknown host {host}")
    return DNS[host]


def _fetcher(
    answer: Callable[[httpx.Request], httpx.Response], settings: Settings = REAL
) -> tuple[ImageFetcher, list[str]]:
    """A fetcher whose connections go to ``answer``; ``seen`` lists each request as
    ``<scheme>://<Host header><path>`` (what the image host sees)."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(
            f"{request.url.scheme}://{request.headers['host']}{request.url.raw_path.decode()}"
        )
        return answer(request)

    fetcher = ImageFetcher(settings, transport=httpx.MockTransport(handler), resolver=_resolve)
    return fetcher, seen


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
        if request.headers["host"] == "cdn.example.com":
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


# -- the outbound guard -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/a.jpg", "127.0.0.1 is a loopback address"),
        ("https://10.20.30.40/a.jpg", "10.20.30.40 is a private address"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("https://[::1]:8443/a.jpg", "::1 is a loopback address"),
        (
            "https://[::ffff:7f00:1]/a.jpg",
            "::ffff:7f00:1 is a loopback address (IPv4 127.0.0.1 inside IPv6)",
        ),
        ("https://100.64.1.2/a.jpg", "100.64.1.2 is a non-public address"),
    ],
)
@pytest.mark.parametrize("override", ["off", "http://127.0.0.1:9999/images"])
async def test_an_address_that_is_not_public_is_refused_before_any_request(
    url: str, reason: str, override: str
) -> None:
    """SSRF: a listing URL naming loopback, private, link-local or metadata addresses is
    refused, final (not transient), before anything is sent: in production (no override) and
    under the local image source alike."""
    settings = REAL.model_copy(update={"image_fetch_override_url": override})
    fetcher, seen = _fetcher(lambda r: httpx.Response(200, content=SAMPLE_JPEG), settings)
    with pytest.raises(ImageRejected) as failure:
        await fetcher.fetch(url)
    assert str(failure.value) == f"image {url}: refused: {reason}"
    assert not failure.value.transient
    assert seen == []


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("intranet.example.com", "intranet.example.com resolves to 10.0.0.7, a private address"),
        (
            "metadata.example.com",
            "metadata.example.com resolves to 169.254.169.254, a link-local address",
        ),
    ],
)
async def test_a_host_name_with_any_private_address_is_refused(host: str, reason: str) -> None:
    """Every address the name resolves to is checked: one private address among public ones
    is enough to refuse it (which of them a connection would use is not ours to pick)."""
    fetcher, seen = _fetcher(lambda r: httpx.Response(200, content=SAMPLE_JPEG))
    with pytest.raises(ImageRejected) as failure:
        await fetcher.fetch(f"https://{host}/a.jpg")
    assert str(failure.value) == f"image https://{host}/a.jpg: refused: {reason}"
    assert seen == []


async def test_the_real_resolver_refuses_localhost() -> None:
    """``localhost`` resolves (from /etc/hosts, offline too) to a loopback address."""
    fetcher = ImageFetcher(REAL, transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    with pytest.raises(ImageRejected, match=r"refused: localhost resolves to \S+, a loopback"):
        await fetcher.fetch("https://localhost/a.jpg")


@pytest.mark.parametrize(
    "location",
    [
        "https://169.254.169.254/latest/meta-data/iam/",
        "https://10.0.0.1/a.jpg",
        "https://intranet.example.com/a.jpg",
        "http://127.0.0.1:9999/images/a.jpg",
    ],
)
async def test_a_redirect_to_a_private_address_is_refused_naming_the_image(location: str) -> None:
    """Each redirect hop is checked like the first request."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": location})

    fetcher, seen = _fetcher(answer)
    with pytest.raises(ImageRejected) as failure:
        await fetcher.fetch("https://example.com/a.jpg")
    message = str(failure.value)
    assert message.startswith("image https://example.com/a.jpg: ")
    assert "refused" in message or "non-https" in message
    assert not failure.value.transient
    assert seen == ["https://example.com/a.jpg"]


async def test_the_connection_goes_to_the_checked_address_under_the_host_name() -> None:
    """DNS rebinding: the guard resolves once, checks, and connects to that address (the
    URL's host replaced), while the Host header and TLS's server name stay the image host's."""
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, content=SAMPLE_JPEG)

    answers = iter([[PUBLIC], ["127.0.0.1"]])

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    fetcher = ImageFetcher(REAL, transport=httpx.MockTransport(handler), resolver=rebinding)
    await fetcher.fetch("https://example.com/a.jpg")
    [request] = requests
    assert request.url.host == PUBLIC
    assert request.headers["host"] == "example.com"
    assert request.extensions["sni_hostname"] == "example.com"
    with pytest.raises(ImageRejected, match=r"example\.com resolves to 127\.0\.0\.1"):
        await fetcher.fetch("https://example.com/a.jpg")
    assert len(requests) == 1


async def test_the_local_image_source_is_the_only_private_origin_allowed() -> None:
    """IMAGE_FETCH_OVERRIDE_URL's scheme, host and port pass unchecked (it is the operator's);
    a redirect from it to another loopback port is checked like any other hop."""
    local = REAL.model_copy(update={"image_fetch_override_url": "http://127.0.0.1:9999/images"})

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/moved.jpg"):
            return httpx.Response(302, headers={"location": "https://127.0.0.1:8000/admin"})
        return httpx.Response(200, content=SAMPLE_JPEG)

    fetcher, seen = _fetcher(answer, local)
    await fetcher.fetch("https://example.com/a.jpg")
    with pytest.raises(ImageRejected) as failure:
        await fetcher.fetch("https://example.com/moved.jpg")
    assert str(failure.value) == (
        "image https://example.com/moved.jpg: redirected to https://127.0.0.1:8000/admin, "
        "refused: 127.0.0.1 is a loopback address"
    )
    assert seen == [
        "http://127.0.0.1:9999/images/example.com/a.jpg",
        "http://127.0.0.1:9999/images/example.com/moved.jpg",
    ]
