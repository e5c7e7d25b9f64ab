"""publish_to_vinted against the simulator: one item per job whatever is lost, ontology ids
resolved before any write, polling by Vinted's item id."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.vinted import VintedActivities, item_reference
from config.settings import Settings
from domain.marketplace_errors import MISSING_LISTING_FIELDS, missing_fields_of
from domain.marketplaces import Marketplace
from domain.missing_fields import ListingExtras
from simulator.vinted_ontology import ontology_document
from tests.activities.harness import Attempts, publish_request
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")

VINTED = Marketplace.VINTED
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _attempts(settings: Settings, http: httpx.AsyncClient, **kwargs: timedelta) -> Attempts:
    return Attempts(VintedActivities(settings, http).publish_to_vinted, VINTED, **kwargs)


async def _operations(sim: SimulatorControl) -> list[tuple[str, int]]:
    return [(c["operation"], c["status"]) for c in await sim.calls("vinted")]


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
    assert result.listing_id == item["item_id"]
    assert result.listing_url and result.listing_url.startswith("https://www.vinted.com/items/")
    calls = await _operations(sim)
    assert calls[:2] == [("get_ontologies", 200), ("create_items", 202)], "no lookup first"
    assert {c for c in calls[2:]} == {("item_status", 200)}


async def test_the_item_id_is_a_uuid_heartbeated_as_soon_as_the_202_returns(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Issue 12 #3: keep Vinted's item id the moment the 202 returns."""
    await sim.configure(vinted_activation_delay_ms=60_000)
    attempts = _attempts(settings, http, start_to_close=timedelta(seconds=2.5))
    with pytest.raises(ApplicationError):
        await attempts.run(publish_request(VINTED))
    [item] = (await sim.listings())["vinted"]
    assert UUID.match(item["item_id"])
    [first_with_id] = [d for d in attempts.heartbeats if d and "item_id" in d[0]][:1]
    assert first_with_id[0]["item_id"] == item["item_id"]


