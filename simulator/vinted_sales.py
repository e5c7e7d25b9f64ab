"""What a sale does on the simulated Vinted (``POST /__sim/sales``): the item is sold and the
signed ``ITEM_SOLD`` webhook goes to every webhook subscribed to it.

A Vinted item is one second-hand article (platform-mcp ``vinted_pro.json``: "no stock
quantity"), so a sale is of exactly one unit and the item is sold. ASSUMED: a sold item's
GetItemStatus is ``SOLD``, GetItems lists it so, it holds no slot and can be neither updated
nor deleted (``item_sold``); order ids are numbers (quick-vint-api ``orders.ts``).
"""

from __future__ import annotations

import time

from domain.vinted_reference import sku_of_reference
from simulator.errors import SaleRefused
from simulator.state import SimState
from simulator.vinted_webhooks import schedule_sale_event

BUYABLE = ("active", "updating")
"""An item being updated is still live with its old content (README assumption 42)."""


def sell(sim: SimState, sku: str, quantity: int) -> str:
    """A buyer buys the SKU's live item; returns the order id."""
    now = time.monotonic()
    items = [i for i in sim.vinted.live_items() if sku_of_reference(i.reference) == sku]
    if not items:
        raise SaleRefused(404, f"Vinted has no item whose reference names SKU {sku}")
    live = next((i for i in items if i.status(now) in BUYABLE), None)
    if live is None:
        raise SaleRefused(409, f"SKU {sku} is not live on Vinted (no active item)")
    if quantity != 1:
        raise SaleRefused(400, f"a Vinted item is one article: cannot sell {quantity}")
    live.order_id = sim.next_id("vinted_order", 9_100_000_000)
    schedule_sale_event(sim, live)
    return str(live.order_id)
