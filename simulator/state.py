"""In-memory state of one simulator instance: listings per marketplace, faults, latency, calls."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
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
    ended_listing_id: str | None = None
    """The listing a withdrawOffer ended (the offer is unpublished again, kept)."""
    sold_quantity: int = 0
    """Units buyers bought from its listing (``POST /__sim/sales``; OAS ``soldQuantity``)."""

    @property
    def published(self) -> bool:
        return self.status == "PUBLISHED" and self.listing_id is not None

    @property
    def out_of_stock(self) -> bool:
        """A published offer whose ``availableQuantity`` reached 0: eBay keeps a GTC listing
        as ``OUT_OF_STOCK`` (hidden, not buyable) until a revise gives it stock again."""
        return self.published and self.body.get("availableQuantity") == 0

    @property
    def buyable(self) -> bool:
        return self.published and not self.out_of_stock

    @property
    def listing_status(self) -> str | None:
        """``ListingStatusEnum`` of its listing: ACTIVE, OUT_OF_STOCK, ENDED (withdrawn)."""
        if self.published:
            return "OUT_OF_STOCK" if self.out_of_stock else "ACTIVE"
        return "ENDED" if self.ended_listing_id is not None else None

    def view(self) -> dict[str, Any]:
        """The offer as ``GET /offer`` shows it (the real ``EbayOfferDetailsWithAll`` subset).
        The ``listing`` container comes with published offers only (OAS ``ListingDetails``)."""
        listing = (
            {
                "listingId": self.listing_id,
                "listingStatus": self.listing_status,
                "soldQuantity": self.sold_quantity,
            }
            if self.published
            else None
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
        # Sales (POST /__sim/sales), where each API reports them: eBay Fulfillment orders,
        # Etsy shop receipts (as their APIs show them); Vinted sends ITEM_SOLD webhooks.
        self.ebay_orders: list[dict[str, Any]] = []
        self.etsy_receipts: list[dict[str, Any]] = []
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
        """Every listing per marketplace: its ids, state, ``live`` (buyers can see it) and
        ``draft`` (it exists but was never listed: an orphan if no job finishes it), and the
        content buyers see (``title``, ``price``, ``quantity``). Ended listings stay, not
        live: a withdrawn eBay offer, an inactive Etsy listing, a deleted Vinted item."""
        now = time.monotonic()
        return {
            "ebay": [self._ebay_view(o) for o in self.ebay_offers.values()],
            "etsy": [
                {
                    "listing_id": item.listing_id,
                    "state": item.state,
                    "live": item.state == "active",
                    "draft": item.state == "draft",
                    "skus": item.skus,
                    "sku": item.skus[0] if item.skus else None,
                    "title": item.fields.get("title"),
                    "price": money_text(item.fields.get("price")),
                    "quantity": int(item.fields.get("quantity") or 0),
                    "images": len(item.images),
                }
                for item in self.etsy_listings.values()
            ],
            "vinted": self.vinted.listings_view(now),
        }

    def _ebay_view(self, offer: EbayOffer) -> dict[str, Any]:
        item = self.ebay_inventory.get(offer.sku) or {}
        price = (offer.body.get("pricingSummary") or {}).get("price") or {}
        ended = not offer.published and offer.ended_listing_id is not None
        return {
            "sku": offer.sku,
            "offerId": offer.offer_id,
            "listingId": offer.listing_id or offer.ended_listing_id,
            "status": "PUBLISHED" if offer.published else "UNPUBLISHED",
            "listingStatus": offer.listing_status,
            "live": offer.buyable,
            "draft": not offer.published and not ended,
            "marketplaceId": offer.marketplace_id,
            "format": offer.format,
            "title": (item.get("product") or {}).get("title"),
            "price": money_text(price.get("value")),
            "quantity": offer.body.get("availableQuantity"),
            "sold": offer.sold_quantity,
        }


def money_text(amount: Any) -> str | None:
    """An amount as a decimal string with two places (``"45.00"``), None when unset."""
    if amount is None:
        return None
    return f"{Decimal(str(amount)):.2f}"
