"""publish_to_ebay: inventory item -> offer -> publish, reconciling with existing offers first.

The listing is written to fit its category before the first write: the condition and item
specifics the category accepts (``activities.ebay_catalog``, cached per worker), in the
marketplace's language (``Content-Language``) and currency (checked at ``POST /start_job``).
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from temporalio import activity

from activities.ebay_catalog import CategoryRules, EbayCatalog
from activities.ebay_client import EbayClient, error_ids
from activities.ebay_oauth import Clock, EbayUserToken
from activities.http_errors import MARKETPLACE_UNAVAILABLE, error_for_response, marketplace_error
from config.settings import Settings
from domain.listing import Listing
from domain.marketplace_limits import EBAY_SITES
from domain.marketplaces import Marketplace, publish_activity_name
from domain.messages import PublishRequest, PublishResult

MARKETPLACE = Marketplace.EBAY
FORMAT = "FIXED_PRICE"
OFFER_EXISTS = 25002


def inventory_item_body(
    listing: Listing, rules: CategoryRules, default_brand: str | None
) -> dict[str, Any]:
    """createOrReplaceInventoryItem payload with everything publishing needs, fitted to the
    category (raises a non-retryable error when the listing cannot fit it)."""
    condition = rules.condition_for(listing.condition)
    return {
        "availability": {"shipToLocationAvailability": {"quantity": listing.quantity}},
        **({"condition": condition} if condition else {}),
        "product": {
            "title": listing.title,
            "description": listing.description,
            "imageUrls": list(listing.images),
            "aspects": rules.item_aspects(listing, default_brand),
            **({"brand": listing.brand} if listing.brand else {}),
        },
    }


def offer_body(listing: Listing, settings: Settings) -> dict[str, Any]:
    """createOffer payload with the fields publishOffer checks."""
    return {
        "sku": listing.sku,
        "marketplaceId": settings.ebay_marketplace_id,
        "format": FORMAT,
        "availableQuantity": listing.quantity,
        "categoryId": settings.ebay_category_id,
        "listingDescription": listing.description,
        "listingDuration": "GTC",
        "listingPolicies": {
            "fulfillmentPolicyId": settings.ebay_fulfillment_policy_id,
            "paymentPolicyId": settings.ebay_payment_policy_id,
            "returnPolicyId": settings.ebay_return_policy_id,
        },
        "merchantLocationKey": settings.ebay_merchant_location_key,
        "pricingSummary": {
            "price": {"value": listing.price.amount, "currency": listing.price.currency}
        },
    }


def listing_url(marketplace_id: str, listing_id: str) -> str:
    site = EBAY_SITES.get(marketplace_id)
    return f"https://{site.host if site else 'www.ebay.com'}/itm/{listing_id}"


class EbayActivities:
    """eBay Sell Inventory calls; one instance (HTTP client, token, category cache) per worker."""

    def __init__(
        self, settings: Settings, http: httpx.AsyncClient, *, clock: Clock = time.monotonic
    ) -> None:
        self.settings = settings
        self.client = EbayClient(settings, http, EbayUserToken(settings, http, clock=clock))
        self.catalog = EbayCatalog(self.client)

    @activity.defn(name=publish_activity_name(MARKETPLACE))
    async def publish_to_ebay(self, request: PublishRequest) -> PublishResult:
        """Idempotent by SKU: reuse a published offer, reuse an unpublished one, else create."""
        listing = request.listing
        settings = self.settings
        activity.heartbeat({"step": "lookup"})
        offers = await self._offers(listing.sku)
        published = [o for o in offers if o.get("status") == "PUBLISHED"]
        if published:
            listing_id = str(published[0]["listing"]["listingId"])
            activity.logger.info("ebay sku=%s already published as %s", listing.sku, listing_id)
            return self._result(listing_id, reused=True)
        offer_id = str(offers[0]["offerId"]) if offers else None

        rules = await self.catalog.rules(settings.ebay_marketplace_id, settings.ebay_category_id)
        item = inventory_item_body(listing, rules, settings.ebay_brand_default())
        activity.heartbeat({"step": "inventory_item", "offer_id": offer_id})
        await self.client.call(
            "put_inventory_item", "PUT", f"/inventory_item/{listing.sku}", json=item
        )
        if offer_id is None:
            activity.heartbeat({"step": "create_offer"})
            offer_id = await self._create_offer(listing)

        activity.heartbeat({"step": "publish", "offer_id": offer_id})
        response = await self.client.call("publish_offer", "POST", f"/offer/{offer_id}/publish/")
        listing_id = response.json().get("listingId")
        if not listing_id:
            raise marketplace_error(
                MARKETPLACE, "publish_offer", MARKETPLACE_UNAVAILABLE, "no listingId in answer"
            )
        activity.logger.info("ebay sku=%s published as %s", listing.sku, listing_id)
        return self._result(str(listing_id), reused=False)

    async def _offers(self, sku: str) -> list[dict[str, Any]]:
        """Our offers for this SKU on the configured marketplace and format ([] when none).

        eBay documents no answer for a SKU without offers (the OAS lists a bare 404). Read as
        "none": 200 with no or an empty ``offers`` list, 404 with errorId 25713 (seen in
        practice, marketplaces.md), and any other 404 (e.g. 25702 when there is not even an
        inventory item, or no body). Reading "none" by mistake cannot duplicate anything:
        createOffer then answers 25002 with the existing offerId, which is reused.
        """
        response = await self.client.call(
            "get_offers",
            "GET",
            "/offer",
            params={"sku": sku, "marketplace_id": self.settings.ebay_marketplace_id},
            expected=(404,),
        )
        if response.status_code == 404:
            activity.logger.info(
                "ebay sku=%s has no offers (404 %s)", sku, [i for i, _ in error_ids(response)]
            )
            return []
        offers = (response.json() if response.content else {}).get("offers") or []
        return [
            o
            for o in offers
            if o.get("marketplaceId") == self.settings.ebay_marketplace_id
            and o.get("format", FORMAT) == FORMAT
        ]

    async def _create_offer(self, listing: Listing) -> str:
        response = await self.client.call(
            "create_offer",
            "POST",
            "/offer",
            json=offer_body(listing, self.settings),
            expected=(400,),
        )
        if response.is_success:
            return str(response.json()["offerId"])
        # 25002 is also eBay's generic "user error": only an offerId parameter makes it "exists".
        for error_id, params in error_ids(response):
            if error_id == OFFER_EXISTS and params.get("offerId"):
                activity.logger.info("ebay sku=%s offer exists, reusing it", listing.sku)
                return params["offerId"]
        raise error_for_response(MARKETPLACE, "create_offer", response)

    def _result(self, listing_id: str, *, reused: bool) -> PublishResult:
        return PublishResult(
            marketplace=MARKETPLACE,
            listing_id=listing_id,
            listing_url=listing_url(self.settings.ebay_marketplace_id, listing_id),
            attempt=activity.info().attempt,
            reused_existing=reused,
        )
