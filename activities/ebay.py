"""publish_to_ebay and withdraw_from_ebay: the Sell Inventory offer of one SKU, by its ids.

- Create (``current`` None): inventory item -> offer -> publish. No lookup on a first attempt:
  createOffer answers 400 errorId 25002 with the offerId when the SKU already has an offer
  (ours from a lost answer, or one made before the listing entity existed), so getOffers would
  only cost a request. A retry (or ``recover``) looks the SKU's offers up first.
- Revise (``current`` set): getOffer by id (is it still live?), createOrReplaceInventoryItem,
  updateOffer with the whole offer. A published offer is revised in place: no publish.
- Withdraw: withdrawOffer ends the listing and keeps the offer (unpublished); the offers a
  lost create left (no ``current``) are withdrawn and deleted.

The listing is written to fit its category before the first write: the condition and item
specifics the category accepts (``activities.ebay_catalog``, cached per worker), in the
marketplace's language (``Content-Language``) and currency (checked at ``POST /start_job``).
"""

from __future__ import annotations

import time
from typing import Any, Literal

import httpx
from temporalio import activity

from activities.ebay_bodies import (
    FORMAT,
    inventory_item_body,
    listing_url,
    live_listing_id,
    offer_body,
    offer_details,
)
from activities.ebay_catalog import EbayCatalog
from activities.ebay_client import EbayClient, error_ids, offer_gone
from activities.ebay_oauth import Clock, EbayUserToken
from activities.http_errors import MARKETPLACE_UNAVAILABLE, error_for_response, marketplace_error
from activities.recovery import earlier_attempt_may_have_written, last_heartbeat
from config.settings import Settings
from domain.listing import Listing
from domain.marketplace_errors import LISTING_GONE
from domain.marketplaces import Marketplace, publish_activity_name, withdraw_activity_name
from domain.messages import (
    MarketplaceRef,
    PublishRequest,
    PublishResult,
    WithdrawRequest,
    WithdrawResult,
)

__all__ = ["EbayActivities", "inventory_item_body", "offer_body"]

