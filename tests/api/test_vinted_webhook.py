"""POST /webhooks/vinted (issue 14): Vinted's signed ITEM_SOLD becomes an OrderLine signalled
to the SKU's listing; a bad signature is 403 and signals nothing; what is not a sale of ours is
acknowledged and ignored; a bad body is a 400 problem, never a 5xx."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from activities.vinted import VintedActivities
from api.app import create_app
from config.settings import Settings
from domain.listing_entity import listing_workflow_id
from domain.marketplaces import Marketplace
from domain.sales import OrderLine
from domain.vinted_reference import item_reference
from domain.vinted_webhook import ITEM_SOLD, SIGNATURE_HEADER, webhook_signature
from tests.activities.harness import Attempts, publish_request
from tests.activities.test_vinted_sales import register_webhook
from tests.api.helpers import assert_problem
from tests.api.listing_stand_in import OrderRecorder
from tests.factories import unique_sku
from tests.support.simulator import SimulatorControl
from tests.support.webhook_receiver import webhook_receiver

pytestmark = pytest.mark.asyncio(loop_scope="session")

ITEM_ID = "0b8f6c1e-7d2a-4f7e-9a51-2c3d4e5f6a7b"
Listings = Callable[[str], Awaitable[WorkflowHandle[Any, Any]]]


@pytest.fixture
async def listing(dev_client: Client) -> AsyncIterator[Listings]:
    """Start a stand-in listing entity (records the order lines it is sent) for a SKU."""
    queue = f"listings-{uuid.uuid4()}"
    handles: list[WorkflowHandle[Any, Any]] = []

    async def start(sku: str) -> WorkflowHandle[Any, Any]:
        handle = await dev_client.start_workflow(
            OrderRecorder.run, id=listing_workflow_id(sku), task_queue=queue
        )
        handles.append(handle)
        return handle

    async with Worker(dev_client, task_queue=queue, workflows=[OrderRecorder]):
        yield start
        for handle in handles:
            await handle.terminate("test over")


def sale(sku: str, order_id: int = 9100000001, **data: Any) -> dict[str, Any]:
    reference = item_reference(sku, f"{uuid.uuid4()}:vinted")
    event_data = {"item_id": ITEM_ID, "item_reference": reference, "order_id": order_id, **data}
    return {"webhook_id": str(uuid.uuid4()), "event_type": ITEM_SOLD, "event_data": event_data}


def signed(
    settings: Settings, event: Any, *, key: str | None = None, at: float | None = None
) -> tuple[dict[str, str], bytes]:
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    key = key or settings.vinted_webhook_signing_key.get_secret_value()
    signature = webhook_signature(key, body, time.time() if at is None else at)
    return {"Content-Type": "application/json", SIGNATURE_HEADER: signature}, body


async def _post(api: httpx.AsyncClient, headers: dict[str, str], body: bytes) -> httpx.Response:
    return await api.post("/webhooks/vinted", content=body, headers=headers)


async def _received(handle: WorkflowHandle[Any, Any], count: int) -> list[OrderLine]:
    for _ in range(100):
        lines: list[OrderLine] = await handle.query(OrderRecorder.received)
        if len(lines) >= count:
            return lines
        await asyncio.sleep(0.05)
    return lines


async def test_a_signed_item_sold_reaches_the_listing_as_an_order_line(
    api: httpx.AsyncClient, api_settings: Settings, listing: Listings
) -> None:
    sku = unique_sku()
    handle = await listing(sku)
    response = await _post(api, *signed(api_settings, sale(sku, 9100000042)))
    assert response.status_code == 204, response.text
    [line] = await _received(handle, 1)
    assert (line.marketplace, line.sku, line.quantity) == (Marketplace.VINTED, sku, 1)
    assert (line.order_id, line.line_id, line.listing_id) == ("9100000042", ITEM_ID, ITEM_ID)
    assert line.key == f"vinted:9100000042:{ITEM_ID}"


async def test_a_bad_signature_is_403_and_signals_nothing(
    api: httpx.AsyncClient, api_settings: Settings, listing: Listings
) -> None:
    """A wrong key, a body other than the one signed, a stale or missing signature: 403
    problem+json each, and the listing hears of none of them (the valid delivery sent after
    them is the only line it gets)."""
    sku = unique_sku()
    handle = await listing(sku)
    event = sale(sku)
    headers, body = signed(api_settings, event)
    forged_headers, _ = signed(api_settings, event, key="not-the-key")
    stale_headers, _ = signed(api_settings, event, at=time.time() - 3600)
    tampered = body.replace(b"9100000001", b"9100000002")
    for bad_headers, bad_body in (
        (forged_headers, body),
        (headers, tampered),
        (stale_headers, body),
        ({"Content-Type": "application/json"}, body),
        ({**headers, SIGNATURE_HEADER: "t=1,v1=abc"}, body),
    ):
        response = await _post(api, bad_headers, bad_body)
        assert_problem(response, 403)
    assert await handle.query(OrderRecorder.received) == []
    assert (await _post(api, headers, body)).status_code == 204
    lines = await _received(handle, 1)
    assert [line.order_id for line in lines] == ["9100000001"]


async def test_a_redelivered_sale_is_delivered_again_with_the_same_key(
    api: httpx.AsyncClient, api_settings: Settings, listing: Listings
) -> None:
    """Vinted documents no delivery id: the entity counts the line once by its key."""
    sku = unique_sku()
    handle = await listing(sku)
    event = sale(sku)
    for _ in range(2):
        assert (await _post(api, *signed(api_settings, event))).status_code == 204
    first, second = await _received(handle, 2)
    assert first.key == second.key


async def test_a_sale_of_a_sku_without_a_listing_is_acknowledged_and_ignored(
    api: httpx.AsyncClient, api_settings: Settings
) -> None:
    response = await _post(api, *signed(api_settings, sale(unique_sku())))
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "ignored"


@pytest.mark.parametrize(
    "event",
    [
        {"webhook_id": "w", "event_type": "CREATE_ITEM_SUCCESS", "event_data": {"item_id": "x"}},
        {
            "webhook_id": "w",
            "event_type": ITEM_SOLD,
            "event_data": {"item_id": "x", "item_reference": "hand-listed", "order_id": 1},
        },
    ],
)
async def test_events_that_are_not_sales_of_our_listings_are_acknowledged(
    api: httpx.AsyncClient, api_settings: Settings, event: dict[str, Any]
) -> None:
    response = await _post(api, *signed(api_settings, event))
    assert response.status_code == 202, response.text


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[]",
        b"[" * 5000,
        json.dumps(sale("SKU1", order_id="12a")).encode(),
        json.dumps({"webhook_id": "w", "event_type": ITEM_SOLD, "event_data": {}}).encode(),
        json.dumps({"webhook_id": "w", "event_type": ITEM_SOLD, "event_data": []}).encode(),
    ],
)
async def test_a_malformed_body_with_a_valid_signature_is_400(
    api: httpx.AsyncClient, api_settings: Settings, body: bytes
) -> None:
    response = await _post(api, *signed(api_settings, body))
    assert_problem(response, 400)


async def test_the_signature_header_twice_is_400(
    api: httpx.AsyncClient, api_settings: Settings
) -> None:
    headers, body = signed(api_settings, sale("SKU1"))
    raw = [("Content-Type", "application/json"), (SIGNATURE_HEADER, headers[SIGNATURE_HEADER])]
    response = await api.post(
        "/webhooks/vinted", content=body, headers=[*raw, (SIGNATURE_HEADER, "t=1,v1=00")]
    )
    assert_problem(response, 400)


async def test_the_simulator_key_is_refused_against_the_real_vinted(
    dev_client: Client, api_settings: Settings
) -> None:
    """With VINTED_BASE_URL naming the real API, the simulator's well-known default key would
    let anyone report sales: webhooks are refused until VINTED_WEBHOOK_SIGNING_KEY is set."""
    settings = api_settings.model_copy(
        update={"vinted_base_url": "https://pro.svc.vinted.com/api/v1"}
    )
    app = create_app(client=dev_client, settings=settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await _post(client, *signed(api_settings, sale("SKU1")))
    assert_problem(response, 403)


async def test_the_simulators_item_sold_delivery_reaches_the_listing(
    dev_client: Client,
    api_settings: Settings,
    sim: SimulatorControl,
    listing: Listings,
) -> None:
    """End to end: a Vinted item published by the adapter, a webhook registered with the
    simulated Vinted (its own signing key, which the gateway is configured with), a buyer's
    purchase; the delivery the simulator sent, handed to the gateway as it came, is the
    listing's order line."""
    request = publish_request(Marketplace.VINTED)
    sku = request.listing.sku
    handle = await listing(sku)
    async with httpx.AsyncClient(timeout=api_settings.marketplace_http_timeout) as http:
        published = await Attempts(
            VintedActivities(api_settings, http).publish_to_vinted, Marketplace.VINTED
        ).run(request)
    with webhook_receiver() as receiver:
        key = await register_webhook(api_settings, receiver.url, ITEM_SOLD)
        order_id = await sim.sell("vinted", sku)
        [delivery] = await asyncio.to_thread(receiver.wait_for, 1)
    settings = api_settings.model_copy(update={"vinted_webhook_signing_key": SecretStr(key)})
    app = create_app(client=dev_client, settings=settings)
    headers = {k: v for k, v in delivery.headers.items() if k.lower() != "content-length"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await _post(client, headers, delivery.body)
    assert response.status_code == 204, response.text
    [line] = await _received(handle, 1)
    assert (line.order_id, line.listing_id, line.sku) == (order_id, published.listing_id, sku)
