"""`POST /webhooks/pos`: a store's sales, in a batch (a store offline for hours sends them
late). Authenticated with the store API key; each valid sale is signalled, with start, to its
store's business-day workflow, which posts it to the ERP once."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from canonical.inventory import InventoryEvent, InventoryEventKind
from canonical.pos import PosSale
from inbox.outcome import Outcome, rejected
from inbox.store import InboxEntry, InboxStatus
from infra.settings import Settings
from infra.temporal import temporal_call
from ingest.inventory import InventoryBooking
from ingest.temporal_link import TemporalLink
from workflows.pos_day import PosDayInput, PosDayWorkflow, pos_day_workflow_id

SOURCE = "pos"


class PosBatch(BaseModel):
    store_id: str = Field(min_length=1)
    batch_id: str = Field(min_length=1)
    sales: list[dict[str, Any]] = Field(min_length=1)


class PosSales:
    def __init__(
        self, temporal: TemporalLink, settings: Settings, inventory: InventoryBooking
    ) -> None:
        self._temporal = temporal
        self._settings = settings
        self._inventory = inventory

    async def handle(self, entry: InboxEntry) -> Outcome:
        try:
            batch = PosBatch.model_validate_json(entry.body)
        except ValidationError as exc:
            return rejected(
                422, f"not a POS batch: {exc.errors()[0]['loc']} {exc.errors()[0]['msg']}"
            )
        sales, problems = [], []
        for raw in batch.sales:
            try:
                sales.append(PosSale.model_validate({**raw, "store_id": batch.store_id}))
            except ValidationError as exc:
                problems.append(f"{raw.get('transaction_id', '?')}: {exc.errors()[0]['msg']}")
        if not sales:
            return rejected(422, "; ".join(problems))
        client = await self._temporal.client()
        days = set()
        for sale in sales:
            workflow_id = pos_day_workflow_id(sale.store_id, sale.business_day)
            with temporal_call():
                await client.start_workflow(
                    PosDayWorkflow.run,
                    PosDayInput(store_id=sale.store_id, business_day=sale.business_day),
                    id=workflow_id,
                    task_queue=self._settings.task_queue,
                    start_signal="sale_recorded",
                    start_signal_args=[sale],
                )
            days.add(workflow_id)
        notes = [f"{len(sales)} sale(s)"]
        notes += [f"rejected {'; '.join(problems)}"] if problems else []
        notes += await self._book_stock(batch.store_id, sales)
        detail = "; ".join(notes)
        return Outcome(InboxStatus.ACCEPTED, 202, ", ".join(sorted(days)), detail)

    async def _book_stock(self, store_id: str, sales: list[PosSale]) -> list[str]:
        """The units sold leave the store's stock (the store id is its node code)."""
        nodes = await asyncio.to_thread(self._inventory.service.store.nodes)
        if store_id not in nodes:
            return [f"store {store_id} is not an inventory node: stock not booked"]
        await self._inventory.book(
            [
                InventoryEvent(
                    source=SOURCE,
                    event_id=f"{sale.transaction_id}:{n}",
                    kind=InventoryEventKind.SALE,
                    sku=line.sku,
                    node=store_id,
                    quantity=line.quantity,
                    occurred_at=sale.occurred_at,
                    reference=sale.key,
                )
                for sale in sales
                for n, line in enumerate(sale.lines)
            ]
        )
        return []
