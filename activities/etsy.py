"""publish_to_etsy and withdraw_from_etsy: one shop listing per SKU, by its listing_id.

- Create (``current`` None): draft -> SKU inventory -> images -> active. Etsy has no
  idempotency key and a create that answered 500 may still have made the draft
  (open-api#162), so a retry resumes from the heartbeated listing_id or finds its listing by
  SKU or by its draft's marker tag. A first attempt creates at once: no shop paging.
- Revise (``current`` set): updateListing (PATCH) + updateListingInventory; when the images
  changed, they are replaced rank by rank (uploadListingImage with ``overwrite``) and the
  extra old ones deleted (getListingImages, deleteListingImage).
- Withdraw: a live listing is deactivated (``state=inactive``), a draft deleted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, Literal

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.etsy_client import EtsyClient, beat
from activities.etsy_forms import (
    Provenance,
    currency_problem,
    draft_form,
    draft_marker,
    inventory_body,
    is_orphan_of,
    revise_form,
)
from activities.http_errors import (
    MARKETPLACE_UNAVAILABLE,
    MARKETPLACE_VALIDATION_ERROR,
    marketplace_error,
)
from activities.images import FetchedImage, ImageFetcher, ImageRejected
from activities.recovery import earlier_attempt_may_have_written, last_heartbeat
from config.settings import Settings
from domain.listing import Listing
from domain.marketplace_errors import LISTING_GONE
from domain.marketplaces import Marketplace, publish_activity_name, withdraw_activity_name
from domain.messages import PublishRequest, PublishResult, WithdrawRequest, WithdrawResult

__all__ = ["EtsyActivities", "draft_form", "draft_marker", "inventory_body"]

MARKETPLACE = Marketplace.ETSY


class EtsyActivities:
    """Etsy Open API v3 calls; one instance (and HTTP client) per worker."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        """``http`` carries every request to Etsy (paced by its request budget); image
        downloads go through the ImageFetcher's own guarded client, never paced."""
        self.settings = settings
        self.client = EtsyClient(settings, http)
        self.images = ImageFetcher(settings)
        self.shop = self.client.shop
        self._call = self.client.call

    @activity.defn(name=publish_activity_name(MARKETPLACE))
    async def publish_to_etsy(self, request: PublishRequest) -> PublishResult:
        """Refuse what Etsy would refuse; then revise the listing ``current`` names, or
        create one."""
        self._refuse_before_any_call(request.listing)
        if request.current is not None:
            return await self._revise(request, int(request.current.listing_id))
        return await self._create(request)

    @activity.defn(name=withdraw_activity_name(MARKETPLACE))
    async def withdraw_from_etsy(self, request: WithdrawRequest) -> WithdrawResult:
        """End the listing ``current`` names; without ``current``, every listing carrying
        this job's draft marker (a create whose answer was lost). Idempotent."""
        if request.current is not None:
            listing_id = int(request.current.listing_id)
            found = await self.client.get_listing(listing_id)
            ended = await self._end(found) if found else False
            ended = ended or last_heartbeat("ending") == listing_id
            return self._withdrawn([listing_id] if ended else [])
        marker = draft_marker(request.idempotency_key)
        ours = [c async for c in self.client.shop_listings() if marker in (c.get("tags") or [])]
        ended_ids = [int(c["listing_id"]) for c in ours if await self._end(c)]
        return self._withdrawn(ended_ids)

    # -- create ------------------------------------------------------------------------------

    async def _create(self, request: PublishRequest) -> PublishResult:
        """Resume from the heartbeated listing_id, else (on a retry) find ours by SKU or an
        orphan draft; fetch the images still missing; then create the draft if there is none
        and finish the steps the listing still lacks."""
        listing = request.listing
        marker = draft_marker(request.idempotency_key)
        current = await self._resume()
        if current is None and earlier_attempt_may_have_written(request.recover):
            current = await self._find_existing(listing, marker)
        reused = current is not None
        if current is not None and current.get("state") == "active":
            return self._result(current, reused=True)
        have = 0 if current is None else await self._image_count(current)
        known = None if current is None else int(current["listing_id"])
        async with self._fetched(listing.images[have:], known) as images:
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
            for rank, image in enumerate(images, start=have + 1):
                self._checkpoint(listing_id, f"image {rank}")
                await self.client.upload_image(listing_id, rank, image)
        self._checkpoint(listing_id, "activate")
        response = await self._call(
            "activate", "PATCH", f"{self.shop}/listings/{listing_id}", data={"state": "active"}
        )
        activity.logger.info("etsy sku=%s active as %s", listing.sku, listing_id)
        return self._result(response.json(), reused=reused)

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
        return created

    async def _resume(self) -> dict[str, Any] | None:
        details = activity.info().heartbeat_details
        saved = details[0] if details and isinstance(details[0], dict) else {}
        listing_id = saved.get("listing_id")
        beat(saved or {"step": "lookup"})
        if listing_id is None:
            return None
        found = await self.client.get_listing(int(listing_id))
        if found is None:
            activity.logger.warning("etsy listing %s from the last attempt is gone", listing_id)
        return found

    async def _find_existing(self, listing: Listing, marker: str) -> dict[str, Any] | None:
        """Ours: the listing with our SKU (active first), else an orphan draft with our marker.

        Any other orphan draft with our marker (left by an attempt that ran on after its
        timeout) is deleted, so no orphan drafts remain.
        """
        by_sku: list[dict[str, Any]] = []
        orphans: list[dict[str, Any]] = []
        async for candidate in self.client.shop_listings():
            if listing.sku in (candidate.get("skus") or []):
                by_sku.append(candidate)
            elif is_orphan_of(candidate, marker):
                orphans.append(candidate)
        ours = by_sku[0] if by_sku else (orphans.pop(0) if orphans else None)
        if ours is not None and not by_sku:
            activity.logger.info("etsy adopting orphan draft %s", ours["listing_id"])
        for extra in orphans:
            activity.logger.info("etsy deleting orphan draft %s", extra["listing_id"])
            await self.client.delete_listing(int(extra["listing_id"]))
        return ours

    # -- revise ------------------------------------------------------------------------------

    async def _revise(self, request: PublishRequest, listing_id: int) -> PublishResult:
        """Content by updateListing, price, quantity and SKU by updateListingInventory, the
        images only when they changed. A listing that is gone (404) or not active any more
        (deactivated, sold out, expired: Etsy still updates it, but nobody sees it) is
        ``ListingGone``: the entity creates it again."""
        listing = request.listing
        urls = list(listing.images) if request.images_changed else []
        async with self._fetched(urls, listing_id) as images:
            self._checkpoint(listing_id, "revise")
            response = await self._call(
                "update_listing",
                "PATCH",
                f"{self.shop}/listings/{listing_id}",
                data=revise_form(listing, self.settings),
                expected=(404,),
            )
            revised: dict[str, Any] = response.json() if response.is_success else {}
            if revised.get("state") != "active":
                raise _gone(listing_id, revised.get("state") or "not found")
            self._checkpoint(listing_id, "inventory")
            response = await self._call(
                "update_inventory",
                "PUT",
                f"/listings/{listing_id}/inventory",
                json=inventory_body(listing),
                expected=(404,),
            )
            if response.status_code == 404:
                raise _gone(listing_id, "not found")
            if request.images_changed:
                await self._replace_images(listing_id, images)
        activity.logger.info("etsy sku=%s listing %s revised", listing.sku, listing_id)
        return self._result(revised, reused=True, action="revised")

    async def _replace_images(self, listing_id: int, images: list[FetchedImage]) -> None:
        """Each new image overwrites the one at its rank, then the old ones past the last
        rank are deleted: the listing never has more than 10 images (Etsy's limit) nor none
        (an active listing needs one). Repeating it after a lost answer gives the same."""
        response = await self._call("get_images", "GET", f"/listings/{listing_id}/images")
        old = [i for i in response.json().get("results") or [] if isinstance(i, dict)]
        for rank, image in enumerate(images, start=1):
            self._checkpoint(listing_id, f"image {rank}")
            await self.client.upload_image(listing_id, rank, image, overwrite=True)
        for extra in old:
            if int(extra.get("rank") or 0) > len(images):
                self._checkpoint(listing_id, f"delete image {extra['listing_image_id']}")
                await self._call(
                    "delete_image",
                    "DELETE",
                    f"{self.shop}/listings/{listing_id}/images/{int(extra['listing_image_id'])}",
                    expected=(404,),
                )

    # -- withdraw ----------------------------------------------------------------------------

    async def _end(self, listing: dict[str, Any]) -> bool:
        """Deactivate an active listing, delete a draft; False when it is neither (inactive,
        sold out, expired: nothing live)."""
        listing_id = int(listing["listing_id"])
        state = listing.get("state")
        if state not in ("active", "draft"):
            return False
        beat({"step": f"end {state}", "ending": listing_id})
        if state == "draft":
            return await self.client.delete_listing(listing_id)
        response = await self._call(
            "deactivate",
            "PATCH",
            f"{self.shop}/listings/{listing_id}",
            data={"state": "inactive"},
            expected=(404,),
        )
        activity.logger.info("etsy listing %s deactivated: %s", listing_id, response.is_success)
        return response.is_success

    def _withdrawn(self, ended: list[int]) -> WithdrawResult:
        return WithdrawResult(
            marketplace=MARKETPLACE,
            withdrawn=bool(ended),
            listing_id=str(ended[0]) if ended else None,
        )

    # -- shared ------------------------------------------------------------------------------

    def _refuse_before_any_call(self, listing: Listing) -> None:
        """What Etsy would refuse anyway, refused before anything is written (non-retryable)."""
        problem = currency_problem(listing, self.settings)
        problem = problem or Provenance.of(listing, self.settings).problem()
        if problem:
            raise marketplace_error(
                MARKETPLACE, "check_listing", MARKETPLACE_VALIDATION_ERROR, problem
            )

    @asynccontextmanager
    async def _fetched(
        self, urls: list[str], listing_id: int | None
    ) -> AsyncIterator[list[FetchedImage]]:
        """The images still to upload, downloaded before the next write; one that cannot be
        fetched or is not an image fails the listing without retry, naming its URL."""

        def progress() -> None:
            if listing_id is None:
                beat({"step": "fetch images"})
            else:
                self._checkpoint(listing_id, "fetch images")

        async with AsyncExitStack() as stack:
            try:
                images = await stack.enter_async_context(self.images.fetch_all(urls, progress))
            except ImageRejected as err:
                raise marketplace_error(
                    MARKETPLACE, "fetch_image", MARKETPLACE_VALIDATION_ERROR, str(err)
                ) from None
            yield images

    def _checkpoint(self, listing_id: int, step: str) -> None:
        """Heartbeat with the listing_id, so a retry resumes this listing instead of a new one."""
        beat({"listing_id": listing_id, "step": step})

    async def _image_count(self, current: dict[str, Any]) -> int:
        """How many images the listing has (getListingsByShop results do not carry them)."""
        if "images" in current:
            return len(current["images"] or [])
        found = await self.client.get_listing(int(current["listing_id"]))
        return len((found or {}).get("images") or [])

    def _result(
        self,
        current: dict[str, Any],
        *,
        reused: bool,
        action: Literal["created", "revised"] = "created",
    ) -> PublishResult:
        listing_id = str(current["listing_id"])
        return PublishResult(
            marketplace=MARKETPLACE,
            listing_id=listing_id,
            listing_url=current.get("url") or f"https://www.etsy.com/listing/{listing_id}",
            attempt=activity.info().attempt,
            reused_existing=reused,
            action=action,
        )


def _gone(listing_id: int, state: str) -> ApplicationError:
    return marketplace_error(
        MARKETPLACE,
        "revise",
        LISTING_GONE,
        f"listing {listing_id} is no longer live on Etsy (state: {state})",
    )
