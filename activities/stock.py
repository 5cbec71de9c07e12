"""Stock reservation activities."""

from temporalio import activity

from activities.errors import partner_call
from adapters.ports import StockPort
from canonical import ReservationRequest


class StockActivities:
    def __init__(self, stock: StockPort) -> None:
        self._stock = stock

    @activity.defn
    async def reserve_stock(self, request: ReservationRequest) -> None:
        with partner_call():
            await self._stock.reserve(request)

    @activity.defn
    async def release_stock(self, reservation_key: str) -> None:
        with partner_call():
            await self._stock.release(reservation_key)

    @activity.defn
    async def commit_stock(self, reservation_key: str) -> None:
        with partner_call():
            await self._stock.commit(reservation_key)
