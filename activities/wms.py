"""Warehouse activities: fulfilment request, its cancellation, stock levels, return labels."""

from temporalio import activity

from activities.errors import partner_call
from adapters.ports import WmsPort
from canonical import FulfillmentRequest, Shipment, StockLevel
from canonical.returns import ReturnLabel, ReturnLabelRequest


class WmsActivities:
    def __init__(self, wms: WmsPort) -> None:
        self._wms = wms

    @activity.defn
    async def request_fulfillment(self, request: FulfillmentRequest) -> str:
        with partner_call():
            return await self._wms.create_fulfillment(request)

    @activity.defn
    async def cancel_fulfillment(self, order_key: str) -> None:
        with partner_call():
            await self._wms.cancel_fulfillment(order_key)

    @activity.defn
    async def order_shipments(self, order_key: str) -> list[Shipment]:
        """What the warehouse shipped of an order (the saga reads it when a withdrawal is
        refused because the goods left)."""
        with partner_call():
            return await self._wms.shipments_of(order_key)

    @activity.defn
    async def wms_stock_levels(self) -> list[StockLevel]:
        with partner_call():
            return await self._wms.stock_levels()

    @activity.defn
    async def create_return_label(self, request: ReturnLabelRequest) -> ReturnLabel:
        with partner_call():
            return await self._wms.create_return_label(request)

    @activity.defn
    async def void_return_label(self, rma: str) -> None:
        with partner_call():
            await self._wms.void_return_label(rma)
