"""Orders no single node can ship: the candles only at the east warehouse, the mug only at
the given stores or supplier (shared by the split shipment tests and the recorded histories)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from adapters.shopify import order_from_webhook
from bootstrap.inventory import open_inventory
from canonical import Order
from services.schedules import reconcile_now
from testing.harness import Harness
from tests.inventory_fixtures import receipt

CANDLE, MUG = "CANDLE-FIG-12OZ", "MUG-STONE-350"


def put(h: Harness, path: str, body: Any) -> None:
    httpx.put(f"{h.settings.sandbox_url}{path}", json=body).raise_for_status()


def post(h: Harness, path: str, body: Any) -> None:
    httpx.post(f"{h.settings.sandbox_url}{path}", json=body).raise_for_status()


def get(h: Harness, path: str) -> Any:
    return httpx.get(f"{h.settings.sandbox_url}{path}").json()


async def split_order(h: Harness, mug_at: tuple[str, ...]) -> Order:
    """Candles only at the east warehouse, the mug only at `mug_at`: no node has both."""
    for sku, east in ((CANDLE, 10), (MUG, 0)):
        for warehouse, units in (("101", east), ("102", 0)):
            put(h, f"/_sandbox/shipstation/inventory/{warehouse}/{sku}", {"on_hand": units})
    await reconcile_now(h.client, h.settings)
    store = open_inventory(h.settings).store
    store.record([receipt(MUG, node, 5, uuid.uuid4().hex) for node in mug_at])
    nodes = store.nodes()
    for node in mug_at:  # the ERP counts the stores' and the supplier's stock: it hears too
        if location := nodes[node].erp_location:
            post(h, f"/_sandbox/netsuite/inventory/{location}/{MUG}", {"received": 5})
    body = httpx.post(
        f"{h.settings.sandbox_url}/_sandbox/shopify/orders",
        json={"count": 1, "skus": [(CANDLE, 2), (MUG, 1)]},
    ).json()[0]
    order = order_from_webhook(body)
    assert order.ship_to is not None  # to Boston: the Boston store is nearer than the supplier
    boston = order.ship_to.model_copy(
        update={"city": "Boston", "region": "MA", "postal_code": "02116"}
    )
    return order.model_copy(update={"ship_to": boston})
