"""The reservation activities of orders started before the inventory service: the same
names, now served by the inventory service (the order's SKUs reserved where sourcing finds
them). New orders allocate through `InventoryActivities`."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.inventory import InventoryActivities, ShipmentCommit
from canonical import ExceptionCode, ReservationRequest
from canonical.order import parse_order_key
from canonical.sourcing import DemandLine, SourcingRequest


class StockActivities:
    def __init__(self, inventory: InventoryActivities) -> None:
        self._inventory = inventory

    @activity.defn
    async def reserve_stock(self, request: ReservationRequest) -> None:
        channel, _ = parse_order_key(request.reservation_key)
        lines = [DemandLine(line_id=x.sku, sku=x.sku, quantity=x.quantity) for x in request.lines]
        plan = await self._inventory.allocate_order(
            SourcingRequest(order_id=request.reservation_key, channel=channel, lines=lines)
        )
        if plan.shortfalls:
            raise ApplicationError(
                plan.reason(),
                "inventory",
                type=ExceptionCode.OUT_OF_STOCK.value,
                non_retryable=True,
            )

    @activity.defn
    async def release_stock(self, reservation_key: str) -> None:
        await self._inventory.release_order(reservation_key)

    @activity.defn
    async def commit_stock(self, reservation_key: str) -> None:
        await self._inventory.commit_shipment(
            ShipmentCommit(order_id=reservation_key, shipment_id="order-shipped")
        )
