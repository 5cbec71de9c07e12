"""Marketplace activities: acknowledge, confirm a shipment or a collection in store, cancel
the order or some of its units, refund a return, routed by the order's channel."""

from collections.abc import Callable
from typing import Any

from temporalio import activity

from activities.errors import partner_call
from activities.models import ChannelCancel, CollectionConfirmation, ShipmentConfirmation
from adapters.ports import MarketplacePort
from canonical import Channel, Order
from canonical.cancellation import LineCancellation
from canonical.returns import ChannelRefund


class ChannelActivities:
    def __init__(self, marketplace: Callable[[Channel], MarketplacePort]) -> None:
        self._marketplace = marketplace

    @activity.defn
    async def acknowledge_order(self, order: Order) -> None:
        with partner_call():
            await self._marketplace(order.channel).acknowledge(order)

    @activity.defn
    async def confirm_shipment(self, request: ShipmentConfirmation) -> str:
        with partner_call():
            return await self._marketplace(request.order.channel).confirm_shipment(
                request.order, request.shipment
            )

    @activity.defn
    async def confirm_collected(self, request: CollectionConfirmation) -> str:
        with partner_call():
            return await self._marketplace(request.order.channel).confirm_collected(
                request.order, request.handover
            )

    @activity.defn
    async def cancel_channel_order(self, request: ChannelCancel) -> None:
        with partner_call():
            await self._marketplace(request.order.channel).cancel(
                request.order, request.reason, request.by_buyer
            )

    @activity.defn
    async def cancel_channel_lines(self, cancellation: LineCancellation) -> None:
        with partner_call():
            await self._marketplace(cancellation.order.channel).cancel_lines(cancellation)

    @activity.defn
    async def refund_return(self, refund: ChannelRefund) -> str:
        with partner_call():
            return await self._marketplace(refund.order.channel).refund(refund)

    def activities(self) -> list[Callable[..., Any]]:
        """Every order call, for the channel's rate-limited worker."""
        return [
            self.acknowledge_order,
            self.confirm_shipment,
            self.confirm_collected,
            self.cancel_channel_order,
            self.cancel_channel_lines,
            self.refund_return,
        ]