async def test_a_lost_202_on_create_ends_with_exactly_one_item(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Issue 12 #3 (real_api_fidelity.md): the create is applied but answered 500; the retry
    must find the item by its reference among the seller's items, not POST it again."""
    await sim.add_fault("vinted", "ghost_write", "create_items")
    request = publish_request(VINTED)
    attempts = _attempts(settings, http)
    result = await attempts.run_until_done(request)
    assert attempts.attempt == 2
    [item] = (await sim.listings())["vinted"]
    assert item["item_id"] == result.listing_id
    assert result.reused_existing is True
    assert len(await sim.calls("vinted", "create_items")) == 1


async def test_a_retry_resumes_from_the_heartbeated_item_id(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """A worker dies after the 202 (here: the status poll fails): the next attempt polls the
    heartbeated id at once, without listing or creating."""
    await sim.add_fault("vinted", "error", "item_status")
    request = publish_request(VINTED)
    attempts = _attempts(settings, http)
    with pytest.raises(ApplicationError) as failure:
        await attempts.run(request)
    assert not failure.value.non_retryable
    before = len(await sim.calls("vinted"))
    result = await attempts.run(request)
    second_attempt = [op for op, _ in await _operations(sim)][before:]
    assert set(second_attempt) == {"item_status"}
    [item] = (await sim.listings())["vinted"]
    assert result.listing_id == item["item_id"]


async def test_a_new_execution_finds_the_item_of_an_earlier_one(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Seed: marketplace orchestrator - idempotence. An admin retry of a failed job starts a
    new activity execution (attempt 1, no heartbeat, ``recover``): it finds the item by
    reference."""
    request = publish_request(VINTED)
    first = await _attempts(settings, http).run(request)
    second = await _attempts(settings, http).run(request.model_copy(update={"recover": True}))
    assert second.listing_id == first.listing_id
    assert second.reused_existing is True
    assert len(await sim.calls("vinted", "create_items")) == 1
    assert len((await sim.listings())["vinted"]) == 1


async def test_the_reference_fits_vinted_limit_and_follows_the_idempotency_key() -> None:
    request = publish_request(VINTED, sku="S" * 50)
    reference = item_reference(request.listing.sku, request.idempotency_key)
    assert len(reference) <= 64
    assert reference == item_reference(request.listing.sku, request.idempotency_key)
    assert reference != item_reference(request.listing.sku, "other-job:vinted")
    assert reference.startswith(request.listing.sku + "-")
    assert reference.replace("-", "").isalnum()


async def test_items_carry_the_ontology_ids_and_the_seller_defaults(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Issue 12 #4: catalog_id, package_size_id, size_id from the ontology; brand text. The
    contract's example listing (no brand, no size, no category) takes the seller defaults."""
    await _attempts(settings, http).run(publish_request(VINTED))
    await _attempts(settings, http).run(
        publish_request(VINTED, brand="Levi's", size="m", category="Jeans")
    )
    default, own = (await sim.listings())["vinted"]
    assert (default["catalog_id"], default["package_size_id"]) == (1206, 2)
    assert (default["brand"], default["size_id"]) == ("Unbranded", 1000)
    assert (own["catalog_id"], own["brand"], own["size_id"]) == (1207, "Levi's", 208)
    assert {default["status"], own["status"]} == {"active"}


@pytest.mark.parametrize(
    ("listing", "fields", "error_type"),
    [
        ({"category": "Spaceships"}, ["category"], MISSING_LISTING_FIELDS),
        ({"size": "XXXXL"}, ["size"], MISSING_LISTING_FIELDS),
        (
            {"title": "Hat", "price": {"amount": "45.00", "currency": "USD"}},
            ["title", "price"],
            "MarketplaceValidationError",
        ),
        ({"description": "x" * 2001}, ["description"], "MarketplaceValidationError"),
    ],
)
async def test_what_vinted_cannot_take_fails_before_any_write_naming_the_fields(
    settings: Settings,
    http: httpx.AsyncClient,
    sim: SimulatorControl,
    listing: dict[str, Any],
    fields: list[str],
    error_type: str,
) -> None:
    """Issue 12 #4: a required id we cannot determine is a non-retryable validation error
    before any write, naming the fields. Issue 15: a catalog or size a purchaser can choose
    is ``MissingListingFields`` (the job asks, ``awaiting_input``) with the ontology's titles
    as the choices; what only the seller can fix (limits) stays a validation error."""
    with pytest.raises(ApplicationError) as failure:
        await _attempts(settings, http).run(publish_request(VINTED, **listing))
    assert failure.value.type == error_type
    assert failure.value.non_retryable
    for field in fields:
        assert field in failure.value.message
    asked = {f.id: f.values for f in missing_fields_of(failure.value)}
    if error_type == MISSING_LISTING_FIELDS:
        expected = {"category": ["Jackets", "Jeans", "Bags"], "size": ["XS", "S", "M", "L"]}
        [field] = fields
        assert list(asked) == [field]
        assert asked[field][: len(expected[field])] == expected[field]
    else:
        assert asked == {}
    assert await sim.calls("vinted", "create_items") == []


async def test_a_package_size_asked_for_and_supplied_publishes_with_it(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Issue 15: VINTED_PACKAGE_SIZE_ID unset: the package size is asked for among the
    ontology's (titles, ids kept), and the id chosen (ListingExtras) is what Vinted gets."""
    unset = settings.model_copy(update={"vinted_package_size_id": None})
    request = publish_request(VINTED)
    with pytest.raises(ApplicationError) as failure:
        await _attempts(unset, http).run(request)
    [asked] = missing_fields_of(failure.value)
    assert (asked.id, asked.values, asked.value_ids) == (
        "vinted_package_size",
        ["Small", "Medium", "Large"],
        [1, 2, 3],
    )
    supplied = request.model_copy(update={"extras": ListingExtras(vinted_package_size_id=3)})
    await _attempts(unset, http).run(supplied)
    [item] = (await sim.listings())["vinted"]
    assert item["package_size_id"] == 3


@pytest.mark.parametrize(
    ("setting", "field"),
    [
        ("vinted_catalog_id", "catalog_id"),
        ("vinted_package_size_id", "package_size_id"),
        ("vinted_default_brand", "brand"),
        ("vinted_default_size_id", "size_id"),
    ],
)
async def test_an_unset_seller_default_fails_naming_its_setting(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl, setting: str, field: str
) -> None:
    unset = settings.model_copy(update={setting: None})
    with pytest.raises(ApplicationError) as failure:
        await _attempts(unset, http).run(publish_request(VINTED))
    assert failure.value.non_retryable
    assert field in failure.value.message
    assert setting.upper() in failure.value.message
    assert await sim.calls("vinted", "create_items") == []


async def test_the_ontology_is_fetched_once_per_worker_until_its_ttl(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Issue 12 #4: ontologies fetched and cached (VINTED_ONTOLOGY_TTL)."""
    activities = VintedActivities(settings, http)
    await asyncio.gather(
        *(Attempts(activities.publish_to_vinted, VINTED).run(publish_request(VINTED)) for _ in "ab")
    )
    assert len(await sim.calls("vinted", "get_ontologies")) == 1
    expiring = VintedActivities(settings.model_copy(update={"vinted_ontology_ttl": 0}), http)
    for _ in "ab":
        await asyncio.sleep(1.0)  # stay under the simulator's 10 requests per second
        await Attempts(expiring.publish_to_vinted, VINTED).run(publish_request(VINTED))
    assert len(await sim.calls("vinted", "get_ontologies")) == 3


async def test_item_failed_by_vinted_is_not_retryable(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """The worker's cached ontology is stale: it still lists package size 77, which Vinted no
    longer has. Vinted accepts the item (202), then fails it; the failure is final and the
    cache is dropped, so the next publish reads the ontology again."""
    stale = ontology_document()
    stale["enumerations"]["package_sizes"].append({"id": 77, "title": "Retired"})

    async def fetch_stale() -> dict[str, Any]:
        return stale

    activities = VintedActivities(settings.model_copy(update={"vinted_package_size_id": 77}), http)
    await activities.ontologies.get(fetch_stale)
    with pytest.raises(ApplicationError) as failure:
        await Attempts(activities.publish_to_vinted, VINTED).run(publish_request(VINTED))
    assert failure.value.type == "MarketplaceValidationError"
    assert failure.value.non_retryable
    assert "package_size_id 77 is not in the ontology" in failure.value.message
    assert len(await sim.calls("vinted", "create_items")) == 1
    assert len(await sim.calls("vinted", "get_ontologies")) == 0
    with pytest.raises(ApplicationError):
        await Attempts(activities.publish_to_vinted, VINTED).run(publish_request(VINTED))
    assert len(await sim.calls("vinted", "get_ontologies")) == 1


async def test_a_price_under_vinteds_minimum_fails_before_any_write(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Vinted's minimum price of 1 (domain.marketplace_limits, quick-vint-api): a job started
    before POST /start_job refused it is refused again here, before CreateItems."""
    request = publish_request(VINTED, price={"amount": "0.50", "currency": "EUR"})
    with pytest.raises(ApplicationError) as failure:
        await _attempts(settings, http).run(request)
    assert failure.value.type == "MarketplaceValidationError"
    assert failure.value.non_retryable
    assert "price.amount" in failure.value.message and "at least 1 EUR" in failure.value.message
    assert await sim.calls("vinted", "create_items") == []


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


@pytest.mark.parametrize(
    ("operation", "answered"), [("list_items", 200), ("create_items", 202), ("item_status", 200)]
)
async def test_a_429_waits_its_retry_after_and_goes_on_in_the_same_attempt(
    settings: Settings,
    http: httpx.AsyncClient,
    sim: SimulatorControl,
    operation: str,
    answered: int,
) -> None:
    """A 429 was not processed: the call is sent again after Retry-After, once, not twice.
    (``recover``: the lookup by reference, GetItems, is made too.)"""
    await sim.add_fault("vinted", "rate_limit", operation, retry_after=1)
    attempts = _attempts(settings, http)
    result = await attempts.run(publish_request(VINTED, recover=True))
    assert attempts.attempt == 1
    statuses = [status for op, status in await _operations(sim) if op == operation]
    assert statuses[:2] == [429, answered]
    assert len((await sim.listings())["vinted"]) == 1
    assert result.listing_id


async def test_a_429_that_persists_is_retryable_after_its_retry_after(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    await sim.add_fault("vinted", "rate_limit", "list_items", retry_after=2, times=None)
    with pytest.raises(ApplicationError) as failure:
        await _attempts(settings, http).run(publish_request(VINTED, recover=True))
    assert failure.value.type == "RateLimited"
    assert not failure.value.non_retryable
    assert failure.value.next_retry_delay == timedelta(seconds=2)
    assert len(await sim.calls("vinted", "list_items")) == 3


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
