"""The worker's view of the activities: per marketplace, publish and withdraw; then reading
orders (eBay, Etsy: Vinted's come by webhook) and setting the quantity (issue 14)."""

from __future__ import annotations

import pytest
from temporalio import activity

from activities.registry import create_http_client, marketplace_activities
from config.settings import load_settings
from domain.marketplaces import (
    Marketplace,
    publish_activity_name,
    read_orders_activity_name,
    set_quantity_activity_name,
    withdraw_activity_name,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_each_marketplace_has_its_publish_withdraw_and_sales_activities() -> None:
    settings = load_settings(marketplace_http_timeout=7.5)
    async with create_http_client(settings) as http:
        assert http.timeout.read == 7.5
        assert http.timeout.connect == 7.5
        activities = marketplace_activities(settings, http)
    assert set(activities) == set(Marketplace)
    for marketplace, fns in activities.items():
        names = [activity._Definition.must_from_callable(fn).name for fn in fns]
        readers = (
            [] if marketplace is Marketplace.VINTED else [read_orders_activity_name(marketplace)]
        )
        assert names == [
            publish_activity_name(marketplace),
            withdraw_activity_name(marketplace),
            *readers,
            set_quantity_activity_name(marketplace),
        ]
        assert names[:2] == [
            f"publish_to_{marketplace.value}",
            f"withdraw_from_{marketplace.value}",
        ]
        assert names[-1] == f"set_quantity_{marketplace.value}"
