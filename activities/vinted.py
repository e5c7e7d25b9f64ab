"""publish_to_vinted: one item per job, found again by its reference, never created twice.

Vinted Pro Integrations creates items asynchronously (202, then status or webhooks) and has
no idempotency: the same ``item_reference`` posted twice makes two items (anicolao/vintage
``VINTED_INTEGRATION.md``: "Do not assume item_reference is a provider idempotency key. If a
create times out after transmission, reconcile managed-item references before retrying").
So the activity
1. resumes from Vinted's item id (a UUID) when an earlier attempt heartbeated it: the id is
   heartbeated the moment the 202 returns;
2. otherwise looks for its reference among the seller's items (GetItems, paged as
   samicodesit/quick-vint-api ``findByReference``) before any create. This also recovers a
   202 that was lost (a worker crash before the heartbeat reached the server, a timeout or a
   500 after the write, an admin retry of a failed job);
3. creates the item only when neither finds it, after resolving its ontology ids (a field
   Vinted needs that cannot be determined is a non-retryable error naming it, before any
   write), then polls GetItemStatus by id.

Recovery uses listing rather than the ``CREATE_ITEM_*`` webhook: listing is a read the
activity makes when it needs it, with sources for the path and fields, while a webhook
needs a public receiving route (a later issue) and Vinted documents neither its delivery
guarantees nor a delivery id (anicolao/vintage). The simulator does send the webhooks.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from typing import Any

import httpx
from temporalio import activity

from activities.http_errors import (
    MARKETPLACE_UNAVAILABLE,
    MARKETPLACE_VALIDATION_ERROR,
    marketplace_error,
)
from activities.vinted_api import ITEMS_PAGE_SIZE, MARKETPLACE, VintedApi, json_object
from activities.vinted_ontology import (
    CONDITION_ATTRIBUTE,
    ItemIds,
    OntologyCache,
    UnresolvedItemIds,
    resolve_item_ids,
)
from config.settings import Settings
from domain.listing import Listing
from domain.marketplace_limits import ListingLimits, listing_violations
from domain.marketplaces import publish_activity_name
from domain.messages import PublishRequest, PublishResult

POLL_FIRST_SECONDS = 0.2
POLL_MAX_SECONDS = 1.0
DEFAULT_POLL_BUDGET_SECONDS = 120.0
POLL_MARGIN_SECONDS = 2.0

ACTIVE, FAILED = "ACTIVE", "FAILED"
"""GetItemStatus outcomes. ``ACTIVE``: quick-vint-api ``reconcile.ts``; ``FAILED`` is an
ASSUMPTION (no source names the failed status); anything else counts as still processing."""

REFERENCE_MAX = 64
"""``item_reference`` length limit (quick-vint-api ``validateItemInput``)."""
_DIGEST_HEX = 12


def item_reference(sku: str, idempotency_key: str) -> str:
    """``<sku>-<12 hex of sha256(key)>``: at most 64 characters (50 + 1 + 12).

    Derived from the idempotency key (one item per job and marketplace, across retries),
    with the SKU in front so people and tests can read which product it is.
    """
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:_DIGEST_HEX]
    return f"{re.sub(r'[^A-Za-z0-9]', '', sku)}-{digest}"[-REFERENCE_MAX:]


def listing_problems(listing: Listing, limits: ListingLimits) -> dict[str, str]:
    """What Vinted's item schema refuses in this listing, by field (before any write): the
    rules ``POST /start_job`` already applied (``domain.marketplace_limits``), checked again
    for jobs started before a rule existed."""
    return {
        violation.field: violation.message
        for violation in listing_violations(listing, [MARKETPLACE], limits)
    }


def item_body(listing: Listing, reference: str, ids: ItemIds) -> dict[str, Any]:
    """One CreateItems entry: only fields the sources' schema has (no quantity: a Vinted item
    is one second-hand article, platform-mcp ``vinted_pro.json``). ``price`` is a number as
    in quick-vint-api's ``VintedItemInput``; ``is_draft: false`` publishes."""
    item: dict[str, Any] = {
        "item_reference": reference,
        "title": listing.title,
        "description": listing.description,
        "price": float(listing.price.decimal_amount),
        "currency": listing.price.currency,
        "catalog_id": ids.catalog_id,
        "package_size_id": ids.package_size_id,
        "brand": ids.brand,
        "photo_urls": list(listing.images),
        "item_attributes": [{"id": CONDITION_ATTRIBUTE, "option_ids": [ids.condition_id]}],
        "is_draft": False,
    }
    if ids.size_id is not None:
        item["size_id"] = ids.size_id
    return item


