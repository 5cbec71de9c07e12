"""`POST /webhooks/inventory`: stock movements reported by the WMS, the ERP, stores or drop-ship
suppliers (receipts, adjustments, picks, transfers, restocks), in batches. Each event is booked
once in the inventory ledger (deduplicated on source and event id) and the channels selling
from the node are told."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from canonical.inventory import InventoryEvent
from inbox.outcome import Outcome, accepted, rejected
from inbox.store import InboxEntry
from infra.temporal import temporal_call
from inventory.service import InventoryService
from inventory.store import Recorded, UnknownNode
from services.publication import PublisherSignals

SOURCE = "inventory"


class InventoryBatch(BaseModel):
    source: str = Field(min_length=1, description="Reporting system: wms, erp, pos, supplier…")
    batch_id: str = Field(min_length=1)
    events: list[dict[str, Any]] = Field(min_length=1)


class InventoryBooking:
    """Books events and tells the publishers: for this route and for store sales."""

    def __init__(self, service: InventoryService, signals: PublisherSignals) -> None:
        self.service = service
        self._signals = signals

    async def book(self, events: list[InventoryEvent]) -> Recorded:
        recorded = await asyncio.to_thread(self.service.store.record, events)
        # Duplicates too: a re-driven batch must still reach the channels.
        with temporal_call():
            await self._signals.changed({(e.sku, e.node) for e in events})
        return recorded


class InventoryEvents:
    def __init__(self, booking: InventoryBooking) -> None:
        self._booking = booking

    async def handle(self, entry: InboxEntry) -> Outcome:
        try:
            batch = InventoryBatch.model_validate_json(entry.body)
        except ValidationError as exc:
            error = exc.errors()[0]
            return rejected(422, f"not an inventory batch: {error['loc']} {error['msg']}")
        events, problems = [], []
        for n, raw in enumerate(batch.events):
            try:
                events.append(InventoryEvent.model_validate({**raw, "source": batch.source}))
            except ValidationError as exc:
                error = exc.errors()[0]
                problems.append(f"event {n} ({raw.get('event_id', '?')}): {error['msg']}")
        if problems:  # all or none: the sender corrects the batch and sends it again
            return rejected(422, "; ".join(problems))
        try:
            recorded = await self._booking.book(events)
        except UnknownNode as exc:
            return rejected(422, str(exc))
        return accepted(
            f"inventory:{batch.source}",
            f"{len(recorded.new)} booked, {recorded.duplicates} already booked",
        )
