"""Publishing available-to-sell to a channel: read the latest value at push time (a push that
waited in the channel's rate-limited queue still sends what is true now), send what changed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import BaseModel
from temporalio import activity

from activities.errors import partner_call
from adapters.ports import MarketplacePort
from canonical import Channel
from canonical.inventory import AvailableToSell
from infra import worker_metrics
from inventory.service import InventoryService


class PushRequest(BaseModel):
    channel: Channel
    skus: list[str]
    last_pushed: dict[str, int] = {}  # what the channel holds already: not sent again
    changed_at: datetime | None = None  # the earliest change this push carries (for its lag)


class PushResult(BaseModel):
    values: dict[str, int]  # available-to-sell read for every SKU asked
    pushed: list[str]  # sent to the channel
    unlisted: list[str] = []  # the channel does not sell them


class InventoryPushActivities:
    def __init__(
        self, service: InventoryService, marketplace: Callable[[Channel], MarketplacePort]
    ) -> None:
        self._service = service
        self._marketplace = marketplace

    @activity.defn
    async def push_available(self, request: PushRequest) -> PushResult:
        values = await asyncio.to_thread(
            self._service.available_to_sell, request.channel.value, request.skus
        )
        changed = {s: q for s, q in values.items() if request.last_pushed.get(s) != q}
        if not changed:
            return PushResult(values=values, pushed=[])
        info = activity.info()
        push_id = f"{info.workflow_id}:{info.workflow_run_id}:{info.activity_id}"  # same on retry
        updates = [AvailableToSell(sku=s, quantity=q, push_id=push_id) for s, q in changed.items()]
        with partner_call():
            unlisted = await self._marketplace(request.channel).set_available(updates)
        if request.changed_at is not None:
            lag = datetime.now(UTC) - request.changed_at
            worker_metrics.inventory_push_lag(request.channel.value, lag.total_seconds())
        return PushResult(
            values=values, pushed=[s for s in changed if s not in unlisted], unlisted=unlisted
        )
