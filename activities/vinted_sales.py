"""set_quantity_vinted: Vinted's side of quantity sync (issue 14).

A Vinted item is one second-hand article with no stock quantity and no stock endpoint
(platform-mcp ``vinted_pro.json``: "Vinted items are single second-hand listings without a
stock quantity"): a quantity of 1 or more is the item staying listed, so nothing is written.
One ``GetItemStatus`` tells whether it still is: an item sold there (``SOLD``), failed, or
unknown to Vinted (404: deleted) is ``ended``. Sales come by the signed ``ITEM_SOLD`` webhook
(``POST /webhooks/vinted``), not by reading.
"""

from __future__ import annotations

from temporalio import activity

from activities.vinted_api import MARKETPLACE, VintedApi
from domain.marketplaces import set_quantity_activity_name
from domain.sales import SetQuantityRequest, SetQuantityResult

LISTED = frozenset({"ACTIVE", "IN_PROGRESS"})
"""Statuses of an item buyers can (or will) see; ``SOLD`` and ``FAILED`` are ended."""


class VintedSalesActivities:
    """Quantity over the worker's Vinted API (its signing and pacing)."""

    def __init__(self, api: VintedApi) -> None:
        self.api = api

    @activity.defn(name=set_quantity_activity_name(MARKETPLACE))
    async def set_quantity_vinted(self, request: SetQuantityRequest) -> SetQuantityResult:
        """No write: quantity 1 while the item is listed, ``ended`` once it is not."""
        item_id = request.current.listing_id
        activity.heartbeat({"step": "item_status", "item_id": item_id})
        status = await self.api.item_status_if_any(item_id)
        found = None if status is None else status.get("status")
        if found not in LISTED:
            activity.logger.info("vinted item %s is %s: ended there", item_id, found or "gone")
            return SetQuantityResult(marketplace=MARKETPLACE, quantity=0, ended=True)
        return SetQuantityResult(marketplace=MARKETPLACE, quantity=1)
