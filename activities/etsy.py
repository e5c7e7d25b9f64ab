"""publish_to_etsy: draft -> SKU inventory -> images -> active, found again before re-creating."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from temporalio import activity

from activities.http_errors import MARKETPLACE_UNAVAILABLE, marketplace_error, send
from config.settings import Settings
from domain.listing import Listing
from domain.marketplaces import Marketplace, publish_activity_name
from domain.messages import PublishRequest, PublishResult

MARKETPLACE = Marketplace.ETSY
PAGE_SIZE = 100
WHO_MADE = "i_did"
WHEN_MADE = "made_to_order"


def draft_marker(idempotency_key: str) -> str:
    """A 20-character Etsy tag naming this (job, marketplace): how we know our own draft.

    Etsy has no idempotency key and a create that answered 500 may still have made the draft
    (open-api#162). Matching orphans by content could adopt another job's draft with the same
    title; a tag derived from the idempotency key cannot.
    """
    return "mj" + hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:18]


def draft_form(listing: Listing, settings: Settings, marker: str | None = None) -> dict[str, str]:
    """createDraftListing fields (form-urlencoded). Etsy prices are in the shop's currency."""
    form = {
        "quantity": str(listing.quantity),
        "title": listing.title,
        "description": listing.description,
        "price": listing.price.amount,
        "who_made": WHO_MADE,
        "when_made": WHEN_MADE,
        "taxonomy_id": str(settings.etsy_taxonomy_id),
        "shipping_profile_id": str(settings.etsy_shipping_profile_id),
        "type": "physical",
    }
    if marker:
        form["tags"] = marker
    return form


def inventory_body(listing: Listing) -> dict[str, Any]:
    """updateListingInventory: one product carrying our SKU (Etsy's only SKU field)."""
    return {
        "products": [
            {
                "sku": listing.sku,
                "property_values": [],
                "offerings": [
                    {
                        "price": float(listing.price.decimal_amount),
                        "quantity": listing.quantity,
                        "is_enabled": True,
                    }
                ],
            }
        ]
    }


def is_orphan_of(candidate: dict[str, Any], marker: str) -> bool:
    """A draft with no SKU yet carrying our marker tag: what a create that failed after
    writing (Etsy open-api#162) leaves behind."""
    return (
        candidate.get("state") == "draft"
        and not candidate.get("skus")
        and marker in (candidate.get("tags") or [])
    )


class EtsyActivities:
    """Etsy Open API v3 calls; one instance (and HTTP client) per worker."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self.base_url = settings.base_url(MARKETPLACE)
        self.shop = f"/shops/{settings.etsy_shop_id}"

    @activity.defn(name=publish_activity_name(MARKETPLACE))
    async def publish_to_etsy(self, request: PublishRequest) -> PublishResult:
        """Resume from the heartbeated listing_id, else find ours by SKU (or an orphan draft),
        else create; then finish the steps the listing still lacks."""
        listing = request.listing
        marker = draft_marker(request.idempotency_key)
        current = await self._resume() or await self._find_existing(listing, marker)
        reused = current is not None
        if current is not None and current.get("state") == "active":
            return self._result(current, reused=True)
        if current is None:
            current = await self._create_draft(listing, marker)
        listing_id = int(current["listing_id"])
        self._checkpoint(listing_id, "inventory")

        if listing.sku not in (current.get("skus") or []):
            await self._call(
                "update_inventory",
                "PUT",
                f"/listings/{listing_id}/inventory",
                json=inventory_body(listing),
            )
        have = (
            len(current["images"]) if "images" in current else await self._image_count(listing_id)
        )
        for rank, url in enumerate(listing.images[have:], start=have + 1):
            self._checkpoint(listing_id, f"image {rank}")
            await self._call(
                "upload_image",
                "POST",
                f"{self.shop}/listings/{listing_id}/images",
                data={"image_url": url, "rank": str(rank)},
            )
        self._checkpoint(listing_id, "activate")
        response = await self._call(
            "activate", "PATCH", f"{self.shop}/listings/{listing_id}", data={"state": "active"}
        )
        activity.logger.info("etsy sku=%s active as %s", listing.sku, listing_id)
        return self._result(response.json(), reused=reused)

    def _checkpoint(self, listing_id: int, step: str) -> None:
        """Heartbeat with the listing_id, so a retry resumes this listing instead of a new one."""
        activity.heartbeat({"listing_id": listing_id, "step": step})

    async def _resume(self) -> dict[str, Any] | None:
        details = activity.info().heartbeat_details
        saved = details[0] if details and isinstance(details[0], dict) else {}
        listing_id = saved.get("listing_id")
        activity.heartbeat(saved or {"step": "lookup"})
        if listing_id is None:
            return None
        response = await self._call(
            "get_listing",
            "GET",
            f"/listings/{int(listing_id)}",
            params={"includes": "Images"},
            expected=(404,),
        )
        if response.status_code == 404:
            activity.logger.warning("etsy listing %s from the last attempt is gone", listing_id)
            return None
        found: dict[str, Any] = response.json()
        return found

    async def _find_existing(self, listing: Listing, marker: str) -> dict[str, Any] | None:
        """Ours: the listing with our SKU (active first), else an orphan draft with our marker.

        Any other orphan draft with our marker (left by an attempt that ran on after its
        timeout) is deleted, so no orphan drafts remain.
        """
        by_sku: list[dict[str, Any]] = []
        orphans: list[dict[str, Any]] = []
        for state in ("active", "draft"):
            offset = 0
            while True:
                activity.heartbeat({"step": f"lookup {state} {offset}"})
                response = await self._call(
                    "list_listings",
                    "GET",
                    f"{self.shop}/listings",
                    params={"state": state, "limit": str(PAGE_SIZE), "offset": str(offset)},
                )
                page = response.json()
                results: list[dict[str, Any]] = page.get("results") or []
                for candidate in results:
                    if listing.sku in (candidate.get("skus") or []):
                        by_sku.append(candidate)
                    elif is_orphan_of(candidate, marker):
                        orphans.append(candidate)
                offset += len(results)
                if not results or offset >= int(page.get("count", 0)):
                    break
        ours = by_sku[0] if by_sku else (orphans.pop(0) if orphans else None)
        if ours is not None and not by_sku:
            activity.logger.info("etsy adopting orphan draft %s", ours["listing_id"])
        for extra in orphans:
            activity.logger.info("etsy deleting orphan draft %s", extra["listing_id"])
            await self._call(
                "delete_listing", "DELETE", f"/listings/{int(extra['listing_id'])}", expected=(404,)
            )
        return ours

    async def _create_draft(self, listing: Listing, marker: str) -> dict[str, Any]:
        response = await self._call(
            "create_draft",
            "POST",
            f"{self.shop}/listings",
            data=draft_form(listing, self.settings, marker),
        )
        created: dict[str, Any] = response.json()
        if "listing_id" not in created:
            raise marketplace_error(
                MARKETPLACE, "create_draft", MARKETPLACE_UNAVAILABLE, "no listing_id in answer"
            )
        # Saved at once: a retry from here on must never create a second draft.
        self._checkpoint(int(created["listing_id"]), "created")
        return {**created, "images": []}

    async def _image_count(self, listing_id: int) -> int:
        response = await self._call(
            "get_listing", "GET", f"/listings/{listing_id}", params={"includes": "Images"}
        )
        return len(response.json().get("images") or [])

    async def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        expected: tuple[int, ...] = (),
    ) -> httpx.Response:
        headers = {
            "x-api-key": self.settings.etsy_api_key.get_secret_value(),
            "Authorization": f"Bearer {self.settings.etsy_access_token.get_secret_value()}",
            "Accept": "application/json",
        }
        request = self.http.build_request(
            method, f"{self.base_url}{path}", json=json, data=data, params=params, headers=headers
        )
        return await send(
            self.http, request, marketplace=MARKETPLACE, operation=operation, expected=expected
        )

    def _result(self, current: dict[str, Any], *, reused: bool) -> PublishResult:
        listing_id = str(current["listing_id"])
        return PublishResult(
            marketplace=MARKETPLACE,
            listing_id=listing_id,
            listing_url=current.get("url") or f"https://www.etsy.com/listing/{listing_id}",
            attempt=activity.info().attempt,
            reused_existing=reused,
        )