class VintedActivities:
    """Vinted Pro Integrations calls; one instance (HTTP client, ontology cache) per worker."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.api = VintedApi(settings, http)
        self.ontologies = OntologyCache(settings.vinted_ontology_ttl)

    @activity.defn(name=publish_activity_name(MARKETPLACE))
    async def publish_to_vinted(self, request: PublishRequest) -> PublishResult:
        started = time.monotonic()
        reference = item_reference(request.listing.sku, request.idempotency_key)
        item_id = _heartbeated_item_id(activity.info().heartbeat_details)
        reused = item_id is not None
        if item_id is None:
            item_id = await self._find(reference)
            reused = item_id is not None
        if item_id is None:
            item_id = await self._create(await self._item(request.listing, reference))
        activity.heartbeat({"reference": reference, "item_id": item_id})
        status = await self._wait_until_processed(item_id, reference, started)
        activity.logger.info("vinted reference=%s active as %s", reference, item_id)
        return PublishResult(
            marketplace=MARKETPLACE,
            listing_id=item_id,
            listing_url=status.get("url"),
            attempt=activity.info().attempt,
            reused_existing=reused,
        )

    async def _item(self, listing: Listing, reference: str) -> dict[str, Any]:
        """The CreateItems entry, or a non-retryable error naming every field Vinted needs
        that the listing and the seller's settings do not give."""
        ontology = await self.ontologies.get(self.api.get_ontologies)
        problems = listing_problems(listing, self.settings.listing_limits())
        try:
            ids = resolve_item_ids(listing, ontology, self.settings)
        except UnresolvedItemIds as err:
            problems.update(err.problems)
        if problems:
            raise marketplace_error(
                MARKETPLACE,
                "validate_item",
                MARKETPLACE_VALIDATION_ERROR,
                f"missing or invalid {', '.join(problems)} "
                f"(ontology {ontology.version}): {'; '.join(problems.values())}",
            )
        return item_body(listing, reference, ids)

    async def _find(self, reference: str) -> str | None:
        """The id of a live or in-progress item with ``reference`` (GetItems, page by page).
        Failed ones are skipped: they hold no slot and a new item may succeed."""
        after: str | None = None
        while True:
            activity.heartbeat({"reference": reference, "step": "find", "after": after})
            page = await self.api.list_items(after)
            for entry in page:
                if entry.get("item_reference") == reference and entry.get("status") != FAILED:
                    return str(entry["item_id"])
            if len(page) < ITEMS_PAGE_SIZE:
                return None
            after = str(page[-1].get("item_id"))

    async def _create(self, body: dict[str, Any]) -> str:
        activity.heartbeat({"reference": body["item_reference"], "step": "create"})
        response = await self.api.create_item(body)
        results = json_object(response).get("items") or []
        result = results[0] if results and isinstance(results[0], dict) else {}
        # ASSUMPTION: an entry may say ``accepted: false`` with a reason (marketplaces.md, 3p).
        if result.get("accepted") is False or not result.get("item_id"):
            raise marketplace_error(
                MARKETPLACE,
                "create_items",
                MARKETPLACE_VALIDATION_ERROR,
                f"item not accepted: {result.get('error') or result.get('errors') or result}",
                status=response.status_code,
            )
        item_id = str(result["item_id"])
        # Kept the moment the 202 returns: a retry resumes from this id (heartbeat details).
        activity.heartbeat({"reference": body["item_reference"], "item_id": item_id})
        return item_id

    async def _wait_until_processed(
        self, item_id: str, reference: str, started: float
    ) -> dict[str, Any]:
        """Poll GetItemStatus until ACTIVE (returned) or FAILED (non-retryable); at the end of
        this attempt's budget, a retryable error (a 429 waits in ``VintedApi``)."""
        deadline = started + self._poll_budget()
        delay = POLL_FIRST_SECONDS
        while True:
            status = await self.api.item_status(item_id)
            if status.get("status") == ACTIVE:
                return status
            if status.get("status") == FAILED:
                self.ontologies.invalidate()  # our ids may be what Vinted refused
                raise marketplace_error(
                    MARKETPLACE,
                    "item_status",
                    MARKETPLACE_VALIDATION_ERROR,
                    f"item {item_id} failed: {_reasons(status)}",
                )
            if time.monotonic() + delay > deadline:
                raise marketplace_error(
                    MARKETPLACE,
                    "item_status",
                    MARKETPLACE_UNAVAILABLE,
                    f"item {item_id} still {status.get('status')}; will check again",
                )
            activity.heartbeat({"reference": reference, "item_id": item_id})
            await asyncio.sleep(delay)
            delay = min(delay * 2, POLL_MAX_SECONDS)

    def _poll_budget(self) -> float:
        """Poll for at most this attempt's start-to-close timeout (less a margin), so the
        attempt ends with a retryable error of ours rather than a timeout."""
        timeout = activity.info().start_to_close_timeout
        if not timeout:
            return DEFAULT_POLL_BUDGET_SECONDS
        return max(timeout.total_seconds() - POLL_MARGIN_SECONDS, POLL_FIRST_SECONDS)


def _heartbeated_item_id(details: Any) -> str | None:
    """Vinted's item id from the last heartbeat of an earlier attempt, if it got that far."""
    for detail in reversed(list(details or ())):
        if isinstance(detail, dict) and isinstance(detail.get("item_id"), str):
            return str(detail["item_id"])
    return None


def _reasons(status: dict[str, Any]) -> str:
    errors = status.get("errors") or []
    messages = [str(e.get("message")) for e in errors if isinstance(e, dict) and e.get("message")]
    return "; ".join(messages) or "no reason given"
