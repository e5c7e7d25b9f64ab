"""publish_to_ebay: inventory item -> offer -> publish, reconciling with existing offers first."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx
from temporalio import activity

from activities.http_errors import (
    MARKETPLACE_AUTH_ERROR,
    MARKETPLACE_UNAVAILABLE,
    error_for_response,
    marketplace_error,
    send,
)
from config.settings import Settings
from domain.listing import Condition, Listing
from domain.marketplaces import Marketplace, publish_activity_name
from domain.messages import PublishRequest, PublishResult

MARKETPLACE = Marketplace.EBAY
FORMAT = "FIXED_PRICE"
OFFER_EXISTS = 25002
NO_OFFER = 25713
INVALID_TOKEN = 1001

CONDITIONS: dict[Condition, str] = {
    Condition.NEW: "NEW",
    Condition.LIKE_NEW: "LIKE_NEW",
    Condition.GOOD: "USED_GOOD",
    Condition.FAIR: "USED_ACCEPTABLE",
}
"""Our condition -> eBay ``ConditionEnum``."""

_SITES = {
    "EBAY_US": "www.ebay.com",
    "EBAY_GB": "www.ebay.co.uk",
    "EBAY_DE": "www.ebay.de",
    "EBAY_FR": "www.ebay.fr",
    "EBAY_IT": "www.ebay.it",
    "EBAY_ES": "www.ebay.es",
    "EBAY_AU": "www.ebay.com.au",
    "EBAY_CA": "www.ebay.ca",
}


def inventory_item_body(listing: Listing) -> dict[str, Any]:
    """createOrReplaceInventoryItem payload with everything publishing needs."""
    aspects = {
        name: [value]
        for name, value in (("Brand", listing.brand), ("Size", listing.size))
        if value is not None
    }
    return {
        "availability": {"shipToLocationAvailability": {"quantity": listing.quantity}},
        "condition": CONDITIONS[listing.condition],
        "product": {
            "title": listing.title,
            "description": listing.description,
            "imageUrls": list(listing.images),
            "aspects": aspects,
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
    return f"https://{_SITES.get(marketplace_id, 'www.ebay.com')}/itm/{listing_id}"


def _error_ids(response: httpx.Response) -> list[tuple[int | None, dict[str, str]]]:
    try:
        errors = response.json().get("errors", [])
    except (ValueError, AttributeError):
        return []
    found = []
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, dict):
            params = {
                str(p.get("name")): str(p.get("value"))
                for p in error.get("parameters", []) or []
                if isinstance(p, dict)
            }
            found.append((error.get("errorId"), params))
    return found


def _basic_auth(settings: Settings) -> str:
    credentials = f"{settings.ebay_client_id}:{settings.ebay_client_secret.get_secret_value()}"
    return "Basic " + base64.b64encode(credentials.encode("utf-8")).decode("ascii")


class EbayActivities:
    """eBay Sell Inventory calls; one instance (and HTTP client) per worker."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self.base_url = settings.base_url(MARKETPLACE)
        # The user token in use; replaced by a refresh, shared by every activity of the worker.
        self._token = settings.ebay_token.get_secret_value()
        self._token_lock = asyncio.Lock()

    @activity.defn(name=publish_activity_name(MARKETPLACE))
    async def publish_to_ebay(self, request: PublishRequest) -> PublishResult:
        """Idempotent by SKU: reuse a published offer, reuse an unpublished one, else create."""
        listing = request.listing
        activity.heartbeat({"step": "lookup"})
        offers = await self._offers(listing.sku)
        published = [o for o in offers if o.get("status") == "PUBLISHED"]
        if published:
            listing_id = str(published[0]["listing"]["listingId"])
            activity.logger.info("ebay sku=%s already published as %s", listing.sku, listing_id)
            return self._result(listing_id, reused=True)
        offer_id = str(offers[0]["offerId"]) if offers else None

        activity.heartbeat({"step": "inventory_item", "offer_id": offer_id})
        await self._call(
            "put_inventory_item",
            "PUT",
            f"/inventory_item/{listing.sku}",
            json=inventory_item_body(listing),
        )
        if offer_id is None:
            activity.heartbeat({"step": "create_offer"})
            offer_id = await self._create_offer(listing)

        activity.heartbeat({"step": "publish", "offer_id": offer_id})
        response = await self._call("publish_offer", "POST", f"/offer/{offer_id}/publish/")
        listing_id = response.json().get("listingId")
        if not listing_id:
            raise marketplace_error(
                MARKETPLACE, "publish_offer", MARKETPLACE_UNAVAILABLE, "no listingId in answer"
            )
        activity.logger.info("ebay sku=%s published as %s", listing.sku, listing_id)
        return self._result(str(listing_id), reused=False)

    async def _offers(self, sku: str) -> list[dict[str, Any]]:
        """Our offers for this SKU on the configured marketplace and format ([] when none)."""
        response = await self._call(
            "get_offers",
            "GET",
            "/offer",
            params={"sku": sku, "marketplace_id": self.settings.ebay_marketplace_id},
            expected=(404,),
        )
        if response.status_code == 404:
            if any(error_id == NO_OFFER for error_id, _ in _error_ids(response)):
                return []
            raise error_for_response(MARKETPLACE, "get_offers", response)
        offers = response.json().get("offers") or []
        return [
            o
            for o in offers
            if o.get("marketplaceId") == self.settings.ebay_marketplace_id
            and o.get("format", FORMAT) == FORMAT
        ]

    async def _create_offer(self, listing: Listing) -> str:
        response = await self._call(
            "create_offer",
            "POST",
            "/offer",
            json=offer_body(listing, self.settings),
            expected=(400,),
        )
        if response.is_success:
            return str(response.json()["offerId"])
        # 25002 is also eBay's generic "user error": only an offerId parameter makes it "exists".
        for error_id, params in _error_ids(response):
            if error_id == OFFER_EXISTS and params.get("offerId"):
                activity.logger.info("ebay sku=%s offer exists, reusing it", listing.sku)
                return params["offerId"]
        raise error_for_response(MARKETPLACE, "create_offer", response)

    async def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        expected: tuple[int, ...] = (),
    ) -> httpx.Response:
        for refreshed in (False, True):
            token = self._token
            headers = {
                "Authorization": f"Bearer {token}",
                "Content-Language": self.settings.ebay_content_language,
                "Accept": "application/json",
            }
            request = self.http.build_request(
                method, f"{self.base_url}{path}", json=json, params=params, headers=headers
            )
            response = await send(
                self.http,
                request,
                marketplace=MARKETPLACE,
                operation=operation,
                expected=(*expected, 401),
            )
            expired = response.status_code == 401 and any(
                error_id == INVALID_TOKEN for error_id, _ in _error_ids(response)
            )
            if not expired or refreshed or self.settings.ebay_refresh_token is None:
                break
            # 401 errorId 1001: refresh the user token once, then try the call once more.
            await self._refresh_token(token)
        if response.status_code == 401 and 401 not in expected:
            raise error_for_response(MARKETPLACE, operation, response)
        return response

    async def _refresh_token(self, stale: str) -> None:
        """Mint a new user token with the refresh_token grant (one refresh for all callers)."""
        async with self._token_lock:
            if self._token != stale:
                return  # another activity refreshed it meanwhile
            refresh = self.settings.ebay_refresh_token
            assert refresh is not None
            activity.heartbeat({"step": "refresh_token"})
            request = self.http.build_request(
                "POST",
                self.settings.ebay_token_url(),
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": refresh.get_secret_value(),
                    "scope": self.settings.ebay_oauth_scope,
                },
                headers={"Authorization": _basic_auth(self.settings)},
            )
            response = await send(
                self.http,
                request,
                marketplace=MARKETPLACE,
                operation="refresh_token",
                expected=(400,),
            )
            if response.status_code == 400:
                # invalid_grant: the refresh token itself is revoked; no retry can fix that.
                raise marketplace_error(
                    MARKETPLACE,
                    "refresh_token",
                    MARKETPLACE_AUTH_ERROR,
                    str(response.json().get("error", "invalid_grant")),
                    status=400,
                )
            self._token = str(response.json()["access_token"])
            activity.logger.info("ebay user token refreshed")

    def _result(self, listing_id: str, *, reused: bool) -> PublishResult:
        return PublishResult(
            marketplace=MARKETPLACE,
            listing_id=listing_id,
            listing_url=listing_url(self.settings.ebay_marketplace_id, listing_id),
            attempt=activity.info().attempt,
            reused_existing=reused,
        )
