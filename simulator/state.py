"""In-memory state of one simulator instance: listings per marketplace, faults, latency, calls."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from config.settings import Settings
from domain.timestamps import format_utc
from simulator.ebay_access import EbayAccess
from simulator.faults import FaultBook
from simulator.vinted_state import VintedState

DEFAULT_VINTED_ACTIVATION_DELAY_MS = 200
DEFAULT_VINTED_SLOTS = 500


@dataclass
class EbayOffer:
    offer_id: str
    sku: str
    marketplace_id: str
    format: str
    body: dict[str, Any]
    locale: str | None = None  # its Content-Language
    status: str = "UNPUBLISHED"
    listing_id: str | None = None

    def view(self) -> dict[str, Any]:
        """The offer as ``GET /offer`` shows it (the real ``EbayOfferDetailsWithAll`` subset)."""
        listing = (
            {"listingId": self.listing_id, "listingStatus": "ACTIVE"} if self.listing_id else None
        )
        return {
            **self.body,
            "offerId": self.offer_id,
            "sku": self.sku,
            "marketplaceId": self.marketplace_id,
            "format": self.format,
            "status": self.status,
            **({"listing": listing} if listing else {}),
        }


@dataclass
class EtsyListing:
    listing_id: int
    shop_id: str
    fields: dict[str, Any]
    state: str = "draft"
    images: list[dict[str, Any]] = field(default_factory=list)
    products: list[dict[str, Any]] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)

    @property
    def skus(self) -> list[str]:
        return [p["sku"] for p in self.products if p.get("sku")]

    @property
    def url(self) -> str:
        return f"https://www.etsy.com/listing/{self.listing_id}"


@dataclass
class SimConfig:
    """Tunables set through ``POST /__sim/config``; reset restores the defaults."""

    vinted_activation_delay_ms: int = DEFAULT_VINTED_ACTIVATION_DELAY_MS
    vinted_slots: int = DEFAULT_VINTED_SLOTS


class SimState:
    """Everything one simulator app remembers. Only touched from the server's event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.faults = FaultBook()
        self._release = asyncio.Event()
        self.reset()

    def reset(self) -> None:
        self.ebay_inventory: dict[str, dict[str, Any]] = {}
        self.ebay_offers: dict[str, EbayOffer] = {}
        self.etsy_listings: dict[int, EtsyListing] = {}
        self.vinted = VintedState.fresh(self.settings)
        self.faults.clear()
        self.latency_ms = 0
        self.config = SimConfig()
        self.calls: list[dict[str, Any]] = []
        self.etsy_calls_today = 0
        self.etsy_second = (0, 0)
        # Etsy OAuth (simulator/etsy_oauth.py): the configured pair counts as minted now;
        # access tokens issued up to etsy_tokens_expired_at are expired; spent refresh tokens.
        self.etsy_tokens_since = time.time()
        self.etsy_tokens_expired_at = 0.0
        self.etsy_spent_refresh_tokens: set[str] = set()
        self._counters: dict[str, int] = {}
        # eBay tokens (the configured one, any the OAuth route mints) and the request limit.
        self.ebay_access = EbayAccess(self.settings)
        # Wake every connection a ``timeout`` fault is holding, so tests never wait them out.
        self._release.set()
        self._release = asyncio.Event()

    def next_id(self, kind: str, start: int) -> int:
        value = self._counters.get(kind, start) + 1
        self._counters[kind] = value
        return value

    async def hold(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if the simulator is reset meanwhile."""
        release = self._release
        try:
            await asyncio.wait_for(release.wait(), timeout=seconds)
        except TimeoutError:
            pass

    def expire_ebay_tokens(self) -> int:
        """Every token issued so far stops working (401 errorId 1001), as when they expire."""
        return self.ebay_access.expire_all()

    def log_call(self, marketplace: str, operation: str, method: str, path: str) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "at": format_utc(datetime.now(UTC)),
            "marketplace": marketplace,
            "operation": operation,
            "method": method,
            "path": path,
            "status": None,
        }
        self.calls.append(entry)
        return entry

    # -- views for /__sim/listings ---------------------------------------------------------

    def listings_view(self) -> dict[str, list[dict[str, Any]]]:
        now = time.monotonic()
        return {
            "ebay": [
                {
                    "sku": o.sku,
                    "offerId": o.offer_id,
                    "listingId": o.listing_id,
                    "status": "PUBLISHED" if o.status == "PUBLISHED" else "UNPUBLISHED",
                    "marketplaceId": o.marketplace_id,
                    "format": o.format,
                }
                for o in self.ebay_offers.values()
            ],
            "etsy": [
                {
                    "listing_id": item.listing_id,
                    "state": item.state,
                    "skus": item.skus,
                    "sku": item.skus[0] if item.skus else None,
                    "title": item.fields.get("title"),
                    "images": len(item.images),
                }
                for item in self.etsy_listings.values()
            ],
            "vinted": self.vinted.listings_view(now),
        }
