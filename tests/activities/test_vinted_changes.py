"""Vinted item update and delete by item id (issue 13), against the simulator.

Vinted publishes no OpenAPI document: these exchanges are counted "without spec"; each
assumption is in README "Vinted assumptions".
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from activities.vinted import VintedActivities
from config.settings import Settings
from domain.marketplace_errors import LISTING_GONE
from domain.marketplaces import Marketplace
from domain.messages import PublishRequest, PublishResult, WithdrawResult
from simulator.vinted_ontology import ontology_document
from tests.activities.harness import Attempts, publish_request, revise_request, withdraw_request
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")

VINTED = Marketplace.VINTED


async def _publish(
    settings: Settings, http: httpx.AsyncClient, request: PublishRequest
) -> PublishResult:
    result: PublishResult = await Attempts(
        VintedActivities(settings, http).publish_to_vinted, VINTED
    ).run(request)
    return result


def _withdraw_attempts(settings: Settings, http: httpx.AsyncClient) -> Attempts:
    return Attempts(VintedActivities(settings, http).withdraw_from_vinted, VINTED)


async def _withdraw(
    settings: Settings, http: httpx.AsyncClient, created: PublishRequest, current: Any = None
) -> WithdrawResult:
    result: WithdrawResult = await _withdraw_attempts(settings, http).run(
        withdraw_request(created, current)
    )
    return result


async def _operations(sim: SimulatorControl, since: int = 0) -> list[str]:
    """The Vinted calls since the ``since``-th, without the ontology (read once per worker)."""
    calls = (await sim.calls("vinted"))[since:]
    return [c["operation"] for c in calls if c["operation"] != "get_ontologies"]


async def _item(sim: SimulatorControl, item_id: str) -> dict[str, Any]:
    [item] = [i for i in (await sim.listings())["vinted"] if i["item_id"] == item_id]
    return item


async def test_revise_updates_the_item_in_place(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """UpdateItems with the whole item by its id, then its status until processed: the same
    item, the new title and price, no second item."""
    created = publish_request(VINTED)
    first = await _publish(settings, http, created)
    before = len(await sim.calls("vinted"))
    change = revise_request(
        created,
        first.ref(),
        title="Vintage denim jacket, washed",
        price={"amount": "39.50", "currency": "EUR"},
    )
    sent: list[dict[str, Any]] = []

    async def keep(request: httpx.Request) -> None:
        if request.method == "PUT":
            sent.append(json.loads(await request.aread()))

    http.event_hooks["request"].append(keep)
    try:
        revised = await _publish(settings, http, change)
    finally:
        http.event_hooks["request"].remove(keep)

    assert (revised.action, revised.listing_id) == ("revised", first.listing_id)
    assert revised.listing_url == first.listing_url
    operations = await _operations(sim, before)
    assert operations[0] == "update_items" and set(operations[1:]) == {"item_status"}
    [entry] = sent[0]["items"]
    assert entry["item_id"] == first.listing_id and "item_reference" not in entry
    item = await _item(sim, first.listing_id)
    assert (item["status"], item["title"], item["price"]) == (
        "active",
        "Vintage denim jacket, washed",
        "39.50",
    )
    assert len((await sim.listings())["vinted"]) == 1


async def test_an_update_vinted_refuses_fails_and_the_item_stays_as_it_was(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """An update Vinted refuses after its 202 (the worker's cached ontology is stale: it still
    lists package size 77, which Vinted no longer has; as for a create): a validation error,
    not retried; the item stays live with its content. (A price under 1 no longer gets that
    far: it is refused before any write, domain.marketplace_limits.)"""
    created = publish_request(VINTED)
    first = await _publish(settings, http, created)
    stale = ontology_document()
    stale["enumerations"]["package_sizes"].append({"id": 77, "title": "Retired"})

    async def fetch_stale() -> dict[str, Any]:
        return stale

    activities = VintedActivities(settings.model_copy(update={"vinted_package_size_id": 77}), http)
    await activities.ontologies.get(fetch_stale)
    change = revise_request(created, first.ref(), price={"amount": "39.00", "currency": "EUR"})
    with pytest.raises(ApplicationError) as failure:
        await Attempts(activities.publish_to_vinted, VINTED).run(change)
    assert failure.value.type == "MarketplaceValidationError" and failure.value.non_retryable
    assert "package_size_id 77 is not in the ontology" in failure.value.message
    item = await _item(sim, first.listing_id)
    assert (item["live"], item["price"]) == (True, "45.00")


async def test_a_lost_update_answer_is_sent_again(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    created = publish_request(VINTED)
    first = await _publish(settings, http, created)
    await sim.add_fault("vinted", "ghost_write", "update_items")
    attempts = Attempts(VintedActivities(settings, http).publish_to_vinted, VINTED)
    revised = await attempts.run_until_done(
        revise_request(created, first.ref(), title="Denim jacket, second try")
    )
    assert attempts.attempt >= 2 and revised.action == "revised"
    assert (await _item(sim, first.listing_id))["title"] == "Denim jacket, second try"


async def test_revise_of_a_deleted_item_is_listing_gone(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    created = publish_request(VINTED)
    first = await _publish(settings, http, created)
    await _withdraw(settings, http, created, first.ref())
    with pytest.raises(ApplicationError) as failure:
        await _publish(settings, http, revise_request(created, first.ref()))
    assert failure.value.type == LISTING_GONE and failure.value.non_retryable
    assert await sim.live_listings("vinted", created.listing.sku) == []


async def test_withdraw_deletes_the_item_once(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    created = publish_request(VINTED)
    first = await _publish(settings, http, created)
    before = len(await sim.calls("vinted"))
    ended = await _withdraw(settings, http, created, first.ref())
    assert (ended.withdrawn, ended.listing_id) == (True, first.listing_id)
    assert await _operations(sim, before) == ["item_status", "delete_items", "item_status"]
    item = await _item(sim, first.listing_id)
    assert (item["status"], item["live"]) == ("deleted", False)

    again = await _withdraw(settings, http, created, first.ref())
    assert again.withdrawn is False
    assert len(await sim.calls("vinted", "delete_items")) == 1


async def test_a_lost_delete_answer_is_reported_withdrawn_on_retry(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    created = publish_request(VINTED)
    first = await _publish(settings, http, created)
    await sim.add_fault("vinted", "ghost_write", "delete_items")
    attempts = _withdraw_attempts(settings, http)
    result = await attempts.run_until_done(withdraw_request(created, first.ref()))
    assert attempts.attempt == 2 and result.withdrawn is True
    assert await sim.live_listings("vinted", created.listing.sku) == []


async def test_withdraw_without_current_finds_a_lost_create_and_waits_for_it(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Issue 13: a job cancelled while its create's 202 was lost. The item is found by its
    reference (GetItems), still being processed: Vinted deletes only processed items, so the
    withdraw waits, then deletes it."""
    await sim.configure(vinted_activation_delay_ms=1000)
    await sim.add_fault("vinted", "ghost_write", "create_items")
    created = publish_request(VINTED)
    with pytest.raises(ApplicationError):
        await _publish(settings, http, created)
    [pending] = await sim.live_listings("vinted", created.listing.sku)
    assert pending["status"] == "pending"

    result = await _withdraw(settings, http, created)
    assert (result.withdrawn, result.listing_id) == (True, pending["item_id"])
    assert await sim.live_listings("vinted", created.listing.sku) == []
    assert (await _withdraw(settings, http, created)).withdrawn is False


@pytest.mark.parametrize("operation", ["update_items", "delete_items"])
async def test_a_429_on_a_change_waits_its_retry_after_in_the_same_attempt(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl, operation: str
) -> None:
    """A 429 was not processed: the update or delete is sent again after Retry-After."""
    created = publish_request(VINTED)
    first = await _publish(settings, http, created)
    await sim.add_fault("vinted", "rate_limit", operation, retry_after=1)
    if operation == "update_items":
        result: Any = await _publish(settings, http, revise_request(created, first.ref()))
        assert result.action == "revised"
    else:
        result = await _withdraw(settings, http, created, first.ref())
        assert result.withdrawn is True
    assert [c["status"] for c in await sim.calls("vinted", operation)][:2] == [429, 202]
