"""publish_to_vinted against the simulator: signed calls, one item per reference, polling."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.vinted import VintedActivities, item_reference
from config.settings import Settings
from domain.marketplaces import Marketplace
from tests.activities.harness import Attempts, publish_request
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")

VINTED = Marketplace.VINTED


def _attempts(settings: Settings, http: httpx.AsyncClient, **kwargs: timedelta) -> Attempts:
    return Attempts(VintedActivities(settings, http).publish_to_vinted, VINTED, **kwargs)


async def test_publish_waits_until_the_item_is_active(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Seed: marketplace orchestrator - publish one listing to Vinted."""
    request = publish_request(VINTED)
    attempts = _attempts(settings, http)
    result = await attempts.run(request)

    reference = item_reference(request.listing.sku, request.idempotency_key)
    [item] = (await sim.listings())["vinted"]
    assert item["reference"] == reference
    assert item["status"] == "active"
    assert result.listing_id == str(item["item_id"])
    assert result.listing_url == f"https://www.vinted.com/items/{item['item_id']}"
    assert any(d and d[0].get("item_id") == item["item_id"] for d in attempts.heartbeats)
    statuses = [(c["operation"], c["status"]) for c in await sim.calls("vinted")]
    assert statuses[:2] == [("item_status", 404), ("create_items", 202)]  # signed and accepted
    assert {status for _, status in statuses[2:]} == {200}


async def test_reference_is_derived_from_the_idempotency_key() -> None:
    request = publish_request(VINTED)
    reference = item_reference(request.listing.sku, request.idempotency_key)
    assert reference == item_reference(request.listing.sku, request.idempotency_key)
    assert reference != item_reference(request.listing.sku, "other-job:vinted")
    assert reference.startswith(request.listing.sku + "-")
    assert reference.replace("-", "").isalnum()


async def test_rerun_returns_the_same_item(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Seed: marketplace orchestrator - idempotence (same key, no second listing)."""
    request = publish_request(VINTED)
    attempts = _attempts(settings, http)
    first = await attempts.run(request)
    second = await attempts.run(request)
    assert second.listing_id == first.listing_id
    assert second.reused_existing is True
    assert len(await sim.calls("vinted", "create_items")) == 1
    assert len((await sim.listings())["vinted"]) == 1


async def test_ghost_write_on_create_leaves_one_item_after_retry(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    await sim.add_fault("vinted", "ghost_write", "create_items")
    request = publish_request(VINTED)
    attempts = _attempts(settings, http)
    result = await attempts.run_until_done(request)
    assert attempts.attempt == 2
    [item] = (await sim.listings())["vinted"]
    assert str(item["item_id"]) == result.listing_id
    assert len(await sim.calls("vinted", "create_items")) == 1


async def test_item_failed_by_vinted_is_not_retryable(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    request = publish_request(VINTED, price={"amount": "0.50", "currency": "EUR"})
    with pytest.raises(ApplicationError) as failure:
        await _attempts(settings, http).run(request)
    assert failure.value.type == "MarketplaceValidationError"
    assert failure.value.non_retryable
    assert "minimum" in failure.value.message


async def test_still_pending_at_the_end_of_the_attempt_is_retryable(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Polling stops before the attempt's own timeout; the next attempt picks the item up."""
    await sim.configure(vinted_activation_delay_ms=1500)
    request = publish_request(VINTED)
    attempts = _attempts(settings, http, start_to_close=timedelta(seconds=2.6))
    with pytest.raises(ApplicationError) as failure:
        await attempts.run(request)
    assert failure.value.type == "MarketplaceUnavailable"
    assert not failure.value.non_retryable

    attempts.start_to_close = timedelta(seconds=20)
    await sim.add_fault("vinted", "error", "create_items", times=None)  # must not be needed
    result = await attempts.run(request)
    assert result.reused_existing is True
    assert len((await sim.listings())["vinted"]) == 1


async def test_no_free_slots_is_a_validation_error(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    await sim.configure(vinted_slots=0)
    with pytest.raises(ApplicationError) as failure:
        await _attempts(settings, http).run(publish_request(VINTED))
    assert failure.value.type == "MarketplaceValidationError"
    assert "insufficient_slots" in failure.value.message


async def test_cancellation_reaches_the_polling_loop(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    await sim.configure(vinted_activation_delay_ms=60_000)
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, start_to_close_timeout=timedelta(seconds=60))
    activities = VintedActivities(settings, http)
    task = asyncio.create_task(env.run(activities.publish_to_vinted, publish_request(VINTED)))
    await asyncio.sleep(0.5)
    assert not task.done()
    env.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=2)
