"""Drop-ship activities: a supplier ships a group of an order, or is told it need not."""

from temporalio import activity

from activities.errors import partner_call
from adapters.ports import DropShipPort
from canonical import FulfillmentRequest, Shipment


class DropShipActivities:
    def __init__(self, supplier: DropShipPort) -> None:
        self._supplier = supplier

    @activity.defn
    async def request_dropship(self, request: FulfillmentRequest) -> str:
        with partner_call():
            return await self._supplier.create_order(request)

    @activity.defn
    async def cancel_dropship(self, order_key: str) -> None:
        with partner_call():
            await self._supplier.cancel_order(order_key)

    @activity.defn
    async def dropship_shipments(self, order_key: str) -> list[Shipment]:
        """What the supplier shipped of an order (read when a cancel is refused because the
        goods left)."""
        with partner_call():
            return await self._supplier.shipments_of(order_key)
