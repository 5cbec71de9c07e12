"""What `starter.py demo --scenario …` sends. Every order arrives as Shopify sends it (a
signed webhook); the sandbox plays everyone else: the warehouse ships, the stores' staff pick,
ship and hand over, customers collect, the drop-ship supplier ships, the returns desks receive
and inspect. `mixed` shares the orders out over the four scenarios."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from temporalio.client import Client

from adapters.shopify import sign
from canonical import OrderStatus
from canonical.inventory import NodeKind
from infra.settings import Settings
from inventory.network import configured_network
from services.orders import result_once_started
from services.returns import book_support_return
from services.schedules import poll_channels_now

T = TypeVar("T")
SCENARIOS = ("ship", "bopis", "split", "returns", "mixed", "catalog")
PICKUP_SKU = "CANDLE-FIG-12OZ"
# Split: the tray only in the east warehouse, the mug only at a store and the supplier.
SPLIT_LINES = [("TRAY-BRASS-S", 1), ("MUG-STONE-350", 1)]
SPLIT_NODES = ("STORE-BOS", "DS-LUMEN")
RETURNED_SKU = "CANDLE-CEDAR-8OZ"
NEAR_BOSTON = 0  # the sandbox customer in Worcester, MA


def share(scenario: str, orders: int) -> dict[str, int]:
    """How many orders each scenario gets."""
    if scenario != "mixed":
        return {scenario: orders}
    kinds = SCENARIOS[:4]
    return {kind: orders // 4 + (1 if n < orders % 4 else 0) for n, kind in enumerate(kinds)}


class DemoTraffic:
    """Sets the sandbox's partners up for the scenarios, then sends the orders; `watched`
    grows as workflows start (returns start once their order completed)."""

    def __init__(
        self,
        settings: Settings,
        client: Client,
        http: httpx.AsyncClient,
        payout_seconds: float = 3.0,
    ) -> None:
        self._settings = settings
        self._payout_seconds = payout_seconds
        self._client = client
        self._http = http
        self._network = configured_network(settings.inventory_network, settings.erp)
        self.watched: list[str] = []

    async def _temporal(self, call: Callable[[], Awaitable[T]]) -> T:
        """A call to Temporal (the chaos run's traffic asks again while Temporal is down)."""
        return await call()

    async def _sandbox(self, method: str, path: str, body: Any = None) -> Any:
        response = await self._http.request(
            method, f"{self._settings.sandbox_url}{path}", json=body
        )
        response.raise_for_status()
        return response.json()

    async def prepare(self, counts: dict[str, int]) -> None:
        """Before the inventory is reconciled: autopilots on, warehouse counts for splits."""
        await self._sandbox(
            "PUT",
            "/_sandbox/pos/autopilot",
            {"ready_after_seconds": 1.5, "collect_after_seconds": 2.5},
        )
        await self._sandbox("PUT", "/_sandbox/shipbob/autopilot", {"ship_after_seconds": 2})
        await self._sandbox(
            "PUT",
            "/_sandbox/returns/autopilot",
            {"receive_after_seconds": 2, "inspect_after_seconds": 1},
        )
        await self._sandbox(
            "PUT", "/_sandbox/payouts/autopilot", {"every_seconds": self._payout_seconds}
        )
        if counts.get("split"):
            warehouses = [n for n in self._network.nodes if n.kind is NodeKind.WAREHOUSE]
            for n, node in enumerate(warehouses):
                for sku, units in (
                    (SPLIT_LINES[0][0], 500 if n == 0 else 0),
                    (SPLIT_LINES[1][0], 0),
                ):
                    await self._sandbox(
                        "PUT",
                        f"/_sandbox/shipstation/inventory/{node.wms_warehouse}/{sku}",
                        {"on_hand": units},
                    )
                    if self._books_in_sandbox_erp and node.erp_location:  # the same count
                        await self._sandbox(
                            "PUT",
                            f"/_sandbox/netsuite/inventory/{node.erp_location}/{sku}",
                            {"on_hand": units},
                        )

    async def stock(self, counts: dict[str, int]) -> None:
        """After reconciliation: the stores and the supplier report the goods they received."""
        receipts = []
        if counts.get("bopis"):
            receipts += [(PICKUP_SKU, store.code, counts["bopis"] + 5) for store in self._stores()]
        if counts.get("split"):
            receipts += [(SPLIT_LINES[1][0], node, counts["split"] + 5) for node in SPLIT_NODES]
        if not receipts:
            return
        batch = {
            "source": "demo",
            "batch_id": uuid.uuid4().hex,
            "events": [
                {"event_id": uuid.uuid4().hex, "kind": "receipt", "sku": sku, "node": node,
                 "quantity": units}
                for sku, node, units in receipts
            ],
        }  # fmt: skip
        response = await self._http.post(
            f"http://127.0.0.1:{self._settings.webhooks_port}/webhooks/inventory",
            json=batch,
            headers={"Authorization": f"Bearer {self._settings.inventory_api_key}"},
        )
        response.raise_for_status()
        if self._books_in_sandbox_erp:  # the ERP books the receipts too, where they arrived
            await self._erp_receipts(receipts)

    async def _erp_receipts(self, receipts: list[tuple[str, str, int]]) -> None:
        locations = {node.code: node.erp_location for node in self._network.nodes}
        for sku, node, units in receipts:
            if location := locations.get(node):
                await self._sandbox(
                    "POST", f"/_sandbox/netsuite/inventory/{location}/{sku}", {"received": units}
                )

    @property
    def _books_in_sandbox_erp(self) -> bool:
        """The sandbox's NetSuite is the ERP: the demo plays its stock clerks too."""
        return self._settings.erp == "netsuite"

    def _stores(self) -> list[Any]:
        return [n for n in self._network.nodes if n.kind is NodeKind.STORE]

    async def post_shopify(self, topic: str, raw: bytes, webhook_id: str) -> httpx.Response:
        """One signed Shopify webhook delivery, as Shopify sends it."""
        return await self._http.post(
            f"http://127.0.0.1:{self._settings.webhooks_port}/webhooks/shopify",
            content=raw,
            headers={
                "Content-Type": "application/json",
                "X-Shopify-Topic": topic,
                "X-Shopify-Hmac-Sha256": sign(raw, self._settings.shopify_webhook_secrets[0]),
                "X-Shopify-Webhook-Id": webhook_id,
                "X-Shopify-Shop-Domain": "northwick-candle-co.myshopify.com",
            },
        )

    async def deliver(self, topic: str, body: dict[str, Any]) -> str:
        """A Shopify webhook; the workflow it started or reached."""
        response = await self.post_shopify(topic, json.dumps(body).encode(), str(uuid.uuid4()))
        response.raise_for_status()
        workflow_id: str = response.json()["workflow_id"]
        self.watched.append(workflow_id)
        return workflow_id

    async def storefront_orders(self, count: int, **spec: Any) -> list[dict[str, Any]]:
        """New orders of the sandbox's Shopify storefront, as its webhooks carry them."""
        bodies: list[dict[str, Any]] = await self._sandbox(
            "POST", "/_sandbox/shopify/orders", {"count": count, **spec}
        )
        return bodies

    async def ship(self, count: int) -> None:
        for body in await self.storefront_orders(count):
            await self.deliver("orders/create", body)

    async def bopis(self, count: int) -> None:
        stores = self._stores()
        for n in range(count):
            (body,) = await self.storefront_orders(
                1, skus=[(PICKUP_SKU, 1)], pickup_location=stores[n % len(stores)].name
            )
            await self.deliver("orders/create", body)

    async def split(self, count: int) -> None:
        for body in await self.storefront_orders(count, skus=SPLIT_LINES, customer=NEAR_BOSTON):
            await self.deliver("orders/create", body)

    async def returns(self, count: int) -> None:
        """Each order is delivered, then partly sent back: refunded by the merchant on
        Shopify, booked by customer service, brought to a store's counter, or (every fourth)
        a Walmart order returned through Walmart."""
        shopify = count - count // 4
        bodies = await self.storefront_orders(shopify, skus=[(RETURNED_SKU, 2)]) if shopify else []
        ways: list[Callable[[dict[str, Any]], Awaitable[None]]] = [
            self._returned_on_shopify,
            self._returned_by_support,
            self._returned_at_the_counter,
        ]
        await asyncio.gather(
            *(self._order_then_return(body, ways[n % 3]) for n, body in enumerate(bodies)),
            *(self._returned_on_walmart() for _ in range(count // 4)),
        )

    async def _delivered(self, workflow_id: str) -> bool:
        view = await self._temporal(
            lambda: result_once_started(self._client, workflow_id, timeout=None)
        )
        return view.status is OrderStatus.COMPLETED

    async def _order_then_return(
        self, body: dict[str, Any], way: Callable[[dict[str, Any]], Awaitable[None]]
    ) -> None:
        if await self._delivered(await self.deliver("orders/create", body)):
            await way(body)

    async def _returned_on_walmart(self) -> None:
        """Walmart pushes nothing: its schedules are run now rather than at their interval."""
        po = await self._sandbox("POST", "/_sandbox/walmart/orders", {"skus": [(RETURNED_SKU, 2)]})
        po_id = po["purchaseOrderId"]
        self.watched.append(f"order:walmart:{po_id}")
        await self._temporal(lambda: poll_channels_now(self._client))
        if not await self._delivered(f"order:walmart:{po_id}"):
            return
        opened = await self._sandbox(
            "POST",
            f"/_sandbox/walmart/orders/{po_id}/returns",
            {"lines": ["1"], "reason": "Scent too strong"},
        )
        self.watched.append(f"return:walmart:{po_id}:{opened['returnOrderId']}")
        await self._temporal(lambda: poll_channels_now(self._client))

    async def _returned_on_shopify(self, body: dict[str, Any]) -> None:
        line = body["line_items"][0]
        refund = await self._sandbox(
            "POST",
            f"/_sandbox/shopify/orders/{body['id']}/returns",
            {"lines": [{"line_item_id": line["id"], "quantity": 1}], "note": "too small"},
        )
        await self.deliver("refunds/create", refund)

    async def _returned_by_support(self, body: dict[str, Any]) -> None:
        line = body["line_items"][0]
        handle = await self._temporal(
            lambda: book_support_return(
                self._client,
                self._settings,
                f"order:shopify:{body['id']}",
                {str(line["id"]): 2},
                "customer phoned: wrong colour",
            )
        )
        self.watched.append(handle.id)

    async def _returned_at_the_counter(self, body: dict[str, Any]) -> None:
        line = body["line_items"][0]
        store = self._stores()[0].code
        parcel = await self._sandbox(
            "POST",
            f"/_sandbox/returns/stores/{store}",
            {"order_key": f"shopify-{body['id']}", "reason": "gift, not wanted",
             "lines": [{"line_id": str(line["id"]), "sku": line["sku"], "quantity": 1}]},
        )  # fmt: skip
        self.watched.append(f"return:shopify:{body['id']}:{parcel['return_id']}")

    async def send(self, counts: dict[str, int]) -> None:
        senders = {
            "ship": self.ship,
            "bopis": self.bopis,
            "split": self.split,
            "returns": self.returns,
        }
        await asyncio.gather(*(senders[kind](n) for kind, n in counts.items() if n))
