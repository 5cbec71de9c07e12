"""Marketplace activities: acknowledge, confirm shipment, cancel, routed by the order's channel."""

from collections.abc import Callable

from temporalio import activity

from activities.errors import partner_call
from activities.models import ChannelAck, ChannelCancel, ShipmentConfirmation
from adapters.ports import MarketplacePort
from canonical import Channel


class ChannelActivities:
    def __init__(self, marketplace: Callable[[Channel], MarketplacePort]) -> None:
        self._marketplace = marketplace

    @activity.defn
    async def acknowledge_order(self, request: ChannelAck) -> None:
        with partner_call():
            await self._marketplace(request.order.channel).acknowledge(
                request.order, request.erp_order
            )

    @activity.defn
    async def confirm_shipment(self, request: ShipmentConfirmation) -> str:
        with partner_call():
            return await self._marketplace(request.order.channel).confirm_shipment(
                request.order, request.shipment
            )

    @activity.defn
    async def cancel_channel_order(self, request: ChannelCancel) -> None:
        with partner_call():
            await self._marketplace(request.order.channel).cancel(request.order, request.reason)
