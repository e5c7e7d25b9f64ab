"""Builds a worker's HTTP clients and the publish activity of each marketplace."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from activities.ebay import EbayActivities
from activities.etsy import EtsyActivities
from activities.request_pacer import RequestPacer, paced_request_hook
from activities.vinted import VintedActivities
from config.settings import Settings
from domain.marketplaces import Marketplace

USER_AGENT = "marketplace-jobs/0.1"


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
    it goes (paced by its request budget), and one for image downloads, which are not
    requests to a marketplace and are never paced."""

    marketplaces: Mapping[Marketplace, httpx.AsyncClient]
    images: httpx.AsyncClient

    @classmethod
    def shared(cls, http: httpx.AsyncClient) -> WorkerHttp:
        """One client for everything (tests; unpaced unless that client is)."""
        return cls(dict.fromkeys(Marketplace, http), http)


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
        images = await stack.enter_async_context(create_http_client(settings, pools=1))
        yield WorkerHttp(clients, images)


def marketplace_activities(
    settings: Settings, http: WorkerHttp | httpx.AsyncClient
) -> dict[Marketplace, Callable[..., Any]]:
    """The bound ``publish_to_<marketplace>`` activity per marketplace (register ``[acts[m]]``
    on ``marketplace_task_queue(m)``). A bare client serves every marketplace and the images
    (tests)."""
    clients = http if isinstance(http, WorkerHttp) else WorkerHttp.shared(http)
    apis = clients.marketplaces
    return {
        Marketplace.EBAY: EbayActivities(settings, apis[Marketplace.EBAY]).publish_to_ebay,
        Marketplace.ETSY: EtsyActivities(
            settings, apis[Marketplace.ETSY], images_http=clients.images
        ).publish_to_etsy,
        Marketplace.VINTED: VintedActivities(settings, apis[Marketplace.VINTED]).publish_to_vinted,
    }
