"""Sale-to-delist delay (issue 14): how long a listing stays buyable elsewhere after it sold.

For each rate (sales per second): publish one listing (quantity 1) per sale through the
gateway, start the eBay and Etsy orders readers at ``BENCH_SALES_INTERVAL`` (the product's
``SALES_SYNC_INTERVAL``; the bench stack runs none, so publishing is not counted with their
polls), then sell the listings in turn on eBay, Etsy and Vinted (``POST /__sim/sales``: eBay
and Etsy report the order where their APIs do, Vinted sends its signed webhook to the
gateway) at that rate. The delay of one sale runs from the simulator's 201 to the first read
of ``/__sim/listings`` that shows the SKU live nowhere: the other marketplaces ended by us,
the selling one by the buyer. The readers are stopped after each rate.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from temporalio.client import Client

from bench.load import GatewayPath, closed_loop
from bench.report import percentile
from bench.settings import BenchConfig, BenchConfigError
from bench.simulator import SimulatorControl, sku_of
from bench.stack import RunningStack, StackError, interrupt_on_signals, running_stack
from config.process import exit_process
from config.settings import Settings
from config.temporal import connect
from worker import ORDER_READERS, start_order_readers
from workflows.orders_reader import orders_reader_id

MARKETPLACES = ("ebay", "etsy", "vinted")
POLL_SECONDS = 0.1
DEADLINE_SECONDS = 120.0
"""A sale not delisted everywhere by then counts as not delisted."""
PUBLISH_CONCURRENCY = 10
QUANTILES = (("p50", 50), ("p95", 95), ("max", 100))


async def measure_sales(
    client: Client,
    settings: Settings,
    gateway: GatewayPath,
    sim: SimulatorControl,
    rates: list[int],
    sales_per_rate: dict[int, int],
    interval: float,
    latency_ms: int,
    say: Any,
) -> list[dict[str, Any]]:
    """One result per rate: ``{"rate_per_s", "sales", "delisted", "delay_ms": {p50, p95,
    max} (nan when none was), "by_marketplace": {name sold on: p50 ms}, "interval_s"}``."""
    results = []
    reader_settings = settings.model_copy(update={"sales_sync_interval": interval})
    for rate in rates:
        await sim.reset(latency_ms)
        count = sales_per_rate[rate]
        published = await closed_loop(gateway, PUBLISH_CONCURRENCY, count)
        skus = [o.sku for o in published.outcomes if o.ok and o.sku]
        if len(skus) < count:
            say(f"sales at {rate}/s: only {len(skus)} of {count} listings published")
        await start_order_readers(client, reader_settings)
        try:
            delays = await _sell_and_watch(sim, skus, rate)
        finally:
            for marketplace in ORDER_READERS:
                await client.get_workflow_handle(orders_reader_id(marketplace)).terminate(
                    "bench sales phase done"
                )
        result = _summary(rate, interval, delays)
        results.append(result)
        say(
            f"sale to delisted everywhere at {rate} sale(s)/s (interval {interval:g} s): "
            f"{result['delisted']}/{result['sales']} within {DEADLINE_SECONDS:.0f} s, "
            f"p50 {result['delay_ms']['p50']:.0f} ms p95 {result['delay_ms']['p95']:.0f} ms "
            f"max {result['delay_ms']['max']:.0f} ms; p50 by marketplace sold "
            f"{result['by_marketplace']}"
        )
    return results


async def sales_phase(
    config: BenchConfig,
    client: Client,
    settings: Settings,
    gateway: GatewayPath,
    sim: SimulatorControl,
    say: Any,
) -> list[dict[str, Any]]:
    """:func:`measure_sales` with the BENCH_* options of ``config``."""
    return await measure_sales(
        client,
        settings,
        gateway,
        sim,
        list(config.sale_rates),
        dict(config.sales_per_rate),
        float(config.sales_interval),
        config.latency_ms,
        say,
    )


async def _sell_and_watch(
    sim: SimulatorControl, skus: list[str], rate: int
) -> dict[str, tuple[str, float | None]]:
    """Sell each SKU once at ``rate`` per second; its marketplace and delay (None: not
    delisted everywhere within the deadline)."""
    sold_at: dict[str, tuple[str, float]] = {}
    delays: dict[str, tuple[str, float | None]] = {}

    async def sell() -> None:
        began = time.monotonic()
        for index, sku in enumerate(skus):
            await asyncio.sleep(max(0.0, began + index / rate - time.monotonic()))
            marketplace = MARKETPLACES[index % len(MARKETPLACES)]
            await sim.sell(marketplace, sku)
            sold_at[sku] = (marketplace, time.monotonic())

    selling = asyncio.create_task(sell())
    deadline = time.monotonic() + len(skus) / rate + DEADLINE_SECONDS
    while time.monotonic() < deadline and (not selling.done() or len(delays) < len(skus)):
        live = await _live_skus(sim)
        now = time.monotonic()
        for sku, (marketplace, at) in list(sold_at.items()):
            if sku not in delays and sku not in live:
                delays[sku] = (marketplace, now - at)
        await asyncio.sleep(POLL_SECONDS)
    await selling
    for sku, (marketplace, _) in sold_at.items():
        delays.setdefault(sku, (marketplace, None))
    return delays


async def _live_skus(sim: SimulatorControl) -> set[str]:
    try:
        listings = await sim.listings()
    except httpx.HTTPError:
        return set()
    return {
        str(sku_of(m, entry))
        for m in MARKETPLACES
        for entry in listings.get(m, [])
        if entry.get("live")
    }


def _summary(
    rate: int, interval: float, delays: dict[str, tuple[str, float | None]]
) -> dict[str, Any]:
    done = [d for _, d in delays.values() if d is not None]
    by_marketplace = {
        m: round(
            percentile([d for mm, d in delays.values() if mm == m and d is not None], 50) * 1000
        )
        for m in MARKETPLACES
        if any(mm == m and d is not None for mm, d in delays.values())
    }
    return {
        "rate_per_s": rate,
        "interval_s": interval,
        "sales": len(delays),
        "delisted": len(done),
        "delay_ms": {name: round(percentile(done, q) * 1000, 1) for name, q in QUANTILES},
        "by_marketplace": by_marketplace,
        "definition": __doc__,
    }


async def _run_alone(stack: RunningStack, config: BenchConfig) -> list[dict[str, Any]]:
    from bench.__main__ import client_settings, say  # the bench's one definition of both

    settings = client_settings(stack)
    client = await connect(settings, identity=f"bench-sales@{os.getpid()}")
    sim = SimulatorControl(stack.simulator_url)
    http = httpx.AsyncClient(base_url=stack.api_url, timeout=90, trust_env=False)
    try:
        await sim.prepare(config.latency_ms)
        return await sales_phase(
            config, client, settings, GatewayPath(http, stack.signing_secret), sim, say
        )
    finally:
        await http.aclose()
        await sim.aclose()


def main() -> int:
    """``python -m bench.sales``: only this phase, on its own stack (options as ``make bench``:
    BENCH_SALE_RATES, BENCH_SALES, BENCH_SALES_INTERVAL, BENCH_QUICK, BENCH_LATENCY_MS).
    Writes ``bench/results/sales-<UTC stamp>.json``; exit 1 when a sale was not delisted."""
    try:
        config = BenchConfig.from_env()
    except BenchConfigError as err:
        print(f"configuration error: {err}", file=sys.stderr)
        return 2
    interrupt_on_signals()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        with running_stack(rate_limit=config.rate_limit) as stack:
            results = asyncio.run(_run_alone(stack, config))
    except StackError as err:
        print(f"[bench] stack failed: {err}", file=sys.stderr)
        return 1
    config.results_dir.mkdir(parents=True, exist_ok=True)
    path = config.results_dir / f"sales-{stamp}.json"
    path.write_text(json.dumps({"kind": "sales", "timestamp": stamp, "results": results}, indent=1))
    print(f"[bench] wrote {path}", flush=True)
    return 0 if all(r["delisted"] == r["sales"] for r in results) else 1


if __name__ == "__main__":
    exit_process(main())
