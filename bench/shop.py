"""Fill the simulator's shops with live listings through the marketplaces' own APIs.

The simulator has no control route that adds listings, so a "full shop" is built the way a
seller's earlier publishes built it: eBay inventory item -> offer -> publish, Etsy draft ->
inventory (SKU) -> image -> active, Vinted CreateItems (100 items a request, as the API
allows). The payloads are the product's own (``activities.ebay.inventory_item_body``,
``activities.etsy_forms.draft_form``, ``activities.vinted.item_body``), so every seeded
listing is one the adapters could have made. Run with the simulator's latency at 0 and its
request limits raised (``bench.stack``): 10 000 listings per marketplace is ~70 000 calls.

A call whose connection is lost is sent again (``_send``). The writes are idempotent (eBay's
PUT and publish, Etsy's inventory and activation) or a repeat is recognised (eBay's createOffer
answers 25002 with the existing offer) or harmless here (a second Etsy draft or Vinted item):
the listings actually held are counted afterwards from ``GET /__sim/listings``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from temporalio.testing import ActivityEnvironment

from activities.ebay import OFFER_EXISTS, inventory_item_body, offer_body
from activities.ebay_catalog import EbayCatalog
from activities.ebay_client import EbayClient, error_ids
from activities.ebay_oauth import EbayUserToken
from activities.etsy_forms import draft_form, inventory_body
from activities.vinted import item_body, item_reference
from activities.vinted_api import signature_header
from activities.vinted_ontology import Ontology, resolve_item_ids
from bench.simulator import SimulatorControl
from config.settings import Settings
from domain.listing import Listing
from domain.marketplaces import Marketplace

IN_FLIGHT = 4
"""Listings being written at once per marketplace (each is a chain of 3-4 calls). Enough to
keep the simulator's one event loop busy at latency 0; more only adds connection-pool work on
the client (measured with 1 000 listings: 4 in flight ~18 s, 16 in flight ~26 s)."""
VINTED_BATCH = 100
"""CreateItems takes at most 100 items a request (simulator/vinted.py MAX_BATCH)."""
ATTEMPTS = 3


@dataclass(frozen=True)
class ShopFill:
    listings: dict[str, dict[str, int]]  # per marketplace: listings held, by state
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {"listings": self.listings, "seconds": round(self.seconds, 1)}

    def totals(self) -> dict[str, int]:
        return {marketplace: sum(states.values()) for marketplace, states in self.listings.items()}


def seed_listing(sku: str) -> Listing:
    return Listing.model_validate(
        {
            "sku": sku,
            "title": "Wool overcoat, charcoal",
            "description": "Second-hand wool overcoat, size L, dry-cleaned.",
            "price": {"amount": "80.00", "currency": "EUR"},
            "quantity": 1,
            "condition": "good",
            "images": ["https://example.com/coat.jpg"],
        }
    )


async def _send(http: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """Send; again when the connection is lost on the way (see the module's docstring)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await http.send(request)
        except httpx.TransportError:
            if attempt == ATTEMPTS:
                raise
            await asyncio.sleep(0.5 * attempt)
    raise AssertionError("unreachable")


async def _checked(http: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    response = await _send(http, request)
    response.raise_for_status()
    return response


async def _each(count: int, write: Callable[[int], Awaitable[None]]) -> None:
    """``write(0)`` ... ``write(count - 1)``, IN_FLIGHT at a time."""
    queue = iter(range(count))

    async def lane() -> None:
        for index in queue:
            await write(index)

    await asyncio.gather(*(lane() for _ in range(min(IN_FLIGHT, count))))


async def fill_ebay(settings: Settings, http: httpx.AsyncClient, count: int, tag: str) -> None:
    # The category rules as the worker reads them (its catalog heartbeats, hence the
    # activity context ActivityEnvironment gives it).
    catalog = EbayCatalog(EbayClient(settings, http, EbayUserToken(settings, http)))
    rules = await ActivityEnvironment().run(
        catalog.rules, settings.ebay_marketplace_id, settings.ebay_category_id
    )
    base = settings.base_url(Marketplace.EBAY)
    headers = {
        "Authorization": f"Bearer {settings.ebay_token.get_secret_value()}",
        "Content-Language": settings.ebay_content_locale(),
        "Accept": "application/json",
    }

    async def write(index: int) -> None:
        listing = seed_listing(f"SHOP{tag}E{index:05d}")
        item = inventory_item_body(listing, rules, settings.ebay_brand_default())
        url = f"{base}/inventory_item/{listing.sku}"
        await _checked(http, http.build_request("PUT", url, json=item, headers=headers))
        offer = offer_body(listing, settings)
        created = await _send(
            http, http.build_request("POST", f"{base}/offer", json=offer, headers=headers)
        )
        # A createOffer sent again after a lost answer: the offer exists, reuse it.
        existing = [p["offerId"] for i, p in error_ids(created) if i == OFFER_EXISTS]
        if existing and created.status_code == 400:
            offer_id = existing[0]
        else:
            offer_id = created.raise_for_status().json()["offerId"]
        url = f"{base}/offer/{offer_id}/publish/"
        await _checked(http, http.build_request("POST", url, headers=headers))

    await _each(count, write)


async def fill_etsy(
    settings: Settings, http: httpx.AsyncClient, count: int, tag: str, image: bytes
) -> None:
    base = settings.base_url(Marketplace.ETSY)
    shop = f"{base}/shops/{settings.etsy_shop_id}"
    headers = {
        "x-api-key": settings.etsy_api_key.get_secret_value(),
        # The configured token: the simulator counts it as minted at its last reset.
        "Authorization": f"Bearer {settings.etsy_access_token.get_secret_value()}",
    }

    async def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
        return await _checked(http, http.build_request(method, url, headers=headers, **kwargs))

    async def write(index: int) -> None:
        listing = seed_listing(f"SHOP{tag}T{index:05d}")
        draft = await call("POST", f"{shop}/listings", data=draft_form(listing, settings))
        listing_id = draft.json()["listing_id"]
        await call("PUT", f"{base}/listings/{listing_id}/inventory", json=inventory_body(listing))
        files = {"image": ("coat.jpg", image, "image/jpeg")}
        await call("POST", f"{shop}/listings/{listing_id}/images", data={"rank": "1"}, files=files)
        await call("PATCH", f"{shop}/listings/{listing_id}", data={"state": "active"})

    await _each(count, write)


async def fill_vinted(settings: Settings, http: httpx.AsyncClient, count: int, tag: str) -> None:
    base = settings.base_url(Marketplace.VINTED)
    access_key = settings.vinted_access_key.get_secret_value()
    signing_key = settings.vinted_signing_key.get_secret_value()

    async def call(method: str, path: str, body: bytes = b"") -> httpx.Response:
        request = http.build_request(method, f"{base}{path}", content=body)
        if body:
            request.headers["Content-Type"] = "application/json"
        request.headers["X-Vpi-Access-Key"] = access_key
        request.headers["X-Vpi-Hmac-Sha256"] = signature_header(
            signing_key, access_key, method, request.url.raw_path.decode(), body, time.time()
        )
        return await _checked(http, request)

    ontology = Ontology.parse((await call("GET", "/ontologies")).json())
    for start in range(0, count, VINTED_BATCH):
        items = []
        for index in range(start, min(start + VINTED_BATCH, count)):
            listing = seed_listing(f"SHOP{tag}V{index:05d}")
            ids = resolve_item_ids(listing, ontology, settings)
            reference = item_reference(listing.sku, f"seed-{tag}-{index}")
            items.append(item_body(listing, reference, ids))
        body = httpx.Request("POST", "/", json={"items": items}).content
        await call("POST", "/items", body)


def held(listings: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, int]]:
    """Listings per marketplace and state, from ``GET /__sim/listings``."""
    return {
        marketplace: dict(Counter(str(e.get("status") or e.get("state")) for e in entries))
        for marketplace, entries in listings.items()
    }


@contextmanager
def _sniffio_lookup_skipped() -> Iterator[None]:
    """httpcore imports sniffio on every request to learn which async library runs it; when
    sniffio is not installed (anyio 4 no longer needs it), each failed import searches
    sys.path again: ~0.4 ms of CPU per request, a third of the client's own. ``None`` in
    ``sys.modules`` makes that import fail at once (httpcore then assumes asyncio). Only for
    the fill: the measured phases keep the client as the product runs it."""
    if "sniffio" in sys.modules or importlib.util.find_spec("sniffio") is not None:
        yield
        return
    sys.modules["sniffio"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        del sys.modules["sniffio"]


async def fill_shops(settings: Settings, count: int, sim: SimulatorControl) -> ShopFill:
    """``count`` live listings on each marketplace of the simulator ``settings`` point at."""
    with _sniffio_lookup_skipped():
        return await _fill_shops(settings, count, sim)


async def _fill_shops(settings: Settings, count: int, sim: SimulatorControl) -> ShopFill:
    began = time.monotonic()
    tag = uuid.uuid4().hex[:6].upper()
    # Idle connections are dropped before the server's keep-alive (5 s) would close them
    # under a request.
    limits = httpx.Limits(
        max_connections=4 * IN_FLIGHT, max_keepalive_connections=4 * IN_FLIGHT, keepalive_expiry=1
    )
    async with httpx.AsyncClient(timeout=60, limits=limits, trust_env=False) as http:
        # The local image source answers a small JPEG for any path (simulator/images.py).
        image_url = f"{settings.simulator_url}/images/example.com/coat.jpg"
        image = (await _checked(http, http.build_request("GET", image_url))).content
        await asyncio.gather(
            fill_ebay(settings, http, count, tag),
            fill_etsy(settings, http, count, tag, image),
            fill_vinted(settings, http, count, tag),
        )
    return ShopFill(held(await sim.listings()), time.monotonic() - began)
