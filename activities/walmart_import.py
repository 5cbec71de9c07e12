"""Imports from Walmart, which pushes nothing. Released purchase orders: each PO is kept in
the inbox, its order workflow started (one per purchaseOrderId), and only then acknowledged to
Walmart, so a PO is never acknowledged without a workflow that will ship it. Return orders
customers opened: each kept in the inbox and started as a return (one per return and PO); one
whose order we do not know yet is kept as failed and tried again by the next poll."""

from __future__ import annotations

import asyncio
import contextlib
import json
from functools import partial

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.errors import partner_call
from activities.return_imports import ReturnImport
from adapters.payload import PayloadError
from adapters.walmart import WalmartClient, order_from_walmart, returns_from_walmart
from inbox.store import Inbox, InboxStatus
from infra.order_client import start_order
from infra.settings import Settings

SOURCE = "walmart"


class WalmartImportActivities:
    def __init__(
        self, walmart: WalmartClient, client: Client, settings: Settings, inbox: Inbox
    ) -> None:
        self._walmart = walmart
        self._client = client
        self._settings = settings
        self._inbox = inbox
        self._returns = ReturnImport(inbox, client, settings, SOURCE)

    @activity.defn
    async def import_walmart_orders(self) -> list[str]:
        """Workflow ids of the POs imported by this poll."""
        imported = []
        with partner_call():
            async for po in self._walmart.released_orders():
                po_id = po["purchaseOrderId"]
                activity.heartbeat(po_id)
                raw = json.dumps(po).encode()
                entry, _ = await asyncio.to_thread(
                    self._inbox.add, SOURCE, "released", po_id, {}, raw
                )
                assert entry.id is not None
                if entry.status is InboxStatus.REJECTED:
                    continue  # kept unacknowledged and visible in the inbox for support
                try:
                    order = order_from_walmart(po)
                except PayloadError as exc:
                    await asyncio.to_thread(
                        self._inbox.record, entry.id, InboxStatus.REJECTED, error=str(exc)
                    )
                    continue
                # Imported before: the order already has its workflow; acknowledging is harmless.
                with contextlib.suppress(WorkflowAlreadyStartedError):
                    await start_order(self._client, self._settings, order)
                await asyncio.to_thread(
                    self._inbox.record,
                    entry.id,
                    InboxStatus.ACCEPTED,
                    workflow_id=order.workflow_id,
                )
                await self._walmart.acknowledge(po_id)
                imported.append(order.workflow_id)
        return imported

    @activity.defn
    async def import_walmart_returns(self) -> list[str]:
        """Workflow ids of the returns started by this poll."""
        started: list[str] = []
        with partner_call():
            async for raw in self._walmart.initiated_returns():
                return_id = str(raw.get("returnOrderId"))
                activity.heartbeat(return_id)
                started += await self._returns.start(
                    return_id, json.dumps(raw).encode(), partial(returns_from_walmart, raw)
                )
        return started
