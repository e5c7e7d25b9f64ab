"""publish_to_vinted and withdraw_from_vinted: one item per listing, by Vinted's item id.

Vinted Pro Integrations writes items asynchronously (202, then status or webhooks) and has
no idempotency: the same ``item_reference`` posted twice makes two items (anicolao/vintage
``VINTED_INTEGRATION.md``: "Do not assume item_reference is a provider idempotency key. If a
create times out after transmission, reconcile managed-item references before retrying").
So a create
1. resumes from Vinted's item id (a UUID) when an earlier attempt heartbeated it: the id is
   heartbeated the moment the 202 returns;
2. on a retry (attempt > 1, heartbeat details, or ``recover``) looks for its reference among
   the seller's items (GetItems, paged as samicodesit/quick-vint-api ``findByReference``)
   before any create. This recovers a 202 that was lost (a timeout or a 500 after the write,
   a worker that died before its heartbeat reached the server, an admin retry). A first
   attempt creates at once: no paging through the seller's items;
3. creates the item only when neither finds it, after resolving its ontology ids (a field
   Vinted needs that cannot be determined is a non-retryable error naming it, before any
   write), then polls GetItemStatus by id.

A revise (``current`` set) sends the whole item to UpdateItems by its id and polls its status;
a withdraw deletes it (DeleteItems) and waits until Vinted no longer knows it.

Recovery uses listing rather than the ``CREATE_ITEM_*`` webhook: listing is a read the
activity makes when it needs it, with sources for the path and fields, while a webhook
needs a public receiving route (a later issue) and Vinted documents neither its delivery
guarantees nor a delivery id (anicolao/vintage). The simulator does send the webhooks.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.http_errors import (
    MARKETPLACE_UNAVAILABLE,
    MARKETPLACE_VALIDATION_ERROR,
    marketplace_error,
    missing_fields_error,
)
from activities.recovery import earlier_attempt_may_have_written, last_heartbeat
from activities.vinted_api import ITEMS_PAGE_SIZE, MARKETPLACE, VintedApi, json_object
from activities.vinted_items import item_body, item_reference, listing_problems, update_entry
from activities.vinted_ontology import (
    ItemIds,
    OntologyCache,
    UnresolvedItemIds,
    missing_fields,
    resolve_item_ids,
)
from config.settings import Settings
from domain.marketplace_errors import LISTING_GONE
from domain.marketplaces import publish_activity_name, withdraw_activity_name
from domain.messages import PublishRequest, PublishResult, WithdrawRequest, WithdrawResult

__all__ = ["VintedActivities", "item_body", "item_reference", "listing_problems"]

POLL_FIRST_SECONDS = 0.2
POLL_MAX_SECONDS = 1.0
DEFAULT_POLL_BUDGET_SECONDS = 120.0
POLL_MARGIN_SECONDS = 2.0

ACTIVE, FAILED, SOLD = "ACTIVE", "FAILED", "SOLD"
"""GetItemStatus outcomes. ``ACTIVE``: quick-vint-api ``reconcile.ts``; ``FAILED`` and ``SOLD``
(a buyer bought it) are ASSUMPTIONS (no source names them); anything else counts as still
processing."""
ENDED = (FAILED, SOLD)
"""Processed, and not listed: nothing to revise or delete."""


class VintedActivities:
    """Vinted Pro Integrations calls; one instance (HTTP client, ontology cache) per worker."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.api = VintedApi(settings, http)
        self.ontologies = OntologyCache(settings.vinted_ontology_ttl)

    @activity.defn(name=publish_activity_name(MARKETPLACE))
    async def publish_to_vinted(self, request: PublishRequest) -> PublishResult:
        started = time.monotonic()
        if request.current is not None:
            return await self._revise(request, request.current.listing_id, started)
        reference = item_reference(request.listing.sku, request.idempotency_key)
        item_id = _heartbeated_item_id(activity.info().heartbeat_details)
        reused = item_id is not None
        if item_id is None and earlier_attempt_may_have_written(request.recover):
            item_id = await self._find(reference)
            reused = item_id is not None
        if item_id is None:
            ids = await self._ids(request)
            item_id = await self._create(item_body(request.listing, reference, ids))
        details = {"reference": reference, "item_id": item_id}
        activity.heartbeat(details)
        status = await self._processed(item_id, started, details)
        if status is None or status.get("status") != ACTIVE:
            raise self._failed(item_id, status)
        activity.logger.info("vinted reference=%s active as %s", reference, item_id)
        return self._result(item_id, status.get("url"), reused=reused)

    @activity.defn(name=withdraw_activity_name(MARKETPLACE))
    async def withdraw_from_vinted(self, request: WithdrawRequest) -> WithdrawResult:
        """Delete the item ``current`` names; without ``current``, the item whose reference
        this job's create would have used. An item still being processed is waited for
        (Vinted deletes only processed items); one Vinted no longer knows, that failed or
        that sold, is nothing to end."""
        started = time.monotonic()
        if request.current is not None:
            item_id: str | None = request.current.listing_id
        else:
            item_id = await self._find(item_reference(request.sku, request.idempotency_key))
        if item_id is None:
            return WithdrawResult(marketplace=MARKETPLACE, withdrawn=False)
        details = {"item_id": item_id, "step": "withdraw"}
        status = await self._processed(item_id, started, details)
        if status is None or status.get("status") in ENDED:
            sent = last_heartbeat("deleting") == item_id  # an earlier attempt's lost answer
            return WithdrawResult(
                marketplace=MARKETPLACE, withdrawn=sent, listing_id=item_id if sent else None
            )
        activity.heartbeat({**details, "deleting": item_id})
        entry = _first_entry(await self.api.delete_item(item_id))
        if entry.get("accepted") is False:
            raise marketplace_error(
                MARKETPLACE,
                "delete_items",
                MARKETPLACE_UNAVAILABLE,
                f"item {item_id} not deletable now: {_entry_reason(entry)}",
            )
        await self._until_unknown(item_id, started, {**details, "deleting": item_id})
        activity.logger.info("vinted item %s deleted", item_id)
        return WithdrawResult(marketplace=MARKETPLACE, withdrawn=True, listing_id=item_id)

    # -- create and revise -------------------------------------------------------------------

    async def _ids(self, request: PublishRequest) -> ItemIds:
        """The item's ontology ids, or a non-retryable error naming every field Vinted needs
        that the listing, the job's extras and the seller's settings do not give: one a
        purchaser can supply (catalog, brand, size, package size) as ``MissingListingFields``,
        which the job asks for (``awaiting_input``, issue 15)."""
        listing = request.listing
        ontology = await self.ontologies.get(self.api.get_ontologies)
        problems = listing_problems(listing, self.settings.listing_limits())
        try:
            ids = resolve_item_ids(
                listing, ontology, self.settings, request.extras.vinted_package_size_id
            )
        except UnresolvedItemIds as err:
            problems.update(err.problems)
        if problems:
            text = (
                f"missing or invalid {', '.join(problems)} "
                f"(ontology {ontology.version}): {'; '.join(problems.values())}"
            )
            asked = missing_fields(problems, listing, ontology, self.settings)
            if asked:
                raise missing_fields_error(MARKETPLACE, "validate_item", asked, text)
            raise marketplace_error(
                MARKETPLACE, "validate_item", MARKETPLACE_VALIDATION_ERROR, text
            )
        return ids

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
        result = _first_entry(response)
        # ASSUMPTION: an entry may say ``accepted: false`` with a reason (marketplaces.md, 3p).
        if result.get("accepted") is False or not result.get("item_id"):
            raise marketplace_error(
                MARKETPLACE,
                "create_items",
                MARKETPLACE_VALIDATION_ERROR,
                f"item not accepted: {_entry_reason(result)}",
                status=response.status_code,
            )
        item_id = str(result["item_id"])
        # Kept the moment the 202 returns: a retry resumes from this id (heartbeat details).
        activity.heartbeat({"reference": body["item_reference"], "item_id": item_id})
        return item_id

    async def _revise(self, request: PublishRequest, item_id: str, started: float) -> PublishResult:
        """UpdateItems with the whole item, then GetItemStatus until processed. An item
        Vinted no longer knows (deleted: 404, or refused as unknown) or that failed is
        ``ListingGone``: the entity creates it again."""
        details = {"item_id": item_id, "step": "update"}
        activity.heartbeat(details)
        entry = update_entry(request.listing, item_id, await self._ids(request))
        for last_try in (False, True):
            response = await self.api.update_item(entry)
            if response.status_code == 404:
                raise _gone(item_id, "unknown to Vinted")
            answer = _first_entry(response)
            if answer.get("accepted") is not False:
                break
            # Refused: gone, or still processing (a create, or our own update whose answer
            # was lost): once it is processed, sent once more.
            status = await self._processed(item_id, started, details)
            if status is None or status.get("status") in ENDED:
                raise _gone(item_id, _ended(status))
            if last_try:
                raise marketplace_error(
                    MARKETPLACE,
                    "update_items",
                    MARKETPLACE_VALIDATION_ERROR,
                    f"update of item {item_id} not accepted: {_entry_reason(answer)}",
                )
        status = await self._processed(item_id, started, details)
        if status is None or status.get("status") in ENDED:
            raise _gone(item_id, _ended(status))
        if status.get("errors"):
            # ASSUMPTION: a refused update leaves the item live as it was, and its status
            # names why (the UPDATE_ITEM_FAILURE reasons).
            self.ontologies.invalidate()
            raise self._failed(item_id, status, what="update of item")
        activity.logger.info("vinted item %s revised", item_id)
        url = status.get("url") or (request.current.listing_url if request.current else None)
        return self._result(item_id, url, reused=True, revised=True)

    # -- status ------------------------------------------------------------------------------

    async def _processed(
        self, item_id: str, started: float, details: dict[str, Any]
    ) -> dict[str, Any] | None:
        """GetItemStatus until the item is processed (ACTIVE, FAILED, SOLD); None when Vinted
        does not know it (404). At the end of this attempt's budget, a retryable error."""
        deadline = started + self._poll_budget()
        delay = POLL_FIRST_SECONDS
        while True:
            status = await self.api.item_status_if_any(item_id)
            if status is None or status.get("status") in (ACTIVE, *ENDED):
                return status
            if time.monotonic() + delay > deadline:
                raise marketplace_error(
                    MARKETPLACE,
                    "item_status",
                    MARKETPLACE_UNAVAILABLE,
                    f"item {item_id} still {status.get('status')}; will check again",
                )
            activity.heartbeat(details)
            await asyncio.sleep(delay)
            delay = min(delay * 2, POLL_MAX_SECONDS)

    async def _until_unknown(self, item_id: str, started: float, details: dict[str, Any]) -> None:
        """A delete is processed asynchronously (202): done once GetItemStatus is 404."""
        deadline = started + self._poll_budget()
        delay = POLL_FIRST_SECONDS
        while await self.api.item_status_if_any(item_id) is not None:
            if time.monotonic() + delay > deadline:
                raise marketplace_error(
                    MARKETPLACE,
                    "item_status",
                    MARKETPLACE_UNAVAILABLE,
                    f"item {item_id} still there after its delete; will check again",
                )
            activity.heartbeat(details)
            await asyncio.sleep(delay)
            delay = min(delay * 2, POLL_MAX_SECONDS)

    def _failed(
        self, item_id: str, status: dict[str, Any] | None, *, what: str = "item"
    ) -> ApplicationError:
        """Vinted refused the item: not retried (the ontology ids may be what it refused)."""
        self.ontologies.invalidate()
        reasons = "not found" if status is None else _reasons(status)
        text = f"{what} {item_id} failed: {reasons}"
        return marketplace_error(MARKETPLACE, "item_status", MARKETPLACE_VALIDATION_ERROR, text)

    def _poll_budget(self) -> float:
        """Poll for at most this attempt's start-to-close timeout (less a margin), so the
        attempt ends with a retryable error of ours rather than a timeout."""
        timeout = activity.info().start_to_close_timeout
        if not timeout:
            return DEFAULT_POLL_BUDGET_SECONDS
        return max(timeout.total_seconds() - POLL_MARGIN_SECONDS, POLL_FIRST_SECONDS)

    def _result(
        self, item_id: str, url: str | None, *, reused: bool, revised: bool = False
    ) -> PublishResult:
        return PublishResult(
            marketplace=MARKETPLACE,
            listing_id=item_id,
            listing_url=url,
            attempt=activity.info().attempt,
            reused_existing=reused,
            action="revised" if revised else "created",
        )


def _gone(item_id: str, why: str) -> ApplicationError:
    return marketplace_error(
        MARKETPLACE, "revise", LISTING_GONE, f"item {item_id} is no longer live on Vinted ({why})"
    )


def _ended(status: dict[str, Any] | None) -> str:
    return "unknown to Vinted" if status is None else str(status.get("status")).lower()


def _first_entry(response: httpx.Response) -> dict[str, Any]:
    """The first per-item entry of a 202 ``{"items": [...]}`` answer ({} when none)."""
    results = json_object(response).get("items") or []
    return results[0] if results and isinstance(results[0], dict) else {}


def _entry_reason(entry: dict[str, Any]) -> str:
    return str(entry.get("error") or entry.get("errors") or entry or "no answer")


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
