"""Etsy Open API v3 requests of one shop: x-api-key, the owner's token, the per-second limit.

A per-second 429 is waited out in place; a 401 renews the access token once (``EtsyTokens``)
and sends the request again. Heartbeats while it waits repeat the attempt's last details, so
the listing_id a retry resumes from is never replaced by an empty heartbeat.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import IO, Any

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.etsy_oauth import EtsyTokens
from activities.http_errors import MARKETPLACE_AUTH_ERROR, RATE_LIMITED, send
from activities.images import FetchedImage
from config.settings import Settings
from domain.marketplaces import Marketplace

MARKETPLACE = Marketplace.ETSY
PAGE_SIZE = 100
PACED_RETRIES = 10
PACED_MAX_WAIT = 2.0
"""A 429 asking for at most this many seconds (Etsy's per-second limit: etsy/open-api#198)
is waited out in place, up to PACED_RETRIES times: a rate-limited request was not processed,
so sending it again is safe, and it spares the activity's own retry budget. A longer
retry-after (the daily quota, #256) fails the attempt with that delay."""

_LAST_BEAT: ContextVar[dict[str, Any] | None] = ContextVar("etsy_last_heartbeat", default=None)
"""This attempt's last heartbeat details: sent again while it waits (for a token)."""


def beat(details: dict[str, Any]) -> None:
    """Heartbeat ``details`` and remember them as this attempt's last."""
    _LAST_BEAT.set(details)
    activity.heartbeat(details)


def _keepalive() -> None:
    if activity.in_activity():
        activity.heartbeat(_LAST_BEAT.get() or {"step": "token"})


class EtsyClient:
    """The Etsy API of one worker's shop: its HTTP client, API key and token owner, and the
    listing reads and writes the activities share."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self.tokens = EtsyTokens(settings, http, keepalive=_keepalive)
        self.base_url = settings.base_url(MARKETPLACE)
        self.shop = f"/shops/{settings.etsy_shop_id}"

    async def get_listing(self, listing_id: int) -> dict[str, Any] | None:
        """getListing with its images; None when Etsy no longer has it (404)."""
        response = await self.call(
            "get_listing",
            "GET",
            f"/listings/{listing_id}",
            params={"includes": "Images"},
            expected=(404,),
        )
        if response.status_code == 404:
            return None
        found: dict[str, Any] = response.json()
        return found

    async def delete_listing(self, listing_id: int) -> bool:
        """deleteListing; False when it is gone already."""
        response = await self.call(
            "delete_listing", "DELETE", f"/listings/{listing_id}", expected=(404,)
        )
        return response.is_success

    async def upload_image(
        self, listing_id: int, rank: int, image: FetchedImage, *, overwrite: bool = False
    ) -> None:
        """uploadListingImage: the file in ``image`` (multipart/form-data), at ``rank``;
        ``overwrite`` replaces the image that is there."""
        data = {"rank": str(rank), **({"overwrite": "true"} if overwrite else {})}
        await self.call(
            "upload_image",
            "POST",
            f"{self.shop}/listings/{listing_id}/images",
            data=data,
            files={"image": (image.filename, image.file, image.content_type)},
        )

    async def shop_listings(self) -> AsyncIterator[dict[str, Any]]:
        """Every active, then every draft listing of the shop (getListingsByShop, paged):
        the recovery path only, never a first attempt's."""
        for state in ("active", "draft"):
            offset = 0
            while True:
                beat({"step": f"lookup {state} {offset}"})
                response = await self.call(
                    "list_listings",
                    "GET",
                    f"{self.shop}/listings",
                    params={"state": state, "limit": str(PAGE_SIZE), "offset": str(offset)},
                )
                page = response.json()
                results: list[dict[str, Any]] = page.get("results") or []
                for candidate in results:
                    yield candidate
                offset += len(results)
                if not results or offset >= int(page.get("count", 0)):
                    break

    async def call(
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
        """One Etsy request; 2xx and ``expected`` answers are returned, the rest raised as
        the mapped ``ApplicationError``."""
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