MARKETPLACE = Marketplace.EBAY
OFFER_EXISTS = 25002


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
        """Create the SKU's listing, or revise the live one ``request.current`` names."""
        if request.current is not None:
            return await self._revise(request)
        return await self._create(request)

    @activity.defn(name=withdraw_activity_name(MARKETPLACE))
    async def withdraw_from_ebay(self, request: WithdrawRequest) -> WithdrawResult:
        """End the listing: withdrawOffer on the offer ``current`` names (the offer stays,
        unpublished: a later create relists it through 25002). Without ``current``, what a
        create whose answer was lost left for the SKU: a published offer is withdrawn, and
        every offer is then deleted, so neither a listing nor an orphan offer remains.
        Nothing live: ``withdrawn`` False."""
        if request.current is not None:
            offer_id = await self._offer_id(request.sku, request.current)
            return await self._withdraw(offer_id, request.current.listing_id)
        withdrawn = False
        listing_ids: list[str] = []
        for offer in await self._offers(request.sku):
            offer_id = str(offer["offerId"])
            if live_listing_id(offer):
                result = await self._withdraw(offer_id, None)
                listing_ids += [result.listing_id] if result.listing_id else []
            if await self._delete_offer(offer_id):
                activity.logger.info("ebay sku=%s offer %s deleted", request.sku, offer_id)
                withdrawn = True
        return WithdrawResult(
            marketplace=MARKETPLACE,
            withdrawn=withdrawn or bool(listing_ids),
            listing_id=listing_ids[0] if listing_ids else None,
        )

    # -- create ------------------------------------------------------------------------------

    async def _create(self, request: PublishRequest) -> PublishResult:
        listing = request.listing
        offer_id: str | None = None
        live_id: str | None = None
        if earlier_attempt_may_have_written(request.recover):
            activity.heartbeat({"step": "lookup"})
            offers = await self._offers(listing.sku)
            published = [o for o in offers if live_listing_id(o)]
            found = published[0] if published else (offers[0] if offers else None)
            if found is not None:
                offer_id, live_id = str(found["offerId"]), live_listing_id(found)
        await self._put_inventory_item(request, offer_id)
        reused = offer_id is not None
        if offer_id is None:
            activity.heartbeat({"step": "create_offer"})
            offer_id, reused = await self._create_offer(listing)
            if reused:  # 25002: is the existing offer live already?
                live_id = live_listing_id(await self._offer(offer_id))
        if reused:
            # Its content may be another job's (or a listing from before the entity): ours now.
            await self._update_offer(offer_id, listing)
        if live_id is not None:
            activity.logger.info("ebay sku=%s already published as %s", listing.sku, live_id)
            return self._result(live_id, offer_id, reused=True)

        activity.heartbeat({"step": "publish", "offer_id": offer_id})
        response = await self.client.call("publish_offer", "POST", f"/offer/{offer_id}/publish/")
        listing_id = response.json().get("listingId")
        if not listing_id:
            raise marketplace_error(
                MARKETPLACE, "publish_offer", MARKETPLACE_UNAVAILABLE, "no listingId in answer"
            )
        activity.logger.info("ebay sku=%s published as %s", listing.sku, listing_id)
        return self._result(str(listing_id), offer_id, reused=reused)

    async def _create_offer(self, listing: Listing) -> tuple[str, bool]:
        """(offerId, existed): a new offer, or the one 25002 names."""
        response = await self.client.call(
            "create_offer",
            "POST",
            "/offer",
            json=offer_body(listing, self.settings),
            expected=(400,),
        )
        if response.is_success:
            return str(response.json()["offerId"]), False
        # 25002 is also eBay's generic "user error": only an offerId parameter makes it "exists".
        for error_id, params in error_ids(response):
            if error_id == OFFER_EXISTS and params.get("offerId"):
                activity.logger.info("ebay sku=%s offer exists, reusing it", listing.sku)
                return params["offerId"], True
        raise error_for_response(MARKETPLACE, "create_offer", response)

    # -- revise ------------------------------------------------------------------------------

    async def _revise(self, request: PublishRequest) -> PublishResult:
        """getOffer tells whether the listing is still live (updateOffer on a withdrawn,
        unpublished offer succeeds without any listing to show it); then the two writes."""
        listing, current = request.listing, request.current
        assert current is not None
        activity.heartbeat({"step": "revise", "listing_id": current.listing_id})
        offer_id = await self._offer_id(listing.sku, current)
        live_id = live_listing_id(await self._offer(offer_id)) if offer_id else None
        if offer_id is None or live_id is None:
            raise marketplace_error(
                MARKETPLACE,
                "revise",
                LISTING_GONE,
                f"listing {current.listing_id} (offer {offer_id}) is no longer live on eBay",
            )
        await self._put_inventory_item(request, offer_id)
        await self._update_offer(offer_id, listing)
        activity.logger.info("ebay sku=%s listing %s revised", listing.sku, live_id)
        return self._result(live_id, offer_id, reused=True, action="revised")

    async def _put_inventory_item(self, request: PublishRequest, offer_id: str | None) -> None:
        """createOrReplaceInventoryItem (idempotent); on a published offer it revises the live
        listing's title, description, images, condition and item specifics."""
        settings = self.settings
        listing = request.listing
        rules = await self.catalog.rules(settings.ebay_marketplace_id, settings.ebay_category_id)
        item = inventory_item_body(
            listing, rules, settings.ebay_brand_default(), request.extras.ebay_aspects
        )
        activity.heartbeat({"step": "inventory_item", "offer_id": offer_id})
        await self.client.call(
            "put_inventory_item", "PUT", f"/inventory_item/{listing.sku}", json=item
        )

    async def _update_offer(self, offer_id: str, listing: Listing) -> None:
        """updateOffer: the whole offer (price, quantity, description, policies)."""
        activity.heartbeat({"step": "update_offer", "offer_id": offer_id})
        await self.client.call(
            "update_offer",
            "PUT",
            f"/offer/{offer_id}",
            json=offer_details(listing, self.settings),
        )

    # -- withdraw ----------------------------------------------------------------------------

    async def _withdraw(self, offer_id: str | None, listing_id: str | None) -> WithdrawResult:
        """withdrawOffer if the offer is live; idempotent. A retry after a withdraw whose
        answer was lost (heartbeat ``withdrawing``) still reports it as withdrawn."""
        offer = await self._offer(offer_id) if offer_id else None
        live_id = live_listing_id(offer)
        if live_id is None:
            sent = offer_id is not None and last_heartbeat("withdrawing") == offer_id
            return WithdrawResult(
                marketplace=MARKETPLACE, withdrawn=sent, listing_id=listing_id if sent else None
            )
        activity.heartbeat({"step": "withdraw", "withdrawing": offer_id})
        response = await self.client.call(
            "withdraw_offer", "POST", f"/offer/{offer_id}/withdraw", expected=(400, 404)
        )
        if not response.is_success and not offer_gone(response):
            raise error_for_response(MARKETPLACE, "withdraw_offer", response)
        withdrawn = response.is_success
        activity.logger.info("ebay offer %s withdrawn=%s (%s)", offer_id, withdrawn, live_id)
        return WithdrawResult(
            marketplace=MARKETPLACE, withdrawn=withdrawn, listing_id=live_id if withdrawn else None
        )

    async def _delete_offer(self, offer_id: str) -> bool:
        """deleteOffer of an unpublished offer; False when it is gone already."""
        activity.heartbeat({"step": "delete_offer", "offer_id": offer_id})
        response = await self.client.call(
            "delete_offer", "DELETE", f"/offer/{offer_id}", expected=(400, 404)
        )
        if not response.is_success and not offer_gone(response):
            raise error_for_response(MARKETPLACE, "delete_offer", response)
        return response.is_success

    # -- reads -------------------------------------------------------------------------------

    async def _offer(self, offer_id: str) -> dict[str, Any] | None:
        """getOffer by id; None when eBay no longer has it (400 25713 as the OAS lists it, or
        404)."""
        response = await self.client.call(
            "get_offer", "GET", f"/offer/{offer_id}", expected=(400, 404)
        )
        if response.is_success:
            found: dict[str, Any] = response.json()
            return found
        if offer_gone(response):
            return None
        raise error_for_response(MARKETPLACE, "get_offer", response)

    async def _offer_id(self, sku: str, current: MarketplaceRef) -> str | None:
        """The offer behind ``current``: its ``offer_id``, else (a listing known from before
        offer ids were kept) the SKU's offer whose listing it is."""
        if current.offer_id:
            return current.offer_id
        for offer in await self._offers(sku):
            if str((offer.get("listing") or {}).get("listingId")) == current.listing_id:
                return str(offer["offerId"])
        return None

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

    def _result(
        self,
        listing_id: str,
        offer_id: str,
        *,
        reused: bool,
        action: Literal["created", "revised"] = "created",
    ) -> PublishResult:
        return PublishResult(
            marketplace=MARKETPLACE,
            listing_id=listing_id,
            listing_url=listing_url(self.settings.ebay_marketplace_id, listing_id),
            attempt=activity.info().attempt,
            reused_existing=reused,
            action=action,
            offer_id=offer_id,
        )
