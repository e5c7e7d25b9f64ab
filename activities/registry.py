"""Builds the marketplace HTTP client and the publish activity of each marketplace."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from activities import USER_AGENT
from activities.ebay import EbayActivities
from activities.etsy import EtsyActivities
from activities.vinted import VintedActivities
from config.settings import Settings
from domain.marketplaces import Marketplace


def create_http_client(settings: Settings) -> httpx.AsyncClient:
    """One pooled client per worker process, shared by every marketplace activity."""
    concurrency = settings.marketplace_max_concurrent_activities
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.marketplace_http_timeout),
        limits=httpx.Limits(
            max_connections=concurrency * len(Marketplace),
            max_keepalive_connections=concurrency,
            keepalive_expiry=30.0,
        ),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )


def marketplace_activities(
    settings: Settings, http: httpx.AsyncClient
) -> dict[Marketplace, Callable[..., Any]]:
    """The bound ``publish_to_<marketplace>`` activity per marketplace (register ``[acts[m]]``
    on ``marketplace_task_queue(m)``)."""
    return {
        Marketplace.EBAY: EbayActivities(settings, http).publish_to_ebay,
        Marketplace.ETSY: EtsyActivities(settings, http).publish_to_etsy,
        Marketplace.VINTED: VintedActivities(settings, http).publish_to_vinted,
    }
