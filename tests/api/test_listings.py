"""Listings as entities through the real stack (issue 13): gateway -> dev server -> real worker
(JobWorkflow, ListingWorkflow) -> real activities -> simulator, every exchange spec-judged.

The four cases a seller hit before the entity, each with the expected outcome in brackets in
the issue, then the seeded interleaving of many jobs on one SKU.
"""

from __future__ import annotations

import asyncio
import os
import random
from typing import Any

import httpx

from tests.api.conftest import ADMIN_TOKEN, Keys
from tests.api.helpers import PAYMENT
from tests.factories import start_job_body
from tests.support.simulator import SimulatorControl

MARKETPLACES = ("ebay", "etsy", "vinted")
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CREATE_AND_UPDATE = {
    "ebay": ("createOffer", "updateOffer"),
    "etsy": ("createDraftListing", "updateListing"),
    "vinted": ("create_items", "update_items"),
}


def _body(sku: str | None = None, **listing: Any) -> dict[str, Any]:
    body = start_job_body()
    if sku is not None:
        body["input_data"]["sku"] = sku
    body["input_data"].update(listing)
    return body


async def _start(api: httpx.AsyncClient, body: dict[str, Any]) -> str:
    response = await api.post("/start_job", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["job_id"])


async def _pay(api: httpx.AsyncClient, keys: Keys, job_id: str, wait: int = 60) -> dict[str, Any]:
    response = await api.post(
        "/provide_input",
        json={"job_id": job_id, "data": PAYMENT, "signature": keys.sign(job_id, PAYMENT)},
        headers={"Prefer": f"wait={wait}"},
    )
    assert response.status_code in (200, 202), response.text
    return dict(response.json())


async def _settled(api: httpx.AsyncClient, job_id: str, within: float = 60) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        view = (await api.get(f"/status/{job_id}")).json()
        if view["status"] in ("completed", "failed", "cancelled"):
            return dict(view)
        assert asyncio.get_running_loop().time() < deadline, view
        await asyncio.sleep(0.2)


