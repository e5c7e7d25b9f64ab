"""Stand-in marketplace activities registered under the real names (samples-python style)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.marketplace_errors import MISSING_LISTING_FIELDS
from domain.marketplaces import (
    Marketplace,
    publish_activity_name,
    read_orders_activity_name,
    set_quantity_activity_name,
    withdraw_activity_name,
)
from domain.messages import PublishRequest, PublishResult, WithdrawRequest, WithdrawResult
from domain.missing_fields import ebay_aspect, listing_field
from domain.sales import (
    OrderLine,
    OrdersPage,
    ReadOrdersRequest,
    SetQuantityRequest,
    SetQuantityResult,
)


@dataclass
class Behaviour:
    """How a stand-in answers: fail ``fail_times`` attempts with ``error``, then succeed."""

    fail_times: int = 0
    error_type: str = "MarketplaceUnavailable"
    non_retryable: bool = False
    delay: float = 0.0
    block_until_cancelled: bool = False
    create_then_block: bool = False
    """Make the listing, then block until cancelled: a create whose answer is lost."""
    fail_skus: frozenset[str] = frozenset()
    """These SKUs always fail with a non-retryable validation error."""
    require_size: bool = False
    """A listing without a size fails with MissingListingFields naming ``size`` (issue 15)."""
    require_aspect: str | None = None
    """A request without this eBay item specific (extras) fails naming it (issue 15)."""
    hold: asyncio.Event | None = None
    """A request that passes the checks above waits for this event before it answers: the
    job stays running until the test lets it go."""


@dataclass
class StandInMarketplaces:
    behaviours: dict[Marketplace, Behaviour] = field(default_factory=dict)
    calls: dict[Marketplace, list[PublishRequest]] = field(
        default_factory=lambda: defaultdict(list)
    )
    published: dict[Marketplace, list[str]] = field(default_factory=lambda: defaultdict(list))
    cancelled: list[Marketplace] = field(default_factory=list)
    withdrawn: dict[Marketplace, list[WithdrawRequest]] = field(
        default_factory=lambda: defaultdict(list)
    )
    active: int = 0
    max_active: int = 0

    quantities: dict[Marketplace, list[SetQuantityRequest]] = field(
        default_factory=lambda: defaultdict(list)
    )
    sold_out_on: set[Marketplace] = field(default_factory=set)
    """Marketplaces that already ended the listing: set_quantity answers ``ended``, withdraw
    finds nothing live."""
    orders: dict[Marketplace, list[OrderLine]] = field(default_factory=lambda: defaultdict(list))
    """Order lines the next read_orders of that marketplace returns (then forgets)."""
    reads: dict[Marketplace, list[ReadOrdersRequest]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def activities(self) -> dict[Marketplace, list[Callable[..., Any]]]:
        return {
            m: [
                self._make(m),
                self._make_withdraw(m),
                self._make_set_quantity(m),
                self._make_read_orders(m),
            ]
            for m in Marketplace
        }

    def _make_set_quantity(self, marketplace: Marketplace) -> Callable[..., Any]:
        @activity.defn(name=set_quantity_activity_name(marketplace))
        async def set_quantity(request: SetQuantityRequest) -> SetQuantityResult:
            self.quantities[marketplace].append(request)
            ended = marketplace in self.sold_out_on
            return SetQuantityResult(
                marketplace=marketplace, quantity=0 if ended else request.quantity, ended=ended
            )

        return set_quantity

    def _make_read_orders(self, marketplace: Marketplace) -> Callable[..., Any]:
        @activity.defn(name=read_orders_activity_name(marketplace))
        async def read_orders(request: ReadOrdersRequest) -> OrdersPage:
            self.reads[marketplace].append(request)
            lines, self.orders[marketplace] = self.orders[marketplace], []
            cursor = str(len(self.reads[marketplace]))
            return OrdersPage(lines=lines, next_cursor=cursor)

        return read_orders

    def _make_withdraw(self, marketplace: Marketplace) -> Callable[..., Any]:
        @activity.defn(name=withdraw_activity_name(marketplace))
        async def withdraw(request: WithdrawRequest) -> WithdrawResult:
            self.withdrawn[marketplace].append(request)
            listing_id = f"{marketplace.value}-{request.sku}"
            live = listing_id in self.published[marketplace] and marketplace not in self.sold_out_on
            if live:
                self.published[marketplace].remove(listing_id)
            return WithdrawResult(marketplace=marketplace, withdrawn=live, listing_id=listing_id)

        return withdraw

    def _make(self, marketplace: Marketplace) -> Callable[..., Any]:
        @activity.defn(name=publish_activity_name(marketplace))
        async def publish(request: PublishRequest) -> PublishResult:
            self.calls[marketplace].append(request)
            behaviour = self.behaviours.get(marketplace, Behaviour())
            attempt = activity.info().attempt
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            try:
                return await self._publish(marketplace, behaviour, request, attempt)
            finally:
                self.active -= 1

        return publish

    async def _publish(
        self,
        marketplace: Marketplace,
        behaviour: Behaviour,
        request: PublishRequest,
        attempt: int,
    ) -> PublishResult:
        if request.listing.sku in behaviour.fail_skus:
            raise ApplicationError(
                f"{marketplace.value} rejects {request.listing.sku}",
                {"attempt": attempt},
                type="MarketplaceValidationError",
                non_retryable=True,
            )
        missing = []
        if behaviour.require_size and request.listing.size is None:
            missing.append(listing_field(marketplace, "size", "the category needs a size"))
        aspect = behaviour.require_aspect
        if aspect is not None and aspect not in request.extras.ebay_aspects:
            missing.append(ebay_aspect(aspect, f"the category needs {aspect!r}"))
        if missing:
            raise ApplicationError(
                f"{marketplace.value} needs {[f.id for f in missing]}",
                {
                    "attempt": attempt,
                    "missing_fields": [f.model_dump(mode="json") for f in missing],
                },
                type=MISSING_LISTING_FIELDS,
                non_retryable=True,
            )
        if behaviour.create_then_block and request.current is None:
            self.published[marketplace].append(f"{marketplace.value}-{request.listing.sku}")
        if behaviour.block_until_cancelled or behaviour.create_then_block:
            try:
                while True:
                    activity.heartbeat()
                    await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                self.cancelled.append(marketplace)
                raise
        if behaviour.hold is not None:
            await behaviour.hold.wait()
        if behaviour.delay:
            await asyncio.sleep(behaviour.delay)
        failures_so_far = len(self.calls[marketplace]) - 1
        if failures_so_far < behaviour.fail_times:
            raise ApplicationError(
                f"{marketplace.value} stand-in failure",
                {"attempt": attempt},
                type=behaviour.error_type,
                non_retryable=behaviour.non_retryable,
            )
        listing_id = f"{marketplace.value}-{request.listing.sku}"
        if listing_id not in self.published[marketplace]:
            self.published[marketplace].append(listing_id)
        return PublishResult(
            marketplace=marketplace,
            listing_id=listing_id,
            listing_url=f"https://{marketplace.value}.example/{listing_id}",
            attempt=attempt,
            action="revised" if request.current is not None else "created",
        )
