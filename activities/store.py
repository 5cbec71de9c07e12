"""Store activities: pick task, its cancellation, the handover at the counter, and what the
store shipped (ship from store)."""

from pydantic import BaseModel
from temporalio import activity

from activities.errors import partner_call
from adapters.ports import StorePort
from canonical import Shipment
from canonical.pickup import Handover, PickLine, PickTask


class PickupRef(BaseModel):
    store: str
    order_key: str


class StoreActivities:
    def __init__(self, stores: StorePort) -> None:
        self._stores = stores

    @activity.defn
    async def create_pick_task(self, task: PickTask) -> str:
        with partner_call():
            return await self._stores.create_pick_task(task)

    @activity.defn
    async def cancel_pick_task(self, pickup: PickupRef) -> None:
        with partner_call():
            await self._stores.cancel_pick_task(pickup.store, pickup.order_key)

    @activity.defn
    async def store_collection(self, pickup: PickupRef) -> list[PickLine]:
        with partner_call():
            return await self._stores.collected(pickup.store, pickup.order_key)

    @activity.defn
    async def store_shipments(self, pickup: PickupRef) -> list[Shipment]:
        with partner_call():
            return await self._stores.shipments(pickup.store, pickup.order_key)

    @activity.defn
    async def hand_over(self, handover: Handover) -> str:
        with partner_call():
            return await self._stores.hand_over(handover)