async def _listing(api: httpx.AsyncClient, sku: str) -> dict[str, Any]:
    response = await api.get(f"/listings/{sku}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _live(sim: SimulatorControl, sku: str) -> dict[str, list[dict[str, Any]]]:
    return {m: await sim.live_listings(m, sku) for m in MARKETPLACES}


async def test_a_second_job_for_a_live_sku_revises_it_everywhere(
    api: httpx.AsyncClient, keys: Keys, sim: SimulatorControl
):
    """[One listing per marketplace, showing the second job's content.]"""
    first = _body()
    sku = first["input_data"]["sku"]
    created = await _pay(api, keys, await _start(api, first))
    assert created["status"] == "completed", created
    second = _body(
        sku, title="Denim jacket, now hemmed", price={"amount": "39.50", "currency": "EUR"}
    )
    revised = await _pay(api, keys, await _start(api, second))
    assert revised["status"] == "completed", revised
    for marketplace in MARKETPLACES:
        assert created["marketplaces"][marketplace]["action"] == "created"
        assert revised["marketplaces"][marketplace]["action"] == "revised"
        assert (
            revised["marketplaces"][marketplace]["listing_id"]
            == created["marketplaces"][marketplace]["listing_id"]
        )
    live = await _live(sim, sku)
    for marketplace, entries in live.items():
        assert len(entries) == 1, (marketplace, entries)
        assert entries[0]["title"] == "Denim jacket, now hemmed", (marketplace, entries)
        assert entries[0]["price"] == "39.50", (marketplace, entries)
    listing = await _listing(api, sku)
    assert listing["status"] == "live"
    assert listing["job_ids"] == [created["job_id"], revised["job_id"]]
    assert {p["job_id"] for p in listing["marketplaces"].values()} == {revised["job_id"]}

    before = {m: len(await sim.calls(m)) for m in MARKETPLACES}
    again = await _pay(api, keys, await _start(api, dict(second)))
    assert {s["action"] for s in again["marketplaces"].values()} == {"unchanged"}
    for marketplace, (create, _) in CREATE_AND_UPDATE.items():
        assert len(await sim.calls(marketplace, create)) == 1, marketplace
        assert len(await sim.calls(marketplace)) == before[marketplace], "no request at all"


async def test_two_jobs_for_a_new_sku_at_once_make_one_listing_each(
    api: httpx.AsyncClient, keys: Keys, sim: SimulatorControl
):
    """[One each], showing the content of the job applied last."""
    first = _body()
    sku = first["input_data"]["sku"]
    second = _body(sku, title="The other title")
    jobs = [await _start(api, first), await _start(api, second)]
    views = await asyncio.gather(*(_pay(api, keys, job_id) for job_id in jobs))
    assert [v["status"] for v in views] == ["completed", "completed"], views
    actions = sorted(v["marketplaces"]["etsy"]["action"] for v in views)
    assert actions == ["created", "revised"]
    listing = await _listing(api, sku)
    last = listing["job_ids"][-1]
    expected_title = (first if last == jobs[0] else second)["input_data"]["title"]
    for marketplace, entries in (await _live(sim, sku)).items():
        assert len(entries) == 1, (marketplace, entries)
        assert entries[0]["title"] == expected_title, marketplace


async def test_a_job_cancelled_while_publishing_withdraws_what_it_created(
    api: httpx.AsyncClient, keys: Keys, sim: SimulatorControl
):
    """[What the job created is withdrawn, and the view says so.] Vinted's item is accepted
    (202) but its processing takes 3 s, so the job is still publishing when cancelled."""
    await sim.configure(vinted_activation_delay_ms=3000)
    body = _body()
    sku = body["input_data"]["sku"]
    job_id = await _start(api, body)
    await _pay(api, keys, job_id, wait=0)
    for _ in range(200):
        if await sim.calls("vinted", "create_items"):
            break
        await asyncio.sleep(0.05)
    cancelled = await api.post(
        f"/jobs/{job_id}/cancel", json={"reason": "wrong photos"}, headers=ADMIN
    )
    assert cancelled.status_code in (200, 202), cancelled.text
    view = await _settled(api, job_id)
    assert view["status"] == "cancelled", view
    assert view["marketplaces"]["vinted"]["action"] == "withdrawn", view
    live = await _live(sim, sku)
    assert live["vinted"] == [], "the item the job created is gone"
    for marketplace in ("ebay", "etsy"):
        state = view["marketplaces"][marketplace]
        if state["action"] == "withdrawn":
            assert live[marketplace] == [], marketplace
    assert await sim.drafts("etsy") == [] and await sim.drafts("ebay") == []
    listing = await _listing(api, sku)
    assert listing["marketplaces"]["vinted"]["state"] == "ended"


async def test_a_running_job_shows_each_marketplace_as_soon_as_it_is_live(
    api: httpx.AsyncClient, keys: Keys, sim: SimulatorControl
):
    """CONTRACT.md's job view while running: eBay ``completed`` with its listing while another
    marketplace still runs. The entity tells the job its outcomes in one signal at the end of
    the change (issue 13's events budget), so the gateway shows the entity's progress: Vinted's
    processing takes 3 s here, eBay and Etsy are live long before."""
    await sim.configure(vinted_activation_delay_ms=3000)
    body = _body()
    job_id = await _start(api, body)
    await _pay(api, keys, job_id, wait=0)
    seen: dict[str, Any] = {}
    for _ in range(100):
        seen = (await api.get(f"/status/{job_id}")).json()
        states = {m: s["status"] for m, s in seen["marketplaces"].items()}
        if states["ebay"] == "completed" and states["vinted"] == "running":
            break
        await asyncio.sleep(0.05)
    assert seen["status"] == "running", seen
    ebay = seen["marketplaces"]["ebay"]
    assert ebay["status"] == "completed" and ebay["listing_id"] and ebay["listing_url"], seen
    assert seen["marketplaces"]["vinted"]["status"] == "running", seen
    final = await _settled(api, job_id)
    assert final["status"] == "completed", final
    assert final["marketplaces"]["ebay"]["listing_id"] == ebay["listing_id"]


async def test_a_cancelled_revise_leaves_the_listing_that_was_live_before(
    api: httpx.AsyncClient, keys: Keys, sim: SimulatorControl
):
    body = _body()
    sku = body["input_data"]["sku"]
    first = await _pay(api, keys, await _start(api, body))
    assert first["status"] == "completed"
    await sim.set_latency(1500)
    job_id = await _start(api, _body(sku, title="Never mind"))
    await _pay(api, keys, job_id, wait=0)
    await asyncio.sleep(0.5)
    await api.post(f"/jobs/{job_id}/cancel", json={}, headers=ADMIN)
    view = await _settled(api, job_id)
    await sim.set_latency(0)
    assert view["status"] == "cancelled"
    assert all(s["action"] != "withdrawn" for s in view["marketplaces"].values()), view
    for marketplace, entries in (await _live(sim, sku)).items():
        assert len(entries) == 1, (marketplace, entries)


async def test_listing_routes_delist_and_events(
    api: httpx.AsyncClient, keys: Keys, sim: SimulatorControl
):
    body = _body()
    sku = body["input_data"]["sku"]
    job = await _pay(api, keys, await _start(api, body))
    listing = await _listing(api, sku)
    assert listing["status"] == "live" and listing["quantity"] == body["input_data"]["quantity"]
    for marketplace in MARKETPLACES:
        place = listing["marketplaces"][marketplace]
        assert place["state"] == "live"
        assert place["listing_id"] == job["marketplaces"][marketplace]["listing_id"]
    assert (await api.get("/listings/NOSUCHSKU99")).status_code == 404
    assert (await api.get("/listings/bad sku")).status_code in (404, 422)
    assert (await api.post(f"/listings/{sku}/delist", json={})).status_code == 403

    response = await api.post(
        f"/listings/{sku}/delist", json={"marketplaces": ["etsy"], "reason": "sold"}, headers=ADMIN
    )
    assert response.status_code == 202, response.text
    for _ in range(200):
        listing = await _listing(api, sku)
        if listing["marketplaces"]["etsy"]["state"] == "ended":
            break
        await asyncio.sleep(0.1)
    assert listing["status"] == "partial", listing
    assert (await _live(sim, sku))["etsy"] == []
    for _ in range(2):  # idempotent
        again = await api.post(f"/listings/{sku}/delist", headers=ADMIN)
        assert again.status_code == 202, again.text
    for _ in range(200):
        listing = await _listing(api, sku)
        if listing["status"] == "ended":
            break
        await asyncio.sleep(0.1)
    assert listing["status"] == "ended", listing
    assert all(entries == [] for entries in (await _live(sim, sku)).values())
    assert len(await sim.calls("etsy", "updateListing")) == 2, "activate, then deactivate once"
    events = (await api.get(f"/listings/{sku}/events")).json()
    types = [e["type"] for e in events]
    assert types.count("listing.delisted") == 3
    assert types.count("marketplace.withdrawn") == 3
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)


