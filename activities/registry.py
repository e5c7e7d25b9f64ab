"""Builds a worker's HTTP clients and the activities of each marketplace."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from activities import USER_AGENT
from activities.ebay import EbayActivities
from activities.ebay_sales import EbaySalesActivities
from activities.etsy import EtsyActivities
from activities.etsy_sales import EtsySalesActivities
from activities.request_pacer import RequestPacer, paced_request_hook
from activities.vinted import VintedActivities
from activities.vinted_sales import VintedSalesActivities
from config.settings import Settings
from domain.marketplaces import Marketplace


def create_http_client(
    settings: Settings, *, pacer: RequestPacer | None = None, pools: int = len(Marketplace)
) -> httpx.AsyncClient:
    """A pooled client with the marketplace timeout, sized for ``pools`` marketplaces' worth of
    concurrent activities; with ``pacer``, every request it sends waits for its slot first."""
    concurrency = settings.marketplace_max_concurrent_activities
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.marketplace_http_timeout),
        limits=httpx.Limits(
            max_connections=concurrency * pools,
            max_keepalive_connections=concurrency,
            keepalive_expiry=30.0,
        ),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        event_hooks={"request": [paced_request_hook(pacer)]} if pacer else None,
    )


@dataclass(frozen=True)
class WorkerHttp:
    """A worker process's HTTP clients: one per marketplace, through which every request to
    it goes (paced by its request budget). Image downloads are not requests to a marketplace:
    the ImageFetcher has its own guarded client (activities/outbound_guard.py), never paced."""

    marketplaces: Mapping[Marketplace, httpx.AsyncClient]

    @classmethod
    def shared(cls, http: httpx.AsyncClient) -> WorkerHttp:
        """One client for every marketplace (tests; unpaced unless that client is)."""
        return cls(dict.fromkeys(Marketplace, http))


@asynccontextmanager
async def open_worker_http(
    settings: Settings, pacers: Mapping[Marketplace, RequestPacer]
) -> AsyncIterator[WorkerHttp]:
    """The worker's clients, each marketplace's paced by ``pacers[marketplace]``."""
    async with AsyncExitStack() as stack:
        clients = {
            m: await stack.enter_async_context(create_http_client(settings, pacer=pacer, pools=1))
            for m, pacer in pacers.items()
        }
        yield WorkerHttp(clients)


def marketplace_activities(
    settings: Settings, http: WorkerHttp | httpx.AsyncClient
) -> dict[Marketplace, list[Callable[..., Any]]]:
    """The bound activities of each marketplace (register ``acts[m]`` on
    ``marketplace_task_queue(m)``): ``publish_to_<m>`` and ``withdraw_from_<m>``, then
    ``read_orders_<m>`` (eBay, Etsy: Vinted reports sales by webhook) and ``set_quantity_<m>``.
    The sales activities share the publishing ones' client, token and pacing. A bare client
    serves every marketplace (tests)."""
    clients = http if isinstance(http, WorkerHttp) else WorkerHttp.shared(http)
    apis = clients.marketplaces
    ebay = EbayActivities(settings, apis[Marketplace.EBAY])
    etsy = EtsyActivities(settings, apis[Marketplace.ETSY])
    vinted = VintedActivities(settings, apis[Marketplace.VINTED])
    ebay_sales = EbaySalesActivities(ebay.client)
    etsy_sales = EtsySalesActivities(etsy.client)
    vinted_sales = VintedSalesActivities(vinted.api)
    return {
        Marketplace.EBAY: [
            ebay.publish_to_ebay,
            ebay.withdraw_from_ebay,
            ebay_sales.read_orders_ebay,
            ebay_sales.set_quantity_ebay,
        ],
        Marketplace.ETSY: [
            etsy.publish_to_etsy,
            etsy.withdraw_from_etsy,
            etsy_sales.read_orders_etsy,
            etsy_sales.set_quantity_etsy,
        ],
        Marketplace.VINTED: [
            vinted.publish_to_vinted,
            vinted.withdraw_from_vinted,
            vinted_sales.set_quantity_vinted,
        ],
    }
