"""publish_to_etsy: draft -> SKU inventory -> images -> active, found again before re-creating."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from typing import IO, Any

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.etsy_forms import (
    Provenance,
    currency_problem,
    draft_form,
    draft_marker,
    inventory_body,
    is_orphan_of,
)
from activities.etsy_oauth import EtsyTokens
from activities.http_errors import (
    MARKETPLACE_AUTH_ERROR,
    MARKETPLACE_UNAVAILABLE,
    MARKETPLACE_VALIDATION_ERROR,
    RATE_LIMITED,
    marketplace_error,
    send,
)
from activities.images import FetchedImage, ImageFetcher, ImageRejected
from config.settings import Settings
from domain.listing import Listing
from domain.marketplaces import Marketplace, publish_activity_name
from domain.messages import PublishRequest, PublishResult

__all__ = ["EtsyActivities", "draft_form", "draft_marker", "inventory_body"]

MARKETPLACE = Marketplace.ETSY
PAGE_SIZE = 100
PACED_RETRIES = 10
PACED_MAX_WAIT = 2.0
"""A 429 asking for at most this many seconds (Etsy's per-second limit: etsy/open-api#198)
is waited out in place, up to PACED_RETRIES times: a rate-limited request was not processed,
so sending it again is safe, and it spares the activity's own retry budget. A longer
retry-after (the daily quota, #256) fails the attempt with that delay."""

_LAST_BEAT: ContextVar[dict[str, Any] | None] = ContextVar("etsy_last_heartbeat", default=None)
"""This attempt's last heartbeat details: sent again while it waits (for a token), so the
listing_id a retry resumes from is never replaced by an empty heartbeat."""


def _beat(details: dict[str, Any]) -> None:
    _LAST_BEAT.set(details)
    activity.heartbeat(details)


def _keepalive() -> None:
    if activity.in_activity():
        activity.heartbeat(_LAST_BEAT.get() or {"step": "token"})


class EtsyActivities:
    """Etsy Open API v3 calls; one instance (and HTTP client) per worker."""

    def __init__(
        self,
        settings: Settings,
        http: httpx.AsyncClient,
        *,
        images_http: httpx.AsyncClient | None = None,
    ) -> None:
        """``http`` carries every request to Etsy; ``images_http`` (default: the same) the
        image downloads, which are not requests to Etsy and so are not paced."""
        self.settings = settings
        self.http = http
        self.images = ImageFetcher(settings, images_http or http)
        self.tokens = EtsyTokens(settings, http, keepalive=_keepalive)
        self.base_url = settings.base_url(MARKETPLACE)
        self.shop = f"/shops/{settings.etsy_shop_id}"

    @activity.defn(name=publish_activity_name(MARKETPLACE))
    async def publish_to_etsy(self, request: PublishRequest) -> PublishResult:
        """Refuse what Etsy would refuse; resume from the heartbeated listing_id, else find
        ours by SKU (or an orphan draft); fetch the images still missing; then create the
        draft if there is none and finish the steps the listing still lacks."""
        listing = request.listing
        self._refuse_before_any_call(listing)
        marker = draft_marker(request.idempotency_key)
        current = await self._resume() or await self._find_existing(listing, marker)
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
                await self._upload(listing_id, rank, image)
        self._checkpoint(listing_id, "activate")
        response = await self._call(
            "activate", "PATCH", f"{self.shop}/listings/{listing_id}", data={"state": "active"}
        )
        activity.logger.info("etsy sku=%s active as %s", listing.sku, listing_id)
        return self._result(response.json(), reused=reused)

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
                _beat({"step": "fetch images"})
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

    async def _upload(self, listing_id: int, rank: int, image: FetchedImage) -> None:
        """uploadListingImage: the file in ``image`` (multipart/form-data), at ``rank``."""
        await self._call(
            "upload_image",
            "POST",
            f"{self.shop}/listings/{listing_id}/images",
            data={"rank": str(rank)},
            files={"image": (image.filename, image.file, image.content_type)},
        )

    def _checkpoint(self, listing_id: int, step: str) -> None:
        """Heartbeat with the listing_id, so a retry resumes this listing instead of a new one."""
        _beat({"listing_id": listing_id, "step": step})

    async def _resume(self) -> dict[str, Any] | None:
        details = activity.info().heartbeat_details
        saved = details[0] if details and isinstance(details[0], dict) else {}
        listing_id = saved.get("listing_id")
        _beat(saved or {"step": "lookup"})
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
                _beat({"step": f"lookup {state} {offset}"})
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
        return created

    async def _image_count(self, current: dict[str, Any]) -> int:
        """How many images the listing has (getListingsByShop results do not carry them)."""
        if "images" in current:
            return len(current["images"] or [])
        response = await self._call(
            "get_listing",
            "GET",
            f"/listings/{int(current['listing_id'])}",
            params={"includes": "Images"},
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
        files: dict[str, tuple[str, IO[bytes], str]] | None = None,
        params: dict[str, str] | None = None,
        expected: tuple[int, ...] = (),
    ) -> httpx.Response:
        """One Etsy request. A per-second 429 is waited out in place (see PACED_MAX_WAIT); a
        401 renews the access token once (EtsyTokens) and sends the request again."""
        bearer = await self.tokens.bearer()
        renewed = False
        waited = 0
        while True:
            for _, file, _ in (files or {}).values():
                file.seek(0)
            headers = {
                "x-api-key": self.settings.etsy_api_key.get_secret_value(),
                "Authorization": f"Bearer {bearer}",
                "Accept": "application/json",
            }
            request = self.http.build_request(
                method,
                f"{self.base_url}{path}",
                json=json,
                data=data,
                files=files,
                params=params,
                headers=headers,
            )
            try:
                return await send(
                    self.http,
                    request,
                    marketplace=MARKETPLACE,
                    operation=operation,
                    expected=expected,
                )
            except ApplicationError as err:
                if _refused_token(err) and self.tokens.renewable and not renewed:
                    bearer, renewed = await self.tokens.bearer(rejected=bearer), True
                    continue
                delay = _in_place_delay(err)
                if delay is None or waited == PACED_RETRIES:
                    raise
            waited += 1
            await asyncio.sleep(delay + random.uniform(0, 0.25))

    def _result(self, current: dict[str, Any], *, reused: bool) -> PublishResult:
        listing_id = str(current["listing_id"])
        return PublishResult(
            marketplace=MARKETPLACE,
            listing_id=listing_id,
            listing_url=current.get("url") or f"https://www.etsy.com/listing/{listing_id}",
            attempt=activity.info().attempt,
            reused_existing=reused,
        )


def _refused_token(error: ApplicationError) -> bool:
    """Etsy's 401: the access token is invalid or expired (a 403 is the API key)."""
    details = error.details[0] if error.details else {}
    return error.type == MARKETPLACE_AUTH_ERROR and (
        isinstance(details, dict) and details.get("status") == 401
    )


def _in_place_delay(error: ApplicationError) -> float | None:
    """Seconds to wait before sending again, for a 429 of the per-second limit; else None."""
    if error.type != RATE_LIMITED:
        return None
    delay = error.next_retry_delay.total_seconds() if error.next_retry_delay else 1.0
    return delay if delay <= PACED_MAX_WAIT else None