async def test_interleaved_jobs_on_one_sku_keep_one_live_listing_with_the_last_content(
    api: httpx.AsyncClient, keys: Keys, sim: SimulatorControl
):
    """N jobs on one SKU, paid at once, some cancelled at random moments, with ghost writes
    and timeouts injected at random; then the invariant: at most one live listing per
    marketplace, its content that of the last job applied, no orphan drafts, every job
    settled, GET /listings agreeing with the simulator. Seeded (LISTING_SEED replays one)."""
    seed = int(os.environ.get("LISTING_SEED") or random.randrange(1_000_000))
    rng = random.Random(seed)
    print(f"interleaving seed {seed} (LISTING_SEED={seed} replays it)")
    for marketplace, operations in CREATE_AND_UPDATE.items():
        for operation in operations:
            if rng.random() < 0.5:
                mode = rng.choice(["ghost_write", "timeout", "error"])
                await sim.add_fault(marketplace, mode, operation, times=1)
    first = _body()
    sku = first["input_data"]["sku"]
    bodies = [first] + [_body(sku, title=f"Denim jacket take {i}") for i in range(1, 6)]
    job_ids = [await _start(api, body) for body in bodies]
    titles = {
        job_id: body["input_data"]["title"] for job_id, body in zip(job_ids, bodies, strict=True)
    }
    cancelled = {job_id for job_id in job_ids[1:] if rng.random() < 0.35}

    async def drive(job_id: str) -> dict[str, Any]:
        await asyncio.sleep(rng.random() * 0.5)
        await _pay(api, keys, job_id, wait=0)
        if job_id in cancelled:
            await asyncio.sleep(rng.random() * 1.5)
            await api.post(f"/jobs/{job_id}/cancel", json={}, headers=ADMIN)
        return await _settled(api, job_id, within=120)

    views = await asyncio.gather(*(drive(job_id) for job_id in job_ids))
    actions = [s["action"] for v in views for s in v["marketplaces"].values()]
    print(
        "interleaving:",
        {
            status: [v["status"] for v in views].count(status)
            for status in {v["status"] for v in views}
        },
        {a: actions.count(a) for a in set(actions)},
    )
    for view in views:
        assert view["status"] in ("completed", "cancelled", "failed"), (seed, view)
    listing = await _listing(api, sku)
    live = await _live(sim, sku)
    for marketplace in MARKETPLACES:
        entries = live[marketplace]
        assert len(entries) <= 1, (seed, marketplace, entries)
        place = listing["marketplaces"][marketplace]
        if place["state"] == "live":
            assert len(entries) == 1, (seed, marketplace, place, entries)
            assert entries[0]["title"] == titles[place["job_id"]], (seed, marketplace)
            assert place["job_id"] == listing["job_ids"][-1] or place["job_id"] in job_ids
        else:
            assert entries == [], (seed, marketplace, place, entries)
    assert await sim.drafts("etsy") == [], seed
    assert await sim.drafts("ebay") == [], seed
