"""publish_to_vinted: signed CreateItems with the seller reference, then poll until active."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import time
from typing import Any

import httpx
from temporalio import activity

from activities.http_errors import (
    MARKETPLACE_UNAVAILABLE,
    MARKETPLACE_VALIDATION_ERROR,
    marketplace_error,
    send,
)
from config.settings import Settings
from domain.listing import Condition, Listing
from domain.marketplaces import Marketplace, publish_activity_name
from domain.messages import PublishRequest, PublishResult

MARKETPLACE = Marketplace.VINTED
POLL_FIRST_SECONDS = 0.2
POLL_MAX_SECONDS = 1.0
DEFAULT_POLL_BUDGET_SECONDS = 120.0
POLL_MARGIN_SECONDS = 2.0

STATUS_IDS: dict[Condition, int] = {
    Condition.NEW: 6,  # new with tags
    Condition.LIKE_NEW: 1,  # new without tags
    Condition.GOOD: 3,  # good
    Condition.FAIR: 4,  # satisfactory
}
"""Our condition -> Vinted item ``status_id``."""


def item_reference(sku: str, idempotency_key: str) -> str:
    """The seller reference: ``<sku>-<16 hex of sha256(key)>``, letters, digits and a dash.

    Derived from the idempotency key (one item per job and marketplace, across retries),
    with the SKU in front so people and tests can read which product it is.
    """
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:16]
    return f"{re.sub(r'[^A-Za-z0-9]', '', sku)}-{digest}"


def signature_header(
    signing_key: str, access_key: str, method: str, target: str, body: bytes, now: float
) -> str:
    """``t=<unix>,v1=<hex HMAC-SHA256(key, "<t>.<METHOD>.<path?query>.<access_key>.<body>")>``."""
    t = str(int(now))
    message = f"{t}.{method.upper()}.{target}.{access_key}.".encode() + body
    v1 = hmac.new(signing_key.encode(), message, hashlib.sha256).hexdigest()
    return f"t={t},v1={v1}"


def item_body(listing: Listing, reference: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "reference": reference,
        "title": listing.title,
        "description": listing.description,
        "price": listing.price.amount,
        "currency": listing.price.currency,
        "status_id": STATUS_IDS[listing.condition],
        "quantity": listing.quantity,
        "photos": [{"url": url} for url in listing.images],
        "is_draft": False,
    }
    if listing.brand:
        item["brand"] = listing.brand
    if listing.size:
        item["size"] = listing.size
    return item


class VintedActivities:
    """Vinted Pro Integrations calls; one instance (and HTTP client) per worker."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self.base_url = settings.base_url(MARKETPLACE)

    @activity.defn(name=publish_activity_name(MARKETPLACE))
    async def publish_to_vinted(self, request: PublishRequest) -> PublishResult:
        """Look the reference up first (never re-POST blindly), create if unknown, then poll."""
        started = time.monotonic()
        reference = item_reference(request.listing.sku, request.idempotency_key)
        activity.heartbeat({"reference": reference, "step": "lookup"})
        item = await self._status(reference)
        reused = item is not None
        if item is None:
            item = await self._create(request.listing, reference)
        deadline = started + self._poll_budget()
        delay = POLL_FIRST_SECONDS
        while item.get("status") not in ("active", "failed"):
            activity.heartbeat({"reference": reference, "item_id": item.get("item_id")})
            if time.monotonic() + delay > deadline:
                raise marketplace_error(
                    MARKETPLACE,
                    "item_status",
                    MARKETPLACE_UNAVAILABLE,
                    f"item {item.get('item_id')} still {item.get('status')}; will check again",
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, POLL_MAX_SECONDS)
            item = await self._status(reference) or item
        if item["status"] == "failed":
            reason = (item.get("error") or {}).get("message", "item failed")
            raise marketplace_error(
                MARKETPLACE, "item_status", MARKETPLACE_VALIDATION_ERROR, f"rejected: {reason}"
            )
        activity.logger.info("vinted reference=%s active as %s", reference, item["item_id"])
        return PublishResult(
            marketplace=MARKETPLACE,
            listing_id=str(item["item_id"]),
            listing_url=item.get("url"),
            attempt=activity.info().attempt,
            reused_existing=reused,
        )

    def _poll_budget(self) -> float:
        """Poll for at most this attempt's start-to-close timeout (less a margin), so the
        attempt ends with a retryable error of ours rather than a timeout."""
        timeout = activity.info().start_to_close_timeout
        if not timeout:
            return DEFAULT_POLL_BUDGET_SECONDS
        return max(timeout.total_seconds() - POLL_MARGIN_SECONDS, POLL_FIRST_SECONDS)

    async def _status(self, reference: str) -> dict[str, Any] | None:
        response = await self._call(
            "item_status", "GET", "/items/status", params={"reference": reference}, expected=(404,)
        )
        if response.status_code == 404:
            return None
        for item in response.json().get("items") or []:
            if isinstance(item, dict) and item.get("reference") == reference:
                return item
        return None

    async def _create(self, listing: Listing, reference: str) -> dict[str, Any]:
        response = await self._call(
            "create_items", "POST", "/items", body={"items": [item_body(listing, reference)]}
        )
        results = response.json().get("items") or []
        result = results[0] if results and isinstance(results[0], dict) else {}
        if not result.get("accepted"):
            raise marketplace_error(
                MARKETPLACE,
                "create_items",
                MARKETPLACE_VALIDATION_ERROR,
                f"item not accepted: {result.get('error', 'no reason given')}",
                status=response.status_code,
            )
        activity.heartbeat({"reference": reference, "item_id": result.get("item_id")})
        return {"item_id": result.get("item_id"), "reference": reference, "status": "pending"}

    async def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        expected: tuple[int, ...] = (),
    ) -> httpx.Response:
        content = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = self.http.build_request(
            method, f"{self.base_url}{path}", content=content, params=params, headers=headers
        )
        access_key = self.settings.vinted_access_key.get_secret_value()
        request.headers["X-Vpi-Access-Key"] = access_key
        request.headers["X-Vpi-Hmac-Sha256"] = signature_header(
            self.settings.vinted_signing_key.get_secret_value(),
            access_key,
            method,
            request.url.raw_path.decode("ascii"),
            content,
            time.time(),
        )
        return await send(
            self.http, request, marketplace=MARKETPLACE, operation=operation, expected=expected
        )
