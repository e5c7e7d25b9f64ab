"""Listings (issue 13): the view, events and delist of one SKU's entity workflow."""

from __future__ import annotations

import logging
import re
from typing import Any

from api.problems import ProblemError
from api.services.temporal import LISTING, Executions, WorkerSilent
from domain.listing import SKU_PATTERN
from domain.listing_entity import DelistRequest, ListingView, listing_workflow_id
from workflows.listing import ListingWorkflow

log = logging.getLogger("api.listings")
_SKU = re.compile(SKU_PATTERN, re.ASCII)


class ListingService:
    def __init__(self, executions: Executions) -> None:
        self.executions = executions

    def _workflow_id(self, sku: str) -> str:
        if not _SKU.fullmatch(sku):  # no listing can have it: 404 without a Temporal call
            raise LISTING.not_found(sku)
        return listing_workflow_id(sku)

    async def view(self, sku: str) -> ListingView:
        """From the entity's ``view`` query; from its memo (``stale``) when no worker answers.
        404 for a SKU no job ever reached."""
        workflow_id = self._workflow_id(sku)
        try:
            view: ListingView = await self.executions.query(
                LISTING, workflow_id, ListingWorkflow.view
            )
            return view
        except WorkerSilent:
            log.warning("listing query unanswered sku=%s; using memo", sku)
        execution = await self.executions.describe(LISTING, workflow_id)
        memo = execution.memo.get("listing")
        if memo is None:
            raise ProblemError(503, f"listing {sku} is starting and no worker answered; retry")
        return ListingView.model_validate({**memo, "stale": True})

    async def events(self, sku: str) -> list[dict[str, Any]]:
        workflow_id = self._workflow_id(sku)
        try:
            events: list[dict[str, Any]] = await self.executions.query(
                LISTING, workflow_id, ListingWorkflow.events
            )
            return events
        except WorkerSilent:
            raise ProblemError(503, "listing events are unavailable: no worker answered") from None

    async def delist(self, sku: str, request: DelistRequest) -> ListingView:
        """Queue the delist on the entity (applied after the change in progress); idempotent."""
        workflow_id = self._workflow_id(sku)
        await self.executions.describe(LISTING, workflow_id)
        view: ListingView = await self.executions.update(
            LISTING, workflow_id, ListingWorkflow.delist, request
        )
        return view
